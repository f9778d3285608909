"""R1, R2 and the relativistic pairing objective (rpgan) against direct autograd on tiny cases."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganforge
from ganforge.training.objectives import RpGAN, Step

from test_training import TINY, ring  # noqa: F401  (the ring data set fixture)


class TinyD(nn.Module):
    """A smooth nonlinear D whose input gradient is not constant."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.b = nn.Linear(3, 5), nn.Linear(5, 1)

    def forward(self, x, cond=None):
        return self.b(torch.tanh(self.a(x))).squeeze(1)


class TinyG(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 3)

    def sample_latent(self, n, generator=None, device=None):
        return torch.randn(n, 2)

    def forward(self, z, cond=None):
        return self.lin(z)


def direct_penalty(D, x):
    """E_i ||d D(x_i) / d x_i||^2, one sample at a time, no batching tricks."""
    total = 0.0
    for xi in x:
        xi = xi.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(D(xi[None]).sum(), xi)
        total = total + g.square().sum()
    return total / len(x)


def step(config, real, G=None, D=None):
    return Step(G or TinyG(), D or TinyD(), {"x": real}, config, 0)


def test_r1_matches_direct_autograd():
    real = torch.randn(4, 3)
    s = step({"r1_gamma": 0.7}, real)
    loss, logs = ganforge.r1_penalty(s)
    expected = direct_penalty(s.discriminator, real)
    assert torch.allclose(logs["r1"], expected, rtol=1e-5)
    assert torch.allclose(loss, expected * 0.35, rtol=1e-5)
    assert loss.requires_grad  # a graph to the discriminator's weights (double backward)
    loss.backward()
    assert s.discriminator.a.weight.grad.abs().sum() > 0


def test_r2_matches_direct_autograd_on_generated_samples():
    torch.manual_seed(1)
    G = TinyG()
    s = step({"r2_gamma": 2.0}, torch.randn(4, 3), G=G)
    torch.manual_seed(5)
    loss, logs = ganforge.r2_penalty(s)
    torch.manual_seed(5)
    with torch.no_grad():
        fake = G(G.sample_latent(4))
    expected = direct_penalty(s.discriminator, fake)
    assert torch.allclose(logs["r2"], expected, rtol=1e-5)
    assert torch.allclose(loss, expected, rtol=1e-5)


def test_rpgan_losses_pair_real_and_fake():
    torch.manual_seed(2)
    G, D = TinyG(), TinyD()
    real = torch.randn(6, 3)
    config = {"r1_gamma": 0.0, "r2_gamma": 0.0, "d_reg_interval": 16}
    obj = RpGAN(config)
    torch.manual_seed(3)
    d_loss, _ = obj.discriminator_loss(step(config, real, G, D))
    torch.manual_seed(3)
    fake = G(G.sample_latent(6))
    expected = F.softplus(-(D(real) - D(fake))).mean()  # pairwise, not mean(real) - mean(fake)
    assert torch.allclose(d_loss, expected, rtol=1e-6)
    torch.manual_seed(4)
    g_loss, _ = obj.generator_loss(step(config, real, G, D))
    torch.manual_seed(4)
    fake = G(G.sample_latent(6))
    assert torch.allclose(g_loss, F.softplus(-(D(fake) - D(real))).mean(), rtol=1e-6)
    assert obj.regularizers() == []


def test_rpgan_inline_penalties_are_r1_plus_r2():
    torch.manual_seed(2)
    G, D = TinyG(), TinyD()
    real = torch.randn(6, 3)
    config = {"r1_gamma": 0.4, "r2_gamma": 0.4, "d_reg_interval": 1}
    obj = RpGAN(config)
    torch.manual_seed(3)
    loss, logs = obj.discriminator_loss(step(config, real, G, D))
    torch.manual_seed(3)
    fake = G(G.sample_latent(6)).detach()
    r1, r2 = direct_penalty(D, real), direct_penalty(D, fake)
    assert torch.allclose(logs["r1"], r1, rtol=1e-5) and torch.allclose(logs["r2"], r2, rtol=1e-5)
    adversarial = F.softplus(D(fake) - D(real)).mean()
    assert torch.allclose(loss, adversarial + 0.2 * (r1 + r2), rtol=1e-5)
    assert obj.regularizers() == []  # inline: no separate lazy step


def test_rpgan_lazy_regularizers_use_the_scheduled_gamma():
    config = {"r1_gamma": 1.0, "r2_gamma": 1.0, "d_reg_interval": 4, "gamma_decay_steps": 10, "gamma_end_ratio": 0.1}
    obj = RpGAN(config)
    progress = ganforge.Progress("train", 0, 10, 20, 10, 20, 0, config)  # step 10: the end of the decay
    obj.set_progress(progress)
    assert obj.gammas() == pytest.approx((0.1, 0.1))
    regs = obj.regularizers()
    assert [(r.name, r.interval) for r in regs] == [("r1", 4), ("r2", 4)]
    real = torch.randn(4, 3)
    s = step(config, real)
    loss, logs = regs[0].loss(s)
    assert torch.allclose(loss, direct_penalty(s.discriminator, real) * 0.05, rtol=1e-5)


def test_rpgan_gamma_follows_a_cosine():
    config = {"r1_gamma": 0.05, "r2_gamma": 0.05, "gamma_decay_steps": 100, "gamma_end_ratio": 0.1}
    obj = RpGAN(config)
    seen = []
    for t in (0, 25, 50, 100, 200):
        obj.set_progress(ganforge.Progress("train", 0, t, 300, t, 300, 0, config))
        seen.append(obj.gammas()[0])
    assert seen[0] == pytest.approx(0.05) and seen[-1] == pytest.approx(0.005) and seen[-2] == pytest.approx(0.005)
    assert seen[2] == pytest.approx(0.005 + 0.045 * 0.5)
    assert seen[1] == pytest.approx(0.005 + 0.045 * 0.5 * (1 + math.cos(math.pi / 4)))


def test_rpgan_is_usable_by_any_recipe(ring, tmp_path):  # noqa: F811
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4,
                         overrides={**TINY, "objective": "rpgan", "r1_gamma": 0.1, "r2_gamma": 0.1,
                                    "d_reg_interval": 2})
    assert type(run.objective).__name__ == "RpGAN"
    import json
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [("r1" in r, "r2" in r) for r in log] == [(False, False), (True, True)] * 2
    assert all(math.isfinite(r["d_loss"]) for r in log)
