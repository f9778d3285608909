"""SeqGAN's synthetic oracle experiment, small preset, against the paper's figures.

    python bench/bench_seqgan.py [--recipe seqgan-oracle-small] [--out DIR] [--threads 2]

1. ``ganforge data oracle``: the paper's data (an N(0, 1) LSTM oracle, vocabulary 5000,
   10,000 sequences of 20 tokens).
2. Trains the recipe through ``ganforge.train``; the run is stopped at the end of the MLE
   phase (as Ctrl-C would), scored, then resumed through discriminator pretraining and
   the adversarial phase, and scored again. NLL_oracle (the oracle's per-token NLL of
   generated sequences; lower is better) is printed next to the paper's Table 1.
3. Throughput of the MLE phase (samples/s in the run's log) against a plain PyTorch
   loop training the same-sized LSTM on the same batches, in this process.

Figures depend on the machine and its load; the ratio is the comparable number.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import ganforge
from ganforge.metrics import evaluate

PAPER = {"random": 10.310, "mle": 9.038, "seqgan": 8.736}


class StopAfter:
    """Stops the run after global step ``step`` (what Ctrl-C does: a checkpoint, resumable)."""

    def __init__(self, step: int):
        self.step = step

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if step == self.step:
            run.request_stop()


def nll_oracle(run_dir: Path, data: Path, n: int) -> float:
    return evaluate(run_dir, data, metrics=["nll-oracle"], n=n)["nll_oracle"]


def plain_pytorch_mle(x: torch.Tensor, vocab: int, steps: int, batch: int, emb: int, hidden: int) -> float:
    """Samples/s of a hand-written LSTM language-model training loop (the baseline)."""

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, batch_first=True)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, inp):
            return self.out(self.lstm(self.embed(inp))[0])

    torch.manual_seed(0)
    model = LM()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    bos = torch.ones(batch, 1, dtype=torch.long)
    order = torch.randperm(len(x))

    def one(i):
        idx = order[(i * batch) % (len(x) - batch):][:batch]
        target = x[idx]
        logits = model(torch.cat([bos, target[:, :-1]], 1))
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    for i in range(3):  # warm-up
        one(i)
    t = time.perf_counter()
    for i in range(steps):
        one(i)
    return steps * batch / (time.perf_counter() - t)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recipe", default="seqgan-oracle-small")
    p.add_argument("--out", help="work folder (default: a temporary one)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine)")
    p.add_argument("--n", type=int, default=2000, help="generated sequences scored for NLL_oracle")
    p.add_argument("--baseline-steps", type=int, default=200, help="plain PyTorch MLE steps timed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe option")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    work = Path(args.out or tempfile.mkdtemp(prefix="bench_seqgan_"))
    data = work / "oracle"
    t0 = time.perf_counter()
    if not (data / "oracle.json").is_file():
        ganforge.get_plugin_manager().registry.get("dataset", "oracle")(data)
    print(f"oracle data: {data} ({time.perf_counter() - t0:.0f}s)")

    overrides = {"progress": False, "sample_every": 0}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value) if value[:1] in "0123456789-[{tf" else value

    # an untrained generator: the paper's "random" row
    ganforge.train(args.recipe, data=data, out=work / "random",
                   overrides={**overrides, "mle_steps": 0, "d_pretrain_steps": 0, "steps": 0})
    random_nll = nll_oracle(work / "random", data, args.n)

    # MLE pretraining, stopped at its end, scored, then resumed to the end of the schedule
    run_dir = work / "run"
    manager = ganforge.get_plugin_manager()
    recipe = manager.registry.get("recipe", args.recipe)
    mle_steps = int({**recipe.all_defaults(), **overrides}["mle_steps"])
    ganforge.add_plugin(StopAfter(mle_steps), name="bench-stop-after-mle")
    try:
        t = time.perf_counter()
        run = ganforge.train(args.recipe, data=data, out=run_dir, overrides=overrides)
        t_mle = time.perf_counter() - t
    finally:
        ganforge.remove_plugin("bench-stop-after-mle")
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    mle_rate = [r["samples_per_s"] for r in records if r["phase"] == "mle"][-1]
    mle_nll = nll_oracle(run_dir, data, args.n)
    t = time.perf_counter()
    run = ganforge.train(args.recipe, data=data, out=run_dir, resume=True)
    t_rest = time.perf_counter() - t
    adv_nll = nll_oracle(run_dir, data, args.n)

    # throughput: short MLE-only runs of the loop and the plain loop, alternated, best of each
    cfg = run.config
    x = run.data.fields["x"]
    loop_rates, plain_rates = [], []
    for r in range(2):
        timing_dir = work / f"mle_timing_{r}"
        ganforge.train(args.recipe, data=data, out=timing_dir,
                       overrides={**overrides, "mle_steps": args.baseline_steps, "d_pretrain_steps": 0, "steps": 0,
                                  "log_every": args.baseline_steps, "checkpoint_every": 0})
        last = json.loads((timing_dir / "log.jsonl").read_text().splitlines()[-1])
        loop_rates.append(last["samples_per_s"])
        plain_rates.append(plain_pytorch_mle(x, cfg["vocab_size"], args.baseline_steps, cfg["batch_size"],
                                             cfg["emb_dim"], cfg["hidden_dim"]))
    loop_rate, base_rate = max(loop_rates), max(plain_rates)

    print()
    print(f"recipe {args.recipe}: mle_steps {cfg['mle_steps']}, d_pretrain_steps {cfg['d_pretrain_steps']}, "
          f"adversarial steps {cfg['steps']} (n_critic {cfg['n_critic']}, rollouts {cfg['rollouts']}), "
          f"batch {cfg['batch_size']}, {args.threads} threads")
    print(f"time: MLE {t_mle:.0f}s, D pretraining + adversarial {t_rest:.0f}s")
    print()
    print(f"{'NLL_oracle (per token, lower is better)':44} {'ganforge':>9} {'paper':>7}")
    print(f"{'  untrained generator / random':44} {random_nll:9.3f} {PAPER['random']:7.3f}")
    print(f"{'  after MLE pretraining':44} {mle_nll:9.3f} {PAPER['mle']:7.3f}")
    print(f"{'  after adversarial training (SeqGAN)':44} {adv_nll:9.3f} {PAPER['seqgan']:7.3f}")
    print(f"{'  change from adversarial training':44} {adv_nll - mle_nll:+9.3f} {PAPER['seqgan'] - PAPER['mle']:+7.3f}")
    print(f"  (a uniform model over the vocabulary scores log(5000) = {math.log(5000):.3f} per token in its own NLL)")
    print()
    print(f"MLE throughput ({args.baseline_steps} steps, best of 2): ganforge loop {loop_rate:.0f} samples/s, "
          f"plain PyTorch {base_rate:.0f} samples/s, ratio {loop_rate / base_rate:.2f} "
          f"(during the full run's MLE phase: {mle_rate:.0f} samples/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
