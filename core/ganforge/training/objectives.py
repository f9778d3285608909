"""Objectives: the adversarial game. Each gives a discriminator loss and a generator loss
for one :class:`Step`; the loop owns backward passes, optimisers and intervals."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..errors import GanforgeError


@dataclass
class Regularizer:
    """A penalty an objective adds lazily to one network's loss (StyleGAN2's lazy
    regularisation): every ``interval`` updates of ``network`` ("discriminator" or
    "generator"), the loop takes one extra optimiser step on ``interval * loss``.
    ``loss(step) -> (tensor, logs)``; the log records the penalty under ``name`` unless
    ``logs`` gives that key a value of its own (R1 logs the unscaled gradient norm)."""

    name: str
    network: str
    interval: int
    loss: Callable[["Step"], tuple[torch.Tensor, dict]]


@dataclass
class Step:
    """What an objective sees of one training step.

    ``batch`` is the real batch on the device (``x`` plus whatever metadata fields the
    data has, such as ``label`` or ``text``); ``cond`` the condition embedding for the
    generator (with gradients into a trainable encoder) and ``cond_d`` the same, detached,
    for the discriminator. ``progress`` says where training stands (a
    :class:`ganforge.Progress`). Every discriminator input passes through the run's
    augmentation (``augment``), real and generated alike.
    """

    generator: Any
    discriminator: Any
    batch: dict
    config: dict
    step: int
    cond: torch.Tensor | None = None
    cond_d: torch.Tensor | None = None
    state: dict = field(default_factory=dict)  # objective scratch space for one step
    progress: Any = None
    augment: Any = None
    #: ``encode(values) -> embedding``: the run's encoder, for mismatched conditions
    encode: Callable | None = None
    condition_key: str | None = None
    # Reuse of one fake batch for both updates: with one critic update per step, the
    # generator update takes the critic update's fake batch, graph intact (as the PyTorch
    # DCGAN example does), so each step runs the generator forward once. The loop passes
    # the same dict to both Steps; ``fake()`` fills and empties it.
    shared_fake: dict | None = None
    #: the generator's other outputs of the latest ``fake()`` batch (``Generator.forward_with_extras``)
    fake_extras: dict = field(default_factory=dict)
    #: the latest ``fake()`` batch and the latents it came from (for the mode-seeking term)
    last_fake: torch.Tensor | None = None
    last_latents: torch.Tensor | None = None

    @property
    def real(self) -> torch.Tensor:
        return self.batch["x"]

    def latents(self, n: int | None = None) -> torch.Tensor:
        return self.generator.sample_latent(n or len(self.real), device=self.real.device)

    def fake(self, n: int | None = None) -> torch.Tensor:
        """Generated samples for this batch's conditions (a fresh latent each call, except
        that the generator update first gets the critic update's batch when it is shared)."""
        n = n or len(self.real)
        shared = self.shared_fake
        if shared is not None and "fake" in shared:
            x, extras, z = shared.pop("fake")
            if len(x) == n:
                self.fake_extras, self.last_fake, self.last_latents = extras, x, z
                return x
        z = self.latents(n)
        cond = None if self.cond is None else self.cond[:n]
        with_extras = getattr(self.generator, "forward_with_extras", None)  # a plain nn.Module has none
        if with_extras is not None:
            x, self.fake_extras = with_extras(z, cond)
        else:
            x, self.fake_extras = (self.generator(z) if cond is None else self.generator(z, cond)), {}
        if shared is not None and shared.pop("keep", False) and x.requires_grad:
            shared["fake"] = (x, self.fake_extras, z)
        self.last_fake, self.last_latents = x, z
        return x

    def D(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Discriminator scores of (augmented) ``x``, flattened to shape [B], in float32;
        conditioned on ``cond_d`` unless another condition embedding is given."""
        cond = self.cond_d if cond is None else cond
        if self.augment is not None:
            x = self.augment(x)
        out = self.discriminator(x) if cond is None else self.discriminator(x, cond[: len(x)])
        out = out.float()  # under bf16/fp16 autocast the losses and their means are computed in float32
        return out.reshape(len(x), -1).mean(1) if out.dim() > 1 else out

    def D_real(self, x: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of the real batch (or of ``x``, a real batch prepared for a gradient):
        use it for real data, so the run's augmentation can adapt to them (ADA)."""
        scores = self.D(self.real if x is None else x)
        self.state["real_scores"] = scores.detach()
        return scores

    def mismatched_cond(self) -> torch.Tensor:
        """Embeddings of *other* samples' conditions, for a matching-aware discriminator:
        sample i gets the condition of a sample j whose condition differs from its own
        (never an identical caption or class). Detached, like ``cond_d``."""
        if self.encode is None or self.condition_key is None:
            raise GanforgeError("mismatched conditions need a conditional run (conditional=true)")
        values = self.batch[self.condition_key]
        keys = values.tolist() if isinstance(values, torch.Tensor) else list(values)
        n = len(keys)
        picks = []
        for i in range(n):
            others = [j for j in range(n) if keys[j] != keys[i]]
            if not others:
                raise GanforgeError("a batch whose samples all have the same condition has no mismatched "
                                    "condition; use more varied captions or classes, or a larger batch_size")
            picks.append(others[int(torch.randint(len(others), ()))])
        index = torch.tensor(picks)
        chosen = values[index.to(values.device)] if isinstance(values, torch.Tensor) else [values[j] for j in picks]
        with torch.no_grad():
            return self.encode(chosen)


class Objective:
    """The adversarial game: a discriminator loss and a generator loss for one :class:`Step`.

    Subclasses implement ``discriminator_loss`` and ``generator_loss`` (each returns
    ``(loss, logs)``). The loop owns backward passes, optimisers and intervals.

    - ``trains_generator`` / ``trains_discriminator`` let a phase update one network only
      (SeqGAN's MLE and discriminator pretraining).
    - ``regularizers()`` lists lazy penalties for either network (R1 and R2 from
      ``r1_gamma`` / ``r2_gamma`` by default; a plugin adds path length or MA-GP).
    - ``state_dict()`` / ``load_state_dict()``: state that lasts the whole run (a path
      length mean, a rollout policy) and is saved in every checkpoint. One instance per
      objective name serves every phase that names it; ``config`` is the configuration in
      force in the current phase.
    - ``set_progress(progress)`` is called before every step on every rank (schedules);
      ``optimizer_settings(progress)`` may return scheduled learning rates and betas.
    - ``ganforge.all_reduce_mean(tensor)`` averages a statistic across ranks.
    """

    trains_generator = True
    trains_discriminator = True

    def __init__(self, config: dict):
        self.config = config

    def discriminator_loss(self, s: Step) -> tuple[torch.Tensor, dict]:
        """``(loss, logs)``; log values may be floats or 0-dim tensors (read in one sync)."""
        raise NotImplementedError

    def generator_loss(self, s: Step) -> tuple[torch.Tensor, dict]:
        """``(loss, logs)`` of the generator for this step. Must implement."""
        raise NotImplementedError

    def after_discriminator_step(self, s: Step) -> None:
        """Called after each discriminator optimiser step (weight clipping)."""

    def set_progress(self, progress) -> None:
        """Where training stands, before every step (for scheduled weights)."""

    def optimizer_settings(self, progress) -> dict | None:
        """Optimiser settings for the coming step, for schedules: a dict with any of
        ``lr_g``, ``lr_d``, ``betas_g``, ``betas_d``, or None to keep the phase's. Computed
        from ``progress`` alone, so a resumed run gets the same values. By default the
        ``schedule`` option: ``cosine`` takes the learning rates from their set values to
        ``lr_end_ratio`` of them and Adam's beta2 to ``beta2_end`` over ``schedule_steps``
        (R3GAN's schedule), ``constant`` changes nothing."""
        config = progress.config
        kind = config.get("schedule", "constant")
        if kind == "constant":
            return None
        if kind != "cosine":
            raise GanforgeError(f"option 'schedule' takes constant or cosine, got {kind!r}")
        horizon = int(config.get("schedule_steps", 0)) or progress.total_steps
        w = 0.5 * (1 + math.cos(math.pi * min(progress.step / max(horizon, 1), 1.0)))  # 1 -> 0
        ratio = float(config["lr_end_ratio"])
        out = {}
        for which in ("g", "d"):
            out[f"lr_{which}"] = float(config[f"lr_{which}"]) * (ratio + (1 - ratio) * w)
            beta1, beta2 = (float(b) for b in config[f"betas_{which}"])
            out[f"betas_{which}"] = [beta1, float(config["beta2_end"]) + (beta2 - float(config["beta2_end"])) * w]
        return out

    def state_dict(self) -> dict:
        """State to save with every checkpoint (schedules, running statistics); empty by default."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned, on ``--resume``."""
        pass

    def regularizers(self) -> list[Regularizer]:
        """Lazy regularisers (R1, R2) run every ``d_reg_interval`` steps, from the ``r1_gamma``/``r2_gamma`` options."""
        out = []
        interval = int(self.config.get("d_reg_interval", 16))
        if float(self.config.get("r1_gamma", 0)) > 0:
            out.append(Regularizer("r1", "discriminator", interval, r1_penalty))
        if float(self.config.get("r2_gamma", 0)) > 0:
            out.append(Regularizer("r2", "discriminator", interval, r2_penalty))
        return out


def _grad_penalty(s: Step, x: torch.Tensor, real: bool) -> torch.Tensor:
    """E ||grad_x D(x)||^2 (the gradient through the augmentation, as StyleGAN2-ADA)."""
    x = x.detach().requires_grad_(True)
    scores = s.D_real(x) if real else s.D(x)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.square().reshape(len(x), -1).sum(1).mean()


def r1_penalty(s: Step) -> tuple[torch.Tensor, dict]:
    """R1: gamma/2 * E ||grad_x D(x)||^2 on real data (Mescheder et al. 2018)."""
    penalty = _grad_penalty(s, s.real, real=True)
    return penalty * (float(s.config["r1_gamma"]) / 2), {"r1": penalty.detach()}


def r2_penalty(s: Step) -> tuple[torch.Tensor, dict]:
    """R2: gamma/2 * E ||grad_x D(x)||^2 on generated data (Mescheder et al. 2018; R3GAN)."""
    with torch.no_grad():
        fake = s.fake()
    penalty = _grad_penalty(s, fake, real=False)
    return penalty * (float(s.config["r2_gamma"]) / 2), {"r2": penalty.detach()}


def mode_seeking_loss(s: Step) -> torch.Tensor:
    """Mode seeking (Mao et al. 2019, MSGAN): ``1 / (mean |x_i - x_j| / mean |z_i - z_j| + eps)``
    over pairs of the generator update's fake samples that share a condition (all pairs
    when unconditional). Small when samples differ as much as their latents do; large
    when the generator draws every sample of a class alike, the intra-class collapse of
    conditional GANs. The pairs come from the batch itself (no extra generator pass); a
    batch whose conditions are all different (captions) has none, and the term is 0."""
    x, z = s.last_fake, s.last_latents
    if x is None or z is None or not x.is_floating_point():
        return torch.zeros((), device=s.real.device)
    x, z = x.reshape(len(x), -1).float(), z.reshape(len(z), -1).float()
    if s.cond_d is None:
        same = torch.ones(len(x), len(x), dtype=torch.bool, device=x.device)
    else:
        groups = torch.unique(s.cond_d[: len(x)].reshape(len(x), -1), dim=0, return_inverse=True)[1]
        same = groups[:, None] == groups[None, :]
    same = same.triu(1)
    if not bool(same.any()):
        return torch.zeros((), device=x.device)
    dx = torch.cdist(x, x, p=1)[same].mean() / x.shape[1]
    dz = torch.cdist(z, z, p=1)[same].mean() / z.shape[1]
    return 1.0 / (dx / dz + 1e-5)


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
        real, fake = s.D_real(), s.D(s.fake().detach())
        loss = F.softplus(-real).mean() + F.softplus(fake).mean()
        return loss, {"d_real": real.detach().mean(), "d_fake": fake.detach().mean()}

    def generator_loss(self, s):
        return F.softplus(-s.D(s.fake())).mean(), {}


class Minimax(NonSaturating):
    """The original saturating game: G minimises log(1 - D(G(z)))."""

    def generator_loss(self, s):
        return -F.softplus(s.D(s.fake())).mean(), {}


class WGAN(Objective):
    """Arjovsky et al. 2017: critic weights clipped to [-clip, clip] after each step."""

    def discriminator_loss(self, s):
        real, fake = s.D_real().mean(), s.D(s.fake().detach()).mean()
        return fake - real, {"wasserstein": (real - fake).detach()}

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
        real, fake = s.D_real().mean(), s.D(fake_x).mean()
        gp = gradient_penalty(s, s.real, fake_x)
        loss = fake - real + float(self.config["gp_weight"]) * gp
        return loss, {"wasserstein": (real - fake).detach(), "gp": gp.detach()}

    def after_discriminator_step(self, s):
        pass


class Hinge(Objective):
    """Hinge loss (Lim & Ye 2017; SAGAN, BigGAN, DF-GAN)."""

    def discriminator_loss(self, s):
        real, fake = s.D_real(), s.D(s.fake().detach())
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean(), {"d_real": real.detach().mean()}

    def generator_loss(self, s):
        return -s.D(s.fake()).mean(), {}


def matching_aware_gp(s: Step, weight: float, power: float) -> tuple[torch.Tensor, torch.Tensor]:
    """DF-GAN's MA-GP: ``weight * E ||grad_(x, c) D(x, c)||^power`` on real images with their
    own conditions, the gradient taken jointly over the image and the condition embedding.
    Returns (the penalty, D's scores of the real pairs: they serve the hinge term as well)."""
    x = s.real.detach().requires_grad_(True)
    c = s.cond_d.detach().requires_grad_(True)
    scores = s.D(x, c)
    s.state["real_scores"] = scores.detach()  # what D_real records, for the augmentation
    gx, gc = torch.autograd.grad(scores.sum(), (x, c), create_graph=True)
    norm = torch.cat([gx.reshape(len(x), -1), gc.reshape(len(c), -1)], 1).square().sum(1).sqrt()
    return weight * norm.pow(power).mean(), scores


class MatchingAware(Objective):
    """Matching-aware hinge loss for conditions that are captions or classes (DF-GAN, Tao et
    al. 2022; after GAN-INT-CLS's matching-aware discriminator, Reed et al. 2016).

    D learns that a real sample with its own condition is real, and that a generated sample
    and a real sample with *another* sample's condition (``Step.mismatched_cond``) are not:
    ``hinge(real, c) + (hinge(fake, c) + hinge(real, c'))/2``, plus MA-GP
    (``ma_gp_weight`` * E||grad_(x, c) D||^``ma_gp_power``, DF-GAN: 2 and 6) on the real
    pairs every step. G: ``-D(G(z, c), c)``. Needs a conditional run; any modality.
    """

    def discriminator_loss(self, s):
        if s.cond_d is None:
            raise GanforgeError("objective 'matching-aware' needs a conditional run: --set conditional=true "
                                "and an encoder for the data's captions or classes")
        weight = float(self.config.get("ma_gp_weight", 2.0))
        if weight > 0:
            penalty, real = matching_aware_gp(s, weight, float(self.config.get("ma_gp_power", 6.0)))
        else:
            penalty, real = None, s.D_real()
        fake = s.D(s.fake().detach())
        mismatched = s.D(s.real, s.mismatched_cond())
        loss = F.relu(1 - real).mean() + 0.5 * (F.relu(1 + fake).mean() + F.relu(1 + mismatched).mean())
        logs = {"d_real": real.detach().mean(), "d_fake": fake.detach().mean(), "d_mismatched": mismatched.detach().mean()}
        if penalty is not None:
            loss = loss + penalty
            logs["ma_gp"] = penalty.detach()
        return loss, logs

    def generator_loss(self, s):
        return -s.D(s.fake()).mean(), {}


def nearest_other(keys, embeddings: torch.Tensor) -> torch.Tensor:
    """For each sample, the index of the sample whose embedding is most similar (cosine)
    among those whose condition value differs from its own."""
    keys = keys.tolist() if isinstance(keys, torch.Tensor) else list(keys)
    n = len(keys)
    codes = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    code = torch.tensor([codes[k] for k in keys], device=embeddings.device)
    same = code[:, None] == code[None, :]
    if bool(same.all(dim=1).any()):
        raise GanforgeError("a batch whose samples all have the same condition has no mismatched "
                            "condition; use more varied captions or classes, or a larger batch_size")
    unit = F.normalize(embeddings.float().reshape(n, -1), dim=1)
    similarity = (unit @ unit.T).masked_fill(same, float("-inf"))
    return similarity.argmax(dim=1)


class HardMatching(NonSaturating):
    """Non-saturating loss; the discriminator also scores real samples with the batch's
    nearest other condition as fake (matching-aware, hard negatives), in any modality.

    GAN-INT-CLS (Reed et al. 2016) teaches the discriminator that a real sample with a
    wrong caption is fake, so it must check the caption rather than realism alone:

        D: softplus(-D(x, c)) + (softplus(D(G(z, c), c)) + softplus(D(x, c'))) / 2
        G: softplus(-D(G(z, c), c))

    c' is not a random other caption but the batch's *most similar* other one, by the
    cosine of the run's condition embeddings (a hard negative, as VSE++, Faghri et al.
    2018). Random captions usually differ in many words and the easiest (a colour, a
    timbre) gives them away; the nearest usually differs in the one attribute the
    discriminator has not learned to check yet (a shape, a root note).
    """

    def discriminator_loss(self, s):
        if s.cond_d is None or s.condition_key is None:
            raise GanforgeError("objective 'matching-hard' needs a conditional run: --set conditional=true "
                                "and an encoder for the data's captions or classes")
        real, fake = s.D_real(), s.D(s.fake().detach())
        wrong = nearest_other(s.batch[s.condition_key], s.cond_d)
        mismatched = s.D(s.real, s.cond_d[wrong])
        loss = F.softplus(-real).mean() + 0.5 * (F.softplus(fake).mean() + F.softplus(mismatched).mean())
        return loss, {"d_real": real.detach().mean(), "d_fake": fake.detach().mean(),
                      "d_mismatched": mismatched.detach().mean()}


class LSGAN(Objective):
    """Mao et al. 2017: least squares with targets 1 (real) and 0 (fake)."""

    def discriminator_loss(self, s):
        real, fake = s.D_real(), s.D(s.fake().detach())
        return 0.5 * ((real - 1).square().mean() + fake.square().mean()), {}

    def generator_loss(self, s):
        return 0.5 * (s.D(s.fake()) - 1).square().mean(), {}


class RpGAN(Objective):
    """Relativistic pairing GAN (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024).

    D minimises softplus(-(D(x_i) - D(G(z_i)))) over pairs of a real and a generated
    sample, G the mirror image softplus(-(D(G(z_i)) - D(x_i))). R1 (``r1_gamma``) and R2
    (``r2_gamma``) are the zero-centred gradient penalties on real and generated data;
    R3GAN needs both (with R1 alone it diverges).

    - ``d_reg_interval`` 1: the penalties join the discriminator loss every update, in
      the same backward pass (as R3GAN does); above 1 they are lazy regularisers.
    - ``gamma_decay_steps`` > 0: both gammas follow a cosine from their set value down to
      ``gamma_end_ratio`` times it over that many steps, then stay (R3GAN: 0.05 -> 0.005
      on CIFAR-10). Both keys are optional, so any recipe can use ``objective=rpgan``.
    """

    def __init__(self, config: dict):
        super().__init__(config)
        self.gamma_scale = 1.0

    def set_progress(self, progress) -> None:
        horizon = int(self.config.get("gamma_decay_steps", 0) or 0)
        end = float(self.config.get("gamma_end_ratio", 0.1))
        if horizon > 0:
            t = min(progress.step / horizon, 1.0)
            self.gamma_scale = end + (1 - end) * 0.5 * (1 + math.cos(math.pi * t))
        else:
            self.gamma_scale = 1.0

    def gammas(self) -> tuple[float, float]:
        """(R1 gamma, R2 gamma) in force now."""
        return (float(self.config.get("r1_gamma", 0)) * self.gamma_scale,
                float(self.config.get("r2_gamma", 0)) * self.gamma_scale)

    def _inline(self) -> bool:
        return int(self.config.get("d_reg_interval", 16)) <= 1

    def discriminator_loss(self, s):
        g1, g2 = self.gammas()
        inline = self._inline()
        real_x = s.real.detach().requires_grad_(inline and g1 > 0)
        fake_x = s.fake().detach().requires_grad_(inline and g2 > 0)
        real, fake = s.D_real(real_x), s.D(fake_x)
        loss = F.softplus(fake - real).mean()
        logs = {"d_real": real.detach().mean(), "d_fake": fake.detach().mean()}
        for gamma, x, scores, name in ((g1, real_x, real, "r1"), (g2, fake_x, fake, "r2")):
            if inline and gamma > 0:
                (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
                penalty = grad.square().reshape(len(x), -1).sum(1).mean()
                loss = loss + penalty * (gamma / 2)
                logs[name] = penalty.detach()
        if g1 or g2:
            logs["gamma"] = self.gamma_scale * max(float(self.config.get("r1_gamma", 0)),
                                                   float(self.config.get("r2_gamma", 0)))
        return loss, logs

    def generator_loss(self, s):
        with torch.no_grad():
            real = s.D(s.real)
        fake = s.D(s.fake())
        return F.softplus(real - fake).mean(), {}

    def regularizers(self) -> list[Regularizer]:
        if self._inline():
            return []
        interval = int(self.config.get("d_reg_interval", 16))
        g1, g2 = self.gammas()
        out = []
        if g1 > 0:
            out.append(Regularizer("r1", "discriminator", interval, self._lazy(r1_penalty, "r1_gamma", g1)))
        if g2 > 0:
            out.append(Regularizer("r2", "discriminator", interval, self._lazy(r2_penalty, "r2_gamma", g2)))
        return out

    @staticmethod
    def _lazy(penalty, key, gamma):
        """``penalty`` (ganforge.r1_penalty / r2_penalty) with the scheduled gamma."""
        def loss(s):
            return penalty(dataclasses.replace(s, config={**s.config, key: gamma}))
        return loss
