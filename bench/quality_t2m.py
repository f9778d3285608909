"""Does a text-to-music run play what the prompt says? Issue 12's tones-t2m targets.

For ``ganforge data tones`` captions ("C major chord, organ", "A# note, sine"; "A sharp" is read too):

- root: the prompt's root note is the strongest pitch class of the generated clip's chroma
  (STFT magnitudes from 55 Hz to 4 kHz folded onto 12 pitch classes); target >= 80% of clips.
  The same measure on the real clips is printed as its ceiling.
- timbre: the timbre a classifier trained on the real clips (the one ``ganforge evaluate``
  uses: the audio plugin's log-mel CNN features and an MLP) hears is the prompt's;
  target >= 70%. Its held-out accuracy on real clips is the ceiling.
- latency: seconds to generate 1 s of audio from a prompt after load (target < 0.5 s on
  2 CPU cores), median of 5.

Prompts are the real clips' captions, in the evaluation's seeded order, so the generated
set asks for what the real set holds.

    python bench/quality_t2m.py tones-t2m --data data/tones [-n 200] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch

import ganforge
from ganforge.metrics import EvalContext

PITCHES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def chroma_argmax(wave: torch.Tensor, rate: int) -> torch.Tensor:
    """[N] strongest pitch class of each mono clip [N, T]."""
    n_fft = 4096
    spec = torch.stft(wave, n_fft, hop_length=1024, window=torch.hann_window(n_fft), return_complex=True).abs()
    mag = spec.mean(-1)  # [N, F]
    freqs = torch.arange(mag.shape[1]) * rate / n_fft
    keep = (freqs >= 55) & (freqs <= 4000)
    pc = (torch.round(69 + 12 * torch.log2(freqs[keep] / 440.0)).long() % 12)
    chroma = torch.zeros(len(mag), 12).index_add_(1, pc, mag[:, keep])
    return chroma.argmax(1)


def parse_caption(text: str) -> tuple[str, str]:
    """("C", "organ") from "C major chord, organ"; ("C#", "sine") from "C sharp note, sine"
    or "C# note, sine"."""
    head, _, timbre = text.partition(",")
    words = head.split()
    root = words[0] + ("#" if len(words) > 1 and words[1].lower() == "sharp" else "")
    return root, timbre.strip()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="a text2music run, export or shipped model name (tones-t2m)")
    p.add_argument("--data", required=True, help="ganforge data tones folder (captions + timbre sub-folders)")
    p.add_argument("-n", type=int, default=200, help="generated clips to judge")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="write the headline rows for bench/quality.py here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    pipe = ganforge.load(args.run, device="cpu")
    ctx = EvalContext(pipe, args.data, n=args.n, seed=args.seed, batch_size=50)
    judge = ctx.classifier("the timbre judge")
    fake = ctx.fake
    order = ctx.real_indices(len(ctx.real))
    prompts = [ctx.real.fields["text"][i] for i in order[torch.arange(len(fake)) % len(order)].tolist()]
    wanted = [parse_caption(t) for t in prompts]
    rate = pipe.modality.sample_rate

    wave = pipe.modality.to_waveform(fake).float().mean(1)
    root_hits = (chroma_argmax(wave, rate) == torch.tensor([PITCHES.index(r) for r, _ in wanted])).double()
    heard = judge.probs(fake).argmax(1).tolist()
    timbre_hits = torch.tensor([judge.class_names[h] == t for h, (_, t) in zip(heard, wanted)]).double()

    real_index = ctx.real_indices()
    real_wave = pipe.modality.to_waveform(ctx.real_x()).float().mean(1)
    real_roots = [parse_caption(ctx.real.fields["text"][i])[0] for i in real_index.tolist()]
    real_root_hits = (chroma_argmax(real_wave, rate) == torch.tensor([PITCHES.index(r) for r in real_roots])).double()

    one_second = max(1, math.ceil(rate / pipe.config["audio_length"]))
    pipe.generate(one_second, seed=0, prompts=["C major chord, organ"])  # warm-up
    times = []
    for k in range(5):
        start = time.perf_counter()
        pipe.generate(one_second, seed=k, prompts=["C major chord, organ"])
        times.append(time.perf_counter() - start)

    figures = {
        "root_acc": float(root_hits.mean()), "root_acc_real": float(real_root_hits.mean()),
        "timbre_acc": float(timbre_hits.mean()), "timbre_judge_acc": judge.accuracy,
        "latency_1s_audio_s": statistics.median(times), "n": len(fake), "threads": args.threads,
    }
    print(f"{args.run}: {len(fake)} clips from the real captions of {args.data}")
    print(f"  root is the strongest pitch class: {figures['root_acc']:.3f}  (real clips: "
          f"{figures['root_acc_real']:.3f}; target >= 0.8)")
    print(f"  timbre judge agrees with the prompt: {figures['timbre_acc']:.3f}  (judge's held-out accuracy "
          f"{judge.accuracy:.3f}; target >= 0.7)")
    print(f"  1 s of audio from a prompt: {figures['latency_1s_audio_s'] * 1000:.0f} ms  ({args.threads} threads; "
          f"target < 500 ms)")
    if args.json:
        from report import row, write_rows

        write_rows(args.json, [
            row("tones-t2m", "root = strongest pitch class", f"{figures['root_acc']:.2f}", "≥ 0.8",
                f"real clips {figures['root_acc_real']:.2f}"),
            row("tones-t2m", "timbre judge agrees", f"{figures['timbre_acc']:.2f}", "≥ 0.7",
                f"judge {judge.accuracy:.2f}"),
            row("tones-t2m", "latency, 1 s of audio (s)", f"{figures['latency_1s_audio_s']:.3f}", "< 0.5",
                f"{args.threads} threads"),
        ])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
