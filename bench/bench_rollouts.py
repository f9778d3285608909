"""One adversarial generator step of ``seqgan-oracle-small``: the old rollout loop against
the batched rollouts, in this process, under the same seed.

    python bench/bench_rollouts.py [--threads 1] [--repeats 3]

The networks have the preset's sizes (the oracle corpus: 5000 words + 4 special tokens,
20 tokens a line; G emb/hidden 32; D widths 2,3,4,5,8,10 x 32 filters), batch 64,
16 rollouts. A step is ``PolicyGradient.generator_loss`` (sample, rollout rewards, loss)
plus backward, with ``rollout_rewards`` being either ``rollout_rewards_reference`` (the
per-prefix loop) or ``rollout_rewards``. Both runs of a repeat start from the same seed,
so their rewards are the same numbers; their statistics are printed. Figures depend on
the machine and its load; the ratio is the comparable number.
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

import torch

from ganforge_text import objectives
from ganforge_text.discriminator import CNNDiscriminatorConfig, Discriminator
from ganforge_text.generator import Generator, LSTMGeneratorConfig
from ganforge_text.recipes import SEQGAN_ORACLE_SMALL


def networks():
    o = SEQGAN_ORACLE_SMALL.defaults
    V, T = o["max_vocab"] + 4, o["max_len"]
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=V, seq_len=T, emb_dim=o["emb_dim"], hidden_dim=o["hidden_dim"],
                                      init_std=o["init_std"], banned_tokens=[0, 1, 2, 3]))
    D = Discriminator(CNNDiscriminatorConfig(vocab_size=V, seq_len=T, d_emb_dim=o["d_emb_dim"],
                                             d_filter_sizes=o["d_filter_sizes"], d_num_filters=o["d_num_filters"],
                                             d_dropout=o["d_dropout"]))
    return G, D, o


def one_step(G, D, o, rewards_fn, seed):
    objective = objectives.PolicyGradient(o)
    s = SimpleNamespace(generator=G, discriminator=D, real=torch.zeros(o["batch_size"], 1, dtype=torch.long))
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
        seconds = time.perf_counter() - t0
    finally:
        objectives.rollout_rewards = saved
    return seconds, captured["rewards"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    G, D, o = networks()
    fns = {"old (per-prefix loop)": objectives.rollout_rewards_reference, "new (batched)": objectives.rollout_rewards}
    times = {k: [] for k in fns}
    for rep in range(args.repeats):
        got = {}
        for name, fn in fns.items():  # alternate, so load changes hit both alike
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
          f"T {o['max_len']}, V {G.cfg.vocab_size}; torch {torch.__version__})")


if __name__ == "__main__":
    main()
