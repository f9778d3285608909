"""ganforge export (a generation-only copy of a run) and models that plugins ship by name."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge import GanforgeError, hookimpl
from ganforge.cli import main

IMAGE = {"image_size": 16, "ngf": 8, "ndf": 8, "nz": 8, "batch_size": 8, "steps": 2, "progress": False,
         "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "device": "cpu", "conditional": True}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from ganforge_image.datasets import make_shapes  # test data only

    root = tmp_path_factory.mktemp("export")
    data = make_shapes(root / "shapes", n=32, size=16, seed=0)
    ganforge.train("dcgan", data=data, out=root / "run", overrides=IMAGE)
    return root / "run"


def test_export_keeps_only_what_generation_needs_and_generates_the_same(run, tmp_path):
    from ganforge.export import export_run

    out = export_run(run, tmp_path / "small")
    files = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert files == ["encoder.safetensors", "ganforge.json", "generator_ema.safetensors"]
    a = ganforge.load(run).generate(4, seed=3, classes=["star"] * 4).samples
    b = ganforge.load(out).generate(4, seed=3, classes=["star"] * 4).samples
    assert torch.equal(a, b)
    with pytest.raises(GanforgeError, match="an export .* no discriminator"):
        ganforge.load(out).discriminator()


def test_half_export_halves_the_weights_and_still_generates(run, tmp_path):
    from ganforge.export import export_run

    full, half = export_run(run, tmp_path / "full"), export_run(run, tmp_path / "half", half=True)
    weights = lambda d: next(d.rglob("generator_ema.safetensors"))  # noqa: E731
    assert all(t.dtype == torch.float16 for t in load_file(str(weights(half))).values() if t.is_floating_point())
    assert weights(half).stat().st_size < 0.6 * weights(full).stat().st_size
    a = ganforge.load(full).generate(4, seed=3, classes=["star"] * 4).samples
    b = ganforge.load(half).generate(4, seed=3, classes=["star"] * 4).samples
    assert (a - b).abs().max() < 0.05


def test_export_refuses_a_folder_in_use_and_resume_of_an_export(run, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("mine")
    assert main(["export", str(run), "--out", str(tmp_path / "taken")]) != 0
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "taken" / "x").read_text() == "mine"
    assert main(["export", str(run), "--out", str(tmp_path / "e")]) == 0
    assert "generation only" in capsys.readouterr().out


def test_a_model_a_plugin_ships_is_found_by_name(run, tmp_path, capsys, monkeypatch):
    from ganforge.export import export_run

    shipped = export_run(run, tmp_path / "pkg" / "tiny-shapes", half=True)

    class Shipper:
        @hookimpl
        def ganforge_register_models(self, register):
            register("tiny-shapes", shipped, summary="a tiny class-conditional shapes model")

    ganforge.add_plugin(Shipper(), name="shipper")
    monkeypatch.chdir(tmp_path)  # no folder called tiny-shapes here
    result = ganforge.load("tiny-shapes").generate(2, seed=0, classes=["circle", "star"])
    assert len(result.images) == 2
    assert main(["generate", "shipper:tiny-shapes", "--out", "out", "-n", "2", "--class", "square"]) == 0
    assert len(list(Path("out").glob("sample_0*.png"))) == 2
    assert main(["plugins"]) == 0
    assert "model: tiny-shapes" in capsys.readouterr().out
    with pytest.raises(GanforgeError, match="does not exist"):
        ganforge.load("no-such-model")
