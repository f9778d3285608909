"""The toy plugin's PacGAN networks: maxout discriminator, batch-norm generator, packing."""

import pytest
import torch

from ganforge import GanforgeError
from ganforge_toy.mlp import Discriminator, Generator, Maxout, MLPConfig


def test_maxout_takes_the_largest_piece_of_each_unit():
    layer = Maxout(2, 3, pieces=4)
    x = torch.randn(5, 2)
    pieces = layer.linear(x).reshape(5, 3, 4)  # unit u's pieces are outputs 4u .. 4u+3
    assert torch.equal(layer(x), pieces.max(2).values)


def test_pacgan_networks_by_default():
    cfg = MLPConfig()
    G, D = Generator(cfg), Discriminator(cfg)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    assert [m.linear.out_features for m in D.modules() if isinstance(m, Maxout)] == [1000, 1000, 1000]
    assert G(torch.randn(7, 2)).shape == (7, 2)
    assert D(torch.randn(7, 2)).shape == (7,)


def test_plain_options_drop_batch_norm_and_maxout():
    cfg = MLPConfig(g_norm="none", d_maxout=0, d_hidden=16, d_layers=2)
    G, D = Generator(cfg), Discriminator(cfg)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules())
    assert not any(isinstance(m, Maxout) for m in D.modules())
    assert sum(isinstance(m, torch.nn.LeakyReLU) for m in D.modules()) == 2


def test_packing_scores_groups_and_gives_each_sample_its_group_score():
    D = Discriminator(MLPConfig(pack=4, d_hidden=8))
    x = torch.randn(10, 2)  # two full groups; the ragged tail of 2 is dropped
    scores = D(x)
    assert scores.shape == (8,)
    assert torch.equal(scores[:4], scores[0].repeat(4)) and scores[0] != scores[4]
    with pytest.raises(GanforgeError, match="pack=4 needs batches of at least 4"):
        D(torch.randn(3, 2))


def test_unknown_norm_is_an_error():
    with pytest.raises(GanforgeError, match="g_norm must be 'batch' or 'none'"):
        Generator(MLPConfig(g_norm="layer"))


def test_batch_norm_generator_refuses_a_batch_of_one_in_training_only():
    G = Generator(MLPConfig(hidden=8, layers=1))
    with pytest.raises(GanforgeError, match="batches of 2 or more"):
        G(torch.randn(1, 2))
    assert G.eval()(torch.randn(1, 2)).shape == (1, 2)


def test_pacgan_initialisation_draws_weights_with_std_0_02_and_zero_biases():
    cfg = MLPConfig(pack=4)
    D = Discriminator(cfg)
    first = D.net[0].linear  # 8 inputs: PyTorch's default would draw them with std ~0.2
    assert abs(first.weight.std().item() - 0.02) < 0.002
    assert torch.count_nonzero(first.bias) == 0
    out = Generator(cfg).net[-1]
    assert abs(out.weight.std().item() - 0.02) < 0.004 and torch.count_nonzero(out.bias) == 0
    default = Discriminator(MLPConfig(pack=4, init_std=0)).net[0].linear
    assert default.weight.std().item() > 0.1 and torch.count_nonzero(default.bias) > 0


def test_a_negative_init_std_is_an_error():
    with pytest.raises(GanforgeError, match="init_std must be 0"):
        Discriminator(MLPConfig(init_std=-0.02))
