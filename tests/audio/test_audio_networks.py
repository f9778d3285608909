"""WaveGAN and SpecGAN networks: shapes for every length, phase shuffle, latents, conditioning."""

import pytest
import torch

import ganforge
from ganforge_audio import specgan, wavegan
from ganforge_audio.wavegan import PhaseShuffle


def reflect_shift(x: torch.Tensor, k: int) -> torch.Tensor:
    """Reference: out[t] = x[t - k], indices outside [0, L) reflected (no edge repeat)."""
    length = x.shape[-1]
    out = torch.empty_like(x)
    for t in range(length):
        i = t - k
        if i < 0:
            i = -i
        elif i >= length:
            i = 2 * (length - 1) - i
        out[..., t] = x[..., i]
    return out


def test_phase_shuffle_shifts_each_example_by_at_most_n_with_reflection():
    torch.manual_seed(0)
    n = 2
    layer = PhaseShuffle(n).train()
    x = torch.randn(64, 3, 20)
    y = layer(x)
    seen = set()
    for b in range(len(x)):
        matches = [k for k in range(-n - 3, n + 4) if torch.equal(y[b], reflect_shift(x[b], k))]
        assert len(matches) == 1, f"example {b} is not a reflect-padded shift of its input"
        assert abs(matches[0]) <= n
        seen.add(matches[0])
    assert seen == set(range(-n, n + 1)), "every shift in [-n, n] should occur over 64 examples"


def test_phase_shuffle_is_identity_in_eval_mode_and_for_n_zero():
    x = torch.randn(8, 2, 32)
    assert torch.equal(PhaseShuffle(2).eval()(x), x)
    assert torch.equal(PhaseShuffle(0).train()(x), x)


def test_phase_shuffle_passes_gradients():
    x = torch.randn(4, 1, 16, requires_grad=True)
    PhaseShuffle(2).train()(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_wavegan_critic_applies_phase_shuffle_only_in_training():
    cfg = wavegan.WaveGANConfig(audio_length=4096, model_dim=4, phase_shuffle=2)
    D = wavegan.Discriminator(cfg)
    assert sum(isinstance(m, PhaseShuffle) for m in D.modules()) == len(D.layers) - 1
    x = torch.randn(6, 1, 4096)
    D.eval()
    assert torch.equal(D(x), D(x))
    D.train()
    torch.manual_seed(1)
    a = D(x)
    torch.manual_seed(2)
    b = D(x)
    assert not torch.allclose(a, b), "a training-mode critic must see shifted activations"


@pytest.mark.parametrize("length,layers", [(4096, 4), (8192, 5), (16384, 5), (32768, 6), (65536, 6)])
def test_wavegan_shapes_for_every_length(length, layers):
    cfg = wavegan.WaveGANConfig(audio_length=length, model_dim=2, channels=2)
    G, D = wavegan.Generator(cfg), wavegan.Discriminator(cfg)
    assert len(G.layers) == layers == len(D.layers)
    assert all(layer.kernel_size == (25,) for layer in G.layers)
    x = G(G.sample_latent(2))
    assert x.shape == (2, 2, length)
    assert x.abs().max() <= 1
    assert D(x).shape == (2,)


def test_wavegan_paper_widths():
    G = wavegan.Generator(wavegan.WaveGANConfig(model_dim=64))
    assert G.dense.out_features == 16 * 16 * 64  # dense to 16 x 16d
    assert [l.out_channels for l in G.layers] == [512, 256, 128, 64, 1]
    assert [l.stride for l in G.layers] == [(4,)] * 5
    D = wavegan.Discriminator(wavegan.WaveGANConfig(model_dim=64))
    assert [l.out_channels for l in D.layers] == [64, 128, 256, 512, 1024]


def test_latents_are_uniform_in_minus_one_one():
    for G in (wavegan.Generator(wavegan.WaveGANConfig(audio_length=4096, model_dim=2)),
              specgan.Generator(specgan.SpecGANConfig(audio_length=4096, model_dim=2))):
        z = G.sample_latent(4000, generator=torch.Generator().manual_seed(0))
        assert z.shape == (4000, 100)
        assert z.min() >= -1 and z.max() <= 1
        assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - (1 / 3) ** 0.5) < 0.02


def test_post_processing_filter_keeps_length():
    G = wavegan.Generator(wavegan.WaveGANConfig(audio_length=4096, model_dim=2, post_filter_len=512))
    assert G(G.sample_latent(2)).shape == (2, 1, 4096)


@pytest.mark.parametrize("length", [4096, 16384])
def test_specgan_shapes(length):
    cfg = specgan.SpecGANConfig(audio_length=length, model_dim=2)
    G, D = specgan.Generator(cfg), specgan.Discriminator(cfg)
    x = G(G.sample_latent(3))
    assert x.shape == (3, 1, 128, length // 128)
    assert D(x).shape == (3,)


def test_conditional_networks_use_the_condition():
    cfg = wavegan.WaveGANConfig(audio_length=4096, model_dim=2, conditional=True, cond_dim=8)
    G, D = wavegan.Generator(cfg), wavegan.Discriminator(cfg).eval()
    z = G.sample_latent(2)
    c1, c2 = torch.randn(2, 8), torch.randn(2, 8)
    assert not torch.allclose(G(z, c1), G(z, c2))
    x = G(z, c1)
    assert not torch.allclose(D(x, c1), D(x, c2))
    with pytest.raises(ganforge.GanforgeError, match="conditional"):
        G(z)


def test_bad_length_is_a_clear_error():
    with pytest.raises(ganforge.GanforgeError, match="audio_length"):
        wavegan.Generator(wavegan.WaveGANConfig(audio_length=1000))
    with pytest.raises(ganforge.GanforgeError, match="audio_length"):
        specgan.Generator(specgan.SpecGANConfig(audio_length=3000))


def test_representation_mismatch_is_a_clear_error():
    with pytest.raises(ganforge.GanforgeError, match="waveforms"):
        wavegan.Discriminator(wavegan.WaveGANConfig(audio_length=4096, representation="spectrogram"))
    with pytest.raises(ganforge.GanforgeError, match="spectrograms"):
        specgan.Generator(specgan.SpecGANConfig(audio_length=4096, representation="waveform"))
