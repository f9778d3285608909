"""PGGAN: networks at every size and resolution, fade-in alpha 0 -> 1, the schedule, exact resume mid-fade."""

import json

import pytest
import torch

import ganforge
from ganforge_image.pggan import Discriminator, Generator, PGGANConfig, _fade, minibatch_stddev, pixel_norm

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]


def progress(resolution, fade, step=0, length=10):
    return ganforge.Progress("p", 0, step, length, step, 100, 0, {"resolution": resolution, "fade": fade})


@pytest.mark.parametrize("size", SIZES)
def test_shapes_at_every_size_and_resolution(size):
    torch.manual_seed(0)
    cfg = PGGANConfig(image_size=size, channels=3, nz=8, width=2, width_max=8)
    G, D = Generator(cfg), Discriminator(cfg)
    cases = {(4, False), (size, False)} if size > 256 else {(4, False), (size // 2, True), (size, True), (size, False)}
    for r, fade in sorted(cases):
        if True:
            for net in (G, D):
                net.set_progress(progress(r, fade, step=5))
            with torch.no_grad():
                x = G(torch.randn(2, 8))
                assert x.shape == (2, 3, size, size)
                # the generator's image is r x r, shown at full size (nearest upsampling)
                small = x[:, :, :: size // r, :: size // r]
                assert torch.equal(torch.nn.functional.interpolate(small, scale_factor=size // r), x)
                assert D(x).shape == (2,)


def test_alpha_follows_the_fade_phase_and_is_one_when_stable():
    cfg = PGGANConfig(image_size=16, nz=8, width=4, width_max=8)
    G = Generator(cfg)
    seen = []
    for step in range(4):
        G.set_progress(progress(8, True, step=step, length=4))
        seen.append(float(G.alpha))
    assert seen == [0.0, 0.25, 0.5, 0.75] and int(G.level) == 3
    G.set_progress(progress(8, False))
    assert float(G.alpha) == 1.0
    G.set_progress(progress(0, False))  # 0: the image size
    assert int(G.level) == 4
    with pytest.raises(ganforge.GanforgeError, match="image_size 16"):
        G.set_progress(progress(32, False))


def test_fade_blends_the_old_and_the_new_resolution():
    torch.manual_seed(0)
    cfg = PGGANConfig(image_size=16, nz=8, width=4, width_max=8)
    G, D = Generator(cfg), Discriminator(cfg)
    z, x = torch.randn(3, 8), torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        G.set_progress(progress(8, False))
        D.set_progress(progress(8, False))
        old_g, old_d = G(z), D(x)
        G.set_progress(progress(16, True, step=0))
        D.set_progress(progress(16, True, step=0))
        assert torch.allclose(G(z), old_g, atol=1e-5)  # alpha 0: exactly the previous resolution
        assert torch.allclose(D(x), old_d, atol=1e-5)
        G.set_progress(progress(16, True, step=5))
        assert not torch.allclose(G(z), old_g, atol=1e-3)


def test_forward_reads_buffers_changed_in_place_and_loaded():
    # the host copy of level/alpha (no GPU stall per forward) must follow every change
    torch.manual_seed(0)
    cfg = PGGANConfig(image_size=16, nz=8, width=4, width_max=8)
    G = Generator(cfg)
    z = torch.randn(2, 8)
    with torch.no_grad():
        G.set_progress(progress(16, True, step=0))
        at_zero = G(z)
        G.alpha.fill_(1.0)  # a user's (or the EMA's buffer copy's) in-place change
        at_one = G(z)
        assert not torch.allclose(at_zero, at_one, atol=1e-4)
        G.load_state_dict({**G.state_dict(), "alpha": torch.tensor(0.0)})
        assert torch.allclose(G(z), at_zero)
        G.set_progress(progress(8, False))
        other = Generator(cfg)
        other.load_state_dict(G.state_dict())  # level 3 arrives by loading only
        assert torch.allclose(other(z), G(z))


def test_building_blocks():
    x = torch.randn(8, 5, 4, 4) * 3
    assert torch.allclose(pixel_norm(x).square().mean(1), torch.ones(8, 4, 4), atol=1e-4)
    y = minibatch_stddev(x)
    assert y.shape == (8, 6, 4, 4)
    group = x.reshape(4, 2, 5, 4, 4)
    expected = group.std(0, unbiased=False).mean((1, 2, 3))
    assert torch.allclose(y[:2, 5, 0, 0], expected, atol=1e-4) and torch.allclose(y[2:4, 5, 0, 0], expected, atol=1e-4)
    assert minibatch_stddev(torch.randn(3, 2, 4, 4)).shape == (3, 3, 4, 4)  # batch not a multiple of 4


def test_bad_sizes_are_one_line_errors():
    for size in (4, 48, 2048):
        with pytest.raises(ganforge.GanforgeError, match="power of two"):
            Generator(PGGANConfig(image_size=size))


TINY = {"image_size": 16, "nz": 8, "width": 4, "width_max": 8, "batch_size": 8, "progress": False,
        "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "log_every": 1, "device": "cpu",
        "steps_4": 2, "fade_8": 4, "steps_8": 2, "fade_16": 4, "steps": 2}


def test_schedule_grows_to_the_image_size_and_skips_the_rest(shapes16, tmp_path):
    run = ganforge.train("pggan", data=shapes16, out=tmp_path / "run", overrides=TINY)
    assert run.step == 14 and run.config["fade_32"] == 0 and run.config["steps_16"] == 0  # the preset
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in log] == ["4x4"] * 2 + ["8x8-fade"] * 4 + ["8x8"] * 2 + ["16x16-fade"] * 4 + ["train"] * 2
    assert int(run.generator.level) == int(run.generator_ema.level) == 4 and float(run.generator.alpha) == 1.0
    assert all(r["d_loss"] == r["d_loss"] for r in log)  # finite
    image = ganforge.load(tmp_path / "run", device="cpu").generate(n=2, seed=0).images[0]
    assert image.size == (16, 16)


def test_fades_train_under_bf16_autocast(shapes16, tmp_path):
    """amp=bf16 (seen failing on an H100): the upsampled branch of a fade is float32 under
    autocast, the convolved one bf16; the fade blends them in the wider dtype."""
    cfg = {**TINY, "steps_4": 1, "fade_8": 2, "steps_8": 0, "fade_16": 2, "steps": 1, "amp": "bf16"}
    ganforge.train("pggan", data=shapes16, out=tmp_path / "run", overrides=cfg)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in log] == ["4x4", "8x8-fade", "8x8-fade", "16x16-fade", "16x16-fade", "train"]
    assert all(r["d_loss"] == r["d_loss"] and r["g_loss"] == r["g_loss"] for r in log)  # finite
    # CUDA's autocast keeps the nearest upsampling in float32 (the CPU's does not): the mix itself
    old, new = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4).bfloat16()
    blended = _fade(old, new, 0.25)
    assert blended.dtype == torch.float32 and torch.allclose(blended, old + 0.25 * (new.float() - old))

def test_resume_in_the_middle_of_a_fade_is_exact(shapes16, tmp_path):
    cfg = {**TINY, "steps_4": 1, "fade_8": 4, "steps_8": 0, "fade_16": 0, "steps": 1, "image_size": 16}
    whole = ganforge.train("pggan", data=shapes16, out=tmp_path / "a", overrides=cfg)
    # stop after 3 steps: 4x4 done, two of the four 8x8 fade-in steps taken (alpha 0.5 next)
    run = ganforge.Run("pggan", shapes16, tmp_path / "b", overrides=cfg)

    def stop(r, step, logs):
        if step == 3:
            r.request_stop()

    class Stopper:
        @ganforge.hookimpl
        def ganforge_on_step_end(self, run, step, logs):
            stop(run, step, logs)

    ganforge.add_plugin(Stopper(), name="stopper")
    try:
        run.fit()
    finally:
        ganforge.remove_plugin("stopper")
    assert run.step == 3 and run.phases[run.phase_index].name == "8x8-fade" and float(run.generator.alpha) == 0.25
    resumed = ganforge.train("pggan", data=shapes16, out=tmp_path / "b", overrides=cfg, resume=True)
    assert resumed.step == whole.step
    for a, b in zip(whole.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(whole.discriminator.parameters(), resumed.discriminator.parameters()):
        assert torch.equal(a, b)
