"""WaveGAN (Donahue, McAuley & Puckette, "Adversarial Audio Synthesis", ICLR 2019).

DCGAN flattened to one dimension and stretched: every 5x5 stride-2 convolution becomes a
length-25 stride-4 one, so five layers take 16 samples to 16384. The critic shuffles
the phase of its activations so it cannot tell real from fake by the periodic
artefacts transposed convolutions leave. Trained with WGAN-GP.

Other lengths change the number of layers: 16 * 4^k samples take k stride-4 layers
(4096: 4, 16384: 5, 65536: 6) and 8192 / 32768 add one stride-2 layer at the end of
the generator (the start of the critic), as the authors' later code does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge


@dataclass
class WaveGANConfig:
    audio_length: int = 16384  # samples per clip: 4096, 8192, 16384, 32768, 65536
    channels: int = 1  # audio channels (1: mono)
    nz: int = 100  # latent size, z ~ U[-1, 1]
    model_dim: int = 64  # d in the paper: widths run d .. 16d
    kernel_len: int = 25
    phase_shuffle: int = 2  # critic: shift activations by up to n samples (0 disables)
    post_filter_len: int = 0  # learned FIR filter after the generator (paper: 512; 0: none)
    conditional: bool = False
    cond_dim: int = 64  # size of the condition embedding when conditional
    representation: str = "waveform"  # what the modality feeds the critic; WaveGAN needs waveforms


def _check(cfg: WaveGANConfig) -> None:
    if cfg.representation != "waveform":
        raise ganforge.GanforgeError(
            f"WaveGAN works on waveforms, but representation={cfg.representation}; drop that option")


def upsampling_strides(length: int) -> list[int]:
    """Generator strides from 16 samples to ``length``: stride 4 while it fits, then one 2."""
    if length % 16 or length < 64:
        raise ganforge.GanforgeError(f"option 'audio_length' {length} is not 16 * 2^k (use 4096 .. 65536)")
    ratio, strides = length // 16, []
    while ratio >= 4:
        strides.append(4)
        ratio //= 4
    if ratio == 2:
        strides.append(2)
    elif ratio != 1:
        raise ganforge.GanforgeError(f"option 'audio_length' {length} is not 16 * 2^k (use 4096 .. 65536)")
    return strides


def _same_padding(kernel: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) so a transposed conv multiplies the length by exactly ``stride``
    and a conv with the same padding divides it by exactly ``stride`` (TensorFlow's 'same')."""
    padding = (kernel - stride + 1) // 2
    return padding, 2 * padding - (kernel - stride)


class PhaseShuffle(nn.Module):
    """Shift each example's activations by a random k in [-n, n] samples, filling the gap by
    reflection (section 3.3 of the paper). Active only in training mode: at evaluation
    time the critic sees the signal as it is."""

    def __init__(self, n: int):
        super().__init__()
        self.n = int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.n == 0:
            return x
        batch, channels, length = x.shape
        shift = torch.randint(-self.n, self.n + 1, (batch,), device=x.device)
        padded = F.pad(x, (self.n, self.n), mode="reflect")
        # out[t] = x[t - k]: read the padded signal from offset n - k
        index = torch.arange(length, device=x.device)[None, :] + (self.n - shift)[:, None]
        return padded.gather(2, index[:, None, :].expand(batch, channels, length))

    def extra_repr(self) -> str:
        return f"n={self.n}"


class Generator(ganforge.Generator):
    config_class = WaveGANConfig
    latent_distribution = "uniform"  # the paper draws z uniformly from [-1, 1]

    def __init__(self, cfg: WaveGANConfig):
        super().__init__()
        _check(cfg)
        self.cfg = cfg
        strides = upsampling_strides(cfg.audio_length)
        n = len(strides)
        d = cfg.model_dim
        # widths halve at every layer, ending at d before the last layer (16d .. d for 16384)
        widths = [d * 2 ** (n - 1 - i) for i in range(n)] + [cfg.channels]
        z_dim = cfg.nz + (cfg.cond_dim if cfg.conditional else 0)
        self.dense = nn.Linear(z_dim, 16 * widths[0])
        self.layers = nn.ModuleList()
        for i, stride in enumerate(strides):
            padding, output_padding = _same_padding(cfg.kernel_len, stride)
            self.layers.append(nn.ConvTranspose1d(widths[i], widths[i + 1], cfg.kernel_len, stride,
                                                  padding=padding, output_padding=output_padding))
        # the paper's optional learned post-processing filter, to remove the artefact frequencies
        self.post_filter = (nn.Conv1d(cfg.channels, cfg.channels, cfg.post_filter_len, bias=False)
                            if cfg.post_filter_len > 0 else None)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cfg.conditional:
            if cond is None:
                raise ganforge.GanforgeError("this WaveGAN is conditional: generate with classes=[...]")
            z = torch.cat([z, cond.to(z.dtype)], 1)
        h = F.relu(self.dense(z).view(len(z), -1, 16))
        for i, layer in enumerate(self.layers):
            h = layer(h)
            h = torch.tanh(h) if i == len(self.layers) - 1 else F.relu(h)
        if self.post_filter is not None:
            # 'same' length for any filter length, even ones (the paper's 512) included
            k = self.cfg.post_filter_len
            h = self.post_filter(F.pad(h, ((k - 1) // 2, k // 2)))
        return h  # [B, channels, audio_length]


class Discriminator(ganforge.Discriminator):
    config_class = WaveGANConfig

    def __init__(self, cfg: WaveGANConfig):
        super().__init__()
        _check(cfg)
        self.cfg = cfg
        strides = list(reversed(upsampling_strides(cfg.audio_length)))
        n = len(strides)
        d = cfg.model_dim
        widths = [cfg.channels] + [d * 2 ** i for i in range(n)]  # d .. 16d for 16384
        self.layers = nn.ModuleList()
        self.shuffles = nn.ModuleList()
        for i, stride in enumerate(strides):
            padding, _ = _same_padding(cfg.kernel_len, stride)
            self.layers.append(nn.Conv1d(widths[i], widths[i + 1], cfg.kernel_len, stride, padding=padding))
            # phase shuffle after every layer but the last (no batch norm anywhere: WGAN-GP)
            self.shuffles.append(PhaseShuffle(cfg.phase_shuffle) if i < n - 1 else nn.Identity())
        features = 16 * widths[-1]
        self.out = nn.Linear(features, 1)
        # projection discriminator (Miyato & Koyama 2018): score += <embed(h), condition>
        self.project = nn.Linear(features, cfg.cond_dim, bias=False) if cfg.conditional else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for layer, shuffle in zip(self.layers, self.shuffles):
            h = shuffle(F.leaky_relu(layer(h), 0.2))
        h = h.flatten(1)
        score = self.out(h).squeeze(1)
        if self.project is not None and cond is not None:
            score = score + (self.project(h) * cond.to(h.dtype)).sum(1)
        return score
