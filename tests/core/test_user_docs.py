"""docs/recipes.md is `ganforge recipes --markdown` of the built-in plugins, kept current; the
user guide covers every command."""

import re
from importlib import metadata
from pathlib import Path

import pytest

from ganforge import cli, plugins

ROOT = Path(__file__).resolve().parents[2]
REFRESH = "ganforge recipes --markdown > docs/recipes.md (with the checkout's plugins installed: requirements.txt)"


def checkout_plugins() -> list[str]:
    """The plugin distributions the README's install puts in: plugins/ganforge_NAME -> NAME."""
    return re.findall(r"^-e \./plugins/ganforge_(\w+)", (ROOT / "requirements.txt").read_text(), re.M)


def test_recipes_md_holds_every_builtin_recipe_as_generated():
    names = checkout_plugins()
    for name in names:  # plugins may add options to every recipe (web: tensorboard)
        try:
            metadata.distribution(f"ganforge-{name}")
        except metadata.PackageNotFoundError:
            pytest.skip(f"ganforge-{name} is not installed, so the recipes differ from the checkout's")
    registry = plugins.get_plugin_manager().registry
    entries = [e for e in registry.entries("recipe") if e.plugin in names]
    assert entries
    text = (ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")
    stale = [e.name for e in entries if "\n".join(cli._recipe_markdown(e, e.load())) not in text]
    assert not stale, f"docs/recipes.md is out of date for {stale}: {REFRESH}"


def test_recipes_markdown_lists_each_option_with_its_default(capsys):
    assert cli.main(["recipes", "dcgan", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Recipes and their options") and "## `dcgan`" in out and "## `wavegan`" not in out
    assert re.search(r"^\| `lr_g` \| `[0-9.e-]+` \| .+ \|$", out, re.M), out[:2000]


def test_user_guide_covers_every_command_and_links_the_references():
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    missing = [c for c in cli.BUILTIN_COMMANDS if c != "new-plugin" and f"ganforge {c}" not in guide]
    assert not missing, f"docs/user-guide.md does not explain: {missing}"
    for ref in ("recipes.md", "author-guide.md", "hooks.md"):
        assert f"]({ref})" in guide
