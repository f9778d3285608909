"""Rows for bench/quality.py's one table: each quality bench writes its headline figures
with ``--json PATH`` as a list of rows in this shape."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch


def row(area: str, measure: str, value: str, reference: str = "", setting: str = "") -> dict:
    """One line of the table: what was measured, ganforge's figure, the reference figure
    (a paper's or the real data's) and the setting it came from (budget, seeds)."""
    return {"area": area, "measure": measure, "value": value, "reference": reference, "setting": setting}


def machine() -> str:
    """Where the figures came from, for docs/benchmarks.md."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}"


def write_rows(path: str | Path | None, rows: list[dict]) -> None:
    if path:
        Path(path).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))


def parse_set(text: str) -> tuple[str, object]:
    """One ``--set KEY=VALUE`` of a bench (an argparse ``type``): the value as JSON where it
    reads as JSON (numbers, true/false, lists), else as the string."""
    import argparse

    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, not {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def parse_sets(items: list[str]) -> dict:
    """``--set`` strings -> recipe overrides."""
    return dict(parse_set(item) for item in items)

