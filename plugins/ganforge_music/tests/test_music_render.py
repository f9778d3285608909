"""Audio and pictures of rolls: the built-in synthesiser's pitch, FluidSynth when installed, PNGs."""

import numpy as np
import pytest
import soundfile
from PIL import Image

from ganforge import GanforgeError
from ganforge_music import render
from ganforge_music.midi import DEFAULT_TRACKS, Grid, parse_tracks

GRID = Grid(tuple(parse_tracks(DEFAULT_TRACKS)))


def one_note(track: str, pitch: int) -> np.ndarray:
    phrase = np.zeros((5, 4, 16, 48), dtype=bool)
    phrase[GRID.names.index(track), 0, 0:16, pitch - GRID.lowest_pitch] = True  # a whole bar
    return phrase


def test_builtin_synth_plays_the_right_pitch(tmp_path):
    path = tmp_path / "a.wav"
    assert render.render_wav(one_note("melody", 69), GRID, path, tempo=120, synth="builtin") == "builtin"
    audio, rate = soundfile.read(str(path))
    assert rate == render.SAMPLE_RATE and len(audio) == int((64 * 0.125 + 1.0) * rate)  # 4 bars at 120 BPM + tail
    bar = audio[: rate * 2]
    spectrum = np.abs(np.fft.rfft(bar))
    assert abs(np.fft.rfftfreq(len(bar), 1 / rate)[spectrum.argmax()] - 440) < 2
    assert np.abs(audio[rate * 3:rate * 8]).max() < 1e-3  # silent after the bar ends


def test_fluidsynth_asked_for_but_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "find_fluidsynth", lambda: None)
    with pytest.raises(GanforgeError, match="apt-get install fluidsynth"):
        render.render_wav(one_note("piano", 60), GRID, tmp_path / "a.wav", tempo=120, synth="fluidsynth")
    assert render.render_wav(one_note("piano", 60), GRID, tmp_path / "b.wav", tempo=120, synth="auto") == "builtin"


@pytest.mark.skipif(render.find_fluidsynth() is None, reason="FluidSynth and a GM SoundFont are not installed")
def test_fluidsynth_renders_when_installed(tmp_path):
    path = tmp_path / "a.wav"
    assert render.render_wav(one_note("strings", 57), GRID, path, tempo=120, synth="auto") == "fluidsynth"
    audio, rate = soundfile.read(str(path))
    assert rate == render.SAMPLE_RATE and np.abs(audio).max() > 0.01


def test_piano_roll_png_shows_the_notes(tmp_path):
    path = render.save_roll_png(one_note("bass", 40), GRID, tmp_path / "a.png", info="{}")
    image = np.asarray(Image.open(path).convert("RGB"))
    blue = np.all(image == render.TRACK_COLOURS[GRID.names.index("bass")], axis=-1)
    assert blue.sum() == 16 * 4 * 3  # one bar of one pitch: 16 steps x (4 x 3) pixels
