"""Does the vgan recipe draw the shape asked for, moving? (ganforge-video, moving-shapes)

1. Makes the moving-shapes data (drawn, offline) for training, and a second set with
   another seed for the judge.
2. Trains the "judge", a small CNN, on single frames of the judge's real clips: the three
   shapes plus a fourth class "none" (the scene alone, or an irregular blob of the
   shapes' colours). Its held-out accuracy on real frames is the ceiling.
3. Trains ``vgan`` with the recipe's defaults (``--set`` changes them) for ``--steps``
   steps on one thread, or loads ``--run``.
4. Generates ``--n`` clips per class with ``generate(classes=[c] * n)`` and prints:
   - class accuracy: a clip's class is the judge's majority vote over its frames;
   - recognised: the fraction of frames the judge calls a shape (not "none");
   - fd: Frechet distance in the plugin's ``video-stats-v1`` space to the training clips
     (real against real, the judge's clips against the training clips, for scale);
   - motion: the median path length of the centre of motion over a clip (half-frame
     widths; the plugin's feature space) and the mean change between frames, generated
     and real.

    python bench/quality_video.py                        # trains with the recipe's defaults, then judges
    python bench/quality_video.py --run runs/cond        # judges a trained conditional run
    python bench/quality_video.py --set d_frames=false --steps 800 --keep out/exp1 --judge out/judge.pt

``--keep DIR`` keeps the run and writes ``DIR/judged.png`` / ``.gif`` (four clips per
class, a row each) to look at; ``--judge FILE`` keeps the judge's weights for the next
experiment (training it takes 2 minutes on a quiet core, far longer on a loaded one).
The plugin's README ("Quality") has the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

import ganforge
from judging import fit_classifier, predict
from quality_demo import Judge
from report import parse_sets, row, write_rows

NONE = "none"


def _pixels(img: Image.Image, size: int) -> torch.Tensor:
    """PIL -> float [3, size, size] in [-1, 1], resized as the video modality does."""
    if img.size != (size, size):
        img = img.resize((size, size), Image.LANCZOS)
    return torch.frombuffer(bytearray(img.convert("RGB").tobytes()), dtype=torch.uint8).reshape(
        size, size, 3).permute(2, 0, 1).float() / 127.5 - 1


def none_frames(n: int, size: int, style: str, seed: int) -> torch.Tensor:
    """Frames with no shape: the scene alone, an irregular blob in a shape colour, or the
    scene under smooth colour noise (what an untrained generator draws)."""
    from ganforge_video import data

    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        img = data._background(rng, 64, style)
        if i % 3 == 2:
            cells = rng.choice([2, 4, 8, 16])
            noise = (torch.rand(3, cells, cells, generator=gen) * 255).to(torch.uint8).permute(1, 2, 0).numpy()
            blotch = Image.fromarray(noise).resize((64, 64), Image.BILINEAR)
            img = Image.blend(img, blotch, rng.uniform(0.3, 1.0))
        elif i % 3 == 1:
            cx, cy, r = rng.uniform(16, 48), rng.uniform(16, 48), 64 * rng.uniform(0.15, 0.28)
            k = rng.randint(7, 13)
            pts = []
            for j in range(k):
                a = 2 * 3.14159 * (j + rng.uniform(-0.3, 0.3)) / k
                rr = r * rng.uniform(0.35, 1.0)
                pts.append((cx + rr * torch.tensor(a).cos().item(), cy + rr * torch.tensor(a).sin().item()))
            colour = rng.choice(data.BOLD_COLOURS) if style == "bold" else tuple(rng.randint(0, 255) for _ in range(3))
            ImageDraw.Draw(img).polygon(pts, fill=colour)
        out.append(_pixels(img, size))
    return torch.stack(out)


def clip_frames(sampleset, to_model) -> tuple[torch.Tensor, torch.Tensor]:
    """A loaded SampleSet -> (frames [N*T, C, S, S] in [-1, 1], their clip's label)."""
    x = to_model(sampleset.fields["x"])  # [N, C, T, S, S]
    n, c, t, s, _ = x.shape
    return x.transpose(1, 2).reshape(n * t, c, s, s), sampleset.fields["label"].repeat_interleave(t)


def train_judge(x: torch.Tensor, y: torch.Tensor, n_classes: int, epochs: int = 3, seed: int = 0):
    """Train on 80% of the frames; return (judge, held-out accuracy)."""
    torch.manual_seed(seed)

    def mirrored(xb):  # left-right: every class stays what it is
        return xb.flip(3) if torch.rand(()) < 0.5 else xb

    return fit_classifier(lambda: Judge(n_classes), x, y, epochs, augment=mirrored)


def motion(feats: torch.Tensor, t: int) -> tuple[float, float, float]:
    """(median path length of the centre of motion, median distance from its first to its
    last place, mean change between frames) from video-stats-v1 features (half-frame
    widths). Jitter makes a long path that goes nowhere; a glide makes both alike."""
    change, speed = feats[:, -2 * (t - 1):-(t - 1)], feats[:, -(t - 1):]
    path = feats[:, -2 * (t - 1) - 2 * t:-2 * (t - 1)].reshape(len(feats), 2, t)
    net = (path[:, :, -1] - path[:, :, 0]).norm(dim=1)
    return speed.sum(1).median().item(), net.median().item(), change.mean().item()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, help="judge this trained run (conditional, on moving-shapes)")
    p.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a training option")
    p.add_argument("--style", default="bold", help="moving-shapes style of the data (bold or varied)")
    p.add_argument("--n", type=int, default=100, help="generated clips per class")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--keep", type=Path, help="keep the run and the judged grid here")
    p.add_argument("--judge", type=Path, help="the judge's weights: loaded when the file exists, else trained and saved")
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from ganforge.metrics import frechet_distance
    from ganforge_video.data import SHAPES, make_moving_shapes
    from ganforge_video.modality import VideoModality, to_model

    classes = sorted(SHAPES)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        data = make_moving_shapes(tmp / "data", n=600, seed=0, style=args.style)
        judge_data = make_moving_shapes(tmp / "judge_data", n=300, seed=12345, style=args.style)

        run = args.run
        train_s = None
        if run is None:
            run = args.keep / "run" if args.keep else tmp / "run"
            overrides = {"conditional": True, "progress": False, **parse_sets(args.set)}
            if args.steps:
                overrides["steps"] = args.steps
            t1 = time.time()
            ganforge.train("vgan", data=data, out=run, overrides=overrides)
            train_s = time.time() - t1
            print(f"trained in {train_s:.0f}s with {overrides}")
        pipe = ganforge.load(run, device="cpu")
        cfg = pipe.config
        t, size = int(cfg["frames"]), int(cfg["frame_size"])
        modality = VideoModality({"frames": t, "frame_size": size})
        real, other = modality.load(data), modality.load(judge_data)

        # the judge: real frames of another seed's clips, and shapeless frames
        if args.judge and args.judge.exists():
            saved = torch.load(args.judge)
            assert saved["for"] == [args.style, t, size], f"{args.judge} judges {saved['for']}"
            judge, ceiling = Judge(len(classes) + 1), saved["ceiling"]
            judge.load_state_dict(saved["weights"])
            judge.eval()
        else:
            fx, fy = clip_frames(other, to_model)
            nx = none_frames(len(fx) // 3, size, args.style, seed=7)
            judge, ceiling = train_judge(torch.cat([fx, nx]), torch.cat([fy, torch.full((len(nx),), len(classes))]),
                                         len(classes) + 1)
            if args.judge:
                torch.save({"for": [args.style, t, size], "ceiling": ceiling, "weights": judge.state_dict()}, args.judge)
        print(f"judge: held-out frame accuracy {ceiling:.3f} (real frames + shapeless ones) ({time.time() - t0:.0f}s)")

        clips, per_class, recognised = [], {}, []
        for ci, c in enumerate(classes):
            x = pipe.generate(args.n, seed=1000, classes=[c] * args.n).samples.float()  # [n, C, T, S, S]
            clips.append(x)
            pred = predict(judge, x.transpose(1, 2).reshape(-1, *x.shape[1:2], size, size)).reshape(args.n, t)
            votes = torch.stack([(pred == k).sum(1) for k in range(len(classes) + 1)], 1)
            per_class[c] = (votes.argmax(1) == ci).float().mean().item()
            recognised.append((pred < len(classes)).float().mean().item())
        gen = torch.cat(clips)

        _, extract = modality.feature_space(real)
        n_real = min(len(gen), len(real))
        pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:n_real]
        real_x = to_model(real.fields["x"][pick])
        other_x = to_model(other.fields["x"][:n_real])
        f_real, f_other, f_gen = extract(real_x), extract(other_x), extract(gen)
        fd = frechet_distance(f_real, f_gen)
        fd_rr = frechet_distance(f_real, f_other)
        path_g, net_g, change_g = motion(f_gen, t)
        path_r, net_r, change_r = motion(f_real, t)
        if args.keep:
            show = torch.cat([x[:4] for x in clips])
            modality.save_preview(show, args.keep / "judged", labels=[c for c in classes for _ in range(4)])

    acc = sum(per_class.values()) / len(per_class)
    result = {
        "judge_ceiling": round(ceiling, 3), "class_accuracy": round(acc, 3),
        "per_class": {c: round(a, 2) for c, a in per_class.items()},
        "recognised": round(sum(recognised) / len(recognised), 3),
        "fd": round(fd, 2), "fd_real_vs_real": round(fd_rr, 2),
        "motion_path": round(path_g, 3), "motion_path_real": round(path_r, 3),
        "motion_net": round(net_g, 3), "motion_net_real": round(net_r, 3),
        "frame_change": round(change_g, 4), "frame_change_real": round(change_r, 4),
        "train_s": None if train_s is None else round(train_s), "steps": cfg.get("steps"),
        "frames": t, "frame_size": size, "threads": args.threads,
    }
    print(f"class accuracy {acc:.3f} (ceiling {ceiling:.3f}): {result['per_class']}")
    print(f"recognised frames {result['recognised']:.3f}; fd {fd:.2f} (real vs real {fd_rr:.2f})")
    print(f"motion path {path_g:.3f} (real {path_r:.3f}); first to last {net_g:.3f} (real {net_r:.3f}); frame change {change_g:.4f} (real {change_r:.4f})")
    print(json.dumps(result))
    budget = f"{cfg.get('steps')} steps" + (f", {train_s / 60:.1f} min, {args.threads} thread(s)" if train_s else "")
    write_rows(args.json, [
        row("video: vgan", "class accuracy, majority vote over frames (judge CNN)", f"{acc:.3f}",
            f"judge on real frames: {ceiling:.3f}", budget),
        row("video: vgan", "fd (video-stats-v1)", f"{fd:.2f}", f"real vs real: {fd_rr:.2f}", budget),
        row("video: vgan", "motion path (median, half-frame widths)", f"{path_g:.3f}", f"real: {path_r:.3f}", budget),
        row("video: vgan", "motion first to last frame (median)", f"{net_g:.3f}", f"real: {net_r:.3f}", budget),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
