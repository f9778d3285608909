"""DCGAN (Radford, Metz & Chintala 2016), generalised to any power-of-two image size.

The networks follow the classic PyTorch DCGAN example layer for layer at 64x64:

    G: z [B, nz, 1, 1]
       ConvT(nz -> 8ngf, 4, 1, 0) BN ReLU                  4x4
       ConvT(8ngf -> 4ngf, 4, 2, 1) BN ReLU                8x8
       ConvT(4ngf -> 2ngf, 4, 2, 1) BN ReLU                16x16
       ConvT(2ngf -> ngf, 4, 2, 1) BN ReLU                 32x32
       ConvT(ngf -> nc, 4, 2, 1) Tanh                      64x64

    D: Conv(nc -> ndf, 4, 2, 1) LeakyReLU(0.2)             32x32  (no norm here)
       Conv(ndf -> 2ndf, 4, 2, 1) BN LeakyReLU(0.2)        16x16
       Conv(2ndf -> 4ndf, 4, 2, 1) BN LeakyReLU(0.2)       8x8
       Conv(4ndf -> 8ndf, 4, 2, 1) BN LeakyReLU(0.2)       4x4
       Conv(8ndf -> 1, 4, 1, 0)                            1x1 -> logit

Other sizes. The example hard-wires 64x64; here the number of stride-2 blocks follows
from the size (log2(size) - 2 upsamplings from 4x4). The width at a resolution is
chosen so that the layer *next to the image* always has ngf (ndf) channels and the
width doubles towards 4x4, capped at 8*ngf (8*ndf):

    size 16:  4x4 has 2ngf          size 64:  8ngf (the reference, exactly)
    size 32:  4x4 has 4ngf          size 128: 8ngf at 4x4 and 8x8, then as at 64

Dropping the reference's widest block at 32x32 (rather than keeping 8ngf at 4x4)
keeps a 32x32 model a quarter of the parameters of the 64x64 one, which is what
the usual CIFAR-10 DCGANs do; capping at 8ngf stops 128x128 and up from growing to
1024+ channels at 4x4.

No convolution has a bias: every conv but the last is followed by a normalisation
that would cancel it, and the reference omits the last ones too. The discriminator
returns logits (no Sigmoid): the objectives use softplus / BCE-with-logits, which is
numerically safe under autocast where Sigmoid + BCELoss is not.

Class conditioning (cGAN). The generator concatenates the condition embedding
[B, cond_dim], scaled to unit length (the length of a one-hot label), to z (Mirza &
Osindero 2014). The discriminator uses a *projection*
(Miyato & Koyama 2018): logit = f(h) + <P c, mean_hw h>, where h are the final 4x4
features and P a learned linear map, initialised to zero. Chosen over concatenating the embedding as
extra input channels because (a) it costs one small matrix product instead of
cond_dim extra channels at full resolution in the first convolution, (b) it works
the same for any embedding (learned labels or sentence embeddings), and (c) it is
the conditioning that works best in practice (SNGAN, BigGAN, StyleGAN2-ADA).

The critic's normalisation is an option (``d_norm``): batch norm as in DCGAN, layer
norm or none. A gradient penalty (WGAN-GP) is defined per example and batch norm
mixes examples, so the WGAN-GP paper drops it in the critic; the dcgan recipe
switches to layer norm when ``objective=wgan-gp``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

import ganforge


@dataclass
class DCGANConfig:
    image_size: int = 64    # a power of two >= 16
    channels: int = 3       # image channels (3 RGB, 1 grayscale)
    nz: int = 100           # latent size
    ngf: int = 64           # generator width next to the image
    ndf: int = 64           # discriminator width next to the image
    conditional: bool = False
    cond_dim: int = 64      # size of the condition embedding (from the encoder)
    d_norm: str = "batch"   # discriminator normalisation: batch, layer, none or spectral
    g_cond: str = "concat"  # how G takes the condition: concat (to z) or cbn (conditional batch norm)
    d_mbstd: int = 0        # minibatch standard deviation group size in D (0: off)


D_NORMS = ("batch", "layer", "none", "spectral")
G_CONDS = ("concat", "cbn")
_MAX_MULT = 8  # widest layer is 8 * ngf (8 * ndf), as in the reference


def _check(cfg: DCGANConfig) -> int:
    """Validate the configuration; return the number of stride-2 stages (log2(size) - 2)."""
    size = int(cfg.image_size)
    if size < 16 or size & (size - 1):
        raise ganforge.GanforgeError(
            f"option 'image_size' must be a power of two from 16 up (16, 32, 64, 128 ...), got {size}"
        )
    if int(cfg.channels) < 1:
        raise ganforge.GanforgeError(f"option 'channels' must be 1 or more, got {cfg.channels}")
    for name in ("nz", "ngf", "ndf"):
        if int(getattr(cfg, name)) < 1:
            raise ganforge.GanforgeError(f"option '{name}' must be 1 or more, got {getattr(cfg, name)}")
    if cfg.d_norm not in D_NORMS:
        raise ganforge.GanforgeError(f"option 'd_norm' must be one of {', '.join(D_NORMS)}, got {cfg.d_norm!r}")
    if cfg.g_cond not in G_CONDS:
        raise ganforge.GanforgeError(f"option 'g_cond' must be one of {', '.join(G_CONDS)}, got {cfg.g_cond!r}")
    if cfg.conditional and int(cfg.cond_dim) < 1:
        raise ganforge.GanforgeError(f"option 'cond_dim' must be 1 or more when conditional, got {cfg.cond_dim}")
    return int(math.log2(size)) - 2


def _widths(base: int, n_stages: int) -> list[int]:
    """Channels at 4x4, 8x8, ... up to the last hidden resolution (size / 2)."""
    # Stage i (0 = 4x4) sits n_stages - 1 - i doublings away from the layer next to the image.
    return [base * min(2 ** (n_stages - 1 - i), _MAX_MULT) for i in range(n_stages)]


def _init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02); norm scales N(1, 0.02), shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# conditional batch norm: the core's, shared with the other plugins' models
CondBatchNorm = ganforge.ConditionalBatchNorm


class Generator(ganforge.Generator):
    """z [B, nz] (and a condition embedding [B, cond_dim]) -> images [B, C, S, S] in [-1, 1]."""

    config_class = DCGANConfig

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        n_stages = _check(cfg)
        self.cfg = cfg
        widths = _widths(cfg.ngf, n_stages)
        self.cbn = bool(cfg.conditional) and cfg.g_cond == "cbn"
        concat = bool(cfg.conditional) and not self.cbn
        in_ch = cfg.nz + (cfg.cond_dim if concat else 0)
        def norm(w: int) -> nn.Module:
            return CondBatchNorm(w, cfg.cond_dim) if self.cbn else nn.BatchNorm2d(w)

        layers: list[nn.Module] = [
            # 1x1 -> 4x4: a "fully connected" projection of z, written as a transposed conv.
            nn.ConvTranspose2d(in_ch, widths[0], 4, 1, 0, bias=False),
            norm(widths[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), norm(c_out), nn.ReLU(True)]
        # Last upsampling straight to the image; Tanh matches data scaled to [-1, 1].
        layers += [nn.ConvTranspose2d(widths[-1], cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        _init_weights(self)
        for m in self.modules():
            if isinstance(m, CondBatchNorm):
                m.reset_parameters()
        # NHWC weights: oneDNN's transposed convolutions run about 1.5x faster in that layout on
        # a CPU (64 images at 64 px; bench/bench_generate_speed.py), and their outputs keep it
        self.to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cfg.conditional:
            z, cond = ganforge.condition_input(z, cond, "DCGAN", concat=not self.cbn)
        h = z.reshape(len(z), -1, 1, 1)
        if not self.cbn:
            return self.main(h)
        for layer in self.main:
            h = layer(h, cond) if isinstance(layer, CondBatchNorm) else layer(h)
        return h


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        # Layer norm over (C, H, W) of each example, with a per-channel scale and shift.
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _with_mbstd(h: torch.Tensor, group: int) -> torch.Tensor:
    """Append the minibatch standard deviation (Karras et al. 2018) as one channel: the
    std of each feature over a group of samples, averaged; a collapsed generator's group
    has none, so the discriminator can see the collapse."""
    b, c, hh, ww = h.shape
    g = min(group, b)
    while b % g:
        g -= 1
    y = h.reshape(g, b // g, c, hh, ww)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [b // g]
    y = y.reshape(1, b // g, 1, 1, 1).expand(g, -1, 1, hh, ww).reshape(b, 1, hh, ww)
    return torch.cat([h, y], dim=1)


class Discriminator(ganforge.Discriminator):
    """Images [B, C, S, S] (and a condition embedding) -> logits [B]."""

    config_class = DCGANConfig

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        n_stages = _check(cfg)
        self.cfg = cfg
        widths = _widths(cfg.ndf, n_stages)[::-1]  # from size/2 down to 4x4
        layers: list[nn.Module] = [
            # No normalisation on the first layer (the reference; it keeps the input statistics).
            nn.Conv2d(cfg.channels, widths[0], 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), _norm(cfg.d_norm, c_out),
                       nn.LeakyReLU(0.2, inplace=True)]
        self.features = nn.Sequential(*layers)
        # 4x4 -> 1x1: the reference's last layer, one logit per image (with the minibatch
        # standard deviation as one more input channel when d_mbstd is on).
        self.mbstd = int(cfg.d_mbstd)
        self.out = nn.Conv2d(widths[-1] + (1 if self.mbstd else 0), 1, 4, 1, 0, bias=False)
        # Projection conditioning: embedding -> one weight per feature channel.
        self.project = nn.Linear(cfg.cond_dim, widths[-1], bias=False) if cfg.conditional else None
        _init_weights(self)
        if self.project is not None:
            # Zero at the start: the conditional D begins as the reference D and learns how much
            # to use the condition. (Drawn like the convs, the class term alone gave logits ~10x
            # larger than the image term at step 0, and early training swung wildly.)
            nn.init.zeros_(self.project.weight)
        if cfg.d_norm == "spectral":
            # Spectral normalisation (Miyato et al. 2018) of every convolution: each layer
            # 1-Lipschitz, instead of normalising activations. (Not the projection: it starts
            # at zero, whose spectral norm is 0.)
            for m in list(self.modules()):
                if isinstance(m, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x)
        logit = self.out(_with_mbstd(h, self.mbstd) if self.mbstd else h).reshape(len(x))
        if self.project is not None:
            if cond is None:
                raise ganforge.GanforgeError("this DCGAN discriminator is conditional: it needs a condition")
            # <P c, mean_hw h>: the mean keeps the class term on the scale of the 4x4 conv's logit.
            logit = logit + (self.project(cond.to(h.dtype)) * h.mean(dim=(2, 3))).sum(dim=1)
        return logit
