"""EvalContext and evaluate with a stand-in pipeline: caching, conditions, metric lookup."""

from types import SimpleNamespace

import pytest
import torch

import ganforge
from ganforge import GanforgeError
from ganforge.metrics import EvalContext, evaluate, fd, kid, prc
from ganforge_toy.metrics import modes  # the PacGAN metric belongs to the toy plugin
from ganforge_toy.mixtures import ring_modes
from ganforge.registry import Entry, Registry


class PointModality(ganforge.Modality):
    """2-D points: real data is 8 tight clusters on a ring, labelled by cluster (classes a..h)."""

    default_metrics = ("fd", "prc")

    def __init__(self, config=None, state=None, n_real=400):
        super().__init__(config or {}, state)
        self.n_real = n_real
        self.extract_calls = 0
        self.feature_space_calls = 0
        self.loaded = []

    def load(self, path):
        self.loaded.append(path)
        g = torch.Generator().manual_seed(0)
        label = torch.arange(self.n_real) % 8
        x = ring_modes()[label].float() + 0.01 * torch.randn(self.n_real, 2, generator=g)
        self.state = {"classes": list("abcdefgh"), "modes": ring_modes().tolist(), "std": 0.01, "loaded": True}
        # storage is 100x the model space, as a modality with compact storage would have
        return ganforge.SampleSet({"x": x * 100, "label": label}, to_model=lambda b: b / 100)

    def feature_space(self, real, spec=None):
        self.feature_space_calls += 1

        def extract(x):
            self.extract_calls += 1
            return torch.cat([x, x.square()], 1)

        return f"points-{spec or 'default'}", extract


class PointPipeline:
    """What EvalContext uses of a ganforge Pipeline: .modality and .generate(n, seed, classes=, prompts=)."""

    def __init__(self, modality, spread=0.01, conditional=False):
        self.modality = modality
        self.spread = spread
        self.config = {"conditional": conditional}
        self.calls = []

    def generate(self, n, seed=0, classes=None, prompts=None, **options):
        self.calls.append({"n": n, "seed": seed, "classes": classes, "options": options})
        g = torch.Generator().manual_seed(seed)
        names = self.modality.class_names()
        index = torch.tensor([names.index(c) for c in classes]) if classes else torch.randint(8, (n,), generator=g)
        x = ring_modes()[index].float() + self.spread * torch.randn(n, 2, generator=g)
        return SimpleNamespace(samples=x, conditions=classes)


def fake_registry(monkeypatch, **metrics):
    reg = Registry()
    for name, fn in metrics.items():
        reg.add("metric", "core", name, fn)
    monkeypatch.setattr(ganforge.plugins, "get_registry", lambda: reg)
    return reg


def test_features_are_computed_once_for_all_metrics(tmp_path):
    modality = PointModality()
    pipe = PointPipeline(modality)
    ctx = EvalContext(pipe, tmp_path, n=100, batch_size=32)
    results = [fd(ctx), kid(ctx), prc(ctx)]
    assert modality.feature_space_calls == 1
    assert modality.extract_calls == 2 * 4  # 100 real + 100 fake in batches of 32
    assert len(modality.loaded) == 1
    assert [c["n"] for c in pipe.calls] == [32, 32, 32, 4]
    assert len({c["seed"] for c in pipe.calls}) == 4
    assert all(r["feature_space"] == "points-default" for r in results)
    name, real, fake = ctx.features()
    assert real.shape == fake.shape == (100, 4) and real.dtype == torch.float64


def test_real_x_is_in_model_space_and_fake_defaults_to_the_data_size(tmp_path):
    ctx = EvalContext(PointPipeline(PointModality(n_real=50)), tmp_path)
    assert ctx.n == 50
    x = ctx.real_x(20)
    assert x.shape == (20, 2) and x.norm(dim=1).mean() == pytest.approx(1.0, abs=0.05)
    assert torch.equal(ctx.real_x(20), x)  # a fixed subset
    assert ctx.real_x(10_000).shape == (50, 2)
    assert ctx.fake.shape == (50, 2) and ctx.fake is ctx.fake


def test_good_generator_scores_better_than_a_bad_one(tmp_path):
    good = evaluate(PointPipeline(PointModality()), tmp_path, metrics=[fd, prc], n=200)
    bad = evaluate(PointPipeline(PointModality(), spread=0.5), tmp_path, metrics=[fd, prc], n=200)
    assert good["fd"] < 0.05 and bad["fd"] > 10 * good["fd"]
    assert good["precision"] > 0.8 > bad["precision"]
    assert good["feature_space"] == "points-default"
    assert good["prc_k"] == 5


def test_class_conditional_runs_get_the_real_class_mix(tmp_path):
    pipe = PointPipeline(PointModality(n_real=80), conditional=True)
    ctx = EvalContext(pipe, tmp_path, n=80, seed=3)
    ctx.fake
    classes = sum((c["classes"] for c in pipe.calls), [])
    assert sorted(classes) == sorted(list("abcdefgh") * 10)  # exactly the real subset's labels
    # and the same order as the real subset, so sample i is generated for real sample i's class
    assert classes == [pipe.modality.class_names()[i] for i in ctx.real.fields["label"][ctx.real_indices()].tolist()]


def test_evaluate_resolves_names_through_the_registry_and_defaults(tmp_path, monkeypatch):
    fake_registry(monkeypatch, fd=fd, prc=prc, kid=kid)
    out = evaluate(PointPipeline(PointModality()), tmp_path, n=64, features="xy", options={"kid_subsets": 3})
    assert set(out) == {"fd", "precision", "recall", "density", "coverage", "prc_k", "feature_space"}
    assert out["feature_space"] == "points-xy"
    out = evaluate(PointPipeline(PointModality()), tmp_path, metrics=["kid"], n=64, options={"kid_subsets": 3})
    assert set(out) == {"kid", "kid_std", "kid_subset_size", "feature_space"}


def test_an_unknown_metric_is_an_error_listing_the_known_ones(tmp_path, monkeypatch):
    fake_registry(monkeypatch, fd=fd, kid=kid)
    pipe = PointPipeline(PointModality())
    with pytest.raises(GanforgeError, match="no metric named 'fid'.*known: fd, kid"):
        evaluate(pipe, tmp_path, metrics=["fd", "fid"])
    assert pipe.calls == [] and pipe.modality.loaded == []  # nothing computed before the check


def test_a_metric_must_return_a_dict(tmp_path):
    with pytest.raises(GanforgeError, match="not a dict"):
        evaluate(PointPipeline(PointModality()), tmp_path, metrics=[lambda ctx: 1.0])


def test_modes_metric_reads_the_mixture_from_the_modality_state(tmp_path):
    modality = PointModality()
    good = evaluate(PointPipeline(modality), tmp_path, metrics=[modes])
    assert good["modes"] == 8 and good["high_quality"] > 95
    assert "feature_space" not in good
    collapsed = PointPipeline(modality)
    collapsed.generate = lambda n, seed=0, **kw: SimpleNamespace(samples=torch.tensor([[1.0, 0.0]]).repeat(n, 1))
    out = evaluate(collapsed, tmp_path, metrics=[modes], n=300)
    assert out == {"modes": 1, "modes_total": 8, "high_quality": 100.0}


def test_modes_metric_on_data_without_a_mixture_is_an_error(tmp_path):
    class Plain(PointModality):
        def load(self, path):
            real = super().load(path)
            self.state = {}
            return real

    with pytest.raises(GanforgeError, match="ring / grid"):
        evaluate(PointPipeline(Plain()), tmp_path, metrics=[modes])


def test_the_trained_state_survives_loading_evaluation_data(tmp_path):
    modality = PointModality(state={"classes": list("abcdefgh"), "trained": 1})
    ctx = EvalContext(PointPipeline(modality), tmp_path)
    ctx.real
    assert modality.state == {"classes": list("abcdefgh"), "trained": 1}


def test_generator_options_are_passed_through(tmp_path):
    pipe = PointPipeline(PointModality())
    EvalContext(pipe, tmp_path, n=10, options={"generate": {"truncation": 0.5}}).fake
    assert pipe.calls[0]["options"] == {"truncation": 0.5}


def test_bad_counts_are_errors(tmp_path):
    with pytest.raises(GanforgeError, match="-n"):
        EvalContext(PointPipeline(PointModality()), tmp_path, n=0)
    ctx = EvalContext(PointPipeline(PointModality()), tmp_path, n=1)
    with pytest.raises(GanforgeError, match="at least 2"):
        fd(ctx)


def test_the_builtin_metric_references_resolve():
    for name, fn in {"fd": fd, "kid": kid, "prc": prc}.items():
        assert Entry("metric", "core", name, f"ganforge.metrics:{name}").load() is fn


def test_the_core_registers_the_builtin_metrics():
    registry = ganforge.get_registry()
    for name, fn in {"fd": fd, "kid": kid, "prc": prc}.items():
        assert registry.get("metric", f"core:{name}") is fn
    assert registry.get("metric", "toy:modes") is modes  # the PacGAN metric is the toy plugin's


def test_evaluate_a_trained_toy_run_end_to_end(tmp_path):
    pytest.importorskip("ganforge_toy")
    registry = ganforge.get_plugin_manager().registry
    try:
        make_ring = registry.get("dataset", "ring")
    except GanforgeError:
        pytest.skip("the toy plugin is not registered")
    data = make_ring(tmp_path / "ring", n=1000)
    ganforge.train("toy-ring", data=data, out=tmp_path / "run", steps=5,
                   overrides={"hidden": 16, "d_hidden": 16, "progress": False, "batch_size": 50})
    pipe = ganforge.load(tmp_path / "run")
    out = evaluate(pipe, data, metrics=[modes, fd, kid, prc], n=300)
    assert out["modes_total"] == 8 and 0 <= out["modes"] <= 8
    assert out["feature_space"] and out["fd"] > 0 and 0 <= out["coverage"] <= 1
    # the same seed gives the same figures
    assert evaluate(pipe, data, metrics=[fd], n=300)["fd"] == out["fd"]


def test_cli_evaluate_save_keeps_the_scores_in_the_run(tmp_path, capsys):
    import json

    from ganforge.cli import main

    from ganforge_toy.datasets import make_ring

    data = make_ring(tmp_path / "ring", n=400)
    run = tmp_path / "run"
    ganforge.train("toy-ring", data=data, out=run, steps=2, overrides={"progress": False})
    assert main(["evaluate", str(run), "--data", str(data), "--metric", "modes", "-n", "200"]) == 0
    assert not (run / "metrics.jsonl").exists()  # only --save writes into the run
    for _ in range(2):
        assert main(["evaluate", str(run), "--data", str(data), "--metric", "modes", "-n", "200", "--save"]) == 0
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["data"] == str(data) and "modes" in lines[0]
    assert lines[0]["checkpoint"].startswith("step-")
    assert "scores kept in" in capsys.readouterr().out
