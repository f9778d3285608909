"""SeqGAN's three phases as objectives (Yu et al. 2017).

- ``mle``: generator pretraining by maximum likelihood on real sequences; no discriminator.
- ``seqgan-d-pretrain``: discriminator pretraining, real lines against the generator's samples.
- ``policy-gradient``: the adversarial phase. The generator is a policy over tokens; the
  reward of token t is the discriminator's probability of "real", averaged over Monte
  Carlo rollouts that complete the prefix ending at t with a lagged copy of the generator
  (the *rollout policy*, moved 0.8 old + 0.2 new after every generator step). Loss:
  ``-mean_t log G(y_t | y_<t) * (Q_t - baseline_t)``. The discriminator keeps training on
  real lines against fresh samples.

Samples are LongTensors ``[B, T]`` drawn with ``G.sample``; ``Step.fake()`` is not used.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

import ganforge

from .generator import Sampler, lstm_states

BASELINES = ("none", "mean")


def _unwrap(module):
    """The network inside a DistributedDataParallel (or similar) wrapper."""
    return getattr(module, "module", module)


@torch.no_grad()
def rollout_rewards_reference(policy, discriminator, tokens: torch.Tensor, n_rollouts: int = 16,
                              temperature: float = 1.0) -> torch.Tensor:
    """The simple loop that ``rollout_rewards`` computes faster (kept for tests and
    ``bench/bench_rollouts.py``; same random draws, same completions). Rewards ``[B, T]``: entry ``t`` is the mean of sigmoid(D) over ``n_rollouts``
    completions, by ``policy``, of the prefix ``tokens[:, :t+1]`` (the prefix that *ends
    with* token t); the last token's reward is D of the whole sequence.

    The rows of all rollouts are stacked rollout-major (row ``r*B + b``) and averaged
    with ``view(R, B).mean(0)``: sample b's rewards never mix with another sample's
    (TextGAN-PyTorch #62 reshaped them without the transpose).
    """
    B, T = tokens.shape
    was_training = discriminator.training
    discriminator.eval()  # no dropout while judging (the paper's code feeds keep_prob 1)
    try:
        rewards = torch.zeros(B, T, device=tokens.device)
        stacked = tokens.repeat(n_rollouts, 1)
        for g, state, logits in lstm_states(policy, stacked):
            if g == 0:
                continue  # an empty prefix belongs to no token
            u = torch.rand(len(stacked), T - g, device=tokens.device)
            out = [stacked[:, :g]]
            for t in range(T - g):  # complete the prefix token by token: full softmax, cumsum, invert
                out.append(policy.draw(logits, u[:, t], temperature).unsqueeze(1))
                if g + t + 1 < T:
                    logits, state = policy.step(out[-1], state)
            full = policy.finish(torch.cat(out, 1))
            rewards[:, g - 1] = torch.sigmoid(discriminator(full).float()).view(n_rollouts, B).mean(0)
        rewards[:, T - 1] = torch.sigmoid(discriminator(tokens).float())
    finally:
        discriminator.train(was_training)
    return rewards


def _uniforms(n_rows: int, T: int, device) -> torch.Tensor:
    """The rollouts' uniforms ``[(T-1) * n_rows, T]``, drawn as the reference loop draws
    them (one ``rand(n_rows, T - g)`` per prefix length g, in order): row block g-1 holds
    prefix g's draws in columns g..T-1, so column p is the uniform of position p."""
    U = torch.zeros((T - 1) * n_rows, T, device=device)
    for g in range(1, T):
        U[(g - 1) * n_rows : g * n_rows, g:] = torch.rand(n_rows, T - g, device=device)
    return U


@torch.no_grad()
def rollout_rewards(policy, discriminator, tokens: torch.Tensor, n_rollouts: int = 16,
                    temperature: float = 1.0, d_chunk: int = 4096, draw_chunk: int | None = None,
                    proposals: bool = True) -> torch.Tensor:
    """Rewards ``[B, T]``: entry ``t`` is the mean of sigmoid(D) over ``n_rollouts``
    completions, by ``policy``, of the prefix ``tokens[:, :t+1]`` (the prefix that *ends
    with* token t); the last token's reward is D of the whole sequence.

    All rollouts of all prefixes run together, ``T - 1`` LSTM steps in all: the rows of
    prefix g (``R * B`` of them, rollout-major: row ``r*B + b``) join the batch at position
    g with the hidden state of one teacher-forced pass over ``tokens`` (computed once on
    the B distinct rows), and a prefix's rows never step before their own prefix ends.
    Tokens are drawn by ``Sampler`` (``draw_chunk`` rows at a time); the discriminator
    judges all ``(T-1) * R * B`` completions in chunks of ``d_chunk`` rows. With
    ``proposals=False``, or where ``Sampler`` makes no bf16 proposals (small vocabularies,
    CPUs without bf16 dot products), the completions under the same seed are those of
    ``rollout_rewards_reference`` (the same uniforms in the same places; a token differs
    only where float rounding moves a CDF step, about 1 draw in 10,000 at V = 5000). With
    proposals the tokens are other draws from the same distribution, so the rewards have
    the same distribution. Sample b's rewards never mix with another sample's
    (TextGAN-PyTorch #62 reshaped them without the transpose).
    """
    B, T = tokens.shape
    R, N = n_rollouts, n_rollouts * tokens.shape[0]
    device = tokens.device
    was_training = discriminator.training
    discriminator.eval()  # no dropout while judging (the paper's code feeds keep_prob 1)
    try:
        rewards = torch.zeros(B, T, device=device)
        if T > 1:
            U = _uniforms(N, T, device)
            sampler = Sampler(policy, temperature, draw_chunk, proposals=proposals)
            # teacher forcing on the B distinct rows: the state after each prefix, repeated R times
            states = [state for g, state, _ in lstm_states(policy, tokens) if g > 0]
            h = torch.cat([hg.repeat(R, 1) for hg, _ in states])  # [(T-1) * N, H], prefix-major
            c = torch.cat([cg.repeat(R, 1) for _, cg in states])
            full = tokens.repeat((T - 1) * R, 1)  # prefixes in place; the rest is overwritten
            for p in range(1, T):
                old = (p - 1) * N  # rows of prefixes 1..p-1, which have drawn up to p-1
                if old:
                    h[:old], c[:old] = policy.cell(full[:old, p - 1 : p], (h[:old], c[:old]))
                # prefix p's rows draw their first token from the teacher-forced state
                full[: old + N, p] = sampler.draw(h[: old + N], U[: old + N, p].contiguous())
            full = policy.finish(full)
            scores = torch.cat([torch.sigmoid(discriminator(full[i : i + d_chunk]).float())
                                for i in range(0, len(full), d_chunk)])
            rewards[:, : T - 1] = scores.view(T - 1, R, B).mean(1).t()
        rewards[:, T - 1] = torch.sigmoid(discriminator(tokens).float())
    finally:
        discriminator.train(was_training)
    return rewards


def policy_gradient_loss(logp: torch.Tensor, rewards: torch.Tensor, mask: torch.Tensor,
                         baseline: str = "none") -> torch.Tensor:
    """REINFORCE: ``-mean over real tokens of log G(y_t | y_<t) * (Q_t - b_t)``.

    ``logp``, ``rewards`` and ``mask`` are ``[B, T]``; with ``baseline="mean"``, ``b_t`` is
    the batch's mean reward at position t (a variance reduction; the paper uses none).
    Minimising it raises the log-probability of tokens whose reward beats the baseline.
    """
    mask = mask.to(logp.dtype)
    advantage = rewards.to(logp.dtype)
    if baseline == "mean":
        advantage = advantage - (advantage * mask).sum(0) / mask.sum(0).clamp(min=1)
    elif baseline != "none":
        raise ganforge.GanforgeError(f"option 'pg_baseline' must be one of {', '.join(BASELINES)}, got {baseline!r}")
    return -(logp * advantage.detach() * mask).sum() / mask.sum().clamp(min=1)


def discriminator_bce(s, config: dict) -> tuple[torch.Tensor, dict]:
    """BCE of real lines (target 1) against fresh generator samples (target 0), plus the
    paper's L2 penalty on the output layer (``d_l2``)."""
    G, D = _unwrap(s.generator), s.discriminator
    fake = G.sample(len(s.real), proposals=True)
    real_logits, fake_logits = D(s.real), D(fake)
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    l2 = float(config.get("d_l2", 0.0))
    if l2 > 0 and hasattr(_unwrap(D), "l2_penalty"):
        loss = loss + l2 * _unwrap(D).l2_penalty()
    acc = 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())
    return loss, {"d_real": real_logits.mean().item(), "d_fake": fake_logits.mean().item(), "d_acc": acc.item()}


class MLE(ganforge.Objective):
    """Generator pretraining: mean per-token negative log-likelihood of the real batch."""

    trains_discriminator = False

    def discriminator_loss(self, s):
        raise RuntimeError("the mle objective does not train a discriminator")

    def generator_loss(self, s):
        nll = _unwrap(s.generator).nll(s.real)
        return nll, {"nll": nll.item()}


class DiscriminatorPretrain(ganforge.Objective):
    """Discriminator pretraining on real lines against the (pretrained) generator's samples."""

    trains_generator = False

    def discriminator_loss(self, s):
        return discriminator_bce(s, self.config)

    def generator_loss(self, s):
        raise RuntimeError("the seqgan-d-pretrain objective does not train the generator")


class PolicyGradient(ganforge.Objective):
    """SeqGAN's adversarial game: REINFORCE with Monte Carlo rollout rewards.

    Options: ``rollouts`` (16), ``rollout_update_rate`` (0.8: the rollout policy becomes
    ``rate * old + (1 - rate) * G`` after every generator step), ``pg_baseline``
    (``none`` as in the paper, or ``mean``: subtract the batch's mean reward at each
    position), ``d_l2``.

    The rollout policy is state: ``state_dict()`` / ``load_state_dict()`` carry it over a
    resume.
    """

    def __init__(self, config):
        super().__init__(config)
        self.n_rollouts = int(config.get("rollouts", 16))
        self.rate = float(config.get("rollout_update_rate", 0.8))
        self.baseline = str(config.get("pg_baseline", "none"))
        if self.n_rollouts < 1:
            raise ganforge.GanforgeError(f"option 'rollouts' must be at least 1, got {self.n_rollouts}")
        if not 0.0 <= self.rate <= 1.0:
            raise ganforge.GanforgeError(f"option 'rollout_update_rate' must be in [0, 1], got {self.rate}")
        if self.baseline not in BASELINES:
            raise ganforge.GanforgeError(f"option 'pg_baseline' must be one of {', '.join(BASELINES)}, got {self.baseline!r}")
        self.rollout = None  # built from the generator at the first generator step
        self.pending_update = False  # the generator stepped since the rollout policy last moved
        self._restored: dict | None = None

    # ------------------------------------------------------------------ rollout policy

    def _rollout_policy(self, G):
        if self.rollout is None:
            self.rollout = copy.deepcopy(G).requires_grad_(False).eval()
            if self._restored is not None:
                self.rollout.load_state_dict({k[len("rollout."):]: v for k, v in self._restored.items()
                                              if k.startswith("rollout.")})
                self.pending_update = bool(self._restored["pending_update"].item())
                self._restored = None
        if self.pending_update:
            with torch.no_grad():
                for old, new in zip(self.rollout.parameters(), G.parameters()):
                    old.mul_(self.rate).add_(new.detach(), alpha=1.0 - self.rate)
            self.pending_update = False
        return self.rollout

    def state_dict(self) -> dict:
        """Tensors to save with a checkpoint (empty before the first generator step)."""
        if self.rollout is None:
            return dict(self._restored or {})
        out = {f"rollout.{k}": v.detach().clone() for k, v in self.rollout.state_dict().items()}
        out["pending_update"] = torch.tensor(int(self.pending_update))
        return out

    def load_state_dict(self, state: dict) -> None:
        self.rollout = None
        self._restored = dict(state) if state else None

    # ------------------------------------------------------------------ losses

    def discriminator_loss(self, s):
        return discriminator_bce(s, self.config)

    def generator_loss(self, s):
        G = _unwrap(s.generator)
        policy = self._rollout_policy(G)
        tokens = G.sample(len(s.real), proposals=True)
        rewards = rollout_rewards(policy, _unwrap(s.discriminator), tokens, self.n_rollouts)
        mask = G.mask(tokens).float()
        loss = policy_gradient_loss(G.log_prob(tokens), rewards, mask, self.baseline)
        self.pending_update = True
        return loss, {"reward": (rewards * mask).sum().item() / max(mask.sum().item(), 1.0)}
