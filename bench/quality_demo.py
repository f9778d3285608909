"""Does ``ganforge demo`` draw shapes a person recognises, of the class asked?

A small CNN (the "judge") is trained on real shapes data made with a different seed
from the demo's, and its held-out accuracy is reported. Then the demo runs (or an
existing run is loaded), 50 images per class are generated with
``ganforge.load(run).generate(n, classes=[c])``, and the judge says which shape each
image shows: the per-class accuracy and their mean are printed. Beside them, each class's
variety: over how many of the data's 10 (shape colour, background) pairs its samples
spread (a perplexity; the real data's is printed as the ceiling).

    python bench/quality_demo.py                       # runs `ganforge demo` in a temporary folder
    python bench/quality_demo.py --run runs/demo/run   # judges an existing run
    python bench/quality_demo.py --min-accuracy 0.9    # exit status 1 below the bar

The whole thing takes about 4-5 minutes on 2 CPU cores (most of it the demo).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

import ganforge
from judging import fit_classifier
from report import row, write_rows


def _load_folder(root: Path, classes: list[str], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for line in (root / "metadata.jsonl").read_text().splitlines():
        row = json.loads(line)
        img = Image.open(root / row["file_name"]).convert("RGB")
        if img.size != (size, size):
            img = img.resize((size, size), Image.BILINEAR)
        xs.append(np.asarray(img))
        ys.append(classes.index(row["file_name"].split("/")[0]))
    return to_tensor(xs), torch.tensor(ys)


def to_tensor(images) -> torch.Tensor:
    """uint8 HWC arrays or PIL images -> float [N, 3, H, W] in [-1, 1]."""
    arr = np.stack([np.asarray(im.convert("RGB") if isinstance(im, Image.Image) else im) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 127.5 - 1


class Judge(nn.Module):
    """A small CNN: three conv blocks, global pooling, a linear classifier."""

    def __init__(self, n_classes: int):
        super().__init__()

        def block(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                    nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

        self.net = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 96),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(96, n_classes))

    def forward(self, x):
        return self.net(x)


def train_judge(data: Path, classes: list[str], size: int, epochs: int = 5, seed: int = 0):
    """Train the judge on 80% of ``data``; return (judge, held-out accuracy)."""
    torch.manual_seed(seed)
    x, y = _load_folder(data, classes, size)

    def turned(xb):  # flips and 90-degree turns keep every class what it is (a star turned is a star)
        if torch.rand(()) < 0.5:
            xb = xb.flip(3)
        return torch.rot90(xb, int(torch.randint(4, ())), dims=(2, 3))

    return fit_classifier(lambda: Judge(len(classes)), x, y, epochs, augment=turned)


def colour_pairs(x: torch.Tensor) -> list[tuple[str, str]]:
    """(shape colour, background) of bold-shapes images [N, 3, H, W] in [-1, 1]: the
    nearest palette colour to the median of the centre and of the border."""
    from ganforge_image.datasets import BOLD_PALETTE, COLOURS

    names, backgrounds = BOLD_PALETTE
    palette = torch.tensor([COLOURS[c] for c in names], dtype=torch.float32) / 127.5 - 1
    grounds = torch.tensor([COLOURS[c] for c in backgrounds], dtype=torch.float32) / 127.5 - 1
    h = x.shape[-1]
    border = torch.cat([x[:, :, 0, :], x[:, :, -1, :], x[:, :, :, 0], x[:, :, :, -1]], dim=2).median(dim=2).values
    centre = x[:, :, h // 2 - 2:h // 2 + 2, h // 2 - 2:h // 2 + 2].flatten(2).median(dim=2).values
    fg, bg = torch.cdist(centre, palette).argmin(1), torch.cdist(border, grounds).argmin(1)
    return [(names[a], backgrounds[b]) for a, b in zip(fg.tolist(), bg.tolist())]


def variety(pairs: list) -> float:
    """Perplexity of the (colour, background) pairs: how many of the 10 a class's samples
    spread over evenly (1: every sample alike; 10: all pairs, equally often)."""
    counts = torch.tensor(list(Counter(pairs).values()), dtype=torch.float64)
    p = counts / counts.sum()
    return float(torch.exp(-(p * p.log()).sum()))


@torch.no_grad()
def judge_run(run: Path, judge: nn.Module, classes: list[str], size: int, n: int = 50,
              seed: int = 1000) -> tuple[dict, dict]:
    """Per-class accuracy of ``n`` samples per class of a trained run, and their variety."""
    pipe = ganforge.load(run)
    accuracy, spread = {}, {}
    for c in classes:
        images = pipe.generate(n, seed=seed, classes=[c] * n).images
        if images[0].size != (size, size):
            images = [im.resize((size, size), Image.BILINEAR) for im in images]
        x = to_tensor(images)
        accuracy[c] = (judge(x).argmax(1) == classes.index(c)).float().mean().item()
        spread[c] = variety(colour_pairs(x))
    return accuracy, spread


def real_variety(data: Path, classes: list[str], size: int) -> dict:
    x, y = _load_folder(data, classes, size)
    return {c: variety(colour_pairs(x[y == i])) for i, c in enumerate(classes)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, help="judge this trained run instead of running the demo")
    p.add_argument("--out", type=Path, help="where the demo runs (default: a temporary folder)")
    p.add_argument("--n", type=int, default=50, help="samples per class")
    p.add_argument("--min-accuracy", type=float, default=None, help="exit 1 when the mean is below this")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="a smoke test: the demo's --quick run (figures meaningless)")
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from ganforge_image.datasets import SHAPES, make_shapes
    from ganforge_image.demo import DATA_OPTIONS

    classes = sorted(SHAPES)  # ImageFolder order: the class sub-folders sorted
    size = int(DATA_OPTIONS["size"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        # The judge learns from data the demo never saw (another seed).
        real = make_shapes(tmp / "judge_data", **{**DATA_OPTIONS, "n": 2000, "seed": 12345})
        judge, acc = train_judge(real, classes, size)
        print(f"judge: held-out accuracy {acc:.3f} on real shapes ({time.time() - t0:.0f}s)")
        real_spread = real_variety(real, classes, size)

        run = args.run
        if run is None:
            from ganforge_image.demo import shapes_demo

            out = args.out or tmp / "demo"
            t1 = time.time()
            shapes_demo(out, quick=args.quick)
            print(f"demo: {time.time() - t1:.0f}s")
            run = out / "run"
        scores, spread = judge_run(run, judge, classes, size, n=args.n)
    mean = sum(scores.values()) / len(scores)
    mean_spread, mean_real = (sum(v.values()) / len(v) for v in (spread, real_spread))
    print("class accuracy of the demo's samples (judged), and their variety: the perplexity of their")
    print("(colour, background) pairs, of 10 (1: all alike); real data beside it:")
    for c, a in scores.items():
        print(f"  {c:10s} {a:.2f}   variety {spread[c]:5.2f}  (real {real_spread[c]:5.2f})")
    print(f"  {'mean':10s} {mean:.3f}  variety {mean_spread:5.2f}  (real {mean_real:5.2f})")
    print(json.dumps({"judge_accuracy": acc, "class_accuracy": scores, "mean": mean,
                      "variety": spread, "variety_mean": mean_spread, "real_variety_mean": mean_real}))
    how = "ganforge demo --quick" if args.quick else "ganforge demo"
    write_rows(args.json, [row("image: demo", "class accuracy, 50 per class (judge CNN)", f"{mean:.3f}",
                               f"judge on real: {acc:.3f}; bar 0.9", how),
                           row("image: demo", "variety: (colour, background) perplexity per class, of 10",
                               f"{mean_spread:.2f}", f"real: {mean_real:.2f}", how)])
    if args.min_accuracy is not None and mean < args.min_accuracy:
        print(f"below the bar of {args.min_accuracy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
