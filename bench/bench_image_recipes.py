"""dcgan, stylegan and r3gan side by side on the demo's shapes data, at equal wall time.

The data are the demo's (``ganforge data shapes --set style=bold --set size=32``, 2,000
images, four classes). Each recipe trains class-conditionally for the same wall-clock
budget (a ``ganforge_on_step_end`` hook calls ``run.request_stop()`` once it is spent),
then ``ganforge.metrics.evaluate(ganforge.load(run), data, ["fd", "kid", "class-acc"],
n=400)`` scores it. Second table: dcgan (small-data) on 200 of the images with and
without ``augment=ada``, same budget, scored against the full 2,000-image set.

    python bench/bench_image_recipes.py                   # 150 s per run, 5 runs
    python bench/bench_image_recipes.py --budget-s 60 --out /tmp/figs

The grids (final preview of each run, one row per class) are printed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

import ganforge
import ganforge.metrics
from ganforge_image.datasets import make_shapes

DCGAN_SMALL = {"preset": "small-data", "image_size": 32, "ngf": 32, "ndf": 32, "batch_size": 64}  # the demo's
COMMON = {"conditional": True, "image_size": 32, "sample_every": 0, "checkpoint_every": 0,
          "preview_n": 64, "progress": False, "seed": 0}


class Budget:
    """A ganforge plugin object: stop the run once ``seconds`` of training have passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.t0 = None
        self.elapsed = 0.0

    @ganforge.hookimpl
    def ganforge_on_train_start(self, run):
        self.t0 = time.perf_counter()

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        self.elapsed = time.perf_counter() - self.t0
        if self.elapsed >= self.seconds:
            run.request_stop()


def train_for(recipe: str, data: Path, out: Path, budget_s: float, overrides: dict):
    budget = Budget(budget_s)
    ganforge.add_plugin(budget, name="bench-budget")
    try:
        run = ganforge.train(recipe, data=data, out=out, steps=10**7, overrides={**COMMON, **overrides})
    finally:
        ganforge.remove_plugin("bench-budget")
    grids = sorted((out / "samples").glob("step_*.png"))
    return run.step, budget.elapsed, grids[-1] if grids else None


def score(run_dir: Path, data: Path, n: int) -> dict:
    return ganforge.metrics.evaluate(ganforge.load(run_dir), data, metrics=["fd", "kid", "class-acc"], n=n)


def table(title: str, rows: list[tuple[str, int, float, dict]]) -> None:
    space = rows[0][3].get("feature_space", "?") if rows else "?"
    print(f"\n{title}   (feature space: {space})")
    print("| run | steps | train s | FD | KID | class acc | ceiling |")
    print("|---|---|---|---|---|---|---|")
    for name, steps, secs, m in rows:
        print(f"| {name} | {steps} | {secs:.0f} | {m.get('fd', float('nan')):.2f} | {m.get('kid', float('nan')):.4f} "
              f"| {m.get('class_acc', float('nan')):.3f} | {m.get('class_acc_ceiling', float('nan')):.3f} |")
    sys.stdout.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-s", type=float, default=150.0, help="training seconds per run (default 150)")
    parser.add_argument("--n", type=int, default=400, help="generated samples per evaluation (default 400)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="keep data and runs here (default: a temp folder)")
    parser.add_argument("--skip-ada", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="recipes of the first table (default all three)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory()
        args.out = Path(tmp.name)
    root = args.out
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data" / "shapes"
    if not (data / "metadata.jsonl").exists():
        make_shapes(data, n=2000, size=32, style="bold")  # = ganforge data shapes --set style=bold --set size=32
    print(f"budget {args.budget_s:.0f} s per run, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"eval n={args.n}")

    runs = {"dcgan": ("dcgan", DCGAN_SMALL), "stylegan": ("stylegan", {}), "r3gan": ("r3gan", {})}
    grids = {}
    rows = []
    for name in args.only or list(runs):
        recipe, overrides = runs[name]
        steps, secs, grid = train_for(recipe, data, root / "runs" / name, args.budget_s, overrides)
        grids[name] = grid
        rows.append((name, steps, secs, score(root / "runs" / name, data, args.n)))
        print(f"  {name}: {steps} steps in {secs:.0f} s, {rows[-1][3]}")
        sys.stdout.flush()
    if rows:
        table(f"Recipes on bold shapes (2000 images, 32 px, conditional), {args.budget_s:.0f} s each", rows)

    if not args.skip_ada:
        small = root / "data" / "shapes200"
        if not (small / "metadata.jsonl").exists():
            make_shapes(small, n=200, size=32, style="bold")
        ada_rows = []
        for name, extra in (("dcgan 200 img", {}), ("dcgan 200 img + ADA", {"augment": "ada"})):
            out = root / "runs" / name.replace(" ", "_").replace("+", "")
            steps, secs, grid = train_for("dcgan", small, out, args.budget_s, {**DCGAN_SMALL, **extra})
            grids[name] = grid
            ada_rows.append((name, steps, secs, score(out, data, args.n)))
            print(f"  {name}: {steps} steps in {secs:.0f} s, {ada_rows[-1][3]}")
            sys.stdout.flush()
        table(f"dcgan small-data on 200 images, with/without ADA, {args.budget_s:.0f} s each "
              f"(scored against the 2000-image set)", ada_rows)

    print("\nfinal preview grids (one row per class):")
    for name, grid in grids.items():
        print(f"  {name}: {grid}")
    if tmp is not None:
        print("(temporary folder: the grids are deleted on exit; pass --out to keep them)")
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
