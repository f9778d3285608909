"""SeqGAN through the one training loop: every phase, generation, evaluation, resume."""

import json

import pytest
import torch
from safetensors.torch import load_file

import ganforge
from ganforge.artifacts import checkpoint_dir as ckpt
from ganforge.metrics import evaluate

TINY_N_CRITIC = 2  # conftest.TINY["n_critic"]


def test_every_phase_runs_then_generate_and_evaluate(corpus, tmp_path, train_tiny):
    run = train_tiny("seqgan", corpus, tmp_path / "run")
    assert run.step == 3 + 2 + 2
    records = [json.loads(l) for l in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    phases = [r["phase"] for r in records]
    assert phases == ["mle"] * 3 + ["d-pretrain"] * 2 + ["adversarial"] * 2
    assert "nll" in records[0] and "d_acc" in records[3] and "reward" in records[-1]
    info = json.loads((tmp_path / "run" / "ganforge.json").read_text())
    assert info["modality_state"]["vocab"][:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]

    pipe = ganforge.load(tmp_path / "run")
    result = pipe.generate(n=20, seed=0, temperature=0.8)
    assert result.samples.dtype == torch.long and result.samples.shape[0] == 20
    assert torch.equal(result.samples, pipe.generate(n=20, seed=0, temperature=0.8).samples)
    paths = result.save(tmp_path / "out")
    assert (tmp_path / "out" / "samples.txt") in paths
    assert len((tmp_path / "out" / "samples.txt").read_text().splitlines()) == 20

    scores = evaluate(pipe, corpus, n=16)
    assert {"bleu2", "bleu5", "self_bleu2", "nll_gen"} <= set(scores)
    assert all(0.0 <= scores[k] <= 1.0 for k in ("bleu2", "bleu5", "self_bleu2"))
    with pytest.raises(ganforge.GanforgeError, match="oracle"):
        evaluate(pipe, corpus, metrics=["nll-oracle"], n=4)


def test_mle_phase_lowers_nll_gen(corpus, tmp_path, train_tiny):
    before = train_tiny("seqgan", corpus, tmp_path / "a", mle_steps=0, d_pretrain_steps=0, steps=0)
    after = train_tiny("seqgan", corpus, tmp_path / "b", mle_steps=60, d_pretrain_steps=0, steps=0,
                   hidden_dim=16, lr_g=0.02)
    assert before.step == 0 and after.step == 60
    nll_before = evaluate(tmp_path / "a", corpus, metrics=["nll-gen"])["nll_gen"]
    nll_after = evaluate(tmp_path / "b", corpus, metrics=["nll-gen"])["nll_gen"]
    assert nll_after < 0.7 * nll_before


def test_oracle_recipe_reports_oracle_metrics(oracle_dir, tmp_path, train_tiny):
    run = train_tiny("seqgan-oracle-small", oracle_dir, tmp_path / "run")
    assert run.config["seq_len"] == 8  # fixed-length oracle lines: no <eos>
    assert run.modality.default_metrics == ("nll-oracle", "nll-gen")
    scores = evaluate(tmp_path / "run", oracle_dir, n=64)
    assert set(scores) == {"nll_oracle", "nll_gen", "eval_lines", "eval_lines_from"}
    assert 0 < scores["nll_oracle"] < 20


class StopAt:
    """Ctrl-C, simulated: ask the run to stop after the given global steps."""

    def __init__(self, *steps):
        self.steps = set(steps)

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if step in self.steps:
            run.request_stop()


def test_resume_between_and_within_phases_is_exact(corpus, tmp_path, train_tiny):
    options = {"steps": 3, "rollouts": 3}
    train_tiny("seqgan", corpus, tmp_path / "straight", **options)
    ganforge.add_plugin(StopAt(3, 6), name="test-stop-at")
    try:
        run = train_tiny("seqgan", corpus, tmp_path / "resumed", **options)
        assert run.step == 3  # stopped at the end of MLE
        run = ganforge.train("seqgan", data=corpus, out=tmp_path / "resumed", resume=True)
        assert run.step == 6  # stopped inside the adversarial phase
        run = ganforge.train("seqgan", data=corpus, out=tmp_path / "resumed", resume=True)
        assert run.step == 2 + 3 + 3
    finally:
        ganforge.remove_plugin("test-stop-at")
    for name in ("generator.safetensors", "discriminator.safetensors"):
        a, b = load_file(ckpt(tmp_path / "straight") / name), load_file(ckpt(tmp_path / "resumed") / name)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)


def test_nll_gen_leaves_out_lines_the_run_cannot_generate(corpus, tmp_path, train_tiny):
    # word tokens, no <unk> in training: <unk> is never generated
    train_tiny("seqgan", corpus, tmp_path / "run", holdout=0.0, tokens="word")
    other = tmp_path / "other.txt"
    other.write_text("the zebra sat on the mat\nthe cat sat on the mat\n")
    scores = evaluate(tmp_path / "run", other, metrics=["nll-gen"])
    assert scores["nll_gen_skipped_lines"] == 1
    assert 0 < scores["nll_gen"] < 10


@pytest.mark.parametrize("recipe", ["seqgan", "seqgan-oracle", "seqgan-oracle-small"])
def test_adversarial_phase_starts_with_a_fresh_generator_optimizer(recipe):
    # the paper's code gives the policy gradient its own Adam: one that inherited MLE's
    # second moments (gradients 10-100x larger) would barely move the generator
    found = ganforge.get_plugin_manager().registry.get("recipe", recipe)
    phases = {p.name: p for p in found.phases}
    assert phases["adversarial"].fresh_optimizers == ("g",)
    # the paper's policy gradient: no baseline (a batch-mean baseline made NLL_oracle worse)
    assert found.all_defaults()["pg_baseline"] == "none"
    assert phases["mle"].fresh_optimizers == () and phases["d-pretrain"].fresh_optimizers == ()


def test_generator_adam_state_is_emptied_on_entering_the_adversarial_phase(corpus, tmp_path, train_tiny):
    run = train_tiny("seqgan", corpus, tmp_path / "run", mle_steps=5, d_pretrain_steps=2, steps=2)
    steps = {int(s["step"]) for s in run.opt_g.state.values()}
    assert steps == {2}  # the adversarial phase's 2 updates, not 5 + 2
    assert {int(s["step"]) for s in run.opt_d.state.values()} == {2 + 2 * TINY_N_CRITIC}  # D's state carries on
