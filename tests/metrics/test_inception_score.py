"""Inception score: the pure function on class probabilities, and the metric that judges
generated samples with a classifier trained on the real labels (shared with class-acc)."""

import math

import pytest
import torch

import ganforge
from ganforge import GanforgeError
from ganforge.metrics import EvalContext, class_acc, evaluate, fd, inception_score, inception_score_of

from test_evaluate import PointModality, PointPipeline, fake_registry


def test_certain_balanced_classes_score_the_number_of_classes():
    probs = torch.eye(4).repeat(25, 1)  # 100 samples, each one class for sure, all classes equally often
    mean, std = inception_score_of(probs, splits=5)
    assert mean == pytest.approx(4.0) and std == pytest.approx(0.0, abs=1e-9)


def test_one_class_for_everything_or_no_confident_class_scores_one():
    assert inception_score_of(torch.eye(4)[[2] * 50])[0] == pytest.approx(1.0)
    assert inception_score_of(torch.full((50, 4), 0.25))[0] == pytest.approx(1.0)


def test_the_score_is_the_exponential_of_the_mean_kl_divergence():
    p = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    marginal = p.mean(0)
    kl = (p * (p / marginal).log()).sum(1).mean()
    assert inception_score_of(p, splits=1)[0] == pytest.approx(math.exp(float(kl)))


def test_splits_give_a_spread_and_bad_input_is_a_clear_error():
    probs = torch.cat([torch.eye(2).repeat(10, 1), torch.eye(2)[[0] * 20]])  # half balanced, half one class
    mean, std = inception_score_of(probs, splits=2)
    assert mean == pytest.approx(1.5) and std == pytest.approx(0.5)
    assert inception_score_of(probs[:3], splits=10)[1] >= 0  # more splits than samples: one sample each
    with pytest.raises(GanforgeError, match=r"\[N, C\]"):
        inception_score_of(torch.ones(5))
    with pytest.raises(GanforgeError, match="NaN"):
        inception_score_of(torch.tensor([[float("nan"), 1.0]]))


def test_a_generator_of_every_class_scores_near_the_real_data(tmp_path):
    out = inception_score(EvalContext(PointPipeline(PointModality()), tmp_path, n=400))
    assert out["inception_score_classifier_acc"] > 0.95  # 8 separated clusters: the judge is accurate
    assert out["inception_score_real"] > 7.0 and out["inception_score_max"] == 8.0
    assert out["inception_score"] > out["inception_score_real"] - 0.5
    assert out["inception_score_n"] == 400 and out["inception_score_splits"] == 5  # 10 per class per split


def test_a_collapsed_generator_scores_one_and_its_class_is_named(tmp_path):
    class OneCluster(PointPipeline):
        def generate(self, n, seed=0, classes=None, prompts=None, **options):
            return super().generate(n, seed=seed, classes=["c"] * n, **options)

    out = inception_score(EvalContext(OneCluster(PointModality()), tmp_path, n=200))
    assert out["inception_score"] == pytest.approx(1.0, abs=0.05)
    assert out["inception_score_real"] > 7.0
    assert out["inception_score_top_class"].startswith("c (100%")


def test_class_acc_and_inception_score_share_one_classifier(tmp_path):
    modality = PointModality()
    ctx = EvalContext(PointPipeline(modality, conditional=True), tmp_path, n=80)
    a, b = class_acc(ctx), inception_score(ctx)
    assert modality.feature_space_calls == 1
    assert a["class_acc_ceiling"] == b["inception_score_classifier_acc"]


def test_the_modalitys_classifier_space_is_used_unless_features_are_given(tmp_path):
    class Named(PointModality):
        classifier_features = "labelled"

    out = inception_score(EvalContext(PointPipeline(Named()), tmp_path, n=40))
    assert "points-labelled" in out["inception_score_classifier"]
    out = inception_score(EvalContext(PointPipeline(Named()), tmp_path, n=40, options={"features": "mine"}))
    assert "points-mine" in out["inception_score_classifier"]


class Unlabelled(PointModality):
    default_metrics = ("fd", "inception-score")

    def load(self, path):
        real = super().load(path)
        self.state.pop("classes")
        return ganforge.SampleSet({"x": real.fields["x"]}, to_model=real.to_model)


def test_without_class_folders_it_is_an_error_when_asked_and_skipped_by_default(tmp_path, monkeypatch):
    with pytest.raises(GanforgeError, match="inception-score needs labelled data: put each class") as err:
        inception_score(EvalContext(PointPipeline(Unlabelled()), tmp_path, n=16))
    assert "\n" not in str(err.value)
    fake_registry(monkeypatch, fd=fd, **{"inception-score": inception_score})
    out = evaluate(PointPipeline(Unlabelled()), tmp_path, n=32)
    assert "fd" in out and "inception_score" not in out
    assert out["skipped"].startswith("inception-score (needs class sub-folders")
    with pytest.raises(GanforgeError, match="needs labelled data"):
        evaluate(PointPipeline(Unlabelled()), tmp_path, metrics=["inception-score"], n=32)


def test_inception_score_is_a_registered_core_metric():
    assert ganforge.plugins.get_registry().get("metric", "inception-score") is inception_score
