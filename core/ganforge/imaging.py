"""Frames from PIL images, the way every image-like modality reads them (images, video
frames): any mode to RGB, transparency onto white, the shorter side resized to the
model's size and the centre cropped square. Public as ``ganforge.fit_square``."""

from __future__ import annotations

import numpy as np
from PIL import Image

#: PIL modes of more than 8 bits of grey
_HIGH_DEPTH_GRAY = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _gray8(img: Image.Image) -> Image.Image:
    """16-bit grayscale ("I;16*", or "I" as older Pillow reads 16-bit PNGs) -> "L",
    0..65535 scaled to 0..255 (rounded)."""
    arr = np.asarray(img).astype(np.int64).clip(0, 65535)
    return Image.fromarray(((arr * 255 + 32767) // 65535).astype(np.uint8), mode="L")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is composited onto white (not black)."""
    if img.mode in _HIGH_DEPTH_GRAY:
        img = _gray8(img)
    # a tRNS colour key ("transparency" in info) makes pixels of an L, RGB or P image transparent too
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def fit_square(img: Image.Image, size: int, channels: int = 3) -> np.ndarray:
    """Resize the shorter side to ``size``, centre-crop, convert: uint8 ``[channels, size, size]``
    (``channels`` 3 for RGB, 1 for grey). LANCZOS when shrinking (anti-aliasing), BICUBIC
    when enlarging. A frame without pixels is a ValueError."""
    img = to_rgb(img)
    w, h = img.size
    if w < 1 or h < 1:
        raise ValueError(f"an image has no pixels ({w}x{h})")
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.LANCZOS if scale < 1 else Image.BICUBIC)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    img = img.crop((left, top, left + size, top + size))
    if channels == 1:
        img = img.convert("L")
    arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
