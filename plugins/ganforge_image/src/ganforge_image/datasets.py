"""The "shapes" demo data set: coloured shapes drawn with PIL, nothing downloaded.

    ganforge data shapes --out data/shapes          # 2000 images, 32x32
    ganforge data shapes --out data/shapes64 --set n=4000 --set size=64

Layout (torchvision ImageFolder + Hugging Face imagefolder)::

    data/shapes/
      circle/00000.png  square/00001.png  triangle/00002.png  star/00003.png ...
      metadata.jsonl    {"file_name": "circle/00000.png", "text": "a red circle on a blue background", ...}
      shapes.json       the options that made it (a later call with the same options reuses it)

The same options always give byte-identical files.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

import ganforge

SHAPES = ("circle", "square", "triangle", "star")

COLOURS = {
    "red": (215, 40, 40),
    "green": (40, 160, 60),
    "blue": (40, 80, 215),
    "yellow": (240, 210, 40),
    "orange": (245, 135, 30),
    "purple": (135, 55, 175),
    "white": (245, 245, 245),
    "black": (25, 25, 25),
}

STYLES = ("varied", "bold", "prompts")
# The bold style: (shape colours, background colours), each shape colour clear on both.
BOLD_PALETTE = (["red", "green", "blue", "orange", "purple"], ["black", "white"])
# The prompts style (text-to-image): flat, upright shapes of two sizes, seven colours on
# four backgrounds, captioned "a small red star on a blue background".
PROMPTS_PALETTE = (["red", "green", "blue", "yellow", "orange", "purple", "white"], ["black", "white", "blue", "green"])
SIZES = {"small": (0.20, 0.26), "large": (0.36, 0.44)}  # radius, as a fraction of the side

_SUPERSAMPLE = 4  # draw 4x larger, then downsample: anti-aliased edges


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        corners = [angle + math.pi / 4 + k * math.pi / 2 for k in range(4)]
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in corners]
    if shape == "triangle":
        corners = [angle - math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)]
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in corners]
    # star: five points, inner radius 0.45 r
    points = []
    for k in range(10):
        a = angle - math.pi / 2 + k * math.pi / 5
        rr = r if k % 2 == 0 else 0.45 * r
        points.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return points


def _jitter(rgb: tuple[int, int, int], rng: random.Random, amount: int = 20) -> tuple[int, int, int]:
    """A shade of a named colour: real photos never hold exactly eight colours, and a
    discriminator that can tell fakes by an exact palette wins too easily."""
    return tuple(min(255, max(0, c + rng.randint(-amount, amount))) for c in rgb)


def _background(rgb: tuple[int, int, int], big: int, rng: random.Random) -> Image.Image:
    """A background of one colour with a gentle linear shading in a random direction."""
    strength = rng.uniform(0.0, 0.25)
    angle = rng.uniform(0, 2 * math.pi)
    dx, dy = math.cos(angle), math.sin(angle)
    # The shading is drawn at 8x8 and enlarged: smooth, and cheap.
    ramp = Image.new("RGB", (8, 8))
    for y in range(8):
        for x in range(8):
            t = ((x - 3.5) * dx + (y - 3.5) * dy) / 5.0   # about -1 .. 1 across the image
            f = 1.0 + strength * t
            ramp.putpixel((x, y), tuple(min(255, max(0, round(c * f + 30 * strength * t))) for c in rgb))
    return ramp.resize((big, big), Image.BILINEAR)


def draw_shape(shape: str, colour: str, background: str, size: int, rng: random.Random,
               style: str = "varied", scale: str = "large") -> Image.Image:
    """One RGB image of ``shape`` in a shade of ``colour`` on a shaded ``background``,
    placed and turned by ``rng``; ``style="bold"`` or ``"prompts"``: upright, flat
    colours, ``scale`` small or large (bold: always large)."""
    big = size * _SUPERSAMPLE
    if style in ("bold", "prompts"):
        img = Image.new("RGB", (big, big), COLOURS[background])
        r = rng.uniform(*SIZES[scale]) * big              # large: the shape fills 72-88% of the side
        cx = big / 2 + rng.uniform(-0.04, 0.04) * big
        cy = big / 2 + rng.uniform(-0.04, 0.04) * big
        angle = rng.uniform(-0.25, 0.25)                  # upright, give or take 15 degrees
        fill = COLOURS[colour]
    else:
        img = _background(_jitter(COLOURS[background], rng), big, rng)
        r = rng.uniform(0.22, 0.38) * big                 # radius: the shape fills 44-76% of the side
        cx = big / 2 + rng.uniform(-0.1, 0.1) * big
        cy = big / 2 + rng.uniform(-0.1, 0.1) * big
        angle = rng.uniform(0, 2 * math.pi)
        fill = _jitter(COLOURS[colour], rng)
    draw = ImageDraw.Draw(img)
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, angle), fill=fill)
    return img.resize((size, size), Image.LANCZOS)


def make_shapes(out_dir, n: int = 2000, size: int = 32, seed: int = 0, style: str = "varied") -> Path:
    """Write ``n`` images of ``size`` x ``size`` pixels (classes balanced) to ``out_dir``; return it.

    ``style``: ``varied`` (the default) draws shapes of any size and turn in shades of
    eight colours on shaded backgrounds of the other seven; ``bold`` (the demo's) draws
    large, nearly upright shapes in one of five flat colours on a black or white
    background: data a small GAN learns on a CPU in minutes; ``prompts`` (text-to-image)
    adds a size: small or large shapes in seven flat colours on four backgrounds, each
    caption naming all four ("a small red star on a blue background").
    """
    try:
        n, size, seed = int(n), int(size), int(seed)
    except (TypeError, ValueError):
        raise ganforge.GanforgeError(f"shapes options n, size and seed take whole numbers, got n={n!r}, "
                                     f"size={size!r}, seed={seed!r}") from None
    if style not in STYLES:
        raise ganforge.GanforgeError(f"shapes option 'style' must be one of {', '.join(STYLES)}, got {style!r}")
    if n < 1:
        raise ganforge.GanforgeError(f"shapes option 'n' must be 1 or more, got {n}")
    if not 8 <= size <= 1024:
        raise ganforge.GanforgeError(f"shapes option 'size' must be between 8 and 1024 pixels, got {size}")
    out = Path(out_dir)
    options = {"dataset": "shapes", "n": n, "size": size, "seed": seed}
    if style != "varied":
        options["style"] = style  # (a default-style folder keeps the marker it always had)
    marker = out / "shapes.json"
    if out.exists():
        if marker.exists() and json.loads(marker.read_text()) == options:
            return out  # already made with these options
        if not out.is_dir() or any(out.iterdir()):
            raise ganforge.GanforgeError(
                f"{out} already exists and is not empty; choose another --out or delete it first"
            )
    rng = random.Random(seed)
    names, backgrounds = {"varied": (list(COLOURS), list(COLOURS)), "bold": BOLD_PALETTE,
                          "prompts": PROMPTS_PALETTE}[style]
    for shape in SHAPES:
        (out / shape).mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        colour = rng.choice(names)
        background = rng.choice([c for c in backgrounds if c != colour])
        scale = rng.choice(list(SIZES)) if style == "prompts" else "large"
        img = draw_shape(shape, colour, background, size, rng, style, scale)
        file_name = f"{shape}/{i:05d}.png"
        img.save(out / file_name, format="PNG")
        if style == "prompts":
            text = f"a {scale} {colour} {shape} on {_article(background)} {background} background"
        else:
            text = f"{_article(colour)} {colour} {shape} on {_article(background)} {background} background"
        row = {"file_name": file_name, "text": text, "shape": shape, "colour": colour, "background": background}
        rows.append({**row, "size": scale} if style == "prompts" else row)
    with (out / "metadata.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    marker.write_text(json.dumps(options) + "\n")  # written last: its presence means "complete"
    return out


def _article(word: str) -> str:
    """"an" before a vowel sound ("an orange square"), else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"
