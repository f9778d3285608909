"""Streamed image data (`--set stream=true`): read from disk per batch, decoded ahead of the
step by worker processes, optionally cached decoded; the same training as in memory."""

import pytest
import torch
from safetensors.torch import load_file

import ganforge

TINY = {"image_size": 16, "ngf": 8, "ndf": 8, "nz": 16, "cond_dim": 8, "batch_size": 8,
        "progress": False, "preview_n": 0, "checkpoint_every": 0, "sample_every": 0, "log_every": 1}


def weights(run_dir):
    import json

    info = json.loads((run_dir / "ganforge.json").read_text())
    return load_file(str(run_dir / info["checkpoint"] / "generator.safetensors"))


def train(data, out, **overrides):
    return ganforge.train("dcgan", data=data, out=out, steps=3, overrides={**TINY, "conditional": True, **overrides})


def test_streamed_batches_are_the_in_memory_batches(shapes16):
    from ganforge_image.modality import ImageModality

    config = {"image_size": 16, "channels": 3}
    held = ImageModality(config).load(shapes16)
    streamed = ImageModality({**config, "stream": True}).load(shapes16)
    assert streamed.streamed and not held.streamed and len(streamed) == len(held) == 64
    index = torch.tensor([5, 0, 63, 17])
    a, b = held.batch(index), streamed.batch(index)
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["label"], b["label"]) and a["text"] == b["text"]


def test_streamed_training_equals_in_memory_training(shapes16, tmp_path):
    """Workers decode the run's own data order: the same batches, so the same weights (up to
    float rounding: oneDNN's kernels may sum in another order for another buffer address)."""
    train(shapes16, tmp_path / "held")
    run = train(shapes16, tmp_path / "streamed", stream=True, data_workers=2)
    assert run.data.streamed and run._loader is None  # the workers are gone when fit returns
    a, b = weights(tmp_path / "held"), weights(tmp_path / "streamed")
    assert a.keys() == b.keys() and all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


def test_streamed_resume_continues_the_data_order(shapes16, tmp_path):
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "full", steps=4, overrides={**TINY, "stream": True})
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "cut", steps=2, overrides={**TINY, "stream": True})
    ganforge.train("dcgan", data=shapes16, out=tmp_path / "cut", steps=4, resume=True)
    a, b = weights(tmp_path / "full"), weights(tmp_path / "cut")
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)


def test_data_cache_keeps_decoded_samples_and_later_reads_skip_decoding(shapes16, tmp_path):
    cache = tmp_path / "cache"
    train(shapes16, tmp_path / "run", stream=True, data_workers=0, data_cache=str(cache), batch_size=32)
    files = list(cache.rglob("*.npy"))
    assert len(files) == 64  # 3 steps of 32 from 64 images: every image decoded once, kept
    from ganforge_image.modality import ImageModality

    data = ImageModality({"image_size": 16, "channels": 3, "stream": True}).load(shapes16)
    samples = data.fields["x"]
    samples.use_cache(cache)
    decoded = []
    read = samples.read
    samples.read = lambda item: decoded.append(item) or read(item)
    expected = ImageModality({"image_size": 16, "channels": 3}).load(shapes16).fields["x"][:8]
    assert torch.equal(samples[torch.arange(8)], expected) and decoded == []  # all from the cache
    other = ImageModality({"image_size": 8, "channels": 3, "stream": True}).load(shapes16).fields["x"]
    other.use_cache(cache)
    assert other.cache_dir != samples.cache_dir  # another decoding never reuses these


def test_a_file_broken_after_the_scan_stops_training_naming_it(shapes16, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(shapes16, data)
    run = ganforge.Run("dcgan", data, tmp_path / "run", overrides={**TINY, "stream": True, "data_workers": 0})
    victim = sorted(data.rglob("*.png"))[0]
    victim.write_bytes(victim.read_bytes()[:40])  # cut short after the header was checked
    try:
        with pytest.raises(ganforge.GanforgeError, match=rf"{victim.name} could not be read while training"):
            run.data.batch(torch.arange(len(run.data)))
    finally:
        run.close()
