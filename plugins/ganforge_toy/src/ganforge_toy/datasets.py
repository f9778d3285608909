"""The ring and grid data sets, drawn from their Gaussians (never downloaded)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from .mixtures import GRID_STD, RING_STD, grid_modes, ring_modes


def _write(out_dir: Path, name: str, modes, std: float, n: int, seed: int) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with open(out / "points.csv", "w") as f:
        f.write("x,y\n")
        for _ in range(n):
            mx, my = modes[rng.randrange(len(modes))]
            f.write(f"{mx + rng.gauss(0, std):.6f},{my + rng.gauss(0, std):.6f}\n")
    (out / "modes.json").write_text(json.dumps({"dataset": name, "modes": modes, "std": std}, indent=1))
    return out


def make_ring(out_dir, n: int = 100_000, seed: int = 0) -> Path:
    """Points from 8 Gaussians on the unit circle (angles 2*pi*k/8), std 0.01."""
    return _write(out_dir, "ring", ring_modes().tolist(), RING_STD, int(n), int(seed))


def make_grid(out_dir, n: int = 100_000, seed: int = 0) -> Path:
    """Points from 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05."""
    return _write(out_dir, "grid", grid_modes().tolist(), GRID_STD, int(n), int(seed))
