"""Short runs through the command line: train, generate .mid/.wav/.png files that reopen,
every conditioning mode, evaluate."""

import json

import mido
import numpy as np
import pytest
import soundfile
from PIL import Image

from ganforge.cli import main
from ganforge_music.midi import read_midi
from ganforge_music.modality import MusicModality
from music_tiny import TINY


def train(band, out, *sets, steps=3):
    args = ["train", "musegan", "--data", str(band), "--out", str(out), "--steps", str(steps)]
    for key, value in {**TINY, **dict(s.split("=", 1) for s in sets)}.items():
        args += ["--set", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def run(band, tmp_path_factory):
    return train(band, tmp_path_factory.mktemp("runs") / "plain")


def test_generate_writes_midi_wav_and_png_that_reopen(run, tmp_path, capsys):
    assert main(["generate", str(run), "-n", "2", "--out", str(tmp_path / "a"), "--set", "synth=builtin"]) == 0
    assert "wrote 2 MIDI samples" in capsys.readouterr().out
    for i in range(2):
        midi = mido.MidiFile(str(tmp_path / "a" / f"sample_{i:05d}.mid"))
        names = [m.name for t in midi.tracks for m in t if m.type == "track_name"]
        assert names == ["drums", "bass", "piano", "strings", "melody"]
        audio, rate = soundfile.read(str(tmp_path / "a" / f"sample_{i:05d}.wav"))
        assert rate == 22050 and len(audio) > rate and np.isfinite(audio).all()
        image = Image.open(tmp_path / "a" / f"sample_{i:05d}.png")
        assert image.size[0] > 200 and json.loads(image.info["ganforge"])["index"] == i
    assert (tmp_path / "a" / "sample_grid.png").is_file()
    meta = [json.loads(line) for line in (tmp_path / "a" / "metadata.jsonl").read_text().splitlines()]
    assert [m["file_name"] for m in meta] == ["sample_00000.mid", "sample_00001.mid"]
    # the same seed makes the same music
    assert main(["generate", str(run), "-n", "2", "--out", str(tmp_path / "b"), "--set", "audio=false"]) == 0
    for i in range(2):
        a = read_midi(tmp_path / "a" / f"sample_{i:05d}.mid", MusicModality({}).grid)
        b = read_midi(tmp_path / "b" / f"sample_{i:05d}.mid", MusicModality({}).grid)
        assert np.array_equal(a, b)
    assert not (tmp_path / "b" / "sample_00000.wav").exists()


def test_evaluate_reports_musegan_metrics_for_generated_and_real(run, band, capsys):
    assert main(["evaluate", str(run), "--data", str(band), "-n", "8", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    for key in ("eb[drums]", "upc[bass]", "qn[melody]", "dp", "td[bass,piano]", "fd"):
        assert key in scores and f"{key}_real" in scores or key == "fd"
    assert scores["eb[bass]_real"] == 0.0 and scores["feature_space"] == "music-stats"
    assert scores["prompt_agreement"].startswith("n/a")


def test_class_conditional(band, tmp_path):
    run = train(band, tmp_path / "c", "conditional=true")
    assert main(["generate", str(run), "-n", "2", "--class", "blues", "--out", str(tmp_path / "o"),
                 "--set", "audio=false"]) == 0
    meta = [json.loads(line) for line in (tmp_path / "o" / "metadata.jsonl").read_text().splitlines()]
    assert [m["class"] for m in meta] == ["blues", "blues"]


def test_text_conditional_with_prompt_agreement(band, tmp_path, capsys):
    run = train(band, tmp_path / "t", "encoder=text:hashed", "encoder_buckets=512", "cond_dim=16")
    assert main(["generate", str(run), "-n", "1", "--prompt", "upbeat rock in E major",
                 "--out", str(tmp_path / "o"), "--set", "audio=false"]) == 0
    meta = json.loads((tmp_path / "o" / "metadata.jsonl").read_text().splitlines()[0])
    assert meta["prompt"] == "upbeat rock in E major"
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(band), "-n", "8", "--json", "--metric", "prompt-agreement"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert 0 <= scores["key_agreement"] <= 1 and scores["chord_agreement_real"] > 0.9


def test_track_conditional_keeps_the_given_melody(band, tmp_path, capsys):
    run = train(band, tmp_path / "k", "encoder=track", "condition_tracks=melody")
    song = sorted((band / "blues").glob("*.mid"))[0]
    out = tmp_path / "o"
    assert main(["generate", str(run), "-n", "2", "--out", str(out), "--set", f"condition_midi={song}",
                 "--set", "audio=false"]) == 0
    grid = MusicModality({}).grid
    given = read_midi(song, grid)[4, :64]
    made = read_midi(out / "sample_00000.mid", grid)[4, :64]
    assert np.array_equal(given, made)
    assert main(["generate", str(run), "-n", "1", "--out", str(tmp_path / "p")]) == 2
    assert "condition_midi=FILE.mid" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--data", str(band), "-n", "4", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert "eb[melody]" in scores and "fd" in scores  # generated around the real phrases' melodies
    assert scores["upc[melody]"] == pytest.approx(scores["upc[melody]_real"])  # the same given melodies
