"""Shared reading of data folders: files by extension, class sub-folders, captions, skips.

Conventions: a folder of files (searched recursively); class labels as the first-level
sub-folders (torchvision ``ImageFolder``); captions in ``metadata.jsonl`` or
``metadata.csv`` beside the files with ``file_name`` and ``text`` columns (Hugging Face
``imagefolder`` / ``audiofolder``).
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GanforgeError


def data_files(path: str | Path, extensions: tuple[str, ...], what: str) -> list[Path]:
    """Files under ``path`` (or ``path`` itself) ending in one of ``extensions``, sorted."""
    root = Path(path)
    if not root.exists():
        raise GanforgeError(f"data path {root} does not exist")
    exts = tuple(e.lower() for e in extensions)
    if root.is_file():
        if root.suffix.lower() in exts:
            return [root]
        raise GanforgeError(f"{root} is not a {what} file ({', '.join(exts)})")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in exts
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not files:
        raise GanforgeError(f"no {what} files ({', '.join(exts)}) found under {root}; point --data at a folder of them")
    return files


def class_of(file: Path, root: Path) -> str | None:
    """The class sub-folder a file sits in (its first folder below ``root``), if any."""
    rel = file.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else None


def read_captions(root: Path) -> dict[str, str]:
    """``file_name`` -> ``text`` from every metadata.jsonl / metadata.csv under ``root``.

    Keys are paths relative to ``root`` with forward slashes.
    """
    captions: dict[str, str] = {}
    if not root.is_dir():
        return captions
    for meta in sorted(root.rglob("metadata.jsonl")) + sorted(root.rglob("metadata.csv")):
        base = meta.parent.relative_to(root)
        try:
            if meta.suffix == ".jsonl":
                rows = [json.loads(line) for line in meta.read_text(encoding="utf-8").splitlines() if line.strip()]
            else:
                with meta.open(newline="", encoding="utf-8") as f:
                    rows = list(csv.DictReader(f))
        except (json.JSONDecodeError, csv.Error, UnicodeDecodeError, OSError) as e:
            raise GanforgeError(f"{meta} cannot be read ({e}); fix or remove it") from None
        for row in rows:
            if not isinstance(row, dict) or "file_name" not in row or "text" not in row:
                raise GanforgeError(f"{meta} needs 'file_name' and 'text' columns (Hugging Face imagefolder convention)")
            captions[(base / str(row["file_name"])).as_posix()] = str(row["text"])
    return captions


@dataclass
class DataReport:
    """Counts unreadable files so a loader can skip them and say so once."""

    what: str
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.append((path, reason))

    def finish(self, n_good: int, root: Path) -> None:
        if n_good == 0:
            first = f" (first: {self.skipped[0][0].name}: {self.skipped[0][1]})" if self.skipped else ""
            raise GanforgeError(f"none of the {self.what} files under {root} could be read{first}")
        if self.skipped:
            names = ", ".join(p.name for p, _ in self.skipped[:3])
            more = " ..." if len(self.skipped) > 3 else ""
            print(f"warning: skipped {len(self.skipped)} unreadable {self.what} file(s): {names}{more}",
                  file=sys.stderr)
