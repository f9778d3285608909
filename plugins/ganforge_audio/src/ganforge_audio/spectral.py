"""Spectrograms: SpecGAN's representation, Griffin-Lim inversion, pictures and audio features.

SpecGAN (Donahue et al. 2019) sees a 16384-sample clip as an STFT with a 256-sample
window and a 128-sample hop: 128 frames x 129 bins, of which the last (Nyquist) bin is
dropped so both sides are powers of two. Magnitudes become ``log(|X| + 1e-6)``, then
each frequency bin is normalised by the data set's mean and 3 standard deviations and
clipped to [-1, 1] (the generator ends in tanh). Inversion undoes the normalisation
and recovers a phase with Griffin-Lim.

That linear grid spaces bins 62.5 Hz apart at 16 kHz, wider than a semitone below about
1 kHz, so it cannot carry which note sounds. The ``logfreq`` representation (an option of
text2music) keeps SpecGAN's networks and 128 bins but puts them on a log-frequency grid,
100 Hz to 0.475 x the sample rate (7.6 kHz at 16 kHz: about 1.7 bins per semitone),
read from a finer STFT (2048 points at 16 kHz). Its hop is audio_length / 32 up to 512
samples (32 frames for a 1 s clip): with a 128-sample hop text2music's generator
saturated to one noise picture within 200 steps (with 512 it did not), probably because
2048-point frames 128 samples apart are so alike that the critic spots any texture. Going back, each fine STFT bin interpolates the grid, and
Griffin-Lim recovers a phase at that resolution.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio

N_FFT = 256
HOP = 128
N_BINS = N_FFT // 2  # 129 STFT bins, the Nyquist bin dropped
LOG_EPS = 1e-6


def magnitude(wave: torch.Tensor) -> torch.Tensor:
    """[B, C, L] waveforms -> [B, C, 128, L/128] STFT magnitudes (last bin and frame dropped)."""
    frames = wave.shape[-1] // HOP
    # power=1: magnitudes; center=True pads reflectively, so frame t is centred on sample t*HOP
    stft = torchaudio.transforms.Spectrogram(n_fft=N_FFT, hop_length=HOP, power=1.0).to(wave.device)
    mag = stft(wave.float())
    return mag[..., :N_BINS, :frames]


def log_magnitude(wave: torch.Tensor) -> torch.Tensor:
    return torch.log(magnitude(wave) + LOG_EPS)


def normalise(logmag: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Per-frequency standardisation to 3 std, clipped to [-1, 1] (the paper's recipe)."""
    mean, std = mean.to(logmag)[:, None], std.to(logmag)[:, None]
    return ((logmag - mean) / (3.0 * std)).clamp(-1.0, 1.0)


def denormalise(spec: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Normalised spectrogram -> STFT magnitude."""
    mean, std = mean.to(spec)[:, None], std.to(spec)[:, None]
    return (torch.exp(spec.float() * 3.0 * std + mean) - LOG_EPS).clamp_min(0.0)


def griffin_lim(mag: torch.Tensor, n_iter: int = 16) -> torch.Tensor:
    """[B, C, 128, T] magnitudes -> [B, C, T*128] waveforms.

    The dropped Nyquist bin and the dropped last frame come back as zeros so the STFT
    geometry matches :func:`magnitude` exactly. The initial phase is zero (not random),
    so the same spectrogram always gives the same audio: ``generate(seed=...)`` is
    reproducible.
    """
    frames = mag.shape[-1]
    full = torch.nn.functional.pad(mag.float(), (0, 1, 0, 1))
    gl = torchaudio.transforms.GriffinLim(n_fft=N_FFT, hop_length=HOP, power=1.0, n_iter=max(1, int(n_iter)),
                                          length=frames * HOP, rand_init=False).to(mag.device)
    wave = gl(full)
    # Griffin-Lim can overshoot; audio files hold [-1, 1]
    return wave.clamp(-1.0, 1.0)


# --------------------------------------------------------------------------- log-frequency grid

REPRESENTATIONS = ("spectrogram", "logfreq")  # the two spectrogram grids (the networks' 128 x T)
LOGFREQ_FMIN = 100.0  # Hz: below C3 (131 Hz), the lowest note of the tones data


def logfreq_hop(audio_length: int) -> int:
    """The log-frequency grid's hop: audio_length / 32, at most 512 samples."""
    return min(512, audio_length // 32)


def grid_hop(representation: str, audio_length: int) -> int:
    return logfreq_hop(audio_length) if representation == "logfreq" else HOP


def logfreq_n_fft(sample_rate: int) -> int:
    """The STFT size behind the log-frequency grid: the power of two >= rate / 8 (2048 at
    16 kHz: 7.8 Hz bins, fine enough to place a 131 Hz note within its semitone)."""
    return 1 << max(8, math.ceil(math.log2(sample_rate / 8)))


_BASES: dict = {}


def logfreq_bases(sample_rate: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(to_grid [128, F], from_grid [F, 128])`` between an STFT's F bins and the grid.

    To the grid: a triangle in log-frequency around each grid centre, as wide as the grid
    step or one STFT bin, whichever is wider, normalised to an average (a band's typical
    magnitude). From it: linear interpolation in log-frequency at each STFT bin's
    frequency, zero outside the grid."""
    if sample_rate not in _BASES:
        n_fft = logfreq_n_fft(sample_rate)
        lin = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
        fmax = 0.475 * sample_rate
        centres = torch.log2(torch.tensor(LOGFREQ_FMIN, dtype=torch.float64)) + torch.arange(
            N_BINS, dtype=torch.float64) * (math.log2(fmax / LOGFREQ_FMIN) / (N_BINS - 1))
        step = float(centres[1] - centres[0])
        where = torch.log2(lin.clamp_min(1e-3))
        half = torch.log2(1 + (sample_rate / n_fft) / centres.exp2()).clamp_min(step)
        to_grid = (1 - (where[None, :] - centres[:, None]).abs() / half[:, None]).clamp_min(0)
        to_grid = to_grid / to_grid.sum(1, keepdim=True)
        pos = (where - centres[0]) / step  # fractional grid index of each STFT bin
        inside = (pos >= 0) & (pos <= N_BINS - 1)
        lo = pos.clamp(0, N_BINS - 2).floor().long()
        frac = (pos - lo).clamp(0, 1)
        from_grid = torch.zeros(len(lin), N_BINS, dtype=torch.float64)
        rows = torch.arange(len(lin))[inside]
        from_grid[rows, lo[inside]] = 1 - frac[inside]
        from_grid[rows, lo[inside] + 1] += frac[inside]
        _BASES[sample_rate] = (to_grid.float(), from_grid.float())
    return _BASES[sample_rate]


def logfreq_magnitude(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """[B, C, L] waveforms -> [B, C, 128, L/hop] magnitudes on the log-frequency grid."""
    hop = logfreq_hop(wave.shape[-1])
    frames = wave.shape[-1] // hop
    n_fft = logfreq_n_fft(sample_rate)
    stft = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop, power=1.0).to(wave.device)
    mag = stft(wave.float())[..., :frames]
    return torch.einsum("kf,...ft->...kt", logfreq_bases(sample_rate)[0].to(mag), mag)


def logfreq_griffin_lim(mag: torch.Tensor, sample_rate: int, audio_length: int, n_iter: int = 16) -> torch.Tensor:
    """[B, C, 128, T] grid magnitudes -> [B, C, audio_length] waveforms (zero initial
    phase, so the same grid always gives the same audio)."""
    hop = logfreq_hop(audio_length)
    if mag.shape[-1] * hop != audio_length:
        raise ValueError(f"{mag.shape[-1]} log-frequency frames do not make {audio_length} samples")
    n_fft = logfreq_n_fft(sample_rate)
    fine = torch.einsum("fk,...kt->...ft", logfreq_bases(sample_rate)[1].to(mag.device), mag.float())
    fine = torch.nn.functional.pad(fine, (0, 1))  # the dropped last frame
    gl = torchaudio.transforms.GriffinLim(n_fft=n_fft, hop_length=hop, power=1.0, n_iter=max(1, int(n_iter)),
                                          length=audio_length, rand_init=False).to(mag.device)
    return gl(fine).clamp(-1.0, 1.0)


def grid_magnitude(wave: torch.Tensor, representation: str, sample_rate: int) -> torch.Tensor:
    """Magnitudes on ``representation``'s grid (spectrogram: SpecGAN's linear one)."""
    if representation == "logfreq":
        return logfreq_magnitude(wave, sample_rate)
    return magnitude(wave)


def grid_log_magnitude(wave: torch.Tensor, representation: str, sample_rate: int) -> torch.Tensor:
    return torch.log(grid_magnitude(wave, representation, sample_rate) + LOG_EPS)


def grid_to_audio(mag: torch.Tensor, representation: str, sample_rate: int, audio_length: int,
                  n_iter: int = 16) -> torch.Tensor:
    """Magnitudes on ``representation``'s grid -> [B, C, audio_length] waveforms (Griffin-Lim)."""
    if representation == "logfreq":
        return logfreq_griffin_lim(mag, sample_rate, audio_length, n_iter)
    return griffin_lim(mag, n_iter)


def dataset_statistics(logmags) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frequency mean and std of log magnitudes, over every clip, channel and frame.

    ``logmags`` is an iterable of [b, C, 128, T] chunks; accumulated in float64 so a large
    data set does not lose precision."""
    total = torch.zeros(N_BINS, dtype=torch.float64)
    total_sq = torch.zeros(N_BINS, dtype=torch.float64)
    count = 0
    for chunk in logmags:
        c = chunk.double().transpose(-2, -1).reshape(-1, N_BINS)
        total += c.sum(0)
        total_sq += c.square().sum(0)
        count += c.shape[0]
    mean = total / count
    std = (total_sq / count - mean.square()).clamp_min(0).sqrt()
    # a constant bin (digital silence) would divide by zero
    std = std.clamp_min(1e-3)
    return mean.float(), std.float()


# --------------------------------------------------------------------------- pictures

# A perceptually ordered dark-to-bright colour map (black, purple, orange, pale yellow).
_ANCHORS = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], dtype=np.float32)


def colourise(values: np.ndarray) -> np.ndarray:
    """[H, W] values in [0, 1] -> [H, W, 3] uint8 RGB."""
    pos = np.clip(values, 0, 1) * (len(_ANCHORS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac
    return rgb.round().astype(np.uint8)


def spectrogram_pixels(logmag: torch.Tensor, floor_db: float = 80.0) -> np.ndarray:
    """[128, T] log magnitude -> [128, T, 3] RGB, low frequencies at the bottom, 80 dB range."""
    db = 20.0 / math.log(10) * logmag.float()
    top = db.max()
    scaled = ((db - (top - floor_db)) / floor_db).clamp(0, 1).flip(0)
    return colourise(scaled.cpu().numpy())


def spectrogram_grid(logmags: torch.Tensor, columns: int | None = None, gap: int = 2):
    """A PIL image of [N, 128, T] spectrograms in a grid."""
    from PIL import Image

    n, h, w = logmags.shape
    columns = columns or max(1, min(n, int(math.ceil(math.sqrt(n * h / max(w, 1))))))
    rows = int(math.ceil(n / columns))
    canvas = np.zeros((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = spectrogram_pixels(logmags[i])
    return Image.fromarray(canvas)


# --------------------------------------------------------------------------- features


#: what the spectral statistics can judge (``ganforge evaluate`` prints it)
SPECTRAL_JUDGES = ("spectral statistics (log-mel bands, centroid, flatness, bandwidth, energy; mean and "
                   "spread over time): judge timbre, pitch range and loudness, not melody, rhythm or the "
                   "order of events in a clip")


def spectral_features(mag: torch.Tensor, sample_rate: int, n_mels: int = 40) -> torch.Tensor:
    """Spectral statistics of [B, C, 128, T] magnitudes -> [B, 2*n_mels + 8] features.

    Per clip (channels averaged): mean and std over time of each log-mel band, and of the
    spectral centroid (in kHz), spectral flatness, spectral bandwidth and log RMS energy.
    Cheap, needs no trained network, and separates timbres and pitches well enough for
    Frechet distance and nearest-neighbour checks on small data sets."""
    mag = mag.float().mean(1)  # [B, F, T]
    power = mag.square()
    fb = torchaudio.functional.melscale_fbanks(N_BINS + 1, 0.0, sample_rate / 2, n_mels, sample_rate)[:N_BINS]
    mel = torch.log(torch.einsum("bft,fm->bmt", power, fb.to(power)) + 1e-10)
    freqs = torch.arange(N_BINS, dtype=torch.float32, device=mag.device) * sample_rate / N_FFT / 1000.0
    weight = mag / (mag.sum(1, keepdim=True) + 1e-10)
    centroid = (weight * freqs[:, None]).sum(1)  # [B, T]
    bandwidth = (weight * (freqs[:, None] - centroid[:, None]).square()).sum(1).sqrt()
    flatness = torch.exp(torch.log(power + 1e-10).mean(1)) / (power.mean(1) + 1e-10)
    energy = torch.log(power.mean(1) + 1e-10)
    per_frame = torch.stack([centroid, flatness, bandwidth, energy], 1)  # [B, 4, T]
    parts = [mel.mean(2), mel.std(2), per_frame.mean(2), per_frame.std(2)]
    return torch.cat(parts, 1)
