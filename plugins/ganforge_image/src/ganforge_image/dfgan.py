"""DF-GAN's networks (Tao et al., CVPR 2022, "DF-GAN: A Simple and Effective Baseline for
Text-to-Image Synthesis"), for any conditioning encoder: captions, prompts or classes.

- G: z -> a linear map to an 8*ngf x 4x4 feature map, then one block per doubling of the
  side. A block upsamples (nearest), then adds a shortcut (1x1 conv where the width
  changes) to a residual branch of [fuse, 3x3 conv, fuse, 3x3 conv]. A *fuse* (deep
  text-image fusion block) is two text-conditioned channel affines, each followed by
  leaky ReLU 0.2; an affine's scale and shift come from small MLPs of the condition
  (concatenated with z, as DF-GAN's code does), initialised to the identity (scale 1,
  shift 0), so training starts from an unconditioned ResNet. Last: leaky ReLU, a 3x3
  conv to the image channels, tanh. No normalisation layers.
- D: a 3x3 conv from the image, then one residual downsampling block per halving down
  to 4x4 (4x4/2 conv, leaky ReLU, 3x3 conv, leaky ReLU; the branch scaled by a learned
  gain that starts at 0, added to an average-pooled 1x1-conv shortcut). The condition
  embedding is tiled over the 4x4 map and concatenated; a 3x3 conv (2*ndf) and a 4x4
  conv give the logit: one-way output, the matching-aware objective decides what a
  "real" pair is.
- Widths: ngf/ndf next to the image, doubling towards 4x4 up to 8x (DF-GAN: ngf 32 at
  256 px for birds, 64 for COCO; the default here is CPU-sized).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class DFGANConfig:
    image_size: int = 32    # a power of two from 8
    channels: int = 3
    nz: int = 100           # DF-GAN: 100
    ngf: int = 32           # generator width next to the image (x8 at most, towards 4x4)
    ndf: int = 32           # discriminator width next to the image
    conditional: bool = True
    cond_dim: int = 256     # set from the encoder


def _widths(base: int, size: int) -> list[int]:
    """Channels at size, size/2, ..., 4x4: ``base`` next to the image, doubling up to 8x."""
    _check_size(size)
    return [base * min(2 ** i, 8) for i in range(int(math.log2(size)) - 1)]


def _check_size(size: int) -> None:
    if size < 8 or size & (size - 1):
        raise ganforge.GanforgeError(f"dfgan needs image_size a power of two from 8, got {size}; "
                                     f"set --set image_size=32 (or 8, 16, 64, 128, 256 ...)")


def _need_condition(cfg: DFGANConfig, cond) -> None:
    if not cfg.conditional:
        raise ganforge.GanforgeError("dfgan is a conditional model: --set conditional=true with an encoder "
                                     "(text:minilm or text:hashed for captions, label for class sub-folders)")
    if cond is None:
        raise ganforge.GanforgeError("dfgan needs a condition for every sample (a prompt or a class)")


class Affine(nn.Module):
    """Channel-wise scale and shift predicted from the condition; starts as the identity."""

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.scale = nn.Sequential(nn.Linear(cond_dim, channels), nn.ReLU(), nn.Linear(channels, channels))
        self.shift = nn.Sequential(nn.Linear(cond_dim, channels), nn.ReLU(), nn.Linear(channels, channels))
        nn.init.zeros_(self.scale[2].weight)
        nn.init.ones_(self.scale[2].bias)
        nn.init.zeros_(self.shift[2].weight)
        nn.init.zeros_(self.shift[2].bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.scale(c)[:, :, None, None] * h + self.shift(c)[:, :, None, None]


class Fuse(nn.Module):
    """DF-GAN's deep fusion block: affine, leaky ReLU, affine, leaky ReLU."""

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.a1, self.a2 = Affine(cond_dim, channels), Affine(cond_dim, channels)

    def forward(self, h, c):
        h = F.leaky_relu(self.a1(h, c), 0.2)
        return F.leaky_relu(self.a2(h, c), 0.2)


class UpBlock(nn.Module):
    def __init__(self, cond_dim: int, c_in: int, c_out: int):
        super().__init__()
        self.fuse1, self.conv1 = Fuse(cond_dim, c_in), nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.fuse2, self.conv2 = Fuse(cond_dim, c_out), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, h, c):
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        r = self.conv2(self.fuse2(self.conv1(self.fuse1(h, c)), c))
        return self.shortcut(h) + r


class DownBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.LeakyReLU(0.2),
        )
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.gain = nn.Parameter(torch.zeros(1))  # the block starts as its shortcut

    def forward(self, h):
        return F.avg_pool2d(self.shortcut(h), 2) + self.gain * self.branch(h)


class Generator(ganforge.Generator):
    """z [B, nz] and a condition embedding [B, cond_dim] -> images [B, C, S, S] in [-1, 1]."""

    config_class = DFGANConfig

    def __init__(self, cfg: DFGANConfig):
        super().__init__()
        self.cfg = cfg
        widths = _widths(cfg.ngf, cfg.image_size)[::-1]  # 4x4 first
        fused = cfg.nz + cfg.cond_dim  # DF-GAN fuses the condition concatenated with z
        self.fc = nn.Linear(cfg.nz, widths[0] * 16)
        self.blocks = nn.ModuleList(UpBlock(fused, a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.to_image = nn.Conv2d(widths[-1], cfg.channels, 3, 1, 1)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        _need_condition(self.cfg, cond)
        c = torch.cat([z, cond.to(z.dtype)], 1)
        h = self.fc(z).view(len(z), -1, 4, 4)
        for block in self.blocks:
            h = block(h, c)
        return torch.tanh(self.to_image(F.leaky_relu(h, 0.2)))


class Discriminator(ganforge.Discriminator):
    """images [B, C, S, S] and condition embeddings [B, cond_dim] -> logits [B]."""

    config_class = DFGANConfig

    def __init__(self, cfg: DFGANConfig):
        super().__init__()
        self.cfg = cfg
        widths = _widths(cfg.ndf, cfg.image_size)  # at the image first
        self.from_image = nn.Conv2d(cfg.channels, widths[0], 3, 1, 1)
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in zip(widths[:-1], widths[1:])))
        self.joint = nn.Sequential(
            nn.Conv2d(widths[-1] + cfg.cond_dim, cfg.ndf * 2, 3, 1, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(cfg.ndf * 2, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        _need_condition(self.cfg, cond)
        h = self.blocks(self.from_image(x))
        tiled = cond.to(h.dtype)[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.joint(torch.cat([h, tiled], 1)).reshape(len(x))
