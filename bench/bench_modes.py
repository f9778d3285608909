"""Mode collapse on the PacGAN 2-D benchmark: ganforge's toy recipes vs the paper.

For the ring (8 Gaussians, std 0.01) and the grid (25 Gaussians, std 0.05), trains
``toy-ring`` / ``toy-grid`` with several seeds through ``ganforge.train`` and scores 2,500
generated points with ``ganforge.metrics.evaluate(..., metrics=["modes"])`` (the toy plugin's metric): modes
captured and the percentage of high-quality points (within 3 std of a mode).

Beside each figure: the PacGAN paper's numbers (Lin et al. 2018, table 2) and, unless
``--no-baseline``, the same MLP GAN written in plain PyTorch (same widths, loss, Adam
settings, batch and steps) trained and scored in this process, with the ratio of the two
wall times. The default is the recipes' 3000 steps (about a minute per run on one CPU
thread); the paper trains far longer. Short runs have not yet pulled their points onto the
modes: at 1000 steps most points are outside 3 std (a few % high quality) and the mode
count is luck; at 5000 steps the ring reaches 8 modes and ~90 % high quality.

    python bench/bench_modes.py                                   # ring and grid, 5 seeds
    python bench/bench_modes.py --seeds 2 --steps 1000 --no-baseline   # a quick check
    python bench/bench_modes.py --datasets ring --pack 4          # PacGAN4
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

import ganforge
from ganforge.metrics import evaluate
from ganforge_toy.metrics import modes
from ganforge_toy.mixtures import mode_coverage

# modes captured / % high quality, PacGAN table 2 (GAN, PacGAN4)
PAPER = {
    "ring": {"GAN": (6.3, 98.2), "PacGAN4": (7.8, 95.9)},
    "grid": {"GAN": (17.3, 94.8), "PacGAN4": (24.8, 93.6)},
}


def read_points(data_dir: Path) -> torch.Tensor:
    rows = (data_dir / "points.csv").read_text().splitlines()[1:]
    return torch.tensor([[float(v) for v in r.split(",")] for r in rows if r.strip()])


# ---------------------------------------------------------------- the plain-PyTorch baseline


def mlp(n_in, hidden, layers, n_out, act):
    mods, width = [], n_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), act()]
        width = hidden
    return nn.Sequential(*mods, nn.Linear(width, n_out))


def baseline(points: torch.Tensor, cfg: dict, seed: int, n_eval: int, device: str) -> torch.Tensor:
    """A non-saturating MLP GAN in plain PyTorch, configured like the recipe; returns samples."""
    torch.manual_seed(seed)
    hidden, layers, nz, pack = cfg["hidden"], cfg["layers"], cfg["nz"], cfg["pack"]
    G = mlp(nz, hidden, layers, 2, nn.ReLU).to(device)
    D = mlp(2 * pack, hidden, layers, 1, lambda: nn.LeakyReLU(0.2)).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg["lr_g"], betas=tuple(cfg["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg["lr_d"], betas=tuple(cfg["betas_d"]))
    data = points.to(device)
    bs = cfg["batch_size"]

    def score(x):  # PacGAN: D sees `pack` samples concatenated (a ragged tail is dropped)
        x = x[: len(x) - len(x) % pack]
        return D(x.reshape(len(x) // pack, -1)).squeeze(1)

    for _ in range(cfg["steps"]):
        real = data[torch.randint(len(data), (bs,), device=device)]
        fake = G(torch.randn(bs, nz, device=device))
        d_loss = F.softplus(-score(real)).mean() + F.softplus(score(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-score(G(torch.randn(bs, nz, device=device)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
    with torch.no_grad():
        return G(torch.randn(n_eval, nz, device=device)).cpu()


# ---------------------------------------------------------------- the benchmark


def run_dataset(name: str, args, work: Path) -> None:
    data = work / f"data-{name}"
    ganforge.get_registry().get("dataset", name)(data)  # what `ganforge data NAME` runs
    mixture = json.loads((data / "modes.json").read_text())
    points = read_points(data) if args.baseline else None
    recipe = f"toy-{name}"
    overrides = {"pack": args.pack, "progress": False, "device": args.device}
    rows = []
    for seed in range(args.seeds):
        out = work / f"{name}-seed{seed}"
        t0 = time.perf_counter()
        run = ganforge.train(recipe, data=data, out=out, steps=args.steps, overrides={**overrides, "seed": seed})
        t_gf = time.perf_counter() - t0
        # the function registered as the metric "modes" (ganforge_toy.metrics:modes)
        scores = evaluate(out, data, metrics=[modes], n=args.n, seed=seed)
        row = {"seed": seed, "modes": scores["modes"], "hq": scores["high_quality"], "t_gf": t_gf}
        if args.baseline:
            t0 = time.perf_counter()
            samples = baseline(points, run.config, seed, args.n, str(run.device))
            row["t_pt"] = time.perf_counter() - t0
            b = mode_coverage(samples, torch.tensor(mixture["modes"]), float(mixture["std"]))
            row["b_modes"], row["b_hq"] = b["modes"], b["high_quality"]
        rows.append(row)
        line = f"  seed {seed}: ganforge {row['modes']:>2}/{scores['modes_total']} modes, {row['hq']:5.1f}% HQ ({t_gf:5.1f}s)"
        if args.baseline:
            line += f" | plain PyTorch {row['b_modes']:>2} modes, {row['b_hq']:5.1f}% HQ ({row['t_pt']:5.1f}s)"
        print(line, flush=True)

    paper = PAPER[name]["PacGAN4" if args.pack == 4 else "GAN"]
    label = "PacGAN4" if args.pack == 4 else ("GAN" if args.pack == 1 else f"pack={args.pack}")
    mean = lambda key: statistics.mean(r[key] for r in rows)  # noqa: E731
    print(f"  mean   : ganforge {mean('modes'):4.1f} modes, {mean('hq'):5.1f}% HQ"
          + (f" | plain PyTorch {mean('b_modes'):4.1f} modes, {mean('b_hq'):5.1f}% HQ" if args.baseline else ""))
    print(f"  paper  : {label} {paper[0]:4.1f} modes, {paper[1]:5.1f}% HQ (PacGAN table 2, longer training)")
    if args.baseline:
        ratio = sum(r["t_gf"] for r in rows) / sum(r["t_pt"] for r in rows)
        print(f"  time   : ganforge / plain PyTorch = {ratio:.2f} (training; ganforge also writes checkpoints and previews)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    p.add_argument("--steps", type=int, default=3000, help="generator steps per run (default 3000, the recipes' own)")
    p.add_argument("--pack", type=int, default=1, help="PacGAN packing degree (1: plain GAN, 4: PacGAN4)")
    p.add_argument("-n", type=int, default=2500, help="generated points scored (PacGAN: 2500)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the plain-PyTorch GAN")
    p.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    print(f"PacGAN mode-collapse benchmark: {args.seeds} seeds, {args.steps} steps, pack {args.pack}, "
          f"{args.n} points, device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out) if args.out else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            print(f"{name}:")
            run_dataset(name, args, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
