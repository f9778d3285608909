"""Time to generate and write 64 DCGAN images of 64 px after the run is loaded (target < 0.5 s
on 2 cores), and where that time goes.

    python bench/bench_generate_speed.py [--run RUN] [--n 64] [--repeats 5] [--threads 2]

Without ``--run`` a ``dcgan`` run (64 px, ngf = 64, the recipe's networks) is trained for
one step on 64 shapes images: generation costs the same whatever the weights. Each repeat
calls ``Pipeline.generate_to`` (latents from per-sample seeds, the generator in batches,
one PNG per sample with its metadata chunk, ``metadata.jsonl``, the preview grid) into a
fresh folder; the parts are then timed alone: the generator's forward pass and the PNG
writing. Prints medians and ranges.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

import ganforge


def spread(v: list[float]) -> str:
    return f"{statistics.median(v) * 1000:7.1f} ms (range {min(v) * 1000:.1f}-{max(v) * 1000:.1f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run = args.run
        if run is None:
            data = ganforge.get_plugin_manager().registry.get("dataset", "shapes")(tmp / "data", n=64, size=64)
            run = tmp / "run"
            ganforge.train("dcgan", data=data, out=run, steps=1, overrides={"progress": False, "device": "cpu",
                                                                           "preview_n": 0})
        t = time.perf_counter()
        pipe = ganforge.load(run, device="cpu")
        load_s = time.perf_counter() - t
        whole, forward, write = [], [], []
        for rep in range(args.repeats + 1):  # the first is a warm-up
            out = tmp / f"gen{rep}"
            t = time.perf_counter()
            pipe.generate_to(out, n=args.n)
            seconds = time.perf_counter() - t
            z = torch.randn(args.n, *pipe.generator.latent_shape())
            t = time.perf_counter()
            with torch.no_grad():
                x = pipe.generator.generate(args.n, latents=z)
            fwd = time.perf_counter() - t
            shutil.rmtree(tmp / "png", ignore_errors=True)
            t = time.perf_counter()
            pipe.modality.save_samples(x, tmp / "png", [f"s{i}" for i in range(args.n)])
            png = time.perf_counter() - t
            if rep:
                whole.append(seconds), forward.append(fwd), write.append(png)
        files = sorted((tmp / f"gen{args.repeats}").glob("*.png"))
    print(f"load {load_s * 1000:.0f} ms; {args.n} images, {args.threads} thread(s), median of {args.repeats}:")
    print(f"  generate_to (all of it)  {spread(whole)}  -> {len(files)} PNG files")
    print(f"  generator forward        {spread(forward)}")
    print(f"  PNG writing              {spread(write)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
