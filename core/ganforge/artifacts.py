"""The run directory: safetensors weights, a JSON description, a weights-only training state.

Every file is written atomically (a temporary file in the same folder, then
``os.replace``), so an interrupted write never leaves a half-written checkpoint behind.
Loading never unpickles arbitrary objects.
"""

from __future__ import annotations

import json
import os
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


def read_run_json(run_dir: str | Path) -> dict:
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not path.is_file():
        if not run_dir.exists():
            raise GanforgeError(f"run directory {run_dir} does not exist")
        raise GanforgeError(f"{run_dir} is not a ganforge run (no {RUN_FILE}); point at a folder made by `ganforge train`")
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise GanforgeError(f"{path} is corrupt ({e}); restore it from a backup") from None
    version = info.get("format_version")
    if version != FORMAT_VERSION:
        raise GanforgeError(f"{path} has format version {version}; this ganforge reads version {FORMAT_VERSION}")
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
