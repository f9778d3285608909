"""Base classes plugins subclass: Modality, Generator, Discriminator, ConditioningEncoder.

Networks are built from the flat run configuration: a network class names a
``config_class`` dataclass, and the loop fills its fields from the configuration keys
of the same names (after the modality has added what it learned from the data, such
as ``channels``, ``image_size``, ``n_classes`` or ``vocab_size``)::

    @dataclass
    class DCGANConfig:
        image_size: int = 64
        channels: int = 3
        nz: int = 100
        ngf: int = 64

    class Generator(ganforge.Generator):
        config_class = DCGANConfig
        def __init__(self, cfg: DCGANConfig): ...
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from .errors import GanforgeError


def build_config(config_class, config: dict):
    """An instance of the dataclass ``config_class`` with fields taken from ``config``."""
    names = {f.name for f in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in config.items() if k in names})


class SampleSet:
    """A data set held in memory as tensors (and lists for text), indexed by batch; or,
    for data too large for memory, with ``x`` a :class:`ganforge.StreamedSamples` read
    from disk per batch.

    ``fields["x"]`` holds the samples in whatever compact storage the modality chose
    (uint8 pixels, int16 audio, token ids); ``to_model`` turns a batch of it into the
    model's tensor space (for example uint8 -> float in [-1, 1]). Optional fields:
    ``label`` (LongTensor of class indices), ``text`` (list of captions).
    """

    def __init__(self, fields: dict[str, Any], to_model=None):
        if "x" not in fields:
            raise ValueError("a SampleSet needs an 'x' field")
        self.fields = fields
        self.to_model = to_model
        self._n = len(fields["x"])
        for k, v in fields.items():
            if len(v) != self._n:
                raise ValueError(f"field '{k}' has {len(v)} items, 'x' has {self._n}")

    def __len__(self) -> int:
        return self._n

    @property
    def streamed(self) -> bool:
        """Whether the samples are read from disk per batch (:class:`ganforge.StreamedSamples`)."""
        return not isinstance(self.fields["x"], (torch.Tensor, list, tuple))

    def batch(self, indices: torch.Tensor) -> dict[str, Any]:
        out = {}
        for key, value in self.fields.items():
            if isinstance(value, torch.Tensor) or (key == "x" and self.streamed):
                out[key] = value[indices]
            else:
                out[key] = [value[i] for i in indices.tolist()]
        if self.to_model is not None:
            out["x"] = self.to_model(out["x"])
        return out


class Modality:
    """How one kind of data is read from disk, turned into tensors and back into files.

    A modality is constructed with the run configuration and, when loading a trained
    run, the ``state`` it learned from the data (class names, normalisation
    statistics, a vocabulary). ``state`` must be JSON-serialisable: it is stored in
    ``ganforge.json``.
    """

    #: what ``ganforge generate`` writes, for messages ("PNG", "WAV", "TXT")
    file_kind = "file"
    #: the GenerationResult property that gives user objects: "images", "audio" or "texts"
    result_kind: str | None = None
    #: generation options meant for ``save_samples`` rather than the generator
    generation_options: tuple[str, ...] = ()

    def __init__(self, config: dict, state: dict | None = None):
        self.config = config
        self.state = dict(state or {})

    def load(self, path: Path) -> SampleSet:
        """Read the data at ``path`` (learning ``self.state``); raise GanforgeError if unusable."""
        raise NotImplementedError

    def derived_config(self) -> dict:
        """Configuration values the networks need and the data decides (channels, n_classes ...)."""
        return {}

    def class_names(self) -> list[str]:
        """The class names found in the data (class sub-folders), in label order; empty when unconditional."""
        return list(self.state.get("classes", []))

    def save_samples(self, x: torch.Tensor, out_dir: Path, names: Sequence[str], metadata: Sequence[dict] = (),
                     append: bool = False, **options) -> list[Path]:
        """Write the samples ``x`` as files a person opens; return, for each sample, the
        path of the file that holds it (a PNG each, or one TXT of lines for all).

        ``names`` are file stems, one per sample. ``metadata`` holds one dict per sample
        (run, seed, index, class or prompt, options): embed it where the format allows
        (PNG text chunks), so every file can be reproduced. Generation is streamed in
        batches: ``append`` is true for every batch after the first, when a modality that
        gathers samples in one file must add to it. ``options`` are the user's generation
        options named in ``generation_options``."""
        raise NotImplementedError

    def to_user(self, x: torch.Tensor, **options) -> list:
        """The samples as user objects: PIL images, numpy audio arrays, strings."""
        raise NotImplementedError

    def save_preview(self, x: torch.Tensor, path: Path, labels: Sequence[str] | None = None) -> list[Path]:
        """Write a preview of a batch (an image grid, audio plus spectrogram picture,
        a text listing) at ``path`` without extension; return the files written.
        ``labels``: for a class-conditional run, the class each sample was made for (an
        image grid shows one named row per class); None otherwise."""
        raise NotImplementedError

    #: metrics ``ganforge evaluate`` computes when the user names none
    default_metrics: tuple[str, ...] = ("fd", "kid", "prc")

    #: the ``feature_space`` spec the label classifier of class-acc and inception-score
    #: uses when the user gives no ``--features`` (None: the default feature space); a
    #: modality whose default space is not trained on labels names its label-trained one
    classifier_features: str | None = None

    def feature_space(self, real: SampleSet, spec: str | None = None):
        """The feature space metrics compare samples in: ``(name, extract)`` where
        ``extract(x: Tensor) -> Tensor[B, F]`` maps a batch in model tensor space to
        features. ``spec`` is the user's ``--features`` choice (None: the modality's
        default). The name is printed with every figure: numbers from different
        feature spaces are not comparable."""
        raise GanforgeError(f"the {type(self).__name__} modality defines no feature space for metrics")

    def set_progress(self, progress) -> None:
        """Where training stands (a :class:`ganforge.Progress`), before every step on every
        rank. A modality that serves batches at a phase's resolution reads it here."""


class Generator(nn.Module):
    """Latent (and optional condition embedding) to a sample in the modality's tensor space.

    Subclasses set ``config_class`` and implement ``forward(z, cond=None)``. Discrete
    generators (SeqGAN) override ``generate`` and also expose ``sample`` and ``log_prob``.
    """

    config_class: type | None = None
    #: "normal" (standard normal) or "uniform" (U[-1, 1], as WaveGAN draws z)
    latent_distribution = "normal"

    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one latent vector (without the batch dimension); by default ``(cfg.nz,)``."""
        return (self.cfg.nz,)

    def sample_latent(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Latents for ``n`` samples from ``latent_distribution``."""
        shape = (n, *self.latent_shape())
        # drawn where they are used: a host-to-GPU copy of fresh latents every step stalls the GPU
        where = {"device": device} if generator is None and device is not None else {"generator": generator}
        if self.latent_distribution == "uniform":
            z = torch.rand(shape, **where) * 2 - 1
        else:
            z = torch.randn(shape, **where)
        return z.to(device) if device is not None else z

    def set_progress(self, progress) -> None:
        """Where training stands (a :class:`ganforge.Progress`), before every step on every
        rank (the EMA copy is told too). Compute a fade-in alpha here and keep it in a
        buffer: buffers follow into the EMA generator and the saved run."""

    def forward_with_extras(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """``(samples, extras)``: the samples ``forward`` gives and the other outputs of the
        same pass that an objective may need (VGAN's foreground mask for its sparsity
        term, an auxiliary prediction), as a dict of tensors with their graphs. Training
        makes its generated batches with this; an objective reads the extras of the
        latest batch as ``step.fake_extras``. By default there are none; a generator with
        extras overrides this and has ``forward`` return its first element."""
        return (self(z) if cond is None else self(z, cond)), {}

    def generate(self, n: int, cond: torch.Tensor | None = None, generator: torch.Generator | None = None,
                 latents: torch.Tensor | None = None, **options) -> torch.Tensor:
        """``n`` samples; ``generator`` makes them reproducible, or ``latents`` [n, ...] give
        them (interpolation, mixing); options such as ``truncation`` or ``temperature`` are
        the network's own (unknown ones are an error)."""
        if options:
            raise GanforgeError(f"{type(self).__name__} takes no generation option {sorted(options)}; "
                                f"it takes none")
        device = next(self.parameters()).device
        z = self.sample_latent(n, generator=generator) if latents is None else latents
        z = z.to(device)
        return self(z, cond) if cond is not None else self(z)


class Discriminator(nn.Module):
    """Sample (and optional condition embedding) to one score (a logit) per sample, shape [B].

    Subclasses set ``config_class`` and implement ``forward(x, cond=None)``; the loop
    calls ``set_progress`` before every step."""

    config_class: type | None = None

    def set_progress(self, progress) -> None:
        """Where training stands (a :class:`ganforge.Progress`), before every step."""


class Augmentation(nn.Module):
    """Differentiable augmentation of every discriminator input, real and generated alike
    (DiffAugment, ADA); chosen with ``--set augment=NAME``.

    ``forward(x)`` must be differentiable (the generator learns through it). Keep state
    that must survive a resume (ADA's p) in buffers: the module's ``state_dict`` is saved
    with every checkpoint. The loop calls ``set_progress`` before every step and
    ``observe(real_scores)`` after every discriminator update with that update's scores
    of the real batch (detached, shape [B]): ADA adjusts p from their sign; what
    ``log_values()`` returns goes into the training log.
    """

    config_class: type | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Augment a batch of discriminator inputs (real or generated), differentiably; identity by default."""
        return x

    def set_progress(self, progress) -> None:
        """Where training stands, before every step on every rank."""

    def observe(self, real_scores: torch.Tensor) -> None:
        """The real batch's discriminator scores after a discriminator update."""

    def log_values(self) -> dict:
        """Figures for the training log after each discriminator update (ADA's p):
        floats or 0-dim tensors."""
        return {}


class ConditioningEncoder(nn.Module):
    """Turns conditions into embeddings of size ``dim`` for the generator and discriminator.

    - ``condition_key`` names the data field it reads: ``"label"`` (class sub-folders),
      ``"text"`` (captions from ``metadata.jsonl``), or any field a modality adds. The
      core knows no list of condition kinds.
    - ``dim`` is the embedding size; it is put in the run configuration as ``cond_dim``
      before the generator and discriminator are built.
    - ``trainable``: optimised with the generator and saved in the run
      (``encoder.safetensors``). A frozen encoder is kept in eval mode, never builds a
      graph, and is rebuilt from its configuration when the run is loaded.
    - ``user_option``: what a user gives at generation, ``"class"`` (``--class``) or
      ``"prompt"`` (``--prompt``); ``from_user`` turns those values into field values.
    - ``default_conditions(n, modality)``: conditions to show when the user gives none
      (previews, a plain ``generate``), or None to require them.
    - ``prepare(values)``: the data's values of ``condition_key``, once before training;
      a frozen encoder can embed each distinct value once here and cache it.
    """

    config_class: type | None = None
    condition_key = "label"
    trainable = True
    user_option = "prompt"

    @property
    def dim(self) -> int:
        """Size of one embedding: what the generator and discriminator receive as ``cond``."""
        return self.cfg.cond_dim

    def forward(self, conditions) -> torch.Tensor:
        """Embed a batch of conditions (label indices, token ids) to a ``(batch, dim)`` tensor. Must implement."""
        raise NotImplementedError

    def from_user(self, values: Sequence, modality: "Modality"):
        """The user's ``--class`` / ``--prompt`` values as values of the data field."""
        return list(values)

    def default_conditions(self, n: int, modality: "Modality"):
        """Conditions to generate with when the user gives none (e.g. cycle through the classes), or None."""
        return None

    def prepare(self, values) -> None:
        """The training data's values of ``condition_key`` (all of them, in data order),
        once after the encoder is built and before training, on every rank. A frozen
        encoder may embed each distinct value here once and keep the embeddings (a caption
        cache); an encoder may remember values for ``default_conditions``. Nothing by default."""

    def set_progress(self, progress) -> None:
        """Where training stands, before every step on every rank."""
