"""Benchmark the audio recipes: training throughput and generation speed on this machine.

1. Training samples/s of WaveGAN and SpecGAN through ``ganforge.train`` against a plain
   PyTorch WGAN-GP loop of the same networks on the same data, in the same process
   (the ratio shows what the framework costs: batching, logging, EMA, hooks).
2. Generation real-time factor: seconds of audio made per second of compute, through
   ``ganforge.load(run).generate`` (SpecGAN includes Griffin-Lim), for the trained
   benchmark runs and for paper-size (d=64) generators.

    python bench/bench_audio.py                     # a few minutes on 2 CPU cores
    python bench/bench_audio.py --model-dim 32 --steps 10 --device cuda
    python bench/bench_audio.py --profile-only      # where one training step's time goes

``--profile`` / ``--profile-only``: torch.profiler over one whole training step of each
recipe (5 critic updates with the gradient penalty, one generator update, the EMA),
the second step of a ``ganforge.train`` run; prints the operators by self CPU time.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import torch

import ganforge


def plain_wgan_gp(G, D, data: torch.Tensor, steps: int, batch: int, n_critic: int, device, ema_beta: float) -> float:
    """The textbook WGAN-GP loop (Gulrajani et al. 2017) with the recipe's settings; samples/s
    over every step but the first (warm-up: allocations, kernel selection)."""
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    G_ema = copy.deepcopy(G).requires_grad_(False)
    g = torch.Generator().manual_seed(0)

    def real_batch():
        return data[torch.randint(0, len(data), (batch,), generator=g)].to(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    sync()
    start = None
    for step in range(steps):
        if step == 1:
            sync()
            start = time.perf_counter()
        for _ in range(n_critic):
            real = real_batch()
            fake = G(G.sample_latent(batch, device=device)).detach()
            alpha = torch.rand((batch,) + (1,) * (real.dim() - 1), device=device)
            mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
            gp = (grad.reshape(batch, -1).norm(2, dim=1) - 1).square().mean()
            loss_d = D(fake).mean() - D(real).mean() + 10.0 * gp
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        _ = real_batch()  # the framework draws a batch for the generator step's conditions too
        D.requires_grad_(False)
        loss_g = -D(G(G.sample_latent(batch, device=device))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
        with torch.no_grad():
            for pe, p in zip(G_ema.parameters(), G.parameters()):
                pe.lerp_(p, 1 - ema_beta)
    sync()
    return (steps - 1) * n_critic * batch / (time.perf_counter() - start)


def bench_training(recipe: str, data_dir: Path, work: Path, args) -> tuple[float, float, Path]:
    overrides = {"model_dim": args.model_dim, "audio_length": args.length, "batch_size": args.batch,
                 "sample_every": 0, "checkpoint_every": 0, "log_every": 1, "progress": False,
                 "device": args.device, "seed": 0}
    out = work / recipe
    start = time.perf_counter()
    run = ganforge.train(recipe, data=data_dir, out=out, steps=args.steps, overrides=overrides)
    total = time.perf_counter() - start
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    # the loop logs its cumulative rate after every step (training steps only, no set-up);
    # recover the elapsed time and leave out the first step, as the plain loop does
    per_step = run.config["n_critic"] * run.config["batch_size"]
    elapsed = [r["step"] * per_step / r["samples_per_s"] for r in log]
    framework = (len(log) - 1) * per_step / (elapsed[-1] - elapsed[0])

    # the same networks, freshly built from the run's configuration, on the same tensors
    torch.manual_seed(0)
    G = type(run.generator)(ganforge.build_config(type(run.generator).config_class, run.config)).to(run.device)
    D = type(run.discriminator)(ganforge.build_config(type(run.discriminator).config_class, run.config)).to(run.device)
    G.train()
    D.train()
    data = run.data.batch(torch.arange(len(run.data)))["x"]
    plain = plain_wgan_gp(G, D, data, args.steps, run.config["batch_size"], run.config["n_critic"],
                          run.device, float(run.config["ema_beta"]))
    print(f"{recipe:8s} train  ganforge {framework:8.1f} samples/s   plain PyTorch {plain:8.1f} samples/s   "
          f"ratio {framework / plain:5.2f}   (whole ganforge.train call incl. data + checkpoint: {total:.1f} s)")
    return framework, plain, out


class ProfileOneStep:
    """A ganforge plugin: torch.profiler around the second training step."""

    def __init__(self):
        self.prof = None

    @ganforge.hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        from torch.profiler import ProfilerActivity, profile

        if step == 1:
            self.prof = profile(activities=[ProfilerActivity.CPU])
            self.prof.__enter__()
        elif step == 2 and self.prof is not None:
            self.prof.__exit__(None, None, None)


def profile_step(recipe: str, data_dir: Path, work: Path, args, rows: int = 14) -> None:
    plugin = ProfileOneStep()
    ganforge.add_plugin(plugin, name="bench-profile")
    try:
        ganforge.train(recipe, data=data_dir, out=work / f"{recipe}-profile", steps=2, overrides={
            "model_dim": args.model_dim, "audio_length": args.length, "batch_size": args.batch,
            "sample_every": 0, "checkpoint_every": 0, "progress": False, "device": args.device, "seed": 0})
    finally:
        ganforge.remove_plugin("bench-profile")
    events = plugin.prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    print(f"\n{recipe}: one training step, {total / 1e6:.2f} s of CPU time; operators by self CPU time")
    print("| operator | self CPU ms | share | calls |\n|---|---|---|---|")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:rows]:
        print(f"| `{e.key}` | {e.self_cpu_time_total / 1e3:.1f} | {e.self_cpu_time_total / total:.1%} | {e.count} |")


def realtime_factor(generate, n: int, seconds_per_clip: float, repeats: int = 2) -> float:
    generate(1)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        generate(n)
        best = min(best, time.perf_counter() - start)
    return n * seconds_per_clip / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dim", type=int, default=16, help="network width d for the training benchmark")
    parser.add_argument("--length", type=int, default=16384, help="audio_length")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5, help="generator steps (x5 critic steps; the first is warm-up)")
    parser.add_argument("--clips", type=int, default=64, help="tones clips to train on")
    parser.add_argument("--generate", type=int, default=16, help="clips per generation timing")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 suits a shared machine)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--profile", action="store_true", help="also profile one training step of each recipe")
    parser.add_argument("--profile-only", action="store_true", help="only profile one training step of each recipe")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} CPU thread(s), "
          f"d={args.model_dim}, audio_length={args.length}, batch {args.batch}, {args.steps} steps x 5 critic steps")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry = ganforge.get_plugin_manager().registry
        data_dir = registry.get("dataset", "audio:tones")(work / "tones", n=args.clips)
        if args.profile or args.profile_only:
            for recipe in ("wavegan", "specgan"):
                profile_step(recipe, data_dir, work, args)
            if args.profile_only:
                return
        runs = {}
        for recipe in ("wavegan", "specgan"):
            _, _, runs[recipe] = bench_training(recipe, data_dir, work, args)

        seconds = args.length / 16000
        print(f"\ngeneration on CPU, {args.generate} clips of {seconds:.3f} s "
              f"(real-time factor: seconds of audio per second of compute)")
        for recipe, run_dir in runs.items():
            pipe = ganforge.load(run_dir, device="cpu")
            rtf = realtime_factor(lambda n: pipe.generate(n=n, seed=0), args.generate, seconds)
            print(f"{recipe:8s} d={args.model_dim:<3d} ganforge.load(...).generate   RTF {rtf:8.1f}x")

        # paper-size generators (d=64), timed through the same generate() the pipeline calls
        from ganforge_audio import specgan, wavegan

        stats = json.loads((runs["specgan"] / "ganforge.json").read_text())["modality_state"]
        for name, G in (
            ("wavegan", wavegan.Generator(wavegan.WaveGANConfig(audio_length=args.length, model_dim=64))),
            ("specgan", specgan.Generator(specgan.SpecGANConfig(audio_length=args.length, model_dim=64,
                                                                spec_mean=stats["spec_mean"],
                                                                spec_std=stats["spec_std"]))),
        ):
            G.eval()
            params = sum(p.numel() for p in G.parameters()) / 1e6
            with torch.no_grad():
                rtf = realtime_factor(lambda n: G.generate(n, generator=torch.Generator().manual_seed(0)),
                                      args.generate, seconds)
            print(f"{name:8s} d=64  ({params:5.1f} M parameters) generator.generate  RTF {rtf:8.1f}x")


if __name__ == "__main__":
    main()
