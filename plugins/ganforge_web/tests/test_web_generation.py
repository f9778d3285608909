"""What the page asks of a model (ganforge_web.generation), without a browser: controls per
model, files and per-sample downloads with their metadata line, nothing written into a run."""

import json
import zipfile

import pytest

import ganforge
from ganforge_web.generation import Models

from web_testing import listing

PROMPT = "a small red star on a blue background"


@pytest.fixture
def models(tmp_path):
    return Models(tmp_path / "cache")


def test_the_shipped_prompt_model_makes_images_with_downloads(models):
    info = models.info("shapes-t2i")
    assert (info.kind, info.condition, info.truncation, info.temperature) == ("images", "prompt", False, False)
    made = models.generate("shapes-t2i", n=3, seed=5, prompt=PROMPT)
    assert [f.suffix for f in made.files] == [".png"] * 3 and made.pictures == made.files
    assert len({r["seed"] for r in made.records}) == 3
    assert all(r["prompt"] == PROMPT for r in made.records)
    assert [d.name for d in made.downloads] == ["sample_00000.zip", "sample_00001.zip", "sample_00002.zip",
                                                "all_samples.zip"]
    with zipfile.ZipFile(made.downloads[1]) as z:
        assert sorted(z.namelist()) == ["metadata.jsonl", "sample_00001.png"]
        line = z.read("metadata.jsonl").decode().strip()
    assert json.loads(line) == made.records[1] and made.records[1]["file_name"] == "sample_00001.png"
    assert line == (made.folder / "metadata.jsonl").read_text().splitlines()[1]
    same = ganforge.load("shapes-t2i", device="cpu").generate(n=3, seed=5, prompts=[PROMPT]).images
    from PIL import Image

    assert Image.open(made.files[2]).convert("RGB").tobytes() == same[2].convert("RGB").tobytes()  # the same sample


def test_a_class_run_generates_by_class_and_is_never_written(image_run, models):
    before = listing(image_run)
    info = models.info(str(image_run))
    assert info.condition == "class" and info.classes == ["circle", "square", "star", "triangle"]
    made = models.generate(str(image_run), n=2, seed=0, class_name="star")
    assert [r["class"] for r in made.records] == ["star", "star"]
    every = models.generate(str(image_run), n=4, seed=0)  # no class: every class in turn
    assert [r["class"] for r in every.records] == info.classes
    assert models.loaded() == [str(image_run.resolve())]  # loaded once
    assert not made.folder.is_relative_to(image_run)
    assert listing(image_run) == before


def test_audio_results_come_with_spectrogram_pictures(audio_run, models):
    made = models.generate(str(audio_run), n=2, seed=1)
    assert made.kind == "audio" and [f.suffix for f in made.files] == [".wav", ".wav"]
    assert all(p is not None and p.suffix == ".png" and p.is_file() for p in made.pictures)
    with zipfile.ZipFile(made.downloads[0]) as z:
        assert sorted(z.namelist()) == ["metadata.jsonl", "sample_00000.png", "sample_00000.wav"]


@pytest.mark.parametrize("kwargs, message", [
    ({"prompt": "  "}, "this model makes samples from a prompt: type one"),
    ({"prompt": PROMPT, "n": 0}, "choose from 1 to 64 samples, not 0"),
    ({"prompt": PROMPT, "seed": -1}, "the seed is a whole number from 0"),
])
def test_bad_requests_are_one_line_errors(models, kwargs, message):
    with pytest.raises(ganforge.GanforgeError, match=message):
        models.generate("shapes-t2i", **kwargs)


def test_an_unknown_model_is_a_one_line_error(models, tmp_path):
    with pytest.raises(ganforge.GanforgeError) as e:
        models.info(str(tmp_path / "no-such-run"))
    assert "\n" not in str(e.value) and "no-such-run" in str(e.value)


@pytest.mark.slow  # left out of the default run: pytest -m slow
def test_a_stylegan_run_offers_truncation_and_records_it(tmp_path, models):
    tiny = {"image_size": 16, "channel_base": 128, "channel_max": 16, "nz": 8, "w_dim": 8, "batch_size": 4,
            "mbstd_group": 2, "progress": False, "preview_n": 0, "checkpoint_every": 0, "sample_every": 0,
            "device": "cpu"}
    ganforge.get_registry().get("dataset", "shapes")(tmp_path / "shapes", n=8, size=16)
    ganforge.train("stylegan", data=tmp_path / "shapes", out=tmp_path / "sg", steps=1, overrides=tiny)
    info = models.info(str(tmp_path / "sg"))
    assert (info.condition, info.truncation, info.temperature) == (None, True, False)
    made = models.generate(str(tmp_path / "sg"), n=2, truncation=0.5)
    assert made.records[0]["options"] == {"truncation": 0.5}
    plain = models.generate(str(tmp_path / "sg"), n=2, truncation=1.0)  # the slider's rest: no option at all
    assert plain.records[0]["options"] == {}
