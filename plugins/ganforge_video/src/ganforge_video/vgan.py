"""VGAN (Vondrick, Pirsiavash & Torralba 2016, "Generating Videos with Scene Dynamics").

The generator has two streams fed by the same z:

    foreground (3-D transposed convolutions):  z -> [t0, 4, 4] -> ... -> [T, S, S]
        two heads on the last layer: f (C channels, Tanh) and a mask m (1 channel, Sigmoid)
    background (2-D transposed convolutions):  z -> [4, 4] -> ... -> [S, S], b (C channels, Tanh)

    video = m * f + (1 - m) * b        (b repeated over time: a still scene)

At the paper's size (T=32, S=64, ngf=64) the foreground is 512x2x4x4 -> 256x4x8x8 ->
128x8x16x16 -> 64x16x32x32 -> 32x64x64, the background 512x4x4 -> ... -> 64x64, and the
discriminator (3-D convolutions, stride 2) mirrors the foreground stream down to a
2x4x4 map and one logit. Batch norm after every hidden layer (not the discriminator's
first), ReLU in G, LeakyReLU(0.2) in D, weights N(0, 0.02), as in the paper.

Other sizes: S and T are powers of two. There are log2(S) - 2 stride-2 stages from 4x4;
time doubles at each of the first min(stages, log2 T) of them and starts at
t0 = T / 2^(those doublings) (2 at the paper's size, 1 at the small default of 8
frames of 32x32). Widths double from ngf next to the video towards 4x4, capped at 8*ngf.

Upsampling (``g_up``). The paper's transposed convolutions (``transposed``, kernel 4,
stride 2) print a checkerboard on every frame and, along time, a flicker that is the same
for every sample; the adversarial game then closes the mask and the foreground stream
never gets the gradient to learn. On moving shapes (4 frames of 16x16, 400 steps, same
seed) the mask stayed shut (0.5% of pixels above 0.5, Frechet distance in the
video-stats space 22.1) where ``resize`` (nearest-neighbour x2, then a 3x3(x3)
convolution; Odena et al. 2016) cut out a moving shape over a still scene (13%, 5.5; real
data against itself: 1.3). ``resize`` is the default; ``preset=paper`` uses the paper's.

The mask's L1 sparsity (the paper's lambda = 0.1, ``mask_l1``) is added to the
generator loss by the ``vgan`` objective, which reads the mask of the forward pass that
made the step's fake batch as ``step.fake_extras["mask"]`` (``forward_with_extras``).

Class conditioning (not in the paper): ``g_cond=cbn`` (the small preset) gives every
batch norm of both streams a per-class scale and shift (conditional batch norm, as the
image plugin's DCGAN ``small-data``); ``g_cond=concat`` concatenates the embedding,
scaled to unit length, to z. The discriminator adds a projection term <P c, mean h> on
its last feature map (Miyato & Koyama 2018), P starting at zero.

``d_frames`` (the small preset) adds a 2-D frame discriminator: every frame is scored on
its own (with its own projection) and the mean frame score is added to the video logit,
so one objective trains both (DVD-GAN and MoCoGAN pair an image and a video
discriminator the same way, with separate losses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class VGANConfig:
    frames: int = 16        # T, a power of two (from the data: derived_config)
    frame_size: int = 32    # S, a power of two >= 16
    channels: int = 3
    nz: int = 100
    ngf: int = 16           # generator width next to the video
    ndf: int = 16           # discriminator width next to the video
    d_norm: str = "batch"   # batch (the paper), layer or none
    g_up: str = "resize"    # generator upsampling: resize (nearest x2 + conv) or transposed (the paper)
    g_cond: str = "concat"  # how a conditional G takes the class: concat (to z) or cbn (conditional batch norm)
    d_frames: bool = False  # a 2-D frame discriminator beside the 3-D one (its logits added)
    conditional: bool = False
    cond_dim: int = 64


D_NORMS = ("batch", "layer", "none")
G_UPS = ("transposed", "resize")
G_CONDS = ("concat", "cbn")
_MAX_MULT = 8


def _power_of_two(name: str, value: int, low: int) -> int:
    value = int(value)
    if value < low or value & (value - 1):
        raise ganforge.GanforgeError(f"option '{name}' must be a power of two from {low} up, got {value}")
    return value


def plan(cfg: VGANConfig) -> tuple[int, list[int], list[bool]]:
    """(t0, widths from 4x4 outwards, whether each stride-2 stage doubles time)."""
    size = _power_of_two("frame_size", cfg.frame_size, 16)
    frames = _power_of_two("frames", cfg.frames, 1)
    for name in ("nz", "ngf", "ndf", "channels"):
        if int(getattr(cfg, name)) < 1:
            raise ganforge.GanforgeError(f"option '{name}' must be 1 or more, got {getattr(cfg, name)}")
    if cfg.g_up not in G_UPS:
        raise ganforge.GanforgeError(f"option 'g_up' must be one of {', '.join(G_UPS)}, got {cfg.g_up!r}")
    if cfg.d_norm not in D_NORMS:
        raise ganforge.GanforgeError(f"option 'd_norm' must be one of {', '.join(D_NORMS)}, got {cfg.d_norm!r}")
    if cfg.g_cond not in G_CONDS:
        raise ganforge.GanforgeError(f"option 'g_cond' must be one of {', '.join(G_CONDS)}, got {cfg.g_cond!r}")
    stages = int(math.log2(size)) - 2
    doublings = min(stages, int(math.log2(frames)))
    widths = [int(cfg.ngf) * min(2 ** (stages - 1 - i), _MAX_MULT) for i in range(stages)]
    return frames >> doublings, widths, [i < doublings for i in range(stages)]


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _up3d(c_in: int, c_out: int, doubles_time: bool, how: str = "transposed") -> nn.Module:
    """Twice the size in space (and in time when ``doubles_time``)."""
    if how == "resize":
        # nearest-neighbour upsampling then a 3x3x3 convolution (Odena et al. 2016): no
        # checkerboard, which transposed convolutions print on every frame and, in time,
        # as a flicker that is the same for every sample until training removes it
        scale = (2, 2, 2) if doubles_time else (1, 2, 2)
        return nn.Sequential(nn.Upsample(scale_factor=scale, mode="nearest"), nn.Conv3d(c_in, c_out, 3, 1, 1, bias=False))
    # kernel 4 stride 2 doubles a side; kernel 3 stride 1 pad 1 keeps it
    if doubles_time:
        return nn.ConvTranspose3d(c_in, c_out, 4, 2, 1, bias=False)
    return nn.ConvTranspose3d(c_in, c_out, (3, 4, 4), (1, 2, 2), 1, bias=False)


def _up2d(c_in: int, c_out: int, how: str = "transposed") -> nn.Module:
    if how == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False))
    return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)


def _down2d(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)


def _down3d(c_in: int, c_out: int, halves_time: bool) -> nn.Conv3d:
    if halves_time:
        return nn.Conv3d(c_in, c_out, 4, 2, 1, bias=False)
    return nn.Conv3d(c_in, c_out, (3, 4, 4), (1, 2, 2), 1, bias=False)


# conditional batch norm: the core's, shared with the other plugins' models
CondBatchNorm = ganforge.ConditionalBatchNorm


def _run(layers: nn.Sequential, h: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    for layer in layers:
        h = layer(h, cond) if isinstance(layer, CondBatchNorm) else layer(h)
    return h


class Generator(ganforge.Generator):
    """z [B, nz] (and a condition embedding) -> video [B, C, T, S, S] in [-1, 1]."""

    config_class = VGANConfig

    def __init__(self, cfg: VGANConfig):
        super().__init__()
        t0, widths, doubles = plan(cfg)
        self.cfg = cfg
        self.cbn = bool(cfg.conditional) and cfg.g_cond == "cbn"
        c_in = cfg.nz + (cfg.cond_dim if cfg.conditional and not self.cbn else 0)

        def norm(channels: int, dims: int) -> nn.Module:
            if self.cbn:
                return CondBatchNorm(channels, cfg.cond_dim, dims)
            return (nn.BatchNorm3d if dims == 3 else nn.BatchNorm2d)(channels)

        fg: list[nn.Module] = [nn.ConvTranspose3d(c_in, widths[0], (t0, 4, 4), 1, 0, bias=False),
                               norm(widths[0], 3), nn.ReLU(True)]
        bg: list[nn.Module] = [nn.ConvTranspose2d(c_in, widths[0], 4, 1, 0, bias=False),
                               norm(widths[0], 2), nn.ReLU(True)]
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            fg += [_up3d(a, b, doubles[i], cfg.g_up), norm(b, 3), nn.ReLU(True)]
            bg += [_up2d(a, b, cfg.g_up), norm(b, 2), nn.ReLU(True)]
        self.foreground = nn.Sequential(*fg)
        self.background = nn.Sequential(*bg)
        # the last stage: the foreground's colours and the mask, from the same features (one
        # convolution with channels + 1 outputs is the paper's two heads, computed together)
        self.to_foreground = _up3d(widths[-1], cfg.channels + 1, doubles[-1], cfg.g_up)
        self.to_still = _up2d(widths[-1], cfg.channels, cfg.g_up)
        _init(self)
        for m in self.modules():
            if isinstance(m, CondBatchNorm):
                m.reset_parameters()

    def streams(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The two streams and their composition: foreground [B, C, T, S, S], mask
        [B, 1, T, S, S], background [B, C, S, S] and video [B, C, T, S, S]."""
        if self.cfg.conditional:
            z, cond = ganforge.condition_input(z, cond, "VGAN", concat=not self.cbn, asked="classes (--class)")
        h = z.reshape(len(z), -1)
        f = _run(self.foreground, h[:, :, None, None, None], cond)
        b = _run(self.background, h[:, :, None, None], cond)
        out = self.to_foreground(f)
        foreground, mask = torch.tanh(out[:, :-1]), torch.sigmoid(out[:, -1:])
        background = torch.tanh(self.to_still(b))
        video = mask * foreground + (1 - mask) * background.unsqueeze(2)
        return {"video": video, "foreground": foreground, "mask": mask, "background": background}

    def forward_with_extras(self, z: torch.Tensor, cond: torch.Tensor | None = None):
        """The video and, for the objective's sparsity term, the mask of the same pass."""
        out = self.streams(z, cond)
        return out["video"], {"mask": out["mask"]}

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_with_extras(z, cond)[0]


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm3d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class Discriminator(ganforge.Discriminator):
    """Video [B, C, T, S, S] (and a condition embedding) -> logits [B]: 3-D convolutions."""

    config_class = VGANConfig

    def __init__(self, cfg: VGANConfig):
        super().__init__()
        t0, widths, doubles = plan(VGANConfig(**{**cfg.__dict__, "ngf": cfg.ndf}))
        self.cfg = cfg
        widths, halves = widths[::-1], doubles[::-1]  # from the video inwards
        layers: list[nn.Module] = [_down3d(cfg.channels, widths[0], halves[0]), nn.LeakyReLU(0.2, True)]
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers += [_down3d(a, b, halves[i + 1]), _norm(cfg.d_norm, b), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        self.out = nn.Conv3d(widths[-1], 1, (t0, 4, 4), 1, 0, bias=False)  # [t0, 4, 4] -> one logit
        self.project = nn.Linear(cfg.cond_dim, widths[-1], bias=False) if cfg.conditional else None
        self.frame_d = FrameDiscriminator(cfg, widths) if cfg.d_frames else None
        _init(self)
        if self.project is not None:
            nn.init.zeros_(self.project.weight)  # starts as the unconditional D
        if self.frame_d is not None and self.frame_d.project is not None:
            nn.init.zeros_(self.frame_d.project.weight)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.project is not None and cond is None:
            raise ganforge.GanforgeError("this VGAN discriminator is conditional: it needs a condition")
        h = self.features(x)
        logit = self.out(h).reshape(len(x))
        if self.project is not None:
            logit = logit + (self.project(cond.to(h.dtype)) * h.mean(dim=(2, 3, 4))).sum(dim=1)
        if self.frame_d is not None:
            logit = logit + self.frame_d(x, cond)
        return logit


class FrameDiscriminator(nn.Module):
    """Each frame [C, S, S] of a video -> a logit (2-D convolutions, the video D's widths,
    its own projection term); a video's score is the mean over its frames. It judges what
    a single frame shows (the shape) while the 3-D discriminator judges how it moves, as
    DVD-GAN's and MoCoGAN's image discriminators do."""

    def __init__(self, cfg: VGANConfig, widths: list[int]):
        super().__init__()
        layers: list[nn.Module] = [_down2d(cfg.channels, widths[0]), nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths, widths[1:]):
            norm = {"batch": nn.BatchNorm2d(b), "layer": nn.GroupNorm(1, b)}.get(cfg.d_norm, nn.Identity())
            layers += [_down2d(a, b), norm, nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        self.out = nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False)
        self.project = nn.Linear(cfg.cond_dim, widths[-1], bias=False) if cfg.conditional else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        b, c, t, s, _ = x.shape
        h = self.features(x.transpose(1, 2).reshape(b * t, c, s, s))
        logit = self.out(h).reshape(b, t)
        if self.project is not None:
            per_frame = h.mean(dim=(2, 3)).reshape(b, t, -1)
            logit = logit + (self.project(cond.to(h.dtype))[:, None] * per_frame).sum(dim=2)
        return logit.mean(dim=1)


LOSSES = ("non-saturating", "hinge")


class VGANObjective(ganforge.NonSaturating):
    """The paper's game (the non-saturating GAN loss; ``loss=hinge``: the hinge loss of
    SNGAN/BigGAN instead) plus ``mask_l1`` * mean |m| on the generator: the mask stays
    sparse where the still background explains the scene."""

    @property
    def hinge(self) -> bool:
        loss = self.config.get("loss", "non-saturating")
        if loss not in LOSSES:
            raise ganforge.GanforgeError(f"option 'loss' must be one of {', '.join(LOSSES)}, got {loss!r}")
        return loss == "hinge"

    def discriminator_loss(self, s):
        if not self.hinge:
            return super().discriminator_loss(s)
        real, fake = s.D_real(), s.D(s.fake().detach())
        loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return loss, {"d_real": real.detach().mean(), "d_fake": fake.detach().mean()}

    def generator_loss(self, s):
        if self.hinge:
            loss, logs = -s.D(s.fake()).mean(), {}
        else:
            loss, logs = super().generator_loss(s)
        mask = s.fake_extras.get("mask")  # of the pass that made the batch just scored
        weight = float(self.config.get("mask_l1", 0.0))
        if mask is not None and weight > 0:
            sparsity = mask.abs().mean()
            loss = loss + weight * sparsity
            logs = {**logs, "mask_mean": sparsity.detach()}
        return loss, logs
