"""SpecGAN (Donahue, McAuley & Puckette, "Adversarial Audio Synthesis", ICLR 2019).

A DCGAN over spectrograms: the generator draws a normalised log-magnitude spectrogram
(128 frequency bins x audio_length/128 frames, 128 x 128 for the paper's 16384 samples;
the bins linear as in the paper, or with ``representation=logfreq`` on a log-frequency grid)
with five 5x5 stride-2 transposed convolutions; the critic mirrors it. The modality
turns spectrograms into sound (undo the per-frequency normalisation, Griffin-Lim), so
``ganforge.load(run).generate(...).save(dir)`` writes WAV files.

``forward`` gives normalised spectrograms (what the critic sees in training);
``generate`` turns them into audio: it undoes the per-frequency normalisation with the
data set's statistics (learned by the audio modality, stored in the run's modality
state and handed to the network through the configuration as ``spec_mean`` /
``spec_std``) and recovers a phase with Griffin-Lim (``griffin_lim_iters``, a
generation option). ``generate(..., output="spectrogram")`` returns the spectrograms.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

import ganforge

HOP = 128  # STFT hop of the modality's spectrograms
BINS = 128


@dataclass
class SpecGANConfig:
    audio_length: int = 16384  # samples per clip -> audio_length / 128 frames
    channels: int = 1
    nz: int = 100  # latent size, z ~ U[-1, 1]
    model_dim: int = 64  # d in the paper: widths run d .. 16d
    kernel: int = 5
    conditional: bool = False
    cond_dim: int = 64
    griffin_lim_iters: int = 16  # default phase-recovery iterations when generating audio
    spec_mean: list | None = None  # per-frequency statistics of the data (from the modality)
    spec_std: list | None = None
    representation: str = "spectrogram"  # what the modality feeds the critic: spectrogram or logfreq
    sample_rate: int = 16000  # the logfreq grid's frequencies depend on it


def _start_size(cfg: SpecGANConfig) -> tuple[int, int]:
    """The 4 x (frames / 32) grid five stride-2 layers grow into 128 x frames."""
    if cfg.representation not in ("spectrogram", "logfreq"):
        raise ganforge.GanforgeError(f"SpecGAN works on spectrograms, but representation={cfg.representation}; "
                                     "use spectrogram or logfreq")
    from . import spectral

    hop = spectral.grid_hop(cfg.representation, cfg.audio_length)
    frames = cfg.audio_length // hop
    if cfg.audio_length % hop or frames % 32:
        raise ganforge.GanforgeError(f"option 'audio_length' {cfg.audio_length} does not suit SpecGAN; "
                                     "use 4096, 8192, 16384, 32768 or 65536")
    return BINS // 32, frames // 32


class Generator(ganforge.Generator):
    config_class = SpecGANConfig
    latent_distribution = "uniform"  # z ~ U[-1, 1], as in the paper

    def __init__(self, cfg: SpecGANConfig):
        super().__init__()
        self.cfg = cfg
        self.start = _start_size(cfg)
        d = cfg.model_dim
        widths = [16 * d, 8 * d, 4 * d, 2 * d, d, cfg.channels]
        z_dim = cfg.nz + (cfg.cond_dim if cfg.conditional else 0)
        self.dense = nn.Linear(z_dim, widths[0] * self.start[0] * self.start[1])
        pad = cfg.kernel // 2
        # padding k//2 with output_padding 1 doubles height and width exactly
        self.layers = nn.ModuleList(
            nn.ConvTranspose2d(widths[i], widths[i + 1], cfg.kernel, 2, padding=pad, output_padding=1)
            for i in range(5))

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cfg.conditional:
            if cond is None:
                raise ganforge.GanforgeError("this SpecGAN is conditional: generate with classes=[...]")
            z = torch.cat([z, cond.to(z.dtype)], 1)
        h = F.relu(self.dense(z).view(len(z), -1, *self.start))
        for i, layer in enumerate(self.layers):
            h = layer(h)
            h = torch.tanh(h) if i == len(self.layers) - 1 else F.relu(h)
        return h  # [B, channels, 128, frames], normalised log magnitude in [-1, 1]

    @torch.no_grad()
    def generate(self, n, cond=None, generator=None, latents=None, griffin_lim_iters: int | None = None,
                 output: str = "audio", **options):
        """``n`` clips as [n, channels, audio_length] waveforms (``output="spectrogram"``:
        the normalised spectrograms)."""
        if options:
            raise ganforge.GanforgeError(
                f"SpecGAN takes the generation options griffin_lim_iters and output, not {sorted(options)}")
        if output not in ("audio", "spectrogram"):
            raise ganforge.GanforgeError(f"generation option output='{output}': use audio or spectrogram")
        device = next(self.parameters()).device
        z = self.sample_latent(n, generator=generator, device=device) if latents is None else latents.to(device)
        spec = self(z, cond) if cond is not None else self(z)
        if output == "spectrogram":
            return spec
        if self.cfg.spec_mean is None or self.cfg.spec_std is None:
            raise ganforge.GanforgeError("this SpecGAN has no spectrogram statistics (spec_mean/spec_std); "
                                         "train it through the specgan recipe")
        from . import spectral

        iters = int(griffin_lim_iters or self.cfg.griffin_lim_iters)
        if iters < 1:
            raise ganforge.GanforgeError(f"griffin_lim_iters must be at least 1, got {iters}")
        mean, std = torch.tensor(self.cfg.spec_mean), torch.tensor(self.cfg.spec_std)
        mag = spectral.denormalise(spec.float(), mean, std)
        return spectral.grid_to_audio(mag, self.cfg.representation, int(self.cfg.sample_rate),
                                      int(self.cfg.audio_length), iters)


class Discriminator(ganforge.Discriminator):
    config_class = SpecGANConfig

    def __init__(self, cfg: SpecGANConfig):
        super().__init__()
        self.cfg = cfg
        start = _start_size(cfg)
        d = cfg.model_dim
        widths = [cfg.channels, d, 2 * d, 4 * d, 8 * d, 16 * d]
        self.layers = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], cfg.kernel, 2, padding=cfg.kernel // 2) for i in range(5))
        features = widths[-1] * start[0] * start[1]
        self.out = nn.Linear(features, 1)
        # projection discriminator for class conditioning
        self.project = nn.Linear(features, cfg.cond_dim, bias=False) if cfg.conditional else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for layer in self.layers:
            h = F.leaky_relu(layer(h), 0.2)
        h = h.flatten(1)
        score = self.out(h).squeeze(1)
        if self.project is not None and cond is not None:
            score = score + (self.project(h) * cond.to(h.dtype)).sum(1)
        return score
