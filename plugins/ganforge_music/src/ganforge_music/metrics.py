"""MuseGAN's metrics (Dong et al. 2018, section "Objective metrics") and prompt agreement.

On binary rolls ``[N, tracks, bars, steps, pitches]``, per track:

- **EB**, empty bars: the share of bars without a note (%).
- **UPC**, used pitch classes: pitch classes sounding per non-empty bar (0-12; drums left out).
- **QN**, qualified notes: the share of notes at least a 32nd note long, the paper's 3 steps at
  24 steps per beat, i.e. ``ceil(beat_resolution / 8)`` steps; at 4 steps per beat every note
  qualifies, so QN is 100% by construction there (use ``beat_resolution`` 12 or 24 to learn from it).
- **DP**, drum pattern: the share of drum hits on the eighth-note grid, counting hits on the
  other sixteenths at 0.1 (pypianoroll's ``drum_in_pattern_rate`` with its tolerance 0.1).
- **TD**, tonal distance (Harte et al. 2006) between two pitched tracks: per bar, both
  tracks' chroma (L1-normalised) mapped to the 6-D tonal centroid space, Euclidean distance,
  averaged over bars where both tracks play. Lower means more harmonically related.

Prompt agreement reads captions that name a key (``... in A minor ...``) and a progression
in roman numerals (``I-V-vi-IV``): the key of a generated phrase is estimated with the
Krumhansl-Kessler profiles, each bar's chord by triad templates; both are compared with
the prompt's. The same estimates on the real phrases against their own captions give the
ceiling of what the estimators can confirm.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from ganforge import GanforgeError

from .midi import Grid, notes_of
from .modality import binarise

# ---------------------------------------------------------------------------- per-metric functions


def empty_bars(rolls: np.ndarray) -> np.ndarray:
    """[N, T, bars, S, P] -> share of empty bars per track [T]."""
    return (~rolls.any((3, 4))).mean((0, 2))


def used_pitch_classes(rolls: np.ndarray) -> np.ndarray:
    """Mean number of pitch classes used per non-empty bar, per track [T] (NaN: no such bar)."""
    n, t, bars, s, p = rolls.shape
    pcs = rolls.any(3).reshape(n, t, bars, p // 12, 12).any(3).sum(-1).astype(float)  # [N, T, bars]
    busy = rolls.any((3, 4))
    out = np.full(t, np.nan)
    for k in range(t):
        if busy[:, k].any():
            out[k] = pcs[:, k][busy[:, k]].mean()
    return out


def qualified_notes(rolls: np.ndarray, min_steps: int) -> np.ndarray:
    """Share of notes at least ``min_steps`` long, per track [T] (NaN: no notes)."""
    n, t, bars, s, p = rolls.shape
    out = np.full(t, np.nan)
    for k in range(t):
        lengths = [e - a for i in range(n) for a, e, _ in notes_of(rolls[i, k].reshape(bars * s, p))]
        if lengths:
            out[k] = float(np.mean(np.asarray(lengths) >= min_steps))
    return out


def drum_pattern(drums: np.ndarray, beat_resolution: int, tolerance: float = 0.1) -> float:
    """Drum hits (active cells) [N, bars, S, P] on the eighth-note grid, hits on other
    sixteenths counted at ``tolerance``, over all hits; NaN without hits."""
    total = drums.sum()
    if total == 0:
        return float("nan")
    weights = np.zeros(beat_resolution)
    for pos in range(beat_resolution):
        x = pos / beat_resolution  # position within the beat
        if abs(x * 2 - round(x * 2)) < 1e-9:
            weights[pos] = 1.0
        elif abs(x * 4 - round(x * 4)) < 1e-9:
            weights[pos] = tolerance
    per_cell = drums.sum(-1).reshape(-1, beat_resolution).sum(0)  # active cells per position in the beat
    return float((per_cell * weights).sum() / total)


def _tonal_matrix(radii=(1.0, 1.0, 0.5)) -> np.ndarray:
    r1, r2, r3 = radii
    l = np.arange(12)
    return np.stack([r1 * np.sin(l * 7 * math.pi / 6), r1 * np.cos(l * 7 * math.pi / 6),
                     r2 * np.sin(l * 3 * math.pi / 2), r2 * np.cos(l * 3 * math.pi / 2),
                     r3 * np.sin(l * 2 * math.pi / 3), r3 * np.cos(l * 2 * math.pi / 3)])


TONAL = _tonal_matrix()


def bar_chroma(track: np.ndarray) -> np.ndarray:
    """[N, bars, S, P] -> [N, bars, 12] active-cell counts per pitch class."""
    n, bars, s, p = track.shape
    return track.sum(2).reshape(n, bars, p // 12, 12).sum(2).astype(float)


def tonal_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean tonal distance over bars where both tracks [N, bars, S, P] play; NaN when none."""
    ca, cb = bar_chroma(a).reshape(-1, 12), bar_chroma(b).reshape(-1, 12)
    both = (ca.sum(1) > 0) & (cb.sum(1) > 0)
    if not both.any():
        return float("nan")
    ca, cb = ca[both] / ca[both].sum(1, keepdims=True), cb[both] / cb[both].sum(1, keepdims=True)
    return float(np.linalg.norm(ca @ TONAL.T - cb @ TONAL.T, axis=1).mean())


def musegan_metrics(rolls: np.ndarray, grid: Grid) -> dict:
    """Every MuseGAN metric of a set of rolls, keyed ``eb[track]``, ``upc[track]``, ``qn[track]``,
    ``dp``, ``td[a,b]`` (empty-bar and qualified-note shares in %)."""
    names = grid.names
    drums = [k for k, t in enumerate(grid.tracks) if t.drums]
    pitched = [k for k, t in enumerate(grid.tracks) if not t.drums]
    out: dict = {}
    for k, v in enumerate(empty_bars(rolls)):
        out[f"eb[{names[k]}]"] = 100 * float(v)
    upc = used_pitch_classes(rolls)
    qn = qualified_notes(rolls, max(1, math.ceil(grid.beat_resolution / 8)))
    for k in pitched:
        out[f"upc[{names[k]}]"] = float(upc[k])
        out[f"qn[{names[k]}]"] = 100 * float(qn[k])
    if drums:
        out["dp"] = 100 * drum_pattern(rolls[:, drums[0]], grid.beat_resolution)
    for i, a in enumerate(pitched):
        for b in pitched[i + 1:]:
            out[f"td[{names[a]},{names[b]}]"] = tonal_distance(rolls[:, a], rolls[:, b])
    return out


# ---------------------------------------------------------------------------- keys and chords

KEY_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
_KEY_RE = re.compile(r"\b([A-Ga-g])(#|b|sharp|flat|♯|♭)?[\s-]+(major|minor)\b", re.IGNORECASE)
_NUMERAL_RE = re.compile(r"\b((?:b?(?:vii|vi|iv|v|iii|ii|i|VII|VI|IV|V|III|II|I)7?)(?:-(?:b?(?:vii|vi|iv|v|iii|ii|i|VII|VI|IV|V|III|II|I)7?))+)\b")
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii"]


def key_of_caption(text: str) -> tuple[int, str] | None:
    """(tonic pitch class, "major"/"minor") named in a caption, or None."""
    m = _KEY_RE.search(text or "")
    if not m:
        return None
    letter, accidental, mode = m.group(1).upper(), (m.group(2) or "").lower(), m.group(3).lower()
    pc = _PC[letter] + (1 if accidental in ("#", "sharp", "♯") else -1 if accidental in ("b", "flat", "♭") else 0)
    return pc % 12, mode


def progression_of_caption(text: str) -> list[str] | None:
    """The roman numerals of a progression written with hyphens (``I-V-vi-IV``), or None."""
    m = _NUMERAL_RE.search(text or "")
    return m.group(1).split("-") if m else None


def numeral_root(numeral: str, tonic: int, mode: str) -> int:
    """Pitch class of a numeral's root in a key (a leading b lowers it)."""
    flat = numeral.startswith("b")
    base = numeral.lstrip("b").rstrip("7").lower()
    return (tonic + SCALES[mode][_ROMAN.index(base)] - flat) % 12


def pitch_class_profile(roll: np.ndarray, pitched: list[int], bass: int | None = None) -> np.ndarray:
    """[T, bars, S, P] -> 12 weights of active cells over the pitched tracks (bass counted twice)."""
    t, bars, s, p = roll.shape
    pcs = np.zeros(12)
    for k in pitched:
        pcs += roll[k].sum((0, 1)).reshape(p // 12, 12).sum(0) * (2 if k == bass else 1)
    return pcs


def estimate_key(pcs: np.ndarray) -> tuple[int, str] | None:
    """Krumhansl-Kessler: the key whose rotated profile correlates best with the pitch classes."""
    if pcs.sum() == 0 or np.allclose(pcs, pcs[0]):
        return None
    best, best_r = None, -2.0
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = np.corrcoef(pcs, np.roll(profile, tonic))[0, 1]
            if r > best_r:
                best, best_r = (tonic, mode), r
    return best


def estimate_chord_root(chroma: np.ndarray) -> int | None:
    """The root of the major or minor triad that covers most of one bar's chroma (12 weights)."""
    if chroma.sum() == 0:
        return None
    best, score = None, -1.0
    for root in range(12):
        for third in (3, 4):
            s = chroma[root] * 1.2 + chroma[(root + third) % 12] + chroma[(root + 7) % 12]
            if s > score:
                best, score = root, s
    return best


def prompt_agreement_of(rolls: np.ndarray, captions: list[str], grid: Grid) -> dict:
    """Key and chord agreement of rolls [N, T, bars, S, P] with the captions they were made for."""
    pitched = [k for k, t in enumerate(grid.tracks) if not t.drums]
    bass = grid.names.index("bass") if "bass" in grid.names else None
    key_hits = tonic_hits = keyed = 0
    chord_hits = chord_bars = 0
    for roll, caption in zip(rolls, captions):
        key = key_of_caption(caption)
        if key is None:
            continue
        keyed += 1
        guess = estimate_key(pitch_class_profile(roll, pitched, bass))
        key_hits += guess == key
        # the right tonic, whatever the mode (A major for A minor)
        tonic_hits += guess is not None and guess[0] == key[0]
        numerals = progression_of_caption(caption)
        if numerals:
            for bar in range(roll.shape[1]):
                want = numeral_root(numerals[bar % len(numerals)], *key)
                chroma = np.zeros(12)
                for k in pitched:
                    chroma += bar_chroma(roll[k][None, bar:bar + 1])[0, 0] * (2 if k == bass else 1)
                chord_bars += 1
                chord_hits += estimate_chord_root(chroma) == want
    out: dict = {}
    if keyed:
        out["key_agreement"] = key_hits / keyed
        out["tonic_agreement"] = tonic_hits / keyed
    if chord_bars:
        out["chord_agreement"] = chord_hits / chord_bars
    return out


# ---------------------------------------------------------------------------- ganforge metrics


def _grid(ctx) -> Grid:
    return ctx.modality.grid


def _is_track_conditional(pipeline) -> bool:
    encoder = getattr(pipeline, "encoder", None)
    return encoder is not None and getattr(encoder, "condition_key", None) == "x"


def generated_rolls(ctx) -> np.ndarray:
    """ctx.n generated phrases as bool rolls. A track-conditional run is given the fixed
    tracks of the same real phrases the comparison uses (the core only knows class and
    caption conditions)."""
    if not _is_track_conditional(ctx.pipeline):
        return binarise(ctx.fake).numpy()
    key = ("music", "track-fake", ctx.n)
    cache = ctx.options.setdefault("_music_cache", {})
    if key not in cache:
        pipe, parts = ctx.pipeline, []
        index = ctx.real_indices()
        with torch.no_grad():
            for i, s in enumerate(range(0, len(index), ctx.batch_size)):
                real = ctx.real.batch(index[s:s + ctx.batch_size])["x"]
                cond = pipe.encoder(real.to(pipe.device))
                g = torch.Generator().manual_seed(ctx.seed + i)
                parts.append(pipe.generator.generate(len(real), cond=cond, generator=g).cpu())
        cache[key] = binarise(torch.cat(parts)).numpy()
    return cache[key]


def real_rolls(ctx) -> np.ndarray:
    return binarise(ctx.real_x()).numpy()


def musegan(ctx) -> dict:
    """MuseGAN's metrics (EB, UPC, QN, DP, TD) of generated phrases, and of as many real ones
    (``..._real``) to compare with."""
    grid = _grid(ctx)
    fake, real = generated_rolls(ctx), real_rolls(ctx)
    out: dict = {"musegan_n": len(fake)}
    f, r = musegan_metrics(fake, grid), musegan_metrics(real, grid)
    for k in f:
        out[k] = f[k]
        out[f"{k}_real"] = r[k]
    if grid.beat_resolution < 8:
        out["qn_note"] = f"at {grid.beat_resolution} steps per beat every note is a 32nd or longer: QN is 100% by construction"
    return out


def prompt_agreement(ctx) -> dict:
    """For a run conditioned on captions: how often the key (and, where the caption gives
    one, each bar's chord root) of a generated phrase is the one its prompt names; with the
    same estimate on the real phrases against their own captions (``..._real``) as the
    ceiling and chance beside them."""
    encoder = getattr(ctx.pipeline, "encoder", None)
    if encoder is None or getattr(encoder, "condition_key", None) != "text":
        return {"prompt_agreement": "n/a: the run is not conditioned on captions (--set encoder=text:...)"}
    real = ctx.real
    if "text" not in real.fields:
        raise GanforgeError(f"prompt-agreement needs captions beside the data in {ctx.data_path} (metadata.jsonl)")
    texts = real.fields["text"]
    order = ctx.real_indices(len(real)).tolist()
    fake = generated_rolls(ctx)
    prompts = [texts[order[i % len(order)]] for i in range(len(fake))]  # what ctx.generated gave each sample
    grid = _grid(ctx)
    out = prompt_agreement_of(fake, prompts, grid)
    index = ctx.real_indices().tolist()
    real_out = prompt_agreement_of(real_rolls(ctx), [texts[i] for i in index], grid)
    if not out:
        return {"prompt_agreement": "n/a: the captions name no key ('in A minor')"}
    for k, v in real_out.items():
        out[f"{k}_real"] = v
    out["key_agreement_chance"] = 1 / 24
    out["tonic_agreement_chance"] = 1 / 12
    if "chord_agreement" in out:
        out["chord_agreement_chance"] = 1 / 12
    return out
