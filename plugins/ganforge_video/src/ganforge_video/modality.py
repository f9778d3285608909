"""The video modality: clips on disk <-> uint8 [N, C, T, H, W] in memory <-> GIF / WebP / MP4.

What ``--data`` may be (searched recursively, hidden files left out):

- a folder of frame images (PNG, JPEG, BMP), sorted by name: one clip per folder;
- a video file: GIF and animated WebP are decoded with Pillow (always available);
  MP4, AVI, WebM, MOV and MKV with PyAV (``pip install av``) when it is installed;
  without it such files are skipped, counted in one warning that says what to install.
- class labels: when every clip sits below a first-level sub-folder, the sub-folder
  names (sorted) are the classes (as torchvision's ImageFolder); a clip folder directly
  under ``--data`` is unlabelled.

Each clip gives its first ``frames`` frames (every ``frame_step``-th one), up to
``clips_per_file`` non-overlapping windows of them; a clip that is too short is skipped
with the reason. Every frame is resized so its shorter side is ``frame_size`` and
centre-cropped square. Samples are float in [-1, 1] in the model, the range of Tanh.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

import ganforge

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
PILLOW_VIDEO = (".gif", ".webp")
PYAV_VIDEO = (".mp4", ".avi", ".webm", ".mov", ".mkv")
VIDEO_EXTENSIONS = PILLOW_VIDEO + PYAV_VIDEO
FORMATS = ("gif", "webp", "mp4", "png")


def has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def to_model(x: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 in [-1, 1]."""
    return x.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Model space [-1, 1] (clamped) -> uint8, on the CPU."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round_().to(torch.uint8)


# ----------------------------------------------------------------------------- reading


def _frames_from_folder(files: list[Path], needed: int):
    for file in files[:needed]:
        with Image.open(file) as img:
            img.load()
            yield file.name, img


def _frames_from_pillow(path: Path, needed: int):
    """GIF / WebP frames at the clip's frame rate: GIF writers (Pillow's too) merge identical
    consecutive frames into one shown longer, so a frame held for k times the shortest
    duration is given k times."""
    with Image.open(path) as img:
        durations = []
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            img.load()  # WebP sets a frame's duration only once it is decoded
            durations.append(int(img.info.get("duration") or 0))
        base = min((d for d in durations if d > 0), default=0)
        given = 0
        for i, duration in enumerate(durations):
            if given >= needed:
                break
            img.seek(i)
            frame = img.copy()
            for _ in range(max(1, round(duration / base)) if base else 1):
                yield f"frame {i}", frame
                given += 1


def _frames_from_pyav(path: Path, needed: int):
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("has no video stream")
        for i, frame in enumerate(container.decode(video=0)):
            if i >= needed:
                break
            yield f"frame {i}", frame.to_image()


class VideoModality(ganforge.Modality):
    """Clips as uint8 [N, C, T, H, W] in memory, float [-1, 1] in the model, GIF/WebP on disk."""

    file_kind = "GIF"
    # GenerationResult has no `videos`; the kit allows images, audio or texts only, so
    # clips are reached with result.objects (PIL frames per sample).
    result_kind = None
    generation_options = ("fps", "formats", "scale")
    default_metrics = ("fd", "kid")

    def _option(self, key: str, default: int, low: int = 1) -> int:
        value = self.config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < low:
            raise ganforge.GanforgeError(f"option '{key}' must be a whole number >= {low}, got {value!r}")
        return int(value)

    @property
    def frames(self) -> int:
        return self._option("frames", 16)

    @property
    def frame_size(self) -> int:
        return self._option("frame_size", 32)

    @property
    def channels(self) -> int:
        channels = self._option("channels", 3)
        if channels not in (1, 3):
            raise ganforge.GanforgeError(f"option 'channels' must be 3 (RGB) or 1 (grayscale), got {channels}")
        return channels

    def load(self, path) -> ganforge.SampleSet:
        root = Path(path)
        frames, step, windows = self.frames, self._option("frame_step", 1), self._option("clips_per_file", 1)
        size, channels = self.frame_size, self.channels
        if root.is_file() and root.suffix.lower() in FRAME_EXTENSIONS:
            raise ganforge.GanforgeError(f"{root} is one image, not a clip: point --data at a folder of frame "
                                         f"images (one clip) or of clips")
        files = ganforge.data_files(root, FRAME_EXTENSIONS + VIDEO_EXTENSIONS,
                                    "video (frame images in clip folders, or video files)")
        clips: dict[Path, list[Path] | None] = {}  # clip path -> its frame files (None: a video file)
        for file in files:
            if file.suffix.lower() in FRAME_EXTENSIONS:
                clips.setdefault(file.parent, []).append(file)
            else:
                clips[file] = None
        base = root if root.is_dir() else root.parent
        report = ganforge.DataReport("video clip")
        pixels, owners = [], []
        span = frames * step
        for clip in sorted(clips):
            try:
                got = self._read(clip, clips[clip], span * windows, size, channels)
            except Exception as e:  # noqa: BLE001 - any decoder error skips this clip, named with the reason
                report.skip(clip, f"{type(e).__name__}: {e}" if not str(e) else str(e))
                continue
            if isinstance(got, str):
                report.skip(clip, got)
                continue
            if len(got) < span:
                report.skip(clip, f"has {len(got)} frame(s); frames={frames} x frame_step={step} needs {span} "
                                  f"(lower --set frames=)", kind="too short")
                continue
            for w in range(min(windows, len(got) // span)):
                pixels.append(np.stack(got[w * span:(w + 1) * span:step]))
                owners.append(clip)
        report.finish(len(owners), root)
        # [N, T, H, W, C] -> [N, C, T, H, W], the layout of 3-D convolutions
        fields: dict = {"x": torch.from_numpy(np.stack(pixels)).permute(0, 4, 1, 2, 3).contiguous()}
        folders = [ganforge.class_of(c, base) if c != base else None for c in owners]
        classes: list[str] = []
        if all(folders):
            classes = sorted(set(folders))
            fields["label"] = torch.tensor([classes.index(c) for c in folders], dtype=torch.long)
        elif any(folders):
            print(f"warning: {sum(c is None for c in folders)} clip(s) lie directly in {root}, outside any class "
                  "sub-folder; the data is treated as unlabelled", file=sys.stderr)
        self.state = {"classes": classes, "n_clips": len(owners)}
        return ganforge.SampleSet(fields, to_model=to_model)

    @staticmethod
    def _read(clip: Path, frame_files: list[Path] | None, needed: int, size: int, channels: int):
        """Up to ``needed`` frames as uint8 [H, W, C] arrays, or a string saying why the clip is skipped."""
        suffix = clip.suffix.lower()
        if frame_files is not None:
            source = _frames_from_folder(frame_files, needed)
        elif suffix in PILLOW_VIDEO:
            source = _frames_from_pillow(clip, needed)
        elif has_pyav():
            source = _frames_from_pyav(clip, needed)
        else:
            return f"decoding {suffix} files needs PyAV: pip install av (GIF and WebP need nothing)"
        out = []
        for where, img in source:
            try:
                out.append(ganforge.fit_square(img, size, channels).transpose(1, 2, 0))  # [H, W, channels]
            except (OSError, ValueError) as e:
                raise ValueError(f"{where}: {e}") from None
        if not out:
            return "holds no frames"
        return out

    def derived_config(self) -> dict:
        return {"frames": self.frames, "frame_size": self.frame_size, "channels": self.channels,
                "n_classes": len(self.class_names())}

    def feature_space(self, real, spec: str | None = None):
        """``video-stats-v1`` (the only one): scene and motion statistics, see :mod:`ganforge_video.features`."""
        from .features import NAME, video_stats

        if spec not in (None, "", "stats", NAME):
            raise ganforge.GanforgeError(f"--features {spec!r}: the video modality has one feature space, 'stats' "
                                         f"({NAME})")
        return NAME, video_stats

    # ----------------------------------------------------------------------------- writing

    def to_user(self, x: torch.Tensor, scale: int = 1, **_) -> list[list[Image.Image]]:
        """Each clip as a list of PIL frames (enlarged ``scale`` times, nearest neighbour)."""
        scale = _whole("scale", scale)
        clips = []
        for clip in to_uint8(x):  # [C, T, H, W]
            frames = [_pil(frame) for frame in clip.permute(1, 0, 2, 3)]
            if scale > 1:
                frames = [f.resize((f.width * scale, f.height * scale), Image.NEAREST) for f in frames]
            clips.append(frames)
        return clips

    def save_samples(self, x: torch.Tensor, out_dir, names: Sequence[str], metadata: Sequence[dict] = (),
                     append: bool = False, fps: float = 8, formats: str = "auto", scale: int = 1) -> list[Path]:
        """Per clip: an animated GIF and WebP, an MP4 when PyAV is installed, and a PNG strip
        of its frames (``formats``: a comma list of gif, webp, mp4, png; ``auto``: all that
        can be written). The clip's metadata goes into the GIF comment and the PNG text
        chunk ``ganforge``. Returns the first format's file per clip."""
        from PIL import PngImagePlugin

        kinds = _formats(formats)
        fps = float(fps)
        if not 0 < fps <= 100:
            raise ganforge.GanforgeError(f"fps must be above 0 and at most 100, got {fps}")
        if len(names) != len(x):
            raise ValueError(f"{len(x)} samples but {len(names)} names")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        duration = round(1000 / fps)
        paths = []
        for i, (frames, name) in enumerate(zip(self.to_user(x, scale=scale), names)):
            note = json.dumps(metadata[i]) if i < len(metadata) else ""
            written = []
            for kind in kinds:
                path = out / f"{name}.{kind}"
                if kind == "gif":
                    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration, loop=0,
                                   comment=note.encode())
                elif kind == "webp":
                    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration, loop=0,
                                   lossless=True)
                elif kind == "mp4":
                    write_mp4(frames, path, fps)
                else:
                    info = PngImagePlugin.PngInfo()
                    if note:
                        info.add_text("ganforge", note)
                    strip(frames).save(path, pnginfo=info)
                written.append(path)
            paths.append(written[0])
        return paths

    def save_preview(self, x: torch.Tensor, path, labels: Sequence[str] | None = None) -> list[Path]:
        """``path``.png: one row of frames per clip (its class on the left when ``labels``
        are given), and ``path``.gif: every clip playing at once in a near-square tile."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        clips = self.to_user(x, scale=max(1, -(-64 // self.frame_size_of(x))))
        png, gif = path.with_name(path.name + ".png"), path.with_name(path.name + ".gif")
        frame_grid(clips, labels).save(png)
        tiles = tile_clips(clips)
        tiles[0].save(gif, save_all=True, append_images=tiles[1:], duration=125, loop=0)
        return [png, gif]

    @staticmethod
    def frame_size_of(x: torch.Tensor) -> int:
        return int(x.shape[-1])


def _whole(name: str, value) -> int:
    try:
        v = int(value)
    except (TypeError, ValueError):
        v = 0
    if v < 1 or v != float(value):
        raise ganforge.GanforgeError(f"{name} must be a whole number >= 1, got {value!r}")
    return v


def _formats(formats) -> list[str]:
    if formats in ("auto", None, ""):
        return ["gif", "webp", "png"] + (["mp4"] if has_pyav() else [])
    kinds = [k.strip().lower() for k in (formats.split(",") if isinstance(formats, str) else formats)]
    bad = [k for k in kinds if k not in FORMATS]
    if bad or not kinds:
        raise ganforge.GanforgeError(f"formats takes a comma list of {', '.join(FORMATS)} (or auto), got {formats!r}")
    if "mp4" in kinds and not has_pyav():
        raise ganforge.GanforgeError("writing MP4 needs PyAV: pip install av (or choose formats=gif,webp,png)")
    return list(dict.fromkeys(kinds))


def _pil(frame: torch.Tensor) -> Image.Image:
    arr = frame.numpy()  # [C, H, W]
    return Image.fromarray(arr[0]) if arr.shape[0] == 1 else Image.fromarray(arr.transpose(1, 2, 0))


def write_mp4(frames: list[Image.Image], path: Path, fps: float) -> None:
    """H.264 (yuv420p, what every player opens) through PyAV; odd sizes are padded by one pixel."""
    from fractions import Fraction

    import av

    w, h = frames[0].size
    even = (w + w % 2, h + h % 2)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = even[0], even[1], "yuv420p"
        stream.options = {"crf": "18"}
        for img in frames:
            img = img.convert("RGB")
            if img.size != even:
                padded = Image.new("RGB", even)
                padded.paste(img)
                img = padded
            container.mux(stream.encode(av.VideoFrame.from_image(img)))
        container.mux(stream.encode())


def strip(frames: list[Image.Image], pad: int = 1) -> Image.Image:
    """The frames of one clip side by side."""
    w, h = frames[0].size
    out = Image.new("RGB", (len(frames) * (w + pad) - pad, h), (255, 255, 255))
    for t, f in enumerate(frames):
        out.paste(f.convert("RGB"), (t * (w + pad), 0))
    return out


def frame_grid(clips: list[list[Image.Image]], labels: Sequence[str] | None = None, pad: int = 2) -> Image.Image:
    """One row per clip, its frames left to right; ``labels`` written left of the rows."""
    from PIL import ImageDraw, ImageFont

    w, h = clips[0][0].size
    left = 0
    if labels is not None:
        try:
            font = ImageFont.load_default(size=max(12, h // 4))
        except TypeError:  # Pillow < 10.1
            font = ImageFont.load_default()
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        left = int(max(probe.textlength(str(label), font=font) for label in labels)) + 3 * pad
    n_frames = max(len(c) for c in clips)
    grid = Image.new("RGB", (left + n_frames * (w + pad) + pad, len(clips) * (h + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for r, frames in enumerate(clips):
        y = pad + r * (h + pad)
        if labels is not None:
            draw.text((pad, y + h // 2), str(labels[r]), fill=(0, 0, 0), font=font, anchor="lm")
        grid.paste(strip(frames, pad), (left + pad, y))
    return grid


def tile_clips(clips: list[list[Image.Image]], pad: int = 2) -> list[Image.Image]:
    """The clips in a near-square tile, as one list of frames."""
    w, h = clips[0][0].size
    ncol = max(1, int(len(clips) ** 0.5 + 0.999))
    nrow = -(-len(clips) // ncol)
    out = []
    for t in range(max(len(c) for c in clips)):
        tile = Image.new("RGB", (ncol * (w + pad) + pad, nrow * (h + pad) + pad), (255, 255, 255))
        for i, frames in enumerate(clips):
            tile.paste(frames[min(t, len(frames) - 1)].convert("RGB"),
                       (pad + (i % ncol) * (w + pad), pad + (i // ncol) * (h + pad)))
        out.append(tile)
    return out
