"""``ganforge new-plugin NAME --out DIR``: a pip-installable plugin distribution from the
template shipped with ganforge (``ganforge/templates/plugin``, package data)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from .errors import GanforgeError

TEMPLATE = Path(__file__).parent / "templates" / "plugin"
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def names(name: str) -> dict[str, str]:
    """The spellings of a plugin name: plugin ``my-thing``, distribution ``ganforge-my-thing``,
    import package ``ganforge_my_thing``."""
    if not _NAME.match(name or ""):
        raise GanforgeError(f"plugin name '{name}' must be lower-case letters, digits and single hyphens, "
                            "starting with a letter (e.g. my-thing)")
    pkg = "ganforge_" + name.replace("-", "_")
    if keyword.iskeyword(pkg):  # pragma: no cover - a prefixed name never is
        raise GanforgeError(f"plugin name '{name}' makes the package name '{pkg}', a Python keyword")
    return {"name": name, "dist": f"ganforge-{name}", "pkg": pkg}


def template_files() -> list[Path]:
    files = sorted(p for p in TEMPLATE.rglob("*.tmpl") if p.is_file())
    if not files:
        raise GanforgeError(f"ganforge's plugin template is missing from {TEMPLATE}; reinstall ganforge")
    return files


def write_plugin(name: str, out) -> list[Path]:
    """Write the template for plugin ``name`` into ``out`` (new or empty); return the files."""
    spell = names(name)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GanforgeError(f"--out {out} exists and is not an empty folder; choose a new one")
    written = []
    for src in template_files():
        rel = src.relative_to(TEMPLATE).with_suffix("")  # drop .tmpl
        rel = Path(*(part.replace("__pkg__", spell["pkg"]) for part in rel.parts))  # unique test file names too
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(src.read_text(encoding="utf-8").format(**spell), encoding="utf-8")
        written.append(dest)
    return written
