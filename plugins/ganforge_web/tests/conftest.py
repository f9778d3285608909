"""Shared fixtures: two tiny trained runs (images with classes, audio), both logged to TensorBoard."""

import importlib.util
import os

import pytest

# Collected from the ganforge checkout's root too: without the distribution installed, its tests are left out.
if importlib.util.find_spec("ganforge_web") is None:
    collect_ignore_glob = ["test_*.py"]

# Tests never download anything, and Gradio sends no analytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from web_testing import TINY_AUDIO, TINY_IMAGE


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """A class-conditional DCGAN on shapes, 12 steps: 3 previews, 6 log records, 2 checkpoints."""
    import ganforge

    root = tmp_path_factory.mktemp("image")
    ganforge.get_registry().get("dataset", "shapes")(root / "shapes", n=64)
    ganforge.train("dcgan", data=root / "shapes", out=root / "runs" / "shapes", steps=12, overrides=TINY_IMAGE)
    return root / "runs" / "shapes"


@pytest.fixture(scope="session")
def audio_run(tmp_path_factory):
    """A tiny WaveGAN on tones, 4 steps: 2 previews (WAV + spectrogram PNG)."""
    import ganforge

    root = tmp_path_factory.mktemp("audio")
    ganforge.get_registry().get("dataset", "tones")(root / "tones", n=16)
    ganforge.train("wavegan", data=root / "tones", out=root / "runs" / "tones", steps=4, overrides=TINY_AUDIO)
    return root / "runs" / "tones"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(image_run, tmp_path_factory):
    """`ganforge serve` on a free port, over the folder holding the image run: (url, app)."""
    from ganforge_web.server import build_app, launch

    app = build_app(image_run.parent.parent, cache=tmp_path_factory.mktemp("serve-cache"), model="shapes-t2i")
    port = free_port()
    launch(app, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", app
    app.close()
