"""The toy recipes' defaults, as a user's run gets them (figures: docs/benchmarks.md)."""

import json

import pytest

import ganforge

SMALL = {"hidden": 16, "layers": 2, "d_hidden": 16, "batch_size": 32, "sample_every": 0, "checkpoint_every": 0,
         "progress": False, "device": "cpu", "log_every": 1, "d_reg_interval": 1}


def mixture(tmp_path, name):
    out = tmp_path / name
    ganforge.get_registry().get("dataset", name)(out, n=256)  # what `ganforge data NAME` runs
    return out


@pytest.mark.parametrize("recipe, dataset, penalised", [("toy-grid", "grid", True), ("toy-ring", "ring", False)])
def test_only_the_grid_trains_with_r1_by_default(tmp_path, recipe, dataset, penalised):
    # without R1 the grid's plain GAN keeps 9 of 25 modes; with it, about 22 (the ring needs none)
    ganforge.train(recipe, data=mixture(tmp_path, dataset), out=tmp_path / "run", steps=3, overrides=SMALL)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [("r1" in r) for r in log] == [penalised] * 3
    config = json.loads((tmp_path / "run" / "ganforge.json").read_text())["config"]
    assert config["r1_gamma"] == (0.01 if penalised else 0.0)
    assert config["steps"] == 3  # the run's own length wins over the recipe's 96,000 / 48,000

