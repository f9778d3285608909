"""Style-mixing grids and interpolations of trained image runs, from Python and the CLI.

Python::

    import ganforge
    from ganforge_image.stylegan_tools import style_mix_grid, interpolate
    pipe = ganforge.load("runs/x")
    grid = style_mix_grid(pipe, rows=[1, 2, 3], cols=[5, 6, 7], out="mix/")   # PIL image + mix/style_mix.png
    frames = interpolate(pipe, seeds=[1, 5, 9], steps=16, out="interp/")    # interp/interpolation.png + .gif

CLI::

    ganforge stylegan-mix runs/x --rows 1-4 --cols 5-8 --out mix [--mix-from 4] [--truncation 0.7]
    ganforge interpolate runs/x --seeds 1,5,9 --steps 16 --out interp [--format webp] [--loop]

A style-mixing grid (the StyleGAN paper's figure 3): the first row shows the column
seeds' images, the first column the row seeds'; the cell (r, c) takes the coarse styles
(layers before ``mix_from``) of row seed r and the fine styles of column seed c. Every
image is the one ``ganforge generate --seeds`` makes for that seed with the same options.

Interpolation runs through w (linearly, after truncation) for a StyleGAN run and
through z (spherically) for any other image run, ``steps`` frames from each seed to the next.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

import ganforge


def _is_stylegan(pipe) -> bool:
    G = pipe.generator
    return callable(getattr(G, "mapping", None)) and callable(getattr(G, "synthesis", None))


def _out_dir(out) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ganforge.GanforgeError(f"cannot write {path}: it is a file; choose another --out folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _image_run(pipe) -> None:
    if getattr(pipe.modality, "result_kind", None) != "images":
        raise ganforge.GanforgeError(f"this run ({pipe.recipe}) makes {pipe.modality.result_kind or 'no images'}; "
                                     f"mixing grids and interpolation strips are for image runs")


def _paste(images, columns: int, pad: int = 2):
    """PIL images of one size in a grid with ``columns`` columns; None leaves a white cell."""
    from PIL import Image

    first = next(im for im in images if im is not None)
    w, h = first.size
    rows = math.ceil(len(images) / columns)
    sheet = Image.new(first.mode, (columns * (w + pad) - pad, rows * (h + pad) - pad), "white")
    for i, im in enumerate(images):
        if im is not None:
            sheet.paste(im, ((i % columns) * (w + pad), (i // columns) * (h + pad)))
    return sheet


# ---------------------------------------------------------------------------- style mixing

def style_mix_grid(pipe, rows, cols, mix_from: int = 4, truncation: float = 1.0, noise_mode: str = "const",
                   classes=None, out=None):
    """A style-mixing grid as a PIL image (written to ``out/style_mix.png`` when ``out`` is
    given): coarse styles (layers < ``mix_from``) from the ``rows`` seeds, fine ones from
    the ``cols`` seeds. ``classes`` (one class name) conditions a conditional run."""
    _image_run(pipe)
    if not _is_stylegan(pipe):
        raise ganforge.GanforgeError(f"this run ({pipe.recipe}) has no style layers to mix; "
                                     f"style mixing needs a stylegan run")
    rows, cols = [int(s) for s in rows], [int(s) for s in cols]
    if not rows or not cols:
        raise ganforge.GanforgeError("a style-mixing grid needs at least one row seed and one column seed")
    options = {"truncation": truncation, "noise_mode": noise_mode}
    given = {"classes": classes} if classes else {}
    col_images = pipe.generate(seeds=cols, **given, **options).images
    row_images = pipe.generate(seeds=rows, **given, **options).images
    cells = [None] + col_images
    for seed, row_image in zip(rows, row_images):
        mixed = pipe.generate(seeds=[seed] * len(cols), mix_seed=cols, mix_from=mix_from, **given, **options)
        cells += [row_image] + mixed.images
    grid = _paste(cells, columns=len(cols) + 1)
    if out is not None:
        grid.save(_out_dir(out) / "style_mix.png")
    return grid


# ---------------------------------------------------------------------------- interpolation

def _slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    a_n, b_n = a / a.norm(), b / b.norm()
    omega = torch.arccos((a_n * b_n).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        return torch.lerp(a, b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def _latent(pipe, seed: int) -> torch.Tensor:
    """The z that ``generate(seeds=[seed])`` draws."""
    return pipe.generator.sample_latent(1, generator=torch.Generator().manual_seed(int(seed)))


def interpolation_frames(pipe, seeds, steps: int = 16, truncation: float = 1.0, noise_mode: str = "const",
                         classes=None, loop: bool = False) -> list:
    """PIL frames going from each seed to the next in ``steps`` frames per segment (the
    last seed's frame ends it; with ``loop``, it returns to the first seed)."""
    _image_run(pipe)
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ganforge.GanforgeError("interpolation needs at least two seeds, such as --seeds 1,5")
    if int(steps) < 1:
        raise ganforge.GanforgeError(f"--steps must be 1 or more, got {steps}")
    keys = seeds + [seeds[0]] if loop else seeds
    ts = [(i, j / steps) for i in range(len(keys) - 1) for j in range(steps)]
    if not loop:
        ts.append((len(keys) - 2, 1.0))
    G = pipe.generator
    z = torch.cat([_latent(pipe, s) for s in keys])
    if not _is_stylegan(pipe):  # any image generator: spherical interpolation of z
        latents = torch.stack([_slerp(z[i], z[i + 1], t) for i, t in ts])
        given = {"classes": classes} if classes else {}
        return pipe.generate(latents=latents, **given).images
    G._check_options(truncation, None, noise_mode, None)
    cond = None
    if pipe.conditional:
        encoder = pipe.encoder
        values = (encoder.from_user(list(classes), pipe.modality) if classes
                  else encoder.default_conditions(1, pipe.modality))
        if values is None:
            raise ganforge.GanforgeError(f"this run is conditional: give --{encoder.user_option}")
        with torch.no_grad():
            cond = encoder(values.to(pipe.device) if isinstance(values, torch.Tensor) else values)[:1]
    frames = []
    with torch.no_grad():
        ws = G.mapping(z.to(pipe.device), None if cond is None else cond.expand(len(z), -1), float(truncation))
        path = torch.stack([torch.lerp(ws[i], ws[i + 1], t) for i, t in ts])
        for start in range(0, len(path), 32):
            x = G.synthesis(path[start:start + 32], noise_mode=noise_mode)
            frames += pipe.modality.to_user(x.float().cpu())
    return frames


def interpolate(pipe, seeds, steps: int = 16, out=None, truncation: float = 1.0, noise_mode: str = "const",
                classes=None, loop: bool = False, fmt: str = "gif", fps: int = 12, strip_frames: int = 16) -> dict:
    """Interpolation frames, written (when ``out`` is given) as ``interpolation.png`` (a
    strip of at most ``strip_frames`` evenly spaced frames) and ``interpolation.gif`` or
    ``.webp`` (every frame, looping). Returns ``{"frames": [...], "strip": path, "animation": path}``."""
    frames = interpolation_frames(pipe, seeds, steps, truncation, noise_mode, classes, loop)
    result = {"frames": frames, "strip": None, "animation": None}
    if out is None:
        return result
    result["strip"], result["animation"] = ganforge.write_animation(frames, out, fmt, fps, strip_frames)
    return result


# ---------------------------------------------------------------------------- commands

def parse_seeds(text: str) -> list[int]:
    """``1-16``, ``3,7,9`` or both (``1-4,10``), as ``ganforge generate --seeds``."""
    seeds = []
    for part in str(text).split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise ganforge.GanforgeError(f"seeds are numbers and ranges such as 1-16 or 3,7,9; got '{text}'") from None
    if not seeds or any(s < 0 for s in seeds):
        raise ganforge.GanforgeError(f"'{text}' names no seed (seeds are whole numbers from 0)")
    return seeds


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="a run directory")
    parser.add_argument("--out", required=True, help="folder to write into")
    parser.add_argument("--truncation", type=float, default=1.0, help="truncation psi (1: none)")
    parser.add_argument("--noise-mode", default="const", help="const, random or none")
    parser.add_argument("--class", dest="classes", action="append", help="class of a conditional run")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")


def mix_main(argv) -> int:
    p = argparse.ArgumentParser(prog="ganforge stylegan-mix", description="A style-mixing grid of a StyleGAN run: "
                                "coarse styles from the row seeds, fine ones from the column seeds.")
    _common(p)
    p.add_argument("--rows", required=True, help="row seeds (coarse styles): 1-4 or 1,3,7")
    p.add_argument("--cols", required=True, help="column seeds (fine styles): 5-8")
    p.add_argument("--mix-from", type=int, default=4, help="first layer whose style comes from the column seed (4: "
                   "rows give the 4x4 and 8x8 styles)")
    args = p.parse_args(argv)
    pipe = ganforge.load(args.run, device=args.device)
    style_mix_grid(pipe, parse_seeds(args.rows), parse_seeds(args.cols), mix_from=args.mix_from,
                   truncation=args.truncation, noise_mode=args.noise_mode, classes=args.classes, out=args.out)
    print(f"wrote {Path(args.out) / 'style_mix.png'}")
    return 0


def interpolate_main(argv) -> int:
    p = argparse.ArgumentParser(prog="ganforge interpolate", description="Interpolation between seeds of an image "
                                "run, as a PNG strip and an animated GIF or WebP.")
    _common(p)
    p.add_argument("--seeds", required=True, help="seeds to pass through, in order: 1,5,9 or 1-4")
    p.add_argument("--steps", type=int, default=16, help="frames from one seed to the next")
    p.add_argument("--format", default="gif", help="gif or webp")
    p.add_argument("--fps", type=int, default=12, help="frames per second of the animation")
    p.add_argument("--loop", action="store_true", help="return to the first seed at the end")
    args = p.parse_args(argv)
    pipe = ganforge.load(args.run, device=args.device)
    result = interpolate(pipe, parse_seeds(args.seeds), steps=args.steps, out=args.out, truncation=args.truncation,
                         noise_mode=args.noise_mode, classes=args.classes, loop=args.loop, fmt=args.format,
                         fps=args.fps)
    print(f"wrote {result['strip']} and {result['animation']} ({len(result['frames'])} frames)")
    return 0
