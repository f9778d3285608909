"""The run directory: safetensors weights, a JSON description, a weights-only training state.

    runs/NAME/
      ganforge.json                 the run: recipe, components, configuration, modality state,
                                    and which checkpoint is the current one
      checkpoints/step-000001000/   one complete checkpoint: generator, generator_ema,
                                    discriminator (, encoder) .safetensors + training_state.pt
      log.jsonl  samples/

A checkpoint is one atomic unit. Its files are written into a hidden ``.partial``
folder, flushed to disk, and the folder renamed to its final name; only then does
``ganforge.json`` (itself replaced in one rename) name it as current. A kill or a full
disk at any moment leaves the previous checkpoint current and complete. Older
checkpoint folders are removed after the commit. Loading never unpickles arbitrary
objects.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .errors import GanforgeError

FORMAT_VERSION = 2
#: runs written before checkpoints had folders of their own keep their files at the top
READABLE_VERSIONS = (1, 2)
RUN_FILE = "ganforge.json"
STATE_FILE = "training_state.pt"
CHECKPOINTS = "checkpoints"
WEIGHT_FILES = {
    "generator": "generator.safetensors",
    "generator_ema": "generator_ema.safetensors",
    "discriminator": "discriminator.safetensors",
    "encoder": "encoder.safetensors",
}


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk, so a rename after it never
    exposes an empty file after a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and move the result over ``path`` in one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_file(path: Path, write, to_bytes) -> None:
    """``write(path)`` with a library's own writer. safetensors and torch report a full or
    read-only disk as their own error types (SafetensorError, RuntimeError), which callers
    cannot tell from a bug; on such an error the same content is written again through
    Python's file I/O, so that a disk fault surfaces as the OSError (ENOSPC, EROFS, EFBIG)
    it is. The in-memory copy is made only then."""
    try:
        write(path)
    except OSError:
        raise
    except Exception:
        data = to_bytes()
        with open(path, "wb") as f:
            f.write(data)


def _torch_save(state, path: Path) -> None:
    import io

    import torch

    def to_bytes():
        buffer = io.BytesIO()
        torch.save(state, buffer)
        return buffer.getvalue()

    _write_file(path, lambda p: torch.save(state, p), to_bytes)


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n"))


# ``plugin:name``: the names a registry gives (plugin names come from entry points or modules).
_FULL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_COMPONENTS = ("modality", "generator", "discriminator")
# a distribution name or version as pip prints them (so an error's "pip install X" is safe to show)
_SAFE_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+!-]{0,99}")


def read_run_json(run_dir: str | Path) -> dict:
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.is_file():
        if not run_dir.exists():
            raise GanforgeError(f"run directory {run_dir} does not exist")
        raise GanforgeError(f"{run_dir} is not a ganforge run (no {RUN_FILE}); point at a folder made by `ganforge train`")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GanforgeError(f"{path} is corrupt ({e}); restore it from a backup") from None
    except RecursionError:
        raise GanforgeError(f"{path} is corrupt (nested too deeply); restore it from a backup") from None
    except OSError as e:
        raise GanforgeError(f"{path} cannot be read: {e.strerror or e}") from None

    def invalid(what: str) -> GanforgeError:
        return GanforgeError(f"{path} is not a valid ganforge run file: {what}; "
                             f"restore it from a backup or train the run again")

    if not isinstance(info, dict):
        kind = {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(info), "number")
        raise invalid(f"it holds a JSON {kind}, not an object")
    version = info.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise GanforgeError(f"{path} has format version {json.dumps(version)[:40]}; this ganforge reads versions "
                            f"{', '.join(map(str, READABLE_VERSIONS))}")
    for key in ("recipe", "components", "config", "modality_state", "user_config"):
        if key not in info:
            raise invalid(f"'{key}' is missing")
    for key in ("config", "modality_state", "user_config"):
        if not isinstance(info[key], dict):
            raise invalid(f"'{key}' is not an object")

    def full_name(value, where: str) -> str:
        if not isinstance(value, str) or not _FULL_NAME.fullmatch(value):
            raise invalid(f"{where} {json.dumps(value)[:60]} is not a plugin:name of letters, digits, '.', '_' or '-'")
        return value

    full_name(info["recipe"], "'recipe'")
    components = info["components"]
    if not isinstance(components, dict):
        raise invalid("'components' is not an object")
    for key in _COMPONENTS:
        if key not in components:
            raise invalid(f"'components' has no '{key}'")
    for key, value in components.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise invalid(f"'components' has a bad key {json.dumps(key)[:60]}")
        if value is not None or key in _COMPONENTS:
            full_name(value, f"component '{key}'")
    if info.get("checkpoint") is not None and not isinstance(info["checkpoint"], str):
        raise invalid("'checkpoint' is not a folder name")
    plugins = info.get("plugins")
    if plugins is not None:
        if not isinstance(plugins, dict) or not all(isinstance(v, dict) for v in plugins.values()):
            raise invalid("'plugins' is not an object of objects")
        for v in plugins.values():
            for field in ("distribution", "version"):
                if v.get(field) is not None and not (isinstance(v[field], str) and _SAFE_TEXT.fullmatch(v[field])):
                    raise invalid(f"a plugin's '{field}' {json.dumps(v[field])[:60]} is not a package name or version")
        # every plugin named in the run is one the writer recorded (the loop always does)
        for where, name in [("recipe", info["recipe"])] + [(f"component '{k}'", v) for k, v in components.items() if v]:
            plugin = name.split(":")[0]
            if plugin not in plugins:
                raise invalid(f"the {where} '{name}' names plugin '{plugin}', which its 'plugins' does not list")
    return info


def checkpoint_dir(run_dir: str | Path, info: dict | None = None) -> Path | None:
    """The folder of the run's current checkpoint, or None when it has none yet."""
    run_dir = Path(run_dir)
    info = read_run_json(run_dir) if info is None else info
    if info.get("format_version") == 1:  # files at the top of the run directory
        return run_dir if (run_dir / STATE_FILE).is_file() else None
    name = info.get("checkpoint")
    if not name:
        return None
    folder = run_dir / CHECKPOINTS / Path(str(name)).name  # never a path out of the run
    if not folder.is_dir():
        raise GanforgeError(f"{folder} is missing; {run_dir / RUN_FILE} names it as the current checkpoint")
    return folder


def write_checkpoint(run_dir: Path, step: int, modules: dict, state: dict[str, Any], info: dict) -> Path:
    """Write one checkpoint as an atomic unit and make it current; return its folder.

    ``modules`` maps WEIGHT_FILES keys to networks; ``state`` is the training state
    (tensors and plain values only); ``info`` the contents of ``ganforge.json``, which is
    written last with ``checkpoint`` naming the new folder: the commit point.
    """
    import shutil

    run_dir = Path(run_dir)
    root = run_dir / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    # what a killed write left (partial folders, older or uncommitted ones) goes first: on
    # a full disk that space may be what this checkpoint needs
    remove_stale_checkpoints(run_dir)
    name = f"step-{step:09d}"
    k = 1
    while (root / name).exists():  # the same step saved twice (a last save after a periodic one)
        name, k = f"step-{step:09d}.{k}", k + 1
    partial = root / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    committed = False
    try:
        partial.mkdir()
        for key, module in modules.items():
            save_module(partial / WEIGHT_FILES[key], module, step, atomic=False)
        _torch_save(state, partial / STATE_FILE)
        for f in partial.iterdir():
            _fsync(f)
        _fsync(partial)
        os.replace(partial, root / name)
        _fsync(root)
        write_json(run_dir / RUN_FILE, {**info, "checkpoint": f"{CHECKPOINTS}/{name}"})
        committed = True
    finally:
        if not committed:
            shutil.rmtree(partial, ignore_errors=True)
            # renamed but not made current (ganforge.json could not be replaced: a full
            # disk): not a checkpoint, only the space a full disk needs back
            if _current_name(run_dir) != name:
                shutil.rmtree(root / name, ignore_errors=True)
    remove_stale_checkpoints(run_dir, name)
    return root / name


def _current_name(run_dir: Path) -> str | None:
    try:
        return Path(str(json.loads((Path(run_dir) / RUN_FILE).read_text()).get("checkpoint") or "")).name or None
    except (OSError, ValueError, AttributeError):
        return None


def remove_stale_checkpoints(run_dir: str | Path, current: str | None = None) -> list[str]:
    """Remove every entry of ``checkpoints/`` but the current checkpoint: older folders a
    kill left behind after a commit, ``.partial`` folders of an interrupted write, folders
    renamed but never made current. Only the process holding the run's lock may call it.
    ``current`` defaults to what ``ganforge.json`` names; with no current checkpoint
    nothing is removed but partial folders. Returns the names removed."""
    import shutil

    root = Path(run_dir) / CHECKPOINTS
    current = current if current is not None else _current_name(run_dir)
    removed = []
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return removed
    for old in entries:
        if old.name == current or (current is None and not old.name.endswith(".partial")):
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    return removed

def save_module(path: Path, module, step: int, atomic: bool = True) -> None:
    from safetensors.torch import save, save_file

    # contiguous clones: safetensors refuses shared or strided storage
    tensors = {k: v.detach().contiguous().clone().cpu() for k, v in module.state_dict().items()}
    metadata = {"step": str(step), "format": "pt"}

    def write(p):
        _write_file(p, lambda q: save_file(tensors, str(q), metadata=metadata), lambda: save(tensors, metadata=metadata))

    if atomic:
        atomic_write(path, write)
    else:
        write(path)


def load_module(path: Path, module, strict: bool = True) -> int:
    """Load safetensors weights into ``module``; return the step recorded with them."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not path.is_file():
        raise GanforgeError(f"{path} is missing; the run directory is incomplete")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises its own types for corrupt headers
        raise GanforgeError(f"{path} cannot be read ({e}); the file is corrupt") from None
    try:
        module.load_state_dict(tensors, strict=strict)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise GanforgeError(
            f"{path} does not fit the network its run describes ({first}); was it copied from another run?"
        ) from None
    step = str(meta.get("step", "-1"))
    if not step.lstrip("-").isdigit():
        raise GanforgeError(f"{path} records step {step!r}, not a number; the file is corrupt or not from ganforge")
    return int(step)


def save_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: _torch_save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise GanforgeError(f"{path} is missing: the run has no checkpoint to resume from")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise GanforgeError(f"{path} cannot be loaded safely ({type(e).__name__}); it is corrupt or not a ganforge checkpoint") from None
