"""Property-based fuzzing of user input: whatever a user types or a run file holds, the
answer is a result or a GanforgeError (on the command line: ``error: <one line>``, exit 2),
never another exception, and nothing is written outside the folders the user named."""

import contextlib
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
import tempfile  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

# hypothesis keeps caches in ./.hypothesis even without an example database: not in the checkout
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="ganforge-hypothesis-"))
from hypothesis import strategies as st  # noqa: E402

from ganforge import GanforgeError  # noqa: E402

FUZZ = settings(deadline=None, database=None, derandomize=False, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True, scope="module")
def _memory_bound():
    """A drawn input that asks for tens of GB must fail here, with its input printed by
    hypothesis, not take the machine down (twice a full run was OOM-killed, cause unknown):
    the address space is capped 8 GB above what the process holds, for this module only."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = held + 8 * 2**30
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# Text without digits: numbers come only from NUMBERS, so no drawn value asks for a
# billion samples or layers (which would be slow, not wrong).
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=8)
NUMBERS = ["-1", "0", "1", "2", "-0.0", "0.5", "1.5", "-99999999999999999999", "99999999999999999999999",
           "1e999", "-1e999", "NaN", "Infinity", "nan", "1e30"]
JSONISH = ["[0.5, 0.999]", "[2, 0.9]", "[0.5]", "[]", "{}", '{"a": 1}', "null", "true", "false", '"x"', "[[[[[[1]]]]]]",
           '["a", 1]', "[" * 5000, "[" * 3000 + "]" * 3000, ""]
VALUES = st.one_of(st.sampled_from(NUMBERS + JSONISH), WORDS)


def json_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                       st.floats(allow_nan=True, allow_infinity=True), WORDS)
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(WORDS, inner, max_size=3)), max_leaves=6)


def toy_recipe():
    from ganforge.plugins import get_plugin_manager

    entry = get_plugin_manager().registry.find("recipe", "toy-ring")
    return entry.full_name, entry.load()


def _toy_keys():
    from ganforge.recipe import COMMON_OPTIONS

    return sorted(COMMON_OPTIONS) + ["hidden", "layers", "nz", "pack"]


# ---------------------------------------------------------------------------- (a) --set and resolve

@settings(FUZZ, max_examples=100)
@given(items=st.lists(st.tuples(st.one_of(st.sampled_from(_toy_keys()), WORDS), VALUES,
                                st.sampled_from(["=", "", "=="])), max_size=4),
       config=st.one_of(st.none(), json_values(), st.dictionaries(st.sampled_from(_toy_keys()), json_values(),
                                                                   max_size=4)))
def test_set_and_resolve_give_a_config_or_a_ganforge_error(tmp_path_factory, items, config):
    from ganforge.config import parse_assignments, resolve

    name, recipe = toy_recipe()
    config_file = None
    if config is not None:
        config_file = tmp_path_factory.getbasetemp() / "fuzz-config.json"
        config_file.write_text(json.dumps(config))
    try:
        overrides = parse_assignments([f"{k}{sep}{v}" for k, v, sep in items])
        resolved = resolve(name, recipe, overrides, config_file)
    except GanforgeError as e:
        assert str(e)  # the CLI prints it on one line (test_cli_answers_every_command_line_...)
        return
    # what the loop relies on holds for every accepted configuration
    assert isinstance(resolved["batch_size"], int) and resolved["batch_size"] >= 1
    assert 0 <= resolved["seed"] and resolved["seed"] * 1_000_003 + 10**6 < 2**64  # the loop's derived seeds
    assert all(0 <= b < 1 for b in resolved["betas_g"] + resolved["betas_d"])
    assert len(resolved["betas_g"]) == len(resolved["betas_d"]) == 2
    assert resolved["n_critic"] >= 1 and 0 <= resolved["ema_beta"] < 1 and resolved["lr_g"] >= 0
    assert all(resolved[k] >= 0 for k in ("steps", "checkpoint_every", "sample_every", "log_every", "preview_n"))


# ---------------------------------------------------------------------------- (b) run files

@pytest.fixture(scope="module")
def toy_world(tmp_path_factory):
    """watched/ring (data) and watched/run (a 2-step toy run), made once."""
    from ganforge import plugins
    from ganforge.cli import main

    root = tmp_path_factory.mktemp("fuzz")
    watched = root / "watched"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["data", "ring", "--out", str(watched / "ring"), "--set", "n=200"]) == 0
        assert main(["train", "toy-ring", "--data", str(watched / "ring"), "--out", str(watched / "run"),
                     "--steps", "2", "--batch-size", "50", "--set", "hidden=8", "--set", "preview_n=10"]) == 0
    plugins._manager = None
    return root


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated_run_files(draw, valid: dict):
    if draw(st.integers(0, 9)) == 0:  # now and then, not a run file at all
        return draw(st.one_of(json_values().map(json.dumps), st.binary(max_size=20), st.text(max_size=20)))
    doc = json.loads(json.dumps(valid))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["delete", "replace", "huge", "wrap", "name"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(json_values())
        elif op == "huge":
            parent[path[-1]] = draw(st.sampled_from([10**13, -(10**30), 2**64, 1e308, -1, 0, True]))
        elif op == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        else:
            parent[path[-1]] = draw(st.sampled_from(["os:system", "toy:mlp", "toy", ":", "toy:../x", "a b:c",
                                                     "builtins:eval", "toy:mlp\n", ""]))
    return json.dumps(doc)


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_read_run_json_gives_the_run_or_a_ganforge_error(toy_world, data):
    from ganforge.artifacts import RUN_FILE, read_run_json

    valid = json.loads((toy_world / "watched" / "run" / RUN_FILE).read_text())
    text = data.draw(mutated_run_files(valid))
    folder = toy_world / "mutated"
    folder.mkdir(exist_ok=True)
    (folder / RUN_FILE).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    try:
        info = read_run_json(folder)
    except GanforgeError as e:
        assert "\n" not in str(e)
        return
    assert json.dumps(info) == json.dumps(json.loads(text))  # as parsed, unchanged (NaN != NaN, hence dumps)
    assert isinstance(info["components"], dict) and isinstance(info["config"], dict)
    assert isinstance(info["modality_state"], dict) and isinstance(info["user_config"], dict)
    assert all(isinstance(info["components"][k], str) for k in ("modality", "generator", "discriminator"))


# ---------------------------------------------------------------------------- (c) the command line

W = "../watched"
# Good values are listed several times, so that many drawn command lines get past the
# first check and reach the deeper ones.
RUNS = [f"{W}/run"] * 6 + ["missing", "afile", "", ".", f"{W}/ring"]
DATA = [f"{W}/ring"] * 6 + ["missing", "afile", "", f"{W}/run"]
OUTS = ["o1"] * 4 + ["o1/sub", "o1/sub", "afile", "afile/x", "", ".", "ro"]
INTS = ["1", "2"] * 3 + ["-1", "0", "abc", "1.5", "99999999999999999999999", "-99999999999999999999"]
DEVICES = ["cpu", "auto"] * 3 + ["cuda", "cuda:3", "tpu", "", "mps", "gpu0"]


def _opt(flag, pool):
    return st.sampled_from(pool).map(lambda v: [flag, v])


def _sets(flag, keys):
    pairs = st.lists(st.tuples(st.one_of(st.sampled_from(keys), WORDS), VALUES), max_size=3)
    return pairs.map(lambda kvs: [a for k, v in kvs for a in (flag, f"{k}={v}")])


# Values of recipe-specific sizes stay small: the toy networks do not bound them, and
# layers=10**9 would be slow, not wrong (reported to the plugin owner).
TOY_SIZES = {"hidden", "layers", "nz", "pack", "d_hidden", "d_layers", "d_maxout"}
SAFE_TOY = ["hidden=4", "layers=1", "nz=3", "pack=2", "hidden=99999999999999999999999", "nz=-1",
            "d_hidden=4", "d_layers=1", "d_maxout=0", "d_maxout=2", "d_hidden=-3", "g_norm=none", "g_norm=x"]

COMMANDS = {
    "train": (st.sampled_from(["toy-ring"] * 4 + ["toy-grid", "nope", ""]).map(lambda r: [r]),
              [_opt("--data", DATA), _opt("--out", OUTS), _opt("--steps", ["1", "2"] * 3 + ["-1", "0", "abc", "9" * 25]),
               _opt("--batch-size", INTS), _opt("--device", DEVICES),
               _opt("--config", ["cfg_list.json", "cfg_obj.json", "missing.json", ".", "afile"]),
               st.sampled_from([[], [], ["--resume"]]), _sets("--set", sorted(set(_toy_keys()) - TOY_SIZES)),
               st.sampled_from(SAFE_TOY).map(lambda s: ["--set", s])]),
    "generate": (st.sampled_from(RUNS).map(lambda r: [r]),
                 [_opt("--out", OUTS), _opt("-n", INTS), _opt("--seed", INTS), _opt("--device", DEVICES),
                  _opt("--truncation", ["nan", "-1", "0.5", "inf", "x"]),
                  _opt("--temperature", ["nan", "0", "1", "-inf"]), _opt("--class", ["circle", ""]),
                  _opt("--prompt", ["hi", ""]), _sets("--option", ["truncation", "temperature", "spectrogram"])]),
    "evaluate": (st.sampled_from(RUNS).map(lambda r: [r]),
                 [_opt("--data", DATA), _opt("--metric", ["modes", "fd", "nope", ""]), _opt("-n", INTS),
                  _opt("--seed", INTS), _opt("--features", ["trained", "nope", "afile", ""]), st.just(["--json"]),
                  _opt("--device", DEVICES)]),
    "data": (st.sampled_from(["ring", "ring", "grid", "shapes", "nope", ""]).map(lambda r: [r]),
             [_opt("--out", OUTS), _sets("--set", ["n", "seed", "size", "colour"])]),
    "recipes": (st.sampled_from(["toy-ring", "nope", ""]).map(lambda r: [r]), [st.just(["--json"])]),
    "plugins": (st.just([]), [st.just(["--json"])]),
    # the demo trains for minutes when its arguments are good: only bad steps are drawn
    "demo": (st.sampled_from(["0", "-1", "abc"]).map(lambda s: ["--steps", s]),
             [_opt("--out", OUTS), _opt("--images", ["0", "-5", "2", "x"])]),
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(COMMANDS)))
    positional, options = COMMANDS[command]
    argv = [command] + draw(positional)
    chosen = draw(st.lists(st.sampled_from(range(len(options))), max_size=len(options) + 1))
    for i in chosen:
        argv += draw(options[i])
    # the options a command needs, most of the time (else argparse's usage error);
    # hypothesis favours small integers, so 0 is the common case here
    if command in ("train", "generate", "data") and "--out" not in argv and draw(st.integers(0, 4)) != 4:
        argv += ["--out", draw(st.sampled_from(OUTS))]
    if command in ("train", "evaluate") and "--data" not in argv and draw(st.integers(0, 4)) != 4:
        argv += ["--data", draw(st.sampled_from(DATA))]
    if command == "train" and "--steps" not in argv:
        argv += ["--steps", "1"]  # good runs stay short
    if draw(st.integers(0, 9)) == 9:
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--bogus", "-p", "--", "-n"])))
    if draw(st.integers(0, 9)) == 9:
        argv = ["-p", draw(st.sampled_from(["no_such_module_xyz", "os", ""]))] + argv
    return argv


def _snapshot(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*")):
        st_ = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(folder))] = (st_.st_mode, st_.st_size, st_.st_mtime_ns, digest)
    return out


@settings(FUZZ, max_examples=80)
@given(argv=command_lines())
def test_cli_answers_every_command_line_without_a_traceback(toy_world, argv):
    from ganforge import plugins
    from ganforge.cli import main

    work, watched = toy_world / "work", toy_world / "watched"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    (work / "afile").write_text("a file, not a folder")
    (work / "cfg_list.json").write_text("[1, 2]")
    (work / "cfg_obj.json").write_text(json.dumps({"preview_n": 4, "sample_every": 1}))
    (work / "ro").mkdir()
    (work / "ro").chmod(0o500)
    before = _snapshot(watched)
    cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.chdir(work)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(list(argv))
            except SystemExit as e:  # argparse: usage errors (2), --help and --version (0)
                rc = e.code if isinstance(e.code, int) else 2
                assert rc in (0, 2), (argv, err.getvalue())
                return
    finally:
        os.chdir(cwd)
        (work / "ro").chmod(0o700)
        plugins._manager = None
        assert _snapshot(watched) == before, f"{argv} changed files outside its --out"
    stderr = err.getvalue()
    assert isinstance(rc, int), argv
    assert "Traceback" not in stderr, (argv, stderr)
    if rc == 2:
        # split on newlines only: str.splitlines also splits on \x1c-\x1e, which a drawn key may hold
        errors = [line for line in stderr.split("\n") if line.startswith("error: ")]
        assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), (argv, stderr)
    else:
        assert rc == 0, (argv, rc, stderr)
