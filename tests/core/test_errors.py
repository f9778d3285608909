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
