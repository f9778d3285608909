"""Distances between two sets of feature vectors: Frechet distance, KID, precision/recall.

Every function takes two tensors of shape [N, F] (features of real and of generated
samples, in the same feature space) and returns python floats. Arithmetic is float64
on the CPU whatever the input: these are sums of many small terms, and a float32
Frechet distance of two close distributions is mostly rounding error.

References:
- Frechet distance: Heusel et al. 2017 (FID), the computation of pytorch-fid/clean-fid.
- KID: Binkowski et al. 2018, unbiased MMD^2 with the cubic polynomial kernel
  ``k(x, y) = (x.y / F + 1)^3``, averaged over random subsets (as torchmetrics/clean-fid).
- Precision/recall: Kynkaanniemi et al. 2019; density/coverage: Naeem et al. 2020,
  k-nearest-neighbour balls around real (and, for recall, generated) features.
- Inception score (Salimans et al. 2016) takes class probabilities [N, C] instead:
  ``exp(E_x KL(p(y|x) || p(y)))``, mean and std over splits.
"""

from __future__ import annotations

import torch

from ..errors import GanforgeError


def _as_features(x, name: str, min_n: int = 2) -> torch.Tensor:
    """``x`` as a float64 CPU matrix [N, F], with a clear error for what cannot be scored."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if x.dim() == 1:
        x = x[:, None]  # a set of scalars is a set of 1-D features
    if x.dim() != 2:
        raise GanforgeError(f"{name} features must be a matrix [N, F]; got shape {tuple(x.shape)}")
    if len(x) < min_n:
        raise GanforgeError(f"{name} has {len(x)} sample(s); this metric needs at least {min_n} (raise -n or add data)")
    x = x.detach().to("cpu", torch.float64)
    if not torch.isfinite(x).all():
        raise GanforgeError(f"{name} features contain NaN or inf; the generator (or feature network) diverged")
    return x


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise GanforgeError(f"feature sizes differ ({a.shape[1]} vs {b.shape[1]}): both sets must come from one feature space")


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix by eigen-decomposition."""
    vals, vecs = torch.linalg.eigh(m)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance(feats_a, feats_b) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    ``||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2))``.

    ``S_a S_b`` is not symmetric, so its square root is awkward (scipy's sqrtm returns
    complex noise). It has the same eigenvalues as the symmetric PSD matrix
    ``S_a^(1/2) S_b S_a^(1/2)``, and the trace of a square root is the sum of the
    square roots of the eigenvalues, so two symmetric eigen-decompositions give the
    trace exactly, with negative rounding noise clamped to zero.
    """
    a = _as_features(feats_a, "the first set")
    b = _as_features(feats_b, "the second set")
    _check_pair(a, b)
    mu_a, mu_b = a.mean(0), b.mean(0)
    # Unbiased covariance (N - 1), as numpy.cov and pytorch-fid.
    cov_a = torch.atleast_2d(torch.cov(a.T))
    cov_b = torch.atleast_2d(torch.cov(b.T))
    sqrt_a = _sqrt_psd(cov_a)
    middle = sqrt_a @ cov_b @ sqrt_a
    middle = (middle + middle.T) / 2  # symmetric up to rounding; make it exactly so for eigvalsh
    tr_covmean = torch.linalg.eigvalsh(middle).clamp_min(0).sqrt().sum()
    fd = (mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * tr_covmean
    return max(float(fd), 0.0)


def _polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1) ** 3


def _unbiased_mmd2(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 of two equal-size sets from their kernel matrices."""
    m = len(k_xx)
    # Unbiased: leave out k(x_i, x_i) (the diagonal) from the within-set means.
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within - 2 * k_xy.mean()


#: up to this many samples per set, KID computes the kernel matrices once, and a subset's
#: kernel sums are ``w^T K w`` for its 0/1 indicator vector ``w`` (no per-subset matrix
#: products); above, the 8 bytes * N^2 of the matrices are too much
_KID_PRECOMPUTE_MAX = 4096


def kernel_inception_distance(feats_a, feats_b, subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0, normalise: bool = False) -> dict:
    """Kernel (Inception) distance: the mean and standard deviation over ``subsets``
    random subsets of the unbiased polynomial-kernel MMD^2.

    ``subset_size`` is lowered to the size of the smaller set when the sets are
    smaller (the estimate stays unbiased, only noisier). With more than one subset,
    a subset never holds a whole set: when it would (sets no larger than
    ``subset_size``), subsets of half the smaller set are drawn instead, so the
    subsets differ and ``kid_std`` measures how much the figure moves between them
    (a subset that is the whole set each time gave a std of exactly 0). The subsets
    are drawn with a generator seeded by ``seed``, so the figure is reproducible.

    The kernel ``(x.y / F + 1)^3`` assumes features of order one (Inception's pool
    features are). ``normalise=True`` first centres both sets on the first set's mean
    and divides them by its overall spread (the root mean per-feature variance), one
    factor for every feature, so the feature space's geometry is kept and only its
    units go: the figure is then the same whether a feature space counts in
    millivolts or volts, and ``ganforge evaluate`` does this (``feats_a`` being the
    real set). Without it, features in large units (log powers around -20) give
    figures in the hundreds of thousands whatever the samples.

    Returns ``{"kid": mean, "kid_std": std, "kid_subset_size": m}``; the std is 0 with
    a single subset. KID can be slightly negative for two samples of one
    distribution: it is unbiased.
    """
    a = _as_features(feats_a, "the first set")
    b = _as_features(feats_b, "the second set")
    _check_pair(a, b)
    if subsets < 1:
        raise GanforgeError(f"KID subsets must be at least 1 (got {subsets})")
    if int(subset_size) < 2:
        raise GanforgeError(f"KID subset_size must be at least 2 (got {subset_size})")
    smaller = min(len(a), len(b))
    m = min(int(subset_size), smaller)
    if subsets > 1 and m >= smaller:
        m = smaller // 2  # distinct subsets, so their spread means something
    if m < 2:
        raise GanforgeError(f"KID needs at least {2 if subsets == 1 else 4} samples in each set "
                            f"(have {len(a)} and {len(b)})")
    if normalise:
        centre = a.mean(0)
        spread = a.var(0).mean().sqrt() if len(a) > 1 else torch.tensor(1.0, dtype=a.dtype)
        spread = spread.clamp_min(1e-12)
        a, b = (a - centre) / spread, (b - centre) / spread
    gen = torch.Generator().manual_seed(seed)
    precompute = max(len(a), len(b)) <= _KID_PRECOMPUTE_MAX
    if precompute:
        k_aa, k_bb, k_ab = _polynomial_kernel(a, a), _polynomial_kernel(b, b), _polynomial_kernel(a, b)
        diag_a, diag_b = k_aa.diagonal(), k_bb.diagonal()
    values = torch.empty(subsets, dtype=torch.float64)
    for i in range(subsets):
        ia = torch.randperm(len(a), generator=gen)[:m]
        ib = torch.randperm(len(b), generator=gen)[:m]
        if precompute:
            wa = torch.zeros(len(a), dtype=torch.float64).index_fill_(0, ia, 1.0)
            wb = torch.zeros(len(b), dtype=torch.float64).index_fill_(0, ib, 1.0)
            within = (wa @ k_aa @ wa - diag_a[ia].sum() + wb @ k_bb @ wb - diag_b[ib].sum()) / (m * (m - 1))
            values[i] = within - 2 * (wa @ k_ab @ wb) / (m * m)
        else:
            x, y = a[ia], b[ib]
            values[i] = _unbiased_mmd2(_polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y))
    std = float(values.std()) if subsets > 1 else 0.0
    return {"kid": float(values.mean()), "kid_std": std, "kid_subset_size": m}


def _cdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The direct (not matrix-product) Euclidean distance: exact zeros for identical
    # points and the same value for a pair whichever call computes it, so a point on
    # the edge of a k-NN ball is judged the same way everywhere.
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def _kth_neighbour_radius(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of ``x`` to its k-th nearest other row of ``x``."""
    out = torch.empty(len(x), dtype=x.dtype)
    for s in range(0, len(x), chunk):
        d = _cdist(x[s:s + chunk], x)
        # The nearest "neighbour" of a point is itself at distance 0: take the (k+1)-th.
        out[s:s + chunk] = d.kthvalue(k + 1, dim=1).values
    return out


def precision_recall_density_coverage(real, fake, k: int = 5, chunk: int = 1024) -> dict:
    """Precision, recall (Kynkaanniemi 2019), density and coverage (Naeem 2020).

    Each real feature gets a ball reaching its ``k``-th nearest real neighbour (and each
    generated feature one reaching its k-th generated neighbour, for recall):

    - precision: share of generated samples inside some real ball (fidelity)
    - recall: share of real samples inside some generated ball (diversity)
    - density: mean number of real balls holding a generated sample, divided by k
      (about 1 when the distributions match; above 1 when samples crowd dense regions)
    - coverage: share of real balls holding at least one generated sample

    Pairwise distances are computed ``chunk`` rows at a time, so memory stays at
    ``chunk * N`` whatever the set sizes. Both sets need more than ``k`` samples.
    """
    if k < 1:
        raise GanforgeError(f"precision/recall k must be at least 1 (got {k})")
    r = _as_features(real, "the real set", min_n=k + 1)
    f = _as_features(fake, "the generated set", min_n=k + 1)
    _check_pair(r, f)
    real_radius = _kth_neighbour_radius(r, k, chunk)
    fake_radius = _kth_neighbour_radius(f, k, chunk)

    inside_count = torch.zeros(len(f), dtype=torch.float64)  # real balls holding each fake
    recalled = torch.zeros(len(r), dtype=torch.bool)  # real inside some fake ball
    covered = torch.zeros(len(r), dtype=torch.bool)  # real ball holding some fake
    for s in range(0, len(r), chunk):
        d = _cdist(r[s:s + chunk], f)  # [c, Nf]
        inside = d < real_radius[s:s + chunk, None]
        inside_count += inside.sum(0).to(torch.float64)
        covered[s:s + chunk] = inside.any(1)
        recalled[s:s + chunk] = (d < fake_radius[None, :]).any(1)

    return {
        "precision": float((inside_count > 0).double().mean()),
        "recall": float(recalled.double().mean()),
        "density": float(inside_count.mean() / k),
        "coverage": float(covered.double().mean()),
    }


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """Inception score of class probabilities ``probs`` [N, C]: mean and std over splits.

    ``exp(mean_x KL(p(y|x) || p(y)))`` with ``p(y)`` the mean of ``p(y|x)`` within each of
    ``splits`` consecutive, equal-as-possible parts of the set (Salimans et al. 2016; the
    usual 10 splits). It is 1 when every sample gets the same distribution (one class
    for everything, or no confident class for anything) and at most C, reached when
    every sample is one class with certainty and the classes are equally frequent.
    Fewer samples per split estimate ``p(y)`` worse and bias the score down: compare
    figures only at the same N and splits. The std is 0 for one split.
    """
    p = torch.as_tensor(probs).detach().to("cpu", torch.float64)
    if p.dim() != 2 or p.shape[1] < 1:
        raise GanforgeError(f"inception_score needs class probabilities [N, C]; got shape {tuple(p.shape)}")
    if len(p) < 1:
        raise GanforgeError("inception_score needs at least one sample")
    if not torch.isfinite(p).all() or (p < 0).any():
        raise GanforgeError("inception_score: the class probabilities contain NaN, inf or negative values")
    p = p / p.sum(1, keepdim=True).clamp_min(1e-300)
    splits = max(1, min(int(splits), len(p)))
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(0, keepdim=True)
        # 0 * log 0 = 0: xlogy
        kl = (torch.special.xlogy(part, part) - torch.special.xlogy(part, marginal)).sum(1)
        scores.append(torch.exp(kl.mean()))
    scores = torch.stack(scores)
    std = float(scores.std(unbiased=False)) if len(scores) > 1 else 0.0
    return float(scores.mean()), std
