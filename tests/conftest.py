import os

import pytest

# Tests never download anything.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _fresh_plugin_manager():
    """Each test starts from the installed plugins, whatever an earlier test loaded."""
    from ganforge import plugins

    yield
    plugins._manager = None


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    import torch

    torch.set_num_threads(2)
