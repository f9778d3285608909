"""``ganforge demo shapes``: make the shapes data, train a small class-conditional DCGAN,
generate images. Registered through ``ganforge_register_demos``."""

from __future__ import annotations

import shutil
from pathlib import Path

import ganforge

STEPS = 2400  # about two minutes on 2 CPU cores


def shapes_demo(out: Path, steps: int | None = None, quick: bool = False) -> Path:
    from .datasets import make_shapes

    out = Path(out)
    steps = steps or (40 if quick else STEPS)
    data, run_dir, generated = out / "data" / "shapes", out / "run", out / "generated"
    if not (data / "metadata.jsonl").exists():
        print(f"making the demo data set in {data} ...")
        make_shapes(data, n=500 if quick else 2000, size=32)
    if (run_dir / "ganforge.json").exists():
        shutil.rmtree(run_dir)  # the demo's own run folder: a fresh start each time
    print(f"training a small class-conditional DCGAN for {steps} steps (about two minutes on 2 CPU cores) ...")
    ganforge.train("dcgan", data=data, out=run_dir, overrides={
        "steps": steps, "image_size": 32, "ngf": 32, "ndf": 32, "batch_size": 64, "conditional": True,
        "sample_every": max(1, steps // 4), "checkpoint_every": steps, "preview_n": 64,
    })
    ganforge.load(run_dir).generate_to(generated, n=64, seed=0)
    print(f"\ndone. generated images: {generated}/ (sample_*.png, sample_grid.png, metadata.jsonl)")
    print(f"training previews: {run_dir / 'samples'}/   the trained run: {run_dir}/")
    print(f"more: ganforge generate {run_dir} --out my_images -n 16 --class circle")
    return generated
