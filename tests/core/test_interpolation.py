"""Interpolation between prompts (or classes) of a conditional run, at one latent."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge
from ganforge import GanforgeError
from ganforge.cli import main
from ganforge.interpolation import interpolate_conditions, write_interpolation

A, B, C = ("a small red star on a blue background", "a large green circle on a white background",
           "a small yellow square on a black background")


@pytest.fixture(scope="module")
def shapes_t2i():
    pytest.importorskip("ganforge_image")
    return ganforge.load("shapes-t2i", device="cpu")


def test_prompt_path_starts_and_ends_at_the_prompts_own_samples(shapes_t2i):
    result = interpolate_conditions(shapes_t2i, [A, B, C], steps=4, seed=5)
    assert len(result) == 9  # 4 per pair, plus the last prompt itself
    first = shapes_t2i.generate(prompts=[A], seeds=[5]).samples[0]
    middle = shapes_t2i.generate(prompts=[B], seeds=[5]).samples[0]
    last = shapes_t2i.generate(prompts=[C], seeds=[5]).samples[0]
    assert torch.allclose(result.samples[0], first, atol=1e-5)
    assert torch.allclose(result.samples[4], middle, atol=1e-5)
    assert torch.allclose(result.samples[8], last, atol=1e-5)
    assert not torch.allclose(result.samples[2], first, atol=1e-3)  # it moves in between
    records = result.records
    assert [r["t"] for r in records[:5]] == [0.0, 0.25, 0.5, 0.75, 0.0]
    assert records[1]["prompt"] == A and records[1]["prompt_to"] == B and records[-1]["prompt"] == B
    assert {r["seed"] for r in records} == {5}


def test_cli_writes_frames_a_strip_and_an_animation(tmp_path, capsys):
    out = tmp_path / "interp"
    assert main(["generate", "shapes-t2i", "--prompt", A, "--prompt", B, "--interpolate", "3", "--seed", "1",
                 "--out", str(out), "--device", "cpu"]) == 0
    frames = sorted(out.glob("frame_*.png"))
    assert len(frames) == 4
    lines = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert [line["file_name"] for line in lines] == [f.name for f in frames]
    strip = Image.open(out / "interpolation.png")
    w, h = Image.open(frames[0]).size
    assert strip.size == (4 * w + 3 * 2, h)  # four frames, 2 px apart
    animation = next(out.glob("interpolation.webp"), None) or out / "interpolation.gif"
    with Image.open(animation) as im:
        assert im.n_frames == 4
    assert "4 interpolation frames" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--prompt", A, "--interpolate", "4"], "two or more --prompt"),
    (["--prompt", A, "--prompt", B, "--interpolate", "0"], "1 or more"),
    (["--prompt", A, "--prompt", B, "--interpolate", "4", "--seeds", "1-3"], "give --seed, not --seeds"),
])
def test_bad_interpolation_requests_get_one_line_errors(tmp_path, capsys, argv, message):
    assert main(["generate", "shapes-t2i", "--out", str(tmp_path / "o"), "--device", "cpu", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_an_unconditional_run_says_to_interpolate_seeds(tmp_path):
    pytest.importorskip("ganforge_toy")
    from ganforge_toy.datasets import make_ring

    data = make_ring(tmp_path / "ring", n=200)
    ganforge.train("toy-ring", data=data, out=tmp_path / "run", steps=1, overrides={"progress": False})
    with pytest.raises(GanforgeError, match="unconditional"):
        interpolate_conditions(ganforge.load(tmp_path / "run"), ["a", "b"])


def test_audio_interpolation_writes_each_clip_and_one_joined_wav(tmp_path):
    pytest.importorskip("ganforge_audio")
    sf = pytest.importorskip("soundfile")
    from ganforge_audio.datasets import make_tones

    data = make_tones(tmp_path / "tones", n=16)
    tiny = {"model_dim": 4, "audio_length": 4096, "batch_size": 8, "progress": False, "preview_n": 2,
            "checkpoint_every": 0, "sample_every": 0, "encoder": "text:hashed"}
    ganforge.train("text2music", data=data, out=tmp_path / "run", steps=1, overrides=tiny)
    result = interpolate_conditions(ganforge.load(tmp_path / "run"), ["C major chord, organ", "A note, sine"],
                                    steps=2, seed=0)
    paths = write_interpolation(result, tmp_path / "out")
    clips = sorted((tmp_path / "out").glob("frame_*.wav"))
    assert len(clips) == 3 and tmp_path / "out" / "interpolation.wav" in paths
    joined, rate = sf.read(tmp_path / "out" / "interpolation.wav")
    one, _ = sf.read(clips[0])
    assert len(joined) == 3 * len(one) + 2 * int(0.15 * rate)
    assert np.abs(joined).max() > 0


def test_pipeline_interpolate_and_generic_objects(shapes_t2i):
    result = shapes_t2i.interpolate([A, B], steps=2, seed=4)
    direct = interpolate_conditions(shapes_t2i, [A, B], steps=2, seed=4)
    assert torch.equal(result.samples, direct.samples)
    objects, images = result.objects, result.images
    assert len(objects) == len(images) == 3
    assert [o.size for o in objects] == [i.size for i in images]
