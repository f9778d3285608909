"""Fixtures of the image plugin's tests: small data sets written once per session."""

import pytest


@pytest.fixture(scope="session")
def shapes16(tmp_path_factory):
    """64 labelled, captioned 16x16 shape images (4 classes of 16)."""
    from ganforge_image.datasets import make_shapes

    return make_shapes(tmp_path_factory.mktemp("shapes") / "shapes16", n=64, size=16, seed=0)


# Tiny networks: enough to exercise every code path in well under a second a step.
TINY = {"image_size": 16, "ngf": 8, "ndf": 8, "nz": 16, "cond_dim": 8, "batch_size": 8,
        "progress": False, "preview_n": 8, "checkpoint_every": 0, "sample_every": 0, "log_every": 1}


@pytest.fixture
def tiny():
    return dict(TINY)
