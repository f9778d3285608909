"""KID in the audio modality's spectral-statistics feature space.

The spectral statistics come in their own units (log powers around -20, kHz, a
flatness in [0, 1]); the cubic KID kernel assumes features of order one. Raw, two
halves of one data set scored a KID near 1,800 and white noise over 200,000, with a
std of exactly 0 (every "subset" was the whole set)."""

import pytest
import torch

from ganforge.metrics import kernel_inception_distance, kid


@pytest.fixture(scope="module")
def tone_features(tmp_path_factory):
    from ganforge_audio.datasets import make_tones
    from ganforge_audio.modality import AudioModality

    path = make_tones(tmp_path_factory.mktemp("kid") / "tones", n=80, timbres="sine,organ")
    modality = AudioModality({}, {})
    real = modality.load(path)
    name, extract = modality.feature_space(real)
    x = real.batch(torch.arange(len(real)))["x"]
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) - 0.5
    return name, extract(x).double(), extract(noise).double()


class Ctx:
    """What the kid metric reads of an EvalContext."""

    def __init__(self, name, real, fake, **options):
        self._f = (name, real, fake)
        self.options = options
        self.seed = 0

    def features(self):
        return self._f


def test_kid_of_two_halves_of_the_data_is_near_zero_and_noise_far(tone_features):
    name, real, noise = tone_features
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(1))
    half_a, half_b = real[order[:40]], real[order[40:]]
    same = kid(Ctx(name, half_a, half_b, kid_subsets=50))
    far = kid(Ctx(name, real, noise, kid_subsets=50))
    assert same["feature_space"] == far["feature_space"] == "audio-spectral-stats"
    assert same["kid_std"] > 0 and far["kid_std"] > 0  # subsets of half a set differ
    assert same["kid_subset_size"] == 20
    assert abs(same["kid"]) < 3 * same["kid_std"] + 0.05  # zero within its own spread
    assert far["kid"] > 10 * (abs(same["kid"]) + same["kid_std"])
    assert 1 < far["kid"] < 10_000  # a figure of sensible size, not hundreds of thousands


def test_kid_does_not_depend_on_the_units_of_the_features(tone_features):
    name, real, noise = tone_features
    base = kid(Ctx(name, real, noise, kid_subsets=10))
    scaled = kid(Ctx(name, real * 1000 + 5, noise * 1000 + 5, kid_subsets=10))
    assert scaled["kid"] == pytest.approx(base["kid"], rel=1e-6)
    # the raw kernel (published Inception KIDs) is still there, and shows the old defect
    raw = kid(Ctx(name, real, noise, kid_subsets=10, kid_normalise=False))
    assert raw["kid"] > 1000 * base["kid"]


def test_kid_std_is_zero_only_for_one_subset():
    a = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    b = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    assert kernel_inception_distance(a, b, subsets=1)["kid_std"] == 0.0
    many = kernel_inception_distance(a, b, subsets=10)  # default subset_size 1000 > 50
    assert many["kid_std"] > 0 and many["kid_subset_size"] == 25
