"""The checks of the conformance kit; see :mod:`ganforge.testing`."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from .. import artifacts
from ..components import Generator, build_config
from ..plugins import get_plugin_manager

#: options every kit run adds under the author's: CPU, no progress bar, few previews, small runs
KIT_OVERRIDES = {"device": "cpu", "progress": False, "preview_n": 2, "sample_every": 0, "checkpoint_every": 0,
                 "log_every": 1, "seed": 0}


def _fail(what: str, message: str):
    raise AssertionError(f"{what}: {message}")


def _require(ok, what: str, message: str) -> None:
    if not ok:
        _fail(what, message)


def _entry(kind: str, name):
    """(full name, object) of a registered component; a class given directly is used as is."""
    if not isinstance(name, str):
        return getattr(name, "__name__", repr(name)), name
    entry = get_plugin_manager().registry.find(kind, name)
    return entry.full_name, entry.load()


def _tmp(tmp) -> Path:
    return Path(tmp) if tmp is not None else Path(tempfile.mkdtemp(prefix="ganforge-check-"))


def _data(data, tmp: Path) -> Path:
    """A path, or a callable (``dataset(...)``) that writes the data under ``tmp`` and returns its path."""
    if callable(data):
        return Path(data(tmp))
    return Path(data)


def dataset(name: str, **options) -> Callable[[Path], Path]:
    """Data for a check, written by a registered data set maker (``ganforge data NAME``) when
    the check runs: ``dataset("ring", n=200)``."""

    def make(tmp: Path) -> Path:
        out = Path(tmp) / f"data-{name}"
        if out.exists():
            return out
        return Path(get_plugin_manager().registry.get("dataset", name)(out, **options))

    make.__name__ = f"dataset_{name}"
    return make


def _build(cls, config: dict, seed: int):
    torch.manual_seed(seed)
    return cls(build_config(cls.config_class, config))


def _same_state(a, b) -> str | None:
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        return f"state_dict keys differ: {sorted(set(sa) ^ set(sb))[:5]}"
    for k in sa:
        if sa[k].shape != sb[k].shape or not torch.equal(sa[k], sb[k]):
            return f"'{k}' differs"
    return None


def _stray_tensors(module: torch.nn.Module) -> list[str]:
    """Tensor attributes that are neither parameters nor buffers: ``.to(device)`` leaves them behind."""
    stray = []
    for prefix, sub in module.named_modules():
        registered = set(sub._parameters) | set(sub._buffers)
        for key, value in vars(sub).items():
            if isinstance(value, torch.Tensor) and key not in registered and not key.startswith("__"):
                stray.append(f"{prefix + '.' if prefix else ''}{key}")
    return stray


def _check_network_basics(what: str, cls, config: dict, tmp: Path):
    _require(getattr(cls, "config_class", None) is not None, what,
             "has no config_class (a dataclass whose fields are filled from the run configuration)")
    a, b = _build(cls, config, 0), _build(cls, config, 0)
    _require(isinstance(a, torch.nn.Module), what, f"builds a {type(a).__name__}, not an nn.Module")
    differs = _same_state(a, b)
    _require(differs is None, what, f"two builds under the same torch seed differ ({differs}); draw every "
             "initial weight from torch's global RNG")
    stray = _stray_tensors(a)
    _require(not stray, what, f"holds tensors that are neither parameters nor buffers ({', '.join(stray[:5])}): "
             "they do not move with .to(device) and are not saved in the run; use register_buffer")
    # state through the run format: safetensors, loaded strictly into a freshly built network
    path = tmp / f"{cls.__name__}.safetensors"
    try:
        artifacts.save_module(path, a, step=0)
        c = _build(cls, config, 1)
        artifacts.load_module(path, c)
    except Exception as e:  # noqa: BLE001 - the message says which network failed
        _fail(what, f"its weights do not survive the run format (safetensors save / strict load): {e}")
    differs = _same_state(a, c)
    _require(differs is None, what, f"weights loaded from safetensors differ from those saved ({differs})")
    return a, c


def _target_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def _check_moved(what: str, module: torch.nn.Module, device: torch.device) -> None:
    for name, t in list(module.named_parameters()) + list(module.named_buffers()):
        _require(t.device.type == device.type, what, f"'{name}' stays on {t.device} after .to({device})")


# ---------------------------------------------------------------------------- networks


def check_generator(name, config: dict, sample_shape: tuple | None = None, cond: torch.Tensor | None = None,
                    tmp=None) -> None:
    """A generator (registered name or class) built from ``config``: deterministic under a seed,
    samples of ``sample_shape`` (the modality's tensor shape) in a floating dtype or token ids,
    reproducible from a ``torch.Generator``, the same after a safetensors round trip, movable."""
    full, cls = _entry("generator", name)
    what = f"generator '{full}'"
    tmp = _tmp(tmp)
    g, g2 = _check_network_basics(what, cls, config, tmp)
    g.eval(), g2.eval()
    n = 3 if cond is None else len(cond)
    z = g.sample_latent(n, generator=torch.Generator().manual_seed(0))
    _require(isinstance(z, torch.Tensor) and z.shape[0] == n, what,
             f"sample_latent({n}) gave {getattr(z, 'shape', type(z).__name__)}, not a tensor of {n} latents")

    def gen(module, device=torch.device("cpu")):
        c = None if cond is None else cond.to(device)
        with torch.no_grad():
            return module.generate(n, cond=c, generator=torch.Generator().manual_seed(0))

    x = gen(g)
    _require(isinstance(x, torch.Tensor), what, f"generate() returned {type(x).__name__}, not a tensor")
    _require(x.shape[0] == n, what, f"generate({n}) returned {x.shape[0]} samples")
    if sample_shape is not None:
        _require(tuple(x.shape[1:]) == tuple(sample_shape), what,
                 f"samples have shape {tuple(x.shape[1:])}, the modality's data {tuple(sample_shape)}")
    if x.is_floating_point():
        _require(x.dtype == torch.float32, what, f"samples are {x.dtype}; the loop and modalities expect float32")
        _require(bool(torch.isfinite(x).all()), what, "samples hold NaN or inf")
    else:
        _require(not x.is_complex(), what, f"samples are {x.dtype}")
    _require(torch.equal(x, gen(g)), what, "the same torch.Generator seed gave different samples")
    if type(g).forward_with_extras is not Generator.forward_with_extras:
        with torch.no_grad():
            both = g.forward_with_extras(z, cond)
        _require(isinstance(both, tuple) and len(both) == 2 and isinstance(both[1], dict), what,
                 "forward_with_extras() must return (samples, dict of extra outputs)")
        _require(torch.equal(both[0], g.generate(n, cond=cond, latents=z)), what,
                 "forward_with_extras()[0] differs from the samples of the same latents: it must be what forward gives")
    _require(torch.equal(x, gen(g2)), what, "samples differ after its weights went through safetensors")
    device = _target_device()
    g.to(device)
    _check_moved(what, g, device)
    y = gen(g, device)
    _require(y.device.type == device.type, what, f"on {device} it returned samples on {y.device}")


def check_discriminator(name, config: dict, x: torch.Tensor, cond: torch.Tensor | None = None, tmp=None) -> None:
    """A discriminator built from ``config`` scores a real batch ``x`` with one finite float
    per sample ([B]), deterministically, with gradients back to a float input (R1 needs them),
    the same after a safetensors round trip, and moves with ``.to``."""
    full, cls = _entry("discriminator", name)
    what = f"discriminator '{full}'"
    tmp = _tmp(tmp)
    d, d2 = _check_network_basics(what, cls, config, tmp)

    def score(module, inp, c=cond):
        return module(inp, c) if c is not None else module(inp)

    d.eval(), d2.eval()
    with torch.no_grad():
        s = score(d, x)
        _require(isinstance(s, torch.Tensor) and tuple(s.shape) == (len(x),), what,
                 f"scores have shape {tuple(getattr(s, 'shape', ()))}, not [{len(x)}] (one logit per sample)")
        _require(s.is_floating_point() and bool(torch.isfinite(s).all()), what, "scores are not finite floats")
        _require(torch.equal(s, score(d, x)), what, "scoring the same batch twice in eval mode differs")
        _require(torch.allclose(s, score(d2, x)), what, "scores differ after its weights went through safetensors")
    if x.is_floating_point():
        d.train()
        xg = x.detach().clone().requires_grad_(True)
        score(d, xg).sum().backward()
        _require(xg.grad is not None and bool(torch.isfinite(xg.grad).all()), what,
                 "no finite gradient reaches its input (R1, R2 and gradient penalties need one)")
    device = _target_device()
    d.to(device)
    _check_moved(what, d, device)
    with torch.no_grad():
        out = score(d, x.to(device), None if cond is None else cond.to(device))
    _require(out.device.type == device.type, what, f"on {device} it returned scores on {out.device}")


# ---------------------------------------------------------------------------- training contexts


def _context(recipe: str, data, overrides: dict | None, tmp: Path):
    """A Run set up exactly as training sets it up (modality loaded, networks built), not trained."""
    from ..training.loop import Run

    run = Run(recipe, _data(data, tmp), tmp / "context", overrides={**KIT_OVERRIDES, **(overrides or {})})
    run.close()
    return run


def check_modality(name, data, config: dict | None = None, tmp=None) -> None:
    """A modality loads ``data`` into a non-empty SampleSet whose batches are float tensors,
    keeps JSON state that rebuilds the same batches, and writes samples and previews."""
    full, cls = _entry("modality", name)
    what = f"modality '{full}'"
    tmp = _tmp(tmp)
    path = _data(data, tmp)
    config = dict(config or {})
    m = cls(config, None)
    samples = m.load(path)
    _require(len(samples) > 0, what, f"loaded no samples from {path}")
    idx = torch.arange(min(4, len(samples)))
    batch = samples.batch(idx)
    x = batch["x"]
    _require(isinstance(x, torch.Tensor) and x.shape[0] == len(idx), what,
             f"a batch of {len(idx)} gave x {getattr(x, 'shape', type(x).__name__)}")
    _require(x.is_floating_point() or x.dtype in (torch.long, torch.int), what,
             f"a batch's x is {x.dtype}: give to_model that turns storage into float32 (or token ids)")
    derived = m.derived_config()
    _require(isinstance(derived, dict), what, "derived_config() must return a dict")
    try:
        state = json.loads(json.dumps(m.state))
        json.dumps(derived)
    except (TypeError, ValueError) as e:
        _fail(what, f"state or derived_config is not JSON ({e}); ganforge.json keeps them")
    again = cls(config, state)
    batch2 = again.load(path).batch(idx)
    _require(torch.equal(batch2["x"], x), what, "rebuilt from its saved state, it serves different tensors")
    _require(again.derived_config() == derived, what, "rebuilt from its saved state, derived_config differs")
    if m.result_kind is not None:  # GenerationResult.<result_kind> gives user objects through to_user
        users = list(m.to_user(x))
        _require(len(users) == len(x), what, f"to_user gave {len(users)} objects for {len(x)} samples")
    out = tmp / "samples"
    out.mkdir(parents=True, exist_ok=True)
    names = [f"{i:06d}" for i in range(len(x))]
    meta = [{"index": i, "seed": i} for i in range(len(x))]
    paths = m.save_samples(x, out, names, meta)
    _require(len(paths) == len(x) and all(Path(p).is_file() for p in paths), what,
             f"save_samples must return one existing path per sample, got {paths!r}")
    paths = m.save_samples(x, out, [f"{i:06d}" for i in range(len(x), 2 * len(x))], meta, append=True)
    _require(all(Path(p).is_file() for p in paths), what, "save_samples with append=True lost files")
    previews = m.save_preview(x, out / "preview")
    _require(bool(previews) and all(Path(p).is_file() for p in previews), what,
             f"save_preview must write and return its files, got {previews!r}")
    _require(m.result_kind in (None, "images", "audio", "texts"), what,
             f"result_kind {m.result_kind!r} is none of images, audio, texts")


def check_encoder(name, recipe: str, data, overrides: dict | None = None, tmp=None) -> None:
    """A conditioning encoder, in a conditional run of ``recipe`` on ``data``: it reads a
    field the data has, embeds a batch as [B, dim] floats, and its defaults embed too."""
    full, cls = _entry("encoder", name)
    what = f"encoder '{full}'"
    tmp = _tmp(tmp)
    run = _context(recipe, data, {**(overrides or {}), "conditional": True, "encoder": full}, tmp)
    enc = run.encoder
    _require(isinstance(enc.condition_key, str), what, "condition_key must name a data field")
    _require(enc.user_option in ("class", "prompt"), what, f"user_option {enc.user_option!r}: 'class' or 'prompt'")
    _require(isinstance(enc.dim, int) and enc.dim > 0, what, f"dim {enc.dim!r} is not a positive int")
    batch = run.data.batch(torch.arange(min(4, len(run.data))))
    _require(enc.condition_key in batch, what,
             f"the data has no field '{enc.condition_key}' (fields: {sorted(batch)})")
    with torch.no_grad():
        e = enc(batch[enc.condition_key])
    _require(isinstance(e, torch.Tensor) and tuple(e.shape) == (len(batch["x"]), enc.dim), what,
             f"embeddings have shape {tuple(getattr(e, 'shape', ()))}, not [{len(batch['x'])}, {enc.dim}]")
    _require(e.is_floating_point() and bool(torch.isfinite(e).all()), what, "embeddings are not finite floats")
    defaults = enc.default_conditions(3, run.modality)
    if defaults is not None:
        with torch.no_grad():
            _require(tuple(enc(defaults).shape) == (3, enc.dim), what, "default_conditions(3) do not embed as [3, dim]")
    if enc.trainable:
        _check_network_basics(what, cls, run.config, tmp)


# ---------------------------------------------------------------------------- the loop


def _weights(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def check_recipe(name: str, data, overrides: dict | None = None, tmp=None) -> Any:
    """Two steps of ``recipe`` through ``ganforge.train``; one step, then a resume to two,
    ends with the same weights; the run loads and generates reproducibly and saves files."""
    import ganforge

    tmp = _tmp(tmp)
    what = f"recipe '{name}'"
    path = _data(data, tmp)
    options = {**KIT_OVERRIDES, **(overrides or {})}
    straight = ganforge.train(name, data=path, out=tmp / "straight", overrides={**options, "steps": 2})
    _require(straight.step >= 2, what, f"two steps ended at step {straight.step}")
    ganforge.train(name, data=path, out=tmp / "resumed", overrides={**options, "steps": 1})
    resumed = ganforge.train(name, data=path, out=tmp / "resumed", overrides={**options, "steps": 2}, resume=True)
    _require(resumed.step == straight.step, what, f"resumed run ended at step {resumed.step}, not {straight.step}")
    for part in ("generator", "discriminator"):
        a, b = _weights(getattr(straight, part)), _weights(getattr(resumed, part))
        for k in a:
            _require(torch.allclose(a[k].float(), b[k].float(), atol=1e-6), what,
                     f"after 1 step + resume, the {part}'s '{k}' differs from 2 straight steps: "
                     "a resume must continue exactly (keep state in buffers, objective state_dict, the RNG)")
    pipe = ganforge.load(straight.out, device="cpu")
    first, second = pipe.generate(n=2, seed=0), pipe.generate(n=2, seed=0)
    _require(torch.equal(first.samples, second.samples), what, "generate(n=2, seed=0) twice gave different samples")
    kind = pipe.modality.result_kind
    if kind:
        _require(len(getattr(first, kind)) == 2, what, f"result.{kind} does not hold 2 samples")
    first.save(tmp / "generated")
    _require((tmp / "generated" / "metadata.jsonl").is_file(), what, "result.save wrote no metadata.jsonl")
    return straight


def check_objective(name, recipe: str, data, overrides: dict | None = None, tmp=None) -> None:
    """An objective drives two steps of ``recipe`` (``--set objective=NAME``) with finite
    losses; its state survives ``training_state.pt`` (loaded with weights_only=True)."""
    import ganforge

    full, cls = _entry("objective", name)
    what = f"objective '{full}'"
    tmp = _tmp(tmp)
    options = {**KIT_OVERRIDES, **(overrides or {}), "objective": full, "steps": 2}
    run = ganforge.train(recipe, data=_data(data, tmp), out=tmp / "objective", overrides=options)
    log = [json.loads(line) for line in (run.out / "log.jsonl").read_text().splitlines() if line.strip()]
    for record in log:
        for key, value in record.items():
            if isinstance(value, float):
                _require(value == value and abs(value) != float("inf"), what, f"logged {key}={value} at {record}")
    objective = next((o for o in run.objectives.values() if type(o) is cls), None)
    _require(objective is not None, what, f"recipe '{recipe}' never used it in two steps (objective={full} "
             "is replaced by each phase's own objective); choose another recipe=")
    regs = objective.regularizers()
    _require(isinstance(regs, list), what, "regularizers() must return a list")
    for r in regs:
        _require(r.network in ("generator", "discriminator") and int(r.interval) >= 1, what,
                 f"regularizer {r.name!r}: network {r.network!r}, interval {r.interval!r}")
    state = objective.state_dict()
    try:
        artifacts.save_state(tmp / "objective_state.pt", {"objective": state})
        loaded = artifacts.load_state(tmp / "objective_state.pt")["objective"]
    except Exception as e:  # noqa: BLE001
        _fail(what, f"state_dict() does not survive training_state.pt with weights_only=True: {e}")
    fresh = cls(run.config)
    fresh.load_state_dict(loaded)
    _require(_equal(fresh.state_dict(), state), what,
             f"load_state_dict(state_dict()) does not restore it: {fresh.state_dict()!r:.200} != {state!r:.200}")


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


# ---------------------------------------------------------------------------- all the checks of a plugin


@dataclass
class Check:
    """One check of one component, runnable as ``check(tmp_path)``."""

    id: str
    run: Callable[[Path], Any]

    def __call__(self, tmp_path=None):
        return self.run(_tmp(tmp_path))

    def __repr__(self) -> str:
        return self.id


def _pick(value, *keys):
    """``value`` when it is a path or callable; for a dict, the first of ``keys`` it has (or "*")."""
    if isinstance(value, dict):
        for key in (*keys, "*"):
            if key in value:
                return value[key]
        return None
    return value


def plugin_checks(plugin: str, data=None, overrides: dict | None = None, recipe: str | None = None,
                  select=None) -> list[Check]:
    """Every check of every component ``plugin`` registers, as :class:`Check` objects.

    ``data``: a path or ``dataset(...)`` for every recipe, or a dict of them by recipe name
    (``"*"`` for the rest). ``overrides``: options of every run (make the networks tiny).
    ``recipe``: the recipe that networks, encoders and objectives are tried in when none of
    the plugin's recipes uses them (default: the plugin's first recipe). ``select``: only
    the components (or recipes) with these short or full names.
    """
    registry = get_plugin_manager().registry
    _require(plugin in get_plugin_manager().plugins, f"plugin '{plugin}'",
             f"is not loaded (loaded: {', '.join(sorted(get_plugin_manager().plugins))})")
    overrides = dict(overrides or {})
    mine = {kind: [e for e in registry.entries(kind) if e.plugin == plugin]
            for kind in ("modality", "generator", "discriminator", "encoder", "objective", "recipe")}
    wanted = lambda e: select is None or e.name in select or e.full_name in select  # noqa: E731
    recipes = [e for e in mine["recipe"] if wanted(e)]
    all_recipes = [e for e in registry.entries("recipe")]
    default_recipe = recipe or (recipes[0].full_name if recipes else (mine["recipe"][0].full_name if mine["recipe"] else None))

    def recipe_using(kind: str, entry) -> str | None:
        for r in ([e for e in mine["recipe"]] + all_recipes):
            try:
                if registry.find(kind, getattr(r.load(), kind)).full_name == entry.full_name:
                    return r.full_name
            except Exception:  # noqa: BLE001 - another plugin's broken recipe is not ours to check
                continue
        return default_recipe

    checks: list[Check] = []

    def data_for(r: str):
        d = _pick(data, r, r.split(":")[-1])
        _require(d is not None, f"plugin '{plugin}'", f"no data given for recipe '{r}' (data={{'{r}': ...}})")
        return d

    def add(kind, entry, fn):
        checks.append(Check(f"{kind}:{entry.full_name}", fn))

    for e in mine["modality"]:
        if wanted(e):
            r = recipe_using("modality", e)
            def fn(tmp, e=e, r=r):
                run = _context(r, data_for(r), overrides, tmp)
                check_modality(e.full_name, run.data_path, run.config, tmp)
            add("modality", e, fn)
    for kind, check in (("generator", None), ("discriminator", None)):
        for e in mine[kind]:
            if not wanted(e):
                continue
            r = recipe_using(kind, e)

            def fn(tmp, e=e, r=r, kind=kind):
                own = registry.find(kind, getattr(registry.get("recipe", r), kind)).full_name
                extra = {} if own == e.full_name else {kind: e.full_name}  # a recipe that lets it be chosen
                run = _context(r, data_for(r), {**overrides, **extra}, tmp)
                batch = run.data.batch(torch.arange(min(4, len(run.data))))
                if kind == "generator":
                    check_generator(e.full_name, run.config, sample_shape=tuple(batch["x"].shape[1:]), tmp=tmp)
                else:
                    check_discriminator(e.full_name, run.config, batch["x"], tmp=tmp)
            add(kind, e, fn)
    for e in mine["encoder"]:
        if wanted(e) and default_recipe:
            add("encoder", e, lambda tmp, e=e: check_encoder(e.full_name, default_recipe, data_for(default_recipe),
                                                             overrides, tmp))
    for e in mine["objective"]:
        if wanted(e) and default_recipe:
            add("objective", e, lambda tmp, e=e: check_objective(e.full_name, default_recipe,
                                                                 data_for(default_recipe), overrides, tmp))
    for e in recipes:
        add("recipe", e, lambda tmp, e=e: check_recipe(e.full_name, data_for(e.full_name), overrides, tmp))
        add("recipe-conditional", e, lambda tmp, e=e: check_recipe_conditional(e.full_name, data_for(e.full_name),
                                                                                overrides, tmp))
    return checks


def check_recipe_conditional(name: str, data, overrides: dict | None = None, tmp=None) -> Any:
    """:func:`check_recipe` with ``conditional=true`` (the ``label`` encoder), when the data
    has two or more classes and the recipe is not conditional already; skipped otherwise."""
    import pytest

    tmp = _tmp(tmp)
    run = _context(name, data, overrides, tmp)
    if run.config.get("conditional"):
        pytest.skip(f"recipe '{name}' is conditional already: the recipe check covers it")
    if len(run.modality.class_names()) < 2:
        pytest.skip(f"the data of recipe '{name}' has fewer than 2 classes: give data with class sub-folders "
                    "to check class conditioning")
    return check_recipe(name, data, {**(overrides or {}), "conditional": True}, tmp)


def check_plugin(plugin: str, data=None, overrides: dict | None = None, recipe: str | None = None,
                 select=None, tmp=None) -> list[str]:
    """Run every check of ``plugin`` (see :func:`plugin_checks`); return the ids that passed."""
    tmp = _tmp(tmp)
    done = []
    import pytest

    for i, check in enumerate(plugin_checks(plugin, data, overrides, recipe, select)):
        folder = tmp / f"{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            check(folder)
        except pytest.skip.Exception:
            continue  # a check that does not apply (no classes in the data)
        done.append(check.id)
    return done
