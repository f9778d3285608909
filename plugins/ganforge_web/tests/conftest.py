"""Shared fixtures: two tiny trained runs (images with classes, audio), both logged to TensorBoard."""

import os

import pytest

# Tests never download anything, and Gradio sends no analytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

TINY_IMAGE = {"preset": "small-data", "conditional": True, "image_size": 16, "ngf": 8, "ndf": 8, "batch_size": 16,
              "sample_every": 4, "checkpoint_every": 6, "log_every": 2, "preview_n": 8, "progress": False,
              "device": "cpu", "tensorboard": True}
TINY_AUDIO = {"audio_length": 4096, "model_dim": 4, "n_critic": 1, "batch_size": 8, "sample_every": 2,
              "checkpoint_every": 4, "log_every": 1, "preview_n": 2, "progress": False, "device": "cpu",
              "tensorboard": True}


def listing(folder):
    """Every file under ``folder`` with its size and modification time: a write changes it."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


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

    app = build_app(image_run.parent.parent, cache=tmp_path_factory.mktemp("serve-cache"))
    port = free_port()
    launch(app, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", app
    app.close()
