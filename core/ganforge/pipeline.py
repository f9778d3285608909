"""Inference: ``ganforge.load(run).generate(n, seed).save(dir)``.

Every sample has a seed of its own (``sample_seed(seed, i)``, or the user's ``seeds``),
from which its latent is drawn: a sample does not depend on how many were generated
with it or in what batch size, and ``generate(seeds=[s])`` remakes any file whose
``metadata.jsonl`` line says ``"seed": s``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import torch

from . import artifacts
from .build import build_network, load_component
from .errors import GanforgeError

PREVIEW_MAX = 64  # samples in the preview grid written beside generated files


def sample_seed(seed: int, index: int) -> int:
    """The seed of sample ``index`` of a call with ``seed``: distinct for every (seed, index)
    below 2**20 samples, and sample i of seed 0 is seed i."""
    return ((int(seed) << 20) + int(index)) % (2**63)


@dataclass
class GenerationResult:
    """Generated samples, as user objects (``images``, ``audio``, ``texts``) and files."""

    samples: torch.Tensor  # in the modality's tensor space
    records: list[dict]  # per sample: run, recipe, seed, index, condition, options
    modality: object
    save_options: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples)

    def _user(self, kind: str) -> list:
        made = getattr(self.modality, "result_kind", None)
        if made != kind:
            raise GanforgeError(f"this run makes {made or 'samples of its own kind'}, not {kind}; "
                                f"use result.{made}" if made else f"this run makes no {kind}")
        return self.modality.to_user(self.samples, **self.save_options)

    @property
    def images(self) -> list:
        """PIL images (image runs)."""
        return self._user("images")

    @property
    def audio(self) -> list:
        """numpy float32 arrays [frames, channels] at ``sample_rate`` (audio runs)."""
        return self._user("audio")

    @property
    def sample_rate(self) -> int:
        return int(getattr(self.modality, "sample_rate"))

    @property
    def texts(self) -> list[str]:
        """Strings (text runs)."""
        return self._user("texts")

    @property
    def objects(self) -> list:
        """The samples as the modality's user objects, whatever their kind: what ``images``,
        ``audio`` or ``texts`` give, or a plugin's own (a video's frames, a piano roll)."""
        return self.modality.to_user(self.samples, **self.save_options)

    def save(self, out_dir, prefix: str = "sample", preview: bool = True) -> list[Path]:
        """Write one file per sample (PNG / WAV / TXT, as the modality decides), a
        ``metadata.jsonl`` line per file, and a preview of the first samples."""
        out = _out_folder(out_dir)
        with open(out / "metadata.jsonl", "w", encoding="utf-8") as meta:
            paths = _write_batch(self.modality, self.samples, self.records, 0, out, prefix, self.save_options, meta)
        if preview:
            paths += _save_preview(self.modality, self.samples[:PREVIEW_MAX], self.records, out / f"{prefix}_grid")
        return paths


def _out_folder(out_dir) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise GanforgeError(f"cannot write {out}: it is a file; choose another --out folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _save_preview(modality, x, records, path) -> list[Path]:
    """The preview of the first samples; a class-conditional run's shows each sample's class."""
    labels = [str(r["class"]) for r in records[: len(x)]] if records and "class" in records[0] else None
    if labels is None:
        return list(modality.save_preview(x, path))
    return list(modality.save_preview(x, path, labels=labels))


def _write_batch(modality, x, records, start, out, prefix, options, meta) -> list[Path]:
    names = [f"{prefix}_{start + i:05d}" for i in range(len(x))]
    paths = list(modality.save_samples(x, out, names, metadata=records, append=start > 0, **options))
    for path, record in zip(paths, records):
        meta.write(json.dumps({"file_name": Path(path).name, **record}) + "\n")
    meta.flush()
    return paths


HUB_PREFIX = "hf:"
#: what a model on the Hugging Face Hub may contribute: JSON and safetensors, never a pickle
HUB_PATTERNS = ["*.json", "*.safetensors"]


def is_hub_name(name) -> bool:
    """``hf:user/name`` (optionally ``@revision``): a model on the Hugging Face Hub."""
    return isinstance(name, str) and name.startswith(HUB_PREFIX)


def resolve_hub(name: str) -> Path:
    """The local folder of ``hf:user/name[@revision]``: downloaded once into the hub cache
    (``HF_HUB_CACHE``), only its JSON and safetensors files; a cached copy is used when
    offline (``HF_HUB_OFFLINE=1``) or when the Hub cannot be reached."""
    import os

    spec = name[len(HUB_PREFIX):]
    repo_id, _, revision = spec.partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(c.isspace() for c in repo_id):
        raise GanforgeError(f"'{name}' is not a Hub model name; write hf:user/name (or hf:user/name@revision)")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, HFValidationError,
                                            LocalEntryNotFoundError, RepositoryNotFoundError,
                                            RevisionNotFoundError)
    except ModuleNotFoundError:
        raise GanforgeError(f"loading {name} needs huggingface_hub: pip install huggingface_hub") from None
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    try:
        folder = snapshot_download(repo_id, revision=revision or None, allow_patterns=HUB_PATTERNS,
                                   cache_dir=os.environ.get("HF_HUB_CACHE") or None, local_files_only=offline,
                                   library_name="ganforge")
    except GatedRepoError:
        raise GanforgeError(f"{name} is gated on the Hub: accept its terms on huggingface.co, then log in "
                            f"with `hf auth login`") from None
    except RevisionNotFoundError:
        raise GanforgeError(f"{name}: the Hub repository has no revision '{revision}'") from None
    except RepositoryNotFoundError:
        raise GanforgeError(f"{name} is not on the Hub (or it is private: log in with `hf auth login`)") from None
    except LocalEntryNotFoundError:
        why = "HF_HUB_OFFLINE is set" if offline else "the Hub cannot be reached"
        raise GanforgeError(f"{name} is not in the Hugging Face cache and {why}; connect once to download it") from None
    except HFValidationError as e:
        raise GanforgeError(f"'{name}' is not a Hub model name ({str(e).splitlines()[0]})") from None
    except (HfHubHTTPError, OSError) as e:
        raise GanforgeError(f"{name} could not be downloaded: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    folder = Path(folder)
    if not (folder / artifacts.RUN_FILE).is_file():
        raise GanforgeError(f"{name} is not a ganforge model (it has no {artifacts.RUN_FILE}); "
                            f"share one with `ganforge push RUN user/name`")
    return folder


class Pipeline:
    """A trained run, loaded for generation."""

    def __init__(self, run_dir, device: str = "auto", use_ema: bool = True):
        from .devices import resolve_device
        from .export import resolve_run

        self.run_dir = resolve_run(resolve_hub(run_dir) if is_hub_name(run_dir) else run_dir)
        info = artifacts.read_run_json(self.run_dir)
        folder = artifacts.checkpoint_dir(self.run_dir, info)
        if folder is None:
            raise GanforgeError(f"{self.run_dir} has no checkpoint yet; let its training reach checkpoint_every "
                                f"steps, or continue it with `ganforge train ... --resume`")
        self.info = info
        self.config = dict(info["config"])
        names, plugins = info["components"], info.get("plugins", {})
        self.modality = load_component("modality", names["modality"], plugins)(self.config, state=info["modality_state"])
        self.generator = build_network("generator", names["generator"], self.config, plugins)
        ema_file = folder / artifacts.WEIGHT_FILES["generator_ema"]
        weights = ema_file if use_ema and ema_file.is_file() else folder / artifacts.WEIGHT_FILES["generator"]
        artifacts.load_module(weights, self.generator)
        self.generator.eval()
        self.encoder = None
        if names.get("encoder"):
            self.encoder = build_network("encoder", names["encoder"], self.config, plugins)
            if self.encoder.trainable:
                artifacts.load_module(folder / artifacts.WEIGHT_FILES["encoder"], self.encoder)
            self.encoder.eval()
        self._checkpoint = folder
        self.device = torch.device("cpu")
        self.to(resolve_device(device) if isinstance(device, str) else device)

    def to(self, device) -> "Pipeline":
        """Move the networks to ``device`` ("cpu", "cuda", "auto", a torch.device ...)."""
        from .devices import resolve_device

        self.device = resolve_device(device) if isinstance(device, str) else torch.device(device)
        self.generator.to(self.device)
        if self.encoder is not None:
            self.encoder.to(self.device)
        return self

    @property
    def recipe(self) -> str:
        return self.info["recipe"]

    @property
    def conditional(self) -> bool:
        return self.encoder is not None

    def discriminator(self):
        """The trained discriminator (loaded on demand; generation does not need it)."""
        if self.info.get("exported"):
            raise GanforgeError(f"{self.run_dir} is an export (generation only): it has no discriminator")
        names, plugins = self.info["components"], self.info.get("plugins", {})
        D = build_network("discriminator", names["discriminator"], self.config, plugins)
        artifacts.load_module(self._checkpoint / artifacts.WEIGHT_FILES["discriminator"], D)
        return D.to(self.device).eval()

    # ------------------------------------------------------------------ generation

    def _conditions(self, classes, prompts, conditions=None):
        """``condition(start, stop) -> (field values, the user's value per sample)`` for the
        samples ``start:stop``, or None when the run is unconditional. Made per batch, so
        memory does not grow with n. ``conditions`` are values of the encoder's own data
        field as the data set holds them (a label tensor, captions, a modality's field such
        as music's given tracks): what ``classes`` and ``prompts`` are the user's form of."""
        given, option = (classes, "class") if classes else (prompts, "prompt") if prompts else (None, None)
        if conditions is not None and given:
            raise GanforgeError(f"give conditions or {option}s, not both")
        if self.encoder is None:
            if given or conditions is not None:
                raise GanforgeError(f"this run ({self.recipe}) is unconditional; drop "
                                    + (f"--{option}" if given else "conditions"))
            return None
        encoder, modality = self.encoder, self.modality
        if conditions is not None:
            values = conditions if isinstance(conditions, torch.Tensor) else list(conditions)
            if len(values) == 0:
                raise GanforgeError(f"conditions is empty: give at least one value of the run's "
                                    f"'{encoder.condition_key}' field")

            def raw(start: int, stop: int):
                index = torch.arange(start, stop) % len(values)
                part = values[index] if isinstance(values, torch.Tensor) else [values[i] for i in index.tolist()]
                return part, None  # field values (tensors, ...) are not the user's words: not in the metadata

            return raw
        if given:
            if option != encoder.user_option:
                raise GanforgeError(f"this run ({self.recipe}) is conditioned on '{encoder.condition_key}': "
                                    f"give --{encoder.user_option}, not --{option}")
            given = [given] if isinstance(given, str) else list(given)
            values = encoder.from_user(given, modality)  # validates every value once
        else:
            values = encoder.default_conditions(len(modality.class_names()) or 1, modality)
            if values is None:
                raise GanforgeError(f"this run ({self.recipe}) is conditional: give --{encoder.user_option} "
                                    f"({encoder.user_option}s=[...] in Python)")
            names = modality.class_names()
            given = [names[v] if encoder.user_option == "class" and isinstance(v, int) and v < len(names) else v
                     for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]

        def condition(start: int, stop: int):
            index = torch.arange(start, stop) % len(given)  # the user's values, cycled over the samples
            part = values[index] if isinstance(values, torch.Tensor) else [values[i] for i in index.tolist()]
            return part, [given[i] for i in index.tolist()]

        return condition

    def _batches(self, n, seed, seeds, classes, prompts, latents, batch_size, options, conditions=None) \
            -> Iterator[tuple[int, torch.Tensor, list[dict]]]:
        if seeds is not None:
            seeds = [int(s) for s in seeds]
            n = len(seeds)
        if latents is not None:
            n = len(latents)
        if n < 1:
            raise GanforgeError(f"n must be at least 1, got {n}")
        if batch_size < 1:
            raise GanforgeError(f"batch_size must be at least 1, got {batch_size}")
        condition = self._conditions(classes, prompts, conditions)
        condition_name = self.encoder.user_option if self.encoder is not None else None
        with torch.no_grad():
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                batch_seeds = seeds[start:stop] if seeds is not None else [sample_seed(seed, i) for i in range(start, stop)]
                if latents is not None:
                    z = latents[start:stop]
                else:
                    z = torch.cat([self.generator.sample_latent(1, generator=torch.Generator().manual_seed(s))
                                   for s in batch_seeds])
                cond, user = None, None
                if condition is not None:
                    part, user = condition(start, stop)
                    cond = self.encoder(part.to(self.device) if isinstance(part, torch.Tensor) else part)
                x = self.generator.generate(stop - start, cond=cond, latents=z.to(self.device), **options)
                x = x.float().cpu() if x.is_floating_point() else x.cpu()
                records = []
                for j, i in enumerate(range(start, stop)):
                    record = {"run": str(self.run_dir), "recipe": self.recipe,
                              "seed": None if latents is not None else batch_seeds[j], "index": i}
                    if user is not None:
                        record[condition_name] = user[j]
                    record["options"] = dict(options)
                    records.append(record)
                yield start, x, records

    def _split_options(self, options: dict) -> tuple[dict, dict]:
        """(generator options, save options): the modality names the options it uses."""
        save = {k: options[k] for k in options if k in self.modality.generation_options}
        return {k: v for k, v in options.items() if k not in save}, save

    def generate(self, n: int = 16, seed: int = 0, classes=None, prompts=None, seeds: Sequence[int] | None = None,
                 latents: torch.Tensor | None = None, batch_size: int = 64, conditions=None,
                 **options) -> GenerationResult:
        """``n`` samples in memory. The same ``seed`` gives the same samples; ``seeds`` gives
        one sample per seed; ``latents`` [n, ...] gives the latents themselves (interpolation,
        mixing). ``classes`` (names) or ``prompts`` (texts) condition a conditional run,
        cycled over the samples; ``conditions`` does the same with values of the encoder's
        data field as a data set holds them (``SampleSet.fields[encoder.condition_key]``:
        labels, captions, or a modality's own field). ``options`` go to the generator
        (``truncation``, ``temperature``) or to the modality's writer."""
        gen_options, save_options = self._split_options(options)
        chunks, records = [], []
        for _, x, recs in self._batches(n, seed, seeds, classes, prompts, latents, batch_size, gen_options,
                                        conditions):
            chunks.append(x)
            records += recs
        return GenerationResult(torch.cat(chunks), records, self.modality, save_options)

    def interpolate(self, values, steps: int = 8, seed: int = 0, **options) -> GenerationResult:
        """Frames from each of ``values`` (prompts, or class names) to the next, ``steps`` per
        pair, at one latent (``seed``): :func:`ganforge.interpolation.interpolate_conditions`;
        ``write_interpolation(result, out)`` there writes them with a strip and an animation."""
        from .interpolation import interpolate_conditions

        return interpolate_conditions(self, values, steps=steps, seed=seed, **options)

    def generate_to(self, out_dir, n: int = 16, seed: int = 0, classes=None, prompts=None,
                    seeds: Sequence[int] | None = None, batch_size: int = 64, prefix: str = "sample",
                    preview: bool = True, conditions=None, **options) -> list[Path]:
        """Like ``generate(...).save(out_dir)``, streamed: each batch is written as it is
        made, so memory stays flat in ``n`` and files appear as it goes."""
        gen_options, save_options = self._split_options(options)
        out = _out_folder(out_dir)
        paths: list[Path] = []
        first = None
        with open(out / "metadata.jsonl", "w", encoding="utf-8") as meta:
            for start, x, records in self._batches(n, seed, seeds, classes, prompts, None, batch_size, gen_options,
                                                   conditions):
                paths += _write_batch(self.modality, x, records, start, out, prefix, save_options, meta)
                if first is None:
                    first = (x[:PREVIEW_MAX], records[:PREVIEW_MAX])
        if preview:
            paths += _save_preview(self.modality, *first, out / f"{prefix}_grid")
        return paths


def load(run_dir, device: str = "auto", use_ema: bool = True) -> Pipeline:
    """Load a trained run for generation (the EMA generator unless ``use_ema=False``).
    ``run_dir`` is a run folder, an export, the name of a model a plugin ships, or
    ``hf:user/name`` for a model on the Hugging Face Hub (downloaded once; JSON and
    safetensors files only)."""
    return Pipeline(run_dir, device=device, use_ema=use_ema)


def generate(run_dir, n: int = 16, seed: int = 0, device: str = "auto", **kwargs) -> GenerationResult:
    """``ganforge.load(run_dir, device).generate(n, seed, **kwargs)`` in one call."""
    return load(run_dir, device=device).generate(n=n, seed=seed, **kwargs)
