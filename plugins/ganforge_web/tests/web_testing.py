"""Settings and helpers the web tests share (a module of its own name: `conftest` is not importable
when several projects' tests run in one pytest)."""

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
