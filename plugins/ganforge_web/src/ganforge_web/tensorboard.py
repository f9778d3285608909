"""TensorBoard logging through ganforge's lifecycle hooks (``--set tensorboard=true``).

Into ``RUN/tensorboard/``: every logged value of a step (``loss/d_loss``, ``loss/g_loss``,
``train/d_real`` ...) at the run's ``log_every``, the configuration as text at the start, and
each preview the loop writes (``preview`` image: the image grid or the spectrograms;
``preview_audio``: the audio; ``preview_text``: the listing) at its own step. The loop
writes a preview after ``ganforge_on_step_end``, so previews are picked up from ``samples/``
at the next step, at each checkpoint and at the end. A resumed run purges what the first
try logged after its checkpoint, as log.jsonl does. View with ``tensorboard --logdir RUN``.
"""

from __future__ import annotations

import math
from pathlib import Path

from . import runs

FOLDER = "tensorboard"
_loggers: dict[int, "Logger"] = {}


class Logger:
    def __init__(self, run):
        from torch.utils.tensorboard import SummaryWriter

        self.out = Path(run.out)
        # a resume continues after its checkpoint: events the first try wrote later are dropped
        self.writer = SummaryWriter(log_dir=str(self.out / FOLDER), purge_step=run.step + 1 if run.step else None)
        self.every = max(int(run.config.get("log_every") or 0), 1)
        self.sample_every = int(run.config.get("sample_every") or 0)
        self.done = {p.step for p in runs.previews(self.out) if p.step <= run.step}
        if not run.step:
            rows = "\n".join(f"| {k} | `{v}` |" for k, v in sorted(run.config.items()))
            self.writer.add_text("config", f"recipe **{run.recipe_name}**\n\n| option | value |\n|---|---|\n{rows}", 0)

    def step_end(self, step: int, logs: dict) -> None:
        if step % self.every == 0:
            for key, value in logs.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    self.writer.add_scalar(f"loss/{key}" if "loss" in key else f"train/{key}", value, step)
        if self.sample_every and step > 1 and (step - 1) % self.sample_every == 0:
            self.previews()  # the one written after the previous step

    def previews(self) -> None:
        for preview in runs.previews(self.out):
            if preview.step in self.done:
                continue
            self.done.add(preview.step)
            picture = preview.picture()
            if picture is not None:
                self.writer.add_image("preview", _picture(picture), preview.step, dataformats="HWC")
            if "wav" in preview.files:
                audio, rate = _audio(preview.files["wav"])
                self.writer.add_audio("preview_audio", audio, preview.step, sample_rate=rate)
            if "txt" in preview.files:
                lines = preview.files["txt"].read_text(encoding="utf-8", errors="replace").splitlines()[:64]
                self.writer.add_text("preview_text", "\n".join("    " + line for line in lines), preview.step)
        self.writer.flush()

    def close(self) -> None:
        self.previews()
        self.writer.close()


def _picture(path: Path):
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _audio(path: Path):
    """The first channel of a WAV file as a float tensor [1, frames], and its rate."""
    import soundfile
    import torch

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return torch.from_numpy(data[:, 0].copy()).clamp(-1, 1).unsqueeze(0), int(rate)


def start(run) -> None:
    _loggers[id(run)] = Logger(run)


def step_end(run, step: int, logs: dict) -> None:
    logger = _loggers.get(id(run))
    if logger is not None:
        logger.step_end(step, logs)


def flush_previews(run) -> None:
    logger = _loggers.get(id(run))
    if logger is not None:
        logger.previews()


def end(run) -> None:
    logger = _loggers.pop(id(run), None)
    if logger is not None:
        logger.close()
