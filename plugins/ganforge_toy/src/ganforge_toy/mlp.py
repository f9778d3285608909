"""MLP generator and discriminator for low-dimensional points (PacGAN's 2-D experiments).

PacGAN's networks (its code, after VEEGAN): a generator of four 400-unit ReLU layers with
batch norm, and a discriminator of three 200-unit maxout layers (5 pieces each), their
linear weights drawn from N(0, 0.02) and biases 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import ganforge


@dataclass
class MLPConfig:
    dim: int = 2          # data dimension (from the data)
    nz: int = 2
    hidden: int = 400     # generator width
    layers: int = 4       # generator hidden layers
    g_norm: str = "batch"  # batch | none
    d_hidden: int = 200
    d_layers: int = 3
    d_maxout: int = 5     # maxout pieces per discriminator unit; 0 = LeakyReLU(0.2)
    pack: int = 1         # PacGAN: D judges `pack` samples at once
    init_std: float = 0.02  # weights ~ N(0, init_std), biases 0 (PacGAN's code); 0: PyTorch's default
    cond_dim: int = 0
    conditional: bool = False


class Maxout(nn.Module):
    """A linear layer of ``n_out`` units, each the maximum of ``pieces`` linear pieces."""

    def __init__(self, n_in: int, n_out: int, pieces: int):
        super().__init__()
        self.pieces = pieces
        self.linear = nn.Linear(n_in, n_out * pieces)

    def forward(self, x):
        return self.linear(x).unflatten(1, (-1, self.pieces)).amax(2)


def init_linear_layers(module: nn.Module, std: float) -> None:
    """PacGAN's initialisation: every linear weight from N(0, std), every bias 0. PyTorch's
    default draws a 2-input layer's weights with std 0.41, twenty times PacGAN's; on the
    grid the plain GAN found fewer modes with it (docs/benchmarks.md)."""
    if std < 0:
        raise ganforge.GanforgeError(f"init_std must be 0 (PyTorch's initialisation) or positive, not {std}")
    if std == 0:
        return
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Generator(ganforge.Generator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        if cfg.g_norm not in ("batch", "none"):
            raise ganforge.GanforgeError(f"g_norm must be 'batch' or 'none', not {cfg.g_norm!r}")
        self.cfg = cfg
        width = cfg.nz + (cfg.cond_dim if cfg.conditional else 0)
        mods = []
        for _ in range(cfg.layers):
            if cfg.g_norm == "batch":  # the norm's shift does the bias's work
                mods += [nn.Linear(width, cfg.hidden, bias=False), nn.BatchNorm1d(cfg.hidden)]
            else:
                mods.append(nn.Linear(width, cfg.hidden))
            mods.append(nn.ReLU())
            width = cfg.hidden
        self.net = nn.Sequential(*mods, nn.Linear(width, cfg.dim))
        init_linear_layers(self, cfg.init_std)

    def forward(self, z, cond=None):
        if self.training and self.cfg.g_norm == "batch" and len(z) < 2:
            raise ganforge.GanforgeError("g_norm=batch trains on batches of 2 or more samples; "
                                         "use --batch-size 2 or more, or --set g_norm=none")
        return self.net(z if cond is None else torch.cat([z, cond], 1))


class Discriminator(ganforge.Discriminator):
    config_class = MLPConfig

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        width = (cfg.dim + (cfg.cond_dim if cfg.conditional else 0)) * cfg.pack
        mods = []
        for _ in range(cfg.d_layers):
            if cfg.d_maxout > 0:
                mods.append(Maxout(width, cfg.d_hidden, cfg.d_maxout))
            else:
                mods += [nn.Linear(width, cfg.d_hidden), nn.LeakyReLU(0.2)]
            width = cfg.d_hidden
        self.net = nn.Sequential(*mods, nn.Linear(width, 1))
        init_linear_layers(self, cfg.init_std)

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
