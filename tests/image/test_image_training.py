"""The dcgan recipe end to end: ganforge.train with every objective, conditioning, generation."""

import json
import math
import subprocess
import sys

import pytest
import torch
from PIL import Image

import ganforge
from ganforge.artifacts import checkpoint_dir as ckpt

OBJECTIVES = ["non-saturating", "minimax", "wgan", "wgan-gp", "hinge", "lsgan"]


def read_log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_few_steps_with_every_objective(objective, shapes16, tmp_path, tiny):
    steps = 2 if objective.startswith("wgan") else 3  # the WGANs take 5 critic steps per step
    run = ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=steps,
                         overrides={**tiny, "objective": objective})
    assert run.step == steps
    log = read_log(tmp_path / "run")
    assert len(log) == steps
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in log)
    assert (tmp_path / "run" / "ganforge.json").is_file()
    for name in ("generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors",
                 "training_state.pt"):
        assert (ckpt(tmp_path / "run") / name).is_file()
    assert (tmp_path / "run" / "samples" / f"step_{steps:07d}.png").is_file()  # the final preview


def test_the_cpu_fast_options_train_and_match_float32(shapes16, tmp_path, tiny):
    """channels_last=true amp=bf16 (docs/benchmarks.md): NHWC weights, bf16 convolutions
    inside the step, float32 weights and samples out, and the same losses to bf16's
    precision as the float32 run from the same seed."""
    fast = ganforge.train("dcgan", data=shapes16, out=tmp_path / "fast", steps=3,
                          overrides={**tiny, "channels_last": True, "amp": "bf16", "conditional": True})
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "plain", steps=3,
                   overrides={**tiny, "conditional": True})
    convs = [m for m in fast.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)
    assert all(p.dtype == torch.float32 for p in fast.generator.parameters())
    a, b = read_log(tmp_path / "fast"), read_log(tmp_path / "plain")
    assert [r["d_loss"] for r in a] != [r["d_loss"] for r in b]  # bf16 arithmetic did run
    for ra, rb in zip(a, b):
        assert abs(ra["d_loss"] - rb["d_loss"]) < 0.05 * abs(rb["d_loss"]) + 0.02
        assert abs(ra["g_loss"] - rb["g_loss"]) < 0.05 * abs(rb["g_loss"]) + 0.02
    images = ganforge.load(tmp_path / "fast").generate(n=8, seed=0, classes=["circle"]).samples
    assert images.dtype == torch.float32 and images.shape == (8, 3, 16, 16)
    assert torch.isfinite(images).all() and images.abs().max() <= 1


def test_wgan_presets_follow_the_papers(shapes16, tmp_path, tiny):
    wgan = ganforge.train("dcgan", data=shapes16, out=tmp_path / "a", steps=1, overrides={**tiny, "objective": "wgan"})
    assert (wgan.config["optimizer"], wgan.config["lr_d"], wgan.config["n_critic"]) == ("rmsprop", 5e-5, 5)
    assert isinstance(wgan.opt_d, torch.optim.RMSprop)
    assert all(p.abs().max() <= 0.01 + 1e-7 for p in wgan.discriminator.parameters())  # clipped
    gp = ganforge.train("dcgan", data=shapes16, out=tmp_path / "b", steps=1,
                        overrides={**tiny, "objective": "wgan-gp", "n_critic": 2})
    assert gp.config["d_norm"] == "layer" and gp.config["betas_d"] == [0.5, 0.9] and gp.config["lr_g"] == 1e-4
    assert gp.config["n_critic"] == 2  # the user's choice beats the preset
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in gp.discriminator.modules())


def test_defaults_are_the_dcgan_paper():
    from ganforge.plugins import get_plugin_manager

    recipe = get_plugin_manager().registry.get("recipe", "dcgan")
    d = recipe.all_defaults()
    assert (d["image_size"], d["channels"], d["nz"], d["ngf"], d["ndf"], d["batch_size"]) == (64, 3, 100, 64, 64, 64)
    assert (d["optimizer"], d["lr_g"], d["lr_d"], d["betas_g"], d["objective"]) == \
        ("adam", 2e-4, 2e-4, [0.5, 0.999], "non-saturating")
    assert set(recipe.options) <= set(d) and all(recipe.options.values())


def test_conditional_training_and_generation_by_class(shapes16, tmp_path, tiny):
    run = ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=2,
                         overrides={**tiny, "conditional": True})
    assert run.discriminator.project is not None
    pipe = ganforge.load(tmp_path / "run")
    result = pipe.generate(4, seed=0, classes=["star"])
    assert result.samples.shape == (4, 3, 16, 16)
    assert [r["class"] for r in result.records] == ["star"] * 4
    other = pipe.generate(4, seed=0, classes=["circle"]).samples
    assert not torch.equal(result.samples, other)
    with pytest.raises(ganforge.GanforgeError, match="unknown class"):
        pipe.generate(2, classes=["hexagon"])


def test_generation_is_deterministic_and_saves_pngs(shapes16, tmp_path, tiny):
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=2, overrides=tiny)
    pipe = ganforge.load(tmp_path / "run")
    a = pipe.generate(5, seed=7)
    assert torch.equal(a.samples, ganforge.load(tmp_path / "run").generate(5, seed=7).samples)
    assert not torch.equal(a.samples, pipe.generate(5, seed=8).samples)
    assert a.samples.min() >= -1 and a.samples.max() <= 1
    paths = a.save(tmp_path / "out")
    pngs = [p for p in paths if p.name.startswith("sample_0")]
    assert len(pngs) == 5
    with Image.open(pngs[0]) as img:
        assert img.size == (16, 16) and img.mode == "RGB"
    assert (tmp_path / "out" / "sample_grid.png").is_file()


def test_grayscale_32px_run(shapes16, tmp_path, tiny):
    run = ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=1,
                         overrides={**tiny, "channels": 1, "image_size": 32})
    assert run.data.fields["x"].shape[1:] == (1, 32, 32)
    assert ganforge.load(tmp_path / "run").generate(2).samples.shape == (2, 1, 32, 32)


def test_evaluate_in_the_trained_feature_space(shapes16, tmp_path, tiny, monkeypatch):
    import ganforge.metrics
    from ganforge_image import features

    monkeypatch.setattr(features, "CNN_STEPS", 4)
    monkeypatch.setattr(features, "inception_weights_path", lambda: tmp_path / "absent.pth")
    features._cache.clear()
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=1, overrides=tiny)
    out = ganforge.metrics.evaluate(tmp_path / "run", shapes16, n=16)
    features._cache.clear()
    assert out["feature_space"].startswith("trained-on-data cnn (32x32, seed 0, labels")
    assert math.isfinite(out["fd"]) and out["fd"] > 0 and "kid" in out and "precision" in out


@pytest.mark.parametrize("overrides, match", [
    ({"ngff": 8}, "unknown option 'ngff'"),
    ({"image_size": 48}, "image_size"),
    ({"channels": 2}, "channels"),
    ({"d_norm": "instance"}, "d_norm"),
])
def test_bad_options_are_ganforge_errors(overrides, match, shapes16, tmp_path, tiny):
    with pytest.raises(ganforge.GanforgeError, match=match):
        ganforge.train("dcgan", data=shapes16, out=tmp_path / "run", steps=1, overrides={**tiny, **overrides})


def test_conditional_needs_class_folders(tmp_path, tiny):
    for i in range(4):
        Image.new("RGB", (16, 16), (i * 50, 0, 0)).save(tmp_path / f"{i}.png")
    with pytest.raises(ganforge.GanforgeError, match="sub-folder"):
        ganforge.train("dcgan", data=tmp_path, out=tmp_path / "run", steps=1,
                       overrides={**tiny, "batch_size": 4, "conditional": True})


def test_plugin_and_recipes_modules_do_not_import_torch():
    code = ("import sys, ganforge_image.plugin, ganforge_image.recipes; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_training_on_shapes_moves_towards_the_data(tmp_path):
    """1000 steps at 16x16: the Frechet distance in the data's own feature space falls by half.

    (Measured: 56.6 after 1 step, 8.4 after 1000; about 15 s of training on 2 CPU cores.)"""
    from ganforge.metrics import frechet_distance
    from ganforge_image.datasets import make_shapes
    from ganforge_image.modality import ImageModality

    data = make_shapes(tmp_path / "shapes", n=1024, size=16)
    common = {"image_size": 16, "ngf": 32, "ndf": 32, "batch_size": 64, "progress": False,
              "sample_every": 0, "checkpoint_every": 0, "ema_beta": 0.0}
    ganforge.train("dcgan", data=data, out=tmp_path / "r0", steps=1, overrides=common)
    ganforge.train("dcgan", data=data, out=tmp_path / "r1", steps=1000, overrides=common)
    m = ImageModality({"image_size": 16, "channels": 3})
    real = m.load(data)
    _, extract = m.feature_space(real, "trained")
    real_f = extract(real.batch(torch.arange(1024))["x"]).double()
    fd = [frechet_distance(real_f, extract(ganforge.load(tmp_path / r).generate(1024, seed=1).samples).double())
          for r in ("r0", "r1")]
    assert fd[1] < 0.5 * fd[0], fd
