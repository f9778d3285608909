"""How long PacGAN's discriminator alone needs to tell the grid from a uniform sheet.

On the grid (25 Gaussians, std 0.05) a packed GAN can stall with the generator spread
into a sheet over the square and the discriminator's loss at 2 ln 2 (docs/benchmarks.md).
This trains the toy plugin's discriminator by itself, real points from the grid against
points uniform on [-5, 5]^2 (a fixed "generator"), for each packing degree, and prints
the first step at which its loss (mean of the last 200 steps) falls below 1.0, where
2 ln 2 = 1.386 is a discriminator that cannot tell them apart.

    python bench/modes_discriminator.py                     # packing 1, 2, 4; PacGAN's batch of 100 groups
    python bench/modes_discriminator.py --groups 25 --pack 4   # ganforge's default batch (100 samples)
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F

from ganforge_toy.mixtures import GRID_STD, grid_modes
from ganforge_toy.mlp import Discriminator, MLPConfig

SEPARATED = 1.0  # loss below this: the discriminator tells the two apart


def steps_to_separate(pack: int, groups: int, lr: float, init_std: float, max_steps: int, seed: int) -> tuple[int | None, float]:
    """Train D alone; return (first step its running loss < SEPARATED or None, final running loss)."""
    torch.manual_seed(seed)
    D = Discriminator(MLPConfig(pack=pack, init_std=init_std))
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.8, 0.999))
    modes = grid_modes().float()
    n = groups * pack
    recent = []
    for step in range(1, max_steps + 1):
        real = modes[torch.randint(len(modes), (n,))] + GRID_STD * torch.randn(n, 2)
        fake = torch.rand(n, 2) * 10 - 5
        loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        recent = (recent + [loss.item()])[-200:]
        if step >= 200 and sum(recent) / len(recent) < SEPARATED:
            return step, sum(recent) / len(recent)
    return None, sum(recent) / len(recent)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pack", type=int, nargs="+", default=[1, 2, 4], help="packing degrees (default 1 2 4)")
    p.add_argument("--groups", type=int, default=100, help="packed groups a step (PacGAN: 100)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--init-std", dest="init_std", type=float, default=0.02, help="PacGAN: 0.02; 0: PyTorch's")
    p.add_argument("--max-steps", dest="max_steps", type=int, default=16000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"discriminator alone, grid vs uniform on [-5, 5]^2: {args.groups} groups a step, lr {args.lr}, "
          f"init_std {args.init_std}, up to {args.max_steps} steps (2 ln 2 = 1.386: cannot tell them apart)")
    print("| packing | samples a step | steps until its loss < 1.0 | loss then |")
    print("|---|---|---|---|")
    for pack in args.pack:
        step, loss = steps_to_separate(pack, args.groups, args.lr, args.init_std, args.max_steps, args.seed)
        print(f"| {pack} | {args.groups * pack} | {step if step else f'not in {args.max_steps:,}'} | {loss:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
