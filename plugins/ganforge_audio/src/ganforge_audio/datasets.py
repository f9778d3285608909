"""The "tones" demo data set: synthesized notes and chords in a few timbres.

``ganforge data tones --out data/tones`` writes 16 kHz mono WAV clips of 16384 samples
(WaveGAN's length) in class sub-folders (by timbre, or by chord type with ``by=chord``)
and a ``metadata.jsonl`` with a caption per clip ("C major chord, organ", "F# note,
sine"): the Hugging Face audiofolder layout, so conditional and captioned training work on
it (``text:hashed`` keeps the "#" of a word since ``encoder_words=symbols``; runs made
before it read "F#" as "F"). Chords are close triads of equal notes, or with ``voicing=bass`` the triad over its
root doubled an octave below, as most played voicings have it (then the root is the
loudest pitch class, as a listener expects of a chord named by its root). Everything
is computed here from a seed; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import ganforge

NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
CHORDS = {"note": [0], "major": [0, 4, 7], "minor": [0, 3, 7]}


def _partials(timbre: str, f0: float, nyquist: float) -> list[tuple[float, float, float]]:
    """(frequency, amplitude, decay rate per second) of each partial of one note."""
    if timbre == "sine":
        out = [(f0, 1.0, 1.5)]
    elif timbre == "organ":  # drawbar-like: fundamental, octave, twelfth, two octaves; steady
        out = [(f0 * k, a, 0.3) for k, a in ((1, 1.0), (2, 0.6), (3, 0.4), (4, 0.25), (6, 0.1))]
    elif timbre == "square":  # odd harmonics 1/k, band-limited (a clarinet-like reed)
        out = [(f0 * k, 1.0 / k, 0.8) for k in range(1, 16, 2)]
    elif timbre == "pluck":  # all harmonics, the higher ones dying faster (a plucked string)
        out = [(f0 * k, 1.0 / k, 2.0 + 1.5 * k) for k in range(1, 12)]
    elif timbre == "bell":  # inharmonic partials of a struck bar/bell, long ring
        out = [(f0 * r, a, 1.0 + r) for r, a in ((1.0, 1.0), (2.756, 0.6), (5.404, 0.35), (8.933, 0.2))]
    else:
        raise ValueError(timbre)
    return [p for p in out if p[0] < nyquist * 0.95]


def _clip(timbre: str, midi_notes: list[int], sample_rate: int, length: int, rng) -> np.ndarray:
    t = np.arange(length) / sample_rate
    out = np.zeros(length)
    for note in midi_notes:
        f0 = 440.0 * 2 ** ((note - 69) / 12) * (1 + rng.uniform(-0.003, 0.003))  # slight detune
        for freq, amp, decay in _partials(timbre, f0, sample_rate / 2):
            out += amp * np.exp(-decay * t) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    onset = int(rng.uniform(0, 0.05) * sample_rate)  # a little silence before the attack
    attack = np.clip(np.arange(length) / (0.01 * sample_rate), 0, 1)
    release = np.clip((length - np.arange(length)) / (0.05 * sample_rate), 0, 1)
    out = out * attack * release
    out = np.concatenate([np.zeros(onset), out[: length - onset]])
    return (out / (np.abs(out).max() + 1e-9) * rng.uniform(0.5, 0.9)).astype(np.float32)


def caption_name(pitch_class: int) -> str:
    """The caption's spelling of a pitch class: "C", "C#" ..."""
    return NOTE_NAMES[pitch_class % 12]


def make_tones(out_dir, n: int = 180, by: str = "timbre", sample_rate: int = 16000, length: int = 16384,
               timbres: str = "sine,organ,square,pluck,bell", voicing: str = "close", seed: int = 0) -> Path:
    """Write ``n`` clips to ``out_dir`` (which must be new or empty); return ``out_dir``.

    Clips cycle through every (timbre, chord type) pair so classes stay balanced; roots
    are the 12 pitch classes in octaves 3 to 5. ``by``: "timbre" or "chord" names the
    class sub-folders. ``voicing``: "close" (three equal notes) or "bass" (roots in
    octaves 4 and 5, chords with the root again an octave below: C3 is still the lowest
    note)."""
    import soundfile

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ganforge.GanforgeError(f"{out} exists and is not an empty folder; choose a new --out")
    if by not in ("timbre", "chord"):
        raise ganforge.GanforgeError(f"tones option 'by' is '{by}'; use timbre or chord")
    if voicing not in ("close", "bass"):
        raise ganforge.GanforgeError(f"tones option 'voicing' is '{voicing}'; use close or bass")
    kinds = [t.strip() for t in str(timbres).split(",") if t.strip()]
    for kind in kinds:
        if kind not in ("sine", "organ", "square", "pluck", "bell"):
            raise ganforge.GanforgeError(f"tones timbre '{kind}' is unknown; use sine, organ, square, pluck, bell")
    n = int(n)
    if n < 1:
        raise ganforge.GanforgeError("tones option 'n' must be at least 1")
    rng = np.random.default_rng(int(seed))
    # walk the (timbre, chord) pairs diagonally so any prefix of the data set has every
    # timbre and every chord type about equally often
    chords = list(CHORDS)
    span = np.lcm(len(kinds), len(chords))
    combos = [(kinds[r % len(kinds)], chords[(r + r // span) % len(chords)]) for r in range(len(kinds) * len(chords))]
    rows = []
    for i in range(n):
        timbre, chord = combos[i % len(combos)]
        if voicing == "close":
            root = int(rng.integers(0, 12)) + 12 * int(rng.integers(4, 7))  # MIDI 48..83: C3..B5
            notes = [root + step for step in CHORDS[chord]]
        else:
            root = int(rng.integers(0, 12)) + 12 * int(rng.integers(5, 7))  # MIDI 60..83: C4..B5
            notes = [root + step for step in CHORDS[chord]]
            notes = notes if chord == "note" else [root - 12, *notes]
        audio = _clip(timbre, notes, int(sample_rate), int(length), rng)
        name = NOTE_NAMES[root % 12]
        text = f"{caption_name(root)} {'note' if chord == 'note' else chord + ' chord'}, {timbre}"
        folder = timbre if by == "timbre" else chord
        file = out / folder / f"{i:04d}.wav"
        file.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(file), audio, int(sample_rate), subtype="PCM_16")
        rows.append({"file_name": f"{folder}/{file.name}", "text": text,
                     "timbre": timbre, "chord": chord, "root": name, "midi": notes})
    with (out / "metadata.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return out
