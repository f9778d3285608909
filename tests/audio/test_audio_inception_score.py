"""Classifier inception score of audio: a log-mel CNN trained on the real clips' class
sub-folders judges the generated clips (``ganforge evaluate RUN --data DIR``)."""

import shutil
from types import SimpleNamespace

import pytest
import torch

from ganforge import GanforgeError
from ganforge.metrics import EvalContext, evaluate, inception_score


class ClipPipeline:
    """What EvalContext uses of a Pipeline; "generates" real clips, or one clip repeated."""

    def __init__(self, data, repeat_one=False):
        from ganforge_audio.modality import AudioModality

        self.modality = AudioModality({"audio_length": 16384}, {})
        self.config = {}
        self._clips = self.modality.load(data)
        self.modality.state = dict(self.modality.state)
        self.repeat_one = repeat_one

    def generate(self, n, seed=0, **options):
        index = torch.zeros(n, dtype=torch.long) if self.repeat_one else torch.arange(n) % len(self._clips)
        return SimpleNamespace(samples=self._clips.batch(index)["x"])


def test_real_clips_score_the_number_of_classes_with_an_accurate_judge(tones):
    out = inception_score(EvalContext(ClipPipeline(tones), tones))
    assert out["inception_score_classifier_acc"] >= 0.75  # 4 held-out clips of sine vs organ
    assert "log-mel cnn" in out["inception_score_classifier"]
    assert out["inception_score_max"] == 2.0
    assert out["inception_score"] > 1.8 and out["inception_score_real"] > 1.8


def test_one_repeated_clip_scores_one(tones):
    out = inception_score(EvalContext(ClipPipeline(tones, repeat_one=True), tones))
    assert out["inception_score"] == pytest.approx(1.0, abs=1e-6)
    assert out["inception_score_real"] > 1.8
    assert "(100% of generated)" in out["inception_score_top_class"]


def test_data_without_class_folders_is_a_one_line_error(tones, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in sorted(tones.rglob("*.wav"))[:12]:
        shutil.copy(f, flat / f"{f.parent.name}_{f.name}")
    with pytest.raises(GanforgeError, match="inception-score needs labelled data: put each class of .*flat") as err:
        evaluate(ClipPipeline(tones), flat, metrics=["inception-score"])
    assert "\n" not in str(err.value)


def test_the_trained_feature_space_needs_labels_and_is_trained_once(tones, monkeypatch):
    from ganforge_audio import classifier
    from ganforge_audio.modality import AudioModality

    monkeypatch.setattr(classifier, "STEPS", 20)  # shapes and errors only: a barely trained net will do

    modality = AudioModality({}, {})
    real = modality.load(tones)
    name, extract = modality.feature_space(real, "trained")
    again, _ = modality.feature_space(real, "trained")
    assert again == name and "log-mel cnn" in name
    x = real.batch(torch.arange(4))["x"]
    assert extract(x).shape == (4, 64)
    unlabelled = type(real)({"x": real.fields["x"]}, to_model=real.to_model)
    with pytest.raises(GanforgeError, match="needs labelled clips"):
        modality.feature_space(unlabelled, "trained")
