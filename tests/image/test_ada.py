"""ADA: the pipeline (identity at p=0, differentiable, every op), p's adjustment, logging and resume."""

import json

import pytest
import torch

import ganforge
from ganforge_image.ada import ADA, ADAConfig


def make(**kw):
    return ADA(ADAConfig(**kw))


def progress(batch):
    return ganforge.Progress("train", 0, 0, 10, 0, 10, 0, {"batch_size": batch})


def test_identity_when_p_is_zero():
    aug = make()
    x = torch.randn(4, 3, 16, 16)
    assert aug(x) is x
    assert torch.equal(aug.augment(x, 0.0), x)  # the pipeline itself chooses no sample at p = 0


@pytest.mark.parametrize("pipeline", ["b", "g", "c", "bgc"])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_op_changes_images_and_is_differentiable(pipeline, channels):
    torch.manual_seed(0)
    aug = make(ada_pipeline=pipeline, channels=channels, ada_p=1.0)
    x = torch.randn(16, channels, 16, 16, requires_grad=True)
    y = aug(x)
    assert y.shape == x.shape
    changed = (y - x).reshape(16, -1).abs().amax(1) > 1e-4
    assert changed.float().mean() > 0.5  # p = 1: (nearly) every sample is transformed
    (grad,) = torch.autograd.grad((y * torch.randn_like(y)).sum(), x)
    assert grad.abs().sum() > 0 and torch.isfinite(grad).all()


def test_blit_moves_pixels_without_blurring():
    torch.manual_seed(1)
    aug = make(ada_pipeline="b", ada_p=1.0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    y = aug(x)
    # every output value is one of the input values (flips, rot90, integer shifts, reflection)
    values = set(x.flatten().tolist())
    assert all(min(abs(v - u) for u in values) < 1e-3 for v in y.flatten().tolist()[::7])


def test_colour_keeps_gray_pixels_gray_under_hue_and_saturation():
    torch.manual_seed(2)
    aug = make(ada_pipeline="c", ada_p=1.0)
    gray = torch.rand(8, 1, 4, 4).expand(8, 3, 4, 4) * 2 - 1
    y = aug(gray)
    assert torch.allclose(y[:, 0], y[:, 1], atol=1e-5) and torch.allclose(y[:, 1], y[:, 2], atol=1e-5)


def test_each_sample_is_augmented_with_probability_p():
    torch.manual_seed(3)
    aug = make(ada_pipeline="g", ada_p=0.3)
    x = torch.randn(2000, 1, 8, 8)
    changed = ((aug(x) - x).reshape(2000, -1).abs().amax(1) > 1e-6).float().mean()
    assert abs(changed - 0.3) < 0.05


def test_p_rises_when_d_is_confident_on_reals_and_falls_otherwise():
    aug = make(ada_kimg=1.0, ada_interval=4)
    aug.set_progress(progress(10))
    step = 10 * 4 / 1000
    for i in range(3):  # no change before the 4th update
        aug.observe(torch.ones(10))
        assert float(aug.p) == 0
    aug.observe(torch.ones(10))
    assert float(aug.p) == pytest.approx(step) and float(aug.rt) == 1.0
    for _ in range(8):
        aug.observe(torch.ones(10))
    assert float(aug.p) == pytest.approx(3 * step)
    for _ in range(8):  # D says "fake" to the reals: not overfitting, p falls
        aug.observe(-torch.ones(10))
    assert float(aug.p) == pytest.approx(step) and float(aug.rt) == -1.0
    for _ in range(40):
        aug.observe(-torch.ones(10))
    assert float(aug.p) == 0  # clamped to [0, 1]


def test_p_compares_mean_sign_with_the_target():
    aug = make(ada_kimg=1.0, ada_interval=1, ada_target=0.6)
    aug.set_progress(progress(10))
    aug.observe(torch.tensor([1.0] * 7 + [-1.0] * 3))  # r_t = 0.4 < 0.6: falls (stays 0)
    assert float(aug.p) == 0
    aug.observe(torch.tensor([1.0] * 9 + [-1.0]))  # r_t = 0.8 > 0.6: rises
    assert float(aug.p) == pytest.approx(0.01)


def test_fixed_p_with_target_zero():
    aug = make(ada_target=0.0, ada_p=0.25)
    for _ in range(8):
        aug.observe(torch.ones(4))
    assert float(aug.p) == 0.25


def test_bad_options_are_one_line_errors():
    for kw in ({"ada_pipeline": "bx"}, {"ada_target": 1.5}, {"ada_interval": 0}, {"ada_kimg": 0}):
        with pytest.raises(ganforge.GanforgeError):
            make(**kw)
    with pytest.raises(ganforge.GanforgeError, match="images"):
        make(ada_p=0.5)(torch.randn(4, 2))


def test_p_rises_training_dcgan_on_8_images_and_is_logged(tmp_path, tiny):
    from ganforge_image.datasets import make_shapes

    data = make_shapes(tmp_path / "eight", n=8, size=16, seed=0)
    cfg = {**tiny, "augment": "ada", "steps": 24, "d_norm": "none", "lr_d": 1e-3}
    run = ganforge.train("dcgan", data=data, out=tmp_path / "run", overrides=cfg)
    assert type(run.augment).__name__ == "ADA"
    # the default ada_kimg 500 moves p by 8 * 4 / 500k per adjustment: D overfits 8 images, so p > 0
    assert float(run.augment.p) > 0
    state = torch.load(next((tmp_path / "run" / "checkpoints").iterdir()) / "training_state.pt", weights_only=True)
    assert float(state["augment"]["p"]) == float(run.augment.p)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["ada_p"] == pytest.approx(float(run.augment.p), abs=1e-6)  # the loop logs log_values()


def test_resampling_matches_grid_sample_and_has_a_second_derivative():
    from ganforge_image.ada import bilinear_reflect

    torch.manual_seed(4)
    x = torch.randn(3, 2, 9, 7, requires_grad=True)
    theta = torch.eye(2, 3).repeat(3, 1, 1) + torch.randn(3, 2, 3) * 0.3
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    expected = torch.nn.functional.grid_sample(x, grid, "bilinear", "reflection", align_corners=False)
    assert torch.allclose(bilinear_reflect(x, grid), expected, atol=1e-5)
    # R1 through the augmentation: a gradient of a gradient w.r.t. the input
    aug = make(ada_p=1.0)
    (g,) = torch.autograd.grad((aug(x) ** 3).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.square().sum(), x)
    assert torch.isfinite(gg).all() and gg.abs().sum() > 0
