"""bench/quality_audio.py measures a Griffin-Lim inversion on the grid the run trained on
(a log-frequency SpecGAN's on the log-frequency grid, not SpecGAN's linear one)."""

import math

import pytest
import torch

from ganforge_audio import spectral

RATE, LENGTH = 16000, 16384


@pytest.mark.parametrize("grid", ["spectrogram", "logfreq"])
def test_spectral_distances_compare_magnitudes_on_the_runs_grid(grid, bench_script):
    bench = bench_script("quality_audio")
    t = torch.arange(LENGTH) / RATE
    wave = (0.5 * torch.sin(2 * math.pi * 440 * t))[None, None]
    mag = spectral.grid_magnitude(wave, grid, RATE)
    sc, lsd = bench.spectral_distances(mag, wave, grid, RATE)
    assert sc < 1e-4 and lsd < 0.01  # a clip against its own magnitudes
    inverted = spectral.grid_to_audio(mag, grid, RATE, LENGTH, n_iter=32)
    sc_inverted, _ = bench.spectral_distances(mag, inverted, grid, RATE)
    assert 1e-4 < sc_inverted < 0.5  # Griffin-Lim's phase: close, not exact
