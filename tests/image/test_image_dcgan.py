"""The DCGAN networks: shapes at every size, the reference layout, initialisation, conditioning."""

import pytest
import torch
from torch import nn

import ganforge
from ganforge_image.dcgan import DCGANConfig, Discriminator, Generator


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [16, 32, 64, 128])
def test_shapes_every_size(size, channels, conditional):
    cfg = DCGANConfig(image_size=size, channels=channels, nz=10, ngf=4, ndf=4, conditional=conditional, cond_dim=6)
    G, D = Generator(cfg), Discriminator(cfg)
    z = torch.randn(3, 10)
    cond = torch.randn(3, 6) if conditional else None
    x = G(z, cond)
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # Tanh output
    logits = D(x, cond)
    assert logits.shape == (3,)
    assert torch.isfinite(logits).all()


def test_64x64_is_the_reference_network():
    """ngf = ndf = 64 at 64x64: the PyTorch DCGAN example, parameter for parameter."""
    cfg = DCGANConfig()
    G, D = Generator(cfg), Discriminator(cfg)
    assert sum(p.numel() for p in G.parameters()) == 3_576_704
    assert sum(p.numel() for p in D.parameters()) == 2_765_568
    g_convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.stride[0], m.padding[0]) for m in g_convs] == [
        (100, 512, 1, 0), (512, 256, 2, 1), (256, 128, 2, 1), (128, 64, 2, 1), (64, 3, 2, 1)]
    d_convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.stride[0], m.padding[0]) for m in d_convs] == [
        (3, 64, 2, 1), (64, 128, 2, 1), (128, 256, 2, 1), (256, 512, 2, 1), (512, 1, 1, 0)]
    assert all(m.bias is None for m in g_convs + d_convs)
    # no normalisation after the discriminator's first conv; Tanh last in G
    assert isinstance(D.features[1], nn.LeakyReLU) and D.features[1].negative_slope == 0.2
    assert isinstance(G.main[-1], nn.Tanh)


def test_widths_at_other_sizes():
    """32x32 starts at 4*ngf; 128x128 is capped at 8*ngf."""
    g32 = Generator(DCGANConfig(image_size=32, ngf=64))
    assert g32.main[0].out_channels == 256
    g128 = Generator(DCGANConfig(image_size=128, ngf=64))
    widths = [m.out_channels for m in g128.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert widths == [512, 512, 256, 128, 64, 3]
    d128 = Discriminator(DCGANConfig(image_size=128, ndf=64))
    assert [m.out_channels for m in d128.modules() if isinstance(m, nn.Conv2d)] == [64, 128, 256, 512, 512, 1]


def test_initialisation_statistics():
    torch.manual_seed(0)
    cfg = DCGANConfig()
    for net in (Generator(cfg), Discriminator(cfg)):
        convs = torch.cat([m.weight.flatten() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
        assert abs(convs.mean().item()) < 1e-3
        assert convs.std().item() == pytest.approx(0.02, rel=0.02)
        bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        scales = torch.cat([m.weight for m in bns])
        assert scales.mean().item() == pytest.approx(1.0, abs=0.01)
        assert scales.std().item() == pytest.approx(0.02, rel=0.2)
        assert all((m.bias == 0).all() for m in bns)


@pytest.mark.parametrize("norm, kind", [("batch", nn.BatchNorm2d), ("layer", nn.GroupNorm), ("none", None)])
def test_discriminator_norm_option(norm, kind):
    D = Discriminator(DCGANConfig(image_size=32, ndf=8, d_norm=norm))
    kinds = {type(m) for m in D.modules()}
    for other in (nn.BatchNorm2d, nn.GroupNorm):
        assert (other in kinds) == (other is kind)


def test_layer_norm_critic_treats_examples_independently():
    """What a per-example gradient penalty needs: D(x)[i] does not depend on the rest of the batch."""
    torch.manual_seed(0)
    D = Discriminator(DCGANConfig(image_size=16, ndf=8, d_norm="layer")).train()
    x = torch.randn(5, 3, 16, 16)
    assert torch.allclose(D(x)[:1], D(x[:1]), atol=1e-5)


def test_conditioning_changes_outputs_and_gets_gradients():
    torch.manual_seed(0)
    cfg = DCGANConfig(image_size=16, ngf=8, ndf=8, conditional=True, cond_dim=4)
    G, D = Generator(cfg).eval(), Discriminator(cfg).eval()
    z = torch.randn(2, 100)
    a, b = torch.randn(1, 4).expand(2, 4), torch.randn(1, 4).expand(2, 4)
    assert not torch.allclose(G(z, a), G(z, b))
    x = G(z, a).detach()
    assert torch.equal(D(x, a), D(x, b))  # the projection starts at zero: the unconditional D
    D(x, a).sum().backward()
    assert D.project.weight.grad is not None and D.project.weight.grad.abs().sum() > 0
    with torch.no_grad():
        D.project.weight.normal_(0, 0.02)
    assert not torch.allclose(D(x, a), D(x, b))


def test_conditional_networks_need_a_condition():
    cfg = DCGANConfig(image_size=16, ngf=4, ndf=4, conditional=True, cond_dim=4)
    with pytest.raises(ganforge.GanforgeError, match="conditional"):
        Generator(cfg)(torch.randn(2, 100))
    with pytest.raises(ganforge.GanforgeError, match="condition"):
        Discriminator(cfg)(torch.randn(2, 3, 16, 16))


@pytest.mark.parametrize("bad", [{"image_size": 48}, {"image_size": 8}, {"d_norm": "instance"}, {"ngf": 0}])
def test_bad_configuration_is_a_ganforge_error(bad):
    with pytest.raises(ganforge.GanforgeError, match=next(iter(bad))):
        Generator(DCGANConfig(**bad)) if "ngf" in bad else Discriminator(DCGANConfig(**bad))


def test_generate_is_reproducible_with_a_seeded_generator():
    G = Generator(DCGANConfig(image_size=16, ngf=4)).eval()
    a = G.generate(3, generator=torch.Generator().manual_seed(1))
    b = G.generate(3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
