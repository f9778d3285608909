"""SeqGAN's adversarial step on ``seqgan-oracle-small``: before (the per-prefix rollout
loop, tokens drawn by the full softmax and cumulative sum) against now (batched rollouts,
``Sampler``), in this process, alternating.

    python bench/bench_rollouts.py [--threads 1] [--repeats 3] [--whole-steps 4]
    python bench/bench_rollouts.py --device cuda      # the same on a GPU

Part 1, the generator step alone:
The networks have the preset's sizes (the oracle corpus: 5000 words + 4 special tokens,
20 tokens a line; G emb/hidden 32; D widths 2,3,4,5,8,10 x 32 filters), batch 64,
16 rollouts. A step is ``PolicyGradient.generator_loss`` (sample, rollout rewards, loss)
plus backward, with ``rollout_rewards`` being either ``rollout_rewards_reference`` (the
per-prefix loop) or ``rollout_rewards``. Both runs of a repeat start from the same seed,
so their rewards are the same numbers (up to a token where float rounding moves a CDF
step); their statistics are printed.

Part 2, the whole adversarial step as ``ganforge.train`` runs it (the loop, the
discriminator's ``n_critic`` = 50 updates on fresh samples, the generator step, the
optimisers), on the oracle data: ``--whole-steps`` adversarial steps per run (the first
is not timed), runs before and now alternating ``--repeats`` times. "Before" patches the
old rollout loop and the old token draw back in. Figures depend on the machine and its
load; the ratio is the comparable number.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

import ganforge
from ganforge_text import generator, objectives
from ganforge_text.discriminator import CNNDiscriminatorConfig, Discriminator
from ganforge_text.generator import Generator, LSTMGeneratorConfig
from ganforge_text.recipes import SEQGAN_ORACLE_SMALL


def networks(device="cpu"):
    o = SEQGAN_ORACLE_SMALL.defaults
    V, T = o["max_vocab"] + 4, o["max_len"]
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=V, seq_len=T, emb_dim=o["emb_dim"], hidden_dim=o["hidden_dim"],
                                      init_std=o["init_std"], banned_tokens=[0, 1, 2, 3]))
    D = Discriminator(CNNDiscriminatorConfig(vocab_size=V, seq_len=T, d_emb_dim=o["d_emb_dim"],
                                             d_filter_sizes=o["d_filter_sizes"], d_num_filters=o["d_num_filters"],
                                             d_dropout=o["d_dropout"]))
    return G.to(device), D.to(device), o


def one_step(G, D, o, rewards_fn, seed):
    objective = objectives.PolicyGradient(o)
    s = SimpleNamespace(generator=G, discriminator=D, real=torch.zeros(o["batch_size"], 1, dtype=torch.long, device=G.out.weight.device))
    captured = {}

    def recording(*args, **kwargs):
        captured["rewards"] = rewards_fn(*args, **kwargs)
        return captured["rewards"]

    objectives.rollout_rewards, saved = recording, objectives.rollout_rewards
    try:
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        loss, _ = objective.generator_loss(s)
        G.zero_grad(set_to_none=True)
        loss.backward()
        if loss.is_cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
    finally:
        objectives.rollout_rewards = saved
    return seconds, captured["rewards"]


@contextlib.contextmanager
def before():
    """The code as it was: the per-prefix rollout loop, every token drawn by ``Generator.draw``."""
    saved = objectives.rollout_rewards, generator.Sampler.draw
    objectives.rollout_rewards = objectives.rollout_rewards_reference
    generator.Sampler.draw = lambda self, h, u: generator.Generator.draw(self.G.logits(h), u, self.temperature)
    try:
        yield
    finally:
        objectives.rollout_rewards, generator.Sampler.draw = saved


class StepClock:
    """Wall time of every training step (a plugin)."""

    def __init__(self):
        self.ends = []

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        self.ends.append(time.perf_counter())


def whole_step(data: Path, out: Path, steps: int, device: str) -> list[float]:
    """Seconds per adversarial step of ``seqgan-oracle-small`` (all but the first step)."""
    clock = StepClock()
    ganforge.add_plugin(clock, name="bench-step-clock")
    try:
        ganforge.train("seqgan-oracle-small", data=data, out=out,
                       overrides={"mle_steps": 0, "d_pretrain_steps": 0, "steps": steps, "progress": False,
                                  "sample_every": 0, "checkpoint_every": 0, "seed": 0, "device": device})
    finally:
        ganforge.remove_plugin("bench-step-clock")
    return [b - a for a, b in zip(clock.ends, clock.ends[1:])]


def spread(values):
    return f"{statistics.median(values):7.3f} s (range {min(values):.3f}-{max(values):.3f}, n={len(values)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--whole-steps", type=int, default=4, help="adversarial steps per training run (0: skip part 2)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G, D, o = networks(args.device)
    fns = {"old (per-prefix loop)": objectives.rollout_rewards_reference, "new (batched)": objectives.rollout_rewards}
    times = {k: [] for k in fns}
    for rep in range(args.repeats):
        got = {}
        for name, fn in fns.items():  # alternate, so load changes hit both alike
            with before() if fn is objectives.rollout_rewards_reference else contextlib.nullcontext():
                seconds, got[name] = one_step(G, D, o, fn, seed=rep)
            times[name].append(seconds)
        old, new = got.values()
        print(f"repeat {rep}: reward mean/std old {old.mean():.6f}/{old.std():.6f} new {new.mean():.6f}/{new.std():.6f} "
              f"max |diff| {(old - new).abs().max():.2e}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:22s} {v:7.3f} s per adversarial generator step (median of {args.repeats}; {args.threads} thread(s))")
    old, new = med.values()
    print(f"speed-up {old / new:.2f}x  (batch {o['batch_size']}, {o['rollouts']} rollouts, "
          f"T {o['max_len']}, V {G.cfg.vocab_size}; {args.device}; torch {torch.__version__})")
    if args.whole_steps < 2:
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "oracle"
        ganforge.get_plugin_manager().registry.get("dataset", "oracle")(data)
        whole = {"before": [], "now": []}
        for rep in range(args.repeats):
            for name in whole:  # alternate
                with before() if name == "before" else contextlib.nullcontext():
                    whole[name] += whole_step(data, Path(tmp) / f"{name}{rep}", args.whole_steps, args.device)
        for name, v in whole.items():
            print(f"whole adversarial step, {name:6s} {spread(v)} (n_critic {o['n_critic']})")
        ratio = statistics.median(whole["before"]) / statistics.median(whole["now"])
        print(f"whole-step speed-up {ratio:.2f}x")


if __name__ == "__main__":
    main()
