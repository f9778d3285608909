"""MIDI files <-> multi-track binary piano rolls, with mido.

A roll is a bool array ``[tracks, time steps, pitches]``: track ``k`` is the set of
instruments whose General MIDI program falls in that track's families (drums are the
percussion channel, 10), time is quantised on the beat grid (``beat_resolution`` steps
per beat, read from the file's ticks, so tempo changes do not move the grid) and pitch
``p`` is MIDI note ``lowest_pitch + p``; notes outside the range are folded in by octaves.
Bars are ``beats_per_bar`` beats from the first tick (MuseGAN's 4/4 assumption).

Back to MIDI, each run of active steps of one pitch is one note; so two notes of the same
pitch that touch merge into one (MuseGAN's piano rolls have the same limit). On the drum
track every active step is a hit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge import GanforgeError

#: track name -> General MIDI programs (0-based) that go to it; "drums" means channel 10
DEFAULT_TRACKS = "drums:drums bass:32-39 piano:0-31 strings:40-55,88-95 melody:56-87,96-127"
#: program each track is written with (and what the built-in synthesiser imitates)
DEFAULT_PROGRAMS = {"drums": 0, "bass": 33, "piano": 0, "strings": 48, "melody": 73, "guitar": 25}
DRUM_CHANNEL = 9  # channel 10, counted from 0


@dataclass(frozen=True)
class Track:
    name: str
    drums: bool
    programs: frozenset

    @property
    def program(self) -> int:
        return DEFAULT_PROGRAMS.get(self.name, min(self.programs) if self.programs else 0)


def parse_tracks(spec: str) -> list[Track]:
    """``"drums:drums bass:32-39 piano:0-7,16-23"`` -> tracks. A program claimed by two
    tracks goes to the first; a program no track claims is left out."""
    tracks = []
    for part in str(spec).split():
        name, sep, programs = part.partition(":")
        if not sep or not name or not programs:
            raise GanforgeError(f"option 'tracks': '{part}' is not NAME:PROGRAMS (e.g. bass:32-39 or drums:drums)")
        if programs == "drums":
            tracks.append(Track(name, True, frozenset()))
            continue
        chosen = set()
        for piece in programs.split(","):
            lo, dash, hi = piece.partition("-")
            try:
                a, b = int(lo), int(hi) if dash else int(lo)
            except ValueError:
                raise GanforgeError(f"option 'tracks': '{piece}' in '{part}' is not a program or range "
                                    f"of General MIDI programs 0-127") from None
            if not 0 <= a <= b <= 127:
                raise GanforgeError(f"option 'tracks': programs run 0-127, got '{piece}' in '{part}'")
            chosen.update(range(a, b + 1))
        tracks.append(Track(name, False, frozenset(chosen)))
    if not tracks:
        raise GanforgeError("option 'tracks' names no track; e.g. 'drums:drums bass:32-39 piano:0-31'")
    if len({t.name for t in tracks}) != len(tracks):
        raise GanforgeError(f"option 'tracks' names a track twice: {spec}")
    return tracks


@dataclass(frozen=True)
class Grid:
    """How rolls are laid out: the tracks, the time grid and the pitch range."""

    tracks: tuple
    beat_resolution: int = 4
    beats_per_bar: int = 4
    lowest_pitch: int = 36
    n_pitches: int = 48

    @classmethod
    def from_config(cls, config: dict) -> "Grid":
        grid = cls(tuple(parse_tracks(config.get("tracks", DEFAULT_TRACKS))),
                   int(config.get("beat_resolution", 4)), int(config.get("beats_per_bar", 4)),
                   int(config.get("lowest_pitch", 36)), int(config.get("n_pitches", 48)))
        if grid.beat_resolution < 1 or grid.beats_per_bar < 1:
            raise GanforgeError("options 'beat_resolution' and 'beats_per_bar' must be at least 1")
        if grid.n_pitches < 12 or grid.n_pitches % 12 or not 0 <= grid.lowest_pitch <= 128 - grid.n_pitches:
            raise GanforgeError(f"option 'n_pitches' must be a multiple of 12 (whole octaves) and the range "
                                f"lowest_pitch..lowest_pitch+n_pitches-1 inside MIDI 0-127; got "
                                f"{grid.lowest_pitch}+{grid.n_pitches}")
        return grid

    @property
    def steps_per_bar(self) -> int:
        return self.beat_resolution * self.beats_per_bar

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tracks]

    def track_of(self, program: int, drums: bool) -> int | None:
        for k, t in enumerate(self.tracks):
            if (drums and t.drums) or (not drums and not t.drums and program in t.programs):
                return k
        return None

    def fold(self, pitch: int) -> int:
        """A MIDI pitch moved by octaves into the grid's range; its row in the roll."""
        p = pitch - self.lowest_pitch
        while p < 0:
            p += 12
        while p >= self.n_pitches:
            p -= 12
        return p


def read_midi(path: Path, grid: Grid) -> np.ndarray:
    """The file's notes as a bool roll ``[tracks, steps, pitches]`` (steps: whole bars).

    Raises GanforgeError (one line) for a file that is not MIDI or holds no notes in the
    grid's tracks; ``note_on`` with velocity 0 ends a note; a note of zero length lasts one step.
    """
    import mido

    try:
        midi = mido.MidiFile(str(path), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise GanforgeError(f"not a readable MIDI file ({type(e).__name__}: {str(e)[:80]})") from None
    if midi.type == 2:
        raise GanforgeError("a type-2 MIDI file (independent patterns) is not supported; export it as type 0 or 1")
    tpb = midi.ticks_per_beat
    if not tpb or tpb <= 0:
        raise GanforgeError("the MIDI file uses SMPTE time, not beats; export it with a ticks-per-beat division")
    notes = []  # (track index, pitch, start tick, end tick)
    for midi_track in midi.tracks:
        tick = 0
        program = [0] * 16
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in midi_track:
            tick += msg.time
            if msg.type == "program_change":
                program[msg.channel] = msg.program
            elif msg.type == "note_on" and msg.velocity > 0:
                # the program in force at the onset decides the track
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, program[msg.channel]))
            elif msg.type in ("note_off", "note_on"):
                started = open_notes.get((msg.channel, msg.note))
                if started:
                    start, prog = started.pop(0)
                    k = grid.track_of(prog, msg.channel == DRUM_CHANNEL)
                    if k is not None:
                        notes.append((k, msg.note, start, tick))
        for (channel, pitch), starts in open_notes.items():  # never released: end at the track's end
            for start, prog in starts:
                k = grid.track_of(prog, channel == DRUM_CHANNEL)
                if k is not None:
                    notes.append((k, pitch, start, tick))
    if not notes:
        raise GanforgeError(f"no notes in the tracks {', '.join(grid.names)}")
    res, spb = grid.beat_resolution, grid.steps_per_bar
    last = max(max(round(end * res / tpb), round(start * res / tpb) + 1) for _, _, start, end in notes)
    n_steps = max(1, -(-last // spb)) * spb  # whole bars holding every note's last step
    roll = np.zeros((len(grid.tracks), n_steps, grid.n_pitches), dtype=bool)
    for k, pitch, start, end in notes:
        a = round(start * res / tpb)
        b = round(end * res / tpb)
        if grid.tracks[k].drums or b <= a:
            b = a + 1  # drum hits, and notes shorter than half a step, take one step
        roll[k, a:min(b, n_steps), grid.fold(pitch)] = True
    return roll


def write_midi(roll: np.ndarray, path: Path, grid: Grid, tempo: float = 120.0, metadata: dict | None = None,
               velocity: int = 90, ticks_per_beat: int = 480) -> Path:
    """A bool roll ``[tracks, steps, pitches]`` as a type-1 MIDI file, one MIDI track per
    roll track (drums on channel 10). ``metadata`` goes in a text event, so a file says
    how it was made."""
    import mido

    roll = np.asarray(roll, dtype=bool)
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(float(tempo)), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=grid.beats_per_bar, denominator=4, time=0))
    if metadata:
        conductor.append(mido.MetaMessage("text", text=json.dumps(metadata, default=str), time=0))
    midi.tracks.append(conductor)
    ticks = ticks_per_beat // grid.beat_resolution if ticks_per_beat % grid.beat_resolution == 0 else None
    step_tick = (lambda s: s * ticks) if ticks else (lambda s: round(s * ticks_per_beat / grid.beat_resolution))
    melodic_channels = iter(c for c in range(16) if c != DRUM_CHANNEL)
    for k, track in enumerate(grid.tracks):
        channel = DRUM_CHANNEL if track.drums else next(melodic_channels, 0)
        mt = mido.MidiTrack()
        mt.append(mido.MetaMessage("track_name", name=track.name, time=0))
        if not track.drums:
            mt.append(mido.Message("program_change", channel=channel, program=track.program, time=0))
        events = []  # (tick, order, message) -- offs before ons at the same tick
        # drums: every active step is a hit of its own (a drum has no held notes to merge)
        hits = [(int(s), int(s) + 1, int(p)) for s, p in np.argwhere(roll[k])] if track.drums else notes_of(roll[k])
        for s, e, p in hits:
            pitch = grid.lowest_pitch + p
            events.append((step_tick(s), 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
            events.append((step_tick(e), 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
        events.sort(key=lambda ev: (ev[0], ev[1]))
        now = 0
        for tick, _, msg in events:
            mt.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(mt)
    path = Path(path)
    midi.save(str(path))
    return path


def notes_of(track_roll: np.ndarray) -> list[tuple[int, int, int]]:
    """(start step, end step, pitch row) of each run of active steps in a ``[steps, pitches]`` roll."""
    r = np.asarray(track_roll, dtype=bool)
    padded = np.zeros((r.shape[0] + 2, r.shape[1]), dtype=np.int8)
    padded[1:-1] = r
    diff = np.diff(padded, axis=0)
    out = []
    for p in range(r.shape[1]):
        starts = np.flatnonzero(diff[:, p] == 1)
        ends = np.flatnonzero(diff[:, p] == -1)
        out += [(int(s), int(e), p) for s, e in zip(starts, ends)]
    out.sort()
    return out


def phrases(roll: np.ndarray, grid: Grid, bars: int, hop_bars: int) -> list[np.ndarray]:
    """Cut a roll ``[tracks, steps, pitches]`` into phrases ``[tracks, bars, steps_per_bar,
    pitches]`` of ``bars`` bars every ``hop_bars`` bars; phrases without a note are left out."""
    spb = grid.steps_per_bar
    n_bars = roll.shape[1] // spb
    out = []
    for start in range(0, n_bars - bars + 1, max(1, hop_bars)):
        piece = roll[:, start * spb:(start + bars) * spb]
        if piece.any():
            out.append(piece.reshape(roll.shape[0], bars, spb, roll.shape[2]))
    return out


def tempo_of(path: Path) -> float | None:
    """The first tempo of a MIDI file in beats per minute (None when it sets none)."""
    import mido

    try:
        midi = mido.MidiFile(str(path), clip=True)
    except Exception:  # noqa: BLE001 -- a file read_midi accepted; tempo is only a default
        return None
    for track in midi.tracks:
        for msg in track:
            if msg.type == "set_tempo":
                return float(mido.tempo2bpm(msg.tempo))
    return None
