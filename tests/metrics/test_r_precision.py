"""R-precision: is a generated sample's own prompt its best match among 100 captions?"""

import pytest
import torch

import ganforge
from ganforge import GanforgeError
from ganforge.metrics import evaluate
from ganforge.metrics.context import _rank_own_caption


def test_ranking_counts_a_sample_whose_own_caption_scores_best():
    n = 50
    own = torch.arange(n)
    perfect = torch.eye(n)  # every sample matches its own caption and nothing else
    assert _rank_own_caption(perfect, own, own, k=10, seed=0) == 1.0
    assert _rank_own_caption(-perfect, own, own, k=10, seed=0) == 0.0
    torch.manual_seed(0)
    noise = _rank_own_caption(torch.randn(2000, n), torch.randint(n, (2000,)), own, k=10, seed=0)
    assert 0.06 < noise < 0.14  # chance: 1 in 10


@pytest.fixture(scope="module")
def caption_run(tmp_path_factory):
    from ganforge_image.datasets import make_shapes

    root = tmp_path_factory.mktemp("rprec")
    data = make_shapes(root / "data", n=96, size=16, seed=0, style="prompts")
    ganforge.train("dcgan", data=data, out=root / "run", overrides={
        "image_size": 16, "ngf": 8, "ndf": 8, "nz": 8, "batch_size": 16, "steps": 2, "progress": False,
        "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "encoder": "text:hashed", "encoder_buckets": 256})
    return root / "run", data


def test_r_precision_of_a_caption_run_with_its_ceiling(caption_run):
    run, data = caption_run
    out = evaluate(run, data, metrics=["r-precision"], n=96, options={"r_precision_steps": 50})
    assert set(out) >= {"r_precision", "r_precision_real", "r_precision_candidates", "r_precision_chance"}
    assert 0 <= out["r_precision"] <= 1 and 0 <= out["r_precision_real"] <= 1
    assert out["r_precision_candidates"] == min(100, out["r_precision_candidates"]) >= 2
    assert "contrastive" in out["r_precision_model"]


def test_r_precision_is_a_default_for_caption_runs_and_refused_otherwise(caption_run, tmp_path):
    run, data = caption_run
    out = evaluate(run, data, n=32, options={"r_precision_steps": 5})
    assert "r_precision" in out
    label_run = tmp_path / "label"
    ganforge.train("dcgan", data=data, out=label_run, overrides={
        "image_size": 16, "ngf": 8, "ndf": 8, "nz": 8, "batch_size": 16, "steps": 1, "progress": False,
        "preview_n": 0, "checkpoint_every": 0, "sample_every": 0, "conditional": True})
    with pytest.raises(GanforgeError, match="needs a run conditioned on captions"):
        evaluate(label_run, data, metrics=["r-precision"], n=16)
