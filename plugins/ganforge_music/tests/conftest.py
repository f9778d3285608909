"""Shared fixtures of the music plugin's tests: a small band data set."""

import importlib.util

import pytest

# Collected from the ganforge checkout's root too: without the distribution installed, its tests are left out.
if importlib.util.find_spec("ganforge_music") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def band(tmp_path_factory):
    """8 songs of the band demo set (2 per style, 8 bars each: 16 phrases), with captions."""
    from ganforge_music.datasets import make_band

    return make_band(tmp_path_factory.mktemp("band") / "band", n=8, seed=1)
