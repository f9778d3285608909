"""Objectives: the adversarial game. Each gives a discriminator loss and a generator loss
for one :class:`Step`; the loop owns backward passes, optimisers and intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F


@dataclass
class Step:
    """What an objective sees of one training step.

    ``batch`` is the real batch on the device (``x`` plus ``label``/``text`` when the
    data has them); ``cond`` the condition embedding for the generator (with gradients
    into a trainable encoder) and ``cond_d`` the same, detached, for the discriminator.
    """

    generator: Any
    discriminator: Any
    batch: dict
    config: dict
    step: int
    cond: torch.Tensor | None = None
    cond_d: torch.Tensor | None = None
    state: dict = field(default_factory=dict)  # objective scratch space for one step
    # With one critic update per step, the generator update reuses the critic update's
    # fake batch, graph intact (as the PyTorch DCGAN example does): one G forward per step.
    handoff: dict | None = None

    @property
    def real(self) -> torch.Tensor:
        return self.batch["x"]

    def fake(self, n: int | None = None) -> torch.Tensor:
        """Generated samples for this batch's conditions (a fresh latent each call, except
        that the generator update first gets the critic update's batch, when handed one)."""
        n = n or len(self.real)
        handoff = self.handoff
        if handoff is not None and "fake" in handoff:
            x = handoff.pop("fake")
            if len(x) == n:
                return x
        z = self.generator.sample_latent(n, device=self.real.device)
        x = self.generator(z) if self.cond is None else self.generator(z, self.cond[:n])
        if handoff is not None and handoff.pop("keep", False) and x.requires_grad:
            handoff["fake"] = x
        return x

    def D(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Discriminator scores, flattened to shape [B]; conditioned on ``cond_d`` by default."""
        cond = self.cond_d if cond is None else cond
        out = self.discriminator(x) if cond is None else self.discriminator(x, cond[: len(x)])
        return out.reshape(len(x), -1).mean(1) if out.dim() > 1 else out


class Objective:
    """Base class. Subclasses implement ``discriminator_loss`` and ``generator_loss``.

    ``trains_generator``/``trains_discriminator`` let a phase update one network only
    (SeqGAN's MLE and discriminator pretraining). ``d_regularizer`` returns an extra
    discriminator loss applied lazily every ``r1_interval`` steps (R1 by default when
    ``r1_gamma`` > 0).
    """

    trains_generator = True
    trains_discriminator = True

    def __init__(self, config: dict):
        self.config = config

    def discriminator_loss(self, s: Step) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def generator_loss(self, s: Step) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def after_discriminator_step(self, s: Step) -> None:
        """Called after each discriminator optimiser step (weight clipping)."""

    def d_regularizer_interval(self) -> int:
        return int(self.config.get("r1_interval", 16)) if self.config.get("r1_gamma", 0) > 0 else 0

    def d_regularizer(self, s: Step) -> tuple[torch.Tensor, dict]:
        """R1: gamma/2 * E ||grad_x D(x)||^2 on real data (Mescheder et al. 2018)."""
        real = s.real.detach().requires_grad_(True)
        scores = s.D(real)
        (grad,) = torch.autograd.grad(scores.sum(), real, create_graph=True)
        penalty = grad.square().reshape(len(real), -1).sum(1).mean()
        gamma = float(self.config["r1_gamma"])
        return penalty * (gamma / 2), {"r1": penalty.item()}


def gradient_penalty(s: Step, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: (||grad D(x_hat)|| - 1)^2 on random interpolates, one alpha per example."""
    alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = s.D(mixed)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grad.reshape(len(real), -1).norm(2, dim=1) - 1).square().mean()


class NonSaturating(Objective):
    """Goodfellow et al. 2014 with the non-saturating generator loss -log D(G(z))."""

    def discriminator_loss(self, s):
        real, fake = s.D(s.real), s.D(s.fake().detach())
        loss = F.softplus(-real).mean() + F.softplus(fake).mean()
        return loss, {"d_real": real.mean().item(), "d_fake": fake.mean().item()}

    def generator_loss(self, s):
        return F.softplus(-s.D(s.fake())).mean(), {}


class Minimax(NonSaturating):
    """The original saturating game: G minimises log(1 - D(G(z)))."""

    def generator_loss(self, s):
        return -F.softplus(s.D(s.fake())).mean(), {}


class WGAN(Objective):
    """Arjovsky et al. 2017: critic weights clipped to [-clip, clip] after each step."""

    def discriminator_loss(self, s):
        real, fake = s.D(s.real).mean(), s.D(s.fake().detach()).mean()
        return fake - real, {"wasserstein": (real - fake).item()}

    def generator_loss(self, s):
        return -s.D(s.fake()).mean(), {}

    def after_discriminator_step(self, s):
        bound = float(self.config["clip"])
        with torch.no_grad():
            for p in s.discriminator.parameters():
                p.clamp_(-bound, bound)


class WGANGP(WGAN):
    """Gulrajani et al. 2017: gradient penalty instead of clipping."""

    def discriminator_loss(self, s):
        fake_x = s.fake().detach()
        real, fake = s.D(s.real).mean(), s.D(fake_x).mean()
        gp = gradient_penalty(s, s.real, fake_x)
        loss = fake - real + float(self.config["gp_weight"]) * gp
        return loss, {"wasserstein": (real - fake).item(), "gp": gp.item()}

    def after_discriminator_step(self, s):
        pass


class Hinge(Objective):
    """Hinge loss (Lim & Ye 2017; SAGAN, BigGAN, DF-GAN)."""

    def discriminator_loss(self, s):
        real, fake = s.D(s.real), s.D(s.fake().detach())
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean(), {"d_real": real.mean().item()}

    def generator_loss(self, s):
        return -s.D(s.fake()).mean(), {}


class LSGAN(Objective):
    """Mao et al. 2017: least squares with targets 1 (real) and 0 (fake)."""

    def discriminator_loss(self, s):
        real, fake = s.D(s.real), s.D(s.fake().detach())
        return 0.5 * ((real - 1).square().mean() + fake.square().mean()), {}

    def generator_loss(self, s):
        return 0.5 * (s.D(s.fake()) - 1).square().mean(), {}
