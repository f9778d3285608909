"""Training throughput of `ganforge.train("stylegan" / "r3gan" / "pggan")` against plain PyTorch loops.

Each pair trains the same networks (built directly from ``ganforge_image.stylegan`` /
``r3gan`` / ``pggan`` with the recipe's config dataclass, unconditional, 32x32, the
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
- pggan (the stable phase at 32x32): ganforge runs the recipe with the earlier phases
  (4x4, the 8 and 16 fades and stable phases, the 32 fade) set to length 0, so every step
  is in the main phase; the plain loop builds the networks at their default level
  (log2 32) and alpha 1. Per step (n_critic 1, as the recipe) one critic update on a
  fresh real batch and a fresh fake batch: WGAN-GP, D(fake) - D(real) + 10 * (||grad
  D(x_hat)|| - 1)^2 on one random interpolate per example (its own D forward and a
  double backward) + 0.001 * E[D(real)^2] (drift); one G update -D(G(z)) on that same
  fake batch; Adam 1e-3 (0, 0.99) for both; EMA of G (beta 0.999, ramp-up 0.05, the
  core's default). Minibatch stddev is inside D on both sides. That is 1 G forward,
  4 D forwards, 1 double-backward gradient and 2 backward passes per step on both sides
  (counted with forward hooks on CPU).
- pggan-fade (optional, ``--recipes ... pggan-fade``): the same at the 32x32 fade-in:
  ganforge runs only the ``32x32-fade`` phase (length warm-up + timed steps, main phase
  0); the plain loop sets G's and D's alpha to step / (warm-up + timed steps) before each
  step, as the phase does. Both resolutions' toRGB / fromRGB run.

Both read the losses back every step. The data are uint8 images indexed and scaled on
the CPU and copied to the device on both sides. Time per step comes from a
``ganforge_on_step_end`` hook (as bench/bench_dcgan.py) and the same point in the plain
loop, each after ``torch.cuda.synchronize()`` on CUDA. ganforge checks its timed steps
ran in the intended PGGAN phase (an error otherwise).

stylegan's timed steps are a multiple of 16 so that each run holds the same number of R1
and path-length steps in the timed window (the warm-up is a multiple of 16 as well).
Defaults (timed after warm-up): on cpu stylegan 32 after 16, r3gan 6 after 2 (about 5-10 s
a step on 2 CPU threads at width 64, batch 64), pggan 16 after 4; on cuda stylegan 64 after
32, r3gan 32 after 8, pggan 64 after 16. ``--repeats`` alternates plain and ganforge;
the best of each is reported. ``--json PATH`` writes one row per recipe for
bench/quality.py's table (bench/report.py), after each recipe.

What is not identical: ganforge tells G, G_ema and D where training stands before every
step (``set_progress``: the PGGAN level and alpha buffers are filled again, 6 small fills;
the plain stable loop sets nothing, the fade loop fills G's and D's alpha) and writes a
log line every 10 steps; those are ganforge's own costs and are timed. The plain loops
ignore the data's unused fields (the shapes' labels and captions), which ganforge's batch
takes along (a tensor index and copy, a list of captions).
On CUDA the plain loop sets the backend flags a ganforge Run sets (cuDNN deterministic
off, benchmark off) so that the order of the two does not matter. Both sides use the same
networks, so costs inside them (pggan's ``int(level)`` read of a device buffer in every
forward, a host sync on CUDA) are paid by both.

    python bench/bench_image_throughput.py                 # three recipes, cpu, 2 threads
    python bench/bench_image_throughput.py --recipes r3gan --r3gan-steps 12 --repeats 2

On a GPU (an H200: about 60-90 s for the four; from the repository root, no install needed):

    PYTHONPATH=core:plugins python bench/bench_image_throughput.py --device cuda --repeats 2 \
        --threads 4 --recipes stylegan r3gan pggan pggan-fade --warmup 32 --steps 64 \
        --r3gan-warmup 8 --r3gan-steps 32 --pggan-warmup 16 --pggan-steps 64 \
        --json image_throughput.json

The ratio ganforge / plain should be >= 0.95.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

import ganforge
from ganforge_image import pggan, r3gan, stylegan
from ganforge_image.datasets import make_shapes
from ganforge_image.modality import ImageModality
from ganforge_image.recipes import PGGAN, R3GAN, STYLEGAN
from report import row, write_rows

SIZE = 32
RECIPES = {"stylegan": STYLEGAN, "r3gan": R3GAN, "pggan": PGGAN, "pggan-fade": PGGAN}
#: earlier PGGAN phases skipped, so that every step trains at 32x32 (image_size 32's preset
#: already sets steps_32 and everything above 32 to 0)
PGGAN_SKIP = {"steps_4": 0, "fade_8": 0, "steps_8": 0, "fade_16": 0, "steps_16": 0}
#: (timed steps, warm-up steps) per recipe when the flags are not given
DEFAULT_STEPS = {
    "cpu": {"stylegan": (32, 16), "r3gan": (6, 2), "pggan": (16, 4), "pggan-fade": (16, 4)},
    "cuda": {"stylegan": (64, 32), "r3gan": (32, 8), "pggan": (64, 16), "pggan-fade": (64, 16)},
}


def _ensure_image_plugin() -> None:
    """Register ganforge_image in this process when no installed distribution did (a
    checkout on PYTHONPATH, as on a bare GPU machine)."""
    try:
        ganforge.get_registry().find("recipe", "pggan")
    except ganforge.GanforgeError:
        from ganforge_image import plugin

        ganforge.add_plugin(plugin, name="image")
        ganforge.get_registry().find("recipe", "pggan")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _clock(device: torch.device) -> float:
    """The time once the device has finished all the work queued so far."""
    _sync(device)
    return time.perf_counter()


class StepTimer:
    def __init__(self, device: torch.device):
        self.device = device
        self.times: list[float] = []
        self.phases: set[str] = set()

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        self.times.append(_clock(self.device))
        self.phases.add(run.phases[run.phase_index].name)


def _overrides(recipe: str, steps, device: torch.device) -> dict:
    out = {"image_size": SIZE, "device": str(device), "sample_every": 0, "checkpoint_every": 0, "preview_n": 0,
           "progress": False, "seed": 0, "steps": steps.warmup + steps.steps}
    if recipe == "r3gan":
        out.update(schedule_steps=1000, gamma_decay_steps=1000)
    elif recipe == "pggan":  # every step in the main phase: stable at 32x32
        out.update(PGGAN_SKIP, fade_32=0)
    elif recipe == "pggan-fade":  # every step in the 32x32 fade-in; alpha = step / (warmup + steps)
        out.update(PGGAN_SKIP, fade_32=steps.warmup + steps.steps, steps=0)
    return out


def bench_ganforge(recipe: str, data: Path, out: Path, steps, device: torch.device) -> float:
    timer = StepTimer(device)
    ganforge.add_plugin(timer, name="bench-timer")
    try:
        ganforge.train("pggan" if recipe == "pggan-fade" else recipe, data=data, out=out,
                       overrides=_overrides(recipe, steps, device))
    finally:
        ganforge.remove_plugin("bench-timer")
    want = {"pggan": "train", "pggan-fade": f"{SIZE}x{SIZE}-fade"}.get(recipe, "train")
    if timer.phases != {want}:  # a changed PGGAN schedule would time other resolutions
        raise RuntimeError(f"{recipe}: ganforge trained phases {sorted(timer.phases)}, not only '{want}'")
    t = timer.times
    return (len(t) - steps.warmup) * _batch(recipe) / (t[-1] - t[steps.warmup - 1])  # len(t): a stop request ends early


def _batch(recipe: str) -> int:
    return int(RECIPES[recipe].defaults["batch_size"])


def _plain_setup(device: torch.device) -> None:
    """The backend flags ganforge's Run sets on CUDA (deterministic=false, no cuDNN
    autotuning), so that the plain loop runs under the same ones whichever side runs first."""
    torch.manual_seed(0)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = False


class Batches:
    """Real batches as ganforge's loop makes them: uint8 images indexed and scaled to
    [-1, 1] on the CPU, then copied to the device."""

    def __init__(self, images: torch.Tensor, bs: int, device: torch.device):
        self.images, self.bs, self.device = images, bs, device
        self.order, self.offset = torch.randperm(len(images)), 0

    def next(self) -> torch.Tensor:
        if self.offset + self.bs > len(self.images):
            self.order, self.offset = torch.randperm(len(self.images)), 0
        idx = self.order[self.offset:self.offset + self.bs]
        self.offset += self.bs
        return self.images[idx].float().div_(127.5).sub_(1.0).to(self.device, non_blocking=True)


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


def plain_r3gan(images: torch.Tensor, args, device: torch.device) -> float:
    _plain_setup(device)
    d = R3GAN.defaults
    cfg = r3gan.R3GANConfig(image_size=SIZE, channels=3, nz=d["nz"], width=d["width"], blocks=d["blocks"],
                            expansion=d["expansion"], group_width=d["group_width"])
    G, D = r3gan.Generator(cfg).to(device), r3gan.Discriminator(cfg).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=d["lr_g"], betas=tuple(d["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=d["lr_d"], betas=tuple(d["betas_d"]))
    bs = d["batch_size"]
    data = Batches(images, bs, device)
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
        fake = G(torch.randn(bs, cfg.nz, device=device))
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
        times.append(_clock(device))
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


def plain_stylegan(images: torch.Tensor, args, device: torch.device) -> float:
    _plain_setup(device)
    d = STYLEGAN.defaults
    cfg = stylegan.StyleGANConfig(**{k: d[k] for k in (
        "image_size", "channels", "variant", "nz", "w_dim", "map_layers", "map_lr_mul", "channel_base",
        "channel_max", "mbstd_group", "style_mixing", "w_avg_beta")})
    G, D = stylegan.Generator(cfg).to(device), stylegan.Discriminator(cfg).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=d["lr_g"], betas=tuple(d["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=d["lr_d"], betas=tuple(d["betas_d"]))
    bs, r1_every, pl_every = d["batch_size"], d["d_reg_interval"], d["pl_interval"]
    pl_mean = torch.zeros((), device=device)
    data = Batches(images, bs, device)
    times = []
    for step in range(args.warmup + args.steps):
        real = data.next()
        logs = []
        # discriminator: non-saturating
        fake = G(torch.randn(bs, cfg.nz, device=device))
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
            ws = G.training_ws(torch.randn(n, cfg.nz, device=device))
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
        times.append(_clock(device))
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


def plain_pggan(images: torch.Tensor, args, device: torch.device, fade: bool = False) -> float:
    """PGGAN at 32x32: the stable phase, or (``fade``) the 32x32 fade-in with alpha from 0
    towards 1 over the run, as ganforge's phase of warm-up + timed steps."""
    _plain_setup(device)
    d = PGGAN.all_defaults()
    cfg = pggan.PGGANConfig(image_size=SIZE, channels=3, nz=d["nz"], width=d["width"], width_max=d["width_max"])
    # built at level log2(32), alpha 1: the stable phase at the target resolution
    G, D = pggan.Generator(cfg).to(device), pggan.Discriminator(cfg).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(G.parameters(), lr=d["lr_g"], betas=tuple(d["betas_g"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=d["lr_d"], betas=tuple(d["betas_d"]))
    bs, n_critic, gp_weight, drift = d["batch_size"], d["n_critic"], d["gp_weight"], d["drift"]
    data = Batches(images, bs, device)
    total = args.warmup + args.steps
    times = []
    for step in range(total):
        if fade:  # G_ema's alpha follows through the EMA's buffer copy
            G.alpha.fill_(step / total)
            D.alpha.fill_(step / total)
        # critic: WGAN-GP (one interpolate per example) + drift on the reals
        for _ in range(n_critic):
            real = data.next()
            fake = G(torch.randn(bs, cfg.nz, device=device))
            fake_x = fake.detach()
            d_real, d_fake = D(real), D(fake_x)
            a = torch.rand(bs, 1, 1, 1, device=device)
            mixed = (a * real + (1 - a) * fake_x).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
            gp = (grad.reshape(bs, -1).norm(2, dim=1) - 1).square().mean()
            d_loss = d_fake.mean() - d_real.mean() + gp_weight * gp + drift * d_real.square().mean()
            _update(d_loss, opt_d)
        if n_critic > 1:  # ganforge reuses the critic's fake batch only with one critic update
            fake = G(torch.randn(bs, cfg.nz, device=device))
        # generator, on the same fake batch
        D.requires_grad_(False)
        g_loss = -D(fake).mean()
        _update(g_loss, opt_g)
        D.requires_grad_(True)
        _ema(G_ema, G, _ema_beta(d["ema_beta"], d["ema_rampup"], step))
        _ = torch.stack([d_loss.detach(), (d_real.mean() - d_fake.mean()).detach(), gp.detach(),
                         g_loss.detach()]).tolist()
        times.append(_clock(device))
    return args.steps * bs / (times[-1] - times[args.warmup - 1])


PLAIN = {"stylegan": plain_stylegan, "r3gan": plain_r3gan, "pggan": plain_pggan,
         "pggan-fade": lambda images, args, device: plain_pggan(images, args, device, fade=True)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    for recipe, flag in (("stylegan", ""), ("r3gan", "r3gan-"), ("pggan", "pggan-")):
        cpu, cuda = DEFAULT_STEPS["cpu"][recipe], DEFAULT_STEPS["cuda"][recipe]
        parser.add_argument(f"--{flag}steps", type=int, default=None,
                            help=f"{recipe}: timed steps (default {cpu[0]} on cpu, {cuda[0]} on cuda)")
        parser.add_argument(f"--{flag}warmup", type=int, default=None,
                            help=f"{recipe}: untimed steps first (default {cpu[1]} on cpu, {cuda[1]} on cuda)")
    parser.add_argument("--repeats", type=int, default=1, help="alternate the two this many times; best of each")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--recipes", nargs="+", default=["stylegan", "r3gan", "pggan"], choices=list(PLAIN),
                        help="pggan: the stable phase at 32x32; pggan-fade: the 32x32 fade-in (pggan's flags)")
    parser.add_argument("--json", default=None, help="write one row per recipe for bench/quality.py's table")
    args = parser.parse_args(argv)
    _ensure_image_plugin()
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here")
    device = torch.device(args.device)
    where = (torch.cuda.get_device_name(0) if device.type == "cuda"
             else f"cpu ({torch.get_num_threads()} threads)")
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = make_shapes(tmp / "shapes", n=512, size=SIZE, style="bold")
        images = ImageModality({"image_size": SIZE, "channels": 3}).load(data).fields["x"]
        print(f"{SIZE}x{SIZE}, recipe default widths and batch, unconditional, {where}, torch {torch.__version__}")
        results = {}
        for recipe in args.recipes:
            best_plain = best_gf = 0.0
            flag = {"stylegan": "", "r3gan": "r3gan_"}.get(recipe, "pggan_")
            default_steps, default_warmup = DEFAULT_STEPS[device.type][recipe]
            steps = argparse.Namespace(
                steps=getattr(args, f"{flag}steps") or default_steps,
                warmup=max(1, getattr(args, f"{flag}warmup") or default_warmup))
            print(f"{recipe}: {steps.steps} timed steps after {steps.warmup}")
            try:
                for r in range(args.repeats):
                    plain = PLAIN[recipe](images, steps, device)
                    gf = bench_ganforge(recipe, data, tmp / f"{recipe}{r}", steps, device)
                    print(f"  {recipe} round {r + 1}: plain {plain:7.1f} img/s   ganforge {gf:7.1f} img/s   "
                          f"ratio {gf / plain:.3f}")
                    sys.stdout.flush()
                    best_plain, best_gf = max(best_plain, plain), max(best_gf, gf)
            except Exception:  # one recipe failing (on a GPU machine, say) still leaves the others' figures
                traceback.print_exc()
                failed.append(recipe)
                continue
            results[recipe] = (best_plain, best_gf)
            rows.append(row("image: throughput", f"{recipe} img/s ganforge / plain", f"{best_gf / best_plain:.3f}",
                            ">= 0.95", f"{where}, batch {_batch(recipe)}, {steps.steps} timed steps after "
                            f"{steps.warmup}, best of {args.repeats}: {best_gf:.1f} / {best_plain:.1f} img/s"))
            write_rows(args.json, rows)  # after each recipe: a run cut short keeps what it measured
    print("| recipe | batch | plain img/s | ganforge img/s | ratio |")
    print("|---|---|---|---|---|")
    for recipe, (p, g) in results.items():
        print(f"| {recipe} | {_batch(recipe)} | {p:.1f} | {g:.1f} | {g / p:.3f} {'ok' if g / p >= 0.95 else 'BELOW'} |")
    if failed:
        print(f"FAILED: {' '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
