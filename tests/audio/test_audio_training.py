"""Few-step trainings of both recipes through ganforge.train, generation, evaluation."""

import json

import pytest
import soundfile
import torch

import ganforge
from ganforge.artifacts import checkpoint_dir

TINY = {"model_dim": 4, "nz": 16, "batch_size": 8, "audio_length": 4096, "preview_n": 3,
        "sample_every": 2, "checkpoint_every": 0, "progress": False, "log_every": 1}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tones):
    """One tiny WaveGAN (conditional) and one tiny SpecGAN run, trained for 3 steps each."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # restored below: other test areas keep their setting
    try:
        root = tmp_path_factory.mktemp("runs")
        out = {}
        out["wavegan"] = ganforge.train("wavegan", data=tones, out=root / "w", steps=3,
                                        overrides={**TINY, "conditional": True, "cond_dim": 8})
        out["specgan"] = ganforge.train("specgan", data=tones, out=root / "s", steps=3,
                                        overrides={**TINY, "griffin_lim_iters": 4})
    finally:
        torch.set_num_threads(before)
    return out


@pytest.mark.parametrize("recipe", ["wavegan", "specgan"])
def test_training_writes_a_complete_run(runs, recipe):
    run = runs[recipe]
    assert (run.out / "ganforge.json").is_file() and (run.out / "log.jsonl").is_file()
    checkpoint = checkpoint_dir(run.out)
    for name in ("generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors",
                 "training_state.pt"):
        assert (checkpoint / name).is_file(), name
    info = json.loads((run.out / "ganforge.json").read_text())
    assert info["components"]["generator"] == f"audio:{recipe}"
    cfg = info["config"]
    # the paper's optimisation
    assert cfg["objective"] == "wgan-gp" and cfg["n_critic"] == 5 and cfg["lr_g"] == 1e-4
    assert cfg["betas_g"] == [0.5, 0.9] and cfg["gp_weight"] == 10.0
    state = info["modality_state"]
    assert state["sample_rate"] == 16000 and state["channels"] == 1
    if recipe == "specgan":
        assert len(state["spec_mean"]) == 128 and len(state["spec_std"]) == 128
    log = [json.loads(line) for line in (run.out / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3
    assert all(torch.isfinite(torch.tensor([r["d_loss"], r["g_loss"], r["gp"]])).all() for r in log)
    previews = sorted(p.name for p in (run.out / "samples").iterdir())
    assert "step_0000002.wav" in previews and "step_0000002.png" in previews
    audio, rate = soundfile.read(str(run.out / "samples" / "step_0000002.wav"))
    assert rate == 16000 and len(audio) == 3 * 4096 + 2 * 1600


@pytest.mark.parametrize("recipe", ["wavegan", "specgan"])
def test_generated_wav_files_have_the_right_rate_and_length(runs, recipe, tmp_path):
    pipe = ganforge.load(runs[recipe].out)
    kwargs = {"classes": ["organ"]} if recipe == "wavegan" else {"griffin_lim_iters": 2}
    result = pipe.generate(n=3, seed=7, **kwargs)
    assert result.samples.shape == (3, 1, 4096)
    paths = result.save(tmp_path)
    wavs = sorted(p for p in paths if p.suffix == ".wav" and "grid" not in p.name)
    assert len(wavs) == 3
    for p in wavs:
        info = soundfile.info(str(p))
        assert (info.samplerate, info.frames, info.channels) == (16000, 4096, 1)
        audio, _ = soundfile.read(str(p))
        assert abs(audio).max() <= 1.0
    assert (tmp_path / "sample_grid.png").is_file()
    again = pipe.generate(n=3, seed=7, **kwargs)
    assert torch.equal(result.samples, again.samples), "the same seed gives the same audio"


def test_spectrogram_pictures_are_a_generation_option(runs, tmp_path):
    pipe = ganforge.load(runs["wavegan"].out)
    pipe.generate(n=2, seed=0, classes=["organ"]).save(tmp_path / "plain")
    assert not (tmp_path / "plain" / "sample_00000.png").exists()
    pipe.generate(n=2, seed=0, classes=["organ"], save_spectrograms=True).save(tmp_path / "pics")
    assert (tmp_path / "pics" / "sample_00000.png").is_file() and (tmp_path / "pics" / "sample_00001.png").is_file()


def test_specgan_generator_can_return_spectrograms(runs):
    pipe = ganforge.load(runs["specgan"].out)
    spec = pipe.generate(n=2, seed=0, output="spectrogram").samples
    assert spec.shape == (2, 1, 128, 32) and spec.abs().max() <= 1
    with pytest.raises(ganforge.GanforgeError, match="griffin_lim_iters"):
        pipe.generate(n=1, seed=0, truncation=0.5)


def test_unknown_class_is_a_clear_error(runs):
    with pytest.raises(ganforge.GanforgeError, match="unknown class"):
        ganforge.load(runs["wavegan"].out).generate(n=1, classes=["trumpet"])


def test_nn_distance_metric(runs, tones):
    from ganforge.metrics import evaluate

    # the audio modality's default metrics: fd, kid and nn-distance
    scores = evaluate(runs["specgan"].out, tones, n=6, batch_size=6,
                      options={"generate": {"griffin_lim_iters": 2}, "kid_subsets": 3, "kid_subset_size": 6})
    assert scores["feature_space"] == "audio-spectral-stats"
    assert scores["nn_distance"] > 0 and scores["nn_distance_real"] > 0
    assert scores["fd"] > 0 and "kid" in scores


def test_nn_distance_is_zero_for_copies_of_the_data():
    from ganforge_audio.metrics import nn_distance

    class Ctx:
        def features(self):
            real = torch.randn(10, 4)
            return "test-space", real, real[:5].clone()

    out = nn_distance(Ctx())
    assert out["nn_distance"] == pytest.approx(0.0, abs=1e-9)
    assert out["nn_distance_real"] > 0.1 and out["feature_space"] == "test-space"


@pytest.mark.slow
def test_wavegan_critic_learns_to_separate(tones, tmp_path):
    """Over 30 steps the critic's Wasserstein estimate grows from ~0 (it learns)."""
    run = ganforge.train("wavegan", data=tones, out=tmp_path / "w", steps=30,
                         overrides={**TINY, "model_dim": 8, "sample_every": 0})
    log = [json.loads(line) for line in (run.out / "log.jsonl").read_text().splitlines()]
    assert max(r["wasserstein"] for r in log[-10:]) > abs(log[0]["wasserstein"])


def test_resumed_wavegan_continues_exactly(tones, tmp_path):
    """Phase shuffle draws from the training RNG, which the checkpoint restores."""
    from safetensors.torch import load_file

    tiny = {**TINY, "model_dim": 2, "nz": 8, "batch_size": 4, "sample_every": 0}
    ganforge.train("wavegan", data=tones, out=tmp_path / "a", steps=3, overrides=tiny)
    ganforge.train("wavegan", data=tones, out=tmp_path / "b", steps=1, overrides=tiny)
    ganforge.train("wavegan", data=tones, out=tmp_path / "b", steps=3, resume=True)
    a = load_file(str(checkpoint_dir(tmp_path / "a") / "generator.safetensors"))
    b = load_file(str(checkpoint_dir(tmp_path / "b") / "generator.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
