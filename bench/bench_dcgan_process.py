"""Whole-process wall time: ``ganforge train dcgan`` against the classic PyTorch DCGAN
example, on the same 1,024 images (64 px, batch 64, one epoch = 16 steps).

    python bench/bench_dcgan_process.py [--repeats 5] [--threads 0] [--data FOLDER]

Each repeat runs, one after the other in fresh processes (so load changes hit all alike):

- ``classic``: ``bench/classic_dcgan.py`` (the example's algorithm and work in plain
  PyTorch: ImageFolder + DataLoader with 2 workers, BCE, previews and checkpoints);
- ``ganforge``: ``ganforge train dcgan --steps 16`` with the recipe's defaults (which add
  an EMA of the generator, the run's log, a final checkpoint and preview);
- ``ganforge-fast``: the same with the documented fast options (``FAST``).

Everything is timed from the process's start to its exit: interpreter start-up, imports,
reading the images, training, writing files. Without ``--data`` the images are the
``shapes`` data set at 64 px (PNG, in class sub-folders as ImageFolder needs).
``--threads N`` sets OMP_NUM_THREADS for all processes (0: leave it unset, torch's
default of one thread per core). Prints each run's seconds, then medians, ranges and
ratios against the classic example; ``--json FILE`` also writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = 16  # one epoch of 1,024 images at batch 64

# The fast options (docs/benchmarks.md): channels_last convolutions (oneDNN's preferred layout
# on the CPU) and bf16 autocast (twice the convolution speed on a CPU with bf16 dot products,
# avx512_bf16 or AMX; emulated, so slower, on one without). Adam's fused kernel, one batch-norm
# re-estimate of the EMA generator for the final checkpoint and preview, and the quick exit
# are defaults.
FAST = ["--set", "channels_last=true", "--set", "amp=bf16"]


def commands(data: Path, out: Path) -> dict[str, list[str]]:
    ganforge = [sys.executable, "-m", "ganforge", "train", "dcgan", "--data", str(data), "--steps", str(STEPS),
                "--batch-size", "64", "--device", "cpu", "--set", "progress=false"]
    return {
        "classic": [sys.executable, str(HERE / "classic_dcgan.py"), "--dataroot", str(data), "--outf", str(out / "classic"),
                    "--niter", "1"],
        "ganforge": ganforge + ["--out", str(out / "ganforge")],
        "ganforge-fast": ganforge + ["--out", str(out / "ganforge-fast")] + FAST,
    }


def timed(cmd: list[str], env: dict, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}")
    return seconds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS for every process (0: unset)")
    ap.add_argument("--data", type=Path, help="a folder of images in class sub-folders (default: shapes, 64 px)")
    ap.add_argument("--only", nargs="*", help="run only these (classic, ganforge, ganforge-fast)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if data is None:
            data = tmp / "shapes64"
            subprocess.run([sys.executable, "-m", "ganforge", "data", "shapes", "--out", str(data),
                            "--set", "n=1024", "--set", "size=64"], check=True, env=env, stdout=subprocess.DEVNULL)
        cmds = commands(data, tmp)
        if args.only:
            cmds = {k: v for k, v in cmds.items() if k in args.only}
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for rep in range(args.repeats):
            for name, cmd in cmds.items():
                times[name].append(timed(cmd, env, tmp / name))
            print(f"repeat {rep}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
    threads = env.get("OMP_NUM_THREADS", f"unset ({os.cpu_count()} cores)")
    print(f"\nwhole process, 1,024 images 64 px, batch 64, one epoch; OMP_NUM_THREADS {threads}; "
          f"median of {args.repeats} (range)")
    base = statistics.median(times["classic"]) if "classic" in times else None
    rows = []
    for name, v in times.items():
        med = statistics.median(v)
        ratio = med / base if base else float("nan")
        # the ratio's range: each repeat's run against the classic run of the same repeat
        per = [a / b for a, b in zip(v, times["classic"])] if base else []
        rng = f"{min(per):.2f}-{max(per):.2f}" if per else ""
        print(f"{name:14s} {med:7.2f} s ({min(v):.2f}-{max(v):.2f})  x classic {ratio:.3f} (paired {rng})")
        rows.append({"name": name, "median_s": med, "min_s": min(v), "max_s": max(v), "ratio": ratio, "runs": v})
    if args.json:
        args.json.write_text(json.dumps({"threads": threads, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
