"""The PacGAN benchmark's metric: modes captured and % high-quality samples."""

from __future__ import annotations

import torch

import ganforge

from .mixtures import mode_coverage

#: PacGAN scores 2,500 generated points for mode coverage
MODES_N = 2500


def modes(ctx) -> dict:
    """PacGAN mode coverage of 2-D mixture data: modes captured and % high-quality points.

    Reads the mixture from the modality state (``{"modes": [[x, y], ...], "std": s}``,
    as the points modality records it). Scores ``-n`` points, 2,500 by default as in PacGAN.
    """
    ctx.real  # noqa: B018 -- a modality without trained state learns it from the data
    state = ctx.modality.state
    if not state.get("modes") or not state.get("std"):
        raise ganforge.GanforgeError("the 'modes' metric needs a run trained on a mixture data set "
                                     "(ganforge data ring / grid)")
    points = ctx.generated(ctx.requested_n if ctx.requested_n is not None else MODES_N)
    points = points.reshape(len(points), -1)
    return mode_coverage(points, torch.tensor(state["modes"], dtype=torch.float64), float(state["std"]))
