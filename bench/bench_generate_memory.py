"""Peak memory of ``ganforge generate`` as a whole process: -n 1000 vs -n 100000.

Generation streams batches to disk (Pipeline.generate_to), so the peak resident set
should not grow with n. Trains a tiny toy-ring run (or uses --run), then runs each
generate in a child process and reads its peak RSS from wait4()'s rusage.

    python bench/bench_generate_memory.py [--run RUN] [--n 1000 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_child(argv: list[str], env: dict) -> tuple[int, float, float]:
    """(exit code, peak RSS in MiB, seconds) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{out.decode()}")
    return p.returncode, usage.ru_maxrss / 1024, time.perf_counter() - t0  # ru_maxrss is in KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="an existing run directory (default: train a tiny toy-ring run)")
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 100000])
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    py = [sys.executable, "-m", "ganforge"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = args.run
        if run is None:
            run = tmp / "run"
            subprocess.run(py + ["data", "ring", "--out", str(tmp / "data"), "--set", "n=512"], env=env, check=True,
                           capture_output=True)
            subprocess.run(py + ["train", "toy-ring", "--data", str(tmp / "data"), "--out", str(run), "--steps", "20",
                                 "--device", "cpu", "--set", "hidden=8", "--set", "progress=false", "--set",
                                 "sample_every=0", "--set", "preview_n=0"], env=env, check=True, capture_output=True)
        # the interpreter with torch and ganforge imported, generating nothing: the floor
        _, base, _ = run_child([sys.executable, "-c", "import torch, ganforge.pipeline"], env)
        rows = []
        for n in args.n:
            out = tmp / f"gen-{n}"
            _, rss, secs = run_child(py + ["generate", str(run), "--out", str(out), "-n", str(n), "--device", "cpu"], env)
            files = sum(1 for _ in out.iterdir())
            rows.append((n, rss, secs, files))
    print(f"run: {'toy-ring, 20 steps, hidden=8' if args.run is None else args.run}")
    print(f"import torch + ganforge only: peak RSS {base:8.1f} MiB")
    for n, rss, secs, files in rows:
        print(f"generate -n {n:>7}: peak RSS {rss:8.1f} MiB  ({rss - base:+7.1f} over the floor)  "
              f"{secs:6.1f} s  {files} entries in --out")
    if len(rows) >= 2:
        (n0, r0, *_), (n1, r1, *_) = rows[0], rows[-1]
        print(f"ratio peak RSS n={n1} / n={n0}: {r1 / r0:.3f}  (over the floor: "
              f"{(r1 - base) / max(r0 - base, 1e-9):.3f}) for {n1 // n0}x the samples")


if __name__ == "__main__":
    main()
