"""What the page asks of a model, without the page: load it once, say which controls it has,
and generate into a folder of the server's own (never into the run), with one ZIP per sample
that holds its file(s) and its ``metadata.jsonl`` line.

Python::

    from ganforge_web.generation import Models
    models = Models(cache="/tmp/ganforge-serve")
    made = models.generate("shapes-t2i", n=4, seed=0, prompt="a small red star on a blue background")
    made.files, made.downloads, made.records
"""

from __future__ import annotations

import inspect
import json
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import ganforge

MAX_SAMPLES = 64


@dataclass
class ModelInfo:
    """The controls a model has on the page."""

    name: str
    kind: str  # "images", "audio", "texts", or another modality's own kind
    recipe: str
    condition: str | None  # "prompt", "class" or None
    classes: list[str] = field(default_factory=list)
    truncation: bool = False
    temperature: bool = False
    step: int | None = None

    def describe(self) -> str:
        made = {"images": "images", "audio": "sounds", "texts": "text"}.get(self.kind, self.kind)
        cond = {"prompt": ", from a prompt", "class": f", by class ({', '.join(self.classes)})"}.get(self.condition or "", "")
        trained = f", trained {self.step} steps" if self.step else ""
        return f"**{self.recipe}**: makes {made}{cond}{trained}"


@dataclass
class Made:
    """One request's results: the sample files (PNG/WAV/TXT), for audio the spectrogram
    pictures, per sample a ZIP download, and the metadata.jsonl lines."""

    folder: Path
    kind: str
    files: list[Path]
    pictures: list[Path | None]
    texts: list[str]
    records: list[dict]
    downloads: list[Path]
    seconds: float = 0.0


def _options_of(generator) -> set[str]:
    try:
        return set(inspect.signature(generator.generate).parameters)
    except (TypeError, ValueError):
        return set()


class Models:
    """Pipelines loaded once per model and shared by every request; results written under
    ``cache`` (the server's folder), one sub-folder per request."""

    def __init__(self, cache, device: str = "cpu"):
        self.cache = Path(cache)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.device = device
        self._pipes: dict[str, object] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def key(name: str) -> str:
        name = str(name).strip()
        if not name:
            raise ganforge.GanforgeError("choose a model: a run folder, a shipped model's name or hf:user/name")
        path = Path(name).expanduser()
        return str(path.resolve()) if path.exists() else name

    def load(self, name: str):
        """The pipeline of ``name`` (loaded on first use)."""
        key = self.key(name)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one load per model, even when two requests ask at once
            if key not in self._pipes:
                self._pipes[key] = ganforge.load(key, device=self.device)
            return self._pipes[key]

    def loaded(self) -> list[str]:
        return list(self._pipes)

    def info(self, name: str) -> ModelInfo:
        pipe = self.load(name)
        kind = getattr(pipe.modality, "result_kind", None) or getattr(pipe.modality, "file_kind", "samples")
        condition = pipe.encoder.user_option if pipe.encoder is not None else None
        classes = list(pipe.modality.class_names()) if condition == "class" else []
        options = _options_of(pipe.generator)
        return ModelInfo(name=str(name), kind=kind, recipe=pipe.recipe, condition=condition, classes=classes,
                         truncation="truncation" in options, temperature="temperature" in options,
                         step=pipe.info.get("step"))

    def generate(self, name: str, n: int = 8, seed: int = 0, prompt: str | None = None, class_name: str | None = None,
                 truncation: float | None = None, temperature: float | None = None) -> Made:
        import time

        info = self.info(name)
        pipe = self.load(name)
        n = int(n)
        if not 1 <= n <= MAX_SAMPLES:
            raise ganforge.GanforgeError(f"choose from 1 to {MAX_SAMPLES} samples, not {n}")
        seed = int(seed)
        if seed < 0:
            raise ganforge.GanforgeError(f"the seed is a whole number from 0, not {seed}")
        kwargs = {}
        if info.condition == "prompt":
            if not (prompt or "").strip():
                raise ganforge.GanforgeError("this model makes samples from a prompt: type one")
            kwargs["prompts"] = [prompt.strip()]
        elif info.condition == "class":
            if class_name:  # none: every class in turn
                kwargs["classes"] = [class_name]
        if info.truncation and truncation is not None and float(truncation) != 1.0:
            kwargs["truncation"] = float(truncation)
        if info.temperature and temperature is not None and float(temperature) != 1.0:
            kwargs["temperature"] = float(temperature)
        if "save_spectrograms" in getattr(pipe.modality, "generation_options", ()):
            kwargs["save_spectrograms"] = True  # a picture beside each WAV for the page
        folder = self.cache / uuid.uuid4().hex[:12]
        start = time.perf_counter()
        with self._locks[self.key(name)]:  # one generation at a time per model
            result = pipe.generate(n=n, seed=seed, **kwargs)
        seconds = time.perf_counter() - start
        result.save(folder, preview=False)
        return _collect(folder, info.kind, result, seconds)


def _collect(folder: Path, kind: str, result, seconds: float) -> Made:
    lines = (folder / "metadata.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    files = [folder / r["file_name"] for r in records]
    texts = list(result.texts) if kind == "texts" else []
    pictures: list[Path | None] = []
    for f in files:
        picture = f.with_suffix(".png")
        pictures.append(f if f.suffix.lower() == ".png" else picture if picture.is_file() else None)
    downloads = []
    zips = folder / "downloads"
    zips.mkdir()
    for i, (line, f, record) in enumerate(zip(lines, files, records)):
        stem = f"sample_{record.get('index', i):05d}"
        path = zips / f"{stem}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            if kind == "texts":  # one line of the shared samples.txt
                z.writestr(f"{stem}.txt", texts[i] + "\n")
                line = json.dumps({**record, "file_name": f"{stem}.txt"})
            else:
                z.write(f, f.name)
                if pictures[i] is not None and pictures[i] != f:
                    z.write(pictures[i], pictures[i].name)
            z.writestr("metadata.jsonl", line + "\n")
        downloads.append(path)
    everything = zips / "all_samples.zip"
    with zipfile.ZipFile(everything, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in folder.iterdir() if p.is_file()):
            z.write(f, f.name)
    return Made(folder=folder, kind=kind, files=files, pictures=pictures, texts=texts, records=records,
                downloads=downloads + [everything], seconds=seconds)
