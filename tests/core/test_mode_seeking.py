"""The mode-seeking term (MSGAN): what it measures, and that training with it runs."""

import json

import pytest
import torch
from torch import nn

import ganforge
from ganforge.training.objectives import Step, mode_seeking_loss

from test_training import TINY, ring  # noqa: F401  (the ring data set fixture)


class Lookup(nn.Module):
    """A generator that returns the images it is told to, whatever z says."""

    def __init__(self, images):
        super().__init__()
        self.images = images

    def sample_latent(self, n, generator=None, device=None):
        return torch.arange(n, dtype=torch.float32).reshape(n, 1).repeat(1, 4)

    def forward(self, z, cond=None):
        return self.images[: len(z)]


def step_with(images, classes=None):
    cond = None if classes is None else nn.functional.one_hot(torch.tensor(classes), 3).float()
    s = Step(Lookup(images), None, {"x": torch.zeros_like(images)}, {}, 0, cond=cond, cond_d=cond)
    s.fake()
    return s


def test_collapse_within_a_class_costs_more_than_variety():
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    # classes 0, 0, 1, 1: within each class the two samples are alike (collapse) ...
    collapsed = step_with(torch.cat([a, a, b, b]), classes=[0, 0, 1, 1])
    # ... or differ (variety); across classes they differ in both cases
    varied = step_with(torch.cat([a, b, a, b]), classes=[0, 0, 1, 1])
    assert mode_seeking_loss(collapsed) > 1000 * mode_seeking_loss(varied)
    # pairs of different classes do not count: the collapsed batch varies across classes
    assert mode_seeking_loss(step_with(torch.cat([a, a, b, b]))) < mode_seeking_loss(collapsed)
    # the pairs (0, 1) and (2, 3) differ by 1 in every element of x and of z: ratio 1, loss 1
    assert mode_seeking_loss(varied).item() == pytest.approx(1.0, rel=1e-3)


def test_conditions_all_different_give_no_pairs_and_zero():
    images = torch.rand(3, 3, 4, 4)
    assert mode_seeking_loss(step_with(images, classes=[0, 1, 2])).item() == 0.0


def test_the_loss_pushes_samples_of_a_class_apart():
    images = torch.zeros(4, 3, 4, 4, requires_grad=True)
    noise = torch.randn(4, 3, 4, 4) * 0.01
    s = step_with(images + noise, classes=[0, 0, 1, 1])
    mode_seeking_loss(s).backward()
    # gradient descent moves sample 0 away from sample 1 (and 2 from 3)
    moved = (images + noise - 0.1 * images.grad).detach()
    assert (moved[0] - moved[1]).abs().mean() > (noise[0] - noise[1]).abs().mean()


@pytest.mark.parametrize("critics", [1, 2])  # the shared fake batch (1) and a fresh one (2)
def test_training_with_mode_seeking_logs_it(ring, tmp_path, critics):  # noqa: F811
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=3,
                   overrides={**TINY, "mode_seeking": 1.0, "n_critic": critics})
    logs = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(logs) == 3 and all(r["ms"] > 0 for r in logs)
    plain_dir = tmp_path / "plain"
    ganforge.train("toy-ring", data=ring, out=plain_dir, steps=1, overrides={**TINY, "n_critic": critics})
    assert "ms" not in json.loads((plain_dir / "log.jsonl").read_text().splitlines()[0])


def test_a_negative_weight_is_a_one_line_error(ring, tmp_path):  # noqa: F811
    with pytest.raises(ganforge.GanforgeError, match="'mode_seeking' must be 0 .off. or more, got -1"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides={**TINY, "mode_seeking": -1})
    assert not (tmp_path / "run").exists()  # a refused start leaves nothing behind
