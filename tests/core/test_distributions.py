"""Each built-in plugin is its own pip distribution, pulled in by ganforge's extras and by the
checkout's requirements.txt; uninstalling one removes it cleanly."""

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("toy", "image", "audio", "text", "music", "video", "web")


def pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


def core_version() -> str:
    return pyproject(ROOT)["project"]["version"]


def _in_range(version: str, requirement: str) -> bool:
    """``ganforge>=0.1,<0.2`` style ranges only (what our plugins declare)."""
    def key(v):
        return tuple(int(x) for x in v.split("."))
    for op, bound in re.findall(r"(>=|<)\s*([\d.]+)", requirement):
        if op == ">=" and not key(version) >= key(bound):
            return False
        if op == "<" and not key(version) < key(bound):
            return False
    return True


@pytest.mark.parametrize("name", BUILTIN)
def test_each_builtin_plugin_is_a_distribution_on_a_compatible_ganforge(name):
    folder = ROOT / "plugins" / f"ganforge_{name}"
    project = pyproject(folder)["project"]
    assert project["name"] == f"ganforge-{name}"
    ganforge_req = [r for r in project["dependencies"] if re.match(r"ganforge\s*[<>=]", r)]
    assert ganforge_req and "<" in ganforge_req[0], f"{name} must depend on a ganforge version range"
    assert _in_range(core_version(), ganforge_req[0]), f"{ganforge_req[0]} excludes this ganforge {core_version()}"
    module = project["entry-points"]["ganforge"][name]
    assert (folder / "src" / Path(*module.split("."))).with_suffix(".py").is_file(), module
    assert (folder / "README.md").is_file()
    # the core distribution no longer carries the plugin's package
    assert "plugins" not in str(pyproject(ROOT)["tool"]["setuptools"]["packages"]["find"]["where"])


def test_extras_and_requirements_pull_in_every_plugin():
    extras = pyproject(ROOT)["project"]["optional-dependencies"]
    for name in BUILTIN:
        assert any(r.startswith(f"ganforge-{name}") for r in extras[name]), extras[name]
        assert name in extras["all"][0]
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    for name in BUILTIN:
        assert any(re.fullmatch(rf"-e \./plugins/ganforge_{name}(\[\w+\])?", line) for line in lines), name
    assert "-e .[all,test]" in lines


def test_installed_plugins_come_from_their_own_distributions():
    for name in BUILTIN:
        try:
            dist = metadata.distribution(f"ganforge-{name}")
        except metadata.PackageNotFoundError:
            pytest.skip(f"ganforge-{name} is not installed (pip install -r requirements.txt)")
        points = [ep for ep in dist.entry_points if ep.group == "ganforge"]
        assert [ep.name for ep in points] == [name]
    core = metadata.distribution("ganforge")
    assert not [ep for ep in core.entry_points if ep.group == "ganforge"], "the core must not declare plugins"


def _ganforge(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.mark.slow
def test_uninstalling_audio_removes_it_and_nothing_else_breaks(tmp_path):
    """Uninstalls ganforge-audio for real, then reinstalls it editable from this checkout."""
    try:
        dist = metadata.distribution("ganforge-audio")
    except metadata.PackageNotFoundError:
        pytest.skip("ganforge-audio is not installed")
    if "plugins/ganforge_audio" not in (dist.read_text("direct_url.json") or ""):
        pytest.skip("ganforge-audio is not an editable install of this checkout; not uninstalling it")
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "uninstall", "-y", "ganforge-audio"], check=True, capture_output=True)
    try:
        listing = _ganforge("plugins")
        assert listing.returncode == 0, listing.stderr
        assert not re.search(r"^audio\s", listing.stdout, re.M), listing.stdout
        assert "image" in listing.stdout and "FAILED" not in listing.stdout
        recipes = _ganforge("recipes")
        assert recipes.returncode == 0 and "wavegan" not in recipes.stdout and "dcgan" in recipes.stdout
        wanted = _ganforge("train", "wavegan", "--data", str(tmp_path), "--out", str(tmp_path / "r"))
        assert wanted.returncode != 0 and "wavegan" in wanted.stderr and "Traceback" not in wanted.stderr
        assert _ganforge("data", "ring", "--out", str(tmp_path / "ring-data")).returncode == 0
        trained = _ganforge("train", "toy-ring", "--data", str(tmp_path / "ring-data"), "--out", str(tmp_path / "ring"),
                            "--steps", "2", "--device", "cpu")
        assert trained.returncode == 0, trained.stderr
        made = _ganforge("generate", "shapes-t2i", "--prompt", "a red star", "-n", "2", "--out", str(tmp_path / "o"))
        assert made.returncode == 0 and len(list((tmp_path / "o").glob("*.png"))) >= 2, made.stderr
    finally:
        subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "-e",
                        str(ROOT / "plugins" / "ganforge_audio")], check=True, capture_output=True)
    assert re.search(r"^audio\s", _ganforge("plugins").stdout, re.M)
