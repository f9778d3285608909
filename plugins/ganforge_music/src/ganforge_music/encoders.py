"""The track encoder: MuseGAN's track-conditional mode through the core's encoder hook.

``--set encoder=track`` (with ``condition_tracks``, default ``melody``) makes a run whose
generator is given some tracks and writes the others. The encoder reads the phrase itself
(the data field ``x``) and passes on the given tracks, flattened: the generator's own
convolutional encoder (:class:`ganforge_music.musegan.ConditionEncoder`) learns from them,
and the generator copies them into its output, so the critic judges the whole band.

At generation the given tracks come from a MIDI file: ``--set condition_midi=FILE.mid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

import ganforge
from ganforge import GanforgeError

from .midi import DEFAULT_TRACKS
from .musegan import condition_indices


@dataclass
class TrackEncoderConfig:
    tracks: str = DEFAULT_TRACKS
    condition_tracks: str = "melody"
    n_bars: int = 4
    steps_per_bar: int = 16
    n_pitches: int = 48
    conditional: bool = True
    encoder: str = "track"


class TrackEncoder(ganforge.ConditioningEncoder):
    """Phrases -> their given tracks, flattened ``[B, given * bars * steps * pitches]`` in {-1, 1}."""

    config_class = TrackEncoderConfig
    condition_key = "x"
    trainable = False
    user_option = "prompt"

    def __init__(self, cfg: TrackEncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.given = condition_indices(cfg)
        self._training_data = False

    @property
    def dim(self) -> int:
        return len(self.given) * self.cfg.n_bars * self.cfg.steps_per_bar * self.cfg.n_pitches

    def forward(self, values) -> torch.Tensor:
        if isinstance(values, (list, tuple)):  # no given tracks (a plain `generate`): NaN says so to the generator
            return torch.full((len(values), self.dim), float("nan"))
        x = values if values.is_floating_point() else values.float() * 2 - 1  # stored {0, 1} -> {-1, 1}
        return x[:, self.given].reshape(len(x), -1).float()

    def prepare(self, values) -> None:
        self._training_data = True

    def default_conditions(self, n, modality):
        """In training, None: previews take the given tracks of real phrases. After loading,
        placeholders: the generator then asks for ``--set condition_midi=FILE.mid``."""
        return None if self._training_data else [None] * n

    def from_user(self, values, modality):
        raise GanforgeError("a track-conditional run takes its fixed tracks from a MIDI file: "
                            "--set condition_midi=FILE.mid, not --prompt")
