"""Run options a plugin declares (``GANFORGE_OPTIONS``): every recipe takes them with --set,
checked against their default's type, listed by `ganforge recipes`, seen by lifecycle hooks."""

import pytest

import ganforge
from ganforge import GanforgeError, hookimpl
from ganforge.cli import main

TINY = {"hidden": 8, "layers": 2, "d_hidden": 8, "batch_size": 16, "sample_every": 0, "checkpoint_every": 0,
        "preview_n": 0, "progress": False, "device": "cpu", "log_every": 1}


class Logger:
    GANFORGE_OPTIONS = {"fancy_log": (False, "log fancily"), "fancy_every": (5, "how often")}

    def __init__(self):
        self.seen = None

    @hookimpl
    def ganforge_on_train_start(self, run):
        self.seen = (run.config["fancy_log"], run.config["fancy_every"])


@pytest.fixture
def ring(tmp_path):
    ganforge.get_registry().get("dataset", "ring")(tmp_path / "ring", n=64)
    return tmp_path / "ring"


def test_an_undeclared_option_is_refused(ring, tmp_path):
    with pytest.raises(GanforgeError, match="unknown option 'fancy_log'"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1, overrides={**TINY, "fancy_log": True})


def test_a_declared_option_reaches_the_hooks_with_its_type(ring, tmp_path):
    logger = Logger()
    ganforge.add_plugin(logger, name="fancy")
    run = ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=1,
                         overrides={**TINY, "fancy_log": "true"})  # as --set gives it: coerced to the default's type
    assert logger.seen == (True, 5)
    assert run.config["fancy_log"] is True
    with pytest.raises(GanforgeError, match="option 'fancy_every' takes a whole number"):
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run2", steps=1, overrides={**TINY, "fancy_every": "x"})


def test_recipes_lists_a_declared_option_with_its_plugin(capsys):
    ganforge.add_plugin(Logger(), name="fancy")
    assert main(["recipes", "toy-ring"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.strip().startswith("fancy_log"))
    assert "log fancily [plugin fancy]" in line


@pytest.mark.parametrize("declared, message", [
    ({"steps": (1, "mine")}, "declares the run option 'steps', which every recipe already has"),
    ({"fancy_log": (True, "again")}, "declared by plugin 'fancy' and again by plugin 'other'"),
    ({"bad name": (1, "x")}, "entry 'bad name' must be"),
])
def test_clashing_or_malformed_declarations_are_one_line_errors(declared, message):
    ganforge.add_plugin(Logger(), name="fancy")
    other = type("Other", (), {"GANFORGE_OPTIONS": declared})()
    ganforge.add_plugin(other, name="other")
    recipe = ganforge.get_registry().get("recipe", "toy-ring")
    with pytest.raises(GanforgeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        recipe.all_defaults()
