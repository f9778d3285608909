"""R3GAN: networks at every size, the recipe's schedules, a few training steps with ADA, resume."""

import json

import pytest
import torch

import ganforge
from ganforge_image.r3gan import Discriminator, Generator, R3GANConfig, ResidualBlock, downsample, upsample

TINY = {"image_size": 16, "nz": 8, "width": 8, "blocks": 1, "group_width": 4, "batch_size": 8, "progress": False,
        "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "log_every": 1, "device": "cpu",
        "schedule_steps": 4, "gamma_decay_steps": 4, "steps": 6}


@pytest.mark.parametrize("size", [8, 16, 32, 64, 128, 256])
def test_shapes_at_every_size(size):
    torch.manual_seed(0)
    cfg = R3GANConfig(image_size=size, channels=3, nz=8, width=4, blocks=1, group_width=4,
                      conditional=True, cond_dim=5)
    G, D = Generator(cfg), Discriminator(cfg)
    cond = torch.randn(2, 5)
    x = G(torch.randn(2, 8), cond)
    assert x.shape == (2, 3, size, size) and D(x, cond).shape == (2,)


def test_blocks_start_as_identity_and_have_no_normalisation():
    block = ResidualBlock(8, 2, 4, 1.0)
    x = torch.randn(2, 8, 4, 4)
    assert torch.equal(block(x), x)  # the last conv is zero-initialised
    G, D = Generator(R3GANConfig(image_size=16, width=8)), Discriminator(R3GANConfig(image_size=16, width=8))
    norms = (torch.nn.BatchNorm2d, torch.nn.LayerNorm, torch.nn.GroupNorm, torch.nn.InstanceNorm2d)
    assert not any(isinstance(m, norms) for net in (G, D) for m in net.modules())
    assert block.conv2.groups == 4  # grouped 3x3: 16 channels in groups of 4


def test_resampling_keeps_constants_and_the_sampled_pixels():
    ones = torch.ones(1, 2, 8, 8)
    assert torch.allclose(upsample(ones), torch.ones(1, 2, 16, 16)) and torch.allclose(downsample(ones), ones[..., :4, :4])
    x = torch.randn(1, 1, 4, 4)
    assert torch.allclose(upsample(x)[..., ::2, ::2], x)


def test_bad_sizes_are_one_line_errors():
    for size in (4, 48):
        with pytest.raises(ganforge.GanforgeError, match="power of two"):
            Generator(R3GANConfig(image_size=size))


def test_recipe_schedules_follow_the_paper():
    from ganforge.plugins import get_plugin_manager

    recipe = get_plugin_manager().registry.get("recipe", "r3gan")
    d = recipe.all_defaults()
    assert (d["objective"], d["betas_g"], d["lr_g"], d["r1_gamma"], d["r2_gamma"]) == ("rpgan", [0.0, 0.9], 2e-4, 0.05, 0.05)
    assert (d["schedule"], d["lr_end_ratio"], d["beta2_end"]) == ("cosine", 0.25, 0.99)  # 2e-4 -> 5e-5, 0.9 -> 0.99
    assert d["schedule_steps"] == d["gamma_decay_steps"]  # gamma decays with lr and beta2
    assert set(recipe.options) <= set(d) and all(recipe.options.values())


def test_few_steps_with_ada_and_exact_resume(shapes16, tmp_path):
    cfg = {**TINY, "augment": "ada", "ada_kimg": 0.05, "ada_p": 0.5, "ada_interval": 3}
    whole = ganforge.train("r3gan", data=shapes16, out=tmp_path / "a", overrides=cfg)
    assert whole.step == 6 and type(whole.objective).__name__ == "RpGAN"
    log = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").read_text().splitlines()]
    assert all("r1" in r and "r2" in r for r in log)  # d_reg_interval 1: both penalties every update
    assert whole.opt_d.param_groups[0]["lr"] == pytest.approx(5e-5)  # the cosine ended at step 4 and holds
    assert whole.opt_g.param_groups[0]["betas"] == pytest.approx((0.0, 0.99))
    assert log[0]["gamma"] == pytest.approx(0.05) and log[-1]["gamma"] == pytest.approx(0.005)
    assert int(whole.augment.updates) == 6 and float(whole.augment.rt) != 0  # p was adjusted twice
    ganforge.train("r3gan", data=shapes16, out=tmp_path / "b", overrides={**cfg, "steps": 3})  # stopped mid-cosine
    resumed = ganforge.train("r3gan", data=shapes16, out=tmp_path / "b", overrides={**cfg, "steps": 6}, resume=True)
    assert resumed.step == 6
    for name in ("p", "rt", "stats", "updates"):
        assert torch.equal(getattr(whole.augment, name), getattr(resumed.augment, name)), name
    for a, b in zip(whole.generator_ema.state_dict().values(), resumed.generator_ema.state_dict().values()):
        assert torch.equal(a, b)
    image = ganforge.load(tmp_path / "b", device="cpu").generate(n=1, seed=0).images[0]
    assert image.size == (16, 16)


def test_p_rises_on_8_images_that_d_overfits(tmp_path):
    from ganforge_image.datasets import make_shapes

    data = make_shapes(tmp_path / "eight", n=8, size=16, seed=0)
    cfg = {**TINY, "augment": "ada", "ada_kimg": 1.0, "schedule": "constant", "steps": 16, "r1_gamma": 0.0,
           "r2_gamma": 0.0, "lr_d": 5e-5, "betas_d": [0.0, 0.99]}
    run = ganforge.train("r3gan", data=data, out=tmp_path / "run", overrides=cfg)
    assert float(run.augment.p) >= 2 * 8 * 4 / 1000  # at least two rises of batch * interval / 1k images
