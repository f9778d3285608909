"""Mode collapse on the PacGAN 2-D benchmark: ganforge's toy recipes vs the paper.

For the ring (8 Gaussians, std 0.01) and the grid (25 Gaussians, std 0.05), trains
``toy-ring`` / ``toy-grid`` with several seeds through ``ganforge.train`` and scores 2,500
generated points with ``ganforge.metrics.evaluate(..., metrics=["modes"])`` (the toy plugin's metric): modes
captured and the percentage of high-quality points (within 3 std of a mode).

Beside each figure: the PacGAN paper's numbers (Lin et al. 2018, table 2) and, unless
``--no-baseline``, the same MLP GAN written in plain PyTorch (same widths, loss, Adam
settings, batch and steps) trained and scored in this process, with the ratio of the two
wall times. The default is the recipes' length: the ring's 48,000 steps (8-15 minutes a run
on one CPU thread), the grid's 96,000 (about 31 minutes); the paper trains 400,000. Short
runs have not yet pulled their points onto the modes: at 2,000 steps most points are
outside 3 std (a few % high quality) and the mode count is luck; on the ring, 12,000 steps give ~87 % high quality and 48,000 about 97 %.

    python bench/bench_modes.py                                   # ring and grid, 5 seeds
    python bench/bench_modes.py --seeds 2 --steps 1000 --no-baseline   # a quick check
    python bench/bench_modes.py --datasets ring --pack 4          # PacGAN4
    python bench/bench_modes.py --datasets ring --seeds 2 --first-seed 3   # seeds 3 and 4 only
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing
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
from report import parse_set, row, write_rows

# modes captured / % high quality, PacGAN table 2 (GAN, PacGAN4)
PAPER = {
    "ring": {"GAN": (6.3, 98.2), "PacGAN4": (7.8, 95.9)},
    "grid": {"GAN": (17.3, 94.8), "PacGAN4": (24.8, 93.6)},
}


def read_points(data_dir: Path) -> torch.Tensor:
    rows = (data_dir / "points.csv").read_text().splitlines()[1:]
    return torch.tensor([[float(v) for v in r.split(",")] for r in rows if r.strip()])


# ---------------------------------------------------------------- the plain-PyTorch baseline


class Maxout(nn.Module):
    def __init__(self, n_in, n_out, pieces):
        super().__init__()
        self.pieces, self.linear = pieces, nn.Linear(n_in, n_out * pieces)

    def forward(self, x):
        return self.linear(x).unflatten(1, (-1, self.pieces)).amax(2)


def networks(cfg: dict):
    """The recipe's generator and discriminator, written out (PacGAN's by default)."""
    g, g_width = [], cfg["nz"]
    bn = cfg["g_norm"] == "batch"
    for _ in range(cfg["layers"]):
        g += [nn.Linear(g_width, cfg["hidden"], bias=not bn), *([nn.BatchNorm1d(cfg["hidden"])] if bn else []), nn.ReLU()]
        g_width = cfg["hidden"]
    d, d_width, pieces = [], 2 * cfg["pack"], cfg["d_maxout"]
    for _ in range(cfg["d_layers"]):
        d += [Maxout(d_width, cfg["d_hidden"], pieces)] if pieces else [nn.Linear(d_width, cfg["d_hidden"]), nn.LeakyReLU(0.2)]
        d_width = cfg["d_hidden"]
    G, D = nn.Sequential(*g, nn.Linear(g_width, 2)), nn.Sequential(*d, nn.Linear(d_width, 1))
    if cfg["init_std"] > 0:  # PacGAN's initialisation: weights N(0, init_std), biases 0
        for m in [*G.modules(), *D.modules()]:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, cfg["init_std"])
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
    return G, D


def cosine_factor(cfg: dict, step: int) -> tuple[float, float]:
    """schedule=cosine: (lr factor, beta2 weight) at ``step``, as the core computes them."""
    if cfg["schedule"] != "cosine":
        return 1.0, 1.0
    horizon = cfg["schedule_steps"] or cfg["steps"]
    w = 0.5 * (1 + math.cos(math.pi * min(step / max(horizon, 1), 1.0)))
    return cfg["lr_end_ratio"] + (1 - cfg["lr_end_ratio"]) * w, w


def baseline_refusal(get) -> str | None:
    """Why the baseline cannot train these settings (read with ``get(key, default)``), or None."""
    if (get("objective", "non-saturating") != "non-saturating" or float(get("r2_gamma", 0)) > 0
            or int(get("n_critic", 1)) != 1):
        return ("the plain-PyTorch baseline is the non-saturating GAN with one critic step and R1 only; "
                "add --no-baseline for other settings")
    return None


def baseline(points: torch.Tensor, cfg: dict, seed: int, n_eval: int, device: str) -> torch.Tensor:
    """A non-saturating MLP GAN in plain PyTorch, configured like the recipe (networks, Adam,
    schedule, lazy R1, EMA of the generator with its ramp-up); returns samples of the EMA generator."""
    if why := baseline_refusal(cfg.get):
        raise SystemExit(why)
    torch.manual_seed(seed)
    G, D = (m.to(device) for m in networks(cfg))
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg["lr_g"], betas=tuple(cfg["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg["lr_d"], betas=tuple(cfg["betas_d"]))
    data = points.to(device)
    bs, nz, pack = cfg["batch_size"], cfg["nz"], cfg["pack"]

    def score(x):  # PacGAN: D sees `pack` samples concatenated (a ragged tail is dropped)
        x = x[: len(x) - len(x) % pack]
        return D(x.reshape(len(x) // pack, -1)).squeeze(1)

    for step in range(cfg["steps"]):
        lr_factor, w = cosine_factor(cfg, step)
        for opt, which in ((opt_g, "g"), (opt_d, "d")):
            for group in opt.param_groups:
                group["lr"] = cfg[f"lr_{which}"] * lr_factor
                b1, b2 = cfg[f"betas_{which}"]
                group["betas"] = (b1, cfg["beta2_end"] + (b2 - cfg["beta2_end"]) * w) if cfg["schedule"] == "cosine" else (b1, b2)
        real = data[torch.randint(len(data), (bs,), device=device)]
        fake = G(torch.randn(bs, nz, device=device))
        d_loss = F.softplus(-score(real)).mean() + F.softplus(score(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if cfg["r1_gamma"] > 0 and (step + 1) % cfg["d_reg_interval"] == 0:
            # lazy R1 as the core runs it: its own step on interval * gamma/2 * E||grad D(real)||^2,
            # each sample scored with its group's score (hence `* pack`)
            x = real.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(score(x).sum() * pack, x, create_graph=True)
            penalty = grad.square().sum(1).mean() * (cfg["r1_gamma"] / 2)
            opt_d.zero_grad(set_to_none=True)
            (penalty * cfg["d_reg_interval"]).backward()
            opt_d.step()
        g_loss = F.softplus(-score(G(torch.randn(bs, nz, device=device)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if cfg["ema_beta"] > 0:
            beta = cfg["ema_beta"]
            if cfg["ema_rampup"] > 0:  # StyleGAN2's ramp-up: half-life at most rampup x steps so far
                beta = min(beta, 0.5 ** (1.0 / max((step + 1) * cfg["ema_rampup"], 1e-8)))
            with torch.no_grad():
                for e, p in zip(G_ema.parameters(), G.parameters()):
                    e.lerp_(p, 1 - beta)
    if cfg["ema_beta"] <= 0:
        G_ema = G
    with torch.no_grad():
        norms = [m for m in G_ema.modules() if isinstance(m, nn.BatchNorm1d)]
        for m in norms:  # batch statistics that match the averaged weights
            m.reset_running_stats()
            m.momentum = None
        G_ema.train()
        for _ in range(8):
            G_ema(torch.randn(bs, nz, device=device))
        G_ema.eval()
        return G_ema(torch.randn(n_eval, nz, device=device)).cpu()


# ---------------------------------------------------------------- the benchmark


def one_run(job: dict) -> dict:
    """Train and score one (data set, seed): ganforge's recipe and, if asked, the baseline."""
    torch.set_num_threads(job["threads"])
    name, seed, work = job["dataset"], job["seed"], Path(job["work"])
    data = work / f"data-{name}"
    out = work / f"{name}-seed{seed}"
    t0 = time.perf_counter()
    run = ganforge.train(f"toy-{name}", data=data, out=out, steps=job["steps"],
                         overrides={**job["overrides"], "seed": seed})
    t_gf = time.perf_counter() - t0
    # the function registered as the metric "modes" (ganforge_toy.metrics:modes)
    scores = evaluate(out, data, metrics=[modes], n=job["n"], seed=seed)
    row = {"dataset": name, "seed": seed, "steps": job["steps"], "modes": scores["modes"], "total": scores["modes_total"],
           "hq": scores["high_quality"], "t_gf": t_gf}
    if job["baseline"]:
        mixture = json.loads((data / "modes.json").read_text())
        t0 = time.perf_counter()
        samples = baseline(read_points(data), run.config, seed, job["n"], str(run.device))
        row["t_pt"] = time.perf_counter() - t0
        b = mode_coverage(samples, torch.tensor(mixture["modes"]), float(mixture["std"]))
        row["b_modes"], row["b_hq"] = b["modes"], b["high_quality"]
    return row


def describe(row: dict) -> str:
    line = (f"  {row['dataset']} seed {row['seed']}: ganforge {row['modes']:>2}/{row['total']} modes, "
            f"{row['hq']:5.1f}% HQ ({row['t_gf']:5.1f}s)")
    if "b_modes" in row:
        line += f" | plain PyTorch {row['b_modes']:>2} modes, {row['b_hq']:5.1f}% HQ ({row['t_pt']:5.1f}s)"
    return line


def summarise(name: str, rows: list[dict], args) -> list[dict]:
    paper = PAPER[name]["PacGAN4" if args.pack == 4 else "GAN"]
    label = "PacGAN4" if args.pack == 4 else ("GAN" if args.pack == 1 else f"pack={args.pack}")
    stat = lambda key: (statistics.mean(r[key] for r in rows), statistics.pstdev(r[key] for r in rows))  # noqa: E731
    (m, m_sd), (hq, hq_sd) = stat("modes"), stat("hq")
    print(f"{name}, {len(rows)} seeds:")
    print(f"  mean   : ganforge {m:4.1f} ± {m_sd:.1f} modes, {hq:5.1f} ± {hq_sd:.1f}% HQ"
          + (f" | plain PyTorch {stat('b_modes')[0]:4.1f} modes, {stat('b_hq')[0]:5.1f}% HQ" if args.baseline else ""))
    print(f"  paper  : {label} {paper[0]:4.1f} modes, {paper[1]:5.1f}% HQ (PacGAN table 2, 400 epochs)")
    if args.baseline:
        ratio = sum(r["t_gf"] for r in rows) / sum(r["t_pt"] for r in rows)
        print(f"  time   : ganforge / plain PyTorch = {ratio:.2f} (training; ganforge also writes checkpoints and previews)")
    setting = f"{len(rows)} seeds, {rows[0]['steps']} steps" + "".join(f", {k}={v}" for k, v in args.set)
    return [row(f"toy: {name}", f"{label}: modes / % high quality (mean)", f"{m:.1f} / {hq:.1f}",
                f"PacGAN {label}: {paper[0]} / {paper[1]}", setting)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    p.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    p.add_argument("--first-seed", dest="first_seed", type=int, default=0,
                   help="seeds FIRST..FIRST+N-1, to spread a benchmark over processes (default 0)")
    p.add_argument("--steps", type=int, default=None, help="generator steps per run (default: the recipe's)")
    p.add_argument("--pack", type=int, default=1, help="PacGAN packing degree (1: plain GAN, 4: PacGAN4)")
    p.add_argument("--set", action="append", type=parse_set, default=[], metavar="KEY=VALUE",
                   help="any other recipe option (JSON values), as `ganforge train --set`")
    p.add_argument("-n", type=int, default=2500, help="generated points scored (PacGAN: 2500)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel, one process each")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads per run")
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the plain-PyTorch GAN")
    p.add_argument("--out", help="keep the runs here (default: a temporary folder)")
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = p.parse_args(argv)
    if args.baseline and (why := baseline_refusal(dict(args.set).get)):
        p.error(why)  # before any training, not after the first run
    torch.set_num_threads(args.threads)

    length = args.steps or "the recipes'"
    print(f"PacGAN mode-collapse benchmark: {args.seeds} seeds, {length} steps, pack {args.pack}, "
          f"{args.n} points, device {args.device}, {args.jobs} parallel runs" + "".join(f", {k}={v}" for k, v in args.set),
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out) if args.out else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        overrides = {"pack": args.pack, "progress": False, "device": args.device, **dict(args.set)}
        jobs, seeds = [], range(args.first_seed, args.first_seed + args.seeds)
        for name in args.datasets:
            ganforge.get_registry().get("dataset", name)(work / f"data-{name}")  # what `ganforge data NAME` runs
            steps = args.steps or ganforge.get_registry().get("recipe", f"toy-{name}").defaults["steps"]
            jobs += [{"dataset": name, "seed": seed, "work": str(work), "steps": steps, "overrides": overrides,
                      "n": args.n, "baseline": args.baseline, "threads": args.threads} for seed in seeds]
        results = []
        if args.jobs > 1:
            with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
                for result in pool.imap_unordered(one_run, jobs):
                    print(describe(result), flush=True)
                    results.append(result)
        else:
            for job in jobs:
                results.append(one_run(job))
                print(describe(results[-1]), flush=True)
        for name in args.datasets:
            rows += summarise(name, sorted((r for r in results if r["dataset"] == name), key=lambda r: r["seed"]), args)
    write_rows(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
