"""The ``ganforge`` command. Heavy libraries are imported inside the commands that need them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import GanforgeError

BUILTIN_COMMANDS = ("plugins", "recipes", "train", "generate", "evaluate", "export", "data", "demo", "new-plugin")


def _manager():
    from .plugins import get_plugin_manager

    return get_plugin_manager()


# ---------------------------------------------------------------------------- commands


def cmd_plugins(args) -> int:
    plugins = _manager().list()
    if args.requirements:
        print("\n".join(_requirements(plugins)))
        return 0
    if args.json:
        print(json.dumps([p.as_dict() for p in plugins], indent=2))
        return 0
    rows = [("name", "version", "components", "status")]
    for p in plugins:
        comps = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in p.components.items()) or "-"
        status = "ok" if p.status == "ok" else f"{p.status.upper()}: {p.error}"
        rows.append((p.name, p.version or "-", comps, status))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    return 0


def _requirements(plugins) -> list[str]:
    """pip requirement lines: ganforge first, then each plugin distribution once; plugins
    without a distribution (in-process, ``-p``) as comments, since pip cannot install them."""
    from importlib import metadata

    from . import __version__

    try:
        core_version = metadata.version("ganforge")
    except metadata.PackageNotFoundError:  # run from a source tree
        core_version = __version__
    lines, seen, local = [f"ganforge=={core_version}"], {"ganforge"}, []
    for p in plugins:
        if p.distribution is None:
            local.append(f"# {p.name}: module {p.module}, not from a distribution (add it by hand)")
            continue
        key = p.distribution.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        line = f"{p.distribution}=={p.version}" if p.version else p.distribution
        if p.status != "ok":
            line += f"  # {p.name}: {p.status}"
        lines.append(line)
    return lines + local


def cmd_recipes(args) -> int:
    registry = _manager().registry
    if args.name:
        entry = registry.find("recipe", args.name)
        recipe = entry.load()
        defaults, helps = recipe.all_defaults(), recipe.option_help()
        if args.json:
            print(json.dumps({"name": entry.full_name, "summary": entry.summary, "modality": recipe.modality,
                              "generator": recipe.generator, "discriminator": recipe.discriminator,
                              "objective": recipe.objective, "phases": [p.name for p in recipe.phases],
                              "options": {k: {"default": defaults[k], "help": helps.get(k, "")} for k in defaults},
                              "presets": recipe.presets}, indent=2))
            return 0
        print(f"{entry.full_name}: {entry.summary}")
        if recipe.reference:
            print(f"  reference: {recipe.reference}")
        print(f"  modality {recipe.modality}, generator {recipe.generator}, discriminator {recipe.discriminator}, "
              f"objective {recipe.objective}")
        print(f"  phases: {', '.join(f'{p.name} ({p.steps})' for p in recipe.phases)}")
        print("\noptions (--set key=value):")
        width = max(len(k) for k in defaults)
        for key in sorted(defaults):
            print(f"  {key.ljust(width)}  {json.dumps(defaults[key]):>16}  {helps.get(key, '')}")
        if recipe.presets:
            print("\npresets (applied unless you set these options yourself):")
            for cond, values in recipe.presets.items():
                print(f"  {cond}: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items()))
        return 0
    entries = registry.entries("recipe")
    if args.json:
        print(json.dumps([{"name": e.full_name, "summary": e.summary} for e in entries], indent=2))
        return 0
    width = max((len(e.name) for e in entries), default=0)
    for e in entries:
        print(f"{e.name.ljust(width)}  {e.summary}")
    if not entries:
        print("no recipes: install a plugin (see `ganforge plugins`)")
    return 0


def _overrides(args) -> dict:
    from .config import parse_assignments

    overrides = parse_assignments(args.set)
    for key in ("steps", "batch_size", "device", "seed"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return overrides


def cmd_train(args) -> int:
    from .training import train

    run = train(args.recipe, data=args.data, out=args.out, overrides=_overrides(args), resume=args.resume,
                config_file=args.config)
    status = "stopped (resume with --resume)" if run.stopped_early else "finished"
    if not run.is_main:
        return 0
    print(f"training {status} at step {run.step}; run saved in {run.out}")
    print(f"generate with: ganforge generate {run.out} --out {run.out / 'generated'}")
    return 130 if run.stopped_early else 0


def parse_seeds(text: str) -> list[int]:
    """StyleGAN's ``--seeds``: ``1-16``, ``3,7,9`` or both (``1-4,10``)."""
    from .errors import GanforgeError

    seeds = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise GanforgeError(f"--seeds takes numbers and ranges such as 1-16 or 3,7,9; got '{text}'") from None
    if not seeds:
        raise GanforgeError(f"--seeds '{text}' names no seed")
    return seeds


def cmd_generate(args) -> int:
    from .config import parse_assignments
    from .pipeline import load

    prompts = list(args.prompt or [])
    if args.prompts_file:
        try:
            lines = Path(args.prompts_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise GanforgeError(f"--prompts-file {args.prompts_file} cannot be read: {getattr(e, 'strerror', None) or e}")
        prompts += [line.strip() for line in lines if line.strip()]
        if not prompts:
            raise GanforgeError(f"--prompts-file {args.prompts_file} holds no prompts (one per line)")
    pipe = load(args.run, device=args.device)
    seeds = parse_seeds(args.seeds) if args.seeds else None
    paths = pipe.generate_to(args.out, n=args.n, seed=args.seed, seeds=seeds, classes=args.classes,
                             prompts=prompts or None, batch_size=args.batch_size, **parse_assignments(args.set))
    kind = getattr(pipe.modality, "file_kind", "file")
    count = len(seeds) if seeds else args.n
    print(f"wrote {count} {kind} samples to {args.out} ({len(set(paths))} files, metadata.jsonl)")
    return 0


def cmd_evaluate(args) -> int:
    from .metrics import evaluate
    from .pipeline import load

    pipe = load(args.run, device=args.device)
    scores = evaluate(pipe, args.data, metrics=args.metric or None, n=args.n, seed=args.seed, features=args.features)
    if args.json:
        print(json.dumps(scores, indent=2))
        return 0
    space = scores.get("feature_space")
    if space:
        print(f"feature space: {space} (figures from different feature spaces are not comparable)")
    if scores.get("feature_space_judges"):
        print(f"  what it can judge: {scores['feature_space_judges']}")
    for key, value in scores.items():
        if key not in ("feature_space", "feature_space_judges"):
            print(f"  {key:>20}: {value:.4f}" if isinstance(value, float) else f"  {key:>20}: {value}")
    return 0


def cmd_export(args) -> int:
    from .export import export_run

    out = export_run(args.run, args.out, half=args.half)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"exported {args.run} to {out} ({size / 1e6:.1f} MB, generation only); "
          f"use it like a run: ganforge generate {out} --out DIR")
    return 0


def cmd_data(args) -> int:
    from .config import parse_assignments

    registry = _manager().registry
    if not args.name:
        for e in registry.entries("dataset"):
            print(f"{e.name:12} {e.summary}")
        return 0
    make = registry.get("dataset", args.name)
    try:
        path = make(Path(args.out), **parse_assignments(args.set))
    except TypeError as e:
        raise GanforgeError(f"data set '{args.name}' does not take those options ({e})") from None
    print(f"wrote data set '{args.name}' to {path}")
    return 0


def cmd_demo(args) -> int:
    """The quickstart a plugin registers (``ganforge_register_demos``)."""
    registry = _manager().registry
    if args.list:
        for e in registry.entries("demo"):
            print(f"{e.name:12} {e.summary}")
        return 0
    if args.name:
        entry = registry.find("demo", args.name)
    else:
        entries = registry.entries("demo")
        if not entries:
            raise GanforgeError("no demo is installed: install a plugin that registers one (see `ganforge plugins`)")
        entry = entries[0]
    entry.load()(Path(args.out), steps=args.steps, quick=args.quick)
    return 0


def cmd_new_plugin(args) -> int:
    from .newplugin import names, write_plugin

    files = write_plugin(args.name, args.out)
    spell = names(args.name)
    print(f"wrote plugin '{args.name}' ({spell['dist']}, {len(files)} files) to {args.out}")
    print(f"next: pip install -e {args.out} && ganforge plugins && (cd {args.out} && pytest)")
    return 0


# ---------------------------------------------------------------------------- parser


def build_parser(plugin_commands) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganforge",
        description="Train and sample generative adversarial networks for images, audio and text.",
        epilog="Start with `ganforge demo`. Options of a recipe: `ganforge recipes NAME`.",
    )
    parser.add_argument("-p", dest="plugin_modules", action="append", default=[], metavar="MODULE",
                        help="load an importable module as a plugin (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"ganforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plugins", help="list installed plugins and what they register")
    p.add_argument("--json", action="store_true")
    p.add_argument("--requirements", action="store_true",
                   help="print ganforge and the installed plugins as pip requirements (pip freeze style)")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("recipes", help="list recipes, or show one recipe's options")
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recipes)

    p = sub.add_parser("train", help="train a recipe on your data")
    p.add_argument("recipe")
    p.add_argument("--data", required=True, help="folder or file of training data")
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--seed", type=int, help="seed of weights, data order and latents")
    p.add_argument("--device", help="cpu, cuda, cuda:N or auto (default: auto)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a recipe option")
    p.add_argument("--config", help="JSON file of options")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("generate", help="generate samples from a trained run")
    p.add_argument("run")
    p.add_argument("--out", required=True)
    p.add_argument("-n", type=int, default=16, help="how many samples")
    p.add_argument("--seed", type=int, default=0, help="seed of the call (sample i gets a seed of its own)")
    p.add_argument("--seeds", help="one sample per seed: 1-16, 3,7,9 (instead of -n/--seed)")
    p.add_argument("--prompt", action="append", help="text condition (repeatable; cycled over the samples)")
    p.add_argument("--prompts-file", dest="prompts_file", help="prompts, one per line (after any --prompt)")
    p.add_argument("--class", dest="classes", action="append", help="class name (repeatable)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="generation option of the model (truncation=0.7, temperature=0.8, ...)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=64, help="samples per forward pass")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("evaluate", help="score a run against data")
    p.add_argument("run")
    p.add_argument("--data", required=True)
    p.add_argument("--metric", action="append", help="metric name (repeatable; default: the modality's)")
    p.add_argument("-n", type=int, help="generated samples to score")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features", help="feature space for distances: a TorchScript file, or a modality's named space "
                        "(see the modality's docs)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("export", help="copy what generation needs from a run (to share it or ship it)")
    p.add_argument("run")
    p.add_argument("--out", required=True, help="a new folder")
    p.add_argument("--half", action="store_true", help="store the weights in half precision (half the size)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("data", help="write a built-in demo data set")
    p.add_argument("name", nargs="?", help="data set name (none: list them)")
    p.add_argument("--out", help="folder to write")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="data set option (n, seed ...)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("demo", help="quickstart: make demo data, train a small model, generate samples")
    p.add_argument("name", nargs="?", help="which demo (default: the first installed; --list shows them)")
    p.add_argument("--out", default="ganforge-demo")
    p.add_argument("--steps", type=int, help="training steps (default: the demo's own)")
    p.add_argument("--quick", action="store_true", help="a smoke-test-sized run (seconds)")
    p.add_argument("--list", action="store_true", help="list the installed demos")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("new-plugin", help="write a pip-installable plugin distribution from the authors' template")
    p.add_argument("name", help="plugin name: lower-case letters, digits, hyphens (my-thing)")
    p.add_argument("--out", required=True, help="folder to write (new or empty)")
    p.set_defaults(func=cmd_new_plugin)

    for entry in plugin_commands:
        p = sub.add_parser(entry.name, help=f"{entry.summary} [plugin {entry.plugin}]", add_help=False)
        p.add_argument("argv", nargs=argparse.REMAINDER)
        p.set_defaults(func=None, plugin_command=entry)
    return parser


# ---------------------------------------------------------------------------- checks of the arguments

_PATH_ARGS = {"run": "RUN", "out": "--out", "data": "--data", "config": "--config", "features": "--features"}


def _check_args(args) -> None:
    """What argparse cannot check: empty paths, ranges of numbers, the device; one-line errors."""
    from .config import INT_MAX, SEED_MAX

    for attr, flag in _PATH_ARGS.items():
        value = getattr(args, attr, None)
        if isinstance(value, str):
            if not value.strip():
                raise GanforgeError(f"{flag} is empty; give a path")
            if "\0" in value:
                raise GanforgeError(f"{flag} contains a NUL character; give a path")
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise GanforgeError(f"--seed must be a whole number from 0 to {SEED_MAX}, got {seed}")
    wanted = {"n": ("-n", 1)}
    if args.command == "generate":
        wanted["batch_size"] = ("--batch-size", 1)
    if args.command == "demo":
        wanted["steps"] = ("--steps", 1)
    for attr, (flag, low) in wanted.items():
        value = getattr(args, attr, None)
        if isinstance(value, int) and not low <= value <= INT_MAX:
            raise GanforgeError(f"{flag} must be a whole number of at least {low}, got {value}")
    device = getattr(args, "device", None)
    if isinstance(device, str):
        if args.command == "train":  # the run resolves it (LOCAL_RANK under torchrun); the spelling is known now
            from .devices import check_device_name

            check_device_name(device)
        else:
            from .devices import resolve_device

            args.device = str(resolve_device(device))
    if args.command == "data" and args.name:
        _check_dataset_options(args.name, args.set)


def _check_dataset_options(name: str, assignments: list[str]) -> None:
    """``ganforge data NAME --set k=v``: values of the type the data set's defaults have."""
    import inspect

    from .config import INT_MAX, _coerce, parse_assignments

    make = _manager().registry.get("dataset", name)
    try:
        params = inspect.signature(make).parameters
    except (TypeError, ValueError):
        return
    for key, value in parse_assignments(assignments).items():
        param = params.get(key)
        if param is None or param.default is inspect.Parameter.empty:
            continue  # unknown options: cmd_data says which the data set takes
        try:
            value = _coerce(key, value, param.default)
        except GanforgeError as e:
            raise GanforgeError(f"data set '{name}': {e}") from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_MAX:
            raise GanforgeError(f"data set '{name}': option '{key}' is too large, got {value}")


def _within(path: str, folder: str) -> bool:
    """``path`` is ``folder``, inside it, or one of the folders leading to it."""
    import os

    a, b = os.path.abspath(path), os.path.abspath(folder)
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep) or b.startswith(a.rstrip(os.sep) + os.sep)


def _os_error_message(e: OSError, args) -> str:
    reason = e.strerror or str(e) or type(e).__name__
    path = e.filename
    if path is None:
        return f"{reason}; check the paths you gave, their permissions and the free disk space"
    path = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    out = getattr(args, "out", None)
    if isinstance(out, str) and _within(path, out):
        return f"cannot write {path}: {reason}; choose another --out"
    return f"cannot use {path}: {reason}; check the path and its permissions"


def _one_line(message: str) -> str:
    return message.replace("\r", "\\r").replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = None
    try:
        # -p modules must be known before the parser lists plugin commands
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("-p", dest="plugin_modules", action="append", default=[])
        known, _ = pre.parse_known_args(argv)
        from . import plugins

        if known.plugin_modules:
            plugins.reset(extra_modules=known.plugin_modules)
        commands = [e for e in plugins.get_plugin_manager().registry.entries("command")
                    if e.name not in BUILTIN_COMMANDS]
        parser = build_parser(commands)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        if args.func is None:
            result = args.plugin_command.load()(list(args.argv))
            return int(result or 0)
        if getattr(args, "command", None) == "data" and args.name and not args.out:
            parser.error("data NAME needs --out DIR")
        _check_args(args)
        return args.func(args)
    except GanforgeError as e:
        if debug:
            raise
        print(f"error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ganforge recipes NAME | head`: the reader left; nothing more to say
        try:  # stop Python's flush at exit from failing on the closed pipe again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as e:  # --out unwritable, read-only, a file; a full disk ...
        if debug:
            raise
        print(f"error: {_one_line(_os_error_message(e, args))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
