"""Does a text-to-image model draw what the prompt says? (issue 12's targets for shapes-t2i)

A small CNN with four heads (the "judge": shape, colour, background, size) is trained on
real `ganforge data shapes --set style=prompts` images made with another seed than the
model's data, and its held-out accuracy per head is printed as the ceiling. Then the
model draws one image for each of ``--prompts`` prompts drawn at random from the data's
caption grammar ("a small red star on a blue background"), each with a seed of its own,
and the judge reads every attribute back. Target: colour and shape right in >= 80%.

A second reader checks the shape without a trained network: each image's nearest real
drawing (squared pixel distance) among 12 drawings in each of the four shapes with the
prompt's own colour, size and background (0.99 right on real images). The CNN judge
misreads some clean generated shapes (a purple circle on black read as a star); this
reader does not depend on how the judge generalises off real images.

Latency (issue 12: 8 images from a prompt in under 1 s on 2 CPU cores, after load):
median of 5 calls of ``pipe.generate(8, prompts=[p] * 8)`` after one warm-up call.

    python bench/quality_t2i.py                      # the shipped model, shapes-t2i
    python bench/quality_t2i.py --model runs/t2i     # a run of your own (or an export)
    python bench/quality_t2i.py --data data/shapes-prompts   # also r-precision (ganforge evaluate), n=1000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import ganforge
from report import row, write_rows

HEADS = ("shape", "colour", "background", "size")


def to_tensor(images) -> torch.Tensor:
    arr = np.stack([np.asarray(im.convert("RGB")) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 127.5 - 1


class Judge(nn.Module):
    """A small CNN, one linear head per caption field."""

    def __init__(self, sizes: dict[str, int]):
        super().__init__()

        def block(c_in, c_out):
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))

        self.body = nn.Sequential(block(3, 32), block(32, 64), block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({k: nn.Linear(128, n) for k, n in sizes.items()})

    def forward(self, x):
        h = self.body(x)
        return {k: head(h) for k, head in self.heads.items()}


def load_labelled(root: Path, vocab: dict[str, list[str]], size: int):
    rows = [json.loads(line) for line in (root / "metadata.jsonl").read_text().splitlines()]
    images = []
    for r in rows:
        im = Image.open(root / r["file_name"]).convert("RGB")
        images.append(im if im.size == (size, size) else im.resize((size, size), Image.BILINEAR))
    labels = {k: torch.tensor([vocab[k].index(r[k]) for r in rows]) for k in HEADS}
    return to_tensor(images), labels


def train_judge(x, labels, vocab, epochs: int = 6, seed: int = 0):
    torch.manual_seed(seed)
    n = len(x)
    order = torch.randperm(n)
    cut = int(0.85 * n)
    tr, te = order[:cut], order[cut:]
    judge = Judge({k: len(v) for k, v in vocab.items()})
    opt = torch.optim.Adam(judge.parameters(), lr=2e-3)
    for _ in range(epochs):
        judge.train()
        for s in range(0, cut, 64):
            idx = tr[s:s + 64]
            out = judge(x[idx])
            loss = sum(nn.functional.cross_entropy(out[k], labels[k][idx]) for k in HEADS)
            opt.zero_grad()
            loss.backward()
            opt.step()
    judge.eval()
    with torch.no_grad():
        out = judge(x[te])
    return judge, {k: (out[k].argmax(1) == labels[k][te]).float().mean().item() for k in HEADS}


def nearest_drawing_shapes(images, combos, per_shape: int = 12, seed: int = 1) -> list[str]:
    """The shape of each image's nearest real drawing with its prompt's colour, size and background."""
    from ganforge_image.datasets import SHAPES, draw_shape

    rng = random.Random(seed)
    out = []
    for image, c in zip(images, combos):
        x = np.asarray(image.convert("RGB"), dtype=np.float32)
        size = x.shape[0]
        refs = [(shape, np.asarray(draw_shape(shape, c["colour"], c["background"], size, rng, "prompts", c["size"]),
                                   dtype=np.float32)) for shape in SHAPES for _ in range(per_shape)]
        out.append(min(refs, key=lambda ref: float(np.square(ref[1] - x).sum()))[0])
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="shapes-t2i", help="a shipped model's name, a run or an export")
    p.add_argument("--prompts", type=int, default=200, help="prompts drawn from the caption grammar")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="a smoke test: 400 judge images, 20 prompts")
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    p.add_argument("--data", help="the model's captioned training data: also report r-precision on it")
    p.add_argument("--r-precision-n", type=int, default=1000, help="generated samples for r-precision")
    p.add_argument("--judge-n", type=int, default=8000, help="real images the judge is trained and tested on (85%% / 15%%)")
    p.add_argument("--judge-epochs", type=int, default=15)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from ganforge_image.datasets import PROMPTS_PALETTE, SHAPES, SIZES, make_shapes

    colours, backgrounds = PROMPTS_PALETTE
    vocab = {"shape": list(SHAPES), "colour": list(colours), "background": list(backgrounds), "size": list(SIZES)}
    pipe = ganforge.load(args.model, device="cpu")
    size = int(pipe.config["image_size"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        real = make_shapes(Path(tmp) / "judge", n=400 if args.quick else args.judge_n, size=size, seed=12345,
                           style="prompts")
        x, labels = load_labelled(real, vocab, size)
        judge, ceiling = train_judge(x, labels, vocab, epochs=2 if args.quick else args.judge_epochs)
    print(f"judge: held-out accuracy {', '.join(f'{k} {v:.3f}' for k, v in ceiling.items())} ({time.time() - t0:.0f}s)")

    rng = random.Random(0)
    combos = []
    for _ in range(20 if args.quick else args.prompts):
        colour = rng.choice(colours)
        combo = {"shape": rng.choice(SHAPES), "colour": colour, "size": rng.choice(list(SIZES)),
                 "background": rng.choice([b for b in backgrounds if b != colour])}
        combo["text"] = (f"a {combo['size']} {combo['colour']} {combo['shape']} on "
                         f"{'an' if combo['background'][0] in 'aeiou' else 'a'} {combo['background']} background")
        combos.append(combo)
    result = pipe.generate(len(combos), seed=0, prompts=[c["text"] for c in combos])
    with torch.no_grad():
        out = judge(to_tensor(result.images))
    right = {k: [vocab[k][i] == c[k] for i, c in zip(out[k].argmax(1).tolist(), combos)] for k in HEADS}
    acc = {k: sum(v) / len(v) for k, v in right.items()}
    both = sum(a and b for a, b in zip(right["colour"], right["shape"])) / len(combos)
    every = sum(all(right[k][i] for k in HEADS) for i in range(len(combos))) / len(combos)
    drawn = [s == c["shape"] for s, c in zip(nearest_drawing_shapes(result.images, combos), combos)]
    shape_nn = sum(drawn) / len(combos)
    both_nn = sum(a and b for a, b in zip(right["colour"], drawn)) / len(combos)

    prompt = combos[0]["text"]
    pipe.generate(8, seed=1, prompts=[prompt] * 8)  # warm-up
    times = []
    for i in range(5):
        t = time.perf_counter()
        pipe.generate(8, seed=2 + i, prompts=[prompt] * 8)
        times.append(time.perf_counter() - t)
    latency = statistics.median(times)

    print(f"{args.model}: {len(combos)} prompts, one image each")
    for k in HEADS:
        print(f"  {k:10s} right {acc[k]:.3f}   (judge on real: {ceiling[k]:.3f})")
    print(f"  colour and shape both right {both:.3f} (target >= 0.8); all four right {every:.3f}")
    print(f"  shape by the nearest real drawing {shape_nn:.3f}; with the judge's colour, both right {both_nn:.3f}")
    print(f"  latency: 8 images from a prompt {latency * 1000:.0f} ms (median of 5; target < 1 s on 2 CPU cores)")
    rows_r = []
    if args.data:
        scores = ganforge.metrics.evaluate(pipe, args.data, metrics=["r-precision"], n=args.r_precision_n)
        r, ceiling_r = scores["r_precision"], scores["r_precision_real"]
        print(f"  r-precision {r:.3f} (real pairs {ceiling_r:.3f}; {r / ceiling_r:.2f} of it, target >= 0.8), "
              f"n={args.r_precision_n}")
        rows_r = [row("text-to-image: shapes", "r-precision / real pairs' r-precision", f"{r / ceiling_r:.2f}",
                      ">= 0.8", f"{args.model}, n={args.r_precision_n}, r {r:.3f}, real {ceiling_r:.3f}")]
    setting = f"{args.model}, {len(combos)} prompts, {torch.get_num_threads()} threads"
    write_rows(args.json, [
        row("text-to-image: shapes", "colour and shape both right (judge CNN)", f"{both:.3f}", ">= 0.8", setting),
        row("text-to-image: shapes", "shape right (nearest real drawing)", f"{shape_nn:.3f}", "", setting),
        row("text-to-image: shapes", "colour (judge) and shape (nearest drawing) both right", f"{both_nn:.3f}",
            ">= 0.8", setting),
        *[row("text-to-image: shapes", f"{k} right", f"{acc[k]:.3f}", f"judge on real {ceiling[k]:.3f}", setting)
          for k in HEADS],
        row("text-to-image: shapes", "8 images from a prompt, after load", f"{latency * 1000:.0f} ms", "< 1000 ms", setting),
        *rows_r,
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
