"""The run directory: safetensors weights, a JSON description, a weights-only training state.

Every file is written atomically (a temporary file in the same folder, then
``os.replace``), so an interrupted write never leaves a half-written checkpoint behind.
Loading never unpickles arbitrary objects.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from .errors import GanforgeError

FORMAT_VERSION = 1
RUN_FILE = "ganforge.json"
STATE_FILE = "training_state.pt"
WEIGHT_FILES = {
    "generator": "generator.safetensors",
    "generator_ema": "generator_ema.safetensors",
    "discriminator": "discriminator.safetensors",
    "encoder": "encoder.safetensors",
}


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and move the result over ``path`` in one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise GanforgeError(f"{path} has format version {json.dumps(version)[:40]}; "
                            f"this ganforge reads version {FORMAT_VERSION}")
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


def save_module(path: Path, module, step: int) -> None:
    from safetensors.torch import save_file

    # contiguous clones: safetensors refuses shared or strided storage
    tensors = {k: v.detach().contiguous().clone().cpu() for k, v in module.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata={"step": str(step), "format": "pt"}))


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
    return int(meta.get("step", -1))


def save_state(path: Path, state: dict[str, Any]) -> None:
    import torch

    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise GanforgeError(f"{path} is missing: the run has no checkpoint to resume from")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise GanforgeError(f"{path} cannot be loaded safely ({type(e).__name__}); it is corrupt or not a ganforge checkpoint") from None
