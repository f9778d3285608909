"""Progressive growing of GANs (PGGAN; Karras, Aila, Laine & Lehtinen, ICLR 2018).

Both networks hold every resolution from 4x4 to ``image_size`` from the start; the
recipe's phases say which one trains. A phase's settings give ``resolution`` (0: the
image size) and ``fade``; in a fade phase the new resolution blends in with
``alpha = phase_step / phase_length`` (0 -> 1), otherwise alpha is 1. Both are computed
in ``set_progress`` and kept in buffers (``level`` = log2 of the resolution, ``alpha``),
so they follow into the EMA generator, the checkpoints and the saved run, and a resume
in the middle of a fade continues exactly.

Resolution without touching the data: like the official code's "lod", the generator
always returns ``image_size`` images (its current output upsampled, nearest neighbour)
and the discriminator average-pools whatever it is given down to the current
resolution. Real batches therefore stay at ``image_size``, and nearest upsampling
followed by average pooling gives back exactly the generator's low-resolution image.

- G: z normalised to unit second moment; dense to 4x4 (gain sqrt(2)/4), conv 3x3; then per
  resolution: nearest 2x upsampling, two conv 3x3; leaky ReLU 0.2 and pixelwise feature
  normalisation after every conv; a 1x1 "toRGB" per resolution (linear). Fading:
  ``lerp(upsample(toRGB_prev(h_prev)), toRGB(block(h_prev)), alpha)``.
- D: a 1x1 "fromRGB" per resolution; per resolution two conv 3x3 and a 2x average pool;
  at 4x4 the minibatch standard deviation (groups of 4) as one extra feature map,
  conv 3x3, dense, dense to the logit. Fading mirrors the generator's.
- Equalised learning rate: weights are drawn from N(0, 1) and scaled at run time by
  He's constant gain / sqrt(fan_in); biases start at 0.
- Widths: ``width`` channels at ``image_size``, doubling towards 4x4 up to ``width_max``
  (the paper: 512 up to 64x64, then halving).
- Conditioning (``conditional=true``): the embedding is concatenated to z in G and
  projected onto the last features in D.

The recipe's objective is WGAN-GP (lambda 10) with the paper's drift term
0.001 * E[D(x)^2] on reals (``wgan-gp-drift``); Adam lr 1e-3, betas (0, 0.99).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge

MIN_SIZE, MAX_SIZE = 8, 1024


@dataclass
class PGGANConfig:
    image_size: int = 32      # the target resolution, a power of two from 8 to 1024
    channels: int = 3
    nz: int = 128             # latent size (the paper: 512)
    width: int = 32           # channels at the target resolution
    width_max: int = 256      # cap on the channels towards 4x4 (the paper: 512)
    conditional: bool = False
    cond_dim: int = 64


def _check(cfg: PGGANConfig) -> int:
    size = cfg.image_size
    if not MIN_SIZE <= size <= MAX_SIZE or size & (size - 1):
        raise ganforge.GanforgeError(f"pggan needs image_size a power of two from {MIN_SIZE} to {MAX_SIZE}, got "
                                     f"{size}; set --set image_size=32 (or 8, 16, 64 ... 1024)")
    for key in ("nz", "width", "width_max"):
        if int(getattr(cfg, key)) < 1:
            raise ganforge.GanforgeError(f"option '{key}' must be a whole number >= 1, got {getattr(cfg, key)}")
    return int(math.log2(size))


def _width(cfg: PGGANConfig, level: int, top: int) -> int:
    return min(cfg.width * 2 ** (top - level), max(cfg.width_max, cfg.width))


class EqConv2d(nn.Module):
    """Conv with equalised learning rate: N(0, 1) weights scaled by gain / sqrt(fan_in) at run time."""

    def __init__(self, cin, cout, k, gain=math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale, self.pad = gain / math.sqrt(cin * k * k), k // 2

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


class EqLinear(nn.Module):
    def __init__(self, cin, cout, gain=math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.scale = gain / math.sqrt(cin)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


def pixel_norm(x, eps=1e-8):
    return x * torch.rsqrt(x.square().mean(1, keepdim=True) + eps)


def _act(x):
    return F.leaky_relu(x, 0.2)


def minibatch_stddev(x, group=4):
    """One extra feature map: the standard deviation over groups of samples, averaged."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt()  # [n/g, c, h, w]
    y = y.mean((1, 2, 3)).reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], 1)


def _fade(old: torch.Tensor, new: torch.Tensor, alpha: float) -> torch.Tensor:
    """``old`` -> ``new`` as ``alpha`` goes 0 -> 1, in the wider dtype of the two (under
    bf16 autocast the upsampled branch stays float32 while the convolved one is bf16)."""
    dtype = torch.promote_types(old.dtype, new.dtype)
    return torch.lerp(old.to(dtype), new.to(dtype), alpha)

class _Growing(nn.Module):
    """The resolution and fade-in state both networks share."""

    def _init_growth(self, top: int):
        self.top = top
        self.register_buffer("level", torch.tensor(top, dtype=torch.long))  # log2 of the current resolution
        self.register_buffer("alpha", torch.tensor(1.0))
        # the two values on the host: reading the buffers back in every forward would make
        # the CPU wait for the GPU (about 5 stalls a training step). Kept with the buffers'
        # version counters, so any in-place change (set_progress, a loaded state, EMA's
        # buffer copy, a user's fill_) is seen.
        self._host_state: tuple | None = None

    def set_progress(self, progress) -> None:
        config = progress.config
        resolution = int(config.get("resolution", 0) or 0) or 2 ** self.top
        if resolution < 4 or resolution & (resolution - 1) or resolution > 2 ** self.top:
            raise ganforge.GanforgeError(
                f"phase '{progress.phase}' trains pggan at {resolution}x{resolution}, but the networks grow from 4x4 "
                f"to image_size {2 ** self.top}; set that phase's length to 0 (--set steps_{resolution}=0 or "
                f"fade_{resolution}=0)")
        fade = bool(config.get("fade", False)) and resolution > 4
        level, alpha = int(math.log2(resolution)), float(progress.phase_fraction if fade else 1.0)
        self.level.fill_(level)
        self.alpha.fill_(alpha)
        self._host_state = (level, alpha, self.level._version, self.alpha._version)

    def _state(self) -> tuple[int, float]:
        cached = self._host_state
        if cached is None or cached[2:] != (self.level._version, self.alpha._version):
            cached = self._host_state = (int(self.level), float(self.alpha), self.level._version, self.alpha._version)
        return cached[0], cached[1]


class Generator(_Growing, ganforge.Generator):
    config_class = PGGANConfig

    def __init__(self, cfg: PGGANConfig):
        super().__init__()
        self.cfg = cfg
        top = _check(cfg)
        self._init_growth(top)
        c4 = _width(cfg, 2, top)
        nz = cfg.nz + (cfg.cond_dim if cfg.conditional else 0)
        self.dense = EqLinear(nz, c4 * 16, gain=math.sqrt(2) / 4)
        self.conv4 = EqConv2d(c4, c4, 3)
        self.blocks = nn.ModuleDict()
        self.to_rgb = nn.ModuleDict({"2": EqConv2d(c4, cfg.channels, 1, gain=1.0)})
        for level in range(3, top + 1):
            cin, cout = _width(cfg, level - 1, top), _width(cfg, level, top)
            self.blocks[str(level)] = nn.ModuleList([EqConv2d(cin, cout, 3), EqConv2d(cout, cout, 3)])
            self.to_rgb[str(level)] = EqConv2d(cout, cfg.channels, 1, gain=1.0)

    def _block(self, level, h):
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        for conv in self.blocks[str(level)]:
            h = pixel_norm(_act(conv(h)))
        return h

    def forward(self, z, cond=None):
        if self.cfg.conditional:
            if cond is None:
                raise ganforge.GanforgeError("this pggan generator is conditional: give it a condition")
            z = torch.cat([z, cond], 1)
        z = pixel_norm(z)
        level, alpha = self._state()
        h = pixel_norm(_act(self.dense(z).reshape(len(z), -1, 4, 4)))
        h = pixel_norm(_act(self.conv4(h)))
        for lv in range(3, level):
            h = self._block(lv, h)
        if level == 2:
            img = self.to_rgb["2"](h)
        else:
            new = self.to_rgb[str(level)](self._block(level, h))
            old = F.interpolate(self.to_rgb[str(level - 1)](h), scale_factor=2, mode="nearest")
            img = _fade(old, new, alpha)
        if level < self.top:  # the data's size, as the official code's lod upscaling
            img = F.interpolate(img, scale_factor=2 ** (self.top - level), mode="nearest")
        return img


class Discriminator(_Growing, ganforge.Discriminator):
    config_class = PGGANConfig

    def __init__(self, cfg: PGGANConfig):
        super().__init__()
        self.cfg = cfg
        top = _check(cfg)
        self._init_growth(top)
        c4 = _width(cfg, 2, top)
        self.from_rgb = nn.ModuleDict({"2": EqConv2d(cfg.channels, c4, 1)})
        self.blocks = nn.ModuleDict()
        for level in range(3, top + 1):
            cin, cout = _width(cfg, level, top), _width(cfg, level - 1, top)
            self.from_rgb[str(level)] = EqConv2d(cfg.channels, cin, 1)
            self.blocks[str(level)] = nn.ModuleList([EqConv2d(cin, cin, 3), EqConv2d(cin, cout, 3)])
        self.conv4 = EqConv2d(c4 + 1, c4, 3)
        self.dense = EqLinear(c4 * 16, c4)
        self.out = EqLinear(c4, 1, gain=1.0)
        self.project = nn.Linear(cfg.cond_dim, c4, bias=False) if cfg.conditional else None
        if self.project is not None:
            nn.init.zeros_(self.project.weight)

    def _block(self, level, h):
        for conv in self.blocks[str(level)]:
            h = _act(conv(h))
        return F.avg_pool2d(h, 2)

    def forward(self, x, cond=None):
        level, alpha = self._state()
        size = x.shape[-1]
        if size != 2 ** self.top:
            raise ganforge.GanforgeError(f"pggan discriminator built for {2 ** self.top}x{2 ** self.top} images "
                                         f"got {size}x{size}")
        if level < self.top:
            x = F.avg_pool2d(x, 2 ** (self.top - level))
        h = _act(self.from_rgb[str(level)](x))
        if level > 2:
            h = self._block(level, h)
            old = _act(self.from_rgb[str(level - 1)](F.avg_pool2d(x, 2)))
            h = _fade(old, h, alpha)
        for lv in range(level - 1, 2, -1):
            h = self._block(lv, h)
        h = _act(self.conv4(minibatch_stddev(h)))
        h = _act(self.dense(h.flatten(1)))
        logit = self.out(h).squeeze(1)
        if self.project is not None:
            if cond is None:
                raise ganforge.GanforgeError("this pggan discriminator is conditional: give it a condition")
            logit = logit + (self.project(cond) * h).sum(1)
        return logit


class WGANGPDrift(ganforge.Objective):
    """PGGAN's loss: WGAN-GP (``gp_weight``, 10) plus ``drift`` (0.001) * E[D(x)^2] on reals,
    which keeps the critic's output from drifting away from 0."""

    def discriminator_loss(self, s):
        fake_x = s.fake().detach()
        real, fake = s.D_real(), s.D(fake_x)
        gp = ganforge.gradient_penalty(s, s.real, fake_x)
        drift = real.square().mean()
        loss = (fake.mean() - real.mean() + float(self.config.get("gp_weight", 10.0)) * gp
                + float(self.config.get("drift", 0.001)) * drift)
        return loss, {"wasserstein": (real.mean() - fake.mean()).detach(), "gp": gp.detach()}

    def generator_loss(self, s):
        return -s.D(s.fake()).mean(), {}
