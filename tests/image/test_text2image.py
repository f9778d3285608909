"""DF-GAN networks and the matching-aware objective (text2image)."""

import json

import pytest
import torch

import ganforge
from ganforge import GanforgeError
from ganforge.training.objectives import MatchingAware, matching_aware_gp
from ganforge_image.dfgan import DFGANConfig, Discriminator, Generator


@pytest.mark.parametrize("size", [8, 16, 32, 64])
def test_shapes_at_every_size(size):
    cfg = DFGANConfig(image_size=size, ngf=4, ndf=4, nz=8, cond_dim=6)
    G, D = Generator(cfg), Discriminator(cfg)
    x = G(torch.randn(3, 8), torch.randn(3, 6))
    assert x.shape == (3, 3, size, size) and x.abs().max() <= 1
    assert D(x, torch.randn(3, 6)).shape == (3,)


def test_fusion_starts_as_identity_so_the_condition_has_no_effect_at_first():
    cfg = DFGANConfig(image_size=16, ngf=4, ndf=4, nz=8, cond_dim=6)
    G = Generator(cfg)
    z = torch.randn(2, 8)
    assert torch.allclose(G(z, torch.randn(2, 6)), G(z, torch.randn(2, 6)))
    with torch.no_grad():  # once the affines learn, it does
        G.blocks[0].fuse1.a1.scale[2].weight.normal_()
    assert not torch.allclose(G(z, torch.randn(2, 6)), G(z, torch.randn(2, 6)))


def test_unconditional_use_is_a_one_line_error():
    cfg = DFGANConfig(image_size=16, ngf=4, ndf=4, nz=8, cond_dim=6)
    with pytest.raises(GanforgeError, match="needs a condition"):
        Generator(cfg)(torch.randn(2, 8))
    with pytest.raises(GanforgeError, match="conditional=true"):
        Discriminator(DFGANConfig(image_size=16, ngf=4, ndf=4, conditional=False))(torch.randn(2, 3, 16, 16), None)
    with pytest.raises(GanforgeError, match="power of two"):
        Generator(DFGANConfig(image_size=24))


def _step(D, real, cond, labels, config=None):
    G = Generator(DFGANConfig(image_size=8, ngf=2, ndf=2, nz=4, cond_dim=cond.shape[1]))
    table = torch.randn(10, cond.shape[1])
    return ganforge.Step(generator=G, discriminator=D, batch={"x": real, "label": labels},
                         config=config or {"ma_gp_weight": 2.0, "ma_gp_power": 6.0}, step=0,
                         cond=cond, cond_d=cond, encode=lambda v: table[v], condition_key="label")


def test_ma_gp_matches_a_direct_autograd_computation():
    torch.manual_seed(0)
    D = Discriminator(DFGANConfig(image_size=8, ngf=2, ndf=2, cond_dim=3))
    with torch.no_grad():
        for block in D.blocks:
            block.gain.fill_(0.5)
    real, cond = torch.randn(4, 3, 8, 8), torch.randn(4, 3)
    penalty, scores = matching_aware_gp(_step(D, real, cond, torch.arange(4)), weight=2.0, power=6.0)

    x, c = real.clone().requires_grad_(True), cond.clone().requires_grad_(True)
    out = D(x, c)
    gx, gc = torch.autograd.grad(out.sum(), (x, c))
    norms = torch.sqrt(gx.flatten(1).pow(2).sum(1) + gc.pow(2).sum(1))
    assert torch.allclose(scores, out.detach())
    assert torch.allclose(penalty, 2.0 * (norms ** 6).mean(), rtol=1e-4)
    penalty.backward()  # differentiable: it trains D
    assert D.from_image.weight.grad is not None


def test_discriminator_loss_scores_mismatched_real_pairs_as_fake():
    torch.manual_seed(0)
    D = Discriminator(DFGANConfig(image_size=8, ngf=2, ndf=2, cond_dim=3))
    seen = []
    forward = D.forward

    def spy(x, cond=None):
        seen.append(cond.detach().clone())
        return forward(x, cond)

    D.forward = spy
    labels = torch.tensor([0, 1, 2, 3])
    step = _step(D, torch.randn(4, 3, 8, 8), torch.randn(4, 3), labels)
    loss, logs = MatchingAware({"ma_gp_weight": 2.0, "ma_gp_power": 6.0}).discriminator_loss(step)
    assert set(logs) >= {"d_real", "d_fake", "d_mismatched", "ma_gp"}
    assert torch.isfinite(loss)
    # real+MA-GP, fake, mismatched: the third D call's conditions are other samples' own
    assert len(seen) == 3 and not any(torch.equal(a, b) for a, b in zip(seen[2], step.cond_d))
    with pytest.raises(GanforgeError, match="conditional run"):
        MatchingAware({}).discriminator_loss(ganforge.Step(generator=None, discriminator=D,
                                                           batch={"x": torch.zeros(2, 3, 8, 8)}, config={}, step=0))


def test_text2image_trains_on_labels_and_generates_per_class(shapes16, tmp_path):
    out = tmp_path / "run"
    ganforge.train("text2image", data=shapes16, out=out, overrides={
        "encoder": "label", "image_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "batch_size": 8, "steps": 3,
        "progress": False, "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "log_every": 1})
    logs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert all({"d_mismatched", "ma_gp"} <= set(r) for r in logs if "d_loss" in r)
    pipe = ganforge.load(out)
    a = pipe.generate(4, seed=5, classes=["star"] * 4)
    b = pipe.generate(4, seed=5, classes=["star"] * 4)
    assert torch.equal(a.samples, b.samples) and a.samples.shape == (4, 3, 16, 16)


T2I = {"image_size": 16, "ngf": 4, "ndf": 4, "nz": 8, "batch_size": 8, "steps": 2, "progress": False,
       "preview_n": 4, "checkpoint_every": 0, "sample_every": 0, "log_every": 1}


@pytest.mark.parametrize("encoder", ["text:hashed", "text:minilm"])
def test_text2image_trains_on_captions_and_generates_from_prompts(shapes16, tmp_path, encoder):
    out = tmp_path / "run"
    ganforge.train("text2image", data=shapes16, out=out, overrides={**T2I, "encoder": encoder})
    pipe = ganforge.load(out)
    prompts = ["a red star on a white background", "a blue circle on a black background"] * 2
    a = pipe.generate(4, seed=7, prompts=prompts)
    assert torch.equal(a.samples, pipe.generate(4, seed=7, prompts=prompts).samples)  # deterministic per seed
    assert [r["prompt"] for r in a.records] == prompts
    assert not torch.equal(a.samples[0], a.samples[1])


def test_generate_reads_prompts_from_a_file(shapes16, tmp_path, capsys):
    from ganforge.cli import main

    out = tmp_path / "run"
    ganforge.train("text2image", data=shapes16, out=out, overrides={**T2I, "encoder": "text:hashed"})
    (tmp_path / "prompts.txt").write_text("a red star on a white background\n\n  a green square on a black background \n")
    assert main(["generate", str(out), "--out", str(tmp_path / "g"), "-n", "4",
                 "--prompts-file", str(tmp_path / "prompts.txt")]) == 0
    rows = [json.loads(line) for line in (tmp_path / "g" / "metadata.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["a red star on a white background", "a green square on a black background"] * 2
    (tmp_path / "empty.txt").write_text("\n \n")
    assert main(["generate", str(out), "--out", str(tmp_path / "h"), "--prompts-file", str(tmp_path / "empty.txt")]) != 0
    assert "holds no prompts" in capsys.readouterr().err


# ---------------------------------------------------------------------------- matching-hard


def test_nearest_other_picks_the_most_similar_different_condition():
    from ganforge.training.objectives import nearest_other

    captions = ["a red star", "a red star", "a red circle", "a blue circle"]
    emb = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.9, 0.3, 0.0], [0.0, 0.3, 1.0]])
    # the duplicate caption is never "another" caption; the nearest different one is
    assert nearest_other(captions, emb).tolist() == [2, 2, 0, 2]
    assert nearest_other(torch.tensor([0, 0, 1]), emb[:3]).tolist() == [2, 2, 0]  # class labels too
    with pytest.raises(GanforgeError, match="same condition"):
        nearest_other(["a", "a"], emb[:2])


def test_matching_hard_scores_real_images_with_the_nearest_other_caption_as_fake():
    from ganforge_image.dcgan import DCGANConfig, Discriminator as DCD
    from ganforge.training.objectives import HardMatching

    torch.manual_seed(0)
    D = DCD(DCGANConfig(image_size=16, ngf=4, ndf=4, nz=4, conditional=True, cond_dim=3, d_norm="layer"))
    seen = []
    forward = D.forward
    D.forward = lambda x, cond=None: seen.append(cond.detach().clone()) or forward(x, cond)
    G = Generator(DFGANConfig(image_size=16, ngf=2, ndf=2, nz=4, cond_dim=3))
    captions = ["a red star", "a red circle", "a blue square", "a blue square"]
    cond = torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.2, 0.0], [0.1, 0.3, 1.0], [0.1, 0.3, 1.0]])
    step = ganforge.Step(generator=G, discriminator=D, batch={"x": torch.randn(4, 3, 16, 16), "text": captions},
                         config={}, step=0, cond=cond, cond_d=cond, condition_key="text")
    loss, logs = HardMatching({}).discriminator_loss(step)
    assert set(logs) == {"d_real", "d_fake", "d_mismatched"} and torch.isfinite(loss)
    # real, fake, then real with the nearest other caption: star <-> circle, the squares -> circle
    assert len(seen) == 3 and torch.equal(seen[2], cond[[1, 0, 1, 1]])
    with torch.no_grad():  # a discriminator that rates every pair the same loses on the mismatched term
        D.project.weight.zero_()
    loss.backward()
    assert D.project.weight.grad.abs().sum() > 0  # the term trains the condition projection
    with pytest.raises(GanforgeError, match="conditional run"):
        HardMatching({}).discriminator_loss(ganforge.Step(generator=G, discriminator=D,
                                                          batch={"x": torch.zeros(2, 3, 16, 16)}, config={}, step=0))
