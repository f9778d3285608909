"""Inference: ``ganforge.load(run).generate(n, seed).save(dir)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import artifacts
from .build import build_network, load_component
from .errors import GanforgeError


@dataclass
class GenerationResult:
    """Generated samples in the modality's tensor space, and how to write them as files."""

    samples: torch.Tensor
    conditions: dict | None
    modality: object
    save_options: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples)

    def save(self, out_dir, prefix: str = "sample", preview: bool = True) -> list[Path]:
        """Write one file per sample (PNG / WAV / TXT, as the modality decides) and a preview."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        names = [f"{prefix}_{i:05d}" for i in range(len(self.samples))]
        paths = list(self.modality.save_samples(self.samples, out, names, **self.save_options))
        if preview:
            paths += list(self.modality.save_preview(self.samples, out / f"{prefix}_grid"))
        return paths


class Pipeline:
    """A trained run, loaded for generation."""

    def __init__(self, run_dir, device: str = "cpu", use_ema: bool = True):
        self.run_dir = Path(run_dir)
        info = artifacts.read_run_json(self.run_dir)
        self.info = info
        self.config = dict(info["config"])
        self.device = torch.device(device)
        names, plugins = info["components"], info.get("plugins", {})
        self.modality = load_component("modality", names["modality"], plugins)(self.config, state=info["modality_state"])
        self.generator = build_network("generator", names["generator"], self.config, plugins)
        ema_file = self.run_dir / artifacts.WEIGHT_FILES["generator_ema"]
        weights = ema_file if use_ema and ema_file.is_file() else self.run_dir / artifacts.WEIGHT_FILES["generator"]
        artifacts.load_module(weights, self.generator)
        self.generator.to(self.device).eval()
        self.encoder = None
        if names.get("encoder"):
            self.encoder = build_network("encoder", names["encoder"], self.config, plugins)
            if self.encoder.trainable:
                artifacts.load_module(self.run_dir / artifacts.WEIGHT_FILES["encoder"], self.encoder)
            self.encoder.to(self.device).eval()

    @property
    def recipe(self) -> str:
        return self.info["recipe"]

    @property
    def conditional(self) -> bool:
        return self.encoder is not None

    def discriminator(self):
        """The trained discriminator (loaded on demand; generation does not need it)."""
        names, plugins = self.info["components"], self.info.get("plugins", {})
        D = build_network("discriminator", names["discriminator"], self.config, plugins)
        artifacts.load_module(self.run_dir / artifacts.WEIGHT_FILES["discriminator"], D)
        return D.to(self.device).eval()

    @torch.no_grad()
    def generate(self, n: int = 16, seed: int = 0, classes=None, prompts=None, batch_size: int = 64,
                 **options) -> GenerationResult:
        """``n`` samples; the same ``seed`` gives the same samples. ``classes`` (names) or
        ``prompts`` (texts) condition a conditional run; ``options`` go to the generator
        (``truncation``, ``temperature``, ...)."""
        if n < 1:
            raise GanforgeError(f"n must be at least 1, got {n}")
        if self.encoder is None and (classes or prompts):
            raise GanforgeError(f"this run ({self.recipe}) is unconditional; drop --class/--prompt")
        conditions = self.modality.generation_conditions(n, classes=classes, prompts=prompts)
        if self.encoder is not None and conditions is None:
            names = self.modality.class_names()
            if self.encoder.condition_key == "label" and names:
                conditions = {"label": torch.arange(n) % len(names)}
            else:
                raise GanforgeError(f"this run ({self.recipe}) is conditional: give --prompt TEXT (prompts=[...])")
        save_options = {k: options.pop(k) for k in list(options) if k in self.modality.generation_options}
        g = torch.Generator().manual_seed(int(seed))
        chunks = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            cond = None
            if conditions is not None:
                key = self.encoder.condition_key
                part = conditions[key][start : start + size]
                cond = self.encoder(part.to(self.device) if isinstance(part, torch.Tensor) else part)
            x = self.generator.generate(size, cond=cond, generator=g, **options)
            chunks.append(x.float().cpu() if x.is_floating_point() else x.cpu())
        return GenerationResult(torch.cat(chunks), conditions, self.modality, save_options)


def load(run_dir, device: str = "cpu", use_ema: bool = True) -> Pipeline:
    """Load a trained run for generation (the EMA generator unless ``use_ema=False``)."""
    return Pipeline(run_dir, device=device, use_ema=use_ema)
