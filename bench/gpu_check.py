"""The CUDA paths of the one loop, checked on a GPU machine in one short run.

    python bench/gpu_check.py --out /tmp/gpu-check

- dcgan 64x64 trains on CUDA with amp=fp16 (GradScaler), then bf16, with channels_last;
- wgan-gp (a gradient penalty through autocast) and R1 + R2 regularisers on CUDA;
- a run stopped at step 10 and resumed matches an uninterrupted one (max weight difference;
  cuDNN may pick non-deterministic kernels, so the figure is printed, not asserted);
- generation from the run on CUDA equals generation on the CPU (per-sample seeds);
- prints one line per check and the figures; exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

import ganforge
from ganforge.artifacts import checkpoint_dir


def weights(run: Path) -> dict:
    return load_file(str(checkpoint_dir(run) / "generator.safetensors"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/gpu-check")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script (fp16 skipped)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here")
        return 1
    out = Path(args.out)
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    print(f"device: {name}, torch {torch.__version__}")
    data = ganforge.get_registry().get("dataset", "shapes")(out / "shapes", n=512, size=64)
    base = {"image_size": 64, "batch_size": 64, "progress": False, "sample_every": 0, "device": args.device,
            "checkpoint_every": 10, "conditional": True}
    failures = 0

    def check(name, fn):
        nonlocal failures
        t = time.perf_counter()
        try:
            detail = fn()
            print(f"ok    {name} ({time.perf_counter() - t:.1f} s) {detail or ''}")
        except Exception as e:  # report every check, not just the first failure
            failures += 1
            print(f"FAIL  {name}: {type(e).__name__}: {e}")

    def train(name, steps, **extra):
        return ganforge.train("dcgan", data=data, out=out / name, steps=steps, overrides={**base, **extra})

    if args.device == "cuda":
        check("fp16 + channels_last", lambda: f"step {train('fp16', 20, amp='fp16', channels_last=True).step}")
    check("bf16", lambda: f"step {train('bf16', 20, amp='bf16').step}")
    check("wgan-gp", lambda: f"step {train('wgangp', 10, objective='wgan-gp', conditional=False).step}")
    check("r1 + r2", lambda: f"step {train('reg', 10, r1_gamma=1.0, r2_gamma=1.0, d_reg_interval=4).step}")

    def resume():
        train("full", 20)
        train("part", 10)
        ganforge.train("dcgan", data=data, out=out / "part", steps=20, resume=True)
        a, b = weights(out / "full"), weights(out / "part")
        return f"max |full - resumed| = {max((a[k] - b[k]).abs().max().item() for k in a):.2e}"

    check("resume on CUDA", resume)

    def generation():
        gpu = ganforge.load(out / "full", device=args.device).generate(n=8, seed=3, classes=["star"]).samples
        cpu = ganforge.load(out / "full", device="cpu").generate(n=8, seed=3, classes=["star"]).samples
        return f"max |cuda - cpu| = {(gpu - cpu).abs().max().item():.2e}"

    check("generation cuda vs cpu", generation)
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
