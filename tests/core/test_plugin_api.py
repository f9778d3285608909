"""Plugin API versions (GANFORGE_API) and `ganforge plugins --requirements`."""

import json
import re
import types
from pathlib import Path

import pytest

import ganforge
from ganforge import GanforgeError, PluginError, hookimpl, plugins
from ganforge.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("GANFORGE_LOAD_PLUGINS", "GANFORGE_DISABLE_PLUGINS", "GANFORGE_PLUGINS", "GANFORGE_STRICT_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset()


def plugin_module(name, api=None):
    """An in-process plugin module registering one generator, declaring ``api`` if given."""
    module = types.ModuleType(name)
    if api is not None:
        module.GANFORGE_API = api

    @hookimpl
    def ganforge_register_generators(register):
        register("tiny", "collections:OrderedDict", summary="a stand-in")

    module.ganforge_register_generators = ganforge_register_generators
    return module


def listing(capsys):
    capsys.readouterr()
    assert main(["plugins", "--json"]) == 0
    return {p["name"]: p for p in json.loads(capsys.readouterr().out)}


def test_api_version_is_public_and_an_int():
    assert isinstance(ganforge.API_VERSION, int) and ganforge.API_VERSION >= 1
    assert "API_VERSION" in ganforge.__all__


@pytest.mark.parametrize("api", [ganforge.API_VERSION, (ganforge.API_VERSION, ganforge.API_VERSION + 1),
                                 range(1, ganforge.API_VERSION + 1)])
def test_compatible_declaration_loads(clean_env, api):
    info = plugins.add_plugin(plugin_module("gf_ok", api), name="gf_ok")
    assert info.status == "ok" and info.components == {"generator": ["tiny"]} and info.note is None
    assert plugins.get_registry().find("generator", "gf_ok:tiny")


def test_newer_plugin_asks_to_upgrade_ganforge_and_registers_nothing(clean_env, capsys):
    newer = ganforge.API_VERSION + 1
    info = plugins.add_plugin(plugin_module("gf_new", newer), name="gf_new")
    assert info.status == "incompatible" and info.components == {}
    with pytest.raises(GanforgeError):
        plugins.get_registry().find("generator", "gf_new:tiny")
    expected = (f"INCOMPATIBLE: targets ganforge API {newer}, this ganforge has API {ganforge.API_VERSION}: "
                "upgrade ganforge: pip install -U ganforge")
    capsys.readouterr()
    assert main(["plugins"]) == 0
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("gf_new")]
    assert row and row[0].rstrip().endswith(expected)
    entry = listing(capsys)["gf_new"]
    assert entry["status"] == "incompatible" and entry["api"] == newer
    assert "upgrade ganforge" in entry["error"]
    assert plugins.get_registry().find("recipe", "dcgan")  # the others keep working


def test_older_plugin_from_a_distribution_names_its_pip_command(clean_env):
    manager = plugins.get_plugin_manager()
    info = plugins.PluginInfo(name="gf_old", module="gf_old.plugin", distribution="gf-old", version="0.3")
    manager._register(info, lambda: plugin_module("gf_old.plugin", ganforge.API_VERSION - 1))
    assert info.status == "incompatible"
    assert info.error == (f"targets ganforge API {ganforge.API_VERSION - 1}, this ganforge has API "
                          f"{ganforge.API_VERSION}: pip install -U gf-old")


def test_older_plugin_without_distribution_names_its_module(clean_env):
    info = plugins.add_plugin(plugin_module("gf_old_local", 0), name="gf_old_local")
    assert info.status == "incompatible" and "update the plugin module" in info.error


def test_strict_mode_makes_incompatible_an_error(clean_env, monkeypatch):
    monkeypatch.setenv("GANFORGE_STRICT_PLUGINS", "1")
    manager = plugins.reset()
    with pytest.raises(PluginError, match=r"plugin 'gf_strict' is incompatible: targets ganforge API 99"):
        manager.add_plugin(plugin_module("gf_strict", 99), name="gf_strict")
    assert not manager.registry.by_plugin("gf_strict")


def test_undeclared_api_loads_with_a_note(clean_env, capsys):
    info = plugins.add_plugin(plugin_module("gf_plain"), name="gf_plain")
    assert info.status == "ok" and info.api is None
    entry = listing(capsys)["gf_plain"]
    assert entry["status"] == "ok" and entry["note"] == "API version not declared"


@pytest.mark.parametrize("bad", ["1", True, (), 1.0])
def test_malformed_declaration_is_a_one_line_failure(clean_env, bad):
    info = plugins.add_plugin(plugin_module("gf_bad", bad), name="gf_bad")
    assert info.status == "failed" and "GANFORGE_API must be an int" in info.error and "\n" not in info.error


def test_built_in_plugins_and_the_template_declare_this_api(clean_env):
    manager = plugins.get_plugin_manager()
    for name in ("image", "audio", "text", "toy"):
        if name in manager.plugins:
            assert manager.plugins[name].api == ganforge.API_VERSION, name
            assert manager.plugins[name].note is None
    template = ROOT / "core/ganforge/templates/plugin/src/__pkg__/plugin.py.tmpl"
    assert re.search(rf"^GANFORGE_API = {ganforge.API_VERSION}\b", template.read_text(), re.M)


def requirements(capsys, *argv):
    capsys.readouterr()
    assert main(["plugins", *argv, "--requirements"]) == 0
    return capsys.readouterr().out.splitlines()


def test_requirements_start_with_ganforge_and_list_each_distribution_once(clean_env, capsys):
    manager = plugins.get_plugin_manager()
    for name, dist in (("gf_a", "gf-extra"), ("gf_b", "gf-extra"), ("gf_c", "gf-other")):
        info = plugins.PluginInfo(name=name, module=f"{name}.plugin", distribution=dist, version="1.2.3")
        manager._register(info, lambda n=name: plugin_module(n, ganforge.API_VERSION))
    plugins.add_plugin(plugin_module("gf_local"), name="gf_local")
    lines = requirements(capsys)
    assert lines[0] == f"ganforge=={ganforge.__version__}"
    assert lines.count("gf-extra==1.2.3") == 1 and "gf-other==1.2.3" in lines
    # each built-in plugin is a distribution of its own: one line each when installed
    for name in ("image", "audio", "text", "toy"):
        if name in manager.plugins:
            assert lines.count(f"ganforge-{name}=={manager.plugins[name].version}") == 1, lines
    local = [line for line in lines if "gf_local" in line]
    assert len(local) == 1 and local[0].startswith("#")
    assert all(line.startswith("#") or re.fullmatch(r"[A-Za-z0-9._-]+==\S+(  # .*)?", line) for line in lines)


def test_requirements_mark_incompatible_plugins(clean_env, capsys):
    manager = plugins.get_plugin_manager()
    info = plugins.PluginInfo(name="gf_new", module="gf_new.plugin", distribution="gf-new", version="2.0")
    manager._register(info, lambda: plugin_module("gf_new.plugin", 99))
    assert "gf-new==2.0  # gf_new: incompatible" in requirements(capsys)


def test_requirements_of_a_dash_p_plugin_are_a_comment(clean_env, capsys, tmp_path, monkeypatch):
    (tmp_path / "gf_dashp.py").write_text("from ganforge import hookimpl\nGANFORGE_API = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lines = requirements(capsys)  # without -p: not listed
    assert not any("gf_dashp" in line for line in lines)
    capsys.readouterr()
    assert main(["-p", "gf_dashp", "plugins", "--requirements"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ganforge==") and out[-1].startswith("# gf_dashp: module gf_dashp")
