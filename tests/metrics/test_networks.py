"""Feature networks trained on the data: fit_feature_network, features_from, rotation_pretext."""

import pytest
import torch
from torch import nn

from ganforge import GanforgeError
from ganforge.metrics import features_from, fit_feature_network, rotation_pretext


class Classifier(nn.Module):
    def __init__(self, f=4, hidden=16, classes=3):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(f, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.head(self.body(x))


class WithFeatures(Classifier):
    def features(self, x):
        return self.body(x)[:, :5]


def blobs(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(3, (n,), generator=g)
    x = torch.randn(n, 4, generator=g) * 0.5 + torch.eye(3, 4)[y] * 3
    return x, y


def test_training_lowers_the_loss_and_returns_an_eval_mode_net():
    x, y = blobs()
    torch.manual_seed(0)
    net = fit_feature_network(Classifier(), x, y, steps=150, batch_size=32, lr=1e-2)
    assert not net.training
    assert len(net.fit_losses) == 150
    assert sum(net.fit_losses[-10:]) / 10 < 0.3 * sum(net.fit_losses[:10]) / 10
    assert (net(x).argmax(1) == y).float().mean() > 0.9


def test_training_is_deterministic_for_a_seed_and_leaves_the_global_rng_alone():
    x, y = blobs()
    state = torch.get_rng_state()
    a = fit_feature_network(Classifier, x, y, steps=20, seed=1)
    assert torch.equal(state, torch.get_rng_state())
    b = fit_feature_network(Classifier, x, y, steps=20, seed=1)
    c = fit_feature_network(Classifier, x, y, steps=20, seed=2)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_transform_is_applied_to_each_batch():
    x, y = blobs()
    seen = []
    fit_feature_network(Classifier, (x * 100).round().short(), y, steps=3,
                        transform=lambda b: seen.append(b.dtype) or b.float() / 100)
    assert seen == [torch.int16] * 3


def test_features_come_from_the_penultimate_layer_or_features_method():
    x, _ = blobs(10)
    net = Classifier().eval()
    feats = features_from(net)(x)
    assert feats.shape == (10, 16)
    assert torch.allclose(feats, net.body(x).detach())
    assert not torch.is_grad_enabled() or not feats.requires_grad
    assert features_from(WithFeatures().eval(), batch_size=3)(x).shape == (10, 5)


def test_a_net_without_a_linear_head_or_features_is_an_error():
    with pytest.raises(GanforgeError, match="features"):
        features_from(nn.Sequential(nn.Conv1d(1, 2, 3)))


def test_bad_labels_are_an_error():
    x, y = blobs(10)
    with pytest.raises(GanforgeError, match="y must be"):
        fit_feature_network(Classifier, x, y[:5])


def test_rotation_pretext_makes_four_labelled_rotations():
    x = torch.arange(2 * 1 * 3 * 3, dtype=torch.float32).reshape(2, 1, 3, 3)
    rx, ry = rotation_pretext(x)
    assert rx.shape == (8, 1, 3, 3) and ry.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert torch.equal(rx[:2], x) and torch.equal(rx[4:6], x.flip(2).flip(3))
    wide_x, wide_y = rotation_pretext(torch.zeros(2, 3, 4, 6))
    assert wide_x.shape == (4, 3, 4, 6) and wide_y.tolist() == [0, 0, 1, 1]
