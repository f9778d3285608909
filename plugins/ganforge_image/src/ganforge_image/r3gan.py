"""R3GAN's networks (Huang, Gokaslan, Kuleshov & Tompkin, NeurIPS 2024, "The GAN is dead;
long live the GAN! A modern GAN baseline").

A plain ResNet generator and discriminator: no normalisation, no mapping network, no
style modulation or noise inputs.

- Residual block (1-3-1 bottleneck): 1x1 conv C -> E*C, leaky ReLU 0.2, grouped 3x3 conv
  (groups of ``group_width`` channels), leaky ReLU 0.2, 1x1 conv E*C -> C initialised to
  zero, added to the input. With the last conv at zero every block starts as the
  identity, which is what lets R3GAN train without normalisation. The other convs use
  He (MSR) initialisation scaled by L^(-1/4) for L blocks (fix-up style variance scaling,
  the 1/(2m-2) root for m = 3 layers per block).
- Resampling: the [1, 2, 1] (outer product) low-pass filter before a 2x stride
  (discriminator) or after a 2x zero-insertion upsampling (generator). Between stages a
  1x1 conv changes the width (after upsampling in G, before downsampling in D).
- G: z -> a learned 4x4 basis scaled per channel by a linear map of z; stages 4x4 .. size,
  each ``blocks`` residual blocks; a 1x1 conv to the image channels (no tanh: R3GAN's
  output is linear; images are in [-1, 1] and the loss keeps them there).
- D: a 1x1 conv from the image, stages size .. 4x4 of residual blocks with a downsampling
  transition, then a depthwise 4x4 conv to a vector and a linear layer to the logit.
- Width: ``width`` channels next to the image, doubling towards 4x4 up to ``width * 4``
  (R3GAN's CIFAR-10 config is 768 channels at every stage; the default here is CPU-sized).
- Conditioning (``conditional=true``): G adds a linear map of the condition embedding to
  z's (R3GAN's embedding concatenated to z, written as a sum of two linear maps);
  D uses projection: logit += <P c, features>.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class R3GANConfig:
    image_size: int = 32      # a power of two from 8
    channels: int = 3
    nz: int = 64              # latent size (R3GAN: 64)
    width: int = 64           # channels next to the image; doubles towards 4x4 (at most 4x)
    blocks: int = 2           # residual blocks per resolution (R3GAN CIFAR-10: 2)
    expansion: int = 2        # bottleneck expansion factor (R3GAN: 2)
    group_width: int = 16     # channels per group of the grouped 3x3 conv (R3GAN CIFAR-10: 16)
    conditional: bool = False
    cond_dim: int = 64


_MAX_MULT = 4
_LINEAR = 1 / math.sqrt(2 / 1.04)  # turns _msr's leaky-ReLU gain into a linear layer's


def _check(cfg: R3GANConfig) -> int:
    size = cfg.image_size
    if size < 8 or size & (size - 1):
        raise ganforge.GanforgeError(f"r3gan needs image_size a power of two from 8, got {size}; "
                                     f"set --set image_size=32 (or 8, 16, 64, 128, 256 ...)")
    for key in ("nz", "width", "blocks", "expansion", "group_width"):
        if int(getattr(cfg, key)) < 1:
            raise ganforge.GanforgeError(f"option '{key}' must be a whole number >= 1, got {getattr(cfg, key)}")
    return int(math.log2(size)) - 2


def _widths(cfg: R3GANConfig, stages: int) -> list[int]:
    """Channels at 4x4, 8x8, ..., size: ``width`` at the image, doubling towards 4x4."""
    return [cfg.width * min(2 ** (stages - i), _MAX_MULT) for i in range(stages + 1)]


def _msr(layer: nn.Module, gain: float = 1.0, zero: bool = False) -> nn.Module:
    """He initialisation for leaky ReLU 0.2, times ``gain``; biases 0."""
    if zero:
        nn.init.zeros_(layer.weight)
    else:
        fan_in = layer.weight[0].numel()
        std = gain * math.sqrt(2 / (1 + 0.2**2)) / math.sqrt(fan_in)
        nn.init.normal_(layer.weight, 0, std)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return layer


class ResidualBlock(nn.Module):
    def __init__(self, c: int, expansion: int, group_width: int, scale: float):
        super().__init__()
        hidden = c * expansion
        groups = max(1, hidden // group_width)
        while hidden % groups:
            groups -= 1
        self.conv1 = _msr(nn.Conv2d(c, hidden, 1), scale)
        self.conv2 = _msr(nn.Conv2d(hidden, hidden, 3, padding=1, groups=groups), scale)
        self.conv3 = _msr(nn.Conv2d(hidden, c, 1, bias=False), zero=True)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2)
        return x + self.conv3(h)


def _blur_kernel(channels: int, device, dtype) -> torch.Tensor:
    k = torch.tensor([1.0, 2.0, 1.0], device=device, dtype=dtype)
    k = torch.outer(k, k)
    return (k / k.sum()).expand(channels, 1, 3, 3)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """2x: zero insertion, then the [1,2,1] filter (gain 4 keeps the mean); the last row and
    column repeat the edge instead of fading to zero."""
    n, c, h, w = x.shape
    x = F.pad(x, (0, 1, 0, 1), mode="replicate")
    up = x.new_zeros(n, c, 2 * h + 1, 2 * w + 1)
    up[:, :, ::2, ::2] = x
    return F.conv2d(up, _blur_kernel(c, x.device, x.dtype) * 4, padding=1, groups=c)[:, :, : 2 * h, : 2 * w]


def downsample(x: torch.Tensor) -> torch.Tensor:
    """2x: the [1,2,1] filter, then a stride of 2."""
    c = x.shape[1]
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    return F.conv2d(x, _blur_kernel(c, x.device, x.dtype), stride=2, groups=c)


class Generator(ganforge.Generator):
    config_class = R3GANConfig

    def __init__(self, cfg: R3GANConfig):
        super().__init__()
        self.cfg = cfg
        stages = _check(cfg)
        widths = _widths(cfg, stages)
        scale = (cfg.blocks * (stages + 1)) ** (-1 / 4)
        self.basis = nn.Parameter(torch.randn(widths[0], 4, 4))
        self.to_basis = _msr(nn.Linear(cfg.nz, widths[0], bias=False), _LINEAR)
        self.cond = _msr(nn.Linear(cfg.cond_dim, cfg.nz, bias=False)) if cfg.conditional else None
        self.stages = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for i, c in enumerate(widths):
            if i > 0:
                self.transitions.append(_msr(nn.Conv2d(widths[i - 1], c, 1, bias=False), _LINEAR))
            self.stages.append(nn.Sequential(*[ResidualBlock(c, cfg.expansion, cfg.group_width, scale)
                                               for _ in range(cfg.blocks)]))
        self.to_image = _msr(nn.Conv2d(widths[-1], cfg.channels, 1), _LINEAR)

    def forward(self, z, cond=None):
        if self.cond is not None:
            if cond is None:
                raise ganforge.GanforgeError("this r3gan generator is conditional: give it a condition")
            z = z + self.cond(cond)
        x = self.basis[None] * self.to_basis(z)[:, :, None, None]
        x = self.stages[0](x)
        for transition, stage in zip(self.transitions, self.stages[1:]):
            x = stage(transition(upsample(x)))
        return self.to_image(x)


class Discriminator(ganforge.Discriminator):
    config_class = R3GANConfig

    def __init__(self, cfg: R3GANConfig):
        super().__init__()
        self.cfg = cfg
        stages = _check(cfg)
        widths = _widths(cfg, stages)[::-1]  # size .. 4x4
        scale = (cfg.blocks * (stages + 1)) ** (-1 / 4)
        self.from_image = _msr(nn.Conv2d(cfg.channels, widths[0], 1))
        self.stages = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for i, c in enumerate(widths):
            self.stages.append(nn.Sequential(*[ResidualBlock(c, cfg.expansion, cfg.group_width, scale)
                                               for _ in range(cfg.blocks)]))
            if i + 1 < len(widths):
                self.transitions.append(_msr(nn.Conv2d(c, widths[i + 1], 1, bias=False), _LINEAR))
        last = widths[-1]
        self.basis = _msr(nn.Conv2d(last, last, 4, groups=last, bias=False), _LINEAR)
        self.out = _msr(nn.Linear(last, 1), _LINEAR)
        self.project = nn.Linear(cfg.cond_dim, last, bias=False) if cfg.conditional else None
        if self.project is not None:
            nn.init.zeros_(self.project.weight)

    def forward(self, x, cond=None):
        h = F.leaky_relu(self.from_image(x), 0.2)
        for i, stage in enumerate(self.stages):
            h = stage(h)
            if i < len(self.transitions):
                h = self.transitions[i](downsample(h))
        h = self.basis(h).flatten(1)
        logit = self.out(h).squeeze(1)
        if self.project is not None:
            if cond is None:
                raise ganforge.GanforgeError("this r3gan discriminator is conditional: give it a condition")
            logit = logit + (self.project(cond) * h).sum(1)
        return logit
