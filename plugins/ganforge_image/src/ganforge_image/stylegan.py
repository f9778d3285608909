"""StyleGAN2 (Karras et al. 2020) and StyleGAN (2019, ``variant=stylegan1``), one file.

Read top to bottom: the building blocks (equalised-learning-rate layers, the [1,3,3,1]
resampling filter, modulated convolution), then the generator (mapping network, then
synthesis network) and the residual discriminator. The design follows the papers and
the structure of NVIDIA's stylegan2-ada-pytorch; the code is written from the papers.

Generator
    z [B, nz] --normalise--> (concat embedded condition) --map_layers FC (lr x0.01)--> w [B, w_dim]
    w is broadcast to one copy per layer: ws [B, num_ws, w_dim], num_ws = 2 log2(size) - 2.
    Synthesis, from a learned constant 4x4 input, one block per resolution:

        4x4:   const ---------------------- conv(ws[0]) --- toRGB(ws[1]) --> img
        8x8:   up+conv(ws[1]) conv(ws[2]) --- toRGB(ws[3]) + up(img)    --> img
        2^k:   up+conv(ws[2k-5]) conv(ws[2k-4]) --- toRGB(ws[2k-3]) + up(img)

    A conv layer is a *modulated* 3x3 convolution: a per-layer affine map turns w into
    one scale per input channel (bias initialised to 1), the weights are scaled by it and
    *demodulated* (each output channel divided by rsqrt(sum w^2 + 1e-8)), then per-pixel
    noise times a learned strength (initialised to 0), bias, leaky ReLU * sqrt(2).
    toRGB is a modulated 1x1 conv without demodulation; the image is the sum of every
    resolution's toRGB output, upsampled ("skip" generator).

    ``variant=stylegan1`` instead runs conv -> noise -> bias -> leaky ReLU -> instance
    norm -> AdaIN style (scale, shift from w) in every layer (the 4x4 constant gets one
    such epilogue before its conv), and one toRGB at the last resolution. Same ws layout.

    Layers 0-3 (4x4 and 8x8) carry the "coarse" styles, 4-7 (16-32) the "middle" and the
    rest the "fine" ones (the StyleGAN paper's split); ``mix_from`` picks the crossover.

Discriminator (residual, the same for both variants)
    fromRGB 1x1 at full size, then per resolution a block
        x -> conv3x3 -> conv3x3 with 2x down --+--> (x_main + x_skip) / sqrt(2)
        x -> 2x down -> conv1x1 (no bias) -----+
    down to 4x4, then minibatch standard deviation (groups of 4, one extra channel),
    conv3x3, FC, FC -> logit, plus a projection term <P c, h> for a condition (as in
    dcgan.py; P starts at zero).

Widths: a resolution r has min(channel_base / r, channel_max) channels in G and D.

Training tricks that live here (the losses are in stylegan_objective.py)
    - w_avg, a buffer, tracks the mean w (beta 0.995) in every training forward; the EMA
      generator copies it. Truncation: w = w_avg + psi (w - w_avg).
    - style mixing regularisation: with probability ``style_mixing`` a training forward
      draws a second z and uses its w from a random layer on.

Generation options (``pipe.generate(..., truncation=0.7)``, ``--set truncation=0.7``):
``truncation`` psi (1: none), ``truncation_cutoff`` (truncate only the first N layers),
``noise_mode`` const | random | none, ``mix_seed`` (a seed, or a list cycled over the
samples, whose w replaces the sample's from layer ``mix_from`` on: the sample gives the
coarse styles, the mix seed the fine ones) and ``mix_from`` (default 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class StyleGANConfig:
    image_size: int = 32        # a power of two from 16 to 256
    channels: int = 3           # image channels (3 RGB, 1 grayscale)
    variant: str = "stylegan2"  # stylegan2 (modulated convs, skip G) or stylegan1 (AdaIN)
    nz: int = 128               # size of z
    w_dim: int = 128            # size of w (and of the style-space input of every layer)
    map_layers: int = 2         # FC layers of the mapping network (8 in the papers)
    map_lr_mul: float = 0.01    # learning-rate multiplier of the mapping network
    channel_base: int = 1024    # width at resolution r is min(channel_base / r, channel_max)
    channel_max: int = 128
    mbstd_group: int = 4        # minibatch-stddev group size (0 disables)
    style_mixing: float = 0.9   # probability of style mixing in a training forward
    w_avg_beta: float = 0.995   # decay of the tracked mean w (for truncation)
    conditional: bool = False
    cond_dim: int = 64          # size of the condition embedding (from the encoder)


def _check(cfg: StyleGANConfig) -> int:
    """Validate the configuration; return log2(image_size)."""
    size = int(cfg.image_size)
    if size < 16 or size > 256 or size & (size - 1):
        raise ganforge.GanforgeError(f"option 'image_size' must be 16, 32, 64, 128 or 256 for stylegan, got {size}")
    if cfg.variant not in ("stylegan2", "stylegan1"):
        raise ganforge.GanforgeError(f"option 'variant' must be stylegan2 or stylegan1, got {cfg.variant!r}")
    for name in ("channels", "nz", "w_dim", "map_layers", "channel_base", "channel_max"):
        if int(getattr(cfg, name)) < 1:
            raise ganforge.GanforgeError(f"option '{name}' must be 1 or more, got {getattr(cfg, name)}")
    if not 0 <= float(cfg.style_mixing) <= 1:
        raise ganforge.GanforgeError(f"option 'style_mixing' must be a probability in [0, 1], got {cfg.style_mixing}")
    if int(cfg.mbstd_group) < 0:
        raise ganforge.GanforgeError(f"option 'mbstd_group' must be 0 or more, got {cfg.mbstd_group}")
    if cfg.conditional and int(cfg.cond_dim) < 1:
        raise ganforge.GanforgeError(f"option 'cond_dim' must be 1 or more when conditional, got {cfg.cond_dim}")
    return int(math.log2(size))


def _width(cfg: StyleGANConfig, res: int) -> int:
    return max(1, min(int(cfg.channel_base) // res, int(cfg.channel_max)))


def num_ws(image_size: int) -> int:
    """How many per-layer w vectors a generator of this size takes."""
    return 2 * int(math.log2(image_size)) - 2


# ---------------------------------------------------------------------------- building blocks

def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU 0.2 times sqrt(2), which keeps the signal's magnitude (StyleGAN's gain)."""
    return F.leaky_relu(x, 0.2) * math.sqrt(2)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class EqualLinear(nn.Module):
    """Fully connected layer with the equalised learning rate: weights drawn N(0, 1/lr_mul^2)
    and scaled at run time by lr_mul / sqrt(fan_in), so Adam's step is the same for all."""

    def __init__(self, c_in: int, c_out: int, bias_init: float = 0.0, lr_mul: float = 1.0, act: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((c_out,), float(bias_init) / lr_mul))
        self.gain, self.lr_mul, self.act = lr_mul / math.sqrt(c_in), lr_mul, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.gain, self.bias * self.lr_mul)
        return lrelu(x) if self.act else x


class EqualConv2d(nn.Module):
    """Plain convolution with the equalised learning rate (the discriminator's, StyleGAN1's)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.gain = 1 / math.sqrt(c_in * kernel * kernel)

    def forward(self, x: torch.Tensor, stride: int = 1, padding: int | None = None) -> torch.Tensor:
        k = self.weight.shape[-1]
        return F.conv2d(x, self.weight * self.gain, self.bias, stride=stride, padding=k // 2 if padding is None else padding)


# The [1, 3, 3, 1] binomial filter of StyleGAN2's up- and downsampling (separable, 4x4).
_F1 = torch.tensor([1.0, 3.0, 3.0, 1.0])
_FILTER = torch.outer(_F1, _F1) / _F1.sum() ** 2


def _depthwise(x: torch.Tensor, gain: float) -> torch.Tensor:
    return (_FILTER * gain).to(x).expand(x.shape[1], 1, 4, 4)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """2x upsampling: zero insertion, then the [1,3,3,1] filter (x4 to keep the mean)."""
    return F.conv_transpose2d(x, _depthwise(x, 4.0), stride=2, padding=1, groups=x.shape[1])


def downsample(x: torch.Tensor) -> torch.Tensor:
    """2x downsampling: the [1,3,3,1] filter, then every second pixel."""
    return F.conv2d(x, _depthwise(x, 1.0), stride=2, padding=1, groups=x.shape[1])


def blur(x: torch.Tensor, pad: int) -> torch.Tensor:
    """The [1,3,3,1] filter at stride 1 (before a strided convolution)."""
    return F.conv2d(F.pad(x, [pad] * 4), _depthwise(x, 1.0), groups=x.shape[1])


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     padding: int = 1) -> torch.Tensor:
    """StyleGAN2's weight (de)modulation, with weight [O, I, k, k] and styles [B, I].

    Equivalent to convolving sample b with w'[o,i] = w[o,i] s[b,i] / sqrt(sum_{i,k} (w s)^2 + 1e-8)
    (test_stylegan checks it against that per-sample formulation), but computed as
    scale input channels -> one shared convolution -> scale output channels, which is a
    plain conv2d and much faster on a CPU than a grouped convolution with per-sample weights."""
    x = x * styles[:, :, None, None]
    x = F.conv2d(x, weight, padding=padding)
    if demodulate:
        # sum over i, k of (w[o,i,k] s[b,i])^2 = sum_i (sum_k w[o,i,k]^2) s[b,i]^2
        d = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()  # [B, O]
        x = x * d[:, :, None, None]
    return x


# ---------------------------------------------------------------------------- generator

class MappingNetwork(nn.Module):
    """z (and a condition embedding) -> w, with the tracked mean ``w_avg`` for truncation."""

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        self.cfg = cfg
        c_in = cfg.nz
        # StyleGAN2-ADA's conditioning: embed the condition to w_dim, normalise, concatenate to z.
        self.embed = EqualLinear(cfg.cond_dim, cfg.w_dim) if cfg.conditional else None
        if self.embed is not None:
            c_in += cfg.w_dim
        dims = [c_in] + [cfg.w_dim] * cfg.map_layers
        self.layers = nn.Sequential(*[EqualLinear(a, b, lr_mul=cfg.map_lr_mul, act=True)
                                      for a, b in zip(dims, dims[1:])])
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None, update_w_avg: bool = False) -> torch.Tensor:
        x = normalize_2nd_moment(z.float())
        if self.embed is not None:
            if cond is None:
                raise ganforge.GanforgeError("this StyleGAN generator is conditional: give it classes or prompts")
            x = torch.cat([x, normalize_2nd_moment(self.embed(cond.float()))], dim=1)
        w = self.layers(x)
        if update_w_avg:
            self.w_avg.copy_(w.detach().float().mean(0).lerp(self.w_avg, self.cfg.w_avg_beta))  # float: w is bf16 under autocast
        return w


class ModulatedLayer(nn.Module):
    """StyleGAN2 synthesis layer: [2x up] modulated 3x3 conv, noise, bias, leaky ReLU."""

    def __init__(self, cfg, c_in: int, c_out: int, res: int, up: bool):
        super().__init__()
        self.up = up
        self.affine = EqualLinear(cfg.w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(res, res))  # noise_mode=const

    def forward(self, x, w, noise_mode: str = "random"):
        styles = self.affine(w)
        if self.up:
            x = upsample(x)
        x = modulated_conv2d(x, self.weight, styles, demodulate=True)
        return lrelu(add_noise(x, self.noise_const, self.noise_strength, noise_mode) + self.bias[:, None, None])


class AdaINLayer(nn.Module):
    """StyleGAN1 synthesis layer: [2x up, 3x3 conv], noise, bias, leaky ReLU, instance
    norm, then the style's scale and shift (AdaIN). Without ``c_in`` there is no conv
    (the epilogue of the 4x4 constant)."""

    def __init__(self, cfg, c_in: int | None, c_out: int, res: int, up: bool):
        super().__init__()
        self.up = up
        self.conv = EqualConv2d(c_in, c_out, 3, bias=False) if c_in else None
        self.affine = EqualLinear(cfg.w_dim, 2 * c_out, bias_init=0.0)
        with torch.no_grad():
            self.affine.bias[:c_out] = 1.0  # scale starts at 1, shift at 0
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(res, res))

    def forward(self, x, w, noise_mode: str = "random"):
        if self.up:
            x = upsample(x)
        if self.conv is not None:
            x = self.conv(x)
        x = lrelu(add_noise(x, self.noise_const, self.noise_strength, noise_mode) + self.bias[:, None, None])
        x = F.instance_norm(x, eps=1e-8)
        scale, shift = self.affine(w).chunk(2, dim=1)
        return x * scale[:, :, None, None] + shift[:, :, None, None]


def add_noise(x, noise_const, strength, noise_mode: str):
    if noise_mode == "random":
        return x + torch.randn(len(x), 1, *x.shape[2:], device=x.device, dtype=x.dtype) * strength
    if noise_mode == "const":
        return x + noise_const.to(x.dtype) * strength
    return x  # none


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to image channels, no demodulation (StyleGAN2)."""

    def __init__(self, cfg, c_in: int):
        super().__init__()
        self.affine = EqualLinear(cfg.w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cfg.channels, c_in, 1, 1))
        self.bias = nn.Parameter(torch.zeros(cfg.channels))
        self.gain = 1 / math.sqrt(c_in)

    def forward(self, x, w):
        styles = self.affine(w) * self.gain
        return modulated_conv2d(x, self.weight, styles, demodulate=False, padding=0) + self.bias[:, None, None]


class SynthesisNetwork(nn.Module):
    """ws [B, num_ws, w_dim] -> image [B, C, S, S]. ``self.layers`` lists every styled
    layer with the index of the w it reads (``self.w_index``): the style-mixing tests
    check exactly which w each layer got."""

    def __init__(self, cfg: StyleGANConfig, log2: int):
        super().__init__()
        self.cfg, self.v2 = cfg, cfg.variant == "stylegan2"
        self.num_ws = num_ws(cfg.image_size)
        self.const = nn.Parameter(torch.randn(_width(cfg, 4), 4, 4))
        self.layers, self.w_index, self.to_rgb = nn.ModuleList(), [], nn.ModuleList()
        self.block_of: list[int] = []  # the block (0 = 4x4) of each layer
        for block, k in enumerate(range(2, log2 + 1)):
            res, c_out = 2 ** k, _width(cfg, 2 ** k)
            c_in = _width(cfg, res // 2) if k > 2 else c_out
            if self.v2:
                if k == 2:  # 4x4: conv(ws[0]), toRGB(ws[1])
                    self._add(ModulatedLayer(cfg, c_in, c_out, res, up=False), 0, block)
                else:       # up-conv(ws[2b-1]), conv(ws[2b]), toRGB(ws[2b+1])
                    self._add(ModulatedLayer(cfg, c_in, c_out, res, up=True), 2 * block - 1, block)
                    self._add(ModulatedLayer(cfg, c_out, c_out, res, up=False), 2 * block, block)
                self.to_rgb.append(ToRGB(cfg, c_out))
            else:
                if k == 2:  # 4x4: AdaIN on the constant (ws[0]), conv + AdaIN (ws[1])
                    self._add(AdaINLayer(cfg, None, c_out, res, up=False), 0, block)
                    self._add(AdaINLayer(cfg, c_out, c_out, res, up=False), 1, block)
                else:       # up-conv + AdaIN (ws[2b]), conv + AdaIN (ws[2b+1])
                    self._add(AdaINLayer(cfg, c_in, c_out, res, up=True), 2 * block, block)
                    self._add(AdaINLayer(cfg, c_out, c_out, res, up=False), 2 * block + 1, block)
        if not self.v2:  # StyleGAN1 (without progressive growing): one toRGB at the end
            self.to_rgb.append(EqualConv2d(_width(cfg, cfg.image_size), cfg.channels, 1))

    def _add(self, layer, w_index: int, block: int) -> None:
        self.layers.append(layer)
        self.w_index.append(w_index)
        self.block_of.append(block)

    def forward(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        x = self.const.to(ws.dtype).expand(len(ws), -1, -1, -1)
        img = None
        for i, (layer, wi, block) in enumerate(zip(self.layers, self.w_index, self.block_of)):
            x = layer(x, ws[:, wi], noise_mode)
            last_of_block = i + 1 == len(self.layers) or self.block_of[i + 1] != block
            if self.v2 and last_of_block:  # skip generator: sum of upsampled toRGB outputs
                rgb = self.to_rgb[block](x, ws[:, wi + 1])
                img = rgb if img is None else upsample(img) + rgb
        return img if self.v2 else self.to_rgb[0](x)


class Generator(ganforge.Generator):
    """z [B, nz] (and a condition embedding [B, cond_dim]) -> images [B, C, S, S], about [-1, 1].

    ``mapping(z, cond, truncation)`` -> ws [B, num_ws, w_dim] and ``synthesis(ws,
    noise_mode)`` -> images are public: style mixing and interpolation use them."""

    config_class = StyleGANConfig
    NOISE_MODES = ("const", "random", "none")

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        log2 = _check(cfg)
        self.cfg = cfg
        self.num_ws = num_ws(cfg.image_size)
        self.mapping_network = MappingNetwork(cfg)
        self.synthesis_network = SynthesisNetwork(cfg, log2)

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_network.w_avg

    def mapping(self, z: torch.Tensor, cond: torch.Tensor | None = None, truncation: float = 1.0,
                truncation_cutoff: int | None = None, update_w_avg: bool = False) -> torch.Tensor:
        """z -> ws [B, num_ws, w_dim]: w = w_avg + psi (w - w_avg) on the first
        ``truncation_cutoff`` layers (all when None)."""
        w = self.mapping_network(z, cond, update_w_avg=update_w_avg)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation != 1:
            cut = self.num_ws if truncation_cutoff is None else int(truncation_cutoff)
            ws[:, :cut] = self.w_avg.lerp(ws[:, :cut].float(), float(truncation)).to(ws.dtype)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        return self.synthesis_network(ws, noise_mode=noise_mode)

    def training_ws(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The ws of a training forward: w_avg is updated, and with probability
        ``style_mixing`` the layers from a random cutoff on take the w of a second z."""
        ws = self.mapping(z, cond, update_w_avg=True)
        p = float(self.cfg.style_mixing)
        if p > 0 and float(torch.rand(())) < p:
            cutoff = int(torch.randint(1, self.num_ws, ()))
            other = self.mapping(torch.randn_like(z), cond)
            ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)
        return ws

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.training:
            return self.synthesis(self.training_ws(z, cond), noise_mode="random")
        return self.synthesis(self.mapping(z, cond), noise_mode="const")

    # ------------------------------------------------------------------ inference

    def generate(self, n, cond=None, generator=None, latents=None, truncation=1.0, truncation_cutoff=None,
                 noise_mode="const", mix_seed=None, mix_from=4, **options):
        if options:
            raise ganforge.GanforgeError(
                f"stylegan takes no generation option {sorted(options)}; it takes truncation, truncation_cutoff, "
                f"noise_mode, mix_seed, mix_from")
        truncation, noise_mode = self._check_options(truncation, truncation_cutoff, noise_mode, mix_from)
        device = self.w_avg.device
        z = (self.sample_latent(n, generator=generator) if latents is None else latents).to(device)
        cond = cond.to(device) if cond is not None else None
        ws = self.mapping(z, cond, truncation, truncation_cutoff)
        if mix_seed is not None:
            seeds = mix_seed if isinstance(mix_seed, (list, tuple)) else [mix_seed]
            try:
                seeds = [int(s) for s in seeds]
            except (TypeError, ValueError):
                raise ganforge.GanforgeError(f"option 'mix_seed' takes a seed or a list of seeds, got {mix_seed!r}") from None
            if not seeds:
                raise ganforge.GanforgeError("option 'mix_seed' names no seed")
            z2 = torch.cat([self.sample_latent(1, generator=torch.Generator().manual_seed(seeds[i % len(seeds)]))
                            for i in range(len(z))]).to(device)
            ws = mix_styles(ws, self.mapping(z2, cond, truncation, truncation_cutoff), int(mix_from))
        return self.synthesis(ws, noise_mode=noise_mode)

    def _check_options(self, truncation, truncation_cutoff, noise_mode, mix_from):
        try:
            truncation = float(truncation)
        except (TypeError, ValueError):
            raise ganforge.GanforgeError(f"option 'truncation' takes a number (psi, 1: none), got {truncation!r}") from None
        if not math.isfinite(truncation):
            raise ganforge.GanforgeError(f"option 'truncation' takes a finite number, got {truncation}")
        if noise_mode not in self.NOISE_MODES:
            raise ganforge.GanforgeError(f"option 'noise_mode' must be const, random or none, got {noise_mode!r}")
        for name, value in (("truncation_cutoff", truncation_cutoff), ("mix_from", mix_from)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or not 0 <= value <= self.num_ws):
                raise ganforge.GanforgeError(f"option '{name}' must be a layer index from 0 to {self.num_ws}, "
                                             f"got {value!r}")
        return truncation, noise_mode


def mix_styles(ws_coarse: torch.Tensor, ws_fine: torch.Tensor, mix_from: int) -> torch.Tensor:
    """Layers before ``mix_from`` from ``ws_coarse``, the rest from ``ws_fine``."""
    return torch.cat([ws_coarse[:, :mix_from], ws_fine[:, mix_from:]], dim=1)


# ---------------------------------------------------------------------------- discriminator

class DiscriminatorBlock(nn.Module):
    """Residual block: two 3x3 convs (the second downsamples) plus a 1x1 downsampled skip."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0 = EqualConv2d(c_in, c_in, 3)
        self.conv1 = EqualConv2d(c_in, c_out, 3)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)

    def forward(self, x):
        y = self.skip(downsample(x), padding=0)
        x = lrelu(self.conv0(x))
        x = lrelu(self.conv1(blur(x, 2), stride=2, padding=0))  # filter, then a strided 3x3 conv
        return (x + y) * math.sqrt(0.5)


def minibatch_stddev(x: torch.Tensor, group: int) -> torch.Tensor:
    """One more channel: the std over groups of ``group`` samples, averaged over features
    and pixels (the largest group size <= ``group`` that divides the batch)."""
    n, c, h, w = x.shape
    g = max(d for d in range(1, min(group, n) + 1) if n % d == 0)
    y = x.reshape(g, -1, c, h, w).float()
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n / g]
    y = y.to(x.dtype).reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(ganforge.Discriminator):
    """Images [B, C, S, S] (and a condition embedding) -> logits [B]."""

    config_class = StyleGANConfig

    def __init__(self, cfg: StyleGANConfig):
        super().__init__()
        log2 = _check(cfg)
        self.cfg = cfg
        self.from_rgb = EqualConv2d(cfg.channels, _width(cfg, cfg.image_size), 1)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(_width(cfg, 2 ** k), _width(cfg, 2 ** (k - 1)))
                                      for k in range(log2, 2, -1)])
        c = _width(cfg, 4)
        self.conv = EqualConv2d(c + (1 if cfg.mbstd_group > 0 else 0), c, 3)
        self.fc = EqualLinear(c * 16, c, act=True)
        self.out = EqualLinear(c, 1)
        self.project = EqualLinear(cfg.cond_dim, c) if cfg.conditional else None
        if self.project is not None:
            nn.init.zeros_(self.project.weight)  # begins as the unconditional D (as dcgan.py)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        x = self.blocks(lrelu(self.from_rgb(x)))
        if self.cfg.mbstd_group > 0:
            x = minibatch_stddev(x, int(self.cfg.mbstd_group))
        h = self.fc(lrelu(self.conv(x)).flatten(1))
        logit = self.out(h).squeeze(1)
        if self.project is not None:
            if cond is None:
                raise ganforge.GanforgeError("this StyleGAN discriminator is conditional: it needs a condition")
            logit = logit + (self.project(cond.to(h.dtype)) * h).sum(dim=1) / math.sqrt(h.shape[1])
        return logit
