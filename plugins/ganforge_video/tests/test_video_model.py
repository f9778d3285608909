"""VGAN's networks, its objective, training, generation to files, class conditioning."""

import json

import pytest
import torch
from PIL import Image

import ganforge
from ganforge_video.data import make_moving_shapes
from ganforge_video.modality import has_pyav
from ganforge_video.vgan import Discriminator, Generator, VGANConfig, plan

TINY = {"frames": 4, "frame_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "batch_size": 6, "preview_n": 3,
        "device": "cpu", "progress": False, "sample_every": 0, "checkpoint_every": 0, "log_every": 1}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_moving_shapes(tmp_path_factory.mktemp("video") / "shapes", n=12, frames=4, size=16)


@pytest.fixture(scope="module")
def trained(shapes, tmp_path_factory):
    out = tmp_path_factory.mktemp("video") / "run"
    return ganforge.train("vgan", data=shapes, out=out, overrides={**TINY, "steps": 3, "conditional": True})


def test_video_plan_matches_the_paper_and_the_small_default():
    # the paper: 512x2x4x4 -> 256x4x8x8 -> 128x8x16x16 -> 64x16x32x32 -> video 32x64x64
    assert plan(VGANConfig(frames=32, frame_size=64, ngf=64)) == (2, [512, 256, 128, 64], [True] * 4)
    assert plan(VGANConfig(frames=16, frame_size=32, ngf=32)) == (2, [128, 64, 32], [True] * 3)
    assert plan(VGANConfig(frames=2, frame_size=32, ngf=8)) == (1, [32, 16, 8], [True, False, False])
    with pytest.raises(ganforge.GanforgeError, match="frame_size"):
        plan(VGANConfig(frame_size=48))


@pytest.mark.parametrize("frames, size, up", [(4, 16, "resize"), (2, 32, "transposed"), (8, 16, "transposed"),
                                               (2, 32, "resize")])
def test_video_networks_map_videos_to_logits(frames, size, up):
    cfg = VGANConfig(frames=frames, frame_size=size, ngf=4, ndf=4, nz=8, g_up=up)
    g, d = Generator(cfg), Discriminator(cfg)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, 3, frames, size, size) and x.abs().max() <= 1
    assert d(x).shape == (3,)


def test_video_mask_composes_foreground_over_a_still_background():
    torch.manual_seed(0)
    g = Generator(VGANConfig(frames=4, frame_size=16, ngf=4, nz=8)).eval()
    s = g.streams(torch.randn(2, 8))
    m, f, b = s["mask"], s["foreground"], s["background"]
    assert m.shape == (2, 1, 4, 16, 16) and 0 < m.min() and m.max() < 1
    assert b.shape == (2, 3, 16, 16)
    assert torch.allclose(s["video"], m * f + (1 - m) * b[:, :, None])
    # a blank foreground stream (f = tanh 0 = 0, m = sigmoid 0 = 1/2) leaves half the still
    # background in every frame
    with torch.no_grad():
        for p in g.to_foreground.parameters():
            p.zero_()
    s = g.streams(torch.randn(2, 8))
    assert torch.allclose(s["video"], 0.5 * s["background"][:, :, None].expand_as(s["video"]))


def test_video_objective_adds_the_mask_sparsity(shapes, tmp_path):
    def final_losses(weight):
        run = ganforge.train("vgan", data=shapes, out=tmp_path / str(weight),
                             overrides={**TINY, "steps": 1, "mask_l1": weight})
        return json.loads((run.out / "log.jsonl").read_text().splitlines()[-1])

    plain, sparse = final_losses(0.0), final_losses(10.0)
    assert "mask_mean" not in plain and 0 < sparse["mask_mean"] < 1
    # same seed, same first step: the difference is exactly the sparsity term
    assert sparse["g_loss"] - plain["g_loss"] == pytest.approx(10.0 * sparse["mask_mean"], rel=1e-3)


def test_video_short_training_changes_the_losses(shapes, tmp_path):
    run = ganforge.train("vgan", data=shapes, out=tmp_path / "run", overrides={**TINY, "steps": 12})
    log = [json.loads(line) for line in (run.out / "log.jsonl").read_text().splitlines()]
    assert len(log) == 12
    d = [r["d_loss"] for r in log]
    assert all(v == v for v in d)  # finite
    # D learns to tell the still-random videos from moving shapes
    assert sum(d[-3:]) / 3 < sum(d[:3]) / 3
    assert {p.suffix for p in (run.out / "samples").iterdir()} == {".png", ".gif"}


def test_video_class_conditioning_shapes(trained):
    assert trained.config["n_classes"] == 3 and trained.config["cond_dim"] == 64
    pipe = ganforge.load(trained.out, device="cpu")
    result = pipe.generate(n=4, seed=0, classes=["triangle", "circle"])
    assert result.samples.shape == (4, 3, 4, 16, 16)
    assert [r["class"] for r in result.records] == ["triangle", "circle", "triangle", "circle"]
    with pytest.raises(ganforge.GanforgeError, match="unknown class 'hexagon'"):
        pipe.generate(n=1, classes=["hexagon"])
    # the condition changes the video for the same latent
    a = pipe.generate(seeds=[5], classes=["square"]).samples
    b = pipe.generate(seeds=[5], classes=["circle"]).samples
    assert a.shape == b.shape and not torch.equal(a, b)


def test_video_generation_writes_gif_webp_and_strips_pillow_reopens(trained, tmp_path):
    pipe = ganforge.load(trained.out, device="cpu")
    paths = pipe.generate_to(tmp_path / "out", n=3, seed=1, fps=10, scale=2)
    out = tmp_path / "out"
    names = sorted(p.name for p in out.iterdir())
    assert "sample_00000.gif" in names and "sample_00002.webp" in names and "sample_00001.png" in names
    assert {"sample_grid.png", "sample_grid.gif", "metadata.jsonl"} <= set(names)
    assert [p.name for p in paths[:3]] == ["sample_00000.gif", "sample_00001.gif", "sample_00002.gif"]
    clips = pipe.generate(n=3, seed=1, scale=2).objects
    for i in range(3):
        for ext in ("gif", "webp"):
            with Image.open(out / f"sample_{i:05d}.{ext}") as img:
                durations = []
                for t in range(img.n_frames):
                    img.seek(t)
                    img.load()
                    durations.append(img.info["duration"])
                assert img.size == (32, 32)
                # identical frames may be merged into one shown longer: the clip still lasts 4 frames
                assert sum(durations) == 4 * 100, (ext, durations)
        with Image.open(out / f"sample_{i:05d}.webp") as img:  # lossless: the very pixels
            img.seek(0)
            assert img.convert("RGB").tobytes() == clips[i][0].tobytes()
        with Image.open(out / f"sample_{i:05d}.png") as img:
            assert img.size == (4 * 32 + 3, 32)
            assert json.loads(img.text["ganforge"])["seed"] == json.loads(
                (out / "metadata.jsonl").read_text().splitlines()[i])["seed"]
    with pytest.raises(ganforge.GanforgeError, match="formats"):
        pipe.generate_to(tmp_path / "bad", n=1, formats="avi")


def test_video_generation_cli(trained, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "ganforge", "generate", str(trained.out), "-n", "2",
                           "--out", str(tmp_path / "cli"), "--set", "formats=gif,png", "--class", "square",
                           "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "cli").glob("sample_0*")) == [
        "sample_00000.gif", "sample_00000.png", "sample_00001.gif", "sample_00001.png"]
    assert "wrote 2 GIF samples" in done.stdout


@pytest.mark.skipif(not has_pyav(), reason="PyAV is not installed")
def test_video_mp4_written_when_pyav_is_installed(trained, tmp_path):
    import av

    pipe = ganforge.load(trained.out, device="cpu")
    pipe.generate_to(tmp_path, n=1, formats="mp4")
    with av.open(str(tmp_path / "sample_00000.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 4


def test_video_conditional_batch_norm_takes_the_class_in_every_layer():
    from ganforge_video.vgan import CondBatchNorm

    cfg = VGANConfig(frames=4, frame_size=16, ngf=4, nz=8, conditional=True, cond_dim=5, g_cond="cbn")
    g = Generator(cfg)
    cbns = [m for m in g.modules() if isinstance(m, CondBatchNorm)]
    assert len(cbns) == 4  # two in each stream at 16x16
    # the class is not concatenated to z: the first layers read z alone
    assert g.foreground[0].in_channels == 8 and g.background[0].in_channels == 8
    torch.manual_seed(0)
    z, a, b = torch.randn(4, 8), torch.eye(5)[[0] * 4], torch.eye(5)[[1] * 4]
    # the per-class scale and shift start at zero: the class does not matter yet ...
    assert torch.allclose(g(z, a), g(z, b))
    with torch.no_grad():
        for m in cbns:
            m.gain.weight.normal_()
    # ... and once learned, it changes both the moving shape and the scene
    s_a, s_b = g.streams(z, a), g.streams(z, b)
    assert not torch.allclose(s_a["foreground"], s_b["foreground"])
    assert not torch.allclose(s_a["background"], s_b["background"])
    with pytest.raises(ganforge.GanforgeError, match="g_cond"):
        Generator(VGANConfig(g_cond="film"))


def test_video_frame_discriminator_judges_frames_whatever_their_order():
    torch.manual_seed(0)
    cfg = VGANConfig(frames=4, frame_size=16, ndf=4, d_norm="layer", d_frames=True, conditional=True, cond_dim=5)
    d = Discriminator(cfg).eval()
    x, cond = torch.rand(3, 3, 4, 16, 16) * 2 - 1, torch.eye(5)[[0, 1, 2]]
    shuffled = x[:, :, [2, 0, 3, 1]]
    assert d(x, cond).shape == (3,)
    # the frame discriminator scores frames one by one: their order does not change its mean ...
    assert torch.allclose(d.frame_d(x, cond), d.frame_d(shuffled, cond), atol=1e-6)
    # ... while the 3-D discriminator (so the sum) sees the order
    assert not torch.allclose(d(x, cond), d(shuffled, cond))
    assert Discriminator(VGANConfig(frames=4, frame_size=16, ndf=4)).frame_d is None


@pytest.mark.parametrize("loss, at_start", [("hinge", 2.0), ("non-saturating", 2 * 0.6931)])
def test_video_objective_loss_choice(shapes, tmp_path, loss, at_start):
    # D's logits start near 0: hinge gives relu(1 - 0) + relu(1 + 0), the GAN loss 2 log 2
    run = ganforge.train("vgan", data=shapes, out=tmp_path / loss,
                         overrides={**TINY, "steps": 1, "loss": loss, "mask_l1": 0.0})
    first = json.loads((run.out / "log.jsonl").read_text().splitlines()[0])
    assert first["d_loss"] == pytest.approx(at_start, abs=0.25)  # 2 and 1.39 are far apart
    with pytest.raises(ganforge.GanforgeError, match="'loss'"):
        ganforge.train("vgan", data=shapes, out=tmp_path / "bad", overrides={**TINY, "steps": 1, "loss": "wasserstein"})


def test_video_paper_preset_undoes_every_small_preset_change():
    from ganforge_video.recipes import VGAN

    paper = VGAN.presets["preset=paper"]
    # Vondrick et al.: 32 frames of 64x64, transposed convolutions, batch norm in D, z alone into G, one 3-D D
    assert paper == {**paper, "frames": 32, "frame_size": 64, "ngf": 64, "ndf": 64, "batch_size": 64,
                     "g_up": "transposed", "d_norm": "batch", "g_cond": "concat", "d_frames": False}
    # each of them is a place where the small preset departs from the paper
    assert all(VGAN.defaults[k] != v for k, v in paper.items())
    # ... and the loss and R1 are the paper's in both
    assert VGAN.defaults["loss"] == "non-saturating" and VGAN.defaults.get("r1_gamma", 0.0) == 0.0
