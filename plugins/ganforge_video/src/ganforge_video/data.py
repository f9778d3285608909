"""The demo data set: ``ganforge data moving-shapes --out data/``.

Short clips of one coloured shape (a circle, a square or a triangle: the classes, one
sub-folder each) gliding in a straight line and bouncing off the edges, over a still
background. It is what VGAN's two streams are for: a static scene, and a moving
foreground the mask cuts out. Drawn with Pillow, never downloaded.

Two styles:

- ``bold`` (the default): a large shape (about half the frame across) in one of two
  strong colours over one of two flat pale backgrounds. A small model learns it on a
  CPU in minutes (the vgan recipe's default; README "Quality" has the figures).
- ``varied``: a smaller shape (a third of the frame) in any dark or bright colour over
  two soft bands of random pale colours: a harder set for longer runs.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

SHAPES = ("circle", "square", "triangle")
FORMATS = ("gif", "frames")
STYLES = ("bold", "varied")
# bold: saturated shapes over pale flat scenes, every pair far apart in colour
BOLD_COLOURS = ((200, 30, 30), (30, 60, 200))
BOLD_BACKGROUNDS = ((235, 235, 235), (250, 225, 150))


def _background(rng: random.Random, size: int, style: str):
    """The static scene: one flat pale colour (bold), or two pale horizontal bands with a
    soft edge between them (varied)."""
    from PIL import Image

    if style == "bold":
        return Image.new("RGB", (size, size), rng.choice(BOLD_BACKGROUNDS))

    top = tuple(rng.randint(150, 235) for _ in range(3))
    bottom = tuple(rng.randint(150, 235) for _ in range(3))
    split = rng.uniform(0.3, 0.7) * size
    img = Image.new("RGB", (size, size))
    px = img.load()
    for y in range(size):
        t = min(1.0, max(0.0, (y - split) / (0.15 * size) + 0.5))
        row = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
        for x in range(size):
            px[x, y] = row
    return img


def _draw(img, shape: str, cx: float, cy: float, r: float, colour) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(img)
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "square":
        s = r * 0.9
        draw.rectangle((cx - s, cy - s, cx + s, cy + s), fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=colour)


def clip(rng: random.Random, shape: str, frames: int, size: int, style: str = "bold") -> list:
    """One clip: ``frames`` PIL images of ``shape`` moving over a still background."""
    background = _background(rng, size, style)
    if style == "bold":
        r = size * rng.uniform(0.22, 0.28)
        colour = rng.choice(BOLD_COLOURS)
    else:
        r = size * rng.uniform(0.14, 0.2)
        colour = tuple(rng.choice([rng.randint(0, 70), rng.randint(150, 255)]) for _ in range(3))
        if min(colour) > 120:  # keep the shape darker than the pale background somewhere
            colour = (colour[0], colour[1], rng.randint(0, 60))
    x, y = rng.uniform(r, size - r), rng.uniform(r, size - r)
    # diagonal-ish (20-70 degrees off an axis) so both coordinates change every frame: GIF
    # writers merge identical consecutive frames, which would shorten the clip
    angle = math.radians(rng.choice([0, 90, 180, 270]) + rng.uniform(20, 70))
    speed = size * rng.uniform(0.03, 0.05)  # pixels per frame: about half the frame in 16 frames
    # and at least a pixel a frame along each axis, so that small frames change too
    vx, vy = (math.copysign(max(1.0, abs(v)), v) for v in (speed * math.cos(angle), speed * math.sin(angle)))
    out = []
    for _ in range(frames):
        img = background.copy()
        _draw(img, shape, x, y, r, colour)
        out.append(img)
        x, vx = _bounce(x + vx, vx, r, size - r)
        y, vy = _bounce(y + vy, vy, r, size - r)
    return out


def _bounce(p: float, v: float, low: float, high: float) -> tuple[float, float]:
    """Reflect a position that left [low, high] back inside, reversing its velocity."""
    if p < low:
        return 2 * low - p, -v
    if p > high:
        return 2 * high - p, -v
    return p, v


def make_moving_shapes(out_dir, n: int = 600, frames: int = 16, size: int = 64, format: str = "gif",
                       seed: int = 0, style: str = "bold") -> Path:
    """Write ``n`` clips (spread evenly over the shapes) of ``frames`` frames of
    ``size`` x ``size`` pixels: one animated GIF each (``format=gif``) or one folder of
    PNG frames each (``format=frames``), in a sub-folder per shape; ``style`` bold or
    varied (see the module's notes)."""
    from ganforge import GanforgeError

    n, frames, size, seed = int(n), int(frames), int(size), int(seed)
    if n < 1 or frames < 1 or size < 8:
        raise GanforgeError(f"moving-shapes needs n >= 1, frames >= 1 and size >= 8; got n={n}, frames={frames}, "
                            f"size={size}")
    if format not in FORMATS:
        raise GanforgeError(f"moving-shapes format must be one of {', '.join(FORMATS)}, got {format!r}")
    if style not in STYLES:
        raise GanforgeError(f"moving-shapes style must be one of {', '.join(STYLES)}, got {style!r}")
    out = Path(out_dir)
    rng = random.Random(seed)
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        folder = out / shape
        folder.mkdir(parents=True, exist_ok=True)
        images = clip(rng, shape, frames, size, style)
        if format == "gif":
            # GIF stores palettes (these few flat colours survive them) and whole centiseconds
            images[0].save(folder / f"{i:05d}.gif", save_all=True, append_images=images[1:], duration=120,
                           loop=0, optimize=False, disposal=1)
        else:
            clip_dir = folder / f"{i:05d}"
            clip_dir.mkdir(exist_ok=True)
            for t, img in enumerate(images):
                img.save(clip_dir / f"frame_{t:03d}.png")
    return out
