"""SeqGAN's objectives: reward alignment, policy-gradient sign, rollout policy, MLE."""

import math

import torch
from torch import nn

import ganforge
from ganforge_text.generator import Generator, LSTMGeneratorConfig
from ganforge_text.objectives import MLE, PolicyGradient, policy_gradient_loss, rollout_rewards

POS, TOKEN = 2, 5  # the discriminator below likes TOKEN at position POS


class LikesTokenAt(nn.Module):
    """A 'discriminator' that says real (logit +30) exactly when x[:, POS] == TOKEN."""

    def forward(self, x, cond=None):
        return torch.where(x[:, POS] == TOKEN, 30.0, -30.0)


def uniform_generator(vocab=8, seq_len=5):
    """Every allowed token equally likely at every position (zero output weights)."""
    G = Generator(LSTMGeneratorConfig(vocab_size=vocab, seq_len=seq_len, emb_dim=4, hidden_dim=4,
                                      eos_id=-1, banned_tokens=[0, 1]))
    with torch.no_grad():
        G.out.weight.zero_()
        G.out.bias.zero_()
    return G


def test_reward_of_token_t_comes_from_rollouts_of_prefix_t():
    # TextGAN-PyTorch #62: rewards reshaped without a transpose land on the wrong tokens.
    torch.manual_seed(0)
    G = uniform_generator()
    tokens = G.sample(64)
    tokens[::2, POS] = TOKEN  # half the rows have the liked token, half mostly not
    tokens[1::2, POS] = 3
    rewards = rollout_rewards(G, LikesTokenAt(), tokens, n_rollouts=32)
    liked = (tokens[:, POS] == TOKEN).float()
    # prefixes that include position POS decide the reward for their own row, exactly
    for t in range(POS, tokens.shape[1]):
        assert torch.allclose(rewards[:, t], liked, atol=1e-6), t
    # before POS the rollout draws position POS itself: P(TOKEN) = 1/6 for every row alike
    for t in range(POS):
        assert abs(rewards[:, t].mean().item() - 1 / 6) < 0.05
        assert abs(rewards[::2, t].mean() - rewards[1::2, t].mean()) < 0.06


def test_policy_gradient_sign_raises_rewarded_token():
    torch.manual_seed(0)
    G = uniform_generator()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(0.1 * torch.randn_like(p))
    tokens = G.sample(1)
    rewards = torch.zeros(1, tokens.shape[1])
    rewards[0, POS] = 1.0
    before = G.log_prob(tokens)[0].detach()
    opt = torch.optim.SGD(G.parameters(), lr=0.5)
    loss = policy_gradient_loss(G.log_prob(tokens), rewards, torch.ones_like(tokens, dtype=torch.bool))
    opt.zero_grad()
    loss.backward()
    opt.step()
    after = G.log_prob(tokens)[0].detach()
    assert after[POS] > before[POS] + 1e-3


def test_mean_baseline_centres_rewards():
    logp = torch.zeros(4, 3, requires_grad=True)
    rewards = torch.full((4, 3), 0.7)
    loss = policy_gradient_loss(logp, rewards, torch.ones(4, 3, dtype=torch.bool), baseline="mean")
    loss.backward()
    assert torch.allclose(logp.grad, torch.zeros(4, 3))  # equal rewards: nothing to learn


def _step(G, D, x, config):
    return ganforge.Step(generator=G, discriminator=D, batch={"x": x}, config=config, step=0)


def test_policy_gradient_objective_learns_what_the_discriminator_likes():
    torch.manual_seed(1)
    G, D = uniform_generator(), LikesTokenAt()
    config = {"rollouts": 4, "rollout_update_rate": 0.0, "pg_baseline": "mean"}
    objective = PolicyGradient(config)
    opt = torch.optim.Adam(G.parameters(), lr=0.05)
    x = torch.zeros(32, 5, dtype=torch.long)

    def p_liked():
        return (G.sample(2000, generator=torch.Generator().manual_seed(9))[:, POS] == TOKEN).float().mean().item()

    start = p_liked()
    for _ in range(15):
        loss, logs = objective.generator_loss(_step(G, D, x, config))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert "reward" in logs
    assert p_liked() > start + 0.15


def test_rollout_policy_lags_and_its_state_round_trips():
    torch.manual_seed(0)
    G, D = uniform_generator(), LikesTokenAt()
    config = {"rollouts": 2, "rollout_update_rate": 0.8}
    x = torch.zeros(4, 5, dtype=torch.long)
    objective = PolicyGradient(config)
    objective.generator_loss(_step(G, D, x, config))
    old = {k: v.clone() for k, v in objective.rollout.state_dict().items()}
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    saved = objective.state_dict()
    objective.generator_loss(_step(G, D, x, config))  # moves the policy: 0.8 old + 0.2 new
    for k, v in objective.rollout.state_dict().items():
        assert torch.allclose(v, 0.8 * old[k] + 0.2 * G.state_dict()[k], atol=1e-6), k
    # a fresh objective (a resumed run) picks up the saved policy and the pending move
    fresh = PolicyGradient(config)
    fresh.load_state_dict(saved)
    fresh.generator_loss(_step(G, D, x, config))
    for k, v in fresh.rollout.state_dict().items():
        assert torch.allclose(v, objective.rollout.state_dict()[k]), k


def test_mle_lowers_nll_of_a_tiny_corpus():
    torch.manual_seed(0)
    G = Generator(LSTMGeneratorConfig(vocab_size=10, seq_len=6, emb_dim=8, hidden_dim=16, banned_tokens=[0, 1]))
    x = torch.tensor([[4, 5, 6, 7, 2, 0], [4, 8, 9, 2, 0, 0]] * 4)
    objective = MLE({})
    assert objective.trains_discriminator is False
    opt = torch.optim.Adam(G.parameters(), lr=0.02)
    first = None
    for _ in range(60):
        loss, logs = objective.generator_loss(_step(G, None, x, {}))
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert abs(first - math.log(8)) < 0.3  # starts near uniform over the 8 allowed tokens
    assert logs["nll"] < 0.6 * first
