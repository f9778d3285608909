"""Plugin discovery, isolation of broken plugins, environment switches, the listing."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from ganforge import GanforgeError, PluginError, plugins


def make_distribution(root, dist, entry_points: dict[str, str], modules: dict[str, str]):
    """A throwaway installed distribution: modules plus a *.dist-info with entry_points.txt."""
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[ganforge]\n{lines}\n")


GOOD = """
    from ganforge import hookimpl

    @hookimpl
    def ganforge_register_generators(register):
        register("tiny", "collections:OrderedDict", summary="a stand-in")

    @hookimpl
    def ganforge_register_datasets(register):
        register("numbers", lambda out_dir: out_dir, summary="an object, not a reference")
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    for var in ("GANFORGE_LOAD_PLUGINS", "GANFORGE_DISABLE_PLUGINS", "GANFORGE_PLUGINS", "GANFORGE_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_entry_point_plugin_is_listed_and_resolves(site):
    make_distribution(site, "gf_good", {"good": "gf_good_plugin"}, {"gf_good_plugin": GOOD})
    manager = plugins.reset()
    info = manager.plugins["good"]
    assert info.status == "ok"
    assert info.distribution == "gf_good" and info.version == "1.2.3"
    assert info.components == {"generator": ["tiny"], "dataset": ["numbers"]}
    from collections import OrderedDict

    assert manager.registry.get("generator", "good:tiny") is OrderedDict
    assert manager.registry.get("generator", "tiny") is OrderedDict  # unique short name
    assert manager.registry.get("dataset", "numbers")("x") == "x"


def test_broken_plugin_is_recorded_and_others_keep_working(site):
    make_distribution(site, "gf_mix", {"good": "gf_good_plugin", "broken": "gf_broken_plugin"},
                      {"gf_good_plugin": GOOD, "gf_broken_plugin": "raise RuntimeError('boom at import')\n"})
    manager = plugins.reset()
    assert manager.plugins["broken"].status == "failed"
    assert "boom at import" in manager.plugins["broken"].error
    assert manager.plugins["good"].status == "ok"
    assert manager.registry.find("recipe", "dcgan")  # built-ins unaffected


def test_strict_mode_makes_a_broken_plugin_fatal(site, monkeypatch):
    make_distribution(site, "gf_broken", {"broken": "gf_broken_plugin"},
                      {"gf_broken_plugin": "raise RuntimeError('boom')\n"})
    monkeypatch.setenv("GANFORGE_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="plugin 'broken' failed to load: RuntimeError: boom"):
        plugins.reset()


def test_misspelt_hook_is_an_error_naming_the_right_hook(site):
    make_distribution(site, "gf_typo", {"typo": "gf_typo_plugin"}, {"gf_typo_plugin": """
        from ganforge import hookimpl

        @hookimpl
        def ganforge_register_generator(register):
            register("x", "os:path")
    """})
    manager = plugins.reset()
    info = manager.plugins["typo"]
    assert info.status == "failed"
    assert "unknown hook 'ganforge_register_generator'" in info.error
    assert "ganforge_register_generators" in info.error
    with pytest.raises(GanforgeError):
        manager.registry.find("generator", "typo:x")


def test_duplicate_full_name_is_an_error_naming_both(site):
    twice = """
        from ganforge import hookimpl

        @hookimpl
        def ganforge_register_generators(register):
            register("same", "os:path")
            register("same", "os:sep")
    """
    make_distribution(site, "gf_dup", {"dup": "gf_dup_plugin"}, {"gf_dup_plugin": twice})
    manager = plugins.reset()
    assert manager.plugins["dup"].status == "failed"
    assert "registered twice" in manager.plugins["dup"].error
    assert "plugin 'dup'" in manager.plugins["dup"].error


def test_same_short_name_in_two_plugins_needs_the_full_name(site):
    one = GOOD
    make_distribution(site, "gf_two", {"alpha": "gf_alpha", "beta": "gf_beta"}, {"gf_alpha": one, "gf_beta": one})
    manager = plugins.reset()
    with pytest.raises(GanforgeError, match="ambiguous: use one of alpha:tiny, beta:tiny"):
        manager.registry.find("generator", "tiny")
    assert manager.registry.find("generator", "beta:tiny").plugin == "beta"


def test_load_and_disable_environment(site, monkeypatch):
    make_distribution(site, "gf_good", {"good": "gf_good_plugin"}, {"gf_good_plugin": GOOD})
    monkeypatch.setenv("GANFORGE_LOAD_PLUGINS", "good,toy")
    assert set(plugins.reset().plugins) == {"core", "good", "toy"}
    monkeypatch.setenv("GANFORGE_LOAD_PLUGINS", "")
    assert set(plugins.reset().plugins) == {"core"}
    monkeypatch.delenv("GANFORGE_LOAD_PLUGINS")
    monkeypatch.setenv("GANFORGE_DISABLE_PLUGINS", "good,image")
    loaded = set(plugins.reset().plugins)
    assert "good" not in loaded and "image" not in loaded and "toy" in loaded


def test_dash_p_and_environment_load_uninstalled_modules(site, monkeypatch):
    (site / "gf_local.py").write_text(textwrap.dedent(GOOD))
    manager = plugins.reset(extra_modules=["gf_local"])
    assert manager.plugins["gf_local"].components["generator"] == ["tiny"]
    monkeypatch.setenv("GANFORGE_PLUGINS", "gf_local")
    assert plugins.reset().plugins["gf_local"].status == "ok"


def test_missing_optional_dependency_names_the_pip_command(site):
    make_distribution(site, "gf_needs", {"needs": "gf_needs_plugin"},
                      {"gf_needs_plugin": "import torchaudio_not_here\n"})
    manager = plugins.reset()
    assert "No module named 'torchaudio_not_here'" in manager.plugins["needs"].error
    from ganforge.registry import missing_dependency_hint

    err = ModuleNotFoundError("No module named 'torchaudio'", name="torchaudio")
    assert missing_dependency_hint(err) == "torchaudio is not installed: pip install 'ganforge[audio]'"


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_plugins_json_schema_lists_failed_plugins(site):
    make_distribution(site, "gf_broken", {"broken": "gf_broken_plugin"},
                      {"gf_broken_plugin": "raise ImportError('nope')\n"})
    result = run_cli("plugins", "--json", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    by_name = {p["name"]: p for p in listing}
    assert {"image", "toy", "core", "broken"} <= set(by_name)
    for p in listing:
        assert set(p) == {"name", "module", "distribution", "version", "status", "error", "components", "api", "note"}
        assert p["status"] in ("ok", "failed")
    assert by_name["broken"]["status"] == "failed" and "nope" in by_name["broken"]["error"]
    assert by_name["toy"]["components"]["recipe"] == ["toy-grid", "toy-ring"]
    table = run_cli("plugins", env={"PYTHONPATH": str(site)})
    assert "FAILED: ImportError: nope" in table.stdout


def test_listing_plugins_and_help_do_not_import_torch():
    code = ("import sys; from ganforge.cli import main; main(['plugins']); main(['recipes']); "
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("NO-TORCH")
    help_ = run_cli("--help")
    assert help_.returncode == 0 and "train" in help_.stdout and "demo" in help_.stdout


def test_plugin_commands_are_added_to_the_cli(site):
    (site / "gf_cmd.py").write_text(textwrap.dedent("""
        from ganforge import hookimpl

        def hello(argv):
            print("hello", *argv)
            return 3

        @hookimpl
        def ganforge_register_commands(register):
            register("hello", "gf_cmd:hello", summary="says hello")
    """))
    result = run_cli("-p", "gf_cmd", "hello", "a", "b", env={"PYTHONPATH": str(site)})
    assert result.returncode == 3 and result.stdout.strip() == "hello a b"
    # options before any positional argument reach the command too (`ganforge serve --port 8000`)
    result = run_cli("-p", "gf_cmd", "--debug", "hello", "--port", "8000", "x", env={"PYTHONPATH": str(site)})
    assert result.returncode == 3 and result.stdout.strip() == "hello --port 8000 x", result.stderr
    assert "says hello" in run_cli("-p", "gf_cmd", "--help", env={"PYTHONPATH": str(site)}).stdout
