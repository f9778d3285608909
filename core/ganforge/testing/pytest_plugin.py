"""ganforge's pytest plugin (entry point ``pytest11``): the ``ganforge_checks`` helpers.

Installed with ganforge; a plugin's own tests use::

    from ganforge.testing import dataset, parametrize_with_checks

    @parametrize_with_checks("mygan", data=dataset("mydemo"), overrides={"hidden": 8})
    def test_conformance(check, tmp_path):
        check(tmp_path)
"""

from __future__ import annotations


def parametrize_with_checks(plugin: str, data=None, overrides: dict | None = None, recipe: str | None = None,
                            select=None):
    """A ``pytest.mark.parametrize("check", ...)`` over every check of every component
    ``plugin`` registers (arguments as :func:`ganforge.testing.plugin_checks`), one test
    each, named ``kind:plugin:name``. The plugin's checks are listed when the test module
    is collected, so the plugin must be loaded then (installed, or ``ganforge.add_plugin``)."""
    import pytest

    from .checks import plugin_checks

    checks = plugin_checks(plugin, data=data, overrides=overrides, recipe=recipe, select=select)
    return pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])


def pytest_configure(config):
    config.addinivalue_line("markers", "ganforge_conformance: a check of ganforge's conformance kit")


def pytest_report_header(config):
    try:
        from ganforge import __version__
        from ganforge.plugins import get_plugin_manager

        names = ", ".join(sorted(get_plugin_manager().plugins))
    except Exception as e:  # noqa: BLE001 - a header never breaks a test run
        return f"ganforge: unavailable ({e})"
    return f"ganforge {__version__}; plugins: {names}"
