"""The batched Monte Carlo rollouts against the simple per-prefix loop they replace."""

import pytest
import torch

from ganforge_text.discriminator import CNNDiscriminatorConfig, Discriminator
from ganforge_text.generator import Generator, LSTMGeneratorConfig
from ganforge_text.objectives import rollout_rewards, rollout_rewards_reference


def nets(vocab=40, T=9, eos=True, seed=0):
    torch.manual_seed(seed)
    G = Generator(LSTMGeneratorConfig(vocab_size=vocab, seq_len=T, emb_dim=8, hidden_dim=12, init_std=0.5,
                                      eos_id=2 if eos else -1, pad_id=0, banned_tokens=[0, 1])).eval()
    D = Discriminator(CNNDiscriminatorConfig(vocab_size=vocab, seq_len=T, d_emb_dim=8, d_filter_sizes=[1, 2, 3],
                                             d_num_filters=[4, 4, 4], d_dropout=0.25))
    return G, D


@pytest.mark.parametrize("eos", [True, False])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_same_seed_gives_the_reference_rewards(eos, temperature):
    G, D = nets(eos=eos)
    tokens = G.sample(6)
    torch.manual_seed(5)
    ref = rollout_rewards_reference(G, D, tokens, n_rollouts=4, temperature=temperature)
    after_ref = torch.rand(3)
    torch.manual_seed(5)
    new = rollout_rewards(G, D, tokens, n_rollouts=4, temperature=temperature, d_chunk=7, draw_chunk=5)
    assert torch.allclose(new, ref, atol=1e-6, rtol=0)
    # the same random draws, no more, no fewer: a resumed run continues identically
    assert torch.equal(torch.rand(3), after_ref)
    assert D.training  # put back as it was


def test_reward_distribution_over_seeds_matches_the_reference():
    G, D = nets(seed=1)
    tokens = G.sample(4)
    runs = {}
    for f in (rollout_rewards_reference, rollout_rewards):
        runs[f] = torch.stack([(torch.manual_seed(s), f(G, D, tokens, n_rollouts=3))[1] for s in range(20)])
    ref, new = runs[rollout_rewards_reference], runs[rollout_rewards]
    assert torch.allclose(new.mean(0), ref.mean(0), atol=1e-6)
    assert torch.allclose(new.std(0), ref.std(0), atol=1e-5)
    assert ref.std(0)[:, :-1].max() > 0  # the rollouts are random: the comparison is not vacuous


def test_edge_shapes():
    G, D = nets(T=1)
    tokens = G.sample(3)
    assert torch.allclose(rollout_rewards(G, D, tokens, 2), rollout_rewards_reference(G, D, tokens, 2))
    G, D = nets(T=4)
    tokens = G.sample(1)
    torch.manual_seed(0)
    ref = rollout_rewards_reference(G, D, tokens, 1)
    torch.manual_seed(0)
    assert torch.allclose(rollout_rewards(G, D, tokens, 1), ref, atol=1e-6)


def test_draw_hidden_in_chunks_is_draw():
    G, _ = nets()
    h, u = torch.randn(50, 12), torch.rand(50)
    assert torch.equal(G.draw_hidden(h, u, chunk=7), G.draw(G.logits(h), u))
    assert torch.equal(G.invert(G.cdf(G.logits(h)), u[:, None].repeat(1, 3)), G.draw(G.logits(h), u)[:, None].repeat(1, 3))
