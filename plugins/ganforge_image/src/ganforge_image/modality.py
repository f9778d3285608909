"""The image modality: folders of pictures (or CIFAR-10 batches) <-> uint8 tensors <-> PNG files.

What ``--data`` may be:

- a folder of PNG / JPEG / WebP / BMP files, searched recursively, any size and mode.
  Each image is resized so its shorter side is ``image_size`` and centre-cropped to a
  square, then converted to RGB (``channels=3``) or grayscale (``channels=1``);
  transparent pixels are composited onto white, 16-bit grayscale is scaled (not clipped)
  to 8 bits. An image over ``max_image_pixels`` pixels (a decompression bomb, or just too
  big) is skipped before it is decoded.
- class labels: when every image sits in a first-level sub-folder, the sub-folder
  names (sorted) are the classes (torchvision ``ImageFolder``); images directly in
  the folder are unlabelled.
- captions: ``metadata.jsonl`` / ``metadata.csv`` with ``file_name`` and ``text``
  columns beside the files (Hugging Face ``imagefolder``); they become the ``text``
  field of the data.
- a CIFAR-10 "python version" folder (``cifar-10-batches-py``: ``batches.meta``,
  ``data_batch_1`` .. ``data_batch_5``, ``test_batch``) as distributed by its authors.

The data is held in memory as uint8 [N, C, H, W] (a quarter of float32) and mapped
to float in [-1, 1] a batch at a time (``to_model``), the range of the generators' Tanh.
"""

from __future__ import annotations

import json

import pickle
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps

import ganforge

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")

CIFAR10_META = "batches.meta"

# Pillow's own threshold (about 9459 x 9459): 256 MiB of RGBA while decoding.
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485

def to_model(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels [0, 255] -> float32 in [-1, 1]."""
    return x.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] (clamped) -> uint8 pixels, on the CPU."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round_().to(torch.uint8)


def read_image(file: Path, size: int, channels: int, max_pixels: int) -> tuple[np.ndarray | None, str | None]:
    """(uint8 [channels, size, size], None), or (None, why it is skipped)."""
    try:
        with Image.open(file) as img:
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale when still >= size (much faster);
            # the size check below is on what will actually be decoded
            img.draft(None, (size, size))
            problem = _size_problem(img, max_pixels)
            if problem:
                return None, problem
            img.load()  # decode now: a truncated file fails here, not later
            img = ImageOps.exif_transpose(img)  # phone photos: upright as viewers show them
            return ganforge.fit_square(img, size, channels), None
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
        return None, str(e).splitlines()[0] if str(e) else type(e).__name__


def _size_problem(img: Image.Image, limit: int) -> str | None:
    """Why an opened (not yet decoded) image is not decoded, or None. ``Image.open`` reads
    only the header, so a huge image is refused here before it costs any memory."""
    w, h = img.size
    if w < 1 or h < 1:
        return f"has no pixels ({w}x{h})"
    if w * h > limit:
        return (f"too large: {w}x{h} = {w * h:,} pixels > max_image_pixels {limit:,}; "
                "raise max_image_pixels to read it")
    return None


@contextmanager
def _pillow_bomb_check_off():
    """Pillow's own check (a DecompressionBombWarning over 89M pixels, an error over twice
    that) runs inside Image.open and would leak a warning or ignore ``max_image_pixels``;
    the loader checks every size itself, so Pillow's global is lifted while it reads."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


# ----------------------------------------------------------------------------- CIFAR-10


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, nothing else.

    The CIFAR "python version" batches are pickles, and unpickling runs whatever code a
    pickle names. A folder that merely *looks* like CIFAR-10 could carry such a file,
    so only the globals a numpy array needs are allowed; any other one is refused.
    """

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),  # how Python 3 writes bytes at protocol 2 (str -> bytes, harmless)
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def _unpickle(path: Path) -> dict:
    with path.open("rb") as f:
        # encoding="bytes": the batches were written by Python 2; keys come back as bytes.
        obj = _ArrayUnpickler(f, encoding="bytes").load()
    if not isinstance(obj, dict):
        raise pickle.UnpicklingError("not a dict")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}


def is_cifar10_folder(path: Path) -> bool:
    """The layout of ``cifar-10-batches-py``: batches.meta and data_batch_N / test_batch files."""
    return (path.is_dir() and (path / CIFAR10_META).is_file()
            and (any(path.glob("data_batch_*")) or (path / "test_batch").is_file()))


def read_cifar10(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(uint8 images [N, 3, 32, 32], labels [N], class names) of the training batches
    (``test_batch`` only when there is no training batch)."""
    try:
        meta = _unpickle(path / CIFAR10_META)
        classes = [c.decode() if isinstance(c, bytes) else str(c) for c in meta["label_names"]]
    except (OSError, pickle.UnpicklingError, KeyError, EOFError, ValueError, TypeError) as e:
        raise ganforge.GanforgeError(f"{path / CIFAR10_META} is not a CIFAR-10 batches.meta file ({e})") from None
    files = sorted(path.glob("data_batch_*")) or [path / "test_batch"]
    report = ganforge.DataReport("CIFAR-10 batch")
    images, labels = [], []
    for file in files:
        try:
            batch = _unpickle(file)
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            lab = np.asarray(batch["labels"], dtype=np.int64)
            if len(lab) != len(data) or (len(lab) and (lab.min() < 0 or lab.max() >= len(classes))):
                raise ValueError("labels do not match the data")
        except (OSError, pickle.UnpicklingError, KeyError, EOFError, ValueError, TypeError) as e:
            report.skip(file, str(e))
            continue
        images.append(data)
        labels.append(lab)
    report.finish(len(images), path)
    return np.concatenate(images), np.concatenate(labels), classes


# ----------------------------------------------------------------------------- the modality


class ImageModality(ganforge.Modality):
    result_kind = "images"
    """Images as uint8 [N, C, H, W] in memory, float [-1, 1] in the model, PNG on disk."""

    file_kind = "PNG"

    @property
    def image_size(self) -> int:
        return int(self.config.get("image_size", 64))

    @property
    def channels(self) -> int:
        return int(self.config.get("channels", 3))

    @property
    def max_image_pixels(self) -> int:
        return int(self.config.get("max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS))

    def _check_options(self) -> None:
        if self.channels not in (1, 3):
            raise ganforge.GanforgeError(f"option 'channels' must be 3 (RGB) or 1 (grayscale), got {self.channels}")
        if self.image_size < 1:
            raise ganforge.GanforgeError(f"option 'image_size' must be positive, got {self.image_size}")
        if self.max_image_pixels < 1:
            raise ganforge.GanforgeError(
                f"option 'max_image_pixels' must be positive, got {self.max_image_pixels}")

    # -------------------------------------------------------------- reading

    def load(self, path) -> ganforge.SampleSet:
        self._check_options()
        root = Path(path)
        if is_cifar10_folder(root):
            return self._load_cifar10(root)
        files = ganforge.data_files(root, IMAGE_EXTENSIONS, "image")
        base = root if root.is_dir() else root.parent
        report = ganforge.DataReport("image")
        pixels, kept = [], []
        streamed = bool(self.config.get("stream", False))
        with _pillow_bomb_check_off():
            for file in files:
                # streamed: only the header now (cheap: size, format); the pixels per batch
                array, problem = self._check_header(file) if streamed else self._read(file)
                if problem:
                    report.skip(file, problem)
                    continue
                pixels.append(array)
                kept.append(file)
        report.finish(len(kept), root)
        if streamed:
            reader = _StreamedReader(self)
            fields: dict = {"x": ganforge.StreamedSamples(kept, reader, key=reader.key)}
        else:
            fields = {"x": torch.from_numpy(np.stack(pixels))}

        # Labels only when every image is in a class sub-folder (as ImageFolder requires).
        folders = [ganforge.class_of(f, base) for f in kept] if root.is_dir() else [None]
        classes: list[str] = []
        if all(folders):
            classes = sorted(set(folders))
            index = {c: i for i, c in enumerate(classes)}
            fields["label"] = torch.tensor([index[c] for c in folders], dtype=torch.long)
        elif any(folders):
            n_root = sum(c is None for c in folders)
            print(f"warning: {n_root} image(s) lie directly in {root}, outside any class sub-folder; "
                  "the data is treated as unlabelled", file=sys.stderr)

        captions = ganforge.read_captions(base, recursive=root.is_dir())
        n_captions = 0
        if captions:
            texts = [captions.get(f.relative_to(base).as_posix()) for f in kept]
            n_captions = sum(t is not None for t in texts)
            if n_captions < len(kept):
                print(f"warning: {len(kept) - n_captions} of {len(kept)} images have no caption in "
                      f"metadata.jsonl/metadata.csv; they get an empty caption", file=sys.stderr)
            if n_captions:
                fields["text"] = [t or "" for t in texts]

        self.state = {"source": "folder", "classes": classes, "n_images": len(kept), "n_captions": n_captions}
        return ganforge.SampleSet(fields, to_model=to_model)

    def _check_header(self, file: Path) -> tuple[None, str | None]:
        """(None, why it is skipped) from the header alone, for streamed data."""
        try:
            with Image.open(file) as img:
                img.draft(None, (self.image_size, self.image_size))
                return None, _size_problem(img, self.max_image_pixels)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as e:
            return None, str(e).splitlines()[0] if str(e) else type(e).__name__

    def _read(self, file: Path) -> tuple[np.ndarray | None, str | None]:
        return read_image(file, self.image_size, self.channels, self.max_image_pixels)

    def _load_cifar10(self, root: Path) -> ganforge.SampleSet:
        data, labels, classes = read_cifar10(root)
        x = torch.from_numpy(data)
        if self.channels == 1:
            # ITU-R 601-2 luma, the formula PIL's convert("L") uses.
            w = torch.tensor([299, 587, 114], dtype=torch.int32).view(1, 3, 1, 1)
            x = ((x.to(torch.int32) * w).sum(1, keepdim=True) + 500).div(1000, rounding_mode="floor").to(torch.uint8)
        if self.image_size != 32:
            from torchvision.transforms.v2 import functional as TF

            x = TF.resize(x, [self.image_size, self.image_size], antialias=True)
        self.state = {"source": "cifar10", "classes": classes, "n_images": len(x), "n_captions": 0}
        return ganforge.SampleSet({"x": x.contiguous(), "label": torch.from_numpy(labels)}, to_model=to_model)

    def derived_config(self) -> dict:
        return {"channels": self.channels, "image_size": self.image_size, "n_classes": len(self.class_names())}

    # -------------------------------------------------------------- writing

    def save_samples(self, x: torch.Tensor, out_dir, names: Sequence[str], metadata: Sequence[dict] = (),
                     append: bool = False) -> list[Path]:
        """One PNG per sample; its ``metadata`` (seed, class, run ...) goes into a
        ``ganforge`` text chunk, so the file says how to make it again."""
        from PIL import PngImagePlugin

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pixels = to_uint8(x)
        if len(names) != len(pixels):
            raise ValueError(f"{len(pixels)} samples but {len(names)} names")
        paths = []
        for i, (img, name) in enumerate(zip(pixels, names)):
            path = out / f"{name}.png"
            info = PngImagePlugin.PngInfo()
            if i < len(metadata):
                info.add_text("ganforge", json.dumps(metadata[i]))
            _to_pil(img).save(path, format="PNG", pnginfo=info)
            paths.append(path)
        return paths

    def to_user(self, x: torch.Tensor) -> list:
        """PIL images."""
        return [_to_pil(img) for img in to_uint8(x)]

    def save_preview(self, x: torch.Tensor, path, labels: Sequence[str] | None = None) -> list[Path]:
        """A PNG grid of ``x``: near-square, or with ``labels`` (one per sample, such as
        class names) one row per label, in order of first appearance, named on the left."""
        from torchvision.utils import make_grid

        path = Path(path)
        path = path.with_name(path.name + ".png") if path.suffix.lower() != ".png" else path
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = to_uint8(x)
        if labels is not None:
            _labelled_grid(pixels, [str(v) for v in labels]).save(path, format="PNG")
            return [path]
        nrow = max(1, int(len(pixels) ** 0.5 + 0.999))  # near-square grid
        grid = make_grid(pixels, nrow=nrow, padding=2, pad_value=255)
        if pixels.shape[1] == 1:
            grid = grid[:1]  # make_grid repeats one channel to three; keep it gray
        _to_pil(grid).save(path, format="PNG")
        return [path]

    # -------------------------------------------------------------- metrics

    def feature_space(self, real: ganforge.SampleSet, spec: str | None = None):
        from .features import image_feature_space

        return image_feature_space(real, spec, channels=self.channels)


def _labelled_grid(pixels: torch.Tensor, labels: list[str]) -> Image.Image:
    """uint8 images [N, C, H, W] -> one row per distinct label (first-appearance order),
    the label written left of its row; small images are enlarged to at least 64 px so
    that the names and the pictures read at the same size."""
    from PIL import ImageDraw, ImageFont

    if len(labels) != len(pixels):
        raise ValueError(f"{len(pixels)} samples but {len(labels)} labels")
    rows: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        rows.setdefault(label, []).append(i)
    h, w = pixels.shape[2:]
    scale = max(1, -(-64 // max(h, w)))  # ceil(64 / side)
    ch, cw, pad = h * scale, w * scale, 2
    try:
        font = ImageFont.load_default(size=max(12, ch // 4))
    except TypeError:  # Pillow < 10.1: one bitmap size
        font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_w = max(probe.textlength(label, font=font) for label in rows) + 3 * pad
    left = int(text_w)
    ncol = max(len(v) for v in rows.values())
    grid = Image.new("RGB", (left + ncol * (cw + pad) + pad, len(rows) * (ch + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for r, (label, index) in enumerate(rows.items()):
        y = pad + r * (ch + pad)
        draw.text((pad, y + ch // 2), label, fill=(0, 0, 0), font=font, anchor="lm")
        for c, i in enumerate(index):
            img = _to_pil(pixels[i]).convert("RGB")
            grid.paste(img.resize((cw, ch), Image.NEAREST), (left + c * (cw + pad), y))
    return grid


def _to_pil(img: torch.Tensor) -> Image.Image:
    arr = img.numpy()
    return Image.fromarray(arr[0]) if arr.shape[0] == 1 else Image.fromarray(arr.transpose(1, 2, 0))


class _StreamedReader:
    """One image file -> uint8 [channels, size, size], for streamed data (``--set stream=true``):
    called per batch, in the data workers. A file that stopped decoding since the data
    was scanned is an error naming it."""

    def __init__(self, modality: ImageModality):
        self.image_size, self.channels = modality.image_size, modality.channels
        self.max_image_pixels = modality.max_image_pixels
        self.key = f"image size={self.image_size} channels={self.channels}"

    def __call__(self, file) -> torch.Tensor:
        with _pillow_bomb_check_off():
            array, problem = read_image(Path(file), self.image_size, self.channels, self.max_image_pixels)
        if problem:
            raise ganforge.GanforgeError(f"{file} could not be read while training ({problem}); "
                                         f"fix or remove it and resume with --resume")
        return torch.from_numpy(array.copy())  # PIL's pixels are read-only
