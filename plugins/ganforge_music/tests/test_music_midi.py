"""MIDI files <-> piano rolls: round trips, quantisation, odd files, skipped files."""

import mido
import numpy as np
import pytest
import torch

from ganforge import GanforgeError
from ganforge_music.midi import DEFAULT_TRACKS, Grid, notes_of, parse_tracks, phrases, read_midi, write_midi
from ganforge_music.modality import MusicModality

GRID = Grid(tuple(parse_tracks(DEFAULT_TRACKS)))  # drums, bass, piano, strings, melody; 4 steps a beat
TPB = 480


def write_file(path, parts, tempo_changes=((0, 120),), tpb=TPB):
    """parts: [(channel, program, [(start beat, end beat, pitch), ...])]; tempo_changes: [(tick, bpm)]."""
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    head = mido.MidiTrack()
    now = 0
    for tick, bpm in tempo_changes:
        head.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - now))
        now = tick
    midi.tracks.append(head)
    for channel, program, notes in parts:
        track = mido.MidiTrack()
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        events = []
        for a, b, p in notes:
            zero = a == b  # a zero-length note: its on comes before its off at the same tick
            events.append((round(a * tpb), 0 if zero else 1, mido.Message("note_on", channel=channel, note=p, velocity=80)))
            events.append((round(b * tpb), 1 if zero else 0, mido.Message("note_off", channel=channel, note=p, velocity=0)))
        now = 0
        for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def test_round_trip_keeps_notes_within_quantisation(tmp_path):
    # off-grid by less than half a step (1/8 beat): each lands on its nearest step
    bass = [(0.05, 0.98, 40), (1.0, 2.0, 43), (2.1, 3.9, 45), (4.0, 8.0, 38)]
    piano = [(0, 4, 60), (0, 4, 64), (0, 4, 67), (4.5, 5.0, 72)]
    path = write_file(tmp_path / "a.mid", [(0, 33, bass), (1, 0, piano)])
    roll = read_midi(path, GRID)
    assert roll.shape == (5, 32, 48)  # two bars of 16 steps
    got = {(GRID.names[k], s, e, p + 36) for k in range(5) for s, e, p in notes_of(roll[k])}
    want = {("bass", round(a * 4), round(b * 4), p) for a, b, p in bass} | \
           {("piano", round(a * 4), round(b * 4), p) for a, b, p in piano}
    assert got == want
    again = read_midi(write_midi(roll, tmp_path / "b.mid", GRID, tempo=100), GRID)
    assert np.array_equal(roll, again)
    # and the written file holds the notes at the written times
    midi = mido.MidiFile(str(tmp_path / "b.mid"))
    assert midi.ticks_per_beat == TPB and any(m.type == "set_tempo" for m in midi.tracks[0])


def test_tracks_go_by_general_midi_family_and_notes_fold_into_range(tmp_path):
    path = write_file(tmp_path / "a.mid", [(9, 0, [(0, 0.25, 36)]), (2, 48, [(0, 1, 60)]), (3, 73, [(0, 1, 100)]),
                                           (4, 120, [(0, 1, 20)])])
    roll = read_midi(path, GRID)
    assert roll[GRID.names.index("drums"), 0, 0]  # channel 10: drums, pitch 36 at row 0
    assert roll[GRID.names.index("strings"), 0, 60 - 36]
    melody = roll[GRID.names.index("melody")]
    assert melody[0, 100 - 24 - 36] and melody[0, 20 + 24 - 36]  # folded by octaves into 36..83
    assert melody.sum() == 8  # programs 73 and 120 both go to melody: two notes of a beat (4 steps)


def test_zero_length_notes_last_one_step_and_tempo_changes_do_not_move_the_grid(tmp_path):
    path = write_file(tmp_path / "a.mid", [(0, 0, [(1, 1, 60), (2, 3, 62)])],
                      tempo_changes=((0, 60), (TPB, 180), (3 * TPB, 90)))
    roll = read_midi(path, GRID)
    piano = GRID.names.index("piano")
    assert notes_of(roll[piano]) == [(4, 5, 24), (8, 12, 26)]


def test_a_file_of_drums_only_reads_with_empty_pitched_tracks(tmp_path):
    path = write_file(tmp_path / "a.mid", [(9, 0, [(b / 4, b / 4 + 0.25, 42) for b in range(64)])])  # 16th hats
    roll = read_midi(path, GRID)
    assert roll[0].sum() == 64 and not roll[1:].any()
    assert len(phrases(roll, GRID, bars=4, hop_bars=4)) == 1
    written = mido.MidiFile(str(write_midi(roll, tmp_path / "b.mid", GRID)))
    hits = [m for m in written.tracks[1] if m.type == "note_on"]
    assert len(hits) == 64 and all(m.channel == 9 for m in hits)  # adjacent hits stay apart


@pytest.mark.parametrize("content, message", [
    (b"not a midi file at all", "not a readable MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01", "not a readable MIDI file"),
])
def test_corrupt_bytes_are_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(GanforgeError, match=message) as e:
        read_midi(path, GRID)
    assert "\n" not in str(e.value)


def test_a_file_without_notes_is_an_error(tmp_path):
    path = write_file(tmp_path / "empty.mid", [])
    with pytest.raises(GanforgeError, match="no notes"):
        read_midi(path, GRID)


def test_a_folder_skips_bad_files_with_a_count(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_file(data / "good.mid", [(0, 0, [(b, b + 1, 60 + b % 5) for b in range(16)])])
    write_file(data / "empty.mid", [])
    (data / "corrupt.mid").write_bytes(b"garbage")
    write_file(data / "short.mid", [(0, 0, [(0, 1, 60)])])  # one bar: shorter than a 4-bar phrase
    config = {"n_bars": 4}
    modality = MusicModality(config)
    samples = modality.load(data)
    assert len(samples) == 1 and samples.fields["x"].shape == (1, 5, 4, 16, 48)
    err = capsys.readouterr().err
    assert "skipped 3 unreadable MIDI file(s)" in err
    assert modality.state["skipped_files"] == 3 and modality.state["tempo"] == 120.0
    batch = samples.batch(torch.arange(1))["x"]
    assert set(batch.unique().tolist()) == {-1.0, 1.0}


def test_a_folder_of_only_bad_files_is_an_error(tmp_path):
    (tmp_path / "a.mid").write_bytes(b"garbage")
    with pytest.raises(GanforgeError, match="none of the MIDI files"):
        MusicModality({}).load(tmp_path)


def test_track_option_is_checked():
    with pytest.raises(GanforgeError, match="NAME:PROGRAMS"):
        parse_tracks("drums bass:32-39")
    with pytest.raises(GanforgeError, match="0-127"):
        parse_tracks("bass:32-200")
    grid = Grid(tuple(parse_tracks("drums:drums keys:0-7,16-23")))
    assert grid.track_of(17, False) == 1 and grid.track_of(40, False) is None and grid.track_of(5, True) == 0


def test_band_data_has_styles_captions_and_phrases(band):
    modality = MusicModality({})
    samples = modality.load(band)
    assert modality.class_names() == ["ballad", "blues", "pop", "rock"]
    assert len(samples) == 16 and samples.fields["label"].bincount().tolist() == [4, 4, 4, 4]
    assert all(" in " in t and ("major" in t or "minor" in t) for t in samples.fields["text"])
    x = samples.fields["x"]
    assert x[:, 0].any() and x[:, 1].any() and x[:, 4].any()  # drums, bass and melody play
