"""What the loop keeps besides the networks: its position in the data, RNG states,
optimisers from the configuration, and where training stands (:class:`Progress`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from ..errors import GanforgeError


@dataclass(frozen=True)
class Progress:
    """Where training stands, given to every component before each step on every rank.

    ``step`` counts generator steps already taken over all phases; ``phase_step`` those
    taken in the current phase, of ``phase_length``; ``samples_seen`` the real samples
    shown to the discriminator so far (StyleGAN's "kimg" is ``samples_seen / 1000``);
    ``config`` is the configuration in force (the recipe's, with the phase's settings).
    A fade-in alpha is ``phase_step / phase_length``; ADA's p or a scheduled gamma are
    computed from these by the component itself.
    """

    phase: str
    phase_index: int
    phase_step: int
    phase_length: int
    step: int
    total_steps: int
    samples_seen: int
    config: dict = field(repr=False, default_factory=dict)

    @property
    def phase_fraction(self) -> float:
        return self.phase_step / max(self.phase_length, 1)


class DataStream:
    """Batches of indices in a seeded order per epoch; its position is two integers.

    ``batch_size`` may change between phases; the position is kept."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.epoch, self.offset = 0, 0
        self._order = None

    def _perm(self):
        if self._order is None:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            self._order = torch.randperm(self.n, generator=g)
        return self._order

    def next(self) -> torch.Tensor:
        if self.offset + self.batch_size > self.n:  # drop the incomplete tail, as DCGAN & co do
            self.epoch, self.offset, self._order = self.epoch + 1, 0, None
        idx = self._perm()[self.offset : self.offset + self.batch_size]
        self.offset += self.batch_size
        return idx

    def state(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}

    def load_state(self, state: dict) -> None:
        self.epoch, self.offset, self._order = int(state["epoch"]), int(state["offset"]), None


def make_optimizer(params, config: dict, which: str):
    lr = float(config[f"lr_{which}"])
    kind = config["optimizer"]
    params = list(params)
    if kind == "adam":
        # Adam's fused kernel (one pass over each tensor, the same update): on a CPU about 5x
        # cheaper than the default per-tensor loop, a visible part of a DCGAN step
        fused = bool(params) and all(isinstance(p, torch.Tensor) and p.device.type in ("cpu", "cuda")
                                     and p.is_floating_point() for p in params)
        return torch.optim.Adam(params, lr=lr, betas=tuple(float(b) for b in config[f"betas_{which}"]),
                                fused=fused or None)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=bool(params) or None)
    raise GanforgeError(f"optimizer={kind} is not known; use adam or rmsprop")


def apply_optimizer_settings(optimizer, config: dict, which: str) -> None:
    """Learning rate and betas from ``config`` (a phase's settings, or `--resume --set lr_g=...`)."""
    for group in optimizer.param_groups:
        group["lr"] = float(config[f"lr_{which}"])
        if "betas" in group:
            group["betas"] = tuple(float(b) for b in config[f"betas_{which}"])


def rng_state() -> dict:
    python = random.getstate()
    state = {"torch": torch.get_rng_state(), "python": list(python[1]),
             "python_version": python[0], "python_gauss": python[2]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def format_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
