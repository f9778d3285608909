"""Building a run's parts from its configuration; shared by training and loading."""

from __future__ import annotations

from .components import build_config
from .errors import GanforgeError
from .plugins import get_plugin_manager


def component_names(recipe, config: dict) -> dict[str, str | None]:
    """Full ``plugin:name`` of every part a run of ``recipe`` with ``config`` uses."""
    registry = get_plugin_manager().registry
    names = {
        "modality": registry.find("modality", recipe.modality).full_name,
        "generator": registry.find("generator", config.get("generator", recipe.generator)).full_name,
        "discriminator": registry.find("discriminator", config.get("discriminator", recipe.discriminator)).full_name,
        "encoder": None,
        "augmentation": None,
    }
    if config.get("conditional") is True:
        names["encoder"] = registry.find("encoder", config["encoder"]).full_name
    if config.get("augment", "none") != "none":
        names["augmentation"] = registry.find("augmentation", config["augment"]).full_name
    return names


def plugin_versions(names: dict[str, str | None]) -> dict[str, dict]:
    """Which distribution and version made each plugin named in ``names``."""
    manager = get_plugin_manager()
    out = {}
    for full in filter(None, names.values()):
        plugin = full.split(":")[0]
        info = manager.plugins.get(plugin)
        if info is not None:
            out[plugin] = {"distribution": info.distribution, "version": info.version}
    return out


def load_component(kind: str, full_name: str, plugins_info: dict | None = None):
    """The class registered as ``full_name``; a missing plugin names the pip package to install."""
    registry = get_plugin_manager().registry
    try:
        return registry.find(kind, full_name).load()
    except GanforgeError:
        plugin = full_name.split(":")[0]
        if plugin not in get_plugin_manager().plugins or get_plugin_manager().plugins[plugin].status != "ok":
            dist = (plugins_info or {}).get(plugin, {}).get("distribution") or f"the package providing plugin '{plugin}'"
            raise GanforgeError(
                f"this run needs the {kind} '{full_name}' from plugin '{plugin}', which is not installed "
                f"or failed to load: pip install {dist} (see `ganforge plugins`)"
            ) from None
        raise


def build_network(kind: str, full_name: str, config: dict, plugins_info: dict | None = None):
    cls = load_component(kind, full_name, plugins_info)
    if getattr(cls, "config_class", None) is None:
        raise GanforgeError(f"{kind} '{full_name}' has no config_class; its plugin is broken")
    try:
        return cls(build_config(cls.config_class, config))
    except GanforgeError:
        raise
    except (RuntimeError, MemoryError, ValueError, OverflowError, TypeError) as e:
        # e.g. nz=10**13 (torch tries to allocate petabytes), hidden=-1 (a negative dimension)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise GanforgeError(
            f"the {kind} '{full_name}' cannot be built from this configuration ({type(e).__name__}: {first}); "
            f"check its size options (`ganforge recipes NAME` lists them) or the run's ganforge.json"
        ) from e
