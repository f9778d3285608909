"""`ganforge new-plugin` writes a plugin distribution that installs, trains and passes its own tests."""

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ganforge.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_new_plugin_writes_a_distribution_with_entry_point_and_build_system(tmp_path, capsys):
    assert main(["new-plugin", "my-thing", "--out", str(tmp_path / "p")]) == 0
    files = {p.relative_to(tmp_path / "p").as_posix() for p in (tmp_path / "p").rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", ".github/workflows/ci.yml", "src/ganforge_my_thing/plugin.py",
            "src/ganforge_my_thing/model.py", "src/ganforge_my_thing/data.py", "tests/test_ganforge_my_thing_conformance.py"} <= files
    meta = tomllib.loads((tmp_path / "p" / "pyproject.toml").read_text())
    assert set(meta["build-system"]["requires"]) >= {"setuptools>=68", "wheel"}
    assert meta["project"]["entry-points"]["ganforge"] == {"my-thing": "ganforge_my_thing.plugin"}
    for f in (tmp_path / "p").rglob("*.py"):
        compile(f.read_text(), str(f), "exec")
    assert "pip install -e" in capsys.readouterr().out


def test_new_plugin_refuses_a_bad_name_and_a_used_folder(tmp_path, capsys):
    assert main(["new-plugin", "My Thing", "--out", str(tmp_path / "a")]) == 2
    assert "lower-case" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("mine")
    assert main(["new-plugin", "ok", "--out", str(tmp_path / "b")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "b" / "keep.txt").read_text() == "mine"


def test_template_files_are_package_data():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = meta["tool"]["setuptools"]["package-data"]["ganforge"]
    template = ROOT / "core" / "ganforge" / "templates" / "plugin"
    for f in template.rglob("*.tmpl"):
        rel = f.relative_to(ROOT / "core" / "ganforge")
        assert any(fnmatch.fnmatch(rel.as_posix(), p) for p in patterns), rel
    assert meta["project"]["entry-points"]["pytest11"] == {"ganforge": "ganforge.testing.pytest_plugin"}


@pytest.mark.slow
def test_generated_plugin_installs_lists_trains_and_passes_its_tests(tmp_path):
    """The outside author's path, in a throwaway venv that inherits torch."""
    assert main(["new-plugin", "my-thing", "--out", str(tmp_path / "p")]) == 0
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "core")}
    run = lambda *a, **kw: subprocess.run([py, *a], env=env, capture_output=True, text=True, timeout=300, **kw)  # noqa: E731
    if run("-c", "import wheel").returncode != 0:
        pytest.skip("wheel is not installed (needed by --no-build-isolation)")
    r = run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    r = run("-m", "ganforge", "plugins")
    assert "my-thing" in r.stdout and "FAILED" not in r.stdout.split("my-thing")[1].splitlines()[0], r.stdout
    assert run("-m", "ganforge", "data", "my-thing-demo", "--out", str(tmp_path / "data")).returncode == 0
    r = run("-m", "ganforge", "train", "my-thing", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
            "--steps", "2", "--device", "cpu")
    assert r.returncode == 0 and "step 2" in r.stdout, r.stderr
    r = run("-m", "ganforge", "evaluate", str(tmp_path / "run"), "--data", str(tmp_path / "data"), "-n", "64")
    assert r.returncode == 0 and "raw points" in r.stdout and " fd:" in r.stdout, r.stdout + r.stderr
    r = run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path / "p")
    assert r.returncode == 0 and "passed" in r.stdout, r.stdout[-2000:]
