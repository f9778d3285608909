"""The LSTM generator and the CNN discriminator: shapes, sampling, likelihoods."""

import pytest
import torch

import ganforge
from ganforge_text.discriminator import CNNDiscriminatorConfig, Discriminator
from ganforge_text.generator import Generator, LSTMGeneratorConfig, lstm_states


def small_generator(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=12, seq_len=6, emb_dim=8, hidden_dim=8, init_std=0.5, banned_tokens=[0, 1])
    cfg.update(kw)
    return Generator(LSTMGeneratorConfig(**cfg))


def test_sample_shape_banned_tokens_and_padding_after_eos():
    G = small_generator()
    x = G.sample(200)
    assert x.dtype == torch.long and x.shape == (200, 6)
    mask = G.mask(x)
    assert not torch.isin(x[mask], torch.tensor([0, 1])).any()  # never <pad>/<bos> inside a line
    assert (x[~mask] == 0).all()  # after <eos>: padding only
    assert (x == 2).any()  # some lines end early


def test_same_generator_seed_same_text_and_forward_is_deterministic():
    G = small_generator()
    a = G.generate(8, generator=torch.Generator().manual_seed(5))
    b = G.generate(8, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    z = G.sample_latent(8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(G(z), G(z))


def test_temperature_sharpens_and_bad_options_are_errors():
    G = small_generator(init_std=1.0)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    cold = G.generate(400, generator=g(), temperature=0.3)
    hot = G.generate(400, generator=g(), temperature=3.0)
    assert -G.log_prob(cold).sum() < -G.log_prob(hot).sum()
    with pytest.raises(ganforge.GanforgeError, match="temperature"):
        G.generate(2, temperature=0)
    with pytest.raises(ganforge.GanforgeError, match="truncation"):
        G.generate(2, truncation=0.5)


def test_log_prob_matches_step_by_step_logits():
    G = small_generator()
    x = G.sample(16)
    stepped = torch.stack([torch.log_softmax(l, -1).gather(1, x[:, g : g + 1]).squeeze(1)
                           for g, _, l in lstm_states(G, x)], 1)
    mask = G.mask(x)
    lp = G.log_prob(x)
    assert lp.shape == (16, 6)
    assert torch.allclose(lp[mask], stepped[mask], atol=1e-5)
    assert (lp[~mask] == 0).all()
    assert torch.allclose(G.nll(x), -lp.sum() / mask.sum())


def test_sampling_follows_the_model_distribution():
    # one-token sequences: empirical frequencies match softmax of the first-step logits
    G = small_generator(seq_len=1, eos_id=-1, banned_tokens=[0])
    x = G.sample(20000, generator=torch.Generator().manual_seed(0))
    bos, state = G.start(1)
    probs = torch.softmax(G.step(bos, state)[0][0], -1)
    freq = torch.bincount(x[:, 0], minlength=12).float() / len(x)
    assert freq[0] == 0
    assert torch.allclose(freq, probs, atol=0.015)


def test_discriminator_scores_and_short_sequences():
    cfg = CNNDiscriminatorConfig(vocab_size=12, seq_len=3, d_emb_dim=8, d_filter_sizes=[1, 2, 5], d_num_filters=[3, 4, 5])
    D = Discriminator(cfg)
    x = torch.randint(0, 12, (7, 3))
    assert D(x).shape == (7,)
    assert D.l2_penalty() > 0
    with pytest.raises(ganforge.GanforgeError, match="d_filter_sizes"):
        Discriminator(CNNDiscriminatorConfig(d_filter_sizes=[1, 2], d_num_filters=[3]))


def test_paper_discriminator_sizes():
    D = Discriminator(CNNDiscriminatorConfig())
    assert [c.kernel_size[0] for c in D.convs] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
    assert sum(c.out_channels for c in D.convs) == 1720
    assert D.dropout.p == 0.25
