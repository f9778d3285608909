"""docs/recipes.md is `ganforge recipes --markdown` of the built-in plugins, kept current; the
user guide covers every command."""

import re
from pathlib import Path

import pytest

from ganforge import cli, plugins

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("toy", "image", "audio", "text", "music", "video")
REFRESH = "ganforge recipes --markdown > docs/recipes.md (with only the built-in plugins installed)"


def test_recipes_md_holds_every_builtin_recipe_as_generated():
    registry = plugins.get_plugin_manager().registry
    entries = [e for e in registry.entries("recipe") if e.plugin in BUILTIN]
    if not entries:
        pytest.skip("no built-in plugin is installed")
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
