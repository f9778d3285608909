import pytest


@pytest.fixture(scope="session")
def tones(tmp_path_factory):
    """A small tones data set (20 clips, 16 kHz, class sub-folders by timbre, captions)."""
    from ganforge_audio.datasets import make_tones

    return make_tones(tmp_path_factory.mktemp("data") / "tones", n=20, timbres="sine,organ")


@pytest.fixture(autouse=True)
def _one_thread():
    """Audio tests run many small STFTs; on a shared 2-core machine one thread is the
    fastest (two threads spin-wait on each other); the setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
