"""PacGAN mode coverage on the ring and grid mixtures."""

import math

import pytest
import torch

from ganforge import GanforgeError
from ganforge_toy.mixtures import GRID_STD, RING_STD, grid_modes, mode_coverage, ring_modes


def test_ring_has_eight_modes_on_the_unit_circle():
    modes = ring_modes()
    assert modes.shape == (8, 2)
    assert torch.allclose(modes.norm(dim=1), torch.ones(8, dtype=torch.float64))
    angles = torch.atan2(modes[:, 1], modes[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles, torch.arange(8, dtype=torch.float64) * math.pi / 4, atol=1e-12)
    assert RING_STD == 0.01


def test_grid_has_25_modes_on_the_even_grid():
    modes = grid_modes()
    assert modes.shape == (25, 2)
    assert set(modes[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert len({tuple(p) for p in modes.tolist()}) == 25
    assert GRID_STD == 0.05


def test_points_on_every_mode_capture_all_with_full_quality():
    modes = ring_modes()
    assert mode_coverage(modes.repeat(10, 1), modes, RING_STD) == {"modes": 8, "modes_total": 8, "high_quality": 100.0}


def test_points_on_three_modes_capture_three():
    modes = grid_modes()
    points = modes[[0, 7, 24]].repeat_interleave(100, 0)
    out = mode_coverage(points, modes, GRID_STD)
    assert out["modes"] == 3 and out["high_quality"] == 100.0


def test_points_far_away_are_not_high_quality():
    modes = ring_modes()
    out = mode_coverage(torch.full((50, 2), 5.0), modes, RING_STD)
    assert out == {"modes": 0, "modes_total": 8, "high_quality": 0.0}
    # between two modes is far too: the ring's modes are ~0.77 apart, 3 std is 0.03
    between = (modes[0] + modes[1]) / 2
    assert mode_coverage(between[None], modes, RING_STD)["modes"] == 0


def test_samples_of_the_mixture_itself_are_about_99_percent_high_quality():
    # In 2-D, P(|N(0, s^2 I)| <= 3 s) = 1 - exp(-9/2) = 98.89 %.
    modes = ring_modes()
    g = torch.Generator().manual_seed(0)
    points = modes[torch.randint(8, (20000,), generator=g)] + RING_STD * torch.randn(20000, 2, generator=g, dtype=torch.float64)
    out = mode_coverage(points, modes, RING_STD)
    assert out["modes"] == 8
    assert out["high_quality"] == pytest.approx(100 * (1 - math.exp(-4.5)), abs=0.3)


def test_partial_quality_and_nan_points():
    modes = ring_modes()
    points = torch.cat([modes[:2], torch.tensor([[9.0, 9.0], [float("nan"), 0.0]], dtype=torch.float64)])
    out = mode_coverage(points.float(), modes.tolist(), RING_STD)
    assert out["modes"] == 2 and out["high_quality"] == 50.0


def test_bad_input_is_an_error():
    with pytest.raises(GanforgeError, match="points"):
        mode_coverage(torch.zeros(5, 3), ring_modes(), RING_STD)
    with pytest.raises(GanforgeError, match="std"):
        mode_coverage(torch.zeros(5, 2), ring_modes(), 0.0)
