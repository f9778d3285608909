"""Recipes: the named bundles a user trains (``ganforge train dcgan``). No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Phase:
    """One stage of a schedule.

    ``steps`` names the configuration key holding the phase length (so users change it
    with ``--set``); ``objective`` overrides the recipe's objective for this phase;
    ``settings`` are configuration values in force during the phase only (batch size,
    learning rates and betas, n_critic, or an option a component reads, such as a
    resolution); components read them from :class:`ganforge.Progress`'s ``config``.
    ``fresh_optimizers`` names the networks (``"g"``, ``"d"``) whose optimiser starts the
    phase with empty state (Adam's moments), as a new optimiser would: SeqGAN's policy
    gradient must not inherit the second moments of MLE pretraining's far larger gradients.
    """

    name: str
    steps: str = "steps"
    objective: str | None = None
    settings: dict = field(default_factory=dict)
    fresh_optimizers: tuple = ()


# Options every recipe has, with their defaults and one line of help each.
COMMON_OPTIONS: dict[str, tuple[object, str]] = {
    "steps": (1000, "generator updates in the main phase"),
    "batch_size": (64, "samples per discriminator step"),
    "seed": (0, "seed of weights, data order and latents"),
    "objective": ("non-saturating", "adversarial objective: non-saturating, minimax, wgan, wgan-gp, hinge, lsgan, rpgan, matching-aware, or one a plugin registers"),
    "optimizer": ("adam", "adam or rmsprop (both networks)"),
    "lr_g": (2e-4, "generator learning rate"),
    "lr_d": (2e-4, "discriminator learning rate"),
    "betas_g": ([0.5, 0.999], "Adam betas of the generator"),
    "betas_d": ([0.5, 0.999], "Adam betas of the discriminator"),
    "n_critic": (1, "discriminator steps per generator step"),
    "schedule": ("constant", "learning rates and Adam beta2: constant, or cosine (from lr_g/lr_d and betas to "
                             "lr_end_ratio and beta2_end over schedule_steps, then held)"),
    "schedule_steps": (0, "steps of the cosine schedule (0: the whole run)"),
    "lr_end_ratio": (0.25, "schedule=cosine: the learning rates end at this fraction of lr_g / lr_d"),
    "beta2_end": (0.99, "schedule=cosine: Adam's beta2 ends here"),
    "clip": (0.01, "critic weight clipping bound (objective=wgan)"),
    "gp_weight": (10.0, "gradient penalty weight (objective=wgan-gp)"),
    "ma_gp_weight": (2.0, "objective=matching-aware: MA-GP weight k (DF-GAN: 2; 0 disables)"),
    "ma_gp_power": (6.0, "objective=matching-aware: MA-GP power p of the gradient norm (DF-GAN: 6)"),
    "r1_gamma": (0.0, "R1 penalty gamma on real data (0 disables)"),
    "r2_gamma": (0.0, "R2 penalty gamma on generated data (0 disables)"),
    "d_reg_interval": (16, "apply the discriminator's regularisers (R1, R2) lazily every N discriminator steps"),
    "grad_clip": (0.0, "clip gradient norm of both networks (0 disables)"),
    "mode_seeking": (0.0, "weight of the mode-seeking term (MSGAN): the generator is pushed to make samples of one "
                          "class differ as their latents do, against intra-class collapse (0: off)"),
    "ema_beta": (0.999, "generator EMA decay used for sampling (0 disables)"),
    "ema_rampup": (0.05, "EMA half-life is at most this fraction of the steps so far (StyleGAN2's ramp-up; 0: off)"),
    "augment": ("none", "differentiable augmentation of every discriminator input (a registered augmentation, or none)"),
    "conditional": (False, "condition the networks on a data field, through the encoder"),
    "encoder": ("label", "conditioning encoder when conditional: label (class sub-folders), or a text encoder "
                         "(text:minilm, text:hashed) for captions; setting it implies conditional=true"),
    "encoder_model": ("", "a pretrained encoder's model: a local folder or a hub name (empty: the encoder's default)"),
    "encoder_buckets": (65536, "hash buckets of a hashed-n-gram encoder (text:hashed)"),
    "encoder_words": ("symbols", "how text:hashed splits captions into words: symbols (a trailing # stays: F# is "
                                 "not F) or plain (letters and digits only, as runs made before this option)"),
    "cond_dim": (64, "size of the condition embedding (an encoder with a fixed size sets it)"),
    "device": ("auto", "cpu, cuda, cuda:N or auto"),
    "amp": ("none", "autocast: none, bf16 or fp16 (fp16 on CUDA only)"),
    "channels_last": (False, "channels_last memory format for convolutions (CUDA, and oneDNN on the CPU)"),
    "deterministic": (False, "deterministic cuDNN kernels: a resumed CUDA run then equals an uninterrupted one bit for bit (slower)"),
    "stream": (False, "read samples from disk per batch instead of decoding the whole data set at the start, for "
                      "data larger than memory (image data; other modalities read it whole)"),
    "data_workers": (2, "processes that decode batches ahead of the step when the data is streamed (stream=true); "
                        "0: in the training process"),
    "data_cache": ("", "a folder to keep decoded samples of streamed data in, so later epochs skip decoding "
                       "(empty: none)"),
    "checkpoint_every": (500, "write a checkpoint every N steps"),
    "sample_every": (250, "write a preview from fixed latents every N steps"),
    "log_every": (10, "append losses to log.jsonl every N steps"),
    "preview_n": (64, "samples in each preview"),
    "progress": (True, "show a progress bar"),
}


@dataclass
class Recipe:
    """A modality, networks, an objective, a schedule and documented defaults.

    ``defaults`` and ``options`` add recipe-specific options (or change the defaults
    of common ones); every option a user may ``--set`` is listed by
    ``ganforge recipes NAME``. ``presets`` apply when an option takes a value, unless
    the user set the affected options themselves: ``{"objective=wgan": {"optimizer": "rmsprop"}}``.
    """

    modality: str
    generator: str
    discriminator: str
    summary: str = ""
    objective: str = "non-saturating"
    defaults: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    presets: dict = field(default_factory=dict)
    phases: list = field(default_factory=lambda: [Phase("train")])
    reference: str = ""

    def all_defaults(self) -> dict:
        out = {k: v for k, (v, _) in COMMON_OPTIONS.items()}
        out["objective"] = self.objective
        out.update({k: v for k, (v, _, _) in plugin_options().items()})
        out.update(self.defaults)
        return out

    def option_help(self) -> dict[str, str]:
        out = {k: h for k, (_, h) in COMMON_OPTIONS.items()}
        out.update({k: f"{h} [plugin {plugin}]" for k, (_, h, plugin) in plugin_options().items()})
        out.update(self.options)
        return out


#: The module attribute with which a plugin declares run options of its own, read by every
#: recipe: ``GANFORGE_OPTIONS = {"tensorboard": (False, "log to TensorBoard")}``.
OPTIONS_ATTRIBUTE = "GANFORGE_OPTIONS"


def plugin_options() -> dict[str, tuple[object, str, str]]:
    """Run options that loaded plugins declare for every recipe (a lifecycle-hook plugin's
    switch, such as ``tensorboard``): ``{name: (default, help, plugin)}``. The plugin reads
    the value from ``run.config`` in its hooks; ``--set name=value`` sets it, checked and
    coerced against the default like any option. A name that is a common option or that
    two plugins declare is a one-line error naming them; a recipe's own ``defaults`` may
    change a plugin option's default, as they do a common option's."""
    from .errors import GanforgeError
    from .plugins import get_plugin_manager

    manager = get_plugin_manager()
    out: dict[str, tuple[object, str, str]] = {}
    for name, info in sorted(manager.plugins.items()):
        module = manager.pm.get_plugin(name) if info.status == "ok" else None
        declared = getattr(module, OPTIONS_ATTRIBUTE, None)
        if declared is None:
            continue
        if not isinstance(declared, dict):
            raise GanforgeError(f"plugin '{name}': {OPTIONS_ATTRIBUTE} must be a dict "
                                f"{{option: (default, help)}}, got {type(declared).__name__}")
        for key, spec in declared.items():
            if not (isinstance(key, str) and key.isidentifier() and isinstance(spec, tuple) and len(spec) == 2
                    and isinstance(spec[1], str)):
                raise GanforgeError(f"plugin '{name}': {OPTIONS_ATTRIBUTE} entry {key!r} must be "
                                    f"'name': (default, 'one line of help')")
            if key in COMMON_OPTIONS:
                raise GanforgeError(f"plugin '{name}' declares the run option '{key}', which every recipe already "
                                    f"has; rename it")
            if key in out:
                raise GanforgeError(f"run option '{key}' is declared by plugin '{out[key][2]}' and again by "
                                    f"plugin '{name}'; rename one of them")
            out[key] = (spec[0], spec[1], name)
    return out
