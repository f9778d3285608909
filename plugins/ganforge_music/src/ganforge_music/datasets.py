"""``ganforge data band``: a procedural multi-track MIDI demo set, made offline.

Four styles, one sub-folder each (class labels): rock, blues, pop and ballad, in all twelve
keys, major and minor. Each file is 8 bars in 4/4: a 4-bar chord progression played twice
by a band of drums, bass (root eighths, walking quarters or long roots), a chord
instrument (strums, comping or arpeggios), strings (sustained chords, not in every file)
and a melody on the scale with chord tones on the strong beats. ``metadata.jsonl`` gives
each file a caption that names what is in it::

    slow blues in A minor with walking bass, i-iv-i-i

The caption grammar (tempo word, style, key, mode, a feature, the progression in roman
numerals) is what the ``prompt-agreement`` metric reads back.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from ganforge import GanforgeError

TPB = 480  # ticks per beat
KEY_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
KICK, SNARE, HAT, OPEN_HAT, RIDE, CRASH = 36, 38, 42, 46, 51, 49
ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii"]

# progressions as scale degrees (0-based), per style and mode; blues uses 4-bar parts of the 12-bar form
PROGRESSIONS = {
    ("rock", "major"): [[0, 3, 4, 3], [0, 4, 5, 3], [0, 3, 0, 4]],
    ("rock", "minor"): [[0, 5, 6, 0], [0, 3, 6, 0], [0, 6, 5, 6]],
    ("blues", "major"): [[0, 0, 0, 0], [3, 3, 0, 0], [4, 3, 0, 4], [0, 3, 0, 0]],
    ("blues", "minor"): [[0, 0, 0, 0], [3, 3, 0, 0], [4, 3, 0, 4], [0, 3, 0, 0]],
    ("pop", "major"): [[0, 4, 5, 3], [5, 3, 0, 4], [0, 5, 3, 4]],
    ("pop", "minor"): [[0, 5, 2, 6], [0, 3, 5, 6], [5, 6, 0, 0]],
    ("ballad", "major"): [[0, 5, 3, 4], [0, 2, 3, 4], [3, 4, 0, 5]],
    ("ballad", "minor"): [[0, 5, 2, 6], [0, 3, 4, 0], [5, 2, 6, 0]],
}
TEMPI = {"rock": (120, 152), "blues": (60, 88), "pop": (96, 124), "ballad": (60, 80)}
FEATURES = {"rock": "driving eighth-note bass", "blues": "walking bass", "pop": "arpeggiated piano",
            "ballad": "sustained strings"}
STYLES = tuple(TEMPI)


def tempo_word(bpm: float) -> str:
    return "slow" if bpm < 90 else "medium" if bpm < 120 else "upbeat"


def chord_pcs(tonic: int, mode: str, degree: int, style: str) -> list[int]:
    """Pitch classes of the chord on ``degree``: diatonic triads; blues takes dominant
    sevenths in major and minor sevenths in minor."""
    scale = SCALES[mode]
    if style == "blues":
        root = (tonic + scale[degree]) % 12
        third = 4 if mode == "major" else 3
        return [root, (root + third) % 12, (root + 7) % 12, (root + 10) % 12]
    return [(tonic + scale[(degree + k) % 7]) % 12 for k in (0, 2, 4)]


def roman(tonic: int, mode: str, degree: int, style: str) -> str:
    """The chord's roman numeral: upper case for a major third above the root."""
    pcs = chord_pcs(tonic, mode, degree, style)
    major = (pcs[1] - pcs[0]) % 12 == 4
    return ROMAN[degree].upper() if major else ROMAN[degree]


def _near(pc: int, target: int) -> int:
    """The MIDI pitch of pitch class ``pc`` closest to ``target``."""
    return target + ((pc - target + 6) % 12) - 6


class _Song:
    def __init__(self, bars: int):
        self.notes: dict[str, list] = {}  # part -> [(start tick, end tick, pitch, velocity)]
        self.bars = bars

    def add(self, part, beat: float, length: float, pitch: int, velocity: int = 90):
        start = int(round(beat * TPB))
        end = start + max(1, int(round(length * TPB)))
        self.notes.setdefault(part, []).append((start, end, int(pitch), int(velocity)))


def make_song(style: str, tonic: int, mode: str, rng: random.Random, bars: int = 8) -> tuple[_Song, dict]:
    """One song: its notes per part and what its caption says."""
    progression = rng.choice(PROGRESSIONS[(style, mode)])
    bpm = rng.randint(*TEMPI[style])
    scale = [(tonic + s) % 12 for s in SCALES[mode]]
    melody_scale = scale
    if style == "blues":  # the blues scale over either mode
        melody_scale = [(tonic + s) % 12 for s in ([0, 3, 5, 6, 7, 10] if mode == "minor" else [0, 2, 3, 4, 7, 9])]
    elif style == "rock":  # pentatonic
        melody_scale = [(tonic + s) % 12 for s in ([0, 3, 5, 7, 10] if mode == "minor" else [0, 2, 4, 7, 9])]
    with_strings = style in ("ballad", "pop") or rng.random() < 0.3
    song = _Song(bars)
    melody_pitch = _near(tonic, 72)
    for bar in range(bars):
        degree = progression[bar % len(progression)]
        pcs = chord_pcs(tonic, mode, degree, style)
        root = pcs[0]
        next_root = chord_pcs(tonic, mode, progression[(bar + 1) % len(progression)], style)[0]
        t0 = bar * 4.0
        # drums
        if style == "rock":
            for b in range(8):
                song.add("drums", t0 + b / 2, 0.25, HAT, 70 + 20 * (b % 2 == 0))
            for b in (0, 2, 2.5):
                song.add("drums", t0 + b, 0.25, KICK, 110)
            for b in (1, 3):
                song.add("drums", t0 + b, 0.25, SNARE, 105)
        elif style == "blues":
            for b in range(4):  # a shuffle feel on the grid: the beat and its last sixteenth
                song.add("drums", t0 + b, 0.25, RIDE, 85)
                song.add("drums", t0 + b + 0.75, 0.25, RIDE, 60)
            for b in (0, 2):
                song.add("drums", t0 + b, 0.25, KICK, 95)
            for b in (1, 3):
                song.add("drums", t0 + b, 0.25, SNARE, 80)
        elif style == "pop":
            for b in range(8):
                song.add("drums", t0 + b / 2, 0.25, HAT if b != 7 else OPEN_HAT, 75)
            for b in (0, 1.5, 2):
                song.add("drums", t0 + b, 0.25, KICK, 105)
            for b in (1, 3):
                song.add("drums", t0 + b, 0.25, SNARE, 100)
        else:  # ballad: half time, quiet
            for b in range(4):
                song.add("drums", t0 + b, 0.25, HAT, 55)
            song.add("drums", t0, 0.25, KICK, 80)
            song.add("drums", t0 + 2, 0.25, SNARE, 70)
        if bar % 4 == 0 and style != "ballad":
            song.add("drums", t0, 0.25, CRASH, 90)
        # bass
        low = _near(root, 42)
        if style == "rock":
            for b in range(8):
                song.add("bass", t0 + b / 2, 0.45, low, 100)
        elif style == "blues":  # walking: root, a chord tone, another, a step into the next root
            target = _near(next_root, low)
            approach = target - 1 if rng.random() < 0.5 else target + 1
            for b, pitch in enumerate([low, _near(pcs[1], low + 4), _near(pcs[2], low + 7), approach]):
                song.add("bass", t0 + b, 0.9, pitch, 95)
        elif style == "pop":
            for b in range(4):
                song.add("bass", t0 + b, 0.9, low if b % 2 == 0 else low + 12 if low + 12 < 60 else low, 95)
        else:
            song.add("bass", t0, 1.9, low, 85)
            song.add("bass", t0 + 2, 1.9, _near(pcs[2], low + 7), 80)
        # chords (the piano track: piano, organ or guitar)
        voicing = sorted(_near(pc, 60) for pc in pcs)
        if style == "rock":
            for b in range(4):
                for p in voicing[:3]:
                    song.add("chords", t0 + b, 0.9, p, 90)
        elif style == "blues":
            for b in (0.75, 2.75):  # comping on the shuffle's upbeats
                for p in voicing:
                    song.add("chords", t0 + b, 0.5, p, 75)
            for p in voicing:
                song.add("chords", t0 + 1.5, 0.4, p, 65)
        else:  # arpeggios in eighths, up and down
            pattern = voicing[:3] + [voicing[0] + 12] + voicing[:3][::-1] + [voicing[1]]
            for b in range(8):
                song.add("chords", t0 + b / 2, 0.5, pattern[b], 70 if style == "ballad" else 80)
        # strings: the chord, held
        if with_strings:
            for p in sorted(_near(pc, 67) for pc in pcs[:3]):
                song.add("strings", t0, 3.95, p, 60)
        # melody: chord tones on strong beats, scale steps between
        rhythm = {"rock": [0, 0.5, 1, 1.5, 2, 3, 3.5], "blues": [0, 0.75, 1, 2, 2.75, 3],
                  "pop": [0, 1, 1.5, 2, 3], "ballad": [0, 2, 3]}[style]
        if rng.random() < 0.5:  # some bars rest a little
            rhythm = rhythm[: max(2, len(rhythm) - rng.randint(1, 2))]
        for i, beat in enumerate(rhythm):
            length = (rhythm[i + 1] if i + 1 < len(rhythm) else 4) - beat
            if beat in (0, 2):
                melody_pitch = _near(rng.choice(pcs[:3]), melody_pitch)
            else:
                candidates = [_near(pc, melody_pitch + d) for pc in melody_scale for d in (-2, 2)]
                candidates = [c for c in candidates if 0 < abs(c - melody_pitch) <= 4] or [melody_pitch]
                melody_pitch = rng.choice(candidates)
            melody_pitch = min(max(melody_pitch, 64), 83)
            song.add("melody", t0 + beat, max(0.25, length * 0.9), melody_pitch, 95)
    numerals = "-".join(roman(tonic, mode, d, style) for d in progression)
    feature = FEATURES[style]
    if with_strings and style != "ballad":
        feature += " and strings"
    caption = f"{tempo_word(bpm)} {style} in {KEY_NAMES[tonic]} {mode} with {feature}, {numerals}"
    info = {"style": style, "key": KEY_NAMES[tonic], "mode": mode, "tempo": bpm, "progression": numerals,
            "text": caption}
    return song, info


PROGRAMS = {  # (part, style) -> General MIDI program; the chord instrument changes with the style
    "bass": {"rock": 34, "blues": 32, "pop": 33, "ballad": 33},
    "chords": {"rock": 29, "blues": 0, "pop": 4, "ballad": 0},
    "strings": {"rock": 48, "blues": 48, "pop": 49, "ballad": 48},
    "melody": {"rock": 80, "blues": 65, "pop": 73, "ballad": 73},
}


def write_song(song: _Song, info: dict, path: Path) -> None:
    import mido

    midi = mido.MidiFile(type=1, ticks_per_beat=TPB)
    head = mido.MidiTrack()
    head.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(info["tempo"]), time=0))
    head.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    midi.tracks.append(head)
    channel = {"chords": 0, "bass": 1, "strings": 2, "melody": 3, "drums": 9}
    for part, notes in song.notes.items():
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=part, time=0))
        ch = channel[part]
        if part != "drums":
            track.append(mido.Message("program_change", channel=ch, program=PROGRAMS[part][info["style"]], time=0))
        events = []
        for start, end, pitch, vel in notes:
            events.append((start, 1, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
            events.append((end, 0, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        events.sort(key=lambda e: (e[0], e[1]))
        now = 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(str(path))


def make_band(out_dir: Path, n: int = 400, seed: int = 0, bars: int = 8, styles: str = ",".join(STYLES)) -> Path:
    """Write ``n`` songs (spread over ``styles``, keys and modes) as MIDI files in one
    sub-folder per style, with captions in ``metadata.jsonl``."""
    chosen = [s.strip() for s in str(styles).split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STYLES]
    if unknown or not chosen:
        raise GanforgeError(f"data set 'band': styles are {', '.join(STYLES)}; got '{styles}'")
    if n < 1 or bars < 4:
        raise GanforgeError("data set 'band' needs n >= 1 and bars >= 4")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        style = chosen[i % len(chosen)]
        tonic, mode = rng.randrange(12), rng.choice(("major", "minor"))
        song, info = make_song(style, tonic, mode, rng, bars)
        (out / style).mkdir(exist_ok=True)
        name = f"{style}/{style}_{i:05d}.mid"
        write_song(song, info, out / name)
        rows.append({"file_name": name, **info})
    with open(out / "metadata.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return out
