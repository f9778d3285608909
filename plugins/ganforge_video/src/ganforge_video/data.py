"""The demo data set: `ganforge data video-demo --out data/`."""

from __future__ import annotations

import math
import random
from pathlib import Path


def make_demo(out_dir, n: int = 512, seed: int = 0) -> Path:
    """``n`` points on the unit circle, with a little noise."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(int(seed))
    with open(out / "points.csv", "w") as f:
        f.write("x,y\n")
        for _ in range(int(n)):
            a = rng.uniform(0, 2 * math.pi)
            f.write(f"{math.cos(a) + rng.gauss(0, 0.02):.5f},{math.sin(a) + rng.gauss(0, 0.02):.5f}\n")
    return out
