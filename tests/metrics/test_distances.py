"""Frechet distance, KID and precision/recall/density/coverage against closed forms and references."""

import numpy as np
import pytest
import torch

from ganforge import GanforgeError
from ganforge.metrics import frechet_distance, kernel_inception_distance, precision_recall_density_coverage


def gaussian(n, f, seed, shift=0.0, scale=1.0):
    """``n`` samples of one fixed correlated Gaussian in ``f`` dims (``seed`` picks the samples)."""
    mix = torch.eye(f) + torch.randn(f, f, generator=torch.Generator().manual_seed(1234)) / (2 * f**0.5)
    return (torch.randn(n, f, generator=torch.Generator().manual_seed(seed)) @ mix) * scale + shift


def numpy_fd(a, b):
    """The textbook computation in float64: eigenvalues of the (non-symmetric) product."""
    a, b = a.double().numpy(), b.double().numpy()
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    eig = np.linalg.eigvals(s1 @ s2)
    tr_covmean = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


# ---------------------------------------------------------------- Frechet distance


def test_fd_of_a_set_with_itself_is_zero():
    a = gaussian(500, 16, 0)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_fd_of_two_samples_of_one_distribution_is_small():
    fd_same = frechet_distance(gaussian(2000, 8, 0), gaussian(2000, 8, 1))
    fd_diff = frechet_distance(gaussian(2000, 8, 0), gaussian(2000, 8, 1, shift=1.0))
    assert fd_same < 0.05
    assert fd_diff > 5.0


def test_fd_of_shifted_copies_is_the_squared_mean_difference():
    a = gaussian(300, 10, 0).double()
    shift = torch.linspace(-1, 2, 10, dtype=torch.float64)
    # a and a + shift have exactly the same covariance: FD = ||shift||^2
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift.square().sum()), rel=1e-9, abs=1e-9)


def test_fd_of_isotropic_gaussians_matches_the_closed_form():
    # N(0, I) vs N(0, 4 I) in F dims: FD = F (1 + 4 - 2*2) = F, up to sampling noise.
    a, b = torch.randn(20000, 4, generator=torch.Generator().manual_seed(0)), None
    b = 2 * torch.randn(20000, 4, generator=torch.Generator().manual_seed(1))
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)


@pytest.mark.parametrize("f", [1, 3, 32])
def test_fd_matches_a_float64_numpy_reference(f):
    a = gaussian(200, f, 0)
    b = gaussian(150, f, 1, shift=0.3, scale=1.5)
    assert frechet_distance(a, b) == pytest.approx(numpy_fd(a, b), rel=1e-7, abs=1e-9)


def test_fd_is_symmetric_and_takes_float32_and_1d_input():
    a, b = gaussian(100, 5, 0), gaussian(100, 5, 1, shift=0.5)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    assert isinstance(frechet_distance(a[:, 0], b[:, 0]), float)


def test_fd_with_fewer_features_than_samples_rank_deficient_is_finite():
    a, b = gaussian(5, 64, 0), gaussian(5, 64, 1)
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value >= 0
    assert value == pytest.approx(numpy_fd(a, b), rel=1e-5, abs=1e-6)


def test_fd_errors_name_the_problem():
    with pytest.raises(GanforgeError, match="at least 2"):
        frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))
    with pytest.raises(GanforgeError, match="feature sizes differ"):
        frechet_distance(torch.zeros(5, 3), torch.zeros(5, 4))
    with pytest.raises(GanforgeError, match="NaN"):
        frechet_distance(torch.full((5, 3), float("nan")), torch.zeros(5, 3))
    with pytest.raises(GanforgeError, match=r"\[N, F\]"):
        frechet_distance(torch.zeros(5, 3, 2), torch.zeros(5, 3, 2))


# ---------------------------------------------------------------- KID


def numpy_mmd2(x, y):
    """Unbiased polynomial MMD^2 written with explicit sums over pairs."""
    x, y = x.double().numpy(), y.double().numpy()
    m, f = x.shape
    k = lambda u, v: (u @ v / f + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_with_one_full_subset_is_the_unbiased_mmd2():
    a, b = gaussian(20, 4, 0), gaussian(20, 4, 1, shift=0.5)
    out = kernel_inception_distance(a, b, subsets=1, subset_size=20)
    assert out["kid"] == pytest.approx(numpy_mmd2(a, b), rel=1e-9)
    assert out["kid_std"] == 0.0


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    same = kernel_inception_distance(gaussian(600, 8, 0), gaussian(600, 8, 1), subsets=20, subset_size=300)
    diff = kernel_inception_distance(gaussian(600, 8, 0), gaussian(600, 8, 1, shift=0.5), subsets=20, subset_size=300)
    assert abs(same["kid"]) < 0.01
    assert diff["kid"] > 0.05 and diff["kid"] > 10 * abs(same["kid"])
    assert diff["kid_std"] > 0


def test_kid_is_reproducible_and_shrinks_subsets_to_the_data():
    a, b = gaussian(30, 4, 0), gaussian(40, 4, 1)
    first = kernel_inception_distance(a, b, subsets=5, subset_size=1000, seed=3)
    assert first == kernel_inception_distance(a, b, subsets=5, subset_size=1000, seed=3)
    assert first != kernel_inception_distance(a, b, subsets=5, subset_size=1000, seed=4)
    with pytest.raises(GanforgeError, match="subset_size"):
        kernel_inception_distance(a, b, subset_size=1)
    with pytest.raises(GanforgeError, match="subsets"):
        kernel_inception_distance(a, b, subsets=0)


# ---------------------------------------------------------------- precision / recall / density / coverage


def test_prdc_of_identical_sets_is_one():
    a = gaussian(300, 6, 0)
    out = precision_recall_density_coverage(a, a.clone(), k=5)
    assert out == {"precision": 1.0, "recall": 1.0, "density": pytest.approx(1.0), "coverage": 1.0}


def test_prdc_of_two_samples_of_one_distribution_is_high():
    out = precision_recall_density_coverage(gaussian(1000, 4, 0), gaussian(1000, 4, 1), k=5)
    assert out["precision"] > 0.8 and out["recall"] > 0.8 and out["coverage"] > 0.8
    assert 0.7 < out["density"] < 1.3


def test_prdc_falls_as_the_fake_set_moves_away():
    real = gaussian(500, 4, 0)
    scores = [precision_recall_density_coverage(real, gaussian(500, 4, 1, shift=s)) for s in (0.0, 1.0, 20.0)]
    for key in ("precision", "recall", "density", "coverage"):
        assert scores[0][key] > scores[1][key] > scores[2][key] == 0.0, key


def test_prdc_separates_fidelity_from_diversity():
    real = gaussian(800, 2, 0)
    collapsed = real[:1].repeat(800, 1) + 0.001 * gaussian(800, 2, 1)  # every sample near one real point
    out = precision_recall_density_coverage(real, collapsed)
    assert out["precision"] == 1.0  # all samples look real ...
    assert out["recall"] < 0.05 and out["coverage"] < 0.05  # ... but cover almost nothing


def test_prdc_chunking_does_not_change_the_result():
    real, fake = gaussian(120, 3, 0), gaussian(90, 3, 1, shift=0.3)
    assert precision_recall_density_coverage(real, fake, chunk=7) == precision_recall_density_coverage(real, fake)


def test_prdc_needs_more_samples_than_k():
    with pytest.raises(GanforgeError, match="at least 6"):
        precision_recall_density_coverage(torch.randn(5, 2), torch.randn(50, 2), k=5)


def test_kid_gives_the_same_figure_with_and_without_precomputed_kernels(monkeypatch):
    import ganforge.metrics.distances as distances

    a, b = gaussian(60, 5, 0), gaussian(50, 5, 1, shift=0.2)
    fast = kernel_inception_distance(a, b, subsets=4, subset_size=30)
    monkeypatch.setattr(distances, "_KID_PRECOMPUTE_MAX", 10)
    slow = kernel_inception_distance(a, b, subsets=4, subset_size=30)
    assert fast["kid"] == pytest.approx(slow["kid"], rel=1e-10)
    assert fast["kid_std"] == pytest.approx(slow["kid_std"], rel=1e-8)
