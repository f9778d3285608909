"""The stylegan recipe: networks at every size, truncation, style mixing, path length,
training with every regulariser, resume, generation options and the mixing/interpolation tools."""

import json
import math

import pytest
import torch
from PIL import Image

import ganforge
from ganforge.artifacts import checkpoint_dir
from ganforge_image.stylegan import (Discriminator, Generator, StyleGANConfig, minibatch_stddev, modulated_conv2d,
                                     num_ws)
from ganforge_image.stylegan_objective import StyleGAN2Loss

# Tiny networks: every code path, a fraction of a second a step.
TINY = {"image_size": 16, "channel_base": 128, "channel_max": 16, "nz": 8, "w_dim": 8, "cond_dim": 8,
        "batch_size": 4, "mbstd_group": 2, "progress": False, "preview_n": 4, "checkpoint_every": 0,
        "sample_every": 0, "log_every": 1, "d_reg_interval": 2, "pl_interval": 2}


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: a second thread only waits at barriers (with other
    processes on the cores, a 2-thread 16x16 conv took 50 ms, a 1-thread one 50 us)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_cfg(**kw):
    base = {k: TINY[k] for k in ("image_size", "channel_base", "channel_max", "nz", "w_dim", "cond_dim", "mbstd_group")}
    return StyleGANConfig(**{**base, **kw})


def read_log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def record_ws(G):
    """Hooks on every styled layer's affine map: the w each layer (and toRGB) received, in call order."""
    seen = []
    styled = list(G.synthesis_network.layers) + list(getattr(G.synthesis_network, "to_rgb", []))
    handles = [m.affine.register_forward_hook(lambda mod, inp, out, m=m: seen.append((m, inp[0].detach().clone())))
               for m in styled if hasattr(m, "affine")]
    return seen, handles


# ---------------------------------------------------------------------------- networks

@pytest.mark.parametrize("variant", ["stylegan2", "stylegan1"])
@pytest.mark.parametrize("size", [16, 32, 64, 128, 256])
def test_shapes_at_every_resolution(size, variant):
    cfg = tiny_cfg(image_size=size, variant=variant, channel_base=size * 4, channel_max=4)
    G, D = Generator(cfg), Discriminator(cfg)
    z = torch.randn(3, cfg.nz)
    x = G(z)
    assert x.shape == (3, 3, size, size) and torch.isfinite(x).all()
    assert D(x).shape == (3,)
    assert G.num_ws == num_ws(size) == 2 * int(math.log2(size)) - 2
    ws = G.mapping(z)
    assert ws.shape == (3, G.num_ws, cfg.w_dim)
    # every w is read by some layer, none beyond the last
    indices = set(G.synthesis_network.w_index)
    if variant == "stylegan2":
        indices |= {i + 1 for i in G.synthesis_network.w_index}  # toRGB reads the next index
    assert indices == set(range(G.num_ws))


def test_bad_sizes_and_variants_are_one_line_errors():
    for bad in (8, 48, 512):
        with pytest.raises(ganforge.GanforgeError, match="image_size"):
            Generator(tiny_cfg(image_size=bad))
    with pytest.raises(ganforge.GanforgeError, match="variant"):
        Generator(tiny_cfg(variant="stylegan3"))


def test_modulated_conv_equals_per_sample_demodulated_weights():
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 5, 8, 8), torch.randn(7, 5, 3, 3), torch.randn(3, 5)
    out = modulated_conv2d(x, weight, styles, demodulate=True)
    for b in range(3):
        w = weight * styles[b][None, :, None, None]
        w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
        assert torch.allclose(out[b], torch.nn.functional.conv2d(x[b:b + 1], w, padding=1)[0], atol=1e-5)
    # demodulation makes the output scale-free in the styles
    assert torch.allclose(modulated_conv2d(x, weight, styles * 10), out, atol=1e-4)


def test_minibatch_stddev_adds_the_group_statistic():
    x = torch.randn(6, 4, 2, 2)
    y = minibatch_stddev(x, 2)
    assert y.shape == (6, 5, 2, 2)
    # samples i and i + 3 form a group (batch reshaped [group, n / group])
    expected = x.reshape(2, 3, 4, 2, 2).std(dim=0, unbiased=False).mean(dim=(1, 2, 3))
    assert torch.allclose(y[:3, 4, 0, 0], expected, atol=1e-5) and torch.allclose(y[3:, 4, 0, 0], expected, atol=1e-5)
    assert minibatch_stddev(torch.randn(5, 4, 2, 2), 4).shape == (5, 5, 2, 2)  # group 1 when 4 does not divide 5


# ---------------------------------------------------------------------------- truncation, noise, mixing

def _trained_looking(G):
    """Nonzero noise strengths and w_avg, as after training (they start at zero)."""
    with torch.no_grad():
        for layer in G.synthesis_network.layers:
            layer.noise_strength.fill_(0.5)
        G.w_avg.copy_(torch.randn_like(G.w_avg))
    return G.eval()


def test_truncation_zero_gives_one_image_for_all_seeds():
    torch.manual_seed(0)
    G = _trained_looking(Generator(tiny_cfg()))
    z = torch.randn(5, G.cfg.nz)
    at_zero = G.generate(5, latents=z, truncation=0.0)
    assert all(torch.allclose(at_zero[0], img, atol=1e-6) for img in at_zero)
    # and that image is the one of w_avg
    w_avg = G.w_avg.expand(1, G.num_ws, -1)
    assert torch.allclose(at_zero[0], G.synthesis(w_avg, noise_mode="const")[0], atol=1e-6)
    full = G.generate(5, latents=z)
    assert (full[0] - full[1]).abs().max() > 1e-3
    half = G.generate(5, latents=z, truncation=0.5)
    assert (half - at_zero).abs().mean() < (full - at_zero).abs().mean()
    # a cutoff truncates only the first layers
    seen, handles = record_ws(G)
    G.generate(2, latents=z[:2], truncation=0.0, truncation_cutoff=2)
    for h in handles:
        h.remove()
    ws = G.mapping(z[:2])
    for module, w in seen:
        index = _w_index(G, module)
        assert torch.allclose(w, G.w_avg.expand(2, -1) if index < 2 else ws[:, index], atol=1e-6)


def _w_index(G, module):
    net = G.synthesis_network
    if module in list(net.layers):
        return net.w_index[list(net.layers).index(module)]
    block = list(net.to_rgb).index(module)  # toRGB of a block reads its last layer's index + 1
    last = max(i for i, b in enumerate(net.block_of) if b == block)
    return net.w_index[last] + 1


def test_noise_modes():
    torch.manual_seed(0)
    G = _trained_looking(Generator(tiny_cfg()))
    z = torch.randn(2, G.cfg.nz)
    const = G.generate(2, latents=z, noise_mode="const")
    assert torch.equal(const, G.generate(2, latents=z, noise_mode="const"))
    assert not torch.allclose(G.generate(2, latents=z, noise_mode="random"), G.generate(2, latents=z, noise_mode="random"))
    assert not torch.allclose(G.generate(2, latents=z, noise_mode="none"), const)
    with pytest.raises(ganforge.GanforgeError, match="noise_mode"):
        G.generate(2, latents=z, noise_mode="loud")
    with pytest.raises(ganforge.GanforgeError, match="no generation option"):
        G.generate(2, latents=z, temperature=0.5)
    with pytest.raises(ganforge.GanforgeError, match="mix_from"):
        G.generate(2, latents=z, mix_seed=1, mix_from=99)


@pytest.mark.parametrize("variant", ["stylegan2", "stylegan1"])
def test_style_mixing_takes_coarse_styles_from_rows_and_fine_from_columns(variant):
    torch.manual_seed(0)
    G = _trained_looking(Generator(tiny_cfg(image_size=32, variant=variant)))
    row_z = torch.randn(2, G.cfg.nz)
    col_seed = 7
    col_z = G.sample_latent(1, generator=torch.Generator().manual_seed(col_seed))
    seen, handles = record_ws(G)
    G.generate(2, latents=row_z, mix_seed=col_seed, mix_from=4)
    for h in handles:
        h.remove()
    row_w, col_w = G.mapping(row_z)[:, 0], G.mapping(col_z)[:, 0].expand(2, -1)
    assert {_w_index(G, m) for m, _ in seen} == set(range(G.num_ws))  # every styled layer was seen
    for module, w in seen:
        index = _w_index(G, module)
        expected = row_w if index < 4 else col_w
        assert torch.allclose(w, expected, atol=1e-6), (index, variant)


def test_style_mixing_regularisation_in_the_training_forward():
    torch.manual_seed(0)
    G = Generator(tiny_cfg(image_size=32, style_mixing=1.0)).train()
    seen, handles = record_ws(G)
    cutoffs = set()
    for _ in range(6):
        seen.clear()
        G(torch.randn(2, G.cfg.nz))
        by_index = {_w_index(G, m): w for m, w in seen}
        first = by_index[0]
        same = [torch.allclose(by_index[i], first) for i in range(G.num_ws)]
        cutoff = same.index(False)  # layers before the cutoff share the first w, all after another one
        assert all(same[:cutoff]) and not any(same[cutoff:])
        assert all(torch.allclose(by_index[i], by_index[cutoff]) for i in range(cutoff, G.num_ws))
        cutoffs.add(cutoff)
    assert len(cutoffs) > 1  # a random crossover
    G.cfg.style_mixing = 0.0
    seen.clear()
    G(torch.randn(2, G.cfg.nz))
    assert all(torch.allclose(w, seen[0][1]) for _, w in seen)
    for h in handles:
        h.remove()


def test_w_avg_tracks_training_forwards_only():
    G = Generator(tiny_cfg())
    G.eval()(torch.randn(4, G.cfg.nz))
    assert torch.count_nonzero(G.w_avg) == 0
    z = torch.randn(4, G.cfg.nz)
    w = G.mapping_network(z)
    G.train()(z)
    assert torch.allclose(G.w_avg, w.mean(0) * (1 - G.cfg.w_avg_beta), atol=1e-6)


# ---------------------------------------------------------------------------- path length

def test_path_length_penalty_matches_a_direct_autograd_computation():
    torch.manual_seed(0)
    G = Generator(tiny_cfg(channel_base=32, channel_max=4, nz=4, w_dim=3, style_mixing=0.0)).train()
    with torch.no_grad():
        for layer in G.synthesis_network.layers:
            layer.noise_strength.fill_(0.3)  # the random noise must be replayed exactly too
    config = {"pl_weight": 2.0, "pl_decay": 0.01, "pl_batch_shrink": 2, "pl_interval": 4}
    objective = StyleGAN2Loss(config)
    objective.pl_mean = torch.tensor(0.5)
    step = ganforge.Step(generator=G, discriminator=None, batch={"x": torch.zeros(4, 3, 16, 16)}, config=config, step=0)
    torch.manual_seed(1)
    penalty, logs = objective.path_length_penalty(step)

    # the same draws, in the same order: z, the layers' noise, the projection y
    torch.manual_seed(1)
    z = torch.randn(2, 4)
    ws = G.mapping(z).detach()
    noise_state = torch.get_rng_state()

    def synthesis(w):  # the same layer noise on every call
        torch.set_rng_state(noise_state)
        return G.synthesis(w, noise_mode="random")

    # the full Jacobian d images / d ws, one forward-mode column per entry of ws
    columns = []
    for i in range(ws.numel()):
        direction = torch.zeros(ws.numel())
        direction[i] = 1
        columns.append(torch.func.jvp(synthesis, (ws,), (direction.view_as(ws),))[1])
    jac = torch.stack(columns, dim=-1).reshape(2, 3, 16, 16, *ws.shape)  # [2,3,16,16, 2,K,3]
    synthesis(ws)
    y = torch.randn(2, 3, 16, 16) / 16
    lengths = []
    for b in range(2):
        other = 1 - b
        assert jac[b, ..., other, :, :].abs().max() == 0  # samples do not interact
        g = torch.einsum("chw,chwkd->kd", y[b], jac[b, ..., b, :, :])  # J^T y for sample b
        lengths.append(g.square().sum(1).mean().sqrt())
    lengths = torch.stack(lengths)
    mean = 0.5 + 0.01 * (lengths.mean() - 0.5)
    assert torch.allclose(objective.pl_mean, mean, atol=1e-6)
    assert torch.allclose(penalty, 2.0 * (lengths - mean).square().mean(), rtol=1e-4, atol=1e-7)
    assert math.isclose(float(logs["pl_length"].detach()), float(lengths.mean().detach()), rel_tol=1e-4)
    penalty.backward()  # differentiable into the generator's weights
    assert G.synthesis_network.layers[0].weight.grad is not None


# ---------------------------------------------------------------------------- training

def test_defaults_follow_stylegan2():
    from ganforge.plugins import get_plugin_manager

    recipe = get_plugin_manager().registry.get("recipe", "stylegan")
    d = recipe.all_defaults()
    assert d["betas_g"][0] == d["betas_d"][0] == 0.0
    assert math.isclose(d["lr_d"], 0.0025 * 16 / 17) and math.isclose(d["betas_d"][1], 0.99 ** (16 / 17))
    assert math.isclose(d["lr_g"], 0.0025 * 4 / 5) and math.isclose(d["betas_g"][1], 0.99 ** (4 / 5))
    assert (d["map_layers"], d["batch_size"], d["d_reg_interval"], d["pl_weight"], d["pl_interval"]) == (2, 32, 16, 2.0, 4)
    assert d["objective"] == "stylegan2" and d["ema_rampup"] > 0
    assert set(recipe.options) <= set(d) and all(recipe.options.values())
    from ganforge.config import resolve

    assert resolve("stylegan", recipe, {"image_size": 64})["r1_gamma"] > resolve("stylegan", recipe, {})["r1_gamma"]
    assert resolve("stylegan", recipe, {"variant": "stylegan1"})["pl_weight"] == 0
    cpu = resolve("stylegan", recipe, {"preset": "cpu"})
    assert (cpu["pl_weight"], cpu["channel_max"], cpu["style_mixing"]) == (0.0, 64, 0.5)
    assert resolve("stylegan", recipe, {"preset": "cpu", "pl_weight": 1.0})["pl_weight"] == 1.0  # the user's wins


def test_trains_and_truncates_under_bf16_autocast(shapes16, tmp_path):
    """amp=bf16 (seen failing on an H100, reproduced by the CPU's autocast): w_avg, the
    path length mean and truncation mixed float32 buffers with bf16 activations."""
    run = ganforge.train("stylegan", data=shapes16, out=tmp_path / "run", steps=2,
                         overrides={**TINY, "amp": "bf16", "device": "cpu"})
    log = read_log(tmp_path / "run")
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in log) and "pl" in log[-1]
    assert run.generator.w_avg.dtype == torch.float32 and torch.count_nonzero(run.generator.w_avg) > 0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ws = run.generator.mapping(torch.randn(2, TINY["nz"]), truncation=0.5)
    assert torch.isfinite(ws.float()).all()

def test_few_steps_with_every_regulariser(shapes16, tmp_path):
    run = ganforge.train("stylegan", data=shapes16, out=tmp_path / "run", steps=4, overrides=TINY)
    log = read_log(tmp_path / "run")
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in log)
    assert ["r1" in r for r in log] == [False, True, False, True]  # d_reg_interval 2
    assert ["pl" in r for r in log] == [False, True, False, True]  # pl_interval 2
    assert float(run.objective.pl_mean) > 0
    assert torch.count_nonzero(run.generator.w_avg) > 0
    assert torch.equal(run.generator_ema.w_avg, run.generator.w_avg)  # the EMA copies buffers
    assert (tmp_path / "run" / "samples" / "step_0000004.png").is_file()
    state = torch.load(checkpoint_dir(tmp_path / "run") / "training_state.pt", weights_only=True)
    assert torch.equal(state["objectives"]["stylegan2"]["pl_mean"], run.objective.pl_mean.cpu())


@pytest.mark.parametrize("variant", ["stylegan2", "stylegan1"])
def test_conditional_training_and_generation_by_class(variant, shapes16, tmp_path):
    run = ganforge.train("stylegan", data=shapes16, out=tmp_path / "run", steps=2,
                         overrides={**TINY, "conditional": True, "variant": variant, "pl_interval": 1})
    assert run.generator.mapping_network.embed is not None and run.discriminator.project is not None
    pipe = ganforge.load(tmp_path / "run", device="cpu")
    star = pipe.generate(seeds=[1, 2], classes=["star"], noise_mode="const")
    assert star.samples.shape == (2, 3, 16, 16) and [r["class"] for r in star.records] == ["star"] * 2
    assert not torch.equal(star.samples, pipe.generate(seeds=[1, 2], classes=["circle"]).samples)


def test_resume_is_exact(shapes16, tmp_path):
    from safetensors.torch import load_file

    tiny = {**TINY, "checkpoint_every": 2, "style_mixing": 0.5}
    a = ganforge.train("stylegan", data=shapes16, out=tmp_path / "a", steps=4, overrides=tiny)
    ganforge.train("stylegan", data=shapes16, out=tmp_path / "b", steps=2, overrides=tiny)
    b = ganforge.train("stylegan", data=shapes16, out=tmp_path / "b", steps=4, resume=True)
    for name in ("generator", "generator_ema", "discriminator"):
        wa = load_file(str(checkpoint_dir(tmp_path / "a") / f"{name}.safetensors"))
        wb = load_file(str(checkpoint_dir(tmp_path / "b") / f"{name}.safetensors"))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), name
    assert torch.equal(a.objective.pl_mean, b.objective.pl_mean)
    assert read_log(tmp_path / "a") == [{**r, "samples_per_s": x["samples_per_s"], "data_s": x["data_s"]}
                                       for r, x in zip(read_log(tmp_path / "b"), read_log(tmp_path / "a"))]


# ---------------------------------------------------------------------------- generation and tools

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from ganforge_image.datasets import make_shapes

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a module fixture runs before the per-test _one_thread
    root = tmp_path_factory.mktemp("stylegan")
    data = make_shapes(root / "shapes", n=16, size=16, seed=0)
    ganforge.train("stylegan", data=data, out=root / "run", steps=2, overrides=TINY)
    torch.set_num_threads(threads)
    return root / "run"


def test_pipeline_truncation_and_seeds(tiny_run):
    pipe = ganforge.load(tiny_run, device="cpu")
    G = pipe.generator
    with torch.no_grad():
        G.w_avg.copy_(torch.randn_like(G.w_avg))  # two steps leave w_avg close to the mean anyway
    at_zero = pipe.generate(seeds=range(1, 6), truncation=0.0).samples
    assert all(torch.allclose(at_zero[0], x, atol=1e-6) for x in at_zero)
    a = pipe.generate(seeds=[3, 4], truncation=0.7)
    assert torch.equal(a.samples, pipe.generate(seeds=[3, 4], truncation=0.7).samples)
    assert a.records[0]["options"] == {"truncation": 0.7}
    assert len(a.images) == 2


def test_style_mix_grid_cells_are_the_mixed_generations(tiny_run, tmp_path):
    from ganforge_image.stylegan_tools import style_mix_grid

    pipe = ganforge.load(tiny_run, device="cpu")
    grid = style_mix_grid(pipe, rows=[1, 2], cols=[5, 6, 7], mix_from=3, out=tmp_path)
    assert grid.size == (4 * 16 + 3 * 2, 3 * 16 + 2 * 2)
    assert Image.open(tmp_path / "style_mix.png").size == grid.size
    cell = grid.crop((3 * 18, 2 * 18, 3 * 18 + 16, 2 * 18 + 16))  # row seed 2, column seed 7
    expected = pipe.generate(seeds=[2], mix_seed=7, mix_from=3).images[0]
    assert cell.tobytes() == expected.tobytes()
    column = grid.crop((1 * 18, 0, 1 * 18 + 16, 16))
    assert column.tobytes() == pipe.generate(seeds=[5]).images[0].tobytes()


def test_interpolation_strip_and_animation(tiny_run, tmp_path):
    from ganforge_image.stylegan_tools import interpolate

    pipe = ganforge.load(tiny_run, device="cpu")
    result = interpolate(pipe, seeds=[1, 5, 9], steps=4, out=tmp_path)
    frames = result["frames"]
    assert len(frames) == 2 * 4 + 1
    # the key frames are the seeds' own images
    for k, seed in ((0, 1), (4, 5), (8, 9)):
        assert frames[k].tobytes() == pipe.generate(seeds=[seed]).images[0].tobytes()
    gif = Image.open(result["animation"])
    assert gif.n_frames == len(frames) and result["animation"].suffix == ".gif"
    assert Image.open(result["strip"]).size == (9 * 16 + 8 * 2, 16)
    with pytest.raises(ganforge.GanforgeError, match="two seeds"):
        interpolate(pipe, seeds=[1], out=tmp_path)


def test_commands(tiny_run, tmp_path, capsys):
    from ganforge.cli import main

    assert main(["stylegan-mix", str(tiny_run), "--rows", "1-2", "--cols", "5,6", "--out", str(tmp_path / "mix"),
                 "--truncation", "0.7"]) == 0
    assert (tmp_path / "mix" / "style_mix.png").is_file()
    assert main(["interpolate", str(tiny_run), "--seeds", "1,5", "--steps", "3", "--loop",
                 "--out", str(tmp_path / "interp")]) == 0
    assert Image.open(tmp_path / "interp" / "interpolation.gif").n_frames == 6
    assert main(["generate", str(tiny_run), "--seeds", "1-3", "--out", str(tmp_path / "gen"),
                 "--set", "truncation=0.7", "--set", "noise_mode=random"]) == 0
    assert len(list((tmp_path / "gen").glob("sample_0*.png"))) == 3
    assert main(["stylegan-mix", str(tiny_run), "--rows", "x", "--cols", "1", "--out", str(tmp_path / "bad")]) == 2
    assert main(["generate", str(tiny_run), "--out", str(tmp_path / "bad"), "--set", "noise_mode=loud"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
