"""Architecture rules, checked on the source: plugins use only the public API, the core no plugin."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_SUBMODULES = {"ganforge.metrics", "ganforge.interpolation"}


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_plugins_import_only_the_public_api_and_no_other_plugin():
    offences = []
    packages = sorted((ROOT / "plugins").glob("*/src/ganforge_*"))
    assert len(packages) >= 4, "the built-in plugins' packages moved: update this test"
    for package in packages:
        for file in package.rglob("*.py"):
            for name in imports(file):
                top = name.split(".")[0]
                if top == "ganforge" and name != "ganforge" and name not in PUBLIC_SUBMODULES:
                    offences.append(f"{file.relative_to(ROOT)} imports private {name}")
                if top.startswith("ganforge_") and top != package.name:
                    offences.append(f"{file.relative_to(ROOT)} imports another plugin, {name}")
    assert not offences, "\n".join(offences)


def test_core_never_imports_a_plugin():
    offences = [f"{f.relative_to(ROOT)} imports {n}" for f in (ROOT / "core").rglob("*.py")
                for n in imports(f) if n.startswith("ganforge_")]
    assert not offences, "\n".join(offences)


def test_plugin_registration_modules_do_not_import_torch():
    registrations = sorted((ROOT / "plugins").glob("*/src/ganforge_*/plugin.py"))
    assert len(registrations) >= 4
    for plugin in registrations:
        heavy = [n for n in imports(plugin) if n.split(".")[0] in ("torch", "torchvision", "torchaudio", "transformers")]
        assert not heavy, f"{plugin} imports {heavy}"
