"""docs/hooks.md is generated from hookspecs.py and the base classes, and documents everything."""

import inspect
import re
from pathlib import Path

from ganforge import hookdoc

ROOT = Path(__file__).resolve().parents[2]
HOOKS_MD = ROOT / "docs" / "hooks.md"


def test_every_hook_documents_each_argument():
    specs = hookdoc.hookspec_functions()
    assert len(specs) >= 15
    problems = []
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        if not doc:
            problems.append(f"{spec.__name__}: no docstring")
        for arg in inspect.signature(spec).parameters:
            if not re.search(rf":param {arg}:", doc):
                problems.append(f"{spec.__name__}: no ':param {arg}:'")
    assert not problems, "undocumented in hookspecs.py: " + "; ".join(problems)


def test_every_base_class_method_an_author_implements_is_documented():
    problems = []
    for cls in hookdoc.base_classes():
        if not (cls.__doc__ or "").strip():
            problems.append(cls.__name__)
        methods = hookdoc.author_methods(cls)
        assert methods, cls
        for name, value in methods:
            func = value.fget if isinstance(value, property) else value
            if not (getattr(func, "__doc__", None) or "").strip():
                problems.append(f"{cls.__name__}.{name}")
    assert not problems, "base-class methods without a docstring: " + ", ".join(problems)


def test_reference_names_every_hook_and_method():
    text = hookdoc.render()
    for spec in hookdoc.hookspec_functions():
        assert f"### `{spec.__name__}(" in text
    for cls in hookdoc.base_classes():
        assert f"### `ganforge.{cls.__name__}`" in text
        for name, _ in hookdoc.author_methods(cls):
            assert f"#### `{name}" in text


def test_docs_hooks_md_is_up_to_date():
    expected = hookdoc.render()
    actual = HOOKS_MD.read_text(encoding="utf-8") if HOOKS_MD.exists() else ""
    assert actual == expected, f"docs/hooks.md is out of date: run `{hookdoc.REFRESH}` (from the repository root)"


def test_hookdoc_stays_out_of_the_cli_path():
    import ganforge.cli

    assert "hookdoc" not in Path(ganforge.cli.__file__).read_text()
    assert "hookdoc" not in Path(hookdoc.__file__).with_name("plugins.py").read_text()
