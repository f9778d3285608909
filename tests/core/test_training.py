"""The one loop, on the toy recipe: losses, checkpoints, exact resume, errors, generation."""

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge import GanforgeError, hookimpl, plugins

from ganforge.artifacts import checkpoint_dir as ckpt

TINY = {"hidden": 16, "layers": 2, "d_hidden": 16, "schedule": "constant", "lr_g": 1e-4, "lr_d": 1e-4, "batch_size": 32, "sample_every": 0, "checkpoint_every": 0,
        "preview_n": 64, "progress": False, "device": "cpu", "log_every": 1}


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    from ganforge import plugins as p

    out = tmp_path_factory.mktemp("ring")
    p.get_plugin_manager().registry.get("dataset", "ring")(out, n=512)
    return out


def weights(path):
    return load_file(str(path))


def test_training_writes_a_complete_run(ring, tmp_path):
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=5,
                         overrides={**TINY, "ema_beta": 0.9, "sample_every": 5})
    assert run.step == 5
    assert {"ganforge.json", "checkpoints", "log.jsonl", "samples"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert {"generator.safetensors", "generator_ema.safetensors", "discriminator.safetensors",
            "training_state.pt"} == {p.name for p in ckpt(tmp_path / "run").iterdir()}
    info = json.loads((tmp_path / "run" / "ganforge.json").read_text())
    assert info["recipe"] == "toy:toy-ring" and info["step"] == 5
    assert info["components"]["generator"] == "toy:mlp"
    assert info["plugins"]["toy"]["version"]
    assert info["modality_state"]["dataset"] == "ring"
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5] and all("d_loss" in r and "g_loss" in r for r in log)
    # each step's wait for its data (indexing, decoding, copying): logged, and a small part of the step
    assert all(0 <= r["data_s"] < 1.0 for r in log)
    assert (tmp_path / "run" / "samples" / "step_0000005.png").is_file()
    # no stray temporary files: every write was atomic
    assert not [p for p in (tmp_path / "run").rglob("*") if p.name.endswith((".tmp", ".partial"))]
    # the training state loads without unpickling arbitrary objects
    state = torch.load(ckpt(tmp_path / "run") / "training_state.pt", weights_only=True)
    assert state["step"] == 5 and state["data"]["offset"] > 0


def test_discriminator_learns_to_separate_real_and_fake(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=60,
                   overrides={**TINY, "hidden": 32, "lr_g": 0.0, "lr_d": 5e-3})
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    first = sum(r["d_loss"] for r in log[:5]) / 5
    last = sum(r["d_loss"] for r in log[-5:]) / 5
    assert last < first * 0.7  # with a frozen G, D's loss must fall


@pytest.mark.parametrize("objective", ["non-saturating", "minimax", "wgan", "wgan-gp", "hinge", "lsgan"])
def test_every_objective_trains(ring, tmp_path, objective):
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=3,
                         overrides={**TINY, "objective": objective, "n_critic": 2})
    assert run.d_steps == 6 and run.step == 3


def test_wgan_clips_critic_weights(ring, tmp_path):
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=2,
                         overrides={**TINY, "objective": "wgan", "optimizer": "rmsprop", "clip": 0.005})
    assert max(p.abs().max().item() for p in run.discriminator.parameters()) <= 0.005 + 1e-9


def test_r1_is_applied_on_its_interval(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4,
                   overrides={**TINY, "r1_gamma": 1.0, "d_reg_interval": 2})
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert ["r1" in r for r in log] == [False, True, False, True]


def test_resume_continues_exactly(ring, tmp_path):
    settings = {**TINY, "ema_beta": 0.9, "batch_size": 100}  # 512 points: epochs roll over mid-run
    ganforge.train("toy-ring", data=ring, out=tmp_path / "full", steps=12, overrides=settings)
    ganforge.train("toy-ring", data=ring, out=tmp_path / "part", steps=5, overrides=settings)
    ganforge.train("toy-ring", data=ring, out=tmp_path / "part", steps=12, resume=True)
    for name in ("generator", "generator_ema", "discriminator"):
        a, b = weights(ckpt(tmp_path / "full") / f"{name}.safetensors"), weights(ckpt(tmp_path / "part") / f"{name}.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a), name
    full = (tmp_path / "full" / "log.jsonl").read_text().splitlines()
    part = (tmp_path / "part" / "log.jsonl").read_text().splitlines()
    strip = lambda lines: [{k: v for k, v in json.loads(l).items() if k not in ("samples_per_s", "data_s")} for l in lines]
    assert strip(full) == strip(part)


class StopAt:
    """A plugin that presses Ctrl-C (asks the run to stop) after a given step."""

    def __init__(self, step):
        self.at = step

    @hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if step == self.at:
            run.request_stop()


def test_interrupted_run_checkpoints_and_resumes_exactly(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "full", steps=8, overrides=TINY)
    ganforge.add_plugin(StopAt(3), name="stopper")
    try:
        run = ganforge.train("toy-ring", data=ring, out=tmp_path / "cut", steps=8, overrides=TINY)
    finally:
        ganforge.remove_plugin("stopper")
    assert run.step == 3 and run.stopped_early
    assert json.loads((tmp_path / "cut" / "ganforge.json").read_text())["step"] == 3
    ganforge.train("toy-ring", data=ring, out=tmp_path / "cut", resume=True)
    a, b = weights(ckpt(tmp_path / "full") / "generator.safetensors"), weights(ckpt(tmp_path / "cut") / "generator.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ctrl_c_in_the_cli_writes_a_checkpoint(ring, tmp_path):
    code = (
        "import os, signal, ganforge\n"
        "from ganforge import hookimpl, plugins\n"
        "class Ctrl:\n"
        "    @hookimpl\n"
        "    def ganforge_on_step_end(self, run, step, logs):\n"
        "        if step == 2: os.kill(os.getpid(), signal.SIGINT)\n"
        "ganforge.add_plugin(Ctrl())\n"
        "from ganforge.cli import main\n"
        f"raise SystemExit(main(['train', 'toy-ring', '--data', r'{ring}', '--out', r'{tmp_path / 'run'}', '--steps', '50',"
        " '--set', 'hidden=8', '--set', 'progress=false']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 130, result.stderr
    assert "writing a checkpoint" in result.stderr
    assert json.loads((tmp_path / "run" / "ganforge.json").read_text())["step"] == 2
    assert torch.load(ckpt(tmp_path / "run") / "training_state.pt", weights_only=True)["step"] == 2


class NaNAfterTwo(ganforge.Objective):
    """Non-saturating, except that the generator loss is NaN from step 3 on."""

    def discriminator_loss(self, s):
        return ganforge.training.objectives.NonSaturating.discriminator_loss(self, s)

    def generator_loss(self, s):
        loss, logs = ganforge.training.objectives.NonSaturating.generator_loss(self, s)
        return (loss * float("nan") if s.step >= 2 else loss), logs


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(ring, tmp_path):
    import ganforge.training.objectives  # noqa: F401

    class NaNPlugin:
        @hookimpl
        def ganforge_register_objectives(self, register):
            register("nan-after-two", NaNAfterTwo)

    ganforge.add_plugin(NaNPlugin(), name="nan")
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=2,
                   overrides={**TINY, "objective": "nan-after-two"})
    before = (ckpt(tmp_path / "run") / "generator.safetensors").read_bytes()
    with pytest.raises(GanforgeError, match="generator loss became nan at step 3.*last good checkpoint"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4, resume=True)
    assert (ckpt(tmp_path / "run") / "generator.safetensors").read_bytes() == before
    assert torch.load(ckpt(tmp_path / "run") / "training_state.pt", weights_only=True)["step"] == 2


def test_bad_input_gives_one_line_errors(ring, tmp_path):
    with pytest.raises(GanforgeError, match="unknown option 'hiden' for recipe 'toy:toy-ring' \\(did you mean 'hidden'"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "a", overrides={"hiden": 3})
    with pytest.raises(GanforgeError, match="option 'steps' takes a whole number"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "a", overrides={"steps": "many"})
    with pytest.raises(GanforgeError, match="no recipe named 'nope'"):
        ganforge.train("nope", data=ring, out=tmp_path / "a")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanforgeError, match="no CSV point files"):
        ganforge.train("toy-ring", data=tmp_path / "empty", out=tmp_path / "a")
    with pytest.raises(GanforgeError, match="does not exist"):
        ganforge.train("toy-ring", data=tmp_path / "missing", out=tmp_path / "a")
    with pytest.raises(GanforgeError, match="amp=fp16 needs a CUDA device"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "a", overrides={**TINY, "amp": "fp16"})


def test_resume_refuses_another_recipes_run_and_an_existing_run(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides=TINY)
    with pytest.raises(GanforgeError, match="holds a run of recipe 'toy:toy-ring', not 'toy:toy-grid'"):
        ganforge.train("toy-grid", data=ring, out=tmp_path / "run", resume=True)
    with pytest.raises(GanforgeError, match="already holds a run; add --resume"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides=TINY)


def test_generation_is_deterministic_and_reloads(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=3, overrides={**TINY, "ema_beta": 0.5})
    pipe = ganforge.load(tmp_path / "run")
    a, b = pipe.generate(n=10, seed=1), ganforge.load(tmp_path / "run").generate(n=10, seed=1)
    assert a.samples.shape == (10, 2) and torch.equal(a.samples, b.samples)
    assert not torch.equal(a.samples, pipe.generate(n=10, seed=2).samples)
    files = a.save(tmp_path / "out")
    assert (tmp_path / "out" / "points.csv").read_text().count("\n") == 11
    assert any(p.suffix == ".png" for p in files)
    with pytest.raises(GanforgeError, match="unconditional"):
        pipe.generate(n=2, classes=["circle"])


def test_loading_a_run_whose_plugin_is_missing_names_it(ring, tmp_path, monkeypatch):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides=TINY)
    monkeypatch.setenv("GANFORGE_DISABLE_PLUGINS", "toy")
    plugins.reset()
    with pytest.raises(GanforgeError, match="from plugin 'toy', which is not installed.*pip install ganforge"):
        ganforge.load(tmp_path / "run")


def test_corrupt_weights_are_reported(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides=TINY)
    (ckpt(tmp_path / "run") / "generator.safetensors").write_bytes(b"garbage")
    with pytest.raises(GanforgeError, match="generator.safetensors cannot be read"):
        ganforge.load(tmp_path / "run", use_ema=False)
    with pytest.raises(GanforgeError, match="is not a ganforge run"):
        ganforge.load(tmp_path)


def test_ema_ramps_up_so_short_runs_sample_from_trained_weights(ring, tmp_path):
    fast = {**TINY, "ema_beta": 0.999, "lr_g": 1e-2}
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "a", steps=3, overrides=fast)
    gap = max((a - b).abs().max().item() for a, b in zip(run.generator.parameters(), run.generator_ema.parameters()))
    assert gap < 1e-4  # half-life of 5% of 3 steps: the EMA follows the generator
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "b", steps=3, overrides={**fast, "ema_rampup": 0.0})
    gap = max((a - b).abs().max().item() for a, b in zip(run.generator.parameters(), run.generator_ema.parameters()))
    assert gap > 1e-2  # without ramp-up it is still mostly the initial weights


def test_ema_generator_gets_its_own_batch_norm_statistics(tmp_path):
    from ganforge_image.datasets import make_shapes  # test data only; the core never imports a plugin

    make_shapes(tmp_path / "shapes", n=64, size=16)
    run = ganforge.train("dcgan", data=tmp_path / "shapes", out=tmp_path / "run", steps=2, overrides={
        "image_size": 16, "ngf": 4, "ndf": 4, "batch_size": 16, "progress": False, "preview_n": 4})
    ema_bn = [m for m in run.generator_ema.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    raw_bn = [m for m in run.generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert ema_bn and all(m.num_batches_tracked.item() == 8 for m in ema_bn)  # re-estimated, not copied
    assert not torch.equal(ema_bn[0].running_mean, raw_bn[0].running_mean)
    assert ema_bn[0].momentum == raw_bn[0].momentum
    saved = weights(ckpt(tmp_path / "run") / "generator_ema.safetensors")
    key = next(k for k in saved if k.endswith("running_mean"))
    assert torch.equal(saved[key], dict(run.generator_ema.named_buffers())[key])


def test_resume_applies_a_changed_learning_rate(ring, tmp_path):
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides=TINY)
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=2, resume=True, overrides={"lr_d": 3e-3})
    assert run.opt_d.param_groups[0]["lr"] == 3e-3 and run.opt_g.param_groups[0]["lr"] == 1e-4


def test_bf16_autocast_trains_on_cpu(ring, tmp_path):
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4,
                         overrides={**TINY, "amp": "bf16", "objective": "hinge"})
    assert run.step == 4 and all(p.dtype == torch.float32 for p in run.generator.parameters())
    # the scores leave the discriminator in float32, so the losses are float32 too: a bf16 loss
    # would be one of bf16's 128 values per octave (the log rounds to 6 decimals)
    logs = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    off_grid = [abs(torch.tensor(r[k]).bfloat16().item() - r[k]) for r in logs for k in ("d_loss", "g_loss")]
    assert max(off_grid) > 1e-5
    assert torch.isfinite(ganforge.load(tmp_path / "run").generate(n=4, seed=0).samples).all()


@pytest.mark.parametrize("n_critic, forwards", [(1, 3), (2, 9)])
def test_generator_update_reuses_the_critic_fake_batch_only_with_one_critic_step(ring, tmp_path, n_critic, forwards):
    calls = []

    class CountForwards:
        @hookimpl
        def ganforge_on_train_start(self, run):
            run.generator.register_forward_hook(lambda *args: calls.append(1))

    ganforge.add_plugin(CountForwards(), name="count")
    try:
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=3,
                       overrides={**TINY, "n_critic": n_critic, "preview_n": 0})
    finally:
        ganforge.remove_plugin("count")
    assert len(calls) == forwards  # one G forward per step (DCGAN example), fresh latents per critic step


def test_resume_drops_log_records_past_the_checkpoint(ring, tmp_path):
    """Steps after the checkpoint a killed run resumes from are trained again: their first
    records (and a line a kill cut short) leave the log, so each step is logged once."""
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4, overrides={**TINY, "log_every": 1})
    log = tmp_path / "run" / "log.jsonl"
    log.write_text(log.read_text() + '{"step": 5, "d_loss": 1.0}\n{"step": 6, "d_lo')  # what a kill leaves
    ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=6, resume=True)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4, 5, 6]
