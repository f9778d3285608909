"""``ganforge export``: a trained run reduced to what generation needs, for sharing and
for shipping inside a plugin (``ganforge_register_models``).

The export is itself a run folder that ``ganforge.load`` and ``ganforge generate`` read:
``ganforge.json`` and one checkpoint holding the generator (its EMA copy when the run has
one) and a trainable encoder, optionally in half precision. The discriminator, optimiser
and training state stay behind, so an export cannot be resumed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import artifacts
from .errors import GanforgeError


def export_run(run_dir, out, half: bool = False) -> Path:
    """Write the generation-only copy of ``run_dir`` to ``out`` (a new folder); return it."""
    from safetensors.torch import load_file, save_file

    run_dir, out = Path(run_dir), Path(out)
    info = artifacts.read_run_json(run_dir)
    folder = artifacts.checkpoint_dir(run_dir, info)
    if folder is None:
        raise GanforgeError(f"{run_dir} has no checkpoint yet; nothing to export")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanforgeError(f"{out} already exists and is not empty; choose another --out or delete it first")
    ema = folder / artifacts.WEIGHT_FILES["generator_ema"]
    sources = {"generator_ema": ema if ema.is_file() else folder / artifacts.WEIGHT_FILES["generator"]}
    encoder = folder / artifacts.WEIGHT_FILES["encoder"]
    if encoder.is_file():
        sources["encoder"] = encoder
    name = folder.name
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    target = partial / artifacts.CHECKPOINTS / name
    target.mkdir(parents=True)
    try:
        for key, source in sources.items():
            tensors = load_file(str(source))
            if half:  # floating weights only; integer buffers (step counters) keep their type
                tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
            save_file(tensors, str(target / artifacts.WEIGHT_FILES[key]),
                      metadata={"format": "pt", "exported_from": str(info.get("recipe", ""))})
        artifacts.write_json(partial / artifacts.RUN_FILE, {
            **info, "checkpoint": f"{artifacts.CHECKPOINTS}/{name}", "exported": {"half": half}})
        if out.exists():
            out.rmdir()
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return out


def resolve_run(name_or_path) -> Path:
    """A run folder, or the folder of a model a plugin ships (``ganforge_register_models``).
    A folder that exists wins; otherwise the name is looked up among registered models."""
    path = Path(name_or_path)
    if path.exists() or isinstance(name_or_path, Path) or not str(name_or_path):
        return path
    from .plugins import get_registry

    registry = get_registry()
    names = {e.name for e in registry.entries("model")} | {e.full_name for e in registry.entries("model")}
    if str(name_or_path) not in names:
        return path  # read_run_json says the folder does not exist
    return Path(registry.get("model", str(name_or_path)))
