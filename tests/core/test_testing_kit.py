"""The conformance kit catches what the loop and run format would trip over, with a clear message."""

from dataclasses import dataclass

import pytest
import torch
from torch import nn

import ganforge
from ganforge.testing import check_discriminator, check_generator


@dataclass
class Cfg:
    nz: int = 4
    dim: int = 2


class GoodG(ganforge.Generator):
    config_class = Cfg

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Linear(cfg.nz, cfg.dim)

    def forward(self, z, cond=None):
        return self.net(z)


class StrayTensorG(GoodG):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.scale = torch.ones(())  # not a buffer: left behind by .to() and not saved


class RandomInitG(GoodG):
    def __init__(self, cfg):
        super().__init__(cfg)
        with torch.no_grad():
            self.net.weight.copy_(torch.from_numpy(__import__("numpy").random.randn(cfg.dim, cfg.nz)))


class DoubleG(GoodG):
    def forward(self, z, cond=None):
        return self.net(z).double()


class ExtrasNotForwardG(GoodG):
    def forward_with_extras(self, z, cond=None):
        return self.net(z) * 2, {"scale": torch.ones(len(z))}  # not what forward gives


class ExtrasG(GoodG):
    def forward_with_extras(self, z, cond=None):
        x = self.net(z)
        return x, {"size": x.abs().sum(1)}

    def forward(self, z, cond=None):
        return self.forward_with_extras(z, cond)[0]


class GoodD(ganforge.Discriminator):
    config_class = Cfg

    def __init__(self, cfg):
        super().__init__()
        self.net = nn.Linear(cfg.dim, 1)

    def forward(self, x, cond=None):
        return self.net(x).squeeze(1)


class Unsqueezed(GoodD):
    def forward(self, x, cond=None):
        return self.net(x)


class Detached(GoodD):
    def forward(self, x, cond=None):
        return self.net(x.detach()).squeeze(1)


def test_good_networks_pass(tmp_path):
    check_generator(GoodG, {"nz": 4, "dim": 2}, sample_shape=(2,), tmp=tmp_path)
    check_generator(ExtrasG, {"nz": 4, "dim": 2}, sample_shape=(2,), tmp=tmp_path)
    check_discriminator(GoodD, {"dim": 2}, torch.randn(5, 2), tmp=tmp_path)


@pytest.mark.parametrize("cls, message", [
    (StrayTensorG, "neither parameters nor buffers (scale)"),
    (RandomInitG, "two builds under the same torch seed differ"),
    (DoubleG, "float64"),
    (ExtrasNotForwardG, "forward_with_extras()[0] differs"),
])
def test_a_generator_breaking_the_contract_fails_with_what_to_fix(cls, message, tmp_path):
    with pytest.raises(AssertionError, match="generator") as info:
        check_generator(cls, {"nz": 4, "dim": 2}, sample_shape=(2,), tmp=tmp_path)
    assert message in str(info.value)


def test_a_generator_of_the_wrong_shape_fails(tmp_path):
    with pytest.raises(AssertionError, match=r"shape \(2,\), the modality's data \(3,\)"):
        check_generator(GoodG, {"nz": 4, "dim": 2}, sample_shape=(3,), tmp=tmp_path)


@pytest.mark.parametrize("cls, message", [(Unsqueezed, "not [5] (one logit per sample)"),
                                          (Detached, "no finite gradient reaches its input")])
def test_a_discriminator_breaking_the_contract_fails(cls, message, tmp_path):
    with pytest.raises(AssertionError) as info:
        check_discriminator(cls, {"dim": 2}, torch.randn(5, 2), tmp=tmp_path)
    assert message in str(info.value)


def test_checks_of_a_plugin_are_named_by_kind_and_full_name():
    from ganforge.testing import plugin_checks

    ids = [c.id for c in plugin_checks("toy", data="unused")]
    assert {"modality:toy:points", "generator:toy:mlp", "discriminator:toy:mlp", "recipe:toy:toy-ring"} <= set(ids)
    with pytest.raises(AssertionError, match="not loaded"):
        plugin_checks("no-such-plugin")


def test_conditional_on_data_without_classes_names_the_encoders_field(tmp_path):
    from ganforge.testing import dataset

    data = dataset("ring", n=32)(tmp_path)
    with pytest.raises(ganforge.GanforgeError, match="data field 'label'.*--set encoder=NAME"):
        ganforge.train("toy-ring", data=data, out=tmp_path / "run",
                       overrides={"conditional": True, "steps": 1, "progress": False, "device": "cpu"})


def test_a_closed_pipe_ends_the_command_quietly():
    import os
    import subprocess
    import sys

    code = "import sys; from ganforge.cli import main; sys.exit(main(['recipes', 'toy-ring']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    proc.stdout.close()  # the reader (head) has gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
