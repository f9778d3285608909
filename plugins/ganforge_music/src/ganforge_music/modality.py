"""The music modality: folders of MIDI files <-> multi-track piano-roll phrases.

Every file is read into a binary roll (:mod:`ganforge_music.midi`: tracks by General MIDI
program family, a beat grid, a pitch range) and cut into phrases of ``n_bars`` bars every
``phrase_hop_bars`` bars. Samples are ``[tracks, bars, steps per bar, pitches]``: stored as
uint8 {0, 1}, {-1, 1} floats for the networks (MuseGAN's layout with the track axis first).
Class sub-folders give labels (styles), ``metadata.jsonl`` captions give every phrase of
a file its file's caption. Files that cannot be read, hold no notes or are shorter than a
phrase are skipped with a count.

Generated phrases are binarised (values above 0: MuseGAN's hard threshold) and written as
a ``.mid`` file, a ``.wav`` rendering and a piano-roll ``.png`` each.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

import ganforge
from ganforge import GanforgeError

from .midi import Grid, phrases, read_midi, tempo_of, write_midi
from .render import render_wav, save_roll_grid, save_roll_png

EXTENSIONS = (".mid", ".midi")


class MusicModality(ganforge.Modality):
    """MIDI folders; samples are piano-roll phrases ``[tracks, bars, steps, pitches]``."""

    file_kind = "MIDI"
    # no GenerationResult property gives rolls (it has .images, .audio, .texts); Python
    # users read result.samples or result.objects (boolean rolls)
    result_kind = None
    generation_options = ("tempo", "synth", "audio", "png")

    def __init__(self, config: dict, state: dict | None = None):
        super().__init__(config, state)
        self.grid = Grid.from_config(config)
        self.n_bars = int(config.get("n_bars", 4))
        if self.n_bars < 1:
            raise GanforgeError(f"option 'n_bars' must be at least 1, got {self.n_bars}")

    # ------------------------------------------------------------------ reading

    def read_file(self, path) -> list[np.ndarray]:
        """The phrases of one MIDI file (bool ``[tracks, bars, steps, pitches]`` each)."""
        roll = read_midi(Path(path), self.grid)
        hop = int(self.config.get("phrase_hop_bars", self.n_bars) or self.n_bars)
        found = phrases(roll, self.grid, self.n_bars, hop)
        if not found:
            bars = roll.shape[1] // self.grid.steps_per_bar
            raise GanforgeError(f"{bars} bar(s) long, shorter than a phrase of n_bars={self.n_bars} with notes")
        return found

    def load(self, path) -> ganforge.SampleSet:
        root = Path(path)
        trained = dict(self.state)
        files = ganforge.data_files(root, EXTENSIONS, "MIDI")
        base = root if root.is_dir() else root.parent
        folders = [f.relative_to(base).parts[0] if len(f.relative_to(base).parts) > 1 else None for f in files]
        classes = sorted({c for c in folders if c is not None}) if all(folders) else []
        if classes and trained.get("classes") and set(classes) <= set(trained["classes"]):
            classes = list(trained["classes"])
        captions = ganforge.read_captions(base, recursive=root.is_dir())
        report = ganforge.DataReport("MIDI")
        limit = int(self.config.get("max_phrases_per_file", 0) or 0)
        xs, labels, texts, tempos = [], [], [], []
        for file, folder in zip(files, folders):
            try:
                found = self.read_file(file)
            except GanforgeError as e:
                report.skip(file, str(e))
                continue
            if limit > 0:
                found = found[:limit]
            caption = captions.get(file.relative_to(base).as_posix())
            for phrase in found:
                xs.append(torch.from_numpy(phrase.astype(np.uint8)))
                if classes:
                    labels.append(classes.index(folder))
                texts.append(caption)
            tempo = tempo_of(file)
            if tempo:
                tempos.append(tempo)
        report.finish(len(xs), root)
        self.state = {
            "tracks": self.grid.names,
            "tempo": float(trained.get("tempo") or round(statistics.median(tempos) if tempos else 120.0, 1)),
            "files": len(files) - len(report.skipped),
            "skipped_files": len(report.skipped),
            "phrases": len(xs),
        }
        if classes:
            self.state["classes"] = classes
        if self.config.get("conditional") and self.config.get("encoder") == "label" and len(classes) < 2:
            raise GanforgeError(f"conditional=true with class labels needs each style of {root} in its own sub-folder")
        fields: dict = {"x": torch.stack(xs)}
        if classes:
            fields["label"] = torch.tensor(labels, dtype=torch.long)
        if any(t is not None for t in texts):
            fields["text"] = [t or "" for t in texts]
        return ganforge.SampleSet(fields, to_model=to_model)

    def derived_config(self) -> dict:
        out = {"n_tracks": len(self.grid.tracks), "steps_per_bar": self.grid.steps_per_bar,
               "drum_track": next((k for k, t in enumerate(self.grid.tracks) if t.drums), -1)}
        if self.state.get("classes"):
            out["n_classes"] = len(self.state["classes"])
        return out

    # ------------------------------------------------------------------ writing

    @property
    def tempo(self) -> float:
        return float(self.config.get("tempo") or self.state.get("tempo") or 120.0)

    def to_user(self, x: torch.Tensor, **options) -> list[np.ndarray]:
        """Binary rolls (bool numpy ``[tracks, bars, steps, pitches]``), one per sample."""
        return [r for r in binarise(x).numpy()]

    def save_samples(self, x: torch.Tensor, out_dir, names: Sequence[str], metadata: Sequence[dict] = (),
                     append: bool = False, tempo: float | None = None, synth: str | None = None, audio: bool = True,
                     png: bool = True) -> list[Path]:
        """A ``.mid``, ``.wav`` and ``.png`` per phrase; ``tempo`` and ``synth`` default to the run's options."""
        out_dir = Path(out_dir)
        tempo = float(tempo or self.tempo)
        synth = str(synth or self.config.get("synth") or "auto")
        paths = []
        for i, roll in enumerate(self.to_user(x)):
            meta = dict(metadata[i]) if i < len(metadata) else {}
            stem = out_dir / names[i]
            mid = write_midi(roll.reshape(roll.shape[0], -1, roll.shape[-1]), stem.with_suffix(".mid"), self.grid,
                             tempo=tempo, metadata=meta)
            if _flag(audio):
                render_wav(roll, self.grid, stem.with_suffix(".wav"), tempo, synth=synth)
            if _flag(png):
                save_roll_png(roll, self.grid, stem.with_suffix(".png"), info=json.dumps(meta, default=str))
            paths.append(mid)
        return paths

    def save_preview(self, x: torch.Tensor, path, labels=None) -> list[Path]:
        rolls = binarise(x[:16]).numpy()
        return [save_roll_grid(rolls, self.grid, Path(f"{path}.png"), labels=labels[:16] if labels else None)]

    # ------------------------------------------------------------------ metrics

    @property
    def default_metrics(self) -> tuple[str, ...]:
        """MuseGAN's metrics, prompt agreement and FD in music-stats; a track-conditional run
        (no captions to agree with) gets MuseGAN's and FD, its phrases generated around the
        given tracks of the real phrases they are compared with."""
        if self.config.get("conditional") and self.config.get("encoder") in ("track", "music:track"):
            return ("musegan", "fd")
        return ("musegan", "prompt-agreement", "fd")

    def feature_space(self, real, spec=None):
        """Hand-made musical features (``music-stats``): per track the note density, pitch-class
        histogram, mean and spread of pitch, polyphony, empty-bar share and onset positions
        in the beat. Distances in it compare what MuseGAN's metrics look at, not audio."""
        if spec not in (None, "music-stats"):
            raise GanforgeError(f"the music modality has one feature space, music-stats; got '{spec}'")
        beat = self.grid.beat_resolution

        def extract(x: torch.Tensor) -> torch.Tensor:
            return music_features(binarise(x), beat)

        extract.judges = "note density, pitch classes, register, polyphony, empty bars and rhythm per track"
        return "music-stats", extract


def _flag(value) -> bool:
    return str(value).lower() not in ("0", "false", "no", "off", "none")


def to_model(x: torch.Tensor) -> torch.Tensor:
    """Stored {0, 1} rolls -> {-1, 1} floats (the generator ends in tanh)."""
    return x.float() * 2 - 1


def binarise(x: torch.Tensor) -> torch.Tensor:
    """Rolls in model space (or already binary) -> bool; MuseGAN's hard threshold at the midpoint."""
    if x.dtype == torch.bool:
        return x.cpu()
    if not x.is_floating_point():
        return (x > 0).cpu()
    return (x.detach().float() > 0).cpu()


def music_features(rolls: torch.Tensor, beat_resolution: int) -> torch.Tensor:
    """[B, tracks, bars, steps, pitches] bool -> [B, F] float features (see ``feature_space``)."""
    r = rolls.float()
    b, t, bars, steps, pitches = r.shape
    time = r.reshape(b, t, bars * steps, pitches)
    active = time.sum(-1)  # [b, t, time]
    density = (active > 0).float().mean(-1)  # share of steps sounding
    poly = active.sum(-1) / (active > 0).float().sum(-1).clamp_min(1)
    per_pitch = time.sum(2)  # [b, t, pitches]
    total = per_pitch.sum(-1, keepdim=True).clamp_min(1)
    chroma = per_pitch.reshape(b, t, pitches // 12, 12).sum(2) / total
    rows = torch.arange(pitches, dtype=torch.float32)
    mean_pitch = (per_pitch * rows).sum(-1) / total.squeeze(-1) / pitches
    spread = ((per_pitch * (rows - mean_pitch.unsqueeze(-1) * pitches) ** 2).sum(-1) / total.squeeze(-1)).sqrt() / pitches
    empty = (r.sum((-1, -2)) == 0).float().mean(-1)
    onset = torch.cat([time[:, :, :1], (time[:, :, 1:] > time[:, :, :-1]).float()], 2).sum(-1)  # [b, t, time]
    pos = onset.reshape(b, t, -1, beat_resolution).sum(2)
    pos = pos / pos.sum(-1, keepdim=True).clamp_min(1)
    return torch.cat([density, poly / 4, mean_pitch, spread, empty, chroma.reshape(b, -1), pos.reshape(b, -1)], 1)
