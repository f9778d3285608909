"""Pitch can survive text2music's representation (issue 12): the log-frequency grid
separates semitones, and the tones data's bass voicing makes a chord's root its loudest
pitch class."""

import json

import numpy as np
import pytest
import soundfile
import torch

import ganforge
from ganforge_audio import spectral
from ganforge_audio.datasets import make_tones
from ganforge_audio.modality import AudioModality

from audio_helpers import strongest_pitch_class

RATE = 16000


def tone(hz: float, length: int = 16384) -> torch.Tensor:
    t = torch.arange(length) / RATE
    return 0.5 * torch.sin(2 * torch.pi * hz * t)


def test_logfreq_grid_separates_semitones_the_linear_grid_does_not():
    c4, c_sharp4 = 261.63, 277.18
    waves = torch.stack([tone(c4), tone(c_sharp4)])[:, None]  # [2, 1, L]
    grid = spectral.logfreq_magnitude(waves, RATE)
    assert grid.shape == (2, 1, 128, 32)  # 128 bins x 32 frames of 512 samples
    peaks = grid[:, 0].mean(-1).argmax(-1)
    assert peaks[1] - peaks[0] >= 1  # about 1.7 bins per semitone
    linear = spectral.magnitude(waves)[:, 0].mean(-1).argmax(-1)
    assert linear[0] == linear[1]  # 62.5 Hz bins: C4 and C#4 share one


PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def read_tones(folder):
    """[N, L] clips and [N] root pitch classes of a tones folder."""
    rows = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    waves = [torch.from_numpy(soundfile.read(str(folder / r["file_name"]), dtype="float32")[0]) for r in rows]
    return torch.stack(waves), torch.tensor([PITCH_CLASSES.index(r["root"]) for r in rows])


def test_bass_voiced_tones_keep_their_root_through_the_logfreq_grid_not_the_linear_one(tmp_path):
    waves, roots = read_tones(make_tones(tmp_path / "tones", n=20, voicing="bass", seed=1))
    hits = {"files": (strongest_pitch_class(waves, RATE) == roots).float().mean().item()}
    for representation in ("logfreq", "spectrogram"):
        mag = spectral.grid_magnitude(waves[:, None], representation, RATE)
        back = spectral.grid_to_audio(mag, representation, RATE, 16384, n_iter=16)
        assert back.shape == (20, 1, 16384)
        hits[representation] = (strongest_pitch_class(back[:, 0], RATE) == roots).float().mean().item()
    assert hits["files"] >= 0.95 and hits["logfreq"] >= 0.9, hits
    assert hits["spectrogram"] <= 0.75, hits  # 62.5 Hz bins smear the notes over neighbouring semitones


def test_tones_bass_voicing_puts_the_root_loudest(tmp_path):
    out = make_tones(tmp_path / "bass", n=30, voicing="bass")
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    for row in rows:
        midi = row["midi"]
        if row["chord"] == "note":
            assert len(midi) == 1
        else:  # the triad over its root an octave below
            assert len(midi) == 4 and midi[1] - midi[0] == 12 and midi[0] % 12 == midi[1] % 12
        assert min(midi) >= 48  # nothing below C3
        assert row["text"].startswith(row["root"] + " ")  # "F# minor chord, pluck"
    waves, roots = read_tones(out)
    assert (strongest_pitch_class(waves, RATE) == roots).float().mean() >= 0.9
    # the close voicing (the default) keeps three equal notes
    close = make_tones(tmp_path / "close", n=6)
    chords = [json.loads(line) for line in (close / "metadata.jsonl").read_text().splitlines()]
    assert all(len(r["midi"]) == 3 for r in chords if r["chord"] != "note")
    with pytest.raises(ganforge.GanforgeError, match="voicing"):
        make_tones(tmp_path / "x", n=2, voicing="drop2")


def test_logfreq_representation_loads_and_plays_back(tmp_path):
    data_dir = make_tones(tmp_path / "tones", n=6, voicing="bass")
    m = AudioModality({"sample_rate": RATE, "audio_length": 16384, "representation": "logfreq"})
    data = m.load(data_dir)
    x = data.batch(torch.arange(len(data)))["x"]
    assert x.shape == (6, 1, 128, 32) and x.min() >= -1 and x.max() <= 1
    assert m.state["representation"] == "logfreq" and len(m.state["spec_mean"]) == 128
    waves = m.to_waveform(x)
    assert waves.shape == (6, 1, 16384) and waves.abs().max() > 0.05
    with pytest.raises(ganforge.GanforgeError, match="logfreq"):
        AudioModality({"audio_length": 16384, "representation": "cqt"}).load(data_dir)


def test_specgan_keeps_the_papers_linear_grid_and_text2music_hears_semitones():
    recipes = ganforge.get_plugin_manager().registry
    assert recipes.get("recipe", "specgan").defaults["representation"] == "spectrogram"
    text2music = recipes.get("recipe", "text2music")  # prompts name notes: the grid that separates them
    assert (text2music.defaults["representation"], text2music.defaults["objective"]) == ("logfreq", "matching-hard")
    assert "spectrogram" in text2music.options["representation"]


@pytest.mark.parametrize("length", [4096, 16384, 65536])
def test_specgan_networks_draw_and_judge_the_logfreq_grid(length):
    from ganforge_audio import specgan

    cfg = specgan.SpecGANConfig(audio_length=length, model_dim=2, representation="logfreq")
    frames = length // spectral.logfreq_hop(length)
    assert frames == (32 if length <= 16384 else 128)
    spec = specgan.Generator(cfg)(torch.rand(3, cfg.nz) * 2 - 1)
    assert spec.shape == (3, 1, 128, frames)
    assert specgan.Discriminator(cfg)(spec).shape == (3,)
    waves = spectral.grid_to_audio(spectral.denormalise(spec, torch.zeros(128), torch.ones(128)), "logfreq",
                                   RATE, length, n_iter=2)
    assert waves.shape == (3, 1, length)
