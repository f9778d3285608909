"""Do WaveGAN and SpecGAN make clips a classifier recognises? Classifier inception score.

The WaveGAN paper (Donahue et al. 2019) judges its generators by the inception score of
a classifier trained on the real SC09 digits. Here the data is ``ganforge data tones``
with class sub-folders by timbre (sine, organ, square, pluck, bell: the labelling a
small classifier tells apart reliably), and the judge is the one ``ganforge evaluate``
uses (the core's label classifier over the audio plugin's log-mel CNN, trained on the
real clips; its held-out accuracy is printed and should be >= 0.9).

For each recipe: train for a wall-clock budget (``--budget-s``, measured from the first
few steps, then resumed to fill it) or a fixed ``--steps`` (lists: the run is scored at
each total, then resumed to the next), then print the inception
score of the generated clips against the real clips', the classifier's accuracy and
which classes the generated clips are seen as. For SpecGAN, the same generated
spectrograms are turned into audio with Griffin-Lim at several iteration counts: IS,
spectral convergence and log-spectral distance of the audio's STFT magnitude to the
generator's own magnitudes (the same figures for the real clips' magnitudes beside
them), and Griffin-Lim time per second of audio. A PNG shows real and generated
spectrograms.

    python bench/quality_audio.py                          # CPU budget: 240 s per recipe, d = 16
    python bench/quality_audio.py --budget-s 300,900 --length 4096   # scored after 300 s and after 900 s
    python bench/quality_audio.py --device cuda --steps 2000,20000 --model-dim 64 --batch 64   # a GPU run

Everything goes to ``--out`` (default: a temporary folder): the data, the runs, the PNG
and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch

import ganforge
from report import parse_sets, row, write_rows
from ganforge.metrics import EvalContext, inception_score, inception_score_of


def overrides_of(args) -> dict:
    return {"model_dim": args.model_dim, "batch_size": args.batch, "audio_length": args.length,
            "max_slices_per_file": 1, "device": args.device, "seed": args.seed, "sample_every": 0,
            "preview_n": 10, "checkpoint_every": 0, "log_every": 10, **parse_sets(args.set)}


class Trainer:
    """Trains one recipe in stages: ``upto(steps=...)`` or ``upto(seconds=...)`` continues the
    run (resuming it) to a total step count, or to about a total wall time, measured by the
    rate of what ran so far (the first 10 steps, startup included, so it errs short)."""

    def __init__(self, recipe: str, data: Path, out: Path, args):
        self.recipe, self.data, self.out, self.args = recipe, data, out, args
        self.steps, self.wall = 0, 0.0
        if out.exists():
            shutil.rmtree(out)

    def _train(self, steps: int) -> None:
        start = time.perf_counter()
        ganforge.train(self.recipe, data=self.data, out=self.out, steps=steps, overrides=overrides_of(self.args),
                       resume=self.steps > 0)
        self.wall += time.perf_counter() - start
        self.steps = steps

    def upto(self, steps: int | None = None, seconds: float | None = None) -> dict:
        if seconds is not None:
            if self.steps == 0:
                self._train(10)
            steps = self.steps + max(0, int((seconds - self.wall) / (self.wall / self.steps)))
        if steps > self.steps:
            self._train(steps)
        return {"steps": self.steps, "wall_s": round(self.wall, 1), "s_per_step": round(self.wall / self.steps, 3)}


def class_shares(probs: torch.Tensor, names: list[str]) -> str:
    counts = torch.bincount(probs.argmax(1), minlength=len(names)).tolist()
    return " ".join(f"{name} {c / len(probs):.0%}" for name, c in zip(names, counts))


def spectral_distances(mag: torch.Tensor, wave: torch.Tensor, grid: str, sample_rate: int) -> tuple[float, float]:
    """Spectral convergence ||S(w)| - M|_F / ||M||_F and log-spectral distance (dB, RMS over
    bins, mean over frames and clips; both magnitudes floored 80 dB below the clip's
    loudest bin, so silence does not count as huge dB errors) of waveforms ``wave``
    against magnitudes ``mag`` on the spectrogram grid ``grid`` (spectrogram or logfreq)."""
    from ganforge_audio import spectral

    got = spectral.grid_magnitude(wave, grid, sample_rate)
    sc = (torch.linalg.norm((got - mag).flatten(1), dim=1) / torch.linalg.norm(mag.flatten(1), dim=1).clamp_min(1e-9))
    floor = mag.flatten(1).amax(1).clamp_min(1e-9)[:, None, None, None] * 1e-4
    diff = 20 * torch.log10(got.clamp_min(floor) / mag.clamp_min(floor))
    lsd = diff.square().mean(-2).sqrt().mean(-1)  # RMS over frequency, mean over frames
    return float(sc.mean()), float(lsd.mean())


def griffin_lim_sweep(pipe, ctx: EvalContext, iters: list[int], n: int, seed: int) -> list[dict]:
    """SpecGAN's spectrograms -> audio at each Griffin-Lim iteration count, judged."""
    from ganforge_audio import spectral

    judge = ctx.classifier("inception-score")
    modality = pipe.modality
    mean, std = modality._spec_stats()
    fake_spec = pipe.generate(n, seed=seed, output="spectrogram").samples.float().cpu()
    real_spec = ctx.real_x(n).float()
    fake_mag = spectral.denormalise(fake_spec, mean, std)
    real_mag = spectral.denormalise(real_spec, mean, std)
    splits = max(1, min(10, n // (10 * judge.n_classes)))
    rows = []

    def invert(spec: torch.Tensor, iters: int) -> torch.Tensor:
        # the modality's own inversion: a log-frequency run is inverted from its own grid
        return torch.cat([modality.to_waveform(spec[s:s + 64], griffin_lim_iters=iters) for s in range(0, n, 64)])

    grid, rate = modality._grid, modality.sample_rate
    for k in iters:
        start = time.perf_counter()
        fake_wave = invert(fake_spec, k)
        per_second = (time.perf_counter() - start) / (n * fake_wave.shape[-1] / rate)
        real_wave = invert(real_spec, k)
        p_fake, p_real = judge.probs(fake_wave), judge.probs(real_wave)
        sc, lsd = spectral_distances(fake_mag, fake_wave, grid, rate)
        rsc, rlsd = spectral_distances(real_mag, real_wave, grid, rate)
        rows.append({"iters": k, "is": inception_score_of(p_fake, splits)[0], "is_real": inception_score_of(p_real, splits)[0],
                     "sc": sc, "lsd_db": lsd, "sc_real": rsc, "lsd_real_db": rlsd, "s_per_audio_s": per_second,
                     "classes": class_shares(p_fake, judge.class_names)})
    return rows


def picture(real_ctx: EvalContext, fakes: dict[str, torch.Tensor], path: Path, per_row: int = 5) -> None:
    """One row of real clips (one per class where possible), then a row per recipe."""
    from ganforge_audio import spectral

    labels = real_ctx.real.fields["label"]
    order = real_ctx.real_indices(len(real_ctx.real))
    picks, seen = [], set()
    for i in order.tolist():
        if int(labels[i]) not in seen:
            seen.add(int(labels[i]))
            picks.append(i)
        if len(picks) == per_row:
            break
    real = real_ctx.modality.to_waveform(real_ctx.real.batch(torch.tensor(picks))["x"])
    rows = [real[:per_row]] + [w[:per_row] for w in fakes.values()]
    logmags = torch.cat([spectral.log_magnitude(r.float())[:, 0] for r in rows])
    spectral.spectrogram_grid(logmags, columns=per_row, gap=4).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="work folder (default: a temporary one, removed at the end unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--data", help="a labelled audio folder (default: ganforge data tones, by timbre)")
    parser.add_argument("--clips", type=int, default=180, help="clips in the generated tones data")
    parser.add_argument("--recipes", default="wavegan,specgan")
    parser.add_argument("--budget-s", dest="budget_s", default="240",
                        help="training seconds per recipe; a list (200,600) scores the run at each total")
    parser.add_argument("--steps", default="", help="train exactly this many steps instead (a list scores at each)")
    parser.add_argument("--length", type=int, default=16384, help="audio_length (4096 trains about 3x faster)")
    parser.add_argument("--model-dim", dest="model_dim", type=int, default=16, help="network width d (paper: 64)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (paper: 64)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--gl-iters", dest="gl_iters", default="16,32,64,128")
    parser.add_argument("-n", type=int, default=0, help="clips to score (default: as many as the data has)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 20 steps, 40 short clips (figures meaningless)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a recipe option for every run (representation=logfreq, objective=hinge, ...)")
    parser.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.clips, args.length, args.gl_iters = "20", 40, 4096, "16"
    torch.set_num_threads(args.threads)

    work = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="quality_audio_"))
    work.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else work / "tones"
    if not args.data and not data.exists():
        from ganforge_audio.datasets import make_tones

        make_tones(data, n=args.clips, by="timbre")
    results: dict = {"args": vars(args), "torch": torch.__version__, "recipes": {}}
    fakes: dict[str, torch.Tensor] = {}
    ctxs = {}
    print(f"data: {data}  budget: {args.steps + ' steps' if args.steps else args.budget_s + ' s'} per recipe, "
          f"d = {args.model_dim}, batch {args.batch}, {args.length} samples, device {args.device}, "
          f"{args.threads} thread(s)")
    stages = [("steps", int(v)) for v in args.steps.split(",") if v.strip()] or \
             [("seconds", float(v)) for v in args.budget_s.split(",") if v.strip()]
    for recipe in [r.strip() for r in args.recipes.split(",") if r.strip()]:
        run_dir = work / f"run_{recipe}"
        trainer = Trainer(recipe, data, run_dir, args)
        results["recipes"][recipe] = []
        for kind, value in stages:
            info = trainer.upto(**{kind: value})
            pipe = ganforge.load(run_dir, device=args.device)
            start = time.perf_counter()
            ctx = EvalContext(pipe, data, n=args.n or None, seed=args.seed, batch_size=64)
            scores = inception_score(ctx)
            judge = ctx.classifier()
            shares = class_shares(judge.probs(ctx.fake[: scores["inception_score_n"]]), judge.class_names)
            info.update(scores, generated_classes=shares, eval_s=round(time.perf_counter() - start, 1))
            results["recipes"][recipe].append(info)
            print(f"\n{recipe}: {info['steps']} steps in {info['wall_s']} s ({info['s_per_step']} s/step)")
            print(f"  classifier held-out accuracy {scores['inception_score_classifier_acc']:.3f}  "
                  f"({scores['inception_score_classifier']})")
            if scores["inception_score_classifier_acc"] < 0.9:
                print("  WARNING: the classifier is below 0.9 on held-out real clips; its scores mean little")
            print(f"  IS generated {scores['inception_score']:.3f} +- {scores['inception_score_std']:.3f}   "
                  f"real {scores['inception_score_real']:.3f} +- {scores['inception_score_real_std']:.3f}   "
                  f"(max {scores['inception_score_max']:.0f}, n {scores['inception_score_n']}, "
                  f"{scores['inception_score_splits']} splits)")
            print(f"  generated clips seen as: {shares}", flush=True)
        ctxs[recipe] = (pipe, ctx)
        fakes[recipe] = pipe.modality.to_waveform(ctx.fake[:10])

    if "specgan" in ctxs:
        pipe, ctx = ctxs["specgan"]
        iters = [int(k) for k in args.gl_iters.split(",") if k.strip()]
        rows = griffin_lim_sweep(pipe, ctx, iters, min(ctx.n, len(ctx.real)), args.seed)
        results["griffin_lim"] = rows
        print("\nSpecGAN, Griffin-Lim iterations (the same generated spectrograms; real: the real clips' "
              "normalised spectrograms through the same inversion)")
        print(f"  {'iters':>5} {'IS gen':>7} {'IS real':>7} {'SC gen':>7} {'SC real':>7} {'LSD gen':>8} {'LSD real':>8} {'s/audio-s':>9}")
        for r in rows:
            print(f"  {r['iters']:>5} {r['is']:7.3f} {r['is_real']:7.3f} {r['sc']:7.3f} {r['sc_real']:7.3f} "
                  f"{r['lsd_db']:7.2f}dB {r['lsd_real_db']:7.2f}dB {r['s_per_audio_s']:9.4f}   {r['classes']}")

    if ctxs:
        first = next(iter(ctxs.values()))[1]
        png = work / "spectrograms.png"
        picture(ctxs.get("wavegan", (None, first))[1], fakes, png)
        results["picture"] = str(png)
        print(f"\nspectrograms: {png} (rows: real, one per class; then {', '.join(fakes)})")
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    rows = []
    setting = f"d={args.model_dim}, batch {args.batch}, {args.length} samples"
    for recipe, infos in results["recipes"].items():
        for info in infos:
            rows.append(row("audio: tones by timbre", f"{recipe}: classifier inception score",
                            f"{info['inception_score']:.2f} ± {info['inception_score_std']:.2f}",
                            f"real clips {info['inception_score_real']:.2f} (max {info['inception_score_max']:.0f}); "
                            f"judge acc {info['inception_score_classifier_acc']:.2f}",
                            f"{info['steps']} steps, {info['wall_s']} s, {setting}"))
    for r in results.get("griffin_lim", []):
        rows.append(row("audio: tones by timbre", f"specgan + Griffin-Lim {r['iters']} iterations: IS",
                        f"{r['is']:.2f}", f"real {r['is_real']:.2f}", f"{r['s_per_audio_s']:.4f} s per audio second"))
    write_rows(args.json, rows)
    print(f"results: {work / 'results.json'}")
    if not args.out and not args.keep:
        print(f"(work folder {work} kept for the picture; remove it when done)")


if __name__ == "__main__":
    main()
