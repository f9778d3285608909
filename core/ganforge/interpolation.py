"""Interpolation between conditions (prompts or classes) of a conditional run, at one seed.

    pipe = ganforge.load("shapes-t2i")
    result = interpolate_conditions(pipe, ["a red star", "a blue circle"], steps=8, seed=3)
    write_interpolation(result, "interp/")   # frames + metadata.jsonl; a strip and an animated
                                            # WebP for images, one WAV of the clips in turn for audio

    ganforge generate shapes-t2i --prompt "a red star" --prompt "a blue circle" --interpolate 8 --out interp/

The latent is the one ``generate(seeds=[seed])`` draws; only the condition embedding
moves, linearly, from each value to the next, so what changes along the way is what the
condition controls.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .errors import GanforgeError
from .pipeline import GenerationResult, _out_folder, _write_batch

STRIP_FRAMES = 16  # frames in the PNG strip at most (the animation has all of them)
CLIP_GAP_S = 0.15  # silence between clips in the joined WAV


def interpolate_conditions(pipe, values, steps: int = 8, seed: int = 0, batch_size: int = 64,
                           **options) -> GenerationResult:
    """Frames from each of ``values`` (prompts, or class names of a class-conditional run) to
    the next, ``steps`` per pair, ending on the last value; one latent (``seed``) throughout."""
    encoder = pipe.encoder
    if encoder is None:
        raise GanforgeError(f"this run ({pipe.recipe}) is unconditional: interpolate between seeds instead "
                            "(ganforge interpolate RUN --seeds 1,5 for image runs)")
    values = [values] if isinstance(values, str) else list(values or [])
    if len(values) < 2:
        raise GanforgeError(f"interpolation needs two or more --{encoder.user_option} values, got {len(values)}")
    steps = int(steps)
    if steps < 1:
        raise GanforgeError(f"--interpolate takes the number of frames from one {encoder.user_option} to the next "
                            f"(1 or more), got {steps}")
    gen_options, save_options = pipe._split_options(options)
    with torch.no_grad():
        fields = encoder.from_user(values, pipe.modality)  # validates every value
        embedded = encoder(fields.to(pipe.device) if isinstance(fields, torch.Tensor) else fields)
        path, where = [], []
        for i in range(len(values) - 1):
            for j in range(steps + (1 if i == len(values) - 2 else 0)):
                t = j / steps
                path.append(torch.lerp(embedded[i], embedded[i + 1], t))
                where.append((i, t))
        path = torch.stack(path)
        z = pipe.generator.sample_latent(1, generator=torch.Generator().manual_seed(int(seed)))
        chunks = []
        for start in range(0, len(path), batch_size):
            cond = path[start:start + batch_size]
            latents = z.expand(len(cond), *z.shape[1:]).to(pipe.device)
            x = pipe.generator.generate(len(cond), cond=cond, latents=latents, **gen_options)
            chunks.append(x.float().cpu() if x.is_floating_point() else x.cpu())
    key = encoder.user_option
    records = [{"run": str(pipe.run_dir), "recipe": pipe.recipe, "seed": int(seed), "index": k,
                key: values[i], f"{key}_to": values[i + 1], "t": round(t, 6), "options": dict(gen_options)}
               for k, (i, t) in enumerate(where)]
    return GenerationResult(torch.cat(chunks), records, pipe.modality, save_options)


def write_interpolation(result: GenerationResult, out_dir, prefix: str = "frame", fmt: str = "webp",
                        fps: int = 8) -> list[Path]:
    """Every frame as a file with its ``metadata.jsonl`` line (prompt, next prompt, t, seed),
    plus ``interpolation.png`` (a strip) and ``interpolation.webp``/``.gif`` for images, or
    ``interpolation.wav`` (the clips one after another) for audio."""
    out = _out_folder(out_dir)
    with open(out / "metadata.jsonl", "w", encoding="utf-8") as meta:
        paths = _write_batch(result.modality, result.samples, result.records, 0, out, prefix,
                             result.save_options, meta)
    kind = getattr(result.modality, "result_kind", None)
    if kind == "images":
        paths += list(write_animation(result.images, out, fmt, fps))
    elif kind == "audio":
        paths.append(_write_clips(result.audio, result.sample_rate, out / "interpolation.wav"))
    return paths


def write_animation(frames, out_dir, fmt: str = "webp", fps: int = 8, strip_frames: int = STRIP_FRAMES,
                    pad: int = 2) -> tuple[Path, Path]:
    """PIL ``frames`` as ``interpolation.png`` (a strip of at most ``strip_frames`` evenly
    spaced frames) and an animated, looping ``interpolation.webp`` or ``.gif`` of all of them
    (GIF when this Pillow lacks WebP). Returns (strip path, animation path)."""
    from PIL import Image, features

    if fmt not in ("webp", "gif"):
        raise GanforgeError(f"the animation format is webp or gif, got {fmt!r}")
    if int(fps) < 1:
        raise GanforgeError(f"--fps must be 1 or more, got {fps}")
    if fmt == "webp" and not features.check_module("webp"):
        fmt = "gif"  # this Pillow was built without WebP
    out = _out_folder(out_dir)
    k = min(len(frames), max(2, int(strip_frames)))
    picks = sorted({round(i * (len(frames) - 1) / max(k - 1, 1)) for i in range(k)})
    w, h = frames[0].size
    strip = Image.new("RGB", (len(picks) * (w + pad) - pad, h), "white")
    for col, i in enumerate(picks):
        strip.paste(frames[i].convert("RGB"), (col * (w + pad), 0))
    strip_path, anim_path = out / "interpolation.png", out / f"interpolation.{fmt}"
    strip.save(strip_path)
    rgb = [f.convert("RGB") for f in frames]
    extra = {"lossless": True} if fmt == "webp" else {}
    rgb[0].save(anim_path, save_all=True, append_images=rgb[1:], duration=int(1000 / int(fps)), loop=0, **extra)
    return strip_path, anim_path


def _write_clips(clips, sample_rate: int, path: Path) -> Path:
    import numpy as np
    import soundfile

    channels = clips[0].shape[1] if clips[0].ndim == 2 else 1
    gap = np.zeros((int(CLIP_GAP_S * sample_rate), channels), dtype=np.float32)
    parts = []
    for clip in clips:
        parts += [clip.reshape(len(clip), channels).astype(np.float32), gap]
    soundfile.write(str(path), np.concatenate(parts[:-1]), sample_rate, subtype="PCM_16")
    return path
