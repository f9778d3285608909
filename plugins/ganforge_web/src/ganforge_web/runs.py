"""Reading a run directory while it trains, without writing to it: its description
(ganforge.json), its loss log (log.jsonl), its preview samples (samples/step_*), and the
scores `ganforge evaluate` gave it (metrics.jsonl / metrics.json, see :func:`metrics`)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import ganforge

RUN_FILE = "ganforge.json"
PREVIEW_NAME = re.compile(r"^step_(\d+)\.(png|wav|txt|csv|gif|webp)$")
#: log.jsonl fields that are not curves
NOT_CURVES = {"step", "phase"}
SKIP_DIRS = {"checkpoints", "samples", "tensorboard", "__pycache__", ".git", "node_modules"}


def is_run(path) -> bool:
    return (Path(path) / RUN_FILE).is_file()


def find_runs(root, depth: int = 3) -> list[Path]:
    """Run folders under ``root`` (itself included), at most ``depth`` levels down, newest first."""
    root = Path(root)
    found: list[Path] = []

    def walk(folder: Path, level: int) -> None:
        if is_run(folder):
            found.append(folder)
            return  # a run's sub-folders are its own (checkpoints, samples)
        if level >= depth:
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if child.name not in SKIP_DIRS and not child.name.startswith("."):
                walk(child, level + 1)

    if root.is_dir():
        walk(root, 0)
    return sorted(found, key=lambda p: (p / RUN_FILE).stat().st_mtime, reverse=True)


def read_info(run) -> dict:
    """The run's ganforge.json, or a one-line error."""
    path = Path(run) / RUN_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ganforge.GanforgeError(f"{run} is not a run folder (it has no {RUN_FILE}); give the --out folder "
                                     f"of `ganforge train`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ganforge.GanforgeError(f"{path} cannot be read ({e}); is the run intact?") from None


def read_log(run) -> list[dict]:
    """log.jsonl's records, in order; a line being written (cut short) is left out."""
    path = Path(run) / "log.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
    return records


@dataclass
class Curves:
    """log.jsonl as series: ``series[name] = (steps, values)``; ``phases`` marks where each
    phase of the schedule starts (SeqGAN's pretraining, PGGAN's resolutions)."""

    series: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)
    phases: list[tuple[int, str]] = field(default_factory=list)

    def losses(self) -> dict:
        return {k: v for k, v in self.series.items() if "loss" in k}

    def others(self) -> dict:
        return {k: v for k, v in self.series.items() if "loss" not in k and k != "samples_per_s"}

    @property
    def last_step(self) -> int:
        return max((s[-1] for s, _ in self.series.values() if s), default=0)


def curves(records: list[dict]) -> Curves:
    out = Curves()
    for record in records:
        step = record["step"]
        phase = record.get("phase")
        if phase is not None and (not out.phases or out.phases[-1][1] != phase):
            out.phases.append((step, str(phase)))
        for key, value in record.items():
            if key in NOT_CURVES or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
                continue
            steps, values = out.series.setdefault(key, ([], []))
            steps.append(step)
            values.append(float(value))
    return out


@dataclass
class Preview:
    """The preview files the loop wrote at one step: a PNG grid (images; spectrograms of
    audio), a WAV (audio), a TXT listing (text)."""

    step: int
    files: dict[str, Path]  # suffix without the dot -> path

    def picture(self) -> Path | None:
        return self.files.get("png") or self.files.get("webp") or self.files.get("gif")


def previews(run) -> list[Preview]:
    """Every preview in samples/, by step."""
    folder = Path(run) / "samples"
    by_step: dict[int, dict[str, Path]] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            m = PREVIEW_NAME.match(path.name)
            if m:
                by_step.setdefault(int(m.group(1)), {})[m.group(2)] = path
    return [Preview(step, files) for step, files in sorted(by_step.items())]


def spread(items: list, n: int) -> list:
    """At most ``n`` of ``items`` spread evenly from the first to the last (both kept)."""
    if len(items) <= n:
        return list(items)
    if n <= 1:
        return items[-1:]
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def metrics(run) -> list[dict]:
    """Scores of `ganforge evaluate`, kept with the run: ``metrics.jsonl`` (one
    ``ganforge evaluate RUN --data D --json`` result per line, as ``ganforge report --evaluate``
    appends them, or any JSON objects) and ``metrics.json`` (one result, as
    ``ganforge evaluate RUN --data D --json > RUN/metrics.json`` writes it)."""
    out = []
    folder = Path(run)
    one = folder / "metrics.json"
    if one.is_file():
        try:
            value = json.loads(one.read_text(encoding="utf-8"))
            if isinstance(value, dict):
                out.append(value)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            pass
    many = folder / "metrics.jsonl"
    if many.is_file():
        for line in many.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def status(run, info: dict | None = None, records: list[dict] | None = None) -> str:
    """One line: recipe, step reached of the total, whether a checkpoint exists, the last losses."""
    info = read_info(run) if info is None else info
    records = read_log(run) if records is None else records
    step = max(info.get("step") or 0, records[-1]["step"] if records else 0)
    total = info.get("total_steps")
    where = f"step {step}/{total}" if total else f"step {step}"
    if info.get("exported"):
        where = f"exported at step {info.get('step')}"
    last = records[-1] if records else {}
    losses = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if "loss" in k and isinstance(v, (int, float)))
    checkpoint = "checkpoint saved" if info.get("checkpoint") else "no checkpoint yet"
    return f"{info.get('recipe', '?')} · {where} · {checkpoint}" + (f" · {losses}" if losses else "")


def config_rows(info: dict) -> list[tuple[str, str, bool]]:
    """(option, value as JSON, whether the user set it) for the run's configuration, sorted."""
    user = info.get("user_config") or {}
    config = info.get("config") or {}
    return [(k, json.dumps(config[k]), k in user) for k in sorted(config)]
