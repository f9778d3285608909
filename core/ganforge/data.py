"""Shared reading of data folders: files by extension, class sub-folders, captions, skips.

Conventions: a folder of files (searched recursively); class labels as the first-level
sub-folders (torchvision ``ImageFolder``); captions in ``metadata.jsonl`` or
``metadata.csv`` beside the files with ``file_name`` and ``text`` columns (Hugging Face
``imagefolder`` / ``audiofolder``).
"""

from __future__ import annotations

import csv
import io
import json
import os
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


def read_captions(root: Path, recursive: bool = True) -> dict[str, str]:
    """``file_name`` -> ``text`` from every metadata.jsonl / metadata.csv under ``root``
    (only those directly in ``root`` when not ``recursive``: data given as one file).

    Keys are paths relative to ``root`` with forward slashes. A row that cannot be used
    (not JSON, not UTF-8, a broken CSV row, no ``file_name`` / ``text``) is skipped and
    counted, with one warning naming the first as file:line; a metadata file none of whose
    rows is usable is an error.
    """
    captions: dict[str, str] = {}
    if not root.is_dir():
        return captions
    find = root.rglob if recursive else root.glob
    for meta in sorted(find("metadata.jsonl")) + sorted(find("metadata.csv")):
        base = meta.parent.relative_to(root)
        report = DataReport("caption")
        rows = _jsonl_rows(meta, report) if meta.suffix == ".jsonl" else _csv_rows(meta, report)
        n_good = 0
        for line, row in rows:
            problem = _caption_problem(row)
            if problem:
                report.skip_line(meta, line, problem)
                continue
            captions[(base / row["file_name"]).as_posix()] = str(row["text"])
            n_good += 1
        if n_good == 0 and (report.skipped or report.skipped_lines):
            where, reason = report.first_problem()
            raise GanforgeError(f"{meta}: no row of it is usable ({where}: {reason}); fix or remove it "
                                "(captions need 'file_name' and 'text', the Hugging Face imagefolder convention)")
        report.warn_lines(root)
    return captions


def _caption_problem(row) -> str | None:
    """Why a metadata row cannot give a caption, or None when it can."""
    if not isinstance(row, dict):
        return "not a JSON object"
    if "file_name" not in row or "text" not in row:
        return "needs 'file_name' and 'text'"
    if not isinstance(row["file_name"], str) or not row["file_name"].strip():
        return "'file_name' must be a non-empty string"
    if not isinstance(row["text"], (str, int, float)) or isinstance(row["text"], bool):
        # str(None) would make the caption "None"
        return f"'text' must be a string, not {json.dumps(row['text'])[:20]}"
    return None


def _jsonl_rows(meta: Path, report: "DataReport"):
    """(line number, parsed JSON) of each non-blank line; bad lines are counted in ``report``."""
    for line, text in report.text_lines(meta) or []:
        if not text.strip():
            continue
        try:
            yield line, json.loads(text)
        except json.JSONDecodeError as e:
            report.skip_line(meta, line, f"not JSON ({e.msg} at column {e.colno})")


def _csv_rows(meta: Path, report: "DataReport"):
    """(first line number, {column: value}) of each data row of a CSV file with a header.

    ``strict=True`` makes the csv module raise on malformed quoting instead of guessing;
    a quote that is never closed would otherwise swallow every later line into one field.
    """
    try:
        raw = meta.read_bytes()
    except OSError as e:
        raise GanforgeError(f"{meta} cannot be read ({e.strerror or e}); fix its permissions or remove it") from None
    # undecodable bytes survive as lone surrogates so only the rows holding them are skipped
    text = raw.removeprefix(_UTF8_BOM).decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            if "end of data" in str(e):  # an unclosed quote ran to the end of the file
                report.skip_line(meta, start, f"a quoted field opened on this line is never closed, "
                                              f"so lines {start}-{reader.line_num} are unused")
            else:
                report.skip_line(meta, start, f"malformed CSV ({e})")
            continue
        if not fields or not any(f.strip() for f in fields):
            continue
        if header is None:
            header = [f.strip() for f in fields]
            if "file_name" not in header or "text" not in header:
                raise GanforgeError(f"{meta}:{start}: the header {fields} needs 'file_name' and 'text' columns "
                                    "(Hugging Face imagefolder convention)")
            continue
        if any(_has_bad_bytes(f) for f in fields):
            report.skip_line(meta, start, "not UTF-8")
        elif len(fields) != len(header):
            report.skip_line(meta, start, f"{len(fields)} fields but the header has {len(header)} "
                                          "(quote a caption that contains a comma)")
        else:
            yield start, dict(zip(header, fields))


_UTF8_BOM = b"\xef\xbb\xbf"
# byte-order marks of encodings that are valid UTF-8 byte for byte often enough to pass as text
_OTHER_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
               b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _has_bad_bytes(s: str) -> bool:
    """Whether ``s`` holds bytes that were not UTF-8 (decoded with surrogateescape)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shown(path: Path, root: Path | None) -> str:
    """``path`` as a user finds it: relative to the data folder when inside it."""
    if root is not None:
        folder = root if root.is_dir() else root.parent
        try:
            return path.relative_to(folder).as_posix()
        except ValueError:
            pass
    return str(path)


@dataclass
class DataReport:
    """Counts what a loader skips, whole files or single lines of a file, so it can go on
    without them and say so once (one stderr line each); an error only when nothing is left."""

    what: str
    skipped: list[tuple[Path, str, str]] = field(default_factory=list)  # (path, reason, kind)
    skipped_lines: list[tuple[Path, int, str]] = field(default_factory=list)

    def skip(self, path: Path, reason: str, kind: str = "unreadable") -> None:
        """Leave out a whole file. ``kind`` is what the warning calls it: "unreadable" for a
        file that does not decode, or what is wrong with one that does ("too short", "empty",
        "too large"); ``reason`` the detail, shown for the first file of each kind."""
        self.skipped.append((Path(path), _one_line(reason), kind))

    def skip_line(self, path: Path, line: int, reason: str) -> None:
        self.skipped_lines.append((Path(path), int(line), _one_line(reason)))

    def text_lines(self, path: Path) -> list[tuple[int, str]] | None:
        """The lines of a UTF-8 text file as (line number, text without its line end).

        Decoded line by line: a line that is not UTF-8 is skipped and counted, so one bad
        byte costs that line, not the file. A leading UTF-8 byte-order mark is dropped. A
        file that cannot be read or is UTF-16/32 is skipped as a whole: None.
        """
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            self.skip(path, e.strerror or type(e).__name__)
            return None
        for bom, encoding in _OTHER_BOMS.items():
            if raw.startswith(bom):
                self.skip(path, f"{encoding} text; save it as UTF-8")
                return None
        lines = []
        for number, chunk in enumerate(raw.removeprefix(_UTF8_BOM).splitlines(), 1):
            try:
                lines.append((number, chunk.decode("utf-8")))
            except UnicodeDecodeError as e:
                self.skip_line(path, number, f"not UTF-8 (byte 0x{chunk[e.start]:02x} at column {e.start + 1})")
        return lines

    def first_problem(self) -> tuple[str, str]:
        """(where, why) of the first skip: a file name, or file:line."""
        if self.skipped:
            return self.skipped[0][0].name, self.skipped[0][1]
        path, line, reason = self.skipped_lines[0]
        return f"{path.name}:{line}", reason

    def warn_lines(self, root: Path | None = None) -> None:
        """Say once (and forget) how many lines were skipped, naming the first as file:line."""
        if not self.skipped_lines:
            return
        path, line, reason = self.skipped_lines[0]
        n_files = len({p for p, _, _ in self.skipped_lines})
        print(f"warning: skipped {len(self.skipped_lines)} unusable {self.what} line(s) in {n_files} file(s) "
              f"(first: {_shown(path, root)}:{line}: {reason})", file=sys.stderr)
        self.skipped_lines.clear()

    def finish(self, n_good: int, root: Path) -> None:
        if n_good == 0:
            first = " (first: {}: {})".format(*self.first_problem()) if self.skipped or self.skipped_lines else ""
            raise GanforgeError(f"none of the {self.what} files under {root} could be read{first}")
        if self.skipped:
            kinds: dict[str, list[tuple[Path, str]]] = {}
            for path, reason, kind in self.skipped:
                kinds.setdefault(kind, []).append((path, reason))

            def listed(files):
                names = ", ".join(_shown(p, root) for p, _ in files[:3]) + (" ..." if len(files) > 3 else "")
                return f"{names} ({_shown(files[0][0], root)}: {files[0][1]})"

            if len(kinds) == 1:
                (kind, files), = kinds.items()
                print(f"warning: skipped {len(files)} {kind} {self.what} file(s): {listed(files)}", file=sys.stderr)
            else:
                parts = "; ".join(f"{len(files)} {kind}: {listed(files)}" for kind, files in kinds.items())
                print(f"warning: skipped {len(self.skipped)} {self.what} file(s): {parts}", file=sys.stderr)
        self.warn_lines(root)


def _one_line(reason: str) -> str:
    reason = str(reason).strip()
    return reason.splitlines()[0] if reason else "unreadable"


class StreamedSamples:
    """The ``x`` field of a data set too large to hold decoded: each sample is read from
    its file when a batch needs it. A modality returns
    ``SampleSet({"x": StreamedSamples(files, read), ...})`` and the loop decodes batches
    ahead of the step in ``data_workers`` processes; ``data_cache=DIR`` keeps each decoded
    sample as a ``.npy`` file there, so later epochs skip the decoding.

    ``read(item) -> Tensor`` decodes one item into the modality's compact storage (uint8
    pixels, say), the same shape for every item; it raises GanforgeError, naming the
    file, when the item can no longer be read. ``key`` names the decoding (its options:
    size, channels) so a cache made with other options is never reused.
    """

    def __init__(self, items, read, key: str = ""):
        self.items = list(items)
        self.read = read
        self.key = key
        self.cache_dir: Path | None = None

    def __len__(self) -> int:
        return len(self.items)

    def use_cache(self, folder) -> None:
        """Keep decoded samples in ``folder`` (made if needed), under this decoding's key."""
        import hashlib

        digest = hashlib.sha256(f"{self.key}\n{len(self.items)}".encode()).hexdigest()[:16]
        self.cache_dir = Path(folder) / f"samples-{digest}"
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    def _one(self, i: int):
        import numpy as np
        import torch

        item = self.items[i]
        if self.cache_dir is None:
            return self.read(item)
        stat = Path(item).stat() if isinstance(item, (str, Path)) else None
        stamp = f"-{stat.st_size}-{stat.st_mtime_ns}" if stat else ""
        cached = self.cache_dir / f"{i}{stamp}.npy"
        if cached.exists():
            try:
                return torch.from_numpy(np.load(cached))
            except (OSError, ValueError):  # a cache file cut short: decode again
                pass
        x = self.read(item)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as f:
            np.save(f, x.numpy())
        os.replace(partial, cached)  # readers see a whole file or none
        return x

    def __getitem__(self, index):
        """One sample, or a stacked batch for a tensor or list of indices."""
        import torch

        if isinstance(index, int):
            return self._one(index)
        indices = index.tolist() if isinstance(index, torch.Tensor) else list(index)
        return torch.stack([self._one(int(i)) for i in indices])
