"""Training throughput of `ganforge.train("stylegan" / "r3gan")` against plain PyTorch loops.

Each pair trains the same networks (built directly from ``ganforge_image.stylegan`` /
``ganforge_image.r3gan`` with the recipe's config dataclass, unconditional, 32x32, the
recipe's default widths and batch) with the same algorithm, written inline in the plain
loop:

- r3gan: per step one D update on a fresh real batch and a fresh fake batch with the
  relativistic pairing loss softplus(D(G(z)) - D(x)) + R1 + R2 (gamma/2 E||grad||^2 on
  reals and fakes, in the same backward: d_reg_interval 1, gamma on its cosine decay),
  one G update softplus(D(x) - D(G(z))) on that same fake batch (D(x) without grad),
  Adam with the recipe's cosine schedule of lr and beta2 set every step, EMA of G.
- stylegan: per step one D update with the non-saturating loss, lazy R1 (its own Adam
  step on 16 * penalty) every 16 D updates, one G update softplus(-D(G(z))) on the same
  fake batch (style mixing 0.9 inside G's training forward), lazy path length (its own
  Adam step on 4 * penalty, half batch, running mean 0.01) every 4 G updates, EMA of G.

Both read the losses back every step. stylegan's timed steps default to 32 so that each
run holds the same number of R1 and path-length steps (32 / 16 and 32 / 4) in the timed
window (the warm-up is a multiple of 16 as well); r3gan (about 5-10 s a step on 2 CPU
threads at width 64, batch 64) defaults to 6 timed steps after 2. Time per step comes from a
``ganforge_on_step_end`` hook (as bench/bench_dcgan.py).

    python bench/bench_image_throughput.py                 # both recipes, 2 threads
    python bench/bench_image_throughput.py --recipes r3gan --r3gan-steps 12 --repeats 2

The ratio ganforge / plain should be >= 0.95. pggan is not measured here.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import ganforge
from ganforge_image import r3gan, stylegan
from ganforge_image.datasets import make_shapes
from ganforge_image.modality import ImageModality
from ganforge_image.recipes import R3GAN, STYLEGAN

SIZE = 32


class StepTimer:
    def __init__(self):
        self.times: list[float] = []

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        self.times.append(time.perf_counter())


def bench_ganforge(recipe: str, data: Path, out: Path, args) -> float:
    timer = StepTimer()
    ganforge.add_plugin(timer, name="bench-timer")
    try:
        ganforge.train(recipe, data=data, out=out, steps=args.warmup + args.steps, overrides={
            "image_size": SIZE, "device": "cpu", "sample_every": 0, "checkpoint_every": 0, "preview_n": 0,
            "progress": False, "seed": 0, "schedule_steps": 1000, "gamma_decay_steps": 1000} if recipe == "r3gan"
            else {"image_size": SIZE, "device": "cpu", "sample_every": 0, "checkpoint_every": 0, "preview_n": 0,
                  "progress": False, "seed": 0})
    finally:
        ganforge.remove_plugin("bench-timer")
    t = timer.times
    return (len(t) - args.warmup) * _batch(recipe) / (t[-1] - t[args.warmup - 1])  # len(t): a stop request ends early


def _batch(recipe: str) -> int:
    return int((R3GAN if recipe == "r3gan" else STYLEGAN).defaults["batch_size"])


class Batches:
    def __init__(self, images: torch.Tensor, bs: int):
        self.images, self.bs = images, bs
        self.order, self.offset = torch.randperm(len(images)), 0

    def next(self) -> torch.Tensor:
        if self.offset + self.bs > len(self.images):
            self.order, self.offset = torch.randperm(len(self.images)), 0
        idx = self.order[self.offset:self.offset + self.bs]
        self.offset += self.bs
        return self.images[idx].float().div_(127.5).sub_(1.0)


def _ema(G_ema, G, beta):
    with torch.no_grad():
        torch._foreach_lerp_(list(G_ema.parameters()), list(G.parameters()), 1 - beta)
        for b_ema, b in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)


def _ema_beta(beta, rampup, step):
    return min(beta, 0.5 ** (1.0 / max(step * rampup, 1e-8))) if rampup > 0 else beta


def _grad_sq(scores, x):
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.square().reshape(len(x), -1).sum(1).mean()


def _update(loss, opt):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def plain_r3gan(images: torch.Tensor, args) -> float:
    torch.manual_seed(0)
    d = R3GAN.defaults
    cfg = r3gan.R3GANConfig(image_size=SIZE, channels=3, nz=d["nz"], width=d["width"], blocks=d["blocks"],
                            expansion=d["expansion"], group_width=d["group_width"])
    G, D = r3gan.Generator(cfg), r3gan.Discriminator(cfg)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=d["lr_g"], betas=tuple(d["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=d["lr_d"], betas=tuple(d["betas_d"]))
    bs = d["batch_size"]
    data = Batches(images, bs)
    times = []
    for step in range(args.warmup + args.steps):
        # cosine schedule: lr 2e-4 -> 5e-5, beta2 0.9 -> 0.99, gamma 0.05 -> 0.005 over 1000 steps
        c = 0.5 * (1 + math.cos(math.pi * min(step / d["schedule_steps"], 1.0)))
        for opt, key in ((opt_g, "lr_g"), (opt_d, "lr_d")):
            for group in opt.param_groups:
                group["lr"] = d[key] * (d["lr_end_ratio"] + (1 - d["lr_end_ratio"]) * c)
                group["betas"] = (0.0, d["beta2_end"] + (0.9 - d["beta2_end"]) * c)
        gscale = d["gamma_end_ratio"] + (1 - d["gamma_end_ratio"]) * c
        g1, g2 = d["r1_gamma"] * gscale, d["r2_gamma"] * gscale
        real = data.next()
        # discriminator: relativistic pairing + R1 + R2 in one backward
        fake = G(torch.randn(bs, cfg.nz))
        real_x, fake_x = real.detach().requires_grad_(True), fake.detach().requires_grad_(True)
        d_real, d_fake = D(real_x), D(fake_x)
        r1, r2 = _grad_sq(d_real, real_x), _grad_sq(d_fake, fake_x)
        d_loss = F.softplus(d_fake - d_real).mean() + r1 * (g1 / 2) + r2 * (g2 / 2)
        _update(d_loss, opt_d)
        # generator, on the same fake batch
        D.requires_grad_(False)
        with torch.no_grad():
            d_real_g = D(real)
        g_loss = F.softplus(d_real_g - D(fake)).mean()
        _update(g_loss, opt_g)
        D.requires_grad_(True)
        _ema(G_ema, G, _ema_beta(d["ema_beta"], d["ema_rampup"], step))
        _ = torch.stack([d_loss.detach(), g_loss.detach(), d_real.detach().mean(), d_fake.detach().mean(),
                         r1.detach(), r2.detach()]).tolist()
        times.append(time.perf_counter())
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


def plain_stylegan(images: torch.Tensor, args) -> float:
    torch.manual_seed(0)
    d = STYLEGAN.defaults
    cfg = stylegan.StyleGANConfig(**{k: d[k] for k in (
        "image_size", "channels", "variant", "nz", "w_dim", "map_layers", "map_lr_mul", "channel_base",
        "channel_max", "mbstd_group", "style_mixing", "w_avg_beta")})
    G, D = stylegan.Generator(cfg), stylegan.Discriminator(cfg)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=d["lr_g"], betas=tuple(d["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=d["lr_d"], betas=tuple(d["betas_d"]))
    bs, r1_every, pl_every = d["batch_size"], d["d_reg_interval"], d["pl_interval"]
    pl_mean = torch.zeros(())
    data = Batches(images, bs)
    times = []
    for step in range(args.warmup + args.steps):
        real = data.next()
        logs = []
        # discriminator: non-saturating
        fake = G(torch.randn(bs, cfg.nz))
        d_real, d_fake = D(real), D(fake.detach())
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        _update(d_loss, opt_d)
        logs += [d_loss.detach(), d_real.detach().mean(), d_fake.detach().mean()]
        if (step + 1) % r1_every == 0:  # lazy R1, its own step on interval * penalty
            x = real.detach().requires_grad_(True)
            r1 = _grad_sq(D(x), x)
            _update(r1 * (d["r1_gamma"] / 2) * r1_every, opt_d)
            logs.append(r1.detach())
        # generator, on the same fake batch
        D.requires_grad_(False)
        g_loss = F.softplus(-D(fake)).mean()
        _update(g_loss, opt_g)
        logs.append(g_loss.detach())
        if (step + 1) % pl_every == 0:  # lazy path length
            n = max(1, bs // d["pl_batch_shrink"])
            ws = G.training_ws(torch.randn(n, cfg.nz))
            img = G.synthesis(ws, noise_mode="random")
            noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
            (grad,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
            lengths = grad.square().sum(2).mean(1).sqrt()
            pl_mean = pl_mean.lerp(lengths.mean().detach(), d["pl_decay"])
            pl = (lengths - pl_mean).square().mean() * d["pl_weight"]
            _update(pl * pl_every, opt_g)
            logs += [pl.detach(), pl_mean.clone()]
        D.requires_grad_(True)
        _ema(G_ema, G, _ema_beta(d["ema_beta"], d["ema_rampup"], step))
        _ = torch.stack([v.float().reshape(()) for v in logs]).tolist()
        times.append(time.perf_counter())
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


PLAIN = {"r3gan": plain_r3gan, "stylegan": plain_stylegan}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=32, help="stylegan: timed steps (default 32)")
    parser.add_argument("--warmup", type=int, default=16, help="stylegan: untimed steps first (default 16)")
    parser.add_argument("--r3gan-steps", type=int, default=6, help="r3gan: timed steps (default 6; no lazy intervals)")
    parser.add_argument("--r3gan-warmup", type=int, default=2, help="r3gan: untimed steps first (default 2)")
    parser.add_argument("--repeats", type=int, default=1, help="alternate the two this many times; best of each")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--recipes", nargs="+", default=["stylegan", "r3gan"], choices=sorted(PLAIN))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_shapes(tmp / "shapes", n=512, size=SIZE, style="bold")
        images = ImageModality({"image_size": SIZE, "channels": 3}).load(data).fields["x"]
        print(f"{SIZE}x{SIZE}, recipe default widths and batch, unconditional, cpu ({torch.get_num_threads()} threads), torch {torch.__version__}")
        results = {}
        for recipe in args.recipes:
            best_plain = best_gf = 0.0
            steps = (argparse.Namespace(steps=args.r3gan_steps, warmup=args.r3gan_warmup) if recipe == "r3gan"
                     else argparse.Namespace(steps=args.steps, warmup=args.warmup))
            print(f"{recipe}: {steps.steps} timed steps after {steps.warmup}")
            for r in range(args.repeats):
                plain = PLAIN[recipe](images, steps)
                gf = bench_ganforge(recipe, data, tmp / f"{recipe}{r}", steps)
                print(f"  {recipe} round {r + 1}: plain {plain:7.1f} img/s   ganforge {gf:7.1f} img/s   "
                      f"ratio {gf / plain:.3f}")
                sys.stdout.flush()
                best_plain, best_gf = max(best_plain, plain), max(best_gf, gf)
            results[recipe] = (best_plain, best_gf)
    print("| recipe | batch | plain img/s | ganforge img/s | ratio |")
    print("|---|---|---|---|---|")
    for recipe, (p, g) in results.items():
        print(f"| {recipe} | {_batch(recipe)} | {p:.1f} | {g:.1f} | {g / p:.3f} {'ok' if g / p >= 0.95 else 'BELOW'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
