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


def test_the_harmony_path_gives_every_pitched_track_the_same_chord_and_the_drums_none():
    G = Generator(MuseGANConfig(**SMALL, harmony=True)).eval()
    with torch.no_grad():  # silence each track's own notes: what is left is the shared chord
        G.to_roll.weight.zero_()
        G.to_roll.bias.zero_()
        x = G(G.sample_latent(2, generator=torch.Generator().manual_seed(0)))
    chord = x[:, 1:].reshape(2, 4, 4, 16, 4, 12)  # pitched tracks: [B, tracks, bars, steps, octaves, 12]
    assert x[:, 0].abs().max() == 0  # the drum track (drums:drums, first) gets no chord
    assert chord.abs().amin() > 0
    assert torch.allclose(chord, chord[:, :1].expand_as(chord))  # every pitched track alike
    assert torch.allclose(chord, chord[..., :1, :].expand_as(chord))  # every octave alike
    assert torch.allclose(chord[:, :, :, :4], chord[:, :, :, :1].expand(-1, -1, -1, 4, -1, -1))  # a beat alike
    assert not torch.allclose(chord[:, :, :, 0], chord[:, :, :, 4])  # beats may differ


def test_the_harmony_path_follows_the_shared_latent_and_not_a_tracks_own():
    G = Generator(MuseGANConfig(**SMALL, harmony=True)).eval()
    with torch.no_grad():
        G.to_roll.weight.zero_()
        G.to_roll.bias.zero_()
        z = G.sample_latent(2, generator=torch.Generator().manual_seed(0))
        x = G(z)
        private, shared = z.clone(), z.clone()
        private[:, 2 * 4:] += 3  # every track's own latents
        shared[:, :4] += 3  # the latent all tracks share
        assert torch.equal(G(private), x) and not torch.allclose(G(shared), x)


def test_without_harmony_the_generator_is_museGANs():
    G = Generator(MuseGANConfig(**SMALL))
    assert G.harmony is None and not any("harmony" in k or "cond_norm" in k for k in G.state_dict())


@pytest.mark.parametrize("net", ["generator", "critic"])
def test_the_normalised_condition_makes_small_caption_differences_heard(net):
    """Sentence embeddings of captions that differ in the key are unit vectors a few hundredths
    apart: standardised per dimension over the data, they move the networks about as much as
    the latent (or the sample) does; unscaled, hardly at all."""
    torch.manual_seed(0)
    common = torch.nn.functional.normalize(torch.randn(1, 32), dim=1)
    conds = torch.nn.functional.normalize(common + 0.03 * torch.randn(16, 32), dim=1)  # cosine ~0.97
    ratio = {}
    for norm in (False, True):
        torch.manual_seed(1)
        cfg = MuseGANConfig(z_dim=8, g_channels=64, d_channels=4, temporal_hidden=32, conditional=True,
                            encoder="text:minilm", cond_dim=32, condition_norm=norm)
        G, D = Generator(cfg), Discriminator(cfg)
        with torch.no_grad():
            for m in [*G.modules(), *D.modules()]:  # the statistics a training on these captions gathers
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.momentum = None
            z = G.sample_latent(16)
            D(G(z, conds), conds)
            G.eval(), D.eval()
            if net == "generator":
                by_cond = G(z[:1].expand(16, -1), conds)
                by_other = G(z, conds[:1].expand(16, -1))
            else:
                x = G(z, conds)
                by_cond = D(x[:1].expand(16, -1, -1, -1, -1), conds)
                by_other = D(x, conds[:1].expand(16, -1))
        ratio[norm] = (by_cond.std(0).mean() / by_other.std(0).mean()).item()
    assert ratio[True] > 0.3 and ratio[False] < ratio[True] / 5


def test_the_recipe_turns_the_harmony_and_the_normalised_condition_on():
    from ganforge_music.recipes import MUSEGAN

    assert MUSEGAN.defaults["harmony"] is True and MUSEGAN.defaults["condition_norm"] is True
    assert {"harmony", "condition_norm"} <= set(MUSEGAN.options)
