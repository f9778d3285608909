"""The conformance kit for plugin authors: ``import ganforge.testing``.

Checks what the loop, the artifacts and the pipeline rely on, for every component a
plugin registers: shapes, dtypes, device moves, determinism under a seed, state saved
and restored through the run format (safetensors, ``training_state.pt``), and two steps
of the one training loop. Each check raises ``AssertionError`` with a message that
names the component and what it got wrong.

Run them one by one::

    from ganforge.testing import check_recipe
    check_recipe("mygan", data="data/", overrides={"hidden": 8})

or all of them, one pytest test each, over everything a plugin registers (the way
scikit-learn's ``parametrize_with_checks`` works)::

    from ganforge.testing import dataset, parametrize_with_checks

    @parametrize_with_checks("mygan", data=dataset("mydemo", n=64), overrides={"hidden": 8})
    def test_conformance(check, tmp_path):
        check(tmp_path)

Components are found through the registry by name: the kit imports no plugin.
"""

from .checks import (
    KIT_OVERRIDES,
    Check,
    check_discriminator,
    check_encoder,
    check_generator,
    check_modality,
    check_objective,
    check_plugin,
    check_recipe,
    check_recipe_conditional,
    dataset,
    plugin_checks,
)
from .pytest_plugin import parametrize_with_checks

__all__ = [
    "KIT_OVERRIDES",
    "Check",
    "check_discriminator",
    "check_encoder",
    "check_generator",
    "check_modality",
    "check_objective",
    "check_plugin",
    "check_recipe",
    "check_recipe_conditional",
    "dataset",
    "parametrize_with_checks",
    "plugin_checks",
]
