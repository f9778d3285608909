"""The "nn-distance" metric: WaveGAN's check that a generator does not copy its data.

Donahue et al. (2019) compare each generated clip with its nearest neighbour in the
training set: a generator that memorised its data has near-zero distances, a
collapsed one large ones. The distance is Euclidean in the modality's feature space
(``--features``: the built-in spectral statistics by default), after standardising
each feature by the real data's mean and std so no feature dominates by its units.
The same figure for real clips against the other real clips is reported beside it as
the scale to read it against.
"""

from __future__ import annotations

import torch


def _nearest(a: torch.Tensor, b: torch.Tensor, exclude_self: bool = False, chunk: int = 1024) -> torch.Tensor:
    """Distance from each row of ``a`` to its nearest row of ``b``."""
    out = []
    for s in range(0, len(a), chunk):
        d = torch.cdist(a[s:s + chunk], b)
        if exclude_self:
            rows = torch.arange(d.shape[0])
            d[rows, rows + s] = float("inf")
        out.append(d.min(1).values)
    return torch.cat(out)


def nn_distance(ctx) -> dict:
    """Mean nearest-neighbour distance from generated samples to the real data."""
    name, real, fake = ctx.features()
    real, fake = real.double(), fake.double()
    mean, std = real.mean(0), real.std(0).clamp_min(1e-8)
    real, fake = (real - mean) / std, (fake - mean) / std
    out = {"nn_distance": _nearest(fake, real).mean().item()}
    if len(real) > 1:
        out["nn_distance_real"] = _nearest(real, real, exclude_self=True).mean().item()
    out["feature_space"] = name
    return out
