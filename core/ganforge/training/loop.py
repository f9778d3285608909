"""THE training loop: one for every recipe and modality.

A run executes the recipe's phases in order; a phase's settings (batch size, learning
rates and betas, n_critic, anything a component reads) are in force during it. Before
each step every component is told where training stands (:class:`Progress`). A step
takes ``n_critic`` discriminator updates, each on a fresh real batch, and one generator
update; the phase's objective gives the losses and its lazy regularisers for either
network. The generator EMA follows, and periodically the loop logs, previews and writes
a checkpoint. A checkpoint holds everything a resumed run needs to continue exactly.
"""

from __future__ import annotations

import copy
import json
import math
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
from ..devices import resolve_device
from ..errors import GanforgeError
from ..plugins import get_plugin_manager
from ..runlock import LOCK_FILE, RunLock
from . import distributed
from .ema import ema_beta, recalibrate_batch_norm, update_ema
from .objectives import Step, mode_seeking_loss
from .support import (DataStream, Progress, apply_optimizer_settings, format_time, make_optimizer, rng_state,
                      set_rng_state)


class Run:
    """One training run: its configuration, networks, optimisers and position.

    Constructing a Run takes the run directory's lock (rank 0) until ``fit()`` ends or
    ``close()`` is called: a second training into the same directory is refused."""

    def __init__(self, recipe: str, data, out, overrides: dict | None = None, resume: bool = False,
                 config_file=None):
        self.out = Path(out)
        self.data_path = Path(data)
        entry = get_plugin_manager().registry.find("recipe", recipe)
        self.recipe_name, self.recipe = entry.full_name, entry.load()
        self.rank, self.world, local_rank = distributed.world_from_env()
        self.is_main = self.rank == 0
        created = not self.out.exists()
        self._lock = RunLock(self.out).acquire() if self.is_main else None
        try:
            self._set_up(overrides, resume, config_file, local_rank)
        except BaseException:
            self.close()
            if created and self.is_main:  # a refused start leaves no empty run folder behind
                (self.out / LOCK_FILE).unlink(missing_ok=True)
                if not any(self.out.iterdir()):
                    self.out.rmdir()
            raise

    def _set_up(self, overrides, resume, config_file, local_rank):
        saved = self._saved_run(resume)
        if saved is not None:  # the run's own options, then what this command changes
            overrides = {**saved["user_config"], **(overrides or {})}
        self.user_config = dict(overrides or {})
        self.config = resolve(self.recipe_name, self.recipe, self.user_config, config_file)
        if config_file is not None:  # keep the file's values with the run, so --resume needs no file
            defaults = self.recipe.all_defaults()
            self.user_config = {k: v for k, v in self.config.items() if k != "recipe" and v != defaults.get(k)}
        self.device = resolve_device(self.config["device"], local_rank)
        if self.world > 1:
            distributed.setup(self.device)
        self._check_amp()
        if float(self.config.get("mode_seeking", 0)) < 0:
            raise GanforgeError(f"option 'mode_seeking' must be 0 (off) or more, got {self.config['mode_seeking']}")
        if self.device.type == "cuda":  # cuDNN picks non-deterministic kernels unless told not to
            torch.backends.cudnn.deterministic = bool(self.config["deterministic"])
            torch.backends.cudnn.benchmark = False
        seed = int(self.config["seed"])
        torch.manual_seed(seed)
        random.seed(seed)

        # data, then what the networks need to know about it and about the condition
        self.names = component_names(self.recipe, self.config)
        modality_cls = load_component("modality", self.names["modality"])
        self.modality = modality_cls(self.config, state=saved["modality_state"] if saved else None)
        self.data = self.modality.load(self.data_path)
        if self.data.streamed and str(self.config["data_cache"]):
            self.data.fields["x"].use_cache(self.config["data_cache"])
        self._loader = None  # worker processes decoding streamed batches ahead of the step
        self.config.update(self.modality.derived_config())
        self.encoder = self._build("encoder") if self.names["encoder"] else None
        if self.encoder is not None:
            self.config["cond_dim"] = self.encoder.dim  # G and D are built for the encoder's embedding
            if self.encoder.condition_key in self.data.fields:  # once per data set (a frozen encoder's cache)
                self.encoder.prepare(self.data.fields[self.encoder.condition_key])

        # networks, augmentation and optimisers
        self.generator = self._build("generator")
        self.discriminator = self._build("discriminator")
        self.augment = self._build("augmentation") if self.names.get("augmentation") else None
        if self.config["channels_last"]:  # oneDNN's CPU convolutions also prefer it
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        if self.world > 1:
            for module in (self.generator, self.discriminator, self.encoder):
                if module is not None:
                    distributed.broadcast_module(module)
            torch.manual_seed(seed * 1000 + self.rank)  # each rank draws its own latents
        self.opt_g = make_optimizer(self._generator_side_parameters(), self.config, "g")
        self.opt_d = make_optimizer(self.discriminator.parameters(), self.config, "d")
        use_ema = float(self.config["ema_beta"]) > 0
        self.generator_ema = copy.deepcopy(self.generator).eval().requires_grad_(False) if use_ema else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.config["amp"] == "fp16")

        # the schedule and the position in it
        self.phases = list(self.recipe.phases)
        self._check_phases()
        self.step = self.phase_index = self.phase_step = self.d_steps = self.samples_seen = 0
        self.objectives: dict[str, object] = {}  # one per objective name, for the whole run
        self._pending_objective_states: dict[str, dict] = {}
        self.stream = DataStream(len(self.data), 1, seed)
        self._saved_step = -1
        self._stop_requested = False
        self._last_log: dict = {}
        self._calibrated_step = -1  # the step at which the EMA generator's batch norm was last re-estimated
        self._data_seconds = 0.0  # this step's wait for its batches
        if saved is not None:
            self._restore(saved)
        else:
            self._enter_phase(0)
            if self.is_main:
                self._write_run_json()
                self._trim_log(0)  # a run started again keeps nothing of its first try
        n = int(self.config["preview_n"])
        self.preview_conditions = self._preview_conditions(n) if self.encoder is not None else None

    # ------------------------------------------------------------------ set-up helpers

    def _saved_run(self, resume: bool) -> dict | None:
        """The run to continue (its ganforge.json), or None to start afresh. A folder whose
        training stopped before its first checkpoint is started again, never left stuck."""
        if not (self.out / artifacts.RUN_FILE).exists():
            if resume:
                raise GanforgeError(f"{self.out} holds no run to resume; drop --resume to start one")
            return None
        info = artifacts.read_run_json(self.out)
        if info["recipe"] != self.recipe_name:
            raise GanforgeError(
                f"{self.out} holds a run of recipe '{info['recipe']}', not '{self.recipe_name}'; "
                f"resume it with `ganforge train {info['recipe'].split(':')[-1]} ... --resume` or choose another --out")
        if artifacts.checkpoint_dir(self.out, info) is None:
            if self.is_main:
                print(f"note: {self.out} has no checkpoint yet (its training stopped before the first one); "
                      f"starting it again from step 0", file=sys.stderr)
            return None
        if not resume:
            raise GanforgeError(f"{self.out} already holds a run; add --resume to continue it or choose another --out")
        return info

    def _build(self, kind: str):
        return build_network(kind, self.names[kind], self.config).to(self.device)

    def _generator_side_parameters(self) -> list:
        params = list(self.generator.parameters())
        if self.encoder is not None:
            if self.encoder.trainable:
                params += list(self.encoder.parameters())
            else:  # a frozen encoder never builds a graph
                self.encoder.eval().requires_grad_(False)
        return params

    def _check_amp(self):
        amp = self.config["amp"]
        if amp not in ("none", "bf16", "fp16"):
            raise GanforgeError(f"amp={amp} is not known; use none, bf16 or fp16")
        if amp == "fp16" and self.device.type != "cuda":
            raise GanforgeError("amp=fp16 needs a CUDA device; on CPU use amp=bf16 or amp=none")

    def _check_phases(self):
        for phase in self.phases:
            unknown = set(phase.fresh_optimizers) - {"g", "d"}
            if unknown:
                raise GanforgeError(f"phase '{phase.name}' of recipe '{self.recipe_name}' names unknown "
                                    f"fresh_optimizers {sorted(unknown)} (use 'g', 'd'); its plugin is broken")
            for key in [phase.steps, *phase.settings]:
                if key not in self.config:
                    raise GanforgeError(f"phase '{phase.name}' of recipe '{self.recipe_name}' names unknown "
                                        f"option '{key}'; its plugin is broken")

    def _autocast(self):
        amp = self.config["amp"]
        if amp == "none":
            return nullcontext()
        dtype = torch.bfloat16 if amp == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    # ------------------------------------------------------------------ phases and progress

    def phase_length(self, phase) -> int:
        return int(self.config[phase.steps])

    def total_steps(self) -> int:
        return sum(self.phase_length(p) for p in self.phases)

    def _enter_phase(self, index: int) -> None:
        """Put phase ``index``'s settings in force: its objective, batch size, learning
        rates and betas, n_critic. The position within the phase is kept (a resume)."""
        self.phase_index = index
        phase = self.phases[index]
        config = {**self.config, **phase.settings}
        batch = int(config["batch_size"])
        if batch > len(self.data):
            print(f"warning: batch_size {batch} is larger than the data set ({len(self.data)} samples); "
                  f"using {len(self.data)}", file=sys.stderr)
            batch = config["batch_size"] = len(self.data)
        if batch % self.world:
            raise GanforgeError(f"batch_size {batch} does not split over {self.world} processes; "
                                f"use a multiple of {self.world}")
        self.stream.batch_size = batch  # the global batch; each rank takes its share
        apply_optimizer_settings(self.opt_g, config, "g")
        apply_optimizer_settings(self.opt_d, config, "d")
        name = phase.objective or config["objective"]
        if name not in self.objectives:
            full = get_plugin_manager().registry.find("objective", name).full_name
            self.objectives[name] = load_component("objective", full)(config)
            if name in self._pending_objective_states:
                self.objectives[name].load_state_dict(self._pending_objective_states.pop(name))
        self.objective = self.objectives[name]
        self.objective.config = config
        self.phase_config = config

    @property
    def progress(self) -> Progress:
        return Progress(phase=self.phases[self.phase_index].name, phase_index=self.phase_index,
                        phase_step=self.phase_step, phase_length=self.phase_length(self.phases[self.phase_index]),
                        step=self.step, total_steps=self.total_steps(), samples_seen=self.samples_seen,
                        config=self.phase_config)

    def _announce_progress(self) -> None:
        progress = self.progress
        for part in (self.generator, self.generator_ema, self.discriminator, self.encoder, self.augment,
                     self.objective, self.modality):
            if part is not None:
                part.set_progress(progress)
        scheduled = self.objective.optimizer_settings(progress)  # a schedule (R3GAN's cosine lr and beta2)
        if scheduled is not None:
            config = {**self.phase_config, **scheduled}
            apply_optimizer_settings(self.opt_g, config, "g")
            apply_optimizer_settings(self.opt_d, config, "d")

    # ------------------------------------------------------------------ one step

    def _batch(self) -> dict:
        started = time.perf_counter()
        try:
            return self._fetch_batch()
        finally:
            self._data_seconds += time.perf_counter() - started

    def _fetch_batch(self) -> dict:
        workers = int(self.config["data_workers"]) if self.data.streamed else 0
        if workers > 0:
            where = (self.stream.epoch, self.stream.offset, self.stream.batch_size)
            if self._loader is None or self._loader[1] != where:  # a new phase's batch size, or a resume
                self._start_loader(workers)
            indices = self.stream.next()
            if self.world > 1:
                indices = indices[self.rank :: self.world]
            made_for, batch = next(self._loader[0])
            if not torch.equal(made_for, indices):
                raise RuntimeError("the data workers fell out of step with the run's data order")
            self._loader = (self._loader[0], (self.stream.epoch, self.stream.offset, self.stream.batch_size))
        else:
            indices = self.stream.next()
            if self.world > 1:
                indices = indices[self.rank :: self.world]
            batch = self.data.batch(indices)
        for k, v in batch.items():
            if isinstance(v, torch.Tensor):
                v = v.to(self.device, non_blocking=True)
                if self.config["channels_last"] and v.dim() == 4:
                    v = v.contiguous(memory_format=torch.channels_last)
                batch[k] = v
        return batch

    def _start_loader(self, workers: int) -> None:
        """Worker processes that decode the batches of the run's own data order, from its
        current position, ``workers`` x 2 batches ahead (torch's DataLoader)."""
        from torch.utils.data import DataLoader

        self._stop_loader()
        order = _OrderFrom(self.stream, self.rank, self.world)
        # its own generator: the DataLoader draws its workers' base seed from it, never from
        # the training RNG (that draw would change every latent after it)
        loader = DataLoader(_BatchesOf(self.data), sampler=order, batch_size=None, num_workers=workers,
                            prefetch_factor=2, persistent_workers=False, generator=torch.Generator().manual_seed(0))
        self._loader = (iter(loader), (self.stream.epoch, self.stream.offset, self.stream.batch_size))

    def _stop_loader(self) -> None:
        if self._loader is not None:
            shutdown = getattr(self._loader[0], "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()
            self._loader = None

    def _encode(self, values, grad: bool = False):
        """Condition values (a batch field, or user conditions) -> embeddings on the device."""
        if isinstance(values, torch.Tensor):
            values = values.to(self.device)
        with nullcontext() if grad and self.encoder.trainable else torch.no_grad():
            return self.encoder(values)

    def _step_for(self, batch: dict, grad: bool, shared_fake: dict | None = None, cond=None) -> Step:
        """A Step on ``batch``; ``grad``: the condition embedding keeps its graph (G update)."""
        key = self.encoder.condition_key if self.encoder is not None else None
        if key is not None and cond is None:
            if key not in batch:
                raise GanforgeError(f"encoder '{self.names['encoder']}' reads the data field '{key}', "
                                    f"which {self.data_path} does not have")
            cond = self._encode(batch[key], grad)
        return Step(self.generator, self.discriminator, batch, self.phase_config, self.step, cond=cond,
                    cond_d=cond.detach() if cond is not None else None, progress=self.progress,
                    augment=self.augment, encode=self._encode if key is not None else None,
                    condition_key=key, shared_fake=shared_fake)

    def _update(self, loss, optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if self.world > 1:
            distributed.average_gradients(params)
        clip = float(self.config["grad_clip"])
        if clip > 0:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params, clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def _regularize(self, network: str, updates: int, s: Step, logs: dict) -> None:
        """Lazy regularisation: every ``interval`` updates, one step on ``interval * penalty``."""
        optimizer = self.opt_d if network == "discriminator" else self.opt_g
        for reg in self.objective.regularizers():
            if reg.network == network and reg.interval > 0 and updates % reg.interval == 0:
                if network == "generator" and s.cond is not None:  # the G loss freed the embedding's graph
                    s = self._step_for(s.batch, grad=True)
                with self._autocast():
                    penalty, extra = reg.loss(s)
                self._update(penalty * reg.interval, optimizer)
                logs.update({reg.name: penalty.detach(), **extra})

    def train_step(self) -> dict:
        """One step of the current phase: n_critic discriminator updates, one generator update."""
        objective, config = self.objective, self.phase_config
        logs: dict = {}
        n_critic = int(config["n_critic"])
        both = objective.trains_discriminator and objective.trains_generator
        shared_fake = {"keep": True} if both and n_critic == 1 else None
        s = None
        if objective.trains_discriminator:
            for _ in range(n_critic):
                s = self._step_for(self._batch(), grad=shared_fake is not None, shared_fake=shared_fake)
                with self._autocast():
                    loss, extra = objective.discriminator_loss(s)
                self._update(loss, self.opt_d)
                objective.after_discriminator_step(s)
                if self.augment is not None:
                    if "real_scores" in s.state:
                        self.augment.observe(s.state["real_scores"])
                    logs.update(self.augment.log_values())
                self.d_steps += 1
                logs.update(d_loss=loss.detach(), **extra)
                self._regularize("discriminator", self.d_steps, s, logs)
        if objective.trains_generator:
            batch = s.batch if s is not None else self._batch()
            reuse = shared_fake is not None and "fake" in shared_fake
            s = self._step_for(batch, grad=True, shared_fake=shared_fake, cond=s.cond if reuse else None)
            self.discriminator.requires_grad_(False)  # the generator update needs no D gradients
            with self._autocast():
                loss, extra = objective.generator_loss(s)
                weight = float(config.get("mode_seeking", 0))
                if weight > 0:
                    ms = mode_seeking_loss(s)
                    loss, extra = loss + weight * ms, {**extra, "ms": ms.detach()}
            self._update(loss, self.opt_g)
            logs.update(g_loss=loss.detach(), **extra)
            self._regularize("generator", self.step + 1, s, logs)
            self.discriminator.requires_grad_(True)
            if self.generator_ema is not None:
                beta = ema_beta(float(self.config["ema_beta"]), float(self.config["ema_rampup"]), self.step)
                update_ema(self.generator_ema, self.generator, beta)
        return self._read_logs(logs)

    def _read_logs(self, logs: dict) -> dict:
        """Tensor logs to floats in one device sync (a sync per value stalls a GPU), then
        the NaN/inf guard on every loss: the checkpoint on disk is the last good one."""
        on_device = [k for k, v in logs.items() if isinstance(v, torch.Tensor) and v.device == self.device]
        if on_device:
            values = torch.stack([logs[k].detach().float().reshape(()) for k in on_device]).tolist()
            logs.update(zip(on_device, values))
        logs = {k: (float(v) if isinstance(v, torch.Tensor) else v) for k, v in logs.items()}
        regularizers = {reg.name for reg in self.objective.regularizers()}
        for key, value in logs.items():
            if (key.endswith("loss") or key in regularizers) and not math.isfinite(value):
                what = {"d_loss": "discriminator", "g_loss": "generator"}.get(key, f"{key} regulariser")
                raise GanforgeError(
                    f"the {what} loss became {value} at step {self.step + 1}; training stopped and the last good "
                    f"checkpoint in {self.out} is kept. Lower the learning rate, or try amp=none or objective=wgan-gp")
        return logs

    # ------------------------------------------------------------------ the loop

    @property
    def stopped_early(self) -> bool:
        """True when training ended on a stop request (Ctrl-C, SIGTERM) before its last step."""
        return self._stop_requested

    def request_stop(self) -> None:
        """Stop at the end of the current step, writing a checkpoint (what Ctrl-C does)."""
        self._stop_requested = True

    def fit(self) -> "Run":
        hook = get_plugin_manager().hook if self.is_main else _NoHooks()
        reason = "error"
        handlers = {}
        self._stop_requested = False
        try:
            hook.ganforge_on_train_start(run=self)
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    handlers[sig] = signal.signal(sig, self._on_signal)
                except ValueError:  # not the main thread: signals are the caller's business
                    pass
            self._loop(hook)
            reason = "interrupted" if self._stop_requested else "finished"
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last checkpoint as it is
            reason = "aborted"
            raise
        finally:
            for sig, previous in handlers.items():
                signal.signal(sig, previous)
            try:
                if reason in ("finished", "interrupted"):
                    self.save_checkpoint()
                    self.save_preview()
                self._progress_end()
                hook.ganforge_on_train_end(run=self, reason="interrupted" if reason == "aborted" else reason)
            finally:
                self._stop_loader()
                self.close()
        return self

    def close(self) -> None:
        """Release the run directory's lock (``fit`` does this when it ends)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _on_signal(self, signum, frame):
        if self._stop_requested:  # a second Ctrl-C stops at once, without a checkpoint
            raise KeyboardInterrupt
        print("\ninterrupt: finishing this step and writing a checkpoint (Ctrl-C again to abort)", file=sys.stderr)
        self._stop_requested = True

    def _loop(self, hook):
        every = {k: int(self.config[k]) for k in ("checkpoint_every", "sample_every", "log_every")}
        t0, seen0, step0 = time.perf_counter(), self.samples_seen, self.step
        while True:
            length = self.phase_length(self.phases[self.phase_index])
            self.generator.train()
            self.discriminator.train()
            while self.phase_step < length and not self._stop_requested:
                self._announce_progress()
                n_real = int(self.phase_config["n_critic"]) if self.objective.trains_discriminator else 1
                self._data_seconds = 0.0
                logs = self.train_step()
                logs["data_s"] = self._data_seconds  # of this step, waiting for its batches (read, decode, copy)
                self.step += 1
                self.phase_step += 1
                self.samples_seen += n_real * self.stream.batch_size  # the global batch, over all ranks
                elapsed = time.perf_counter() - t0
                logs["samples_per_s"] = (self.samples_seen - seen0) / max(elapsed, 1e-9)
                self._last_log = {"step": self.step, "phase": self.phases[self.phase_index].name, **logs}
                hook.ganforge_on_step_end(run=self, step=self.step, logs=logs)
                if self.world > 1:
                    self._stop_requested = distributed.any_rank(self._stop_requested, self.device)
                if self.is_main:
                    if every["log_every"] > 0 and self.step % every["log_every"] == 0:
                        self._append_log(self._last_log)
                    self._progress_line(elapsed, self.step - step0)
                    if every["sample_every"] > 0 and self.step % every["sample_every"] == 0:
                        self.save_preview()
                if every["checkpoint_every"] > 0 and self.step % every["checkpoint_every"] == 0:
                    self.save_checkpoint()
            # the last phase keeps its position, so `--resume --steps N` can extend it
            if self._stop_requested or self.phase_index == len(self.phases) - 1:
                return
            self.phase_step = 0
            self._enter_phase(self.phase_index + 1)
            # only here, on entering a phase from the one before: a resume within the phase
            # keeps the optimiser state its checkpoint holds
            for which in self.phases[self.phase_index].fresh_optimizers:
                (self.opt_g if which == "g" else self.opt_d).state.clear()

    # ------------------------------------------------------------------ output

    def _append_log(self, record: dict) -> None:
        record = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in record.items()}
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _progress_line(self, elapsed: float, done: int) -> None:
        if not self.config["progress"]:
            return
        total = self.total_steps()
        interactive = sys.stderr.isatty()
        if not interactive and self.step % max(1, total // 10) != 0 and self.step != total:
            return
        eta = (total - self.step) * elapsed / max(done, 1)
        losses = " ".join(f"{k} {v:.4f}" for k, v in self._last_log.items() if k.endswith("loss"))
        line = (f"step {self.step}/{total} [{self._last_log.get('phase')}] {losses} | "
                f"{self._last_log.get('samples_per_s', 0):.1f} samples/s | ETA {format_time(eta)}")
        sys.stderr.write(("\r" + line.ljust(100)) if interactive else line + "\n")
        sys.stderr.flush()

    def _progress_end(self):
        if self.is_main and self.config["progress"] and sys.stderr.isatty():
            sys.stderr.write("\n")

    def _preview_conditions(self, n: int):
        """Conditions for ``n`` samples: the encoder's choice (every class in turn), else
        values spread evenly over the data's own (captions, say)."""
        values = self.encoder.default_conditions(n, self.modality)
        if values is None:
            field = self.data.fields[self.encoder.condition_key]
            picks = [(i * len(field)) // max(n, 1) for i in range(n)]
            values = field[torch.tensor(picks)] if isinstance(field, torch.Tensor) else [field[i] for i in picks]
        return values

    def _sampling_generator(self):
        """The EMA generator (the generator when EMA is off), batch norm recalibrated."""
        G = self.generator_ema
        if G is None:
            return self.generator
        if self._calibrated_step == self.step:  # the checkpoint and the preview of one step: the same result
            return G
        n = self.stream.batch_size
        g = torch.Generator().manual_seed(int(self.config["seed"]) + 777)  # never the training RNG
        cond = self._encode(self._preview_conditions(n)) if self.encoder is not None else None

        def sample():
            z = G.sample_latent(n, generator=g).to(self.device)
            G(z) if cond is None else G(z, cond)

        recalibrate_batch_norm(G, sample)
        self._calibrated_step = self.step
        return G

    @torch.no_grad()
    def preview_samples(self) -> torch.Tensor:
        """Samples for the fixed preview latents: a generator of their own, so previews
        never touch the training RNG."""
        G = self._sampling_generator()
        was_training = G.training
        G.eval()
        cond = self._encode(self.preview_conditions) if self.encoder is not None else None
        g = torch.Generator().manual_seed(int(self.config["seed"]) + 12345)
        x = G.generate(int(self.config["preview_n"]), cond=cond, generator=g)
        G.train(was_training)
        return x.float().cpu() if x.is_floating_point() else x.cpu()

    def save_preview(self) -> list[Path]:
        if int(self.config["preview_n"]) <= 0 or not self.is_main:
            return []
        folder = self.out / "samples"
        folder.mkdir(exist_ok=True)
        path, labels = folder / f"step_{self.step:07d}", self._preview_labels()
        if labels is None:
            return self.modality.save_preview(self.preview_samples(), path)
        return self.modality.save_preview(self.preview_samples(), path, labels=labels)

    def _preview_labels(self) -> list[str] | None:
        """The class of each preview sample, for a class-conditional run (named grid rows)."""
        if self.encoder is None or self.encoder.user_option != "class":
            return None
        names = self.modality.class_names()
        values = self.preview_conditions
        values = values.tolist() if isinstance(values, torch.Tensor) else list(values)
        return [names[v] if isinstance(v, int) and 0 <= v < len(names) else str(v) for v in values]

    # ------------------------------------------------------------------ checkpoints

    def _run_info(self) -> dict:
        return {
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
            "checkpoint": None,
        }

    def _write_run_json(self) -> None:
        artifacts.write_json(self.out / artifacts.RUN_FILE, self._run_info())

    def _checkpoint_modules(self) -> dict:
        modules = {"generator": self.generator, "generator_ema": self.generator_ema,
                   "discriminator": self.discriminator,
                   "encoder": self.encoder if self.encoder is not None and self.encoder.trainable else None}
        return {k: m for k, m in modules.items() if m is not None}

    def save_checkpoint(self) -> None:
        """Write one complete checkpoint and make it current (an atomic unit; see artifacts).

        Called on every rank (each contributes its RNG state); only rank 0 writes."""
        rng = distributed.gather(rng_state()) if self.world > 1 else [rng_state()]
        if not self.is_main or self._saved_step == self.step:
            return
        self._sampling_generator()  # the EMA generator's batch norm, as previews use it
        state = {
            "step": self.step, "phase_index": self.phase_index, "phase_step": self.phase_step,
            "d_steps": self.d_steps, "samples_seen": self.samples_seen, "data": self.stream.state(),
            "rng_per_rank": rng, "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "objectives": {**self._pending_objective_states,
                           **{name: o.state_dict() for name, o in self.objectives.items()}},
            "augment": self.augment.state_dict() if self.augment is not None else {},
        }
        try:
            artifacts.write_checkpoint(self.out, self.step, self._checkpoint_modules(), state, self._run_info())
        except OSError as e:
            raise GanforgeError(f"could not write a checkpoint in {self.out} ({e.strerror or e}); the last complete "
                                f"checkpoint is kept: make room, then continue with --resume") from None
        self._saved_step = self.step
        get_plugin_manager().hook.ganforge_on_checkpoint(run=self, path=self.out)

    def _restore(self, info: dict) -> None:
        if self.is_main:  # what a kill between a commit and its clean-up left behind
            artifacts.remove_stale_checkpoints(self.out)
        folder = artifacts.checkpoint_dir(self.out, info)
        state = artifacts.load_state(folder / artifacts.STATE_FILE)
        step = int(state["step"])
        for name, module in self._checkpoint_modules().items():
            saved_step = artifacts.load_module(folder / artifacts.WEIGHT_FILES[name], module)
            if saved_step != step:
                raise GanforgeError(f"{folder / artifacts.WEIGHT_FILES[name]} is from step {saved_step} but the "
                                    f"training state is from step {step}; the checkpoint is inconsistent")
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler.load_state_dict(state["scaler"])
        if self.augment is not None:
            self.augment.load_state_dict(state.get("augment", {}))
        self._pending_objective_states = dict(state.get("objectives", {}))
        self.step, self.phase_step = step, int(state["phase_step"])
        self.d_steps, self.samples_seen = int(state["d_steps"]), int(state.get("samples_seen", 0))
        self.stream.load_state(state["data"])
        self._enter_phase(int(state["phase_index"]))  # also applies `--resume --set lr_d=...`
        per_rank = state["rng_per_rank"]
        if len(per_rank) != self.world:
            raise GanforgeError(f"{self.out} was trained with {len(per_rank)} processes; resume it with as many "
                                f"(torchrun --nproc_per_node {len(per_rank)}) to continue exactly")
        set_rng_state(per_rank[self.rank])
        self._saved_step = step
        if self.is_main:
            self._trim_log(step)

    def _trim_log(self, step: int) -> None:
        """Keep the log records up to ``step``: steps after the checkpoint a run resumes
        from are trained again, and a line cut short by a kill is no record."""
        path = self.out / "log.jsonl"
        if not path.is_file():
            return
        kept = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] <= step:
                kept.append(line + "\n")
        artifacts.atomic_write(path, lambda tmp: tmp.write_text("".join(kept), encoding="utf-8"))


class _NoHooks:
    """Lifecycle hooks run on rank 0 only; other ranks call this stand-in."""

    def __getattr__(self, name):
        return lambda **kwargs: None


def train(recipe: str, data, out, steps: int | None = None, batch_size: int | None = None,
          overrides: dict | None = None, resume: bool = False, config_file=None, seed: int | None = None) -> Run:
    """Train ``recipe`` on ``data``, writing the run directory ``out``; returns the finished Run.

    ``overrides`` are option values as ``--set`` gives them; ``steps``, ``batch_size`` and
    ``seed`` are shortcuts for the most common ones. With ``resume=True`` the run in ``out``
    continues from its last checkpoint (``steps`` may extend it).
    """
    overrides = dict(overrides or {})
    for key, value in (("steps", steps), ("batch_size", batch_size), ("seed", seed)):
        if value is not None:
            overrides[key] = value
    run = Run(recipe, data, out, overrides=overrides, resume=resume, config_file=config_file)
    try:
        return run.fit()
    finally:
        if run.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


class _OrderFrom:
    """The run's batches of indices from the stream's current position on (a copy of the
    stream: the run's own position moves only as it takes batches), this rank's share."""

    def __init__(self, stream: DataStream, rank: int, world: int):
        self.state, self.n, self.batch_size, self.seed = stream.state(), stream.n, stream.batch_size, stream.seed
        self.rank, self.world = rank, world

    def __iter__(self):
        stream = DataStream(self.n, self.batch_size, self.seed)
        stream.load_state(self.state)
        while True:
            indices = stream.next()
            yield indices[self.rank :: self.world] if self.world > 1 else indices


class _BatchesOf(torch.utils.data.Dataset):
    """A data set whose items are whole batches: ``[indices] -> (indices, batch)``."""

    def __init__(self, data):
        self.data = data

    def __getitem__(self, indices):
        return indices, self.data.batch(indices)
