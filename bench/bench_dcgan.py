"""Training throughput of `ganforge.train("dcgan")` against a plain PyTorch loop.

Both train the same networks (``ganforge_image.dcgan.Generator`` / ``Discriminator``,
64x64, ngf = ndf = 64, batch 64) with the same algorithm, the PyTorch DCGAN example's:
per step one discriminator update on a fresh real batch and a fresh fake batch
(softplus = BCE-with-logits), one generator update on that same fake batch
(non-saturating loss), Adam 2e-4 (0.5, 0.999),
an EMA of the generator (ganforge's default, beta 0.999), discriminator gradients off
during the generator update, and the losses read back every step as any training
script prints them. Only what is timed differs: ganforge's loop (config, objectives,
Step objects, hooks, log file, progress) versus the same work written inline.

    python bench/bench_dcgan.py                 # 20 timed steps after 3 warm-up steps
    python bench/bench_dcgan.py --steps 100 --device cuda

The ratio ganforge / plain should be >= 0.95.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import ganforge
from ganforge_image.datasets import make_shapes
from ganforge_image.dcgan import DCGANConfig, Discriminator, Generator
from ganforge_image.modality import ImageModality


class StepTimer:
    """A ganforge plugin object: the time at the end of every training step."""

    def __init__(self, device: torch.device):
        self.device = device
        self.times: list[float] = []

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        _sync(self.device)
        self.times.append(time.perf_counter())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_ganforge(data: Path, out: Path, args, device: torch.device) -> float:
    timer = StepTimer(device)
    ganforge.add_plugin(timer, name="bench-timer")
    try:
        ganforge.train("dcgan", data=data, out=out, steps=args.warmup + args.steps, overrides={
            "image_size": 64, "ngf": 64, "ndf": 64, "batch_size": args.batch, "device": str(device),
            "sample_every": 0, "checkpoint_every": 0, "preview_n": 0, "progress": False, "seed": 0,
        })
    finally:
        ganforge.remove_plugin("bench-timer")
    t = timer.times
    return args.steps * args.batch / (t[-1] - t[args.warmup - 1])


def bench_plain(images: torch.Tensor, args, device: torch.device) -> float:
    torch.manual_seed(0)
    cfg = DCGANConfig(image_size=64, channels=3, nz=100, ngf=64, ndf=64)
    G, D = Generator(cfg).to(device), Discriminator(cfg).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n, bs = len(images), args.batch
    order, offset = torch.randperm(n), 0
    times = []
    for _ in range(args.warmup + args.steps):
        if offset + bs > n:
            order, offset = torch.randperm(n), 0
        real = images[order[offset:offset + bs]].float().div_(127.5).sub_(1.0).to(device, non_blocking=True)
        offset += bs
        # discriminator
        D.requires_grad_(True)
        fake = G(torch.randn(bs, cfg.nz, device=device))
        d_real, d_fake = D(real), D(fake.detach())
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # generator
        D.requires_grad_(False)
        g_loss = F.softplus(-D(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        with torch.no_grad():
            for p_ema, p in zip(G_ema.parameters(), G.parameters()):
                p_ema.lerp_(p, 0.001)
        _ = (d_loss.item(), g_loss.item(), d_real.mean().item(), d_fake.mean().item())
        _sync(device)
        times.append(time.perf_counter())
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("steps", nargs="?", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="alternate the two this many times; best of each")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--data", type=Path, default=None, help="image folder (default: 512 shapes at 64x64)")
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1:
        parser.error("--warmup and steps must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data or make_shapes(tmp / "shapes", n=512, size=64)
        images = ImageModality({"image_size": 64, "channels": 3}).load(data).fields["x"]
        print(f"dcgan 64x64, ngf=ndf=64, batch {args.batch}, {args.steps} timed steps after {args.warmup}, "
              f"device {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
                                    f" ({torch.get_num_threads()} threads)"))
        best_plain = best_gf = 0.0
        for r in range(args.repeats):
            plain = bench_plain(images, args, device)
            gf = bench_ganforge(data, tmp / f"run{r}", args, device)
            print(f"  round {r + 1}: plain {plain:8.1f} img/s   ganforge {gf:8.1f} img/s   ratio {gf / plain:.3f}")
            best_plain, best_gf = max(best_plain, plain), max(best_gf, gf)
    ratio = best_gf / best_plain
    print(f"plain PyTorch loop   {best_plain:8.1f} images/s")
    print(f"ganforge.train       {best_gf:8.1f} images/s")
    print(f"ratio                {ratio:8.3f}   (target >= 0.95: {'ok' if ratio >= 0.95 else 'BELOW'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
