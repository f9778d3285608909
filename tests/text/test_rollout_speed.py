"""The batched Monte Carlo rollouts against the simple per-prefix loop they replace."""

import pytest
import torch

from ganforge_text.discriminator import CNNDiscriminatorConfig, Discriminator
from ganforge_text.generator import Generator, LSTMGeneratorConfig, Sampler
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


def test_sampler_draws_what_the_plain_cdf_draws():
    G, _ = nets()
    h, u = torch.tanh(torch.randn(500, 12)), torch.rand(500)
    assert torch.equal(Sampler(G, chunk=7).draw(h, u), G.draw(G.logits(h), u))
    assert torch.equal(Sampler(G, 0.7).draw(h, u), G.draw(G.logits(h), u, 0.7))
    # inputs beyond |h| < 1 and sharp weights take the path that subtracts the max
    with torch.no_grad():
        G.out.weight.mul_(40)
    big = h * 3
    assert torch.equal(G.draw_hidden(big, u), G.draw(G.logits(big), u))


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_sampler_at_the_oracle_vocabulary(scale):
    # V = 5004 (not a whole number of blocks), 4 banned ids: the same ids as the plain CDF
    # except where float rounding moves a step (the plain cumsum over 5004 terms rounds)
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=5004, seq_len=4, emb_dim=8, hidden_dim=32, init_std=0.1 * scale,
                                      banned_tokens=[0, 1, 2, 3]))
    h, u = torch.tanh(torch.randn(3000, 32)), torch.rand(3000)
    u[:2] = torch.tensor([0.0, torch.tensor(1.0).nextafter(torch.tensor(0.0)).item()])
    new, ref = G.draw_hidden(h, u), G.draw(G.logits(h), u)
    assert (new != ref).sum() <= 3
    assert new.min() >= 4 and new.max() < 5004  # never a banned or padding id, even at u = 0 and u -> 1


def test_sampled_frequencies_follow_softmax():
    G, _ = nets(vocab=70)  # two blocks
    h = torch.tanh(torch.randn(1, 12)).repeat(40000, 1)
    counts = torch.bincount(G.draw_hidden(h, torch.rand(40000), 1.5), minlength=70).float() / 40000
    assert torch.allclose(counts, torch.softmax(G.logits(h[:1])[0] / 1.5, -1), atol=0.006)
    assert counts[:2].sum() == 0


def _tv(a, b):
    return 0.5 * (a - b).abs().sum().item()


@pytest.mark.skipif(not Sampler.__init__.__globals__["_cpu_has_fast_bf16"](), reason="no bf16 dot products on this CPU")
def test_bf16_proposals_are_corrected_to_the_exact_distribution():
    # a proposal table made deliberately wrong (half the ids 0.5 base-2 units too likely,
    # within a slack of 0.55): the accept/redraw step must still give the exact softmax
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=1200, seq_len=2, emb_dim=4, hidden_dim=8, init_std=0.3,
                                      banned_tokens=[0, 1]))
    h = torch.tanh(torch.randn(1, 8)).repeat(200_000, 1)
    exact = torch.softmax(G.logits(h[:1])[0], -1)
    sampler = Sampler(G, proposals=True)
    assert sampler.proposal is not None
    distorted = sampler.table.clone()
    distorted[-1, ::2] += 0.5
    sampler.proposal = distorted.bfloat16()
    reach = sampler.bound * max(1.0, h.abs().max().item())
    sampler.PROPOSAL_ERROR = (0.5 + 0.05) / reach
    sampler.MAX_SLACK = 1.0
    got = torch.bincount(sampler.draw(h, torch.rand(len(h))), minlength=1200).float() / len(h)
    proposal = torch.softmax(distorted.t()[:1200] @ torch.cat([h[0], torch.ones(1)]) / 1.4426950408889634, 0)
    assert _tv(proposal, exact) > 0.08  # the test has power: uncorrected proposals are far off
    assert _tv(got, exact) < 0.045  # sampling noise alone: about 0.031 at 200,000 draws of 1,198 ids
    assert got[:2].sum() == 0


def test_rollout_rewards_with_proposals_have_the_reference_distribution():
    # V = 1100 takes the proposal path (where the CPU has bf16 dot products): other tokens
    # than the reference's under the same seed, the same distribution over seeds
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=1100, seq_len=5, emb_dim=8, hidden_dim=16, init_std=0.5,
                                      banned_tokens=[0, 1])).eval()
    D = Discriminator(CNNDiscriminatorConfig(vocab_size=1100, seq_len=5, d_emb_dim=8, d_filter_sizes=[1, 2],
                                             d_num_filters=[4, 4]))
    tokens = G.sample(3)
    runs = {f: torch.stack([(torch.manual_seed(s), f(G, D, tokens, n_rollouts=8))[1] for s in range(150)])
            for f in (rollout_rewards_reference, rollout_rewards)}
    ref, new = runs[rollout_rewards_reference], runs[rollout_rewards]
    se = (ref.var(0) / 150 + new.var(0) / 150).sqrt()[:, :-1]
    assert ((new.mean(0) - ref.mean(0)).abs()[:, :-1] < 4 * se + 1e-6).all()
    assert torch.allclose(new.std(0), ref.std(0), rtol=0.25, atol=1e-4)
    assert ref.std(0)[:, :-1].min() > 0
