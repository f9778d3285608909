"""ganforge: generative adversarial networks for images, audio, music and text, as plugins.

The public API, the only part of ganforge a plugin may import::

    import ganforge
    ganforge.train("dcgan", data="photos/", out="runs/photos", steps=5000)
    result = ganforge.load("runs/photos").generate(n=16, seed=0)
    result.images[0].show()          # user objects: .images (PIL), .audio, .texts
    result.save("out/")              # files + metadata.jsonl; or ganforge.generate(run, n, seed, out=...)

Names that need torch (the component base classes, ``train``, ``load``) are imported
on first use, so ``import ganforge`` and ``ganforge plugins`` stay fast.
"""

from importlib import import_module

from .errors import GanforgeError, PluginError
from .plugins import API_VERSION, hookimpl
from .recipe import COMMON_OPTIONS, Phase, Recipe

__version__ = "0.1.0"

_LAZY = {
    "Modality": "ganforge.components",
    "Generator": "ganforge.components",
    "Discriminator": "ganforge.components",
    "ConditioningEncoder": "ganforge.components",
    "Augmentation": "ganforge.components",
    "SampleSet": "ganforge.components",
    "build_config": "ganforge.components",
    "Objective": "ganforge.training.objectives",
    "Step": "ganforge.training.objectives",
    "Regularizer": "ganforge.training.objectives",
    "NonSaturating": "ganforge.training.objectives",
    "r1_penalty": "ganforge.training.objectives",
    "r2_penalty": "ganforge.training.objectives",
    "gradient_penalty": "ganforge.training.objectives",
    "Progress": "ganforge.training.support",
    "all_reduce_mean": "ganforge.training.distributed",
    "train": "ganforge.training.loop",
    "Run": "ganforge.training.loop",
    "load": "ganforge.pipeline",
    "generate": "ganforge.pipeline",
    "Pipeline": "ganforge.pipeline",
    "GenerationResult": "ganforge.pipeline",
    "export_run": "ganforge.export",
    "get_registry": "ganforge.plugins",
    "add_plugin": "ganforge.plugins",
    "remove_plugin": "ganforge.plugins",
    "get_plugin_manager": "ganforge.plugins",
    "data_files": "ganforge.data",
    "read_captions": "ganforge.data",
    "class_of": "ganforge.data",
    "DataReport": "ganforge.data",
    "StreamedSamples": "ganforge.data",
    "fit_square": "ganforge.imaging",
    "ConditionalBatchNorm": "ganforge.layers",
    "condition_input": "ganforge.layers",
    "write_animation": "ganforge.interpolation",
}

__all__ = [
    "API_VERSION",
    "COMMON_OPTIONS",
    "GanforgeError",
    "Phase",
    "PluginError",
    "Recipe",
    "hookimpl",
    "__version__",
    "metrics",
    *_LAZY,
]


def __getattr__(name):
    if name == "metrics":  # the public metrics toolkit: distances, mode coverage, feature networks
        return import_module("ganforge.metrics")
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ganforge' has no attribute '{name}'")
