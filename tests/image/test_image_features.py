"""The image feature space evaluate chooses, and what it says it can judge."""

import pytest
import torch

import ganforge
import ganforge_image.features as features


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(features, "CNN_STEPS", 2)  # the choice is under test, not the network
    features._cache.clear()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (24, 3, 32, 32), generator=g, dtype=torch.uint8)
    labelled = ganforge.SampleSet({"x": x, "label": torch.arange(24) % 3})
    unlabelled = ganforge.SampleSet({"x": x})
    return labelled, unlabelled


@pytest.fixture
def inception_cached(monkeypatch, tmp_path):
    weights = tmp_path / features.INCEPTION_FILE
    weights.write_bytes(b"stand-in")
    monkeypatch.setattr(features, "inception_weights_path", lambda: weights)
    monkeypatch.setattr(features, "_inception", lambda: ("inception-v3 (torchvision)", lambda x: x.flatten(1)[:, :8]))


def test_labelled_data_gets_the_label_trained_cnn_and_says_it_judges_classes(tiny):
    labelled, unlabelled = tiny
    name, extract = features.image_feature_space(labelled, None, channels=3)
    assert "labels" in name and "class identity" in extract.judges
    name, extract = features.image_feature_space(unlabelled, None, channels=3)
    assert "rotations" in name
    assert "not class identity" in extract.judges  # the pretext task's limits, said where figures are printed


def test_labels_beat_cached_inception_by_default_but_not_when_asked(tiny, inception_cached):
    labelled, unlabelled = tiny
    assert "labels" in features.image_feature_space(labelled, None, channels=3)[0]
    name, extract = features.image_feature_space(unlabelled, None, channels=3)
    assert name.startswith("inception") and "photographs" in extract.judges
    assert features.image_feature_space(labelled, "inception", channels=3)[0].startswith("inception")
