"""SeqGAN's synthetic oracle experiment, small preset, against the paper's figures.

    python bench/bench_seqgan.py [--recipe seqgan-oracle-small] [--seeds 3] [--out DIR] [--threads 1]
    python bench/bench_seqgan.py --text [FILE] [--seeds 1]      # real text: BLEU / self-BLEU

1. ``ganforge data oracle``: the paper's data (an N(0, 1) LSTM oracle, vocabulary 5000,
   10,000 sequences of 20 tokens).
2. Trains the recipe through ``ganforge.train``; the run is stopped at the end of the MLE
   phase (as Ctrl-C would), scored, then resumed through discriminator pretraining and
   the adversarial phase, and scored again. NLL_oracle (the oracle's per-token NLL of
   generated sequences; lower is better) is printed next to the paper's Table 1.
   With ``--seeds N`` steps 2 runs for seeds 0..N-1 and the MLE and adversarial
   NLL_oracle and their difference are printed per seed, with mean and standard
   deviation (the spread over seeds). ``--n`` (10,000) sequences are scored each time:
   with 2,000 the scoring noise alone is about 0.01-0.02.
3. Throughput of the MLE phase (samples/s in the run's log) against a plain PyTorch
   loop training the same-sized LSTM on the same batches, in this process
   (``--no-throughput`` skips it).

``--text``: real text instead of the oracle. Without a file, a corpus is built offline
from this Python's standard library: the prose sentences of its docstrings (one per
line, 6-25 words, no code). The ``seqgan`` recipe trains on it with CPU-sized settings
(``TEXT_CPU``; ``--set`` changes them), is stopped at the end of MLE and scored, then
resumed through the adversarial phase and scored again: BLEU-2..4 of ``--text-n``
generated lines against the run's held-out lines, and their self-BLEU-2..4.

Figures depend on the machine and its load; the ratio is the comparable number.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import shutil
import statistics
import sysconfig
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import ganforge
from report import parse_sets, row, write_rows
from ganforge.metrics import evaluate

PAPER = {"random": 10.310, "mle": 9.038, "seqgan": 8.736}

# `seqgan` on real text, sized for a CPU core (about 10 minutes): a 2,000-token BPE
# vocabulary, lines of up to 32 tokens (as the recipe), the small oracle preset's discriminator.
TEXT_CPU = {
    "max_vocab": 2000, "max_len": 32, "emb_dim": 32, "hidden_dim": 64,
    "d_emb_dim": 32, "d_filter_sizes": [2, 3, 4, 5, 8, 10], "d_num_filters": [32, 32, 32, 32, 32, 32],
    "lr_d": 1e-3, "mle_steps": 1500, "d_pretrain_steps": 500, "steps": 40, "n_critic": 15,
}


class Stopper:
    """Stops the run (what Ctrl-C does: a checkpoint, resumable) after global step ``step``,
    or at the first step end after ``deadline`` (time.monotonic; a short device lease)."""

    def __init__(self, step: int | None = None, deadline: float | None = None):
        self.step, self.deadline = step, deadline

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if step == self.step or (self.deadline is not None and time.monotonic() >= self.deadline):
            run.request_stop()


def timed_train(recipe: str, data: Path, run_dir: Path, stopper: Stopper, **kwargs):
    """``ganforge.train`` with ``stopper`` plugged in; returns (run, seconds)."""
    ganforge.add_plugin(stopper, name="bench-stopper")
    try:
        t = time.perf_counter()
        run = ganforge.train(recipe, data=data, out=run_dir, **kwargs)
        return run, time.perf_counter() - t
    finally:
        ganforge.remove_plugin("bench-stopper")


def nll_oracle(run_dir: Path, data: Path, n: int) -> float:
    return evaluate(run_dir, data, metrics=["nll-oracle"], n=n)["nll_oracle"]


def stdlib_sentences() -> list[str]:
    """English prose from this Python's standard library: the sentences of its docstrings
    (6-25 words, starting upper-case, ending . ! or ?), paragraphs holding code, markup or
    doctests left out; duplicates dropped; in file order (deterministic)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idle_test", "site-packages", "dist-packages", "lib2to3", "__pycache__"}
    out: dict[str, None] = {}
    for path in sorted(root.rglob("*.py")):
        if skip & set(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            for para in re.split(r"\n\s*\n", doc or ""):
                if re.search(r">>>|^\s{4,}|::|[{}=<>\[\]|\\_*`#@]", para, re.M):
                    continue
                for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(para.split())):
                    words = sentence.split()
                    if (6 <= len(words) <= 25 and sentence[0].isupper() and sentence[-1] in ".!?"
                            and re.fullmatch(r"[A-Za-z0-9 ,.;:'()!?-]+", sentence)):
                        out[sentence] = None
    return list(out)


def train_stopped_after_mle(recipe: str, data: Path, run_dir: Path, overrides: dict):
    """Train to the end of the MLE phase (stopped there as Ctrl-C would); returns (run, seconds)."""
    mle_steps = int({**ganforge.get_plugin_manager().registry.get("recipe", recipe).all_defaults(),
                     **overrides}["mle_steps"])
    return timed_train(recipe, data, run_dir, Stopper(step=mle_steps), overrides=overrides)


def resume(recipe: str, data: Path, run_dir: Path, deadline: float | None = None):
    return timed_train(recipe, data, run_dir, Stopper(deadline=deadline), resume=True)


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{mean:+.3f} ± {std:.3f}" if any(v < 0 for v in values) else f"{mean:.3f} ± {std:.3f}"


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
    p.add_argument("--recipe", help="default: seqgan-oracle-small (oracle), seqgan (--text)")
    p.add_argument("--seeds", type=int, default=1, help="runs with seeds 0..N-1; mean and spread over them")
    p.add_argument("--first-seed", type=int, default=0, help="start the seeds here (seeds S..S+N-1)")
    p.add_argument("--out", help="work folder (default: a temporary one)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared machine)")
    p.add_argument("--n", type=int, default=10000, help="generated sequences scored for NLL_oracle")
    p.add_argument("--baseline-steps", type=int, default=200, help="plain PyTorch MLE steps timed")
    p.add_argument("--no-throughput", action="store_true", help="skip the MLE throughput comparison")
    p.add_argument("--text", nargs="?", const="stdlib", metavar="FILE",
                   help="real text (a file of lines; none: sentences of the Python stdlib's docstrings)")
    p.add_argument("--text-n", type=int, default=1000, help="--text: generated lines scored for BLEU / self-BLEU")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe option")
    p.add_argument("--stop-after-s", type=float, default=None,
                   help="stop discriminator pretraining / the adversarial phase this many seconds after the bench "
                        "starts (a checkpoint, as Ctrl-C), score what was reached and print its step")
    p.add_argument("--quick", action="store_true", help="a smoke test of the oracle bench: a few steps of each phase")
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.no_throughput = 200, True
        args.set = ["mle_steps=20", "d_pretrain_steps=10", "steps=2", "n_critic=2", *args.set]
    torch.set_num_threads(args.threads)
    work = Path(args.out or tempfile.mkdtemp(prefix="bench_seqgan_"))
    work.mkdir(parents=True, exist_ok=True)
    for old in [*work.glob("run_s*"), *work.glob("text_s*"), *work.glob("mle_timing_*"), work / "random"]:
        shutil.rmtree(old, ignore_errors=True)  # runs of an earlier bench in the same --out (the data is kept)
    if args.text:
        return text_bench(args, work)
    return oracle_bench(args, work)


def text_bench(args, work: Path) -> int:
    recipe = args.recipe or "seqgan"
    if args.text == "stdlib":
        corpus = work / "stdlib_sentences.txt"
        lines = stdlib_sentences()
        corpus.write_text("".join(line + "\n" for line in lines))
        print(f"corpus: {len(lines)} sentences from the docstrings of {sysconfig.get_paths()['stdlib']} -> {corpus}")
    else:
        corpus = Path(args.text)
    overrides = {"progress": False, "sample_every": 0, **TEXT_CPU, **parse_sets(args.set)}
    metrics = ["bleu", "self-bleu"]
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        run_dir = work / f"text_s{seed}"
        run, t_mle = train_stopped_after_mle(recipe, corpus, run_dir, {**overrides, "seed": seed})
        mle = evaluate(run_dir, corpus, metrics=metrics, n=args.text_n)
        run, t_rest = resume(recipe, corpus, run_dir)
        adv = evaluate(run_dir, corpus, metrics=metrics, n=args.text_n)
        rows.append((seed, mle, adv))
        print(f"seed {seed}: MLE {t_mle:.0f}s, D pretraining + adversarial {t_rest:.0f}s; "
              f"held-out lines {mle['eval_lines']}", flush=True)
    cfg = run.config
    print()
    print(f"recipe {recipe} on {corpus.name}: tokens {cfg['tokens']} (vocabulary {cfg['vocab_size']}), "
          f"max_len {cfg['max_len']}, mle_steps {cfg['mle_steps']}, d_pretrain_steps {cfg['d_pretrain_steps']}, "
          f"adversarial steps {cfg['steps']} (n_critic {cfg['n_critic']}, rollouts {cfg['rollouts']}), "
          f"{args.text_n} generated lines, {args.threads} threads")
    keys = [f"bleu{n}" for n in (2, 3, 4)] + [f"self_bleu{n}" for n in (2, 3, 4)]
    print(f"{'':22}" + "".join(f"{k:>12}" for k in keys))
    for seed, mle, adv in rows:
        for name, r in (("MLE", mle), ("adversarial", adv)):
            print(f"{'seed %d %s' % (seed, name):22}" + "".join(f"{r[k]:12.3f}" for k in keys))
    if len(rows) > 1:
        for name, i in (("MLE", 1), ("adversarial", 2)):
            print(f"{'mean ' + name:22}" + "".join(f"{statistics.fmean(r[i][k] for r in rows):12.3f}" for k in keys))
    print("(BLEU: against the held-out lines, higher is closer to the data; self-BLEU: higher is less diverse)")
    avg = lambda i, k: statistics.fmean(r[i][k] for r in rows)  # noqa: E731
    setting = f"{recipe} on {corpus.name}, {len(rows)} seeds, {args.text_n} lines"
    write_rows(args.json, [row("text: real sentences", f"{k.replace('_', '-')} MLE -> adversarial",
                               f"{avg(1, k):.3f} -> {avg(2, k):.3f}", "", setting) for k in keys])
    return 0


def oracle_bench(args, work: Path) -> int:
    recipe = args.recipe or "seqgan-oracle-small"
    deadline = time.monotonic() + args.stop_after_s if args.stop_after_s else None
    data = work / "oracle"
    t0 = time.perf_counter()
    if not (data / "oracle.json").is_file():
        ganforge.get_plugin_manager().registry.get("dataset", "oracle")(data)
    print(f"oracle data: {data} ({time.perf_counter() - t0:.0f}s)")
    overrides = {"progress": False, "sample_every": 0, **parse_sets(args.set)}

    # an untrained generator: the paper's "random" row
    ganforge.train(recipe, data=data, out=work / "random",
                   overrides={**overrides, "mle_steps": 0, "d_pretrain_steps": 0, "steps": 0})
    random_nll = nll_oracle(work / "random", data, args.n)

    # per seed: MLE pretraining, stopped at its end, scored, then resumed to the end of the schedule
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        run_dir = work / f"run_s{seed}"
        run, t_mle = train_stopped_after_mle(recipe, data, run_dir, {**overrides, "seed": seed})
        log = run_dir / "log.jsonl"
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
        mle_rate = ([r["samples_per_s"] for r in records if r["phase"] == "mle"] or [float("nan")])[-1]
        mle_nll = nll_oracle(run_dir, data, args.n)
        run, t_rest = resume(recipe, data, run_dir, deadline)
        adv_nll = nll_oracle(run_dir, data, args.n)
        rows.append({"seed": seed, "mle": mle_nll, "adv": adv_nll, "t_mle": t_mle, "t_rest": t_rest})
        reached = "" if run.step >= run.total_steps() else f"; stopped by --stop-after-s at step {run.step} of {run.total_steps()}"
        print(f"seed {seed}: NLL_oracle MLE {mle_nll:.3f} -> adversarial {adv_nll:.3f} ({adv_nll - mle_nll:+.3f}); "
              f"time MLE {t_mle:.0f}s, D pretraining + adversarial {t_rest:.0f}s{reached}", flush=True)
    cfg = run.config

    print()
    print(f"recipe {recipe}: mle_steps {cfg['mle_steps']}, d_pretrain_steps {cfg['d_pretrain_steps']}, "
          f"adversarial steps {cfg['steps']} (n_critic {cfg['n_critic']}, rollouts {cfg['rollouts']}, "
          f"pg_baseline {cfg['pg_baseline']}, lr_d {cfg['lr_d']}), batch {cfg['batch_size']}, {args.threads} threads, "
          f"{args.n} sequences scored")
    print()
    print(f"{'NLL_oracle (per token, lower is better)':30} {'MLE':>8} {'advers.':>8} {'change':>8}")
    for r in rows:
        print(f"{'  seed %d' % r['seed']:30} {r['mle']:8.3f} {r['adv']:8.3f} {r['adv'] - r['mle']:+8.3f}")
    if len(rows) > 1:
        print(f"  mean ± std over {len(rows)} seeds: MLE {spread([r['mle'] for r in rows])}, "
              f"adversarial {spread([r['adv'] for r in rows])}, change {spread([r['adv'] - r['mle'] for r in rows])}")
    mean = {k: statistics.fmean(r[k] for r in rows) for k in ("mle", "adv")}
    print()
    print(f"{'':44} {'ganforge':>9} {'paper':>7}")
    print(f"{'  untrained generator / random':44} {random_nll:9.3f} {PAPER['random']:7.3f}")
    print(f"{'  after MLE pretraining':44} {mean['mle']:9.3f} {PAPER['mle']:7.3f}")
    print(f"{'  after adversarial training (SeqGAN)':44} {mean['adv']:9.3f} {PAPER['seqgan']:7.3f}")
    print(f"{'  change from adversarial training':44} {mean['adv'] - mean['mle']:+9.3f} "
          f"{PAPER['seqgan'] - PAPER['mle']:+7.3f}")
    print(f"  (a uniform model over the vocabulary scores log(5000) = {math.log(5000):.3f} per token in its own NLL)")
    changes = [r["adv"] - r["mle"] for r in rows]
    setting = f"{recipe}, {len(rows)} seeds, {args.n} sequences scored"
    write_rows(args.json, [
        row("text: SeqGAN oracle", "NLL_oracle after MLE -> after adversarial (mean)", f"{mean['mle']:.3f} -> {mean['adv']:.3f}",
            f"paper {PAPER['mle']} -> {PAPER['seqgan']}", setting),
        row("text: SeqGAN oracle", "change from adversarial training (mean ± std)",
            spread(changes) if len(rows) > 1 else f"{changes[0]:+.3f}", "<= -0.1 (paper -0.302)", setting),
    ])
    if args.no_throughput:
        return 0

    # throughput: short MLE-only runs of the loop and the plain loop, alternated, best of each
    x = run.data.fields["x"]
    loop_rates, plain_rates = [], []
    for r in range(2):
        timing_dir = work / f"mle_timing_{r}"
        ganforge.train(recipe, data=data, out=timing_dir,
                       overrides={**overrides, "mle_steps": args.baseline_steps, "d_pretrain_steps": 0, "steps": 0,
                                  "log_every": args.baseline_steps, "checkpoint_every": 0})
        last = json.loads((timing_dir / "log.jsonl").read_text().splitlines()[-1])
        loop_rates.append(last["samples_per_s"])
        plain_rates.append(plain_pytorch_mle(x, cfg["vocab_size"], args.baseline_steps, cfg["batch_size"],
                                             cfg["emb_dim"], cfg["hidden_dim"]))
    loop_rate, base_rate = max(loop_rates), max(plain_rates)
    print()
    print(f"MLE throughput ({args.baseline_steps} steps, best of 2): ganforge loop {loop_rate:.0f} samples/s, "
          f"plain PyTorch {base_rate:.0f} samples/s, ratio {loop_rate / base_rate:.2f} "
          f"(during the last seed's MLE phase: {mle_rate:.0f} samples/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
