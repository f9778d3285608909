"""The command line as a user types it: outputs, files, one-line errors, exit codes."""

import json
import os
import subprocess
import sys

import pytest


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ganforge", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "GANFORGE_STRICT_PLUGINS": ""})


def one_line_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    assert cli("data", "ring", "--out", root / "ring", "--set", "n=400").returncode == 0
    result = cli("train", "toy-ring", "--data", root / "ring", "--out", root / "run", "--steps", "3",
                 "--batch-size", "50", "--set", "hidden=8", "--set", "preview_n=100")
    assert result.returncode == 0, result.stderr
    assert "run saved in" in result.stdout
    return root


def test_recipes_lists_and_shows_options():
    listing = cli("recipes")
    assert listing.returncode == 0 and "toy-ring" in listing.stdout and "dcgan" in listing.stdout
    detail = cli("recipes", "toy-ring")
    assert "hidden" in detail.stdout and "n_critic" in detail.stdout and "PacGAN" in detail.stdout
    as_json = json.loads(cli("recipes", "toy-ring", "--json").stdout)
    assert as_json["options"]["hidden"]["default"] == 400 and as_json["phases"] == ["train"]


def test_generate_and_evaluate_a_toy_run(toy_run):
    out = toy_run / "gen"
    result = cli("generate", toy_run / "run", "--out", out, "-n", "30", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert (out / "points.csv").read_text().count("\n") == 31
    again = cli("generate", toy_run / "run", "--out", toy_run / "gen2", "-n", "30", "--seed", "3")
    assert again.returncode == 0
    assert (toy_run / "gen2" / "points.csv").read_text() == (out / "points.csv").read_text()
    scores = cli("evaluate", toy_run / "run", "--data", toy_run / "ring", "--json")
    assert scores.returncode == 0, scores.stderr
    values = json.loads(scores.stdout)
    assert 0 <= values["modes"] <= 8 and 0.0 <= values["high_quality"] <= 100.0
    fd = cli("evaluate", toy_run / "run", "--data", toy_run / "ring", "--metric", "fd", "-n", "200")
    assert "feature space: raw coordinates" in fd.stdout and "fd:" in fd.stdout


def test_bad_input_is_one_line_without_traceback(toy_run, tmp_path):
    one_line_error(cli("train", "toy-ring", "--data", toy_run / "ring", "--out", tmp_path / "r", "--set", "hiden=3"),
                   "unknown option 'hiden'", "did you mean 'hidden'")
    one_line_error(cli("train", "nope", "--data", toy_run / "ring", "--out", tmp_path / "r"), "no recipe named 'nope'")
    (tmp_path / "empty").mkdir()
    one_line_error(cli("train", "toy-ring", "--data", tmp_path / "empty", "--out", tmp_path / "r"), "no CSV point files")
    one_line_error(cli("generate", tmp_path / "missing", "--out", tmp_path / "o"), "does not exist")
    one_line_error(cli("generate", toy_run / "run", "--out", tmp_path / "o", "--class", "circle"), "unconditional")
    one_line_error(cli("generate", toy_run / "run", "--out", tmp_path / "o", "--set", "truncation=0.5"),
                   "takes no generation option ['truncation']")
    one_line_error(cli("evaluate", toy_run / "run", "--data", toy_run / "ring", "--metric", "nope"), "nope")
    one_line_error(cli("train", "toy-ring", "--data", toy_run / "ring", "--out", toy_run / "run"), "--resume")
    one_line_error(cli("data", "nope", "--out", tmp_path / "d"), "no dataset named 'nope'")
    one_line_error(cli("data", "ring", "--out", tmp_path / "d", "--set", "colour=red"), "does not take")
    debug = cli("--debug", "train", "nope", "--data", toy_run / "ring", "--out", tmp_path / "r")
    assert "Traceback" in debug.stderr


def test_python_dash_m_and_version():
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("ganforge ")


EXIT_PLUGIN = '''
import atexit, sys, threading, time
from pathlib import Path
from ganforge import hookimpl

class Teardown:
    def __init__(self, path):
        self.path = path
    def __del__(self):  # runs when the interpreter tears its modules down, not after a quick exit
        Path(self.path).write_text("torn down")

def shout(argv):
    import torch  # a command that used torch: the one the quick exit is for
    out = Path(argv[0])
    globals()["teardown"] = Teardown(out / "teardown")
    atexit.register(lambda: (out / "atexit").write_text("ran"))
    if argv[1:] == ["thread"]:  # still working when the command returns: the process waits for it
        threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("done"))).start()
    for i in range(20000):  # more than the pipe's buffer: all of it must arrive
        print(f"line {i}")
    print("the end", file=sys.stderr, end="")  # no newline: still in the buffer
    return 3

@hookimpl
def ganforge_register_commands(register):
    register("shout", "gf_exit:shout", summary="prints a lot")
'''


def test_the_command_exits_quickly_after_torch_and_loses_nothing(tmp_path):
    (tmp_path / "gf_exit.py").write_text(EXIT_PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ganforge", "-p", "gf_exit", "shout", str(tmp_path)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines()[-1] == "line 19999" and len(result.stdout.splitlines()) == 20000
    assert result.stderr == "the end"
    assert (tmp_path / "atexit").read_text() == "ran"  # exit handlers still run
    assert not (tmp_path / "teardown").exists()  # the slow module tear-down was skipped


def test_a_thread_still_running_gets_the_ordinary_exit(tmp_path):
    (tmp_path / "gf_exit.py").write_text(EXIT_PLUGIN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ganforge", "-p", "gf_exit", "shout", str(tmp_path), "thread"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 3, result.stderr
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"
