"""MuseGAN's generator and critic: shapes, latents, the track-conditional copy, gradients."""

import pytest
import torch

from ganforge import GanforgeError
from ganforge_music.encoders import TrackEncoder, TrackEncoderConfig
from ganforge_music.musegan import Discriminator, Generator, MuseGANConfig

SMALL = dict(z_dim=4, g_channels=16, d_channels=4, temporal_hidden=16)


@pytest.mark.parametrize("size", [
    dict(),  # the CPU default: 5 tracks x 4 bars x 16 steps x 48 pitches
    dict(steps_per_bar=48, beat_resolution=12, n_pitches=84, lowest_pitch=24),  # MuseGAN's
])
def test_shapes(size):
    cfg = MuseGANConfig(**SMALL, **size)
    G, D = Generator(cfg), Discriminator(cfg)
    z = G.sample_latent(3)
    assert z.shape == (3, (2 + 2 * 5) * 4)  # shared, shared temporal, and both per track
    x = G(z)
    assert x.shape == (3, 5, 4, cfg.steps_per_bar, cfg.n_pitches) and x.abs().max() <= 1
    assert D(x).shape == (3,)


def test_the_latents_play_their_parts():
    G = Generator(MuseGANConfig(**SMALL)).eval()
    z = G.sample_latent(2, generator=torch.Generator().manual_seed(0))
    x = G(z)
    z2 = z.clone()
    zd = 4
    z2[:, 2 * zd + 3 * zd:2 * zd + 4 * zd] += 3  # track 3's private latent
    y = G(z2)
    changed = (x - y).abs().amax((0, 2, 3, 4))
    assert changed[3] > 0 and torch.equal(changed[[0, 1, 2, 4]], torch.zeros(4))  # only that track moves


def test_track_conditional_mode_copies_the_given_tracks():
    enc = TrackEncoder(TrackEncoderConfig(condition_tracks="melody bass"))
    cfg = MuseGANConfig(**SMALL, conditional=True, encoder="track", condition_tracks="melody bass", cond_dim=enc.dim)
    G = Generator(cfg)
    real = torch.randint(0, 2, (3, 5, 4, 16, 48)).float() * 2 - 1
    cond = enc(real)
    assert cond.shape == (3, 2 * 4 * 16 * 48)
    x = G(G.sample_latent(3), cond)
    assert torch.equal(x[:, [1, 4]], real[:, [1, 4]]) and not torch.equal(x[:, 0], real[:, 0])
    with pytest.raises(GanforgeError, match="condition_midi"):
        G.generate(3, cond=enc([None] * 3))


def test_condition_tracks_are_checked():
    with pytest.raises(GanforgeError, match="condition_tracks"):
        TrackEncoder(TrackEncoderConfig(condition_tracks="kazoo"))


def test_the_critic_passes_gradients_to_every_track():
    D = Discriminator(MuseGANConfig(**SMALL))
    x = (torch.rand(2, 5, 4, 16, 48) > 0.9).float().mul(2).sub(1).requires_grad_(True)
    D(x).sum().backward()
    assert (x.grad.abs().sum((0, 2, 3, 4)) > 0).all()


def test_a_text_conditioned_critic_projects_the_condition():
    cfg = MuseGANConfig(**SMALL, conditional=True, encoder="text:hashed", cond_dim=8)
    G, D = Generator(cfg), Discriminator(cfg)
    c = torch.randn(2, 8)
    x = G(G.sample_latent(2), c)
    assert not torch.allclose(D(x, c), D(x, -c))
    with pytest.raises(GanforgeError, match="conditional"):
        G(G.sample_latent(2))
