"""MuseGAN (Dong, Hsiao, Yang & Yang, AAAI 2018): multi-track piano-roll phrases.

Samples are ``[tracks, bars, steps, pitches]`` in {-1, 1}. The generator is MuseGAN's
*hybrid* model: four latents per phrase,

- ``z``: shared by every track and bar (inter-track, time-independent),
- ``z_t``: shared by the tracks, one per bar, from a shared temporal generator,
- ``z_i``: one per track (intra-track, time-independent),
- ``z_i,t``: one per track and bar, from that track's own temporal generator,

concatenated per (track, bar) and decoded by the bar generator: transposed convolutions
up the time axis shared by all tracks, then private (per-track, grouped) transposed
convolutions up the pitch axis, an octave kernel then a 12-semitone one, ending in tanh.

Conditions: a text or class embedding (``cond``, ``[B, cond_dim]``) joins every bar's
input. In *track-conditional* mode (``--set encoder=track``) ``cond`` is the flattened roll
of the given tracks (``condition_tracks``): an encoder of those tracks (MuseGAN's
conditional encoder) gives every bar generator a vector per bar and, at full resolution,
the given roll itself before the last layer; the given tracks are copied into the output.

The discriminator is MuseGAN's shared/private critic: per-track (grouped) 3-D convolutions
in two orders (pitch then time, time then pitch), then shared ones across tracks, beside
a chroma stream (pitch classes per beat) and an onset stream (note starts per step), then
a dense score. No normalisation (WGAN-GP); a class or text condition enters by projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import ganforge
from ganforge import GanforgeError

from .midi import DEFAULT_TRACKS, Grid, parse_tracks, phrases, read_midi

TRACK_ENCODERS = ("track", "music:track")


@dataclass
class MuseGANConfig:
    n_tracks: int = 5
    n_bars: int = 4
    steps_per_bar: int = 16
    beat_resolution: int = 4
    beats_per_bar: int = 4
    n_pitches: int = 48
    lowest_pitch: int = 36
    tracks: str = DEFAULT_TRACKS
    z_dim: int = 32  # size of each of the four latents (MuseGAN: 128)
    g_channels: int = 64  # width of the shared bar generator (private layers: an eighth of it per track)
    d_channels: int = 16  # width of the critic's private layers per track
    temporal_hidden: int = 256
    conditional: bool = False
    cond_dim: int = 64
    encoder: str = "label"
    condition_tracks: str = "melody"
    # additions to MuseGAN, on in the recipe; off here so runs saved before them still load
    harmony: bool = False  # a chord per beat shared by the pitched tracks (see HarmonyGenerator)
    condition_norm: bool = False  # standardise a caption's or class's embedding per dimension


def time_ups(steps_per_bar: int) -> int:
    """How many times the bar generator doubles the time axis (up to 3)."""
    ups, s = 0, steps_per_bar
    while s % 2 == 0 and ups < 3:
        s //= 2
        ups += 1
    return ups


def track_mode(cfg) -> bool:
    return bool(cfg.conditional) and str(cfg.encoder) in TRACK_ENCODERS


def condition_indices(cfg) -> list[int]:
    """Indices of the tracks given in track-conditional mode."""
    names = [t.name for t in parse_tracks(cfg.tracks)]
    wanted = [n for n in str(cfg.condition_tracks).replace(",", " ").split() if n]
    unknown = [n for n in wanted if n not in names]
    if unknown or not wanted:
        raise GanforgeError(f"option 'condition_tracks' must name tracks among {', '.join(names)}; got "
                            f"'{cfg.condition_tracks}'")
    if len(wanted) >= len(names):
        raise GanforgeError("option 'condition_tracks' names every track; leave at least one to generate")
    return [names.index(n) for n in wanted]


class TrackLinear(nn.Module):
    """A linear map of its own for each track: ``[..., T, in] -> [..., T, out]``.

    A convolution whose kernel spans exactly its stride (MuseGAN's pitch kernels of 12 with
    stride 12, time kernels of a beat with stride a beat), grouped by track, is this map
    applied at every position; written as one batched matrix product it runs several times
    faster on a CPU than grouped 3-D convolutions.
    """

    def __init__(self, tracks: int, d_in: int, d_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(tracks, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(tracks, d_out))
        bound = 1 / math.sqrt(d_in)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return torch.einsum("...ti,tio->...to", x, self.weight) + self.bias


class TemporalGenerator(nn.Module):
    """A latent -> one vector per bar (MuseGAN's temporal generator, as a small MLP)."""

    def __init__(self, z_dim: int, n_bars: int, hidden: int):
        super().__init__()
        self.n_bars, self.z_dim = n_bars, z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, z_dim * n_bars), nn.BatchNorm1d(z_dim * n_bars), nn.ReLU())

    def forward(self, z):
        return self.net(z).reshape(len(z), self.n_bars, self.z_dim)


class ConditionEncoder(nn.Module):
    """The given tracks of one bar ``[n_cond, steps, pitches]`` -> a vector (MuseGAN's encoder)."""

    def __init__(self, n_cond: int, steps: int, pitches: int, beat: int, out: int):
        super().__init__()
        c = 32
        self.net = nn.Sequential(
            nn.Conv2d(n_cond, c, (1, 12), stride=(1, 12)), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, (beat, 1), stride=(beat, 1)), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 2 * c, (steps // beat, pitches // 12)), nn.LeakyReLU(0.2),
        )
        self.out = nn.Linear(2 * c, out)

    def forward(self, bars):
        return self.out(self.net(bars).flatten(1))


class HarmonyGenerator(nn.Module):
    """The shared inputs of a bar -> 12 pitch-class logits per beat, added to every pitched
    track's notes of that beat (each track with a learned gain, every octave alike).

    Not in MuseGAN: there the tracks agree on a harmony only through the shared latents,
    which the bar generator decodes for each track separately, and short runs end with tracks
    that clash (tonal distances of unrelated music). A pitch-class bias per beat that all
    tracks share is the chord the band plays: the tracks still choose register, rhythm and
    which chord tones, but from the same pitch classes. It also carries the condition (a
    caption's key, the given melody's harmony) to every track at once.
    """

    def __init__(self, in_dim: int, beats: int, hidden: int):
        super().__init__()
        self.beats = beats
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                 nn.Linear(hidden, beats * 12))

    def forward(self, h):
        """``h`` [B, bars, in] -> [B, bars, beats, 12]."""
        return self.net(h).reshape(*h.shape[:2], self.beats, 12)


class Generator(ganforge.Generator):
    config_class = MuseGANConfig

    def __init__(self, cfg: MuseGANConfig):
        super().__init__()
        self.cfg = cfg
        T, bars, S, P, zd = cfg.n_tracks, cfg.n_bars, cfg.steps_per_bar, cfg.n_pitches, cfg.z_dim
        if P % 12:
            raise GanforgeError(f"n_pitches must be whole octaves (a multiple of 12), got {P}")
        self.track_mode = track_mode(cfg)
        self.given = condition_indices(cfg) if self.track_mode else []
        n_cond = len(self.given)
        if self.track_mode and cfg.cond_dim != n_cond * bars * S * P:
            raise GanforgeError(f"track-conditional mode needs the track encoder's embedding of "
                                f"{n_cond * bars * S * P} numbers, got cond_dim {cfg.cond_dim}")
        self.shared_temporal = TemporalGenerator(zd, bars, cfg.temporal_hidden)
        self.private_temporal = nn.ModuleList(TemporalGenerator(zd, bars, cfg.temporal_hidden) for _ in range(T))
        enc_dim = 64 if self.track_mode else 0
        self.encoder = ConditionEncoder(n_cond, S, P, cfg.beat_resolution, enc_dim) if self.track_mode else None
        text_dim = cfg.cond_dim if cfg.conditional and not self.track_mode else 0
        # a caption's or class's embedding, standardised per dimension over the data: a sentence
        # encoder's captions differ from each other in small parts of a unit vector (the key of
        # "in A minor" / "in E minor" moves it by a few hundredths per dimension), next to
        # latents of unit variance; unscaled, the generator hears the style and not the key
        self.cond_norm = nn.BatchNorm1d(text_dim, affine=False) if text_dim and cfg.condition_norm else nn.Identity()
        in_dim = 4 * zd + text_dim + enc_dim + T  # + a one-hot of the track: the shared layers know whose bar it is

        # shared bar generator: dense, then transposed convs doubling time (every track's bars alike)
        ups = time_ups(S)
        self.s0 = S // 2 ** ups
        ch = cfg.g_channels
        self.dense = nn.Sequential(nn.Linear(in_dim, ch * self.s0), nn.BatchNorm1d(ch * self.s0), nn.ReLU())
        layers, c = [], ch
        for _ in range(ups):
            layers += [nn.ConvTranspose1d(c, c // 2, 4, stride=2, padding=1), nn.BatchNorm1d(c // 2), nn.ReLU()]
            c //= 2
        self.shared = nn.Sequential(*layers)
        self.shared_out = c
        # private (per track) transposed convs up the pitch axis: 1 -> octaves, then 12 semitones each
        pc = max(8, ch // 8)
        self.octaves = P // 12
        self.to_octaves = TrackLinear(T, c, pc * self.octaves)
        self.norm_octaves = nn.BatchNorm1d(T * pc)
        sc = max(4, pc // 2)  # the full-resolution layer is the costly one: half the channels
        self.to_semitones = TrackLinear(T, pc, sc * 12)
        self.norm_semitones = nn.BatchNorm1d(T * sc)
        self.private_channels, self.semitone_channels = pc, sc
        self.to_roll = TrackLinear(T, sc, 1)
        # track mode: each track's last layer also sees the given tracks at the same step and pitch
        self.from_given = TrackLinear(T, n_cond, 1) if self.track_mode else None
        # the shared chord per beat (cfg.harmony): from the shared latents and the condition
        self.harmony = None
        if cfg.harmony:
            if S % cfg.beat_resolution:
                raise GanforgeError(f"steps_per_bar {S} is not a whole number of beats of {cfg.beat_resolution} steps")
            self.harmony = HarmonyGenerator(2 * zd + text_dim + enc_dim, S // cfg.beat_resolution,
                                            cfg.temporal_hidden)
            pitched = torch.tensor([0.0 if t.drums else 1.0 for t in parse_tracks(cfg.tracks)][:T])
            pitched = torch.cat([pitched, torch.ones(T - len(pitched))])  # tracks beyond the names: pitched
            self.register_buffer("pitched", pitched)  # drum rows are instruments, not pitches: no chord
            self.harmony_gain = nn.Parameter(torch.ones(T))

    def latent_shape(self):
        return ((2 + 2 * self.cfg.n_tracks) * self.cfg.z_dim,)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.cfg
        B, T, bars, S, P, zd = len(z), cfg.n_tracks, cfg.n_bars, cfg.steps_per_bar, cfg.n_pitches, cfg.z_dim
        if cfg.conditional and cond is None:
            raise GanforgeError("this MuseGAN is conditional: give --prompt, --class or, for a track-conditional "
                                "run, --set condition_midi=FILE.mid")
        z_shared, z_shared_t = z[:, :zd], z[:, zd:2 * zd]
        z_private = z[:, 2 * zd:(2 + T) * zd].reshape(B, T, zd)
        z_private_t = z[:, (2 + T) * zd:].reshape(B, T, zd)
        per_bar_shared = self.shared_temporal(z_shared_t)  # [B, bars, zd]
        per_bar_private = torch.stack([g(z_private_t[:, k]) for k, g in enumerate(self.private_temporal)], 1)
        parts = [z_shared[:, None, None].expand(B, T, bars, zd), per_bar_shared[:, None].expand(B, T, bars, zd),
                 z_private[:, :, None].expand(B, T, bars, zd), per_bar_private]
        given = None
        shared = [z_shared[:, None].expand(B, bars, zd), per_bar_shared]  # what every track of a bar shares
        if self.track_mode:
            given = cond.to(z.dtype).reshape(B, len(self.given), bars, S, P)
            bar_rolls = given.transpose(1, 2).reshape(B * bars, len(self.given), S, P)
            e = self.encoder(bar_rolls).reshape(B, bars, -1)
            shared.append(e)
            parts.append(e[:, None].expand(B, T, bars, -1))
        elif cfg.conditional:
            c = self.cond_norm(cond.to(z.dtype))
            shared.append(c[:, None].expand(B, bars, c.shape[1]))
            parts.append(c[:, None, None].expand(B, T, bars, c.shape[1]))
        parts.append(torch.eye(T, dtype=z.dtype, device=z.device)[None, :, None].expand(B, T, bars, T))
        h = torch.cat(parts, -1).reshape(B * T * bars, -1)
        h = self.dense(h).reshape(B * T * bars, cfg.g_channels, self.s0)
        h = self.shared(h)  # [B*T*bars, c, S]
        c, pc, O = self.shared_out, self.private_channels, self.octaves
        h = h.reshape(B, T, bars, c, S).permute(0, 2, 4, 1, 3)  # [B, bars, S, T, c]
        N = B * bars * S
        h = self.to_octaves(h).reshape(N, T * pc, O)  # per track: pc channels at each octave
        h = torch.relu(self.norm_octaves(h)).reshape(N, T, pc, O)
        w, b = self.to_semitones.weight, self.to_semitones.bias
        sc = self.semitone_channels
        h = torch.einsum("ntco,tcd->notd", h, w) + b  # [N, O, T, sc*12]: 12 semitones per octave
        h = torch.relu(self.norm_semitones(h.reshape(N * O, T * sc, 12))).reshape(N, O, T, sc, 12)
        out = torch.einsum("notck,tc->notk", h, self.to_roll.weight[..., 0]) + self.to_roll.bias
        if self.harmony is not None:  # the beat's chord, on every octave of every pitched track
            chord = self.harmony(torch.cat(shared, -1))  # [B, bars, beats, 12]
            chord = chord.repeat_interleave(cfg.beat_resolution, 2).reshape(N, 1, 1, 12)
            out = out + chord * (self.harmony_gain * self.pitched)[None, None, :, None]
        if self.track_mode:
            skip = given.permute(0, 2, 3, 4, 1).reshape(N, O, 12, len(self.given))
            out = out + torch.einsum("nokg,tg->notk", skip, self.from_given.weight[..., 0]) \
                + self.from_given.bias
        x = torch.tanh(out).reshape(B, bars, S, O, T, 12).permute(0, 4, 1, 2, 3, 5).reshape(B, T, bars, S, P)
        if self.track_mode:  # the given tracks are the given tracks
            x = x.clone()
            x[:, self.given] = given
        return x

    def generate(self, n, cond=None, generator=None, latents=None, condition_midi: str | None = None):
        """``condition_midi``: in track-conditional mode, a MIDI file whose given tracks
        (``condition_tracks``) are kept; its phrases are used in turn, one per sample."""
        if condition_midi is not None and not self.track_mode:
            raise GanforgeError("condition_midi needs a track-conditional run (trained with --set encoder=track)")
        if self.track_mode:
            if condition_midi is not None:
                cond = self.condition_from_midi(condition_midi, n)
            elif cond is None or bool(torch.isnan(cond).any()):
                raise GanforgeError("this run is track-conditional: give the fixed tracks as "
                                    "--set condition_midi=FILE.mid (condition_midi=... in Python)")
        device = next(self.parameters()).device
        z = self.sample_latent(n, generator=generator) if latents is None else latents
        z = z.to(device)
        return self(z, None if cond is None else cond.to(device))

    def condition_from_midi(self, path, n: int) -> torch.Tensor:
        """The given tracks of ``path``'s phrases, flattened as the track encoder does, cycled to ``n``."""
        cfg = self.cfg
        grid = Grid.from_config(vars(cfg))
        file = Path(str(path))
        if not file.is_file():
            raise GanforgeError(f"condition_midi {file} does not exist; give a MIDI file")
        try:
            roll = read_midi(file, grid)
        except GanforgeError as e:
            raise GanforgeError(f"condition_midi {file}: {e}") from None
        found = phrases(roll, grid, cfg.n_bars, cfg.n_bars)
        given = [p[self.given] for p in found if p[self.given].any()]
        if not given:
            names = ", ".join(grid.names[k] for k in self.given)
            raise GanforgeError(f"condition_midi {file} has no {cfg.n_bars}-bar phrase with notes in the given "
                                f"track(s) {names} (instruments are sorted into tracks by General MIDI program)")
        rolls = torch.from_numpy(np.stack([given[i % len(given)] for i in range(n)]).astype(np.float32)) * 2 - 1
        return rolls.reshape(n, -1)


class Discriminator(ganforge.Discriminator):
    config_class = MuseGANConfig

    def __init__(self, cfg: MuseGANConfig):
        super().__init__()
        self.cfg = cfg
        T, bars, S, P = cfg.n_tracks, cfg.n_bars, cfg.steps_per_bar, cfg.n_pitches
        r = cfg.beat_resolution
        if S % r:
            raise GanforgeError(f"steps_per_bar {S} is not a whole number of beats of {r} steps")
        beats, octaves, c = S // r, P // 12, cfg.d_channels
        self.act = nn.LeakyReLU(0.2)
        # private, per track: pitch (12 semitones) then time (a beat), and time then pitch
        self.pt_pitch, self.pt_time = TrackLinear(T, 12, c), TrackLinear(T, r * c, c)
        self.tp_time, self.tp_pitch = TrackLinear(T, r, c), TrackLinear(T, 12 * c, c)
        # shared across tracks: octaves, then the beats of a bar, then the bars
        self.shared = nn.ModuleList([nn.Linear(octaves * T * 2 * c, 4 * c), nn.Linear(beats * 4 * c, 8 * c),
                                     nn.Linear(bars * 8 * c, 8 * c)])
        # chroma (pitch classes per beat) and onsets (note starts per step) of every track
        self.chroma = nn.ModuleList([nn.Linear(T * 12, 2 * c), nn.Linear(beats * 2 * c, 4 * c),
                                     nn.Linear(bars * 4 * c, 4 * c)])
        self.onset = nn.ModuleList([nn.Linear(T * r, 2 * c), nn.Linear(beats * 2 * c, 4 * c),
                                    nn.Linear(bars * 4 * c, 4 * c)])
        features = 16 * c
        self.hidden = nn.Linear(features, features)
        self.score = nn.Linear(features, 1)
        text = cfg.conditional and not track_mode(cfg)
        self.project = nn.Linear(features, cfg.cond_dim, bias=False) if text else None
        # the condition standardised per dimension, as in the generator (a key moves a sentence
        # embedding by little): the projection then weighs every caption difference alike
        self.cond_norm = nn.BatchNorm1d(cfg.cond_dim, affine=False) if text and cfg.condition_norm else nn.Identity()

    def _pyramid(self, layers, h):
        """``h`` [B, bars, beats, F] through a layer per beat, per bar, then over the bars."""
        B, bars, beats, _ = h.shape
        h = self.act(layers[0](h))
        h = self.act(layers[1](h.reshape(B, bars, -1)))
        return self.act(layers[2](h.reshape(B, -1)))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        r = self.cfg.beat_resolution
        B, T, bars, S, P = x.shape
        beats, O = S // r, P // 12
        act = self.act
        # x as [B, bars, beats, r, O, 12, T]
        xs = x.reshape(B, T, bars, beats, r, O, 12).permute(0, 2, 3, 4, 5, 6, 1)
        h = act(self.pt_pitch(xs.transpose(-1, -2)))  # [B, bars, beats, r, O, T, c]
        h = h.permute(0, 1, 2, 4, 5, 3, 6).reshape(B, bars, beats, O, T, -1)  # r*c per track
        pitch_time = act(self.pt_time(h))  # [B, bars, beats, O, T, c]
        h = act(self.tp_time(xs.permute(0, 1, 2, 4, 5, 6, 3)))  # [B, bars, beats, O, 12, T, c]
        h = h.permute(0, 1, 2, 3, 5, 4, 6).reshape(B, bars, beats, O, T, -1)  # 12*c per track
        time_pitch = act(self.tp_pitch(h))
        private = torch.cat([pitch_time, time_pitch], -1).reshape(B, bars, beats, -1)
        on = torch.cat([x[:, :, :, :1] + 1, torch.relu(x[:, :, :, 1:] - x[:, :, :, :-1])], 3)  # note starts
        onsets = (on.sum(-1) / 2).reshape(B, T, bars, beats, r).permute(0, 2, 3, 1, 4).reshape(B, bars, beats, -1)
        chroma = ((x + 1) / 2).reshape(B, T, bars, beats, r, O, 12).sum((4, 5))  # pitch classes per beat, {0, 1}
        chroma = chroma.permute(0, 2, 3, 1, 4).reshape(B, bars, beats, -1)
        h = torch.cat([self._pyramid(self.shared, private), self._pyramid(self.chroma, chroma),
                       self._pyramid(self.onset, onsets)], 1)
        h = act(self.hidden(h))
        out = self.score(h).squeeze(1)
        if self.project is not None and cond is not None:
            out = out + (self.project(h) * self.cond_norm(cond.to(h.dtype))).sum(1)
        return out
