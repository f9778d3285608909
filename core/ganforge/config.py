"""Run configuration: recipe defaults < presets < config file (JSON) < explicit overrides."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import GanforgeError
from .recipe import Recipe


def parse_value(text: str):
    """``--set`` values: JSON when it parses (numbers, true/false, lists), else the string."""
    lowered = text.strip()
    if lowered in ("True", "False"):
        return lowered == "True"
    try:
        return json.loads(lowered)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise GanforgeError(f"--set takes key=value, got '{item}'")
        out[key.strip()] = parse_value(value)
    return out


def _coerce(key: str, value, default):
    """Give ``value`` the type of ``default`` where that is unambiguous."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise GanforgeError(f"option '{key}' takes true or false, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise GanforgeError(f"option '{key}' takes a whole number, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise GanforgeError(f"option '{key}' takes a number, got {value!r}")
    if isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
        raise GanforgeError(f"option '{key}' takes a list such as {json.dumps(list(default))}, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        return str(value)
    return value


def resolve(recipe_name: str, recipe: Recipe, overrides: dict | None = None,
            config_file: str | Path | None = None) -> dict:
    """The full configuration of a run of ``recipe``."""
    defaults = recipe.all_defaults()
    user: dict = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            user.update(json.loads(path.read_text()))
        except FileNotFoundError:
            raise GanforgeError(f"config file {path} does not exist") from None
        except json.JSONDecodeError as e:
            raise GanforgeError(f"config file {path} is not valid JSON: {e}") from None
    user.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for key in user:
        if key not in defaults:
            import difflib

            guess = difflib.get_close_matches(key, list(defaults), n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise GanforgeError(
                f"unknown option '{key}' for recipe '{recipe_name}'{hint}; "
                f"`ganforge recipes {recipe_name}` lists them"
            )
    config = dict(defaults)
    chosen = {**defaults, **user}
    for condition, values in recipe.presets.items():
        key, _, wanted = condition.partition("=")
        if str(chosen.get(key)).lower() == wanted.lower():
            config.update(values)
    for key, value in user.items():
        config[key] = _coerce(key, value, defaults[key])
    config["recipe"] = recipe_name
    return config
