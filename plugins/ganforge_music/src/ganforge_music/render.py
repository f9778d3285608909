"""Rolls to things a person opens: piano-roll PNGs and WAV audio.

Audio comes from FluidSynth with a General MIDI SoundFont when both are installed (Debian:
``apt-get install fluidsynth fluid-soundfont-gm``; found automatically), otherwise from a
small additive synthesiser here (a timbre per track, drums from noise and a pitched kick),
written with soundfile.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ganforge import GanforgeError

from .midi import Grid, notes_of, write_midi

SAMPLE_RATE = 22050
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2")
TRACK_COLOURS = [(230, 85, 70), (70, 130, 230), (90, 190, 90), (240, 180, 40), (170, 90, 210),
                 (60, 200, 200), (200, 120, 60), (150, 150, 150)]


# ---------------------------------------------------------------------------- piano-roll pictures


def roll_image(phrase: np.ndarray, grid: Grid, scale: tuple[int, int] = (4, 3)):
    """A PIL image of a phrase ``[tracks, bars, steps, pitches]``: one band per track (low
    pitches at the bottom), grey bar lines, the track's name in its colour."""
    from PIL import Image, ImageDraw

    tracks, bars, steps, pitches = phrase.shape
    sx, sy = scale
    label_w, gap = 56, 3
    width = label_w + bars * steps * sx
    band = pitches * sy
    height = tracks * (band + gap)
    img = np.full((height, width, 3), 250, dtype=np.uint8)
    for k in range(tracks):
        top = k * (band + gap)
        colour = np.array(TRACK_COLOURS[k % len(TRACK_COLOURS)], dtype=np.uint8)
        roll = phrase[k].reshape(bars * steps, pitches)[:, ::-1].T  # [pitch (high first), time]
        img[top:top + band, label_w:] = 235
        for octave in range(0, pitches, 12):  # a faint line at every C
            row = top + (pitches - 1 - octave) * sy
            img[row + sy - 1, label_w:] = 222
        for b in range(bars + 1):  # bar lines under the notes, so a note on the downbeat shows whole
            x = min(label_w + b * steps * sx, width - 1)
            img[top:top + band, x] = 120
        cells = np.kron(roll, np.ones((sy, sx), dtype=bool))
        area = img[top:top + band, label_w:]
        area[cells] = colour
    picture = Image.fromarray(img)
    draw = ImageDraw.Draw(picture)
    for k, name in enumerate(grid.names[:tracks]):
        draw.text((3, k * (band + gap) + band // 2 - 5), name[:8], fill=TRACK_COLOURS[k % len(TRACK_COLOURS)])
    return picture


def save_roll_png(phrase: np.ndarray, grid: Grid, path: Path, info: str = "") -> Path:
    picture = roll_image(phrase, grid)
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    if info:
        meta.add_text("ganforge", info)
    picture.save(path, pnginfo=meta)
    return Path(path)


def save_roll_grid(phrases: np.ndarray, grid: Grid, path: Path, labels=None, columns: int = 4) -> Path:
    """Several phrases in one PNG, ``columns`` across, each with its label above when given."""
    from PIL import Image, ImageDraw

    pictures = [roll_image(p, grid, scale=(2, 2)) for p in phrases]
    w, h = pictures[0].size
    head = 12 if labels else 0
    cols = min(columns, len(pictures))
    rows = -(-len(pictures) // cols)
    sheet = Image.new("RGB", (cols * (w + 8), rows * (h + head + 8)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, pic in enumerate(pictures):
        x, y = (i % cols) * (w + 8), (i // cols) * (h + head + 8)
        if labels:
            draw.text((x + 2, y), str(labels[i])[:60], fill=(0, 0, 0))
        sheet.paste(pic, (x, y + head))
    sheet.save(path)
    return Path(path)


# ---------------------------------------------------------------------------- audio


def find_fluidsynth() -> tuple[str, str] | None:
    """(fluidsynth executable, a General MIDI SoundFont) when both are installed; the
    SoundFont may be named by ``GANFORGE_SOUNDFONT``."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        return None
    wanted = os.environ.get("GANFORGE_SOUNDFONT")
    for font in ((wanted,) if wanted else ()) + SOUNDFONTS:
        if font and Path(font).is_file():
            return exe, font
    return None


def render_wav(phrase: np.ndarray, grid: Grid, path: Path, tempo: float, synth: str = "auto") -> str:
    """Write the phrase ``[tracks, bars, steps, pitches]`` as a 16-bit WAV; returns which
    synthesiser made it ("fluidsynth" or "builtin"). ``synth``: auto, fluidsynth or builtin."""
    import soundfile

    if synth not in ("auto", "fluidsynth", "builtin"):
        raise GanforgeError(f"option 'synth' takes auto, fluidsynth or builtin, got '{synth}'")
    roll = phrase.reshape(phrase.shape[0], -1, phrase.shape[-1])
    found = find_fluidsynth() if synth != "builtin" else None
    if synth == "fluidsynth" and found is None:
        raise GanforgeError("synth=fluidsynth but FluidSynth or a General MIDI SoundFont is not installed "
                            "(apt-get install fluidsynth fluid-soundfont-gm); use synth=auto or builtin")
    if found is not None:
        exe, font = found
        with tempfile.TemporaryDirectory() as tmp:
            mid = write_midi(roll, Path(tmp) / "x.mid", grid, tempo=tempo)
            done = subprocess.run([exe, "-ni", "-q", "-g", "0.6", "-r", str(SAMPLE_RATE), "-F", str(path), font,
                                   str(mid)], capture_output=True, timeout=120)
        if done.returncode == 0 and Path(path).is_file() and Path(path).stat().st_size > 44:
            return "fluidsynth"
        if synth == "fluidsynth":
            raise GanforgeError(f"fluidsynth failed: {done.stderr.decode(errors='replace').strip()[:200]}")
    audio = synthesise(roll, grid, tempo)
    soundfile.write(str(path), audio, SAMPLE_RATE, subtype="PCM_16")
    return "builtin"


def synthesise(roll: np.ndarray, grid: Grid, tempo: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """An additive rendering of a roll ``[tracks, steps, pitches]``: float32 mono in [-1, 1]."""
    step_s = 60.0 / float(tempo) / grid.beat_resolution
    n = int((roll.shape[1] * step_s + 1.0) * sample_rate)
    out = np.zeros(n, dtype=np.float64)
    for k, track in enumerate(grid.tracks):
        for s, e, p in notes_of(roll[k]):
            start = int(s * step_s * sample_rate)
            pitch = grid.lowest_pitch + p
            # the same sound recurs often (every hat, every repeated note): each is made once
            wave = _drum(pitch, sample_rate) if track.drums else _tone(track.name, pitch, (e - s) * step_s, sample_rate)
            end = min(n, start + len(wave))
            out[start:end] += wave[:end - start]
    peak = np.abs(out).max()
    if peak > 0:
        out *= 0.8 / peak
    return out.astype(np.float32)


@functools.lru_cache(maxsize=4096)
def _tone(kind: str, pitch: int, dur: float, sr: int) -> np.ndarray:
    freq = 440.0 * 2 ** ((pitch - 69) / 12)
    release = 0.08
    t = np.arange(int((dur + release) * sr)) / sr
    if kind == "bass":
        partials, decay, attack, level = [1, 0.5, 0.25], 1.5, 0.005, 0.5
    elif kind == "strings":
        partials, decay, attack, level = [1, 0.5, 0.33, 0.25, 0.2], 0.0, 0.08, 0.16
    elif kind == "melody":
        partials, decay, attack, level = [1, 0.0, 0.33, 0.0, 0.2], 0.5, 0.01, 0.3
    else:  # piano, guitar and anything else: bright attack, decaying
        partials, decay, attack, level = [1, 0.6, 0.3, 0.15], 3.0, 0.003, 0.22
    wave = sum(a * np.sin(2 * np.pi * freq * (h + 1) * t) for h, a in enumerate(partials) if a)
    env = np.minimum(1.0, t / attack) * np.exp(-decay * t)
    env[t > dur] *= np.exp(-(t[t > dur] - dur) / (release / 4))
    return level * wave * env


@functools.lru_cache(maxsize=256)
def _drum(pitch: int, sr: int) -> np.ndarray:
    t = np.arange(int(0.25 * sr)) / sr
    if pitch in (35, 36):  # kick: a falling sine
        return 0.9 * np.sin(2 * np.pi * (50 + 60 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    noise = np.random.default_rng(pitch).standard_normal(len(t))
    if pitch in (38, 40, 37, 39):  # snare, rim, clap: noise and a body
        return 0.5 * (noise * np.exp(-t * 25) + np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30))
    if pitch in (41, 43, 45, 47, 48, 50):  # toms
        return 0.6 * np.sin(2 * np.pi * (80 + 10 * (pitch - 41)) * t) * np.exp(-t * 15)
    hp = np.diff(noise, prepend=0.0)  # cymbals and hats: bright noise, short or long
    return 0.18 * hp * np.exp(-t * (8 if pitch in (49, 51, 52, 55, 57, 59) else 45))
