"""The demo draws shapes a person recognises (issue 10): the bold shapes, the dcgan
recipe's small-data preset (conditional batch norm, layer-norm critic, mode seeking;
minibatch std and spectral norm options), the per-class preview grid, and (slow) the judged quality."""

import json

import pytest
import torch
from PIL import Image

import ganforge
from ganforge_image.datasets import SHAPES, make_shapes
from ganforge_image.dcgan import CondBatchNorm, DCGANConfig, Discriminator, Generator
from ganforge_image.modality import ImageModality


# ------------------------------------------------------------------ bold shapes

def test_bold_shapes_use_the_small_palette_and_say_so(tmp_path):
    from ganforge_image.datasets import BOLD_PALETTE

    out = make_shapes(tmp_path / "b", n=40, size=16, seed=0, style="bold")
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    colours, backgrounds = BOLD_PALETTE
    assert {r["colour"] for r in rows} <= set(colours)
    assert {r["background"] for r in rows} <= set(backgrounds)
    assert json.loads((out / "shapes.json").read_text())["style"] == "bold"
    # A flat background: the corner pixel is exactly black or white.
    for r in rows[:8]:
        corner = Image.open(out / r["file_name"]).getpixel((0, 0))
        assert corner in ((25, 25, 25), (245, 245, 245))


def test_default_style_keeps_its_marker_and_bold_differs(tmp_path):
    varied = make_shapes(tmp_path / "v", n=8, size=16, seed=0)
    assert json.loads((varied / "shapes.json").read_text()) == {"dataset": "shapes", "n": 8, "size": 16, "seed": 0}
    bold = make_shapes(tmp_path / "b", n=8, size=16, seed=0, style="bold")
    assert (varied / "metadata.jsonl").read_text() != (bold / "metadata.jsonl").read_text()
    with pytest.raises(ganforge.GanforgeError, match="not empty"):
        make_shapes(tmp_path / "v", n=8, size=16, seed=0, style="bold")  # other options, same folder


def test_unknown_style_is_a_one_line_error(tmp_path):
    with pytest.raises(ganforge.GanforgeError, match="'style'.*varied, bold"):
        make_shapes(tmp_path / "x", n=4, size=16, style="fancy")


# ------------------------------------------------------------------ architecture options

def _cfg(**kw):
    base = dict(image_size=16, ngf=8, ndf=8, nz=16, conditional=True, cond_dim=8)
    return DCGANConfig(**{**base, **kw})


def test_default_generator_keeps_its_layout():
    # Saved runs of the paper's DCGAN keep loading: same parameter names and shapes.
    keys = set(Generator(_cfg()).state_dict())
    assert "main.0.weight" in keys and not any("gain" in k for k in keys)
    assert Generator(_cfg()).main[0].in_channels == 16 + 8  # z and the condition, concatenated


def test_conditional_batch_norm_carries_the_class():
    torch.manual_seed(0)
    G = Generator(_cfg(g_cond="cbn"))
    assert G.main[0].in_channels == 16  # the class goes to the norms, not to z
    norms = [m for m in G.modules() if isinstance(m, CondBatchNorm)]
    assert len(norms) == 2
    z = torch.randn(8, 16)
    a, b = torch.randn(1, 8).expand(8, -1), torch.randn(1, 8).expand(8, -1)
    # At the start the per-class scale and shift are zero: plain batch norm.
    assert torch.allclose(G(z, a), G(z, b))
    for m in norms:
        torch.nn.init.normal_(m.gain.weight, 0, 0.5)
    assert not torch.allclose(G(z, a), G(z, b), atol=1e-3)
    with pytest.raises(ganforge.GanforgeError, match="conditional"):
        G(z)


def test_spectral_norm_and_minibatch_std_discriminator():
    D = Discriminator(_cfg(d_norm="spectral", d_mbstd=4))
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in convs)
    assert D.out.in_channels == 8 * 2 + 1  # the 4x4 features and the std channel
    x, c = torch.randn(6, 3, 16, 16), torch.randn(6, 8)  # 6 is not a multiple of the group
    assert D(x, c).shape == (6,)
    # The std channel sees the batch: a batch of one image repeated has std 0.
    from ganforge_image.dcgan import _with_mbstd

    h = torch.randn(1, 5, 4, 4).expand(4, -1, -1, -1)
    assert torch.all(_with_mbstd(h, 4)[:, -1] < 1e-3)


@pytest.mark.parametrize("option, value", [("g_cond", "film"), ("d_norm", "instance")])
def test_bad_architecture_option(option, value):
    with pytest.raises(ganforge.GanforgeError, match=option):
        Generator(_cfg(**{option: value}))


def test_small_data_preset_and_paper_default():
    from ganforge.config import resolve
    from ganforge_image.recipes import DCGAN

    paper = resolve("dcgan", DCGAN, {})
    assert (paper["preset"], paper["g_cond"], paper["d_norm"], paper["objective"], paper["mode_seeking"]) == \
        ("paper", "concat", "batch", "non-saturating", 0.0)
    small = resolve("dcgan", DCGAN, {"preset": "small-data"})
    assert (small["g_cond"], small["d_norm"], small["mode_seeking"]) == ("cbn", "layer", 0.3)
    mine = resolve("dcgan", DCGAN, {"preset": "small-data", "d_norm": "spectral"})
    assert mine["d_norm"] == "spectral"  # what the user sets wins over the preset


def test_small_data_preset_trains_saves_and_loads(shapes16, tiny, tmp_path):
    run = tmp_path / "run"
    ganforge.train("dcgan", data=shapes16, out=run,
                   overrides={**tiny, "steps": 2, "conditional": True, "preset": "small-data", "d_mbstd": 4})
    result = ganforge.load(run).generate(4, classes=["star"])
    assert len(result.images) == 4 and {r["class"] for r in result.records} == {"star"}


# ------------------------------------------------------------------ the per-class grid

def test_preview_with_labels_has_one_row_per_class(tmp_path):
    modality = ImageModality({"image_size": 16, "channels": 3})
    x = torch.rand(12, 3, 16, 16) * 2 - 1
    x[[0, 3, 6, 9]] = -1.0  # every "circle" black
    labels = ["circle", "square", "star"] * 4
    (path,) = modality.save_preview(x, tmp_path / "grid", labels=labels)
    grid = Image.open(path)
    cell = 64 + 2  # 16 px enlarged to 64, plus padding
    assert grid.height == 3 * cell + 2
    import numpy as np

    arr = np.asarray(grid.convert("L"))
    left = grid.width - 4 * cell - 2
    # Row 0 holds the four black circles, right of the name column; the other rows do not.
    for c in range(4):
        assert arr[2:2 + 64, left + c * cell:left + c * cell + 64].max() == 0
        assert arr[2 + cell:2 + cell + 64, left + c * cell:left + c * cell + 64].max() > 0
    # The name column has dark pixels (text) in each row.
    for r in range(3):
        assert arr[2 + r * cell:2 + r * cell + 64, :left - 2].min() < 128
    with pytest.raises(ValueError, match="labels"):
        modality.save_preview(x, tmp_path / "bad", labels=labels[:5])


def test_preview_without_labels_is_unchanged(tmp_path):
    modality = ImageModality({"image_size": 16, "channels": 3})
    (path,) = modality.save_preview(torch.zeros(16, 3, 16, 16), tmp_path / "grid")
    assert Image.open(path).size == (4 * 18 + 2, 4 * 18 + 2)  # torchvision's near-square grid


def test_quick_demo_writes_a_grid_with_a_row_per_class(tmp_path):
    from ganforge_image.demo import PER_CLASS, shapes_demo

    generated = shapes_demo(tmp_path / "demo", quick=True)
    records = [json.loads(line) for line in (generated / "metadata.jsonl").read_text().splitlines()]
    assert len(records) == PER_CLASS * len(SHAPES)
    assert [r["class"] for r in records[:4]] == sorted(SHAPES)
    grid = Image.open(generated / "sample_grid.png")
    assert grid.height == len(SHAPES) * (64 + 2) + 2
    made = json.loads((tmp_path / "demo" / "data" / "shapes" / "shapes.json").read_text())
    assert made["style"] == "bold"
    config = json.loads((tmp_path / "demo" / "run" / "ganforge.json").read_text())["config"]
    assert (config["preset"], config["g_cond"], config["d_norm"], config["mode_seeking"]) == \
        ("small-data", "cbn", "layer", 0.3)
    log = [json.loads(line) for line in (tmp_path / "demo" / "run" / "log.jsonl").read_text().splitlines()]
    assert all(r["ms"] > 0 for r in log if "g_loss" in r)  # the mode-seeking term is trained


def test_variety_reads_colour_and_background_of_bold_shapes(tmp_path, bench_script):
    """The bench's variety measure: real bold shapes spread over the palette's pairs; a
    batch of one image repeated has variety 1."""
    quality_demo = bench_script("quality_demo")
    data = make_shapes(tmp_path / "b", n=200, size=32, seed=3, style="bold")
    rows = [json.loads(line) for line in (data / "metadata.jsonl").read_text().splitlines()]
    x = quality_demo.to_tensor([Image.open(data / r["file_name"]) for r in rows])
    assert quality_demo.colour_pairs(x) == [(r["colour"], r["background"]) for r in rows]
    assert quality_demo.variety(quality_demo.colour_pairs(x)) > 8  # 10 pairs, about evenly
    assert quality_demo.variety(quality_demo.colour_pairs(x[:1].repeat(20, 1, 1, 1))) == 1.0


# ------------------------------------------------------------------ the judged quality (slow)

@pytest.mark.slow
def test_demo_draws_the_class_asked(tmp_path, bench_script):
    """The full demo, judged by a CNN trained on real shapes: mean class accuracy >= 0.9
    (about 4-5 minutes on 2 CPU cores)."""
    quality_demo = bench_script("quality_demo")
    assert quality_demo.main(["--out", str(tmp_path / "demo"), "--min-accuracy", "0.9"]) == 0
