"""MuseGAN's metrics and prompt agreement on hand-made rolls with known answers."""

import math

import numpy as np
import pytest
import torch

from ganforge_music.metrics import (drum_pattern, empty_bars, estimate_chord_root, estimate_key, key_of_caption,
                                    musegan_metrics, numeral_root, progression_of_caption, prompt_agreement_of,
                                    qualified_notes, tonal_distance, used_pitch_classes)
from ganforge_music.midi import DEFAULT_TRACKS, Grid, parse_tracks
from ganforge_music.modality import MusicModality, binarise

GRID = Grid(tuple(parse_tracks(DEFAULT_TRACKS)))
T, BARS, S, P = 5, 4, 16, 48


def empty():
    return np.zeros((1, T, BARS, S, P), dtype=bool)


def test_empty_bars():
    r = empty()
    r[0, 1, 2, 0, 10] = True  # bass plays in one bar of four
    r[0, 4, :, 3, 20] = True  # melody in every bar
    assert empty_bars(r).tolist() == [1.0, 0.75, 1.0, 1.0, 0.0]


def test_used_pitch_classes_per_non_empty_bar():
    r = empty()
    r[0, 2, 0, :, [24, 28, 31]] = True  # a C major triad in bar 0: 3 pitch classes
    r[0, 2, 1, :, [24, 36]] = True  # two Cs an octave apart in bar 1: 1 pitch class
    upc = used_pitch_classes(r)
    assert upc[2] == 2.0 and math.isnan(upc[3])


def test_qualified_notes_counts_notes_of_at_least_min_steps():
    r = empty()
    r[0, 4, 0, 0:1, 5] = True  # 1 step
    r[0, 4, 0, 4:7, 5] = True  # 3 steps
    r[0, 4, 1, 0:8, 9] = True  # 8 steps
    r[0, 4, 2, 2:4, 9] = True  # 2 steps
    assert qualified_notes(r, 3)[4] == 0.5
    assert qualified_notes(r, 1)[4] == 1.0


def test_drum_pattern_weights_eighths_and_sixteenths():
    drums = np.zeros((1, 1, 16, P), dtype=bool)
    drums[0, 0, [0, 1, 2, 3], 0] = True  # one beat of sixteenths: 2 on the eighth grid, 2 off it
    assert drum_pattern(drums, 4) == pytest.approx((1 + 0.1 + 1 + 0.1) / 4)
    drums[:] = False
    drums[0, 0, ::2, 0] = True  # straight eighths
    assert drum_pattern(drums, 4) == 1.0
    assert math.isnan(drum_pattern(np.zeros_like(drums), 4))


def test_tonal_distance_known_values():
    a = np.zeros((1, 1, S, P), dtype=bool)
    b = np.zeros_like(a)
    a[0, 0, :, 0] = True  # C
    b[0, 0, :, 6] = True  # F#: the tritone; fifths and major thirds circles opposite, minor-thirds equal
    assert tonal_distance(a, b) == pytest.approx(math.sqrt(8))
    assert tonal_distance(a, a) == 0.0
    assert math.isnan(tonal_distance(a, np.zeros_like(a)))


def test_caption_parsing():
    assert key_of_caption("slow blues in A minor with walking bass, i-iv-i-i") == (9, "minor")
    assert key_of_caption("upbeat rock in E major") == (4, "major")
    assert key_of_caption("pop in F# major") == (6, "major") and key_of_caption("in Bb minor") == (10, "minor")
    assert key_of_caption("a happy tune") is None
    assert progression_of_caption("upbeat pop in C major, I-V-vi-IV") == ["I", "V", "vi", "IV"]
    assert progression_of_caption("slow blues in A minor") is None
    assert numeral_root("vi", 0, "major") == 9 and numeral_root("VII", 9, "minor") == 7


def test_key_and_chord_estimates():
    pcs = np.zeros(12)
    for pc, w in zip([0, 2, 4, 5, 7, 9, 11], [5, 2, 3, 2, 4, 2, 1]):  # C major scale, tonic and fifth weighted
        pcs[pc] = w
    assert estimate_key(pcs) == (0, "major")
    chroma = np.zeros(12)
    chroma[[2, 5, 9]] = 1  # D minor triad
    assert estimate_chord_root(chroma) == 2
    assert estimate_key(np.zeros(12)) is None


def test_metrics_of_the_band_data_and_agreement_with_its_own_captions(band):
    modality = MusicModality({})
    data = modality.load(band)
    rolls = binarise(data.batch(torch.arange(len(data)))["x"]).numpy()
    m = musegan_metrics(rolls, modality.grid)
    assert m["eb[drums]"] == 0 and m["eb[bass]"] == 0 and m["qn[melody]"] == 100
    assert 1.5 <= m["upc[bass]"] <= 3 and m["dp"] > 80
    right = prompt_agreement_of(rolls, data.fields["text"], modality.grid)
    wrong = prompt_agreement_of(rolls, [t.replace(" in ", " in F# major or ") for t in data.fields["text"]],
                                modality.grid)
    assert right["chord_agreement"] > 0.9 and right["key_agreement"] >= 0.5
    assert wrong["key_agreement"] < right["key_agreement"]
