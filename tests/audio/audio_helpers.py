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
