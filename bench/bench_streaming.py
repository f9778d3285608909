"""Memory and data waits of image training as the data set grows 10x: decoded whole at the
start (the default) against streamed from disk (``--set stream=true``), each run a fresh
process.

    python bench/bench_streaming.py [--small 1000] [--factor 10] [--size 64] [--steps 30] [--workers 2]

Writes the shapes data at ``--size`` px (``--small`` images, then ``--factor`` times as
many: the same images repeated under other names, so only the count changes), then trains
``dcgan`` (ngf = ndf = 32, batch 64, ``--steps`` steps, no previews or checkpoints on the
way) on each, in a child process. Prints per run the peak resident memory of the training
process (its workers not counted: each holds one batch), the memory left after the data
was loaded, the wall time, and the share of step time spent waiting for data (``data_s``
in log.jsonl). A streamed run with ``data_cache`` is run twice: the second reads the
decoded samples back.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import ganforge
    data, out, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    started = time.perf_counter()
    run = ganforge.Run("dcgan", data, out, overrides=overrides)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fit_started = time.perf_counter()
    run.fit()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    now = time.perf_counter()
    print(json.dumps({"loaded_mb": loaded, "peak_mb": peak, "wall_s": now - started, "fit_s": now - fit_started}))
""")


def make_data(folder: Path, n: int, size: int, base: Path | None) -> Path:
    if base is None:
        from ganforge_image.datasets import make_shapes

        return make_shapes(folder, n=n, size=size, seed=0)
    originals = sorted(base.rglob("*.png"))
    for i in range(n):
        src = originals[i % len(originals)]
        dst = folder / src.parent.name / f"{i:06d}.png"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return folder


def train(data: Path, out: Path, steps: int, size: int, extra: dict) -> dict:
    overrides = {"steps": steps, "image_size": size, "ngf": 32, "ndf": 32, "batch_size": 64, "progress": False,
                 "preview_n": 0, "sample_every": 0, "checkpoint_every": 0, "log_every": 1, **extra}
    done = subprocess.run([sys.executable, "-c", CHILD, str(data), str(out), json.dumps(overrides)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    data_s = sum(r.get("data_s", 0.0) for r in records)
    figures["data_share"] = data_s / figures["fit_s"]
    figures["data_ms"] = 1000 * data_s / max(len(records), 1)
    return figures


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--factor", type=int, default=10)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        small = make_data(tmp / "small", args.small, args.size, None)
        large = make_data(tmp / "large", args.small * args.factor, args.size, small)
        print(f"data: {args.small} and {args.small * args.factor} images of {args.size} px "
              f"({time.perf_counter() - t:.0f} s to write)")
        print(f"{'data':>6} {'mode':<28} {'after load MB':>13} {'peak MB':>8} {'wall s':>7} {'data wait/step':>15}")
        cache = tmp / "cache"
        runs = [("in memory", {}), ("streamed", {"stream": True, "data_workers": args.workers}),
                ("streamed + cache (1st)", {"stream": True, "data_workers": args.workers, "data_cache": str(cache)}),
                ("streamed + cache (2nd)", {"stream": True, "data_workers": args.workers, "data_cache": str(cache)})]
        for label, data in (("1x", small), (f"{args.factor}x", large)):
            shutil.rmtree(cache, ignore_errors=True)
            for name, extra in runs:
                f = train(data, tmp / f"run-{label}-{len(extra)}-{name[-4:]}", args.steps, args.size, extra)
                print(f"{label:>6} {name:<28} {f['loaded_mb']:13.0f} {f['peak_mb']:8.0f} {f['wall_s']:7.1f} "
                      f"{f['data_ms']:9.1f} ms ({f['data_share']:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
