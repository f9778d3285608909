"""Does MuseGAN make music a musician would accept? Harmony between tracks and the prompt's key.

Makes ``ganforge data band`` offline (400 songs, 4 styles, 24 keys, captions), trains the
``musegan`` recipe conditioned on the captions for a budget of CPU time (``--budget-s``,
the rate measured on the first 10 steps, then resumed to fill it) or a fixed ``--steps`` (or loads
``--run``), generates one phrase for each real phrase's caption, and prints one table,
generated against real (the plugin's own metrics, :mod:`ganforge_music.metrics`):

- MuseGAN's EB, UPC, QN per track, DP, TD per pitched track pair; polyphony (notes per
  sounding step) per pitched track, which TD does not see (a track playing every note of a
  chord in several octaves is close in TD and still not a bass line or a melody);
- key agreement (Krumhansl-Kessler key of the phrase = the prompt's key), tonic and chord-root
  agreement; the real phrases against their own captions are the ceiling;
- style agreement: an MLP on the music-stats features, trained on 3/4 of the real phrases
  (its held-out accuracy is printed: the ceiling), finds the prompt's style in the phrase;
- generation time of one 4-bar phrase (tensor) and of 64.

    OMP_NUM_THREADS=1 python bench/quality_music.py                      # 900 CPU s of training, text:minilm
    python bench/quality_music.py --steps 300 --set harmony=false        # a fixed length, an option changed
    python bench/quality_music.py --run runs/m                           # score a trained run
    python bench/quality_music.py --run runs/m --steps 2400              # continue it to 2400 steps, score

Everything goes to ``--out`` (default: a temporary folder): data, run, ``results.json`` and
``samples/`` (four prompts written as .mid/.wav/.png).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import ganforge
from ganforge_music.datasets import make_band
from ganforge_music.metrics import musegan_metrics, prompt_agreement_of
from ganforge_music.modality import MusicModality, binarise, music_features
from report import parse_sets

PROMPTS = ["upbeat rock in E major with driving eighth-note bass, I-IV-V-IV",
           "slow blues in A minor with walking bass, i-iv-i-i",
           "medium pop in C major with arpeggiated piano and strings, I-V-vi-IV",
           "slow ballad in D minor with sustained strings, i-VI-III-VII"]


def train(args, data: Path, run: Path) -> dict:
    """Train to ``--steps`` or about ``--budget-s`` seconds of this process's CPU time (startup
    included; CPU time, not wall time, so that a loaded machine gives the same run), resuming."""
    overrides = {"encoder": args.encoder, "seed": args.seed, "sample_every": 0, "checkpoint_every": 0,
                 "log_every": 10, **parse_sets(args.set)}
    cpu, wall, done = 0.0, 0.0, 0

    def upto(steps: int):
        nonlocal cpu, wall, done
        start, start_cpu = time.perf_counter(), time.process_time()
        ganforge.train("musegan", data=data, out=run, steps=steps, overrides=overrides, resume=done > 0)
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        done = steps

    if args.steps:
        upto(args.steps)
    else:
        upto(10)
        while cpu < args.budget_s * 0.97:  # the rate so far, startup included, errs short: top up
            more = int((args.budget_s - cpu) / (cpu / done))
            if more < 5:
                break
            upto(done + more)
    return {"steps": done, "train_cpu_s": round(cpu, 1), "train_wall_s": round(wall, 1), "overrides": overrides}


def style_classifier(feats: torch.Tensor, labels: torch.Tensor, seed: int = 0):
    """An MLP on music-stats features; returns it and its held-out accuracy (a quarter held out)."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(feats), generator=g)
    cut = len(feats) * 3 // 4
    train, held = order[:cut], order[cut:]
    mean, std = feats[train].mean(0), feats[train].std(0) + 1e-6
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(feats.shape[1], 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, int(labels.max()) + 1))
    opt = torch.optim.Adam(net.parameters(), 1e-2, weight_decay=1e-4)
    x = (feats - mean) / std
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x[train]), labels[train]).backward()
        opt.step()
    with torch.no_grad():
        accuracy = (net(x[held]).argmax(1) == labels[held]).float().mean().item()
    return (lambda f: net((f - mean) / std).argmax(1)), accuracy


def score(run: Path, data: Path, out: Path, seed: int) -> dict:
    pipe = ganforge.load(run, device="cpu")
    modality = MusicModality(dict(pipe.modality.config))
    real = modality.load(data)
    grid = modality.grid
    rolls = binarise(real.fields["x"]).numpy()
    texts, labels = real.fields["text"], real.fields["label"]
    classes = modality.state["classes"]

    start = time.perf_counter()
    fake = pipe.generate(n=len(texts), seed=seed, prompts=texts, batch_size=64).samples
    gen_s = time.perf_counter() - start
    fake_rolls = binarise(fake).numpy()
    timing = {}
    for n in (1, 64):
        pipe.generate(n=n, seed=seed, prompts=PROMPTS[:1])  # warm
        start = time.perf_counter()
        for _ in range(5):
            pipe.generate(n=n, seed=seed, prompts=PROMPTS[:1])
        timing[f"gen_{n}_ms"] = round((time.perf_counter() - start) / 5 * 1000, 1)

    f = {**musegan_metrics(fake_rolls, grid), **polyphony(fake_rolls, grid)}
    r = {**musegan_metrics(rolls, grid), **polyphony(rolls, grid)}
    pa_f, pa_r = prompt_agreement_of(fake_rolls, texts, grid), prompt_agreement_of(rolls, texts, grid)
    classify, accuracy = style_classifier(music_features(torch.from_numpy(rolls), grid.beat_resolution), labels, seed)
    with torch.no_grad():
        guess = classify(music_features(torch.from_numpy(fake_rolls), grid.beat_resolution))
    style = (guess == labels).float().mean().item()
    per_style = {c: round((guess[labels == k] == k).float().mean().item(), 3) for k, c in enumerate(classes)}
    pipe.generate(n=len(PROMPTS), seed=seed, prompts=PROMPTS).save(out / "samples")
    return {"generated": f, "real": r, "prompt": pa_f, "prompt_real": pa_r, "style_agreement": style,
            "style_per_class": per_style, "style_classifier_accuracy": accuracy, "n": len(texts),
            "generate_all_s": round(gen_s, 2), **timing}


def polyphony(rolls: np.ndarray, grid) -> dict:
    """Notes sounding per sounding step, per pitched track (a bass line or a melody: 1)."""
    out = {}
    for k, track in enumerate(grid.tracks):
        if not track.drums:
            per_step = rolls[:, k].sum(-1).reshape(-1)
            out[f"poly[{track.name}]"] = float(per_step[per_step > 0].mean()) if (per_step > 0).any() else float("nan")
    return out


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"


def table(res: dict) -> str:
    f, r = res["generated"], res["real"]
    rows = [("metric", "generated", "real")]
    for key in f:
        if key.startswith(("eb[", "upc[", "qn[", "poly[", "dp", "td[")):
            rows.append((key, fmt(f[key]), fmt(r[key])))
    for key in ("key_agreement", "tonic_agreement", "chord_agreement"):
        rows.append((f"{key} (chance {1 / 24 if key.startswith('key') else 1 / 12:.2f})",
                     fmt(res["prompt"].get(key)), fmt(res["prompt_real"].get(key))))
    rows.append(("style_agreement (chance 0.25)", fmt(res["style_agreement"]), fmt(res["style_classifier_accuracy"])))
    rows.append(("generate one 4-bar phrase (ms)", fmt(res["gen_1_ms"]), ""))
    rows.append(("generate 64 phrases (ms)", fmt(res["gen_64_ms"]), ""))
    width = max(len(a) for a, _, _ in rows)
    return "\n".join(f"{a:<{width}}  {b:>9}  {c:>9}" for a, b, c in rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget-s", type=float, default=900.0, help="training CPU time of this process, startup included "
                   "(with OMP_NUM_THREADS=1: seconds of one core)")
    p.add_argument("--steps", type=int, default=0, help="train this many steps instead of a time budget")
    p.add_argument("--encoder", default="text:minilm", help="caption encoder (text:minilm or text:hashed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="recipe options")
    p.add_argument("--run", help="score this trained run instead of training one (its data: --data or band); "
                   "with --steps, continue its training to that many steps first")
    p.add_argument("--data", help="a band folder to use instead of making one")
    p.add_argument("--songs", type=int, default=400, help="songs of the band data set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for data, run and results (default: a temporary one)")
    args = p.parse_args()

    out = Path(args.out or tempfile.mkdtemp(prefix="quality_music_"))
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else out / "band"
    if not args.data and not (data / "metadata.jsonl").is_file():
        make_band(data, n=args.songs, seed=0)
    info: dict = {"threads": torch.get_num_threads()}
    if args.run:
        run = Path(args.run)
        if args.steps:  # continue the run to --steps (the options it was trained with are kept)
            start, start_cpu = time.perf_counter(), time.process_time()
            ganforge.train("musegan", data=data, out=run, steps=args.steps, resume=True)
            info.update({"steps": args.steps, "resumed_cpu_s": round(time.process_time() - start_cpu, 1),
                         "resumed_wall_s": round(time.perf_counter() - start, 1)})
    else:
        run = out / "run"
        info.update(train(args, data, run))
    res = {**info, **score(run, data, out, args.seed)}
    (out / "results.json").write_text(json.dumps(res, indent=1, default=str))
    cpu = info.get("train_cpu_s", info.get("resumed_cpu_s", "?"))
    wall = info.get("train_wall_s", info.get("resumed_wall_s", "?"))
    print(f"run {run}: {info.get('steps', '?')} steps, {cpu} CPU s ({wall} s wall) of training here, "
          f"{info['threads']} thread(s), {res['n']} prompts (the real phrases' captions)")
    print(table(res))
    print(f"style per class: {res['style_per_class']}")
    print(f"results and samples in {out}")


if __name__ == "__main__":
    main()
