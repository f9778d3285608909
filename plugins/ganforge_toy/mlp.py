"""MLP generator and discriminator for low-dimensional points (PacGAN's 2-D experiments)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import ganforge


@dataclass
class MLPConfig:
    dim: int = 2          # data dimension (from the data)
    nz: int = 2
    hidden: int = 400
    layers: int = 3
    pack: int = 1         # PacGAN: D judges `pack` samples at once
    cond_dim: int = 0
    conditional: bool = False


def _mlp(n_in: int, hidden: int, layers: int, n_out: int, act) -> nn.Sequential:
    mods, width = [], n_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), act()]
        width = hidden
    mods.append(nn.Linear(width, n_out))
    return nn.Sequential(*mods)


class Generator(ganforge.Generator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        extra = cfg.cond_dim if cfg.conditional else 0
        self.net = _mlp(cfg.nz + extra, cfg.hidden, cfg.layers, cfg.dim, nn.ReLU)

    def forward(self, z, cond=None):
        return self.net(z if cond is None else torch.cat([z, cond], 1))


class Discriminator(ganforge.Discriminator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        extra = cfg.cond_dim if cfg.conditional else 0
        self.net = _mlp((cfg.dim + extra) * cfg.pack, cfg.hidden, cfg.layers, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, x, cond=None):
        if cond is not None:
            x = torch.cat([x, cond], 1)
        p = self.cfg.pack
        if p > 1:  # PacGAN: concatenate groups of p samples; each sample gets its group's score
            n = len(x) - len(x) % p
            if n == 0:
                raise ganforge.GanforgeError(f"pack={p} needs batches of at least {p} samples")
            x = x[:n].reshape(n // p, -1)
            return self.net(x).squeeze(1).repeat_interleave(p)
        return self.net(x).squeeze(1)
