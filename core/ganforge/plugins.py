"""The plugin manager: finds plugins through entry points, loads each in isolation, lists them.

Environment:

- ``GANFORGE_LOAD_PLUGINS=a,b``   load only these entry points (set but empty: none)
- ``GANFORGE_DISABLE_PLUGINS=a,b`` never load these
- ``GANFORGE_PLUGINS=mod.a,mod.b`` also load these importable modules as plugins (like ``-p``)
- ``GANFORGE_STRICT_PLUGINS=1``   a plugin that fails to load (or is incompatible) is an error, not a warning

API version: ``API_VERSION`` is the version of the plugin contract (hookspecs.py and the
component base classes); it is bumped on breaking changes only. A plugin module declares
the versions it was written for with a module attribute ``GANFORGE_API``: an int
(``GANFORGE_API = 1``) or a collection of ints (``GANFORGE_API = (1, 2)``,
``range(1, 3)``). A plugin whose declaration excludes this ganforge's version is listed
as "incompatible" with what to upgrade, and none of its components is registered. A
plugin that declares nothing is loaded as before (``ganforge plugins --json`` notes it).
"""

from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from . import hookspecs
from .errors import GanforgeError, PluginError
from .registry import KINDS, Registry, missing_dependency_hint

ENTRY_POINT_GROUP = "ganforge"
API_VERSION = 1  # the plugin contract's version: bump on breaking changes to hooks or base classes
API_ATTRIBUTE = "GANFORGE_API"
NOT_DECLARED = "API version not declared"
hookimpl = pluggy.HookimplMarker("ganforge")

# register hook -> component kind
REGISTER_HOOKS = {
    "ganforge_register_modalities": "modality",
    "ganforge_register_generators": "generator",
    "ganforge_register_discriminators": "discriminator",
    "ganforge_register_encoders": "encoder",
    "ganforge_register_augmentations": "augmentation",
    "ganforge_register_objectives": "objective",
    "ganforge_register_recipes": "recipe",
    "ganforge_register_metrics": "metric",
    "ganforge_register_datasets": "dataset",
    "ganforge_register_demos": "demo",
    "ganforge_register_models": "model",
    "ganforge_register_commands": "command",
}
assert set(REGISTER_HOOKS.values()) == set(KINDS)


@dataclass
class PluginInfo:
    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    status: str = "ok"  # "ok", "failed" or "incompatible"
    error: str | None = None
    components: dict[str, list[str]] = field(default_factory=dict)
    api: int | list[int] | None = None  # the GANFORGE_API the plugin declares
    note: str | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "components": self.components,
            "api": self.api,
            "note": self.note,
        }


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


class PluginManager:
    """Loads plugins and fills a :class:`Registry` with what they register."""

    def __init__(self, extra_modules: list[str] | None = None, strict: bool | None = None):
        self.pm = pluggy.PluginManager("ganforge")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.plugins: dict[str, PluginInfo] = {}
        self.strict = os.environ.get("GANFORGE_STRICT_PLUGINS", "") not in ("", "0") if strict is None else strict
        self._extra_modules = list(extra_modules or []) + (_env_list("GANFORGE_PLUGINS") or [])

    # ------------------------------------------------------------------ loading

    def load(self) -> "PluginManager":
        allow = _env_list("GANFORGE_LOAD_PLUGINS")
        block = set(_env_list("GANFORGE_DISABLE_PLUGINS") or [])
        # Objectives of the core are registered like a plugin's, under the name "core".
        self._load_one("core", "ganforge.builtin", distribution="ganforge", api=API_VERSION)
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in block or (allow is not None and ep.name not in allow):
                continue
            if ep.name in self.plugins:
                continue  # the same distribution seen twice on sys.path
            dist = getattr(ep, "dist", None)
            self._load_one(
                ep.name,
                ep.value,
                distribution=dist.metadata["Name"] if dist else None,
                version=dist.version if dist else None,
            )
        for module in self._extra_modules:
            name = module.rsplit(".", 1)[-1]
            if name in block or name in self.plugins:
                continue
            self._load_one(name, module)
        return self

    def _load_one(self, name: str, module_path: str, distribution=None, version=None, api=None) -> None:
        info = PluginInfo(name=name, module=module_path, distribution=distribution, version=version, api=api)
        self._register(info, lambda: _import(module_path))

    def add_plugin(self, plugin, name: str | None = None) -> PluginInfo:
        """Register an object or module with ``@hookimpl`` methods as a plugin, in this
        process only (notebooks, tests, benchmarks: a lifecycle hook without packaging)."""
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if name in self.plugins and self.plugins[name].status == "ok":
            raise GanforgeError(f"a plugin named '{name}' is already loaded; pass another name")
        info = PluginInfo(name=name, module=type(plugin).__module__)
        self._register(info, lambda: plugin)
        return info

    def remove_plugin(self, name: str) -> None:
        """Undo :meth:`add_plugin` (or any plugin's registration) in this process."""
        self.registry.remove_plugin(name)
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.plugins.pop(name, None)

    def _register(self, info: PluginInfo, get_module) -> None:
        name = info.name
        self.plugins[name] = info
        try:
            module = get_module()
            if info.version is None:
                info.version = getattr(module, "__version__", None)
            if info.api is None and not self._api_compatible(info, module):
                if self.strict:
                    raise PluginError(f"plugin '{name}' is incompatible: {info.error}")
                return  # nothing registered: its components would fail later, less clearly
            self.pm.register(module, name=name)
            self._check_hook_names(name)
            self._call_register_hooks(name)
            info.components = self.registry.by_plugin(name)
        except Exception as e:  # a broken plugin must not take the others down
            self.registry.remove_plugin(name)
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            message = self._describe(e)
            if info.status == "incompatible":
                raise  # strict mode's PluginError, raised above
            info.status, info.error = "failed", message
            if self.strict:
                raise PluginError(f"plugin '{name}' failed to load: {message}") from e

    @staticmethod
    def _api_compatible(info: PluginInfo, module) -> bool:
        """Read the plugin's ``GANFORGE_API``; False (status "incompatible") when it excludes ours."""
        declared = getattr(module, API_ATTRIBUTE, None)
        if declared is None:
            info.note = NOT_DECLARED
            return True
        versions = _api_versions(declared)
        info.api = versions[0] if isinstance(declared, int) else versions
        if API_VERSION in versions:
            return True
        wanted = f"API {versions[0]}" if len(versions) == 1 else f"API {', '.join(map(str, versions))}"
        if min(versions) > API_VERSION:
            fix = "upgrade ganforge: pip install -U ganforge"
        elif info.distribution:
            fix = f"pip install -U {info.distribution}"
        else:
            fix = f"update the plugin module {info.module.partition(':')[0]}"
        info.status = "incompatible"
        info.error = f"targets ganforge {wanted}, this ganforge has API {API_VERSION}: {fix}"
        return False

    @staticmethod
    def _describe(e: Exception) -> str:
        if isinstance(e, ModuleNotFoundError):
            hint = missing_dependency_hint(e)
            if hint:
                return hint
        if isinstance(e, GanforgeError):
            return str(e)
        return f"{type(e).__name__}: {e}"

    def _check_hook_names(self, name: str) -> None:
        """A misspelt hook name is an error, not silence (pluggy's check_pending, per plugin)."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            plugin = self.pm.get_plugin(name)
            known = [h for h in dir(hookspecs) if h.startswith("ganforge_")]
            for attr in dir(plugin):
                opts = self.pm.parse_hookimpl_opts(plugin, attr)
                if opts is not None and attr not in known:
                    guess = difflib.get_close_matches(attr, known, n=1)
                    did_you_mean = f" (did you mean '{guess[0]}'?)" if guess else ""
                    raise GanforgeError(f"unknown hook '{attr}'{did_you_mean}")
            raise

    def _call_register_hooks(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        for hook_name, kind in REGISTER_HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue

                def register(comp_name, reference, summary="", _kind=kind):
                    self.registry.add(_kind, name, comp_name, reference, summary)

                impl.function(register=register)

    # ------------------------------------------------------------------ queries

    @property
    def hook(self):
        return self.pm.hook

    def list(self) -> list[PluginInfo]:
        return [p for n, p in sorted(self.plugins.items()) if n != "core"] + [self.plugins["core"]]


def _api_versions(declared) -> list[int]:
    """``GANFORGE_API`` as a sorted list of ints; anything else is a one-line error."""
    if isinstance(declared, int) and not isinstance(declared, bool):  # True is no API version
        return [declared]
    elif isinstance(declared, (tuple, list, set, frozenset, range)):
        versions = sorted(set(declared))
        if versions and all(isinstance(v, int) and not isinstance(v, bool) for v in versions):
            return versions
    raise GanforgeError(f"{API_ATTRIBUTE} must be an int or a collection of ints (e.g. {API_ATTRIBUTE} = "
                        f"{API_VERSION}), got {declared!r}")


def _import(module_path: str):
    module_name, _, attr = module_path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager().load()
    return _manager


def reset(extra_modules: list[str] | None = None) -> PluginManager:
    """Load plugins afresh (after changing the environment, or with ``-p`` modules)."""
    global _manager
    _manager = PluginManager(extra_modules=extra_modules).load()
    return _manager


def add_plugin(plugin, name: str | None = None) -> PluginInfo:
    """Register an in-process plugin object (see :meth:`PluginManager.add_plugin`)."""
    return get_plugin_manager().add_plugin(plugin, name)


def remove_plugin(name: str) -> None:
    get_plugin_manager().remove_plugin(name)


def get_registry() -> Registry:
    """Every registered component, from the process-wide plugin manager."""
    return get_plugin_manager().registry
