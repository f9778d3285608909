"""The loop's and conditioning's contracts (DESIGN.md sections 4 and 6), pinned with test
plugins built on the public API only: each test fails if its feature is taken away."""

import dataclasses
import json
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

import ganforge
from ganforge import GanforgeError, Phase, Recipe, hookimpl

#: what the test components saw, in order: (who, value)
EVENTS: list = []

COLOURS = ["red", "green", "blue", "red", "green", "red", "blue", "green"]  # repeated on purpose


# ---------------------------------------------------------------------------- a test plugin


class VecModality(ganforge.Modality):
    """64 vectors of 4 numbers with a ``colour`` field. Batches are served at the phase's
    ``resolution``: each row is averaged over blocks of 4 / resolution values (PGGAN's
    lower-resolution reals, upsampled)."""

    file_kind = "CSV"

    def __init__(self, config, state=None):
        super().__init__(config, state)
        self.resolution = int(config.get("resolution", 4))

    def load(self, path):
        x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1))
        self.state["colours"] = sorted(set(COLOURS))

        def to_model(batch):
            r = self.resolution
            return batch.reshape(len(batch), r, 4 // r).mean(2).repeat_interleave(4 // r, dim=1)

        return ganforge.SampleSet({"x": x, "colour": [COLOURS[i % len(COLOURS)] for i in range(64)]},
                                  to_model=to_model)

    def derived_config(self):
        return {"dim": 4}

    def set_progress(self, progress):
        EVENTS.append(("modality", progress))
        self.resolution = int(progress.config["resolution"])

    def save_samples(self, x, out_dir, names, metadata=(), append=False):
        return []

    def save_preview(self, x, path):
        return []


@dataclass
class VecConfig:
    dim: int = 4
    nz: int = 3
    hidden: int = 8
    conditional: bool = False
    cond_dim: int = 0


class VecGenerator(ganforge.Generator):
    config_class = VecConfig

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        extra = cfg.cond_dim if cfg.conditional else 0
        self.net = nn.Sequential(nn.Linear(cfg.nz + extra, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.dim))
        self.register_buffer("training_forwards", torch.zeros(()))  # changed only in training
        self.register_buffer("alpha", torch.zeros(()))  # a fade-in alpha from set_progress

    def set_progress(self, progress):
        EVENTS.append(("generator_ema" if not self.training else "generator", progress))
        self.alpha.fill_(progress.phase_fraction)

    def forward(self, z, cond=None):
        if self.training:
            self.training_forwards += 1
        return self.net(z if cond is None else torch.cat([z, cond], 1))


class VecGeneratorWithExtras(VecGenerator):
    """Also returns its pre-activation size, as VGAN returns its mask, for the objective."""

    def forward_with_extras(self, z, cond=None):
        x = self.net(z if cond is None else torch.cat([z, cond], 1))
        return x, {"size": x.abs().mean(1)}

    def forward(self, z, cond=None):
        return self.forward_with_extras(z, cond)[0]


class VecDiscriminator(ganforge.Discriminator):
    config_class = VecConfig

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        extra = cfg.cond_dim if cfg.conditional else 0
        self.net = nn.Sequential(nn.Linear(cfg.dim + extra, cfg.hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.hidden, 1))

    def set_progress(self, progress):
        EVENTS.append(("discriminator", progress))

    def forward(self, x, cond=None):
        return self.net(x if cond is None else torch.cat([x, cond], 1)).squeeze(1)


class Counting(ganforge.Objective):
    """Non-saturating, counting its calls (state for the whole run), recording what it sees,
    with a lazy penalty for each network."""

    def __init__(self, config):
        super().__init__(config)
        self.d_calls = self.g_calls = 0
        EVENTS.append(("objective_created", id(self)))

    def set_progress(self, progress):
        EVENTS.append(("objective", progress))

    def discriminator_loss(self, s):
        self.d_calls += 1
        real = s.D_real()
        fake = s.D(s.fake().detach())
        EVENTS.append(("d_batch", s.progress.phase, tuple(s.real.shape), s.real.clone(), id(self)))
        return F.softplus(-real).mean() + F.softplus(fake).mean(), {"d_calls": self.d_calls}

    def generator_loss(self, s):
        self.g_calls += 1
        EVENTS.append(("g_batch", s.progress.phase, tuple(s.real.shape)))
        loss = F.softplus(-s.D(s.fake())).mean()
        if "size" in s.fake_extras:  # the generator's other output of the same pass, graph intact
            size = s.fake_extras["size"]
            EVENTS.append(("g_extras", tuple(size.shape), size.requires_grad))
            loss = loss + 0.1 * size.mean()
        return loss, {"g_calls": self.g_calls}

    def state_dict(self):
        return {"d_calls": self.d_calls, "g_calls": self.g_calls}

    def load_state_dict(self, state):
        self.d_calls, self.g_calls = state["d_calls"], state["g_calls"]

    def regularizers(self):
        out = super().regularizers()
        g_every, d_every = int(self.config["g_reg_every"]), int(self.config["d_reg_every"])
        if g_every:
            out.append(ganforge.Regularizer("gpen", "generator", g_every,
                                            lambda s: (s.fake().square().mean() * 1e-3, {"gpen": 1})))
        if d_every:
            out.append(ganforge.Regularizer("dpen", "discriminator", d_every,
                                            lambda s: (s.D_real().square().mean() * 1e-3, {"dpen": 1})))
        return out


class Recorder(ganforge.Augmentation):
    """Identity augmentation that counts what passes and keeps a p it adapts (like ADA)."""

    @dataclass
    class config_class:
        dim: int = 4

    def __init__(self, cfg):
        super().__init__()
        self.register_buffer("p", torch.zeros(()))

    def forward(self, x):
        EVENTS.append(("augment", tuple(x.shape), x.requires_grad))
        return x * 1.0

    def set_progress(self, progress):
        EVENTS.append(("augmentation", progress))

    def observe(self, real_scores):
        EVENTS.append(("observe", real_scores.clone()))
        self.p += 0.01 * torch.sign(real_scores).mean() + 0.001


@dataclass
class ColourConfig:
    cond_dim: int = 5  # the config's value is ignored: this encoder has a fixed size


class ColourEncoder(ganforge.ConditioningEncoder):
    """Reads the modality's own ``colour`` field; a fixed embedding size of 5."""

    config_class = ColourConfig
    condition_key = "colour"
    user_option = "prompt"
    frozen = False

    def __init__(self, cfg):
        super().__init__()
        self.trainable = not type(self).frozen
        self.table = nn.Embedding(3, 5)

    @property
    def dim(self):
        return 5

    def forward(self, colours):
        EVENTS.append(("encode", self.training, torch.is_grad_enabled()))
        index = torch.tensor([sorted(set(COLOURS)).index(c) for c in colours])
        return self.table(index.to(self.table.weight.device))

    def default_conditions(self, n, modality):
        return [COLOURS[i % 3] for i in range(n)]


class FrozenColourEncoder(ColourEncoder):
    frozen = True


RECIPE = Recipe(
    modality="vec", generator="vecgen", discriminator="vecdisc", objective="counting",
    defaults={"hidden": 8, "nz": 3, "dim": 4, "resolution": 4, "low_steps": 3, "steps": 4, "batch_size": 8,
              "g_reg_every": 0, "d_reg_every": 0, "ema_beta": 0.9, "preview_n": 0, "progress": False,
              "checkpoint_every": 0, "sample_every": 0, "log_every": 1, "device": "cpu"},
    phases=[
        Phase("low", steps="low_steps", settings={"batch_size": 4, "lr_g": 1e-3, "lr_d": 3e-3, "betas_g": [0.0, 0.9],
                                                  "betas_d": [0.1, 0.8], "n_critic": 2, "resolution": 2}),
        Phase("high", steps="steps", settings={"batch_size": 8, "lr_g": 5e-4, "lr_d": 6e-4, "resolution": 4}),
    ],
)


class VecPlugin:
    @hookimpl
    def ganforge_register_modalities(self, register):
        register("vec", VecModality)

    @hookimpl
    def ganforge_register_generators(self, register):
        register("vecgen", VecGenerator)
        register("vecgen-extras", VecGeneratorWithExtras)

    @hookimpl
    def ganforge_register_discriminators(self, register):
        register("vecdisc", VecDiscriminator)

    @hookimpl
    def ganforge_register_objectives(self, register):
        register("counting", Counting)

    @hookimpl
    def ganforge_register_augmentations(self, register):
        register("recorder", Recorder)

    @hookimpl
    def ganforge_register_encoders(self, register):
        register("colour", ColourEncoder)
        register("frozen-colour", FrozenColourEncoder)

    @hookimpl
    def ganforge_register_recipes(self, register):
        register("vec", RECIPE)
        register("vec-extras", dataclasses.replace(RECIPE, generator="vecgen-extras"))


@pytest.fixture(autouse=True)
def vec_plugin():
    EVENTS.clear()
    ganforge.add_plugin(VecPlugin(), name="vectest")
    yield
    EVENTS.clear()


def train(tmp_path, name="run", **overrides):
    return ganforge.train("vec", data=tmp_path, out=tmp_path / name, overrides=overrides)


def resume(tmp_path, name="run", **overrides):
    return ganforge.train("vec", data=tmp_path, out=tmp_path / name, overrides=overrides, resume=True)


class StopAt:
    def __init__(self, step):
        self.at = step

    @hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        if step == self.at:
            run.request_stop()


def train_cut(tmp_path, at, name="cut", **overrides):
    """Train, stopped (as by Ctrl-C) after step ``at``, then resumed to the end."""
    ganforge.add_plugin(StopAt(at), name="stopper")
    try:
        run = train(tmp_path, name, **overrides)
    finally:
        ganforge.remove_plugin("stopper")
    assert run.stopped_early and run.step == at
    EVENTS.clear()
    return resume(tmp_path, name)


def same_weights(a, b):
    for f in ("generator", "generator_ema", "discriminator"):
        wa, wb = (load_file(str(ganforge_ckpt(d) / f"{f}.safetensors")) for d in (a, b))
        assert wa.keys() == wb.keys()
        assert all(torch.equal(wa[k], wb[k]) for k in wa), f


def ganforge_ckpt(run_dir):
    info = json.loads((run_dir / "ganforge.json").read_text())
    return run_dir / info["checkpoint"]


def log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def progress_of(who):
    return [(p.phase, p.phase_index, p.phase_step, p.phase_length, p.step, p.total_steps, p.samples_seen)
            for w, p, *_ in EVENTS if w == who]


# ---------------------------------------------------------------------------- 1. EMA buffers


def test_generator_ema_carries_buffers_into_the_saved_run(tmp_path):
    run = train(tmp_path)
    forwards = run.generator.training_forwards.item()
    assert forwards > 0
    assert run.generator_ema.training_forwards.item() == forwards  # copied: the EMA never trains
    assert ganforge.load(tmp_path / "run", device="cpu").generator.training_forwards.item() == forwards
    assert run.generator_ema.alpha.item() == run.generator.alpha.item() == 3 / 4


# ---------------------------------------------------------------------------- 2. progress

EXPECTED_PROGRESS = (
    # phase, index, phase_step, phase_length, step, total, samples_seen (low: n_critic 2 x batch 4)
    [("low", 0, i, 3, i, 7, 8 * i) for i in range(3)]
    + [("high", 1, i, 4, 3 + i, 7, 24 + 8 * i) for i in range(4)]
)


def test_every_component_is_told_the_progress_before_each_step(tmp_path):
    train(tmp_path, augment="recorder", conditional=True, encoder="colour")
    for who in ("generator", "generator_ema", "discriminator", "objective", "modality", "augmentation"):
        assert progress_of(who) == EXPECTED_PROGRESS, who
    configs = [e[1].config for e in EVENTS if e[0] == "modality"]
    assert [c["resolution"] for c in configs] == [2] * 3 + [4] * 4
    assert [c["batch_size"] for c in configs] == [4] * 3 + [8] * 4
    # progress comes before the step it describes
    order = [e[0] for e in EVENTS if e[0] in ("generator", "d_batch")]
    assert order[:3] == ["generator", "d_batch", "d_batch"]


def test_encoder_is_told_the_progress(tmp_path):
    seen = []

    class Told(ColourEncoder):
        def set_progress(self, progress):
            seen.append(progress.step)

    class P:
        @hookimpl
        def ganforge_register_encoders(self, register):
            register("told", Told)

    ganforge.add_plugin(P(), name="told")
    train(tmp_path, conditional=True, encoder="told")
    assert seen == list(range(7))


def test_progress_is_right_after_a_resume_mid_phase(tmp_path):
    train_cut(tmp_path, at=2)  # in the middle of phase "low"
    assert progress_of("generator") == EXPECTED_PROGRESS[2:]
    assert progress_of("modality") == EXPECTED_PROGRESS[2:]
    train_cut(tmp_path, at=5, name="cut2")  # in the middle of phase "high"
    assert progress_of("objective") == EXPECTED_PROGRESS[5:]


# ---------------------------------------------------------------------------- 3. phase settings


def _phase_settings_seen(run_events):
    d = [(e[1], e[2][0]) for e in run_events if e[0] == "d_batch"]
    g = [(e[1], e[2][0]) for e in run_events if e[0] == "g_batch"]
    return d, g


class OptimizerSpy:
    def __init__(self):
        self.seen = []

    @hookimpl
    def ganforge_on_step_end(self, run, step, logs):
        g, d = run.opt_g.param_groups[0], run.opt_d.param_groups[0]
        self.seen.append((step, g["lr"], tuple(g["betas"]), d["lr"], tuple(d["betas"])))


def test_phase_settings_are_in_force_during_their_phase(tmp_path):
    spy = OptimizerSpy()
    ganforge.add_plugin(spy, name="spy")
    run = train(tmp_path)
    d, g = _phase_settings_seen(EVENTS)
    # n_critic 2 and batch 4 in "low" (3 steps), n_critic 1 (the default) and batch 8 in "high" (4 steps)
    assert d == [("low", 4)] * 6 + [("high", 8)] * 4
    assert g == [("low", 4)] * 3 + [("high", 8)] * 4
    assert run.d_steps == 10
    low = (1e-3, (0.0, 0.9), 3e-3, (0.1, 0.8))
    high = (5e-4, (0.5, 0.999), 6e-4, (0.5, 0.999))  # the recipe's betas again
    assert [s[1:] for s in spy.seen] == [low] * 3 + [high] * 4
    # the modality served the phase's resolution: blocks of 2 equal values in "low"
    for e in EVENTS:
        if e[0] == "d_batch":
            x = e[3]
            paired = torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 2], x[:, 3])
            assert paired == (e[1] == "low")


@pytest.mark.parametrize("at", [2, 3, 5])  # mid "low", at the phase boundary, mid "high"
def test_resume_restores_phase_settings_and_continues_exactly(tmp_path, at):
    spy = OptimizerSpy()
    train(tmp_path, name="full", augment="recorder")
    full_events = list(EVENTS)
    ganforge.add_plugin(spy, name="spy")
    train_cut(tmp_path, at=at, augment="recorder")
    same_weights(tmp_path / "full", tmp_path / "cut")
    d_full, g_full = _phase_settings_seen(full_events)
    d_cut, g_cut = _phase_settings_seen(EVENTS)
    assert g_cut == g_full[at:]
    real_full = [e[3] for e in full_events if e[0] == "d_batch"]
    real_cut = [e[3] for e in EVENTS if e[0] == "d_batch"]
    assert all(torch.equal(a, b) for a, b in zip(real_full[len(real_full) - len(real_cut):], real_cut))
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("samples_per_s", "data_s")} for r in rows]  # timings
    assert strip(log(tmp_path / "full")) == strip(log(tmp_path / "cut"))
    low = (1e-3, (0.0, 0.9), 3e-3, (0.1, 0.8))
    high = (5e-4, (0.5, 0.999), 6e-4, (0.5, 0.999))
    assert [s[1:] for s in spy.seen] == [low] * 3 + [high] * 4


# ---------------------------------------------------------------------------- 4. regularisers, objective state


def test_regularisers_for_both_networks_follow_their_intervals(tmp_path):
    train(tmp_path, g_reg_every=3, d_reg_every=4)
    rows = log(tmp_path / "run")
    assert ["gpen" in r for r in rows] == [s % 3 == 0 for s in range(1, 8)]
    # D updates: 2 per step in "low" (steps 1-3), then 1: the 4th and 8th D updates are in steps 2 and 5
    assert ["dpen" in r for r in rows] == [False, True, False, False, True, False, False]


def test_a_regulariser_changes_the_weights_it_regularises(tmp_path):
    train(tmp_path, name="plain")
    train(tmp_path, name="g", g_reg_every=2)
    a = load_file(str(ganforge_ckpt(tmp_path / "plain") / "generator.safetensors"))
    b = load_file(str(ganforge_ckpt(tmp_path / "g") / "generator.safetensors"))
    assert not all(torch.equal(a[k], b[k]) for k in a if k.startswith("net"))


def test_r2_gamma_turns_r2_on(tmp_path):
    train(tmp_path, r2_gamma=1.0, d_reg_interval=2)
    rows = log(tmp_path / "run")
    # D updates after each step: 2, 4, 6 ("low", n_critic 2), then 7, 8, 9, 10
    assert ["r2" in r for r in rows] == [True, True, True, False, True, False, True]
    assert all("r1" not in r for r in rows)


def test_r1_penalty_matches_autograd():
    D = nn.Linear(3, 1)
    real = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])

    def disc(x, cond=None):
        return (D(x).squeeze(1)) ** 2

    s = ganforge.Step(generator=None, discriminator=disc, batch={"x": real}, config={"r1_gamma": 4.0}, step=0)
    penalty, logs = ganforge.r1_penalty(s)
    x = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(disc(x).sum(), x)
    expected = 4.0 / 2 * g.square().sum(1).mean()
    assert torch.allclose(penalty, expected)
    assert logs["r1"] == pytest.approx(g.square().sum(1).mean().item())
    assert penalty.requires_grad  # it trains D


def test_objective_state_lasts_the_run_and_survives_resume(tmp_path):
    run = train(tmp_path, name="full")
    creations = [e for e in EVENTS if e[0] == "objective_created"]
    assert len(creations) == 1  # one instance for both phases naming it
    assert {e[4] for e in EVENTS if e[0] == "d_batch"} == {creations[0][1]}
    assert run.objective.state_dict() == {"d_calls": 10, "g_calls": 7}
    cut = train_cut(tmp_path, at=2)
    assert cut.objective.state_dict() == {"d_calls": 10, "g_calls": 7}
    assert [r["d_calls"] for r in log(tmp_path / "cut")] == [r["d_calls"] for r in log(tmp_path / "full")]


# ---------------------------------------------------------------------------- 5. augmentation


def test_augmentation_sees_every_discriminator_input_and_observes_real_scores(tmp_path):
    run = train(tmp_path, augment="recorder")
    augmented = [e for e in EVENTS if e[0] == "augment"]
    # per D update: real + fake (10 updates); per G update: the fake (7 updates)
    assert len(augmented) == 2 * 10 + 7
    shapes = [e[1] for e in augmented]
    assert shapes == [(4, 4)] * (2 * 6 + 3) + [(8, 4)] * (2 * 4 + 4)
    assert any(e[2] for e in augmented)  # generated inputs keep their graph through it (G learns)
    observed = [e[1] for e in EVENTS if e[0] == "observe"]
    assert [len(o) for o in observed] == [4] * 6 + [8] * 4
    assert run.augment.p.item() != 0
    saved = torch.load(ganforge_ckpt(tmp_path / "run") / "training_state.pt", weights_only=True)
    assert torch.equal(saved["augment"]["p"], run.augment.p)


def test_augmentation_state_is_restored_exactly_on_resume(tmp_path):
    full = train(tmp_path, name="full", augment="recorder")
    cut = train_cut(tmp_path, at=4, augment="recorder")
    assert cut.augment.p.item() == full.augment.p.item()
    same_weights(tmp_path / "full", tmp_path / "cut")


# ---------------------------------------------------------------------------- 6. encoders


def test_encoder_names_its_field_and_sets_cond_dim(tmp_path):
    run = train(tmp_path, conditional=True, encoder="colour", cond_dim=64)
    assert run.config["cond_dim"] == 5
    assert run.generator.net[0].in_features == 3 + 5 and run.discriminator.net[0].in_features == 4 + 5
    files = {p.name for p in ganforge_ckpt(tmp_path / "run").iterdir()}
    assert "encoder.safetensors" in files
    assert any(grad for w, *rest in EVENTS if w == "encode" for grad in rest[1:])  # trained: a graph
    saved = load_file(str(ganforge_ckpt(tmp_path / "run") / "encoder.safetensors"))
    assert torch.equal(saved["table.weight"], run.encoder.table.weight.detach())
    pipe = ganforge.load(tmp_path / "run", device="cpu")
    assert torch.equal(pipe.encoder.table.weight, run.encoder.table.weight.detach())
    assert len(pipe.generate(n=3, prompts=["blue"]).samples) == 3


def test_any_condition_field_is_given_as_conditions_in_python_and_by_evaluate(tmp_path):
    """Conditions beyond classes and prompts: values of the encoder's own field, as the data
    holds them, for generation and for the generated half of an evaluation."""
    from ganforge.metrics.context import EvalContext

    train(tmp_path, conditional=True, encoder="colour")
    pipe = ganforge.load(tmp_path / "run", device="cpu")
    given = pipe.generate(n=4, seed=1, conditions=["blue", "red"])
    assert torch.equal(given.samples, pipe.generate(n=4, seed=1, prompts=["blue", "red"]).samples)
    assert not torch.equal(given.samples, pipe.generate(n=4, seed=1, conditions=["green"]).samples)
    assert "prompt" not in given.records[0]  # field values are not the user's words
    with pytest.raises(GanforgeError, match="not both"):
        pipe.generate(n=2, conditions=["red"], prompts=["red"])
    with pytest.raises(GanforgeError, match="conditions is empty"):
        pipe.generate(n=2, conditions=[])

    ctx = EvalContext(pipe, tmp_path, n=6, seed=3, batch_size=4)
    colours = ctx.real.fields["colour"]
    order = ctx.real_indices(6).tolist()
    expected = torch.cat([pipe.generate(4, seed=3, conditions=[colours[i] for i in order[:4]]).samples,
                          pipe.generate(2, seed=4, conditions=[colours[i] for i in order[4:6]]).samples])
    assert torch.equal(ctx.generated(6), expected)


def test_frozen_encoder_stays_in_eval_mode_without_gradients(tmp_path):
    run = train(tmp_path, conditional=True, encoder="frozen-colour")
    encodes = [e for e in EVENTS if e[0] == "encode"]
    assert encodes and not any(training or grad for _, training, grad in encodes)
    assert not run.encoder.training
    assert not any(p.requires_grad for p in run.encoder.parameters())
    assert "encoder.safetensors" not in {p.name for p in ganforge_ckpt(tmp_path / "run").iterdir()}
    ids = {id(p) for group in run.opt_g.param_groups for p in group["params"]}
    assert not ids & {id(p) for p in run.encoder.parameters()}


def test_a_missing_condition_field_is_named(tmp_path):
    class NoColour(VecModality):
        def load(self, path):
            return ganforge.SampleSet({"x": torch.randn(16, 4)})

    class P:
        @hookimpl
        def ganforge_register_modalities(self, register):
            register("vec-plain", NoColour)

        @hookimpl
        def ganforge_register_recipes(self, register):
            register("vec-plain", Recipe(modality="vec-plain", generator="vecgen", discriminator="vecdisc",
                                         defaults=RECIPE.defaults, phases=[Phase("train")]))

    ganforge.add_plugin(P(), name="plain")
    with pytest.raises(GanforgeError, match="reads the data field 'colour'"):
        ganforge.train("vec-plain", data=tmp_path, out=tmp_path / "run", overrides={
            "conditional": True, "encoder": "colour", "steps": 1, "batch_size": 4})


# ---------------------------------------------------------------------------- 7. mismatched conditions


def _step(values):
    return ganforge.Step(generator=None, discriminator=None, batch={"x": torch.zeros(len(values), 1), "c": values},
                         config={}, step=0, encode=lambda v: v, condition_key="c")


@pytest.mark.parametrize("values", [
    ["a cat", "a cat", "a dog", "a cat", "a bird", "a dog"],
    torch.tensor([0, 0, 1, 1, 1, 2, 0]),
    ["same", "same", "other"],
])
def test_mismatched_conditions_never_give_a_sample_its_own(values):
    torch.manual_seed(0)
    for _ in range(50):
        chosen = _step(values).mismatched_cond()
        mine = values.tolist() if isinstance(values, torch.Tensor) else values
        theirs = chosen.tolist() if isinstance(chosen, torch.Tensor) else chosen
        assert len(theirs) == len(mine) and all(a != b for a, b in zip(mine, theirs))


def test_mismatched_conditions_of_one_condition_is_a_one_line_error():
    with pytest.raises(GanforgeError) as info:
        _step(["x", "x", "x"]).mismatched_cond()
    assert "\n" not in str(info.value) and "same condition" in str(info.value)
    with pytest.raises(GanforgeError, match="conditional run"):
        ganforge.Step(generator=None, discriminator=None, batch={"x": torch.zeros(2, 1)}, config={},
                      step=0).mismatched_cond()


# ---------------------------------------------------------------------------- 8. captions


@dataclass
class HashConfig:
    width: int = 6  # not a run option: the encoder decides its own size


class HashedWords(ganforge.ConditioningEncoder):
    """A tiny text encoder: words hashed into 16 buckets of a learned table, averaged."""

    config_class = HashConfig
    condition_key = "text"
    user_option = "prompt"
    trainable = True

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.table = nn.EmbeddingBag(16, cfg.width, mode="mean")

    @property
    def dim(self):
        return self.cfg.width

    def forward(self, texts):
        import zlib

        ids, offsets = [], []
        for text in texts:
            offsets.append(len(ids))
            ids += [zlib.crc32(w.encode()) % 16 for w in (text.lower().split() or [""])]
        device = self.table.weight.device
        return self.table(torch.tensor(ids, device=device), torch.tensor(offsets, device=device))


def test_captioned_images_train_with_a_text_encoder_and_generate_from_prompts(tmp_path, capsys):
    from ganforge_image.datasets import make_shapes  # test data only

    class P:
        @hookimpl
        def ganforge_register_encoders(self, register):
            register("hashed-words", HashedWords)

    ganforge.add_plugin(P(), name="hashwords")
    data = make_shapes(tmp_path / "shapes", n=32, size=16, seed=0)
    assert (data / "metadata.jsonl").is_file()
    run = ganforge.train("dcgan", data=data, out=tmp_path / "run", overrides={
        "image_size": 16, "ngf": 8, "ndf": 8, "nz": 8, "batch_size": 8, "steps": 2, "progress": False,
        "preview_n": 4, "conditional": True, "encoder": "hashed-words", "device": "cpu", "checkpoint_every": 0})
    assert run.config["cond_dim"] == 6
    assert (ganforge_ckpt(tmp_path / "run") / "encoder.safetensors").is_file()
    result = ganforge.generate(tmp_path / "run", n=3, prompts=["a red circle", "a blue square"], device="cpu")
    assert len(result.images) == 3 and [r["prompt"] for r in result.records] == ["a red circle", "a blue square",
                                                                                  "a red circle"]
    from ganforge.cli import main

    assert main(["generate", str(tmp_path / "run"), "--out", str(tmp_path / "g"), "--class", "circle"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--prompt" in err and "--class" in err
    assert main(["generate", str(tmp_path / "run"), "--out", str(tmp_path / "g"), "--prompt", "a red circle",
                 "-n", "2", "--device", "cpu"]) == 0
    lines = (tmp_path / "g" / "metadata.jsonl").read_text().splitlines()
    assert [json.loads(line)["prompt"] for line in lines] == ["a red circle"] * 2


class CosineLR(ganforge.training.objectives.NonSaturating):
    """An objective whose learning rate follows a schedule of the progress."""

    def optimizer_settings(self, progress):
        return {"lr_g": 0.1 * (1 - progress.step / progress.total_steps), "lr_d": 0.01}


def test_an_objective_schedules_the_optimisers_every_step(tmp_path):
    import ganforge.training.objectives  # noqa: F401

    seen = []

    class Plugin:
        @hookimpl
        def ganforge_register_objectives(self, register):
            register("cosine-lr", CosineLR)

        @hookimpl
        def ganforge_on_step_end(self, run, step, logs):
            seen.append((run.opt_g.param_groups[0]["lr"], run.opt_d.param_groups[0]["lr"]))

    ring = ganforge.get_registry().get("dataset", "ring")(tmp_path / "ring", n=256)
    ganforge.add_plugin(Plugin(), name="schedule")
    try:
        ganforge.train("toy-ring", data=ring, out=tmp_path / "run", steps=4,
                       overrides={"hidden": 8, "d_hidden": 8, "batch_size": 32, "sample_every": 0, "progress": False,
                                  "objective": "cosine-lr"})
    finally:
        ganforge.remove_plugin("schedule")
    assert seen == [(pytest.approx(0.1 * (1 - s / 4)), 0.01) for s in range(4)]


@pytest.mark.parametrize("n_critic", [1, 2])
def test_an_objective_sees_the_generators_other_outputs_of_the_same_batch(tmp_path, n_critic):
    """``Generator.forward_with_extras``: the objective reads them as ``step.fake_extras``,
    with gradients, whether the generator update reuses the critic's batch (n_critic 1) or not."""
    ganforge.train("vec-extras", data=tmp_path, out=tmp_path / "run", overrides={"steps": 2, "low_steps": 0,
                                                                               "n_critic": n_critic})
    seen = [e for e in EVENTS if e[0] == "g_extras"]
    assert seen == [("g_extras", (8,), True)] * 2
    EVENTS.clear()
    train(tmp_path, name="plain", steps=2, low_steps=0, n_critic=n_critic)  # no extras: an empty dict
    assert not [e for e in EVENTS if e[0] == "g_extras"] and [e for e in EVENTS if e[0] == "g_batch"]
