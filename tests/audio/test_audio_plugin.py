"""Registration, torch-free recipes, documented options and the tones data set."""

import json
import re
import subprocess
import sys

import pytest
import soundfile

import ganforge


def test_everything_is_registered():
    registry = ganforge.get_plugin_manager().registry
    assert registry.find("modality", "audio").full_name == "audio:audio"
    for kind in ("generator", "discriminator", "recipe"):
        assert registry.find(kind, "audio:wavegan") and registry.find(kind, "audio:specgan")
    assert registry.find("dataset", "audio:tones")
    assert registry.find("metric", "audio:nn-distance")
    assert registry.get("recipe", "audio:wavegan").objective == "wgan-gp"


def test_plugin_and_recipes_import_without_torch():
    code = ("import sys, ganforge_audio.plugin, ganforge_audio.recipes; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["WAVEGAN", "SPECGAN"])
def test_every_recipe_option_has_help(name):
    from ganforge_audio import recipes

    recipe = getattr(recipes, name)
    helps = recipe.option_help()
    for key in recipe.all_defaults():
        assert helps.get(key), f"option {key} of {name} has no help line"
    defaults = recipe.all_defaults()
    assert defaults["n_critic"] == 5 and defaults["batch_size"] == 64 and defaults["lr_d"] == 1e-4
    assert defaults["betas_d"] == [0.5, 0.9] and defaults["audio_length"] == 16384 and defaults["model_dim"] == 64


def test_tones_dataset_files_and_captions(tones):
    rows = [json.loads(line) for line in (tones / "metadata.jsonl").read_text().splitlines()]
    assert len(rows) == 20
    assert sorted(p.name for p in tones.iterdir()) == ["metadata.jsonl", "organ", "sine"]
    pattern = re.compile(r"^[A-G]#? (note|major chord|minor chord), (sine|organ)$")
    for row in rows:
        assert pattern.match(row["text"]), row["text"]
        assert row["file_name"].split("/")[0] == row["timbre"]
        info = soundfile.info(str(tones / row["file_name"]))
        assert (info.samplerate, info.frames, info.channels) == (16000, 16384, 1)
    assert {r["chord"] for r in rows} == {"note", "major", "minor"}
    assert any(r["text"].endswith("chord, organ") for r in rows)
    audio, _ = soundfile.read(str(tones / rows[0]["file_name"]))
    assert 0.3 < abs(audio).max() <= 0.9


def test_tones_by_chord_and_errors(tmp_path):
    make = ganforge.get_plugin_manager().registry.get("dataset", "tones")
    out = make(tmp_path / "chords", n=6, by="chord", timbres="bell,pluck,square")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["major", "minor", "note"]
    with pytest.raises(ganforge.GanforgeError, match="empty"):
        make(out, n=3)
    with pytest.raises(ganforge.GanforgeError, match="timbre"):
        make(tmp_path / "x", timbres="kazoo")


def test_tones_are_deterministic(tmp_path):
    from ganforge_audio.datasets import make_tones

    a = make_tones(tmp_path / "a", n=3)
    b = make_tones(tmp_path / "b", n=3)
    for f in sorted(a.rglob("*.wav")):
        assert soundfile.read(str(f))[0].tolist() == soundfile.read(str(b / f.relative_to(a)))[0].tolist()
