import importlib
import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

# The tests of each built-in plugin distribution run when it is installed (README's first
# command installs them all); after `pip uninstall ganforge-audio` its tests are left out.
PLUGIN_TEST_DIRS = {"toy": "ganforge-toy", "image": "ganforge-image", "audio": "ganforge-audio", "text": "ganforge-text"}


def _missing_distributions() -> dict[str, str]:
    missing = {}
    for folder, dist in PLUGIN_TEST_DIRS.items():
        try:
            metadata.distribution(dist)
        except metadata.PackageNotFoundError:
            missing[folder] = dist
    return missing


collect_ignore = list(_missing_distributions())


def pytest_report_header(config):
    missing = _missing_distributions()
    if missing:
        return "not installed, their tests left out: " + ", ".join(sorted(missing.values()))

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
def _cache_in_tmp(tmp_path_factory):
    """Caches (text:minilm's caption embeddings) go to a temporary folder, never ~/.cache."""
    old = os.environ.get("GANFORGE_CACHE_DIR")
    os.environ["GANFORGE_CACHE_DIR"] = str(tmp_path_factory.mktemp("ganforge-cache"))
    yield
    if old is None:
        os.environ.pop("GANFORGE_CACHE_DIR", None)
    else:
        os.environ["GANFORGE_CACHE_DIR"] = old


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    import torch

    torch.set_num_threads(2)


@pytest.fixture
def bench_script():
    """Import a script of bench/ by name (its own imports, such as ``report``, resolve)."""
    folder = str(Path(__file__).resolve().parents[1] / "bench")

    def load(name: str):
        sys.path.insert(0, folder)
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(folder)
    return load
