"""text2music: SpecGAN conditioned on captions with the matching-aware objective."""

import json

import pytest
import torch

import ganforge

TINY = {"model_dim": 4, "audio_length": 4096, "batch_size": 8, "steps": 2, "progress": False, "preview_n": 2,
        "checkpoint_every": 0, "sample_every": 0, "log_every": 1, "encoder": "text:hashed"}


@pytest.mark.parametrize("representation, objective", [("logfreq", None), ("spectrogram", "matching-aware")])
def test_text2music_trains_on_captions_and_generates_from_prompts(tmp_path, representation, objective):
    from ganforge_audio.datasets import make_tones

    data = make_tones(tmp_path / "tones", n=24)
    out = tmp_path / "run"
    overrides = {**TINY, **({"representation": "spectrogram", "objective": objective} if objective else {})}
    run = ganforge.train("text2music", data=data, out=out, overrides=overrides)
    assert (run.config["representation"], run.config["objective"]) == (representation, objective or "matching-hard")
    logs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all("d_mismatched" in r for r in logs)  # real samples with another caption, in both objectives
    assert any("ma_gp" in r for r in logs) == (objective == "matching-aware")  # DF-GAN's MA-GP
    pipe = ganforge.load(out)
    assert pipe.modality.state["representation"] == representation
    assert pipe.generate(1, seed=0, prompts=["A note, sine"], output="spectrogram").samples.shape[-1] == 32
    a = pipe.generate(2, seed=3, prompts=["C major chord, organ", "A note, sine"])
    b = pipe.generate(2, seed=3, prompts=["C major chord, organ", "A note, sine"])
    assert torch.equal(a.samples, b.samples)
    clips = a.audio
    assert len(clips) == 2 and clips[0].shape[0] == 4096


def test_text2music_with_the_label_encoder_is_a_class_conditional_specgan(tmp_path):
    """Labelled clips (class sub-folders) instead of captions: the same recipe and objective."""
    from ganforge_audio.datasets import make_tones

    data = make_tones(tmp_path / "tones", n=20)
    out = tmp_path / "run"
    ganforge.train("text2music", data=data, out=out, overrides={**TINY, "encoder": "label"})
    logs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all("d_mismatched" in r for r in logs)  # real clips with the nearest other class count as fake
    pipe = ganforge.load(out)
    result = pipe.generate(3, seed=0, classes=["organ", "bell", "organ"])
    assert [r["class"] for r in result.records] == ["organ", "bell", "organ"] and result.audio[0].shape[0] == 4096
    with pytest.raises(ganforge.GanforgeError, match="trumpet"):
        pipe.generate(1, classes=["trumpet"])
