"""Helpers shared by the audio tests (a module, not a conftest, so tests can import it)."""

import numpy as np
import soundfile


def write_sine(path, rate, seconds, freqs, subtype="PCM_16"):
    """An audio file with one sine per channel (``freqs`` gives the channel count)."""
    t = np.arange(int(rate * seconds)) / rate
    data = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in freqs], 1).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), data, rate, subtype=subtype)
    return path


def strongest_pitch_class(wave, rate):
    """[N] strongest pitch class (0 = C) of each mono clip [N, T]: STFT magnitudes from
    55 Hz to 4 kHz folded onto 12 pitch classes (bench/quality_t2m.py's root measure)."""
    import torch

    n_fft = 4096
    mag = torch.stft(wave.float(), n_fft, hop_length=1024, window=torch.hann_window(n_fft),
                     return_complex=True).abs().mean(-1)
    freqs = torch.arange(mag.shape[1]) * rate / n_fft
    keep = (freqs >= 55) & (freqs <= 4000)
    pc = torch.round(69 + 12 * torch.log2(freqs[keep] / 440.0)).long() % 12
    return torch.zeros(len(mag), 12).index_add_(1, pc, mag[:, keep]).argmax(1)
