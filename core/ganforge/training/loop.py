"""THE training loop: one for every recipe and modality.

A run executes the recipe's phases in order. Each step takes ``n_critic`` discriminator
updates (each on a fresh real batch) and one generator update, asks the phase's
objective for the losses, applies lazy regularisers on their interval, updates the
generator EMA, and periodically logs, previews and checkpoints. Everything a resumed
run needs to continue exactly (weights, EMA, optimisers, phase and position in it,
data position, RNG states) is in the checkpoint.
"""

from __future__ import annotations

import copy
import json
import random
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from .. import artifacts
from ..build import build_network, component_names, load_component, plugin_versions
from ..config import resolve
from ..errors import GanforgeError
from ..plugins import get_plugin_manager
from ..recipe import Phase
from . import distributed
from .objectives import Step


class DataStream:
    """Batches of indices in a seeded order per epoch; its position is two integers."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.epoch, self.offset = 0, 0
        self._order = None

    def _perm(self):
        if self._order is None:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            self._order = torch.randperm(self.n, generator=g)
        return self._order

    def next(self) -> torch.Tensor:
        if self.offset + self.batch_size > self.n:  # drop the incomplete tail, as DCGAN & co do
            self.epoch, self.offset, self._order = self.epoch + 1, 0, None
        idx = self._perm()[self.offset : self.offset + self.batch_size]
        self.offset += self.batch_size
        return idx

    def state(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}

    def load_state(self, state: dict) -> None:
        self.epoch, self.offset, self._order = int(state["epoch"]), int(state["offset"]), None


def _device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanforgeError(f"device={name} but CUDA is not available here; use device=cpu")
    return device


def _optimizer(params, config: dict, which: str):
    lr = float(config[f"lr_{which}"])
    kind = config["optimizer"]
    if kind == "adam":
        betas = tuple(float(b) for b in config[f"betas_{which}"])
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise GanforgeError(f"optimizer={kind} is not known; use adam or rmsprop")


def _rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
             "python_version": random.getstate()[0], "python_gauss": random.getstate()[2]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((state["python_version"], tuple(state["python"]), state["python_gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _format_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Run:
    """One training run: its configuration, networks, optimisers and position."""

    def __init__(self, recipe: str, data, out, overrides: dict | None = None, resume: bool = False,
                 config_file=None):
        self.out = Path(out)
        self.data_path = Path(data)
        manager = get_plugin_manager()
        entry = manager.registry.find("recipe", recipe)
        self.recipe_name = entry.full_name
        self.recipe = entry.load()
        saved = None
        if resume:
            saved = artifacts.read_run_json(self.out)
            if saved["recipe"] != self.recipe_name:
                raise GanforgeError(
                    f"{self.out} holds a run of recipe '{saved['recipe']}', not '{self.recipe_name}'; "
                    f"resume it with `ganforge train {saved['recipe'].split(':')[-1]} ... --resume`"
                )
            if not (self.out / artifacts.STATE_FILE).is_file():
                raise GanforgeError(f"{self.out} has no checkpoint to resume from")
            base = {k: v for k, v in saved["user_config"].items()}
            base.update(overrides or {})
            overrides = base
        elif (self.out / artifacts.RUN_FILE).exists():
            raise GanforgeError(f"{self.out} already holds a run; add --resume to continue it or choose another --out")
        self.user_config = dict(overrides or {})
        self.config = resolve(self.recipe_name, self.recipe, self.user_config, config_file)
        if config_file is not None:  # keep the file's values with the run, so --resume needs no file
            self.user_config = {k: v for k, v in self.config.items()
                                if k != "recipe" and v != self.recipe.all_defaults().get(k)}
        self.rank, self.world, local_rank = distributed.world_from_env()
        self.is_main = self.rank == 0
        self.device = _device(self.config["device"], local_rank)
        if self.world > 1:
            distributed.setup(self.device)
        self._check_amp()

        seed = int(self.config["seed"])
        torch.manual_seed(seed)
        random.seed(seed)

        # data, and what the networks need to know about it
        self.names = component_names(self.recipe, self.config)
        modality_cls = load_component("modality", self.names["modality"])
        self.modality = modality_cls(self.config, state=saved["modality_state"] if saved else None)
        self.data = self.modality.load(self.data_path)
        self.config.update(self.modality.derived_config())
        batch = int(self.config["batch_size"])
        if batch > len(self.data):
            print(f"warning: batch_size {batch} is larger than the data set ({len(self.data)} samples); "
                  f"using {len(self.data)}", file=sys.stderr)
            self.config["batch_size"] = batch = len(self.data)
        if batch % self.world:
            raise GanforgeError(f"batch_size {batch} does not split over {self.world} processes; "
                                f"use a multiple of {self.world}")
        self.stream = DataStream(len(self.data), batch, seed)  # the global batch; each rank takes its share

        # networks and optimisers
        self.generator = build_network("generator", self.names["generator"], self.config).to(self.device)
        self.discriminator = build_network("discriminator", self.names["discriminator"], self.config).to(self.device)
        self.encoder = None
        if self.names["encoder"]:
            self.encoder = build_network("encoder", self.names["encoder"], self.config).to(self.device)
        if self.config["channels_last"] and self.device.type == "cuda":
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        if self.world > 1:
            for module in (self.generator, self.discriminator, self.encoder):
                if module is not None:
                    distributed.broadcast_module(module)
            torch.manual_seed(seed * 1000 + self.rank)  # each rank draws its own latents
        g_params = list(self.generator.parameters())
        if self.encoder is not None and self.encoder.trainable:
            g_params += list(self.encoder.parameters())
        self.opt_g = _optimizer(g_params, self.config, "g")
        self.opt_d = _optimizer(self.discriminator.parameters(), self.config, "d")
        self.ema_beta = float(self.config["ema_beta"])
        self.generator_ema = copy.deepcopy(self.generator).eval().requires_grad_(False) if self.ema_beta > 0 else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.config["amp"] == "fp16")

        # position
        self.phases: list[Phase] = list(self.recipe.phases)
        self.step = 0  # generator steps over all phases
        self.phase_index = 0
        self.phase_step = 0
        self.d_steps = 0
        self.objective = None
        self._objective_phase = None
        self._stop_requested = False
        self._last_log: dict = {}

        self.preview_cond = self._preview_conditions(int(self.config["preview_n"])) if self.encoder else None

        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        if saved is not None:
            self._restore()
        elif self.is_main:
            self._write_run_json()

    # ------------------------------------------------------------------ helpers

    def _check_amp(self):
        amp = self.config["amp"]
        if amp not in ("none", "bf16", "fp16"):
            raise GanforgeError(f"amp={amp} is not known; use none, bf16 or fp16")
        if amp == "fp16" and self.device.type != "cuda":
            raise GanforgeError("amp=fp16 needs a CUDA device; on CPU use amp=bf16 or amp=none")

    def _autocast(self):
        amp = self.config["amp"]
        if amp == "none":
            return nullcontext()
        dtype = torch.bfloat16 if amp == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def _preview_conditions(self, n: int):
        key = self.encoder.condition_key
        if key == "label":
            k = max(1, int(self.config.get("n_classes", 1)))
            return {"label": torch.arange(n) % k}
        texts = self.data.fields.get("text") or [""]
        return {"text": [texts[i % len(texts)] for i in range(n)]}

    def _encode(self, batch: dict):
        if self.encoder is None:
            return None
        key = self.encoder.condition_key
        if key not in batch:
            raise GanforgeError(f"encoder '{self.names['encoder']}' needs '{key}' in the data, which has none")
        conditions = batch[key]
        if isinstance(conditions, torch.Tensor):
            conditions = conditions.to(self.device)
        return self.encoder(conditions)

    def _batch(self) -> dict:
        indices = self.stream.next()
        if self.world > 1:
            indices = indices[self.rank :: self.world]
        batch = self.data.batch(indices)
        for k, v in batch.items():
            if isinstance(v, torch.Tensor):
                v = v.to(self.device, non_blocking=True)
                if self.config["channels_last"] and v.dim() == 4 and self.device.type == "cuda":
                    v = v.contiguous(memory_format=torch.channels_last)
                batch[k] = v
        return batch

    def _objective_for(self, phase: Phase):
        if self._objective_phase is not phase:
            config = {**self.config, **phase.settings}
            name = phase.objective or config["objective"]
            self.objective = load_component("objective", get_plugin_manager().registry.find("objective", name).full_name)(config)
            self._objective_phase = phase
            self._phase_config = config
        return self.objective

    def _backward_step(self, loss, optimizer, params_of, what: str):
        if not torch.isfinite(loss):
            raise GanforgeError(
                f"the {what} loss became {loss.item()} at step {self.step + 1}; training stopped and the last good "
                f"checkpoint in {self.out} is kept. Lower the learning rate, or try amp=none or objective=wgan-gp"
            )
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.world > 1:
            distributed.average_gradients([p for group in optimizer.param_groups for p in group["params"]])
        clip = float(self.config["grad_clip"])
        if clip > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params_of, clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def _update_ema(self):
        if self.generator_ema is None:
            return
        with torch.no_grad():
            beta = self.ema_beta
            rampup = float(self.config["ema_rampup"])
            if rampup > 0:
                # early weights are poor: average over at most the last `rampup` of training
                beta = min(beta, 0.5 ** (1.0 / max(self.step * rampup, 1e-8)))
            for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
                p_ema.lerp_(p, 1 - beta)
            # buffers (batch-norm statistics) are re-estimated for the EMA weights before use

    @torch.no_grad()
    def _recalibrate_ema_norms(self, batches: int = 8) -> None:
        """Give the EMA generator batch-norm statistics that match its own (averaged) weights.

        Copying the raw generator's running statistics leaves them inconsistent with the
        EMA weights; instead they are re-estimated from a few batches of the EMA generator,
        with latents from a generator of their own (the training RNG is not touched)."""
        G = self.generator_ema
        norms = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)] if G else []
        if not norms:
            return
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the calibration batches
        G.train()
        g = torch.Generator().manual_seed(int(self.config["seed"]) + 777)
        n = self.stream.batch_size
        cond = None
        if self.encoder is not None:
            self.encoder.eval()
            cond = self._encode(self._preview_conditions(n))
            self.encoder.train()
        for _ in range(batches):
            z = G.sample_latent(n, generator=g).to(self.device)
            G(z) if cond is None else G(z, cond)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        G.eval()

    @property
    def stopped_early(self) -> bool:
        """True when training ended on a stop request (Ctrl-C) before its last step."""
        return self._stop_requested

    def request_stop(self) -> None:
        """Stop at the end of the current step, writing a checkpoint (what Ctrl-C does)."""
        self._stop_requested = True

    # ------------------------------------------------------------------ one step

    def train_step(self, phase: Phase) -> dict:
        objective = self._objective_for(phase)
        config = self._phase_config
        logs: dict = {}
        G, D = self.generator, self.discriminator
        batch, cond, handoff = None, None, None
        if objective.trains_discriminator:
            D.requires_grad_(True)
            interval = objective.d_regularizer_interval()
            n_critic = int(config["n_critic"])
            if n_critic == 1 and objective.trains_generator:
                handoff = {"keep": True}  # the G update reuses this fake batch and condition
            for _ in range(n_critic):
                batch = self._batch()
                with nullcontext() if handoff else torch.no_grad():
                    cond = self._encode(batch)
                s = Step(G, D, batch, config, self.step, cond=cond,
                         cond_d=cond.detach() if cond is not None else None, handoff=handoff)
                with self._autocast():
                    loss, extra = objective.discriminator_loss(s)
                self._backward_step(loss, self.opt_d, D.parameters(), "discriminator")
                objective.after_discriminator_step(s)
                self.d_steps += 1
                logs["d_loss"] = loss.item()
                logs.update(extra)
                if interval and self.d_steps % interval == 0:
                    reg, extra = objective.d_regularizer(s)
                    self._backward_step(reg * interval, self.opt_d, D.parameters(), "regulariser")
                    logs.update(extra)
        if objective.trains_generator:
            if batch is None:
                batch = self._batch()
            D.requires_grad_(False)  # no discriminator gradients are needed for the generator step
            if not handoff:
                cond = self._encode(batch)
            s = Step(G, D, batch, config, self.step, cond=cond,
                     cond_d=cond.detach() if cond is not None else None, handoff=handoff)
            with self._autocast():
                loss, extra = objective.generator_loss(s)
            params = [p for group in self.opt_g.param_groups for p in group["params"]]
            self._backward_step(loss, self.opt_g, params, "generator")
            D.requires_grad_(True)
            logs["g_loss"] = loss.item()
            logs.update(extra)
            self._update_ema()
        return logs

    # ------------------------------------------------------------------ the loop

    def phase_length(self, phase: Phase) -> int:
        key = phase.steps
        if key not in self.config:
            raise GanforgeError(f"phase '{phase.name}' of recipe '{self.recipe_name}' names unknown option '{key}'")
        return int(self.config[key])

    def total_steps(self) -> int:
        return sum(self.phase_length(p) for p in self.phases)

    def fit(self) -> "Run":
        hook = get_plugin_manager().hook if self.is_main else _NoHooks()
        hook.ganforge_on_train_start(run=self)
        reason = "error"
        previous = None
        self._stop_requested = False
        try:
            if sys.platform != "win32":
                previous = signal.signal(signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: Ctrl-C is the caller's business
            previous = None
        try:
            self._loop(hook)
            reason = "interrupted" if self._stop_requested else "finished"
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last checkpoint as it is
            reason = "aborted"
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            if reason in ("finished", "interrupted"):
                self.save_checkpoint()
                self.save_preview()
            self._progress_end()
            hook.ganforge_on_train_end(run=self, reason="interrupted" if reason == "aborted" else reason)
        return self

    def _on_sigint(self, signum, frame):
        if self._stop_requested:  # a second Ctrl-C stops at once, without a checkpoint
            raise KeyboardInterrupt
        print("\ninterrupt: finishing this step and writing a checkpoint (Ctrl-C again to abort)", file=sys.stderr)
        self._stop_requested = True

    def _loop(self, hook):
        total = self.total_steps()
        every = {k: int(self.config[k]) for k in ("checkpoint_every", "sample_every", "log_every")}
        samples_per_step = None
        t0, step0 = time.perf_counter(), self.step
        self._t_start = t0
        while not self._stop_requested:
            phase = self.phases[self.phase_index]
            length = self.phase_length(phase)
            self.generator.train()
            self.discriminator.train()
            while self.phase_step < length and not self._stop_requested:
                logs = self.train_step(phase)
                self.step += 1
                self.phase_step += 1
                if samples_per_step is None:
                    n_d = int(self._phase_config["n_critic"]) if self.objective.trains_discriminator else 1
                    samples_per_step = n_d * self.stream.batch_size  # the global batch, over all ranks
                elapsed = time.perf_counter() - t0
                rate = (self.step - step0) * samples_per_step / max(elapsed, 1e-9)
                logs["samples_per_s"] = rate
                self._last_log = {"step": self.step, "phase": phase.name, **logs}
                hook.ganforge_on_step_end(run=self, step=self.step, logs=logs)
                if self.world > 1:
                    self._stop_requested = distributed.any_rank(self._stop_requested, self.device)
                if self.is_main:
                    if every["log_every"] and self.step % every["log_every"] == 0:
                        self._append_log(self._last_log)
                    self._progress(total, rate, elapsed, self.step - step0)
                    if every["sample_every"] and self.step % every["sample_every"] == 0:
                        self.save_preview()
                if every["checkpoint_every"] and self.step % every["checkpoint_every"] == 0:
                    self.save_checkpoint()
            # the last phase keeps its position, so `--resume --steps N` can extend it
            if self._stop_requested or self.phase_index == len(self.phases) - 1:
                break
            self.phase_index += 1
            self.phase_step = 0
            samples_per_step = None

    # ------------------------------------------------------------------ output

    def _append_log(self, record: dict) -> None:
        record = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in record.items()}
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _progress(self, total, rate, elapsed, done):
        if not self.config["progress"]:
            return
        interactive = sys.stderr.isatty()
        if not interactive and self.step % max(1, total // 10) and self.step != total:
            return
        eta = (total - self.step) * elapsed / max(done, 1)
        losses = " ".join(f"{k} {v:.4f}" for k, v in self._last_log.items() if k.endswith("loss"))
        line = (f"step {self.step}/{total} [{self._last_log.get('phase')}] {losses} | "
                f"{rate:.1f} samples/s | ETA {_format_time(eta)}")
        sys.stderr.write(("\r" + line.ljust(100)) if interactive else line + "\n")
        sys.stderr.flush()

    def _progress_end(self):
        if self.is_main and self.config["progress"] and sys.stderr.isatty():
            sys.stderr.write("\n")

    @torch.no_grad()
    def preview_samples(self) -> torch.Tensor:
        """Samples from the EMA generator (the generator when EMA is off) for the fixed
        preview latents: a generator of their own, so previews never touch the training RNG."""
        G = self.generator_ema if self.generator_ema is not None else self.generator
        was_training = G.training
        G.eval()
        cond = None
        if self.encoder is not None:
            self.encoder.eval()
            cond = self._encode(self.preview_cond)
            self.encoder.train()
        g = torch.Generator().manual_seed(int(self.config["seed"]) + 12345)
        x = G.generate(int(self.config["preview_n"]), cond=cond, generator=g)
        G.train(was_training)
        return x.float().cpu() if x.is_floating_point() else x.cpu()

    def save_preview(self) -> list[Path]:
        if int(self.config["preview_n"]) <= 0 or not self.is_main:
            return []
        folder = self.out / "samples"
        folder.mkdir(exist_ok=True)
        self._recalibrate_ema_norms()
        return self.modality.save_preview(self.preview_samples(), folder / f"step_{self.step:07d}")

    def _write_run_json(self) -> None:
        info = {
            "format_version": artifacts.FORMAT_VERSION,
            "ganforge_version": __import__("ganforge").__version__,
            "recipe": self.recipe_name,
            "components": self.names,
            "plugins": plugin_versions({**self.names, "recipe": self.recipe_name}),
            "user_config": self.user_config,
            "config": self.config,
            "modality_state": self.modality.state,
            "step": self.step,
            "total_steps": self.total_steps(),
            "data": str(self.data_path),
        }
        artifacts.write_json(self.out / artifacts.RUN_FILE, info)

    def save_checkpoint(self) -> None:
        """Write weights, EMA, optimisers, position and RNG states, each file atomically.

        Called on every rank (each contributes its RNG state); only rank 0 writes."""
        rng = distributed.gather(_rng_state()) if self.world > 1 else [_rng_state()]
        if not self.is_main:
            return
        out = self.out
        artifacts.save_module(out / artifacts.WEIGHT_FILES["generator"], self.generator, self.step)
        if self.generator_ema is not None:
            self._recalibrate_ema_norms()
            artifacts.save_module(out / artifacts.WEIGHT_FILES["generator_ema"], self.generator_ema, self.step)
        artifacts.save_module(out / artifacts.WEIGHT_FILES["discriminator"], self.discriminator, self.step)
        if self.encoder is not None and self.encoder.trainable:
            artifacts.save_module(out / artifacts.WEIGHT_FILES["encoder"], self.encoder, self.step)
        state = {
            "step": self.step,
            "phase_index": self.phase_index,
            "phase_step": self.phase_step,
            "d_steps": self.d_steps,
            "data": self.stream.state(),
            "rng": rng[0],
            "rng_per_rank": rng,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
        }
        if self.objective is not None and hasattr(self.objective, "state_dict"):
            state["objective"] = self.objective.state_dict()
        artifacts.save_state(out / artifacts.STATE_FILE, state)
        self._write_run_json()
        get_plugin_manager().hook.ganforge_on_checkpoint(run=self, path=out)

    def _restore(self) -> None:
        out = self.out
        state = artifacts.load_state(out / artifacts.STATE_FILE)
        step = state["step"]
        for name, module in (("generator", self.generator), ("discriminator", self.discriminator),
                             ("generator_ema", self.generator_ema), ("encoder", self.encoder)):
            if module is None or (name == "encoder" and not module.trainable):
                continue
            saved_step = artifacts.load_module(out / artifacts.WEIGHT_FILES[name], module)
            if saved_step != step:
                raise GanforgeError(
                    f"{out / artifacts.WEIGHT_FILES[name]} is from step {saved_step} but the training state is "
                    f"from step {step}; the checkpoint is inconsistent"
                )
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for optimizer, which in ((self.opt_g, "g"), (self.opt_d, "d")):  # `--resume --set lr_d=...` applies
            for group in optimizer.param_groups:
                group["lr"] = float(self.config[f"lr_{which}"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.phase_index, self.phase_step = step, state["phase_index"], state["phase_step"]
        self.d_steps = state["d_steps"]
        self.stream.load_state(state["data"])
        objective = self._objective_for(self.phases[self.phase_index])
        if "objective" in state and hasattr(objective, "load_state_dict"):
            objective.load_state_dict(state["objective"])
        per_rank = state.get("rng_per_rank", [state["rng"]])
        if len(per_rank) != self.world:
            raise GanforgeError(f"{out} was trained with {len(per_rank)} processes; resume it with as many "
                                f"(torchrun --nproc_per_node {len(per_rank)}) to continue exactly")
        _set_rng_state(per_rank[self.rank])


class _NoHooks:
    """Lifecycle hooks run on rank 0 only; other ranks call this stand-in."""

    def __getattr__(self, name):
        return lambda **kwargs: None


def train(recipe: str, data, out, steps: int | None = None, batch_size: int | None = None,
          overrides: dict | None = None, resume: bool = False, config_file=None) -> Run:
    """Train ``recipe`` on ``data``, writing the run directory ``out``; returns the finished Run.

    ``overrides`` are option values as ``--set`` gives them; ``steps`` and ``batch_size``
    are shortcuts for the two most common ones. With ``resume=True`` the run in ``out``
    continues from its last checkpoint (``steps`` may extend it).
    """
    overrides = dict(overrides or {})
    if steps is not None:
        overrides["steps"] = steps
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    run = Run(recipe, data, out, overrides=overrides, resume=resume, config_file=config_file)
    try:
        return run.fit()
    finally:
        if run.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
