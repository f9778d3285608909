"""class-acc: a classifier trained on the real labels judges whether each generated
sample looks like the class it was made for."""

import pytest

from ganforge import GanforgeError
from ganforge.metrics import EvalContext, class_acc, evaluate

from test_evaluate import PointModality, PointPipeline, fake_registry


class IgnoresTheClass(PointPipeline):
    """A generator that makes good samples of a random class whatever it is asked for."""

    def generate(self, n, seed=0, classes=None, prompts=None, **options):
        # its own random stream (the real data's seeded order uses seed 0 too)
        return super().generate(n, seed=seed + 1000, classes=None, **options)


def test_a_generator_that_makes_the_asked_class_scores_near_the_ceiling(tmp_path):
    ctx = EvalContext(PointPipeline(PointModality(), conditional=True), tmp_path, n=200)
    out = class_acc(ctx)
    assert out["class_acc_ceiling"] > 0.95  # 8 well-separated clusters: the classifier is good
    assert out["class_acc"] > out["class_acc_ceiling"] - 0.05
    assert out["class_acc_chance"] == 1 / 8
    assert {f"class_acc[{c}]" for c in "abcdefgh"} <= set(out)
    assert all(out[f"class_acc[{c}]"] > 0.8 for c in "abcdefgh")
    assert "trained on 320 real samples, tested on 80" in out["class_acc_classifier"]


def test_a_generator_that_ignores_the_class_scores_near_chance(tmp_path):
    ctx = EvalContext(IgnoresTheClass(PointModality(), conditional=True), tmp_path, n=400)
    out = class_acc(ctx)
    assert out["class_acc_ceiling"] > 0.95
    assert abs(out["class_acc"] - 1 / 8) < 0.08


def test_per_class_accuracy_finds_the_one_class_a_generator_gets_wrong(tmp_path):
    class WrongForA(PointPipeline):
        def generate(self, n, seed=0, classes=None, prompts=None, **options):
            classes = ["b" if c == "a" else c for c in classes]
            return super().generate(n, seed=seed, classes=classes, **options)

    out = class_acc(EvalContext(WrongForA(PointModality(), conditional=True), tmp_path, n=200))
    assert out["class_acc[a]"] < 0.1 and out["class_acc[b]"] > 0.9
    assert out["class_acc"] == pytest.approx(7 / 8, abs=0.05)


def test_class_acc_is_a_default_only_for_label_conditioned_runs(tmp_path, monkeypatch):
    from ganforge.metrics import fd

    fake_registry(monkeypatch, fd=fd, prc=lambda ctx: {}, **{"class-acc": class_acc})
    conditional = evaluate(PointPipeline(PointModality(), conditional=True), tmp_path, n=64)
    assert "class_acc" in conditional and "class_acc_ceiling" in conditional
    unconditional = evaluate(PointPipeline(PointModality()), tmp_path, n=64)
    assert "class_acc" not in unconditional
    with pytest.raises(GanforgeError, match="class-conditional"):
        class_acc(EvalContext(PointPipeline(PointModality()), tmp_path, n=16))


def test_evaluate_reports_what_the_feature_space_can_judge(tmp_path):
    from ganforge.metrics import fd

    class Judging(PointModality):
        def feature_space(self, real, spec=None):
            name, extract = super().feature_space(real, spec)
            extract.judges = "where a point is, not what it means"
            return name, extract

    out = evaluate(PointPipeline(Judging()), tmp_path, metrics=[fd], n=32)
    assert out["feature_space_judges"] == "where a point is, not what it means"
    assert "feature_space_judges" not in evaluate(PointPipeline(PointModality()), tmp_path, metrics=[fd], n=32)
