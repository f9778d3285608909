"""Run configuration: recipe defaults < presets < config file (JSON) < explicit overrides."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import GanforgeError
from .recipe import Recipe

#: The largest seed: every seed the loop derives from it (seed * 1_000_003 + epoch for the
#: data order, seed * 1000 + rank, seed + 12345) still fits torch's 64-bit generator seed.
SEED_MAX = 2**32 - 1
#: Whole-number options must fit a 64-bit integer (what torch and the file formats hold).
INT_MAX = 2**63 - 1


def parse_value(text: str):
    """``--set`` values: JSON when it parses (numbers, true/false, lists), else the string."""
    lowered = text.strip()
    if lowered in ("True", "False"):
        return lowered == "True"
    try:
        return json.loads(lowered)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested beyond Python's stack
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
            try:
                number = float(value)
            except OverflowError:  # an int beyond the float range
                number = math.inf
            if not math.isfinite(number):
                raise GanforgeError(f"option '{key}' takes a finite number, got {value!r}")
            return number
        raise GanforgeError(f"option '{key}' takes a number, got {value!r}")
    if isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
        raise GanforgeError(f"option '{key}' takes a list such as {json.dumps(list(default))}, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        return str(value)
    return value

# ---------------------------------------------------------------------------- ranges

def _whole(low: int, high: int = INT_MAX, note: str = ""):
    def check(value):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            upper = "" if high == INT_MAX else f" and at most {high}"
            return f"a whole number of at least {low}{upper}{note}"
    return check


def _number(low: float, high: float | None = None, high_open: bool = False, note: str = ""):
    def check(value):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= low
        if ok and high is not None:
            ok = value < high if high_open else value <= high
        if not ok:
            if high is None:
                return f"a number of at least {low:g}{note}"
            return f"a number in [{low:g}, {high:g}{')' if high_open else ']'}{note}"
    return check


def _betas(value):
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) and 0 <= b < 1
                       for b in value)):
        return "two numbers in [0, 1), such as [0.5, 0.999]"


def _choice(*options):
    def check(value):
        if value not in options:
            return "one of " + ", ".join(options)
    return check


def _device(value):
    from .devices import check_device_name

    check_device_name(value)  # raises GanforgeError naming the valid spellings


#: What each option every recipe has may be, checked after coercion. Recipe-specific
#: options (``nz``, ``ngf`` ...) are checked by the networks that use them.
OPTION_RULES = {
    "steps": _whole(0),
    "batch_size": _whole(1),
    "seed": _whole(0, SEED_MAX),
    "optimizer": _choice("adam", "rmsprop"),
    "lr_g": _number(0.0),
    "lr_d": _number(0.0),
    "betas_g": _betas,
    "betas_d": _betas,
    "n_critic": _whole(1),
    "clip": _number(0.0),
    "gp_weight": _number(0.0),
    "ma_gp_weight": _number(0.0, note=" (0 disables)"),
    "ma_gp_power": _number(1.0),
    "r1_gamma": _number(0.0, note=" (0 disables)"),
    "r1_interval": _whole(1),
    "grad_clip": _number(0.0, note=" (0 disables)"),
    "ema_beta": _number(0.0, 1.0, high_open=True, note=" (0 disables)"),
    "ema_rampup": _number(0.0, note=" (0: off)"),
    "cond_dim": _whole(1),
    "device": _device,
    "amp": _choice("none", "bf16", "fp16"),
    "checkpoint_every": _whole(0, note=" (0: only at the end)"),
    "sample_every": _whole(0, note=" (0: never)"),
    "log_every": _whole(0, note=" (0: never)"),
    "preview_n": _whole(0, 100_000, note=" (0: no previews)"),
}

_FLAGS = {"steps": "--steps", "batch_size": "--batch-size", "device": "--device"}


def check_option(key: str, value) -> None:
    """Raise a one-line GanforgeError when ``value`` is outside what option ``key`` allows."""
    rule = OPTION_RULES.get(key)
    wanted = rule(value) if rule is not None else None
    if wanted:
        how = f"{_FLAGS[key]} or --set {key}=..." if key in _FLAGS else f"--set {key}=..."
        raise GanforgeError(f"option '{key}' must be {wanted}, got {json.dumps(value)}; change it with {how}")


def check_phase_lengths(recipe: Recipe, config: dict) -> None:
    """Every phase's length option (``steps``, ``mle_steps`` ...) is a whole number >= 0
    (0 skips the phase; all zero makes an untrained run, as a baseline)."""
    for phase in recipe.phases:
        key = phase.steps
        if key in config and key not in OPTION_RULES:
            wanted = _whole(0)(config[key])
            if wanted:
                raise GanforgeError(f"option '{key}' (length of phase '{phase.name}') must be {wanted}, "
                                    f"got {json.dumps(config[key])}; change it with --set {key}=...")


def resolve(recipe_name: str, recipe: Recipe, overrides: dict | None = None,
            config_file: str | Path | None = None) -> dict:
    """The full configuration of a run of ``recipe``."""
    defaults = recipe.all_defaults()
    user: dict = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GanforgeError(f"config file {path} does not exist") from None
        except UnicodeDecodeError:
            raise GanforgeError(f"config file {path} is not UTF-8 text; --config takes a JSON file of options") from None
        except json.JSONDecodeError as e:
            raise GanforgeError(f"config file {path} is not valid JSON: {e}") from None
        except RecursionError:
            raise GanforgeError(f"config file {path} is nested too deeply; --config takes a flat JSON object") from None
        except OSError as e:
            raise GanforgeError(f"config file {path} cannot be read: {e.strerror or e}") from None
        if not isinstance(loaded, dict):
            raise GanforgeError(
                f"config file {path} holds a JSON {_json_kind(loaded)}, not an object; "
                'write options as {"key": value, ...}'
            )
        user.update(loaded)
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
    if "encoder" in user and "conditional" not in user:  # naming an encoder asks for conditioning
        user["conditional"] = True
    config = dict(defaults)
    chosen = {**defaults, **user}
    for condition, values in recipe.presets.items():
        key, _, wanted = condition.partition("=")
        if str(chosen.get(key)).lower() == wanted.lower():
            config.update(values)
    for key, value in user.items():
        config[key] = _coerce(key, value, defaults[key])
    for key in OPTION_RULES:
        if key in config:
            check_option(key, config[key])
    check_phase_lengths(recipe, config)
    config["recipe"] = recipe_name
    return config


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
