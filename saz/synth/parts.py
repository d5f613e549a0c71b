"""Musical material for rendering: procedural parts and excerpts of the music21 corpus.

A :class:`Part` is a role (melody, bass, chords, ostinato, percussion) and its notes in
seconds. Procedural pieces draw a key, a scale (including modes close to Persian dastgah
colours), a metre (4/4, 3/4, 6/8, 5/4, 7/8), a tempo and a chord progression, then write each
part so it can enter late, leave early or rest, which is what makes the labels informative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from saz.synth.fluid import Note
from saz.synth import optional

SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "phrygian_dominant": (0, 1, 4, 5, 7, 8, 10),  # close to dastgah Homayoun / maqam Hijaz
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}
METRES: dict[str, tuple[int, tuple[float, ...]]] = {
    # name: (beats per bar, accent pattern used by percussion: beat positions of strong hits)
    "4/4": (4, (0.0, 2.0)),
    "3/4": (3, (0.0,)),
    "6/8": (6, (0.0, 3.0)),
    "5/4": (5, (0.0, 3.0)),
    "7/8": (7, (0.0, 2.0, 4.0)),
}
KICK, SNARE, CLOSED_HAT, OPEN_HAT, LOW_TOM, HIGH_TOM = 36, 38, 42, 46, 45, 50
CRASH, RIDE, SPLASH = 49, 51, 55


@dataclass
class Part:
    """One line of music: its role and notes (seconds, MIDI pitches)."""

    role: str
    notes: list[Note] = field(default_factory=list)
    source: str = "procedural"

    def transposed(self, low: int, high: int) -> "Part":
        """Shift by octaves so the median pitch sits mid-range; fold outliers into the range."""
        if not self.notes or self.role == "percussion":
            return self
        mid = (low + high) / 2
        med = float(np.median([n.pitch for n in self.notes]))
        shift = 12 * int(round((mid - med) / 12))
        out = []
        for n in self.notes:
            p = n.pitch + shift
            while p < low:
                p += 12
            while p > high:
                p -= 12
            out.append(Note(n.start, n.duration, p if low <= p <= high else int(np.clip(p, low, high)), n.velocity))
        return Part(self.role, out, self.source)

    def window(self, start: float, seconds: float) -> "Part":
        """Notes sounding in ``[start, start + seconds)``, shifted to start at 0 and trimmed."""
        out = []
        for n in self.notes:
            end = n.start + n.duration
            if end <= start or n.start >= start + seconds:
                continue
            s = max(n.start, start)
            out.append(Note(s - start, min(end, start + seconds) - s, n.pitch, n.velocity))
        return Part(self.role, out, self.source)


@dataclass(frozen=True)
class Piece:
    """The frame procedural parts share: key, scale, metre, tempo and chords per bar."""

    tonic: int
    scale: tuple[int, ...]
    beats_per_bar: int
    accents: tuple[float, ...]
    beat_seconds: float
    chords: tuple[int, ...]  # scale degree of each bar's chord root

    def pitch(self, degree: int, octave: int = 5) -> int:
        """MIDI pitch of a scale degree (any integer, wraps into octaves)."""
        n = len(self.scale)
        return 12 * (octave + degree // n) + self.tonic + self.scale[degree % n]

    def chord(self, bar: int) -> tuple[int, int, int]:
        root = self.chords[bar % len(self.chords)]
        return root, root + 2, root + 4

    @property
    def bar_seconds(self) -> float:
        return self.beats_per_bar * self.beat_seconds


def random_piece(rng: np.random.Generator) -> Piece:
    scale = SCALES[rng.choice(list(SCALES))]
    metre = rng.choice(list(METRES))
    beats, accents = METRES[metre]
    bpm = rng.uniform(70, 170) * (2 if metre in ("6/8", "7/8") else 1)
    n = len(scale)
    progression = tuple(int(rng.choice([0, 3, 4, 5, 1, 0] if n == 7 else [0, 1, 2, 3, 4])) for _ in range(4))
    return Piece(int(rng.integers(0, 12)), scale, beats, accents, 60.0 / bpm, (0,) + progression[1:])


def _span(rng: np.random.Generator, seconds: float, p_full: float = 0.5, min_len: float = 1.0) -> tuple[float, float]:
    """When a part plays: the whole clip, or a random stretch of at least ``min_len`` seconds."""
    if rng.random() < p_full:
        return 0.0, seconds
    length = rng.uniform(min(min_len, seconds), seconds)
    start = rng.uniform(0, seconds - length)
    return start, start + length


def _melody(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    notes, t, degree = [], t0, int(rng.integers(0, len(piece.scale)))
    durations = np.array([0.5, 1, 1, 1.5, 2]) * piece.beat_seconds
    legato = rng.uniform(0.6, 1.0)
    while t < t1:
        d = float(rng.choice(durations))
        if rng.random() < 0.12:  # a rest
            t += d
            continue
        degree += int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
        degree = int(np.clip(degree, -4, 11))
        notes.append(Note(t, d * legato, piece.pitch(degree, 5), int(rng.integers(60, 120))))
        t += d
    return notes


def _bass(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    notes, step = [], piece.beat_seconds * float(rng.choice([1, 2]))
    t = t0
    while t < t1:
        bar = int(t // piece.bar_seconds)
        root = piece.chord(bar)[0] + (int(rng.choice([0, 0, 0, 4, 2])) if rng.random() < 0.4 else 0)
        notes.append(Note(t, step * 0.9, piece.pitch(root, 3), int(rng.integers(70, 115))))
        t += step
    return notes


def _chords(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    notes, arpeggio = [], rng.random() < 0.4
    step = piece.beat_seconds * (0.5 if arpeggio else float(rng.choice([2, piece.beats_per_bar])))
    t, k = t0, 0
    while t < t1:
        degrees = piece.chord(int(t // piece.bar_seconds))
        vel = int(rng.integers(55, 100))
        if arpeggio:
            notes.append(Note(t, step * 1.5, piece.pitch(degrees[k % 3], 4), vel))
        else:
            notes.extend(Note(t, step * 0.95, piece.pitch(d, 4), vel) for d in degrees)
        t += step
        k += 1
    return notes


def _ostinato(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    cell_len = int(rng.integers(3, 7))
    step = piece.beat_seconds * float(rng.choice([0.5, 0.5, 1.0]))
    cell = [int(d) for d in rng.integers(0, len(piece.scale) + 2, cell_len)]
    notes, t, k = [], t0, 0
    while t < t1:
        notes.append(Note(t, step * 0.8, piece.pitch(cell[k % cell_len], 5), int(rng.integers(60, 110))))
        t += step
        k += 1
    return notes


def _drums(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    """A kit groove in the piece's metre: kick on accents, snare off them, hats on every beat,
    cymbal crashes at some bar starts and an optional ride."""
    notes, bar = [], piece.bar_seconds
    hats = float(rng.choice([0.5, 1.0])) * piece.beat_seconds
    ride = rng.random() < 0.3
    crash_p = rng.uniform(0.0, 0.6)
    b = int(t0 // bar)
    while b * bar < t1:
        start = b * bar
        for beat in range(piece.beats_per_bar):
            t = start + beat * piece.beat_seconds
            if t0 <= t < t1:
                notes.append(Note(t, 0.1, KICK if beat in piece.accents else SNARE, int(rng.integers(80, 127))))
        t = start
        while t < start + bar:
            if t0 <= t < t1:
                notes.append(Note(t, 0.1, RIDE if ride else CLOSED_HAT, int(rng.integers(50, 100))))
            t += hats
        if t0 <= start < t1 and rng.random() < crash_p:
            notes.append(Note(start, 0.5, int(rng.choice([CRASH, SPLASH])), int(rng.integers(80, 127))))
        if rng.random() < 0.2 and t0 <= start + bar - piece.beat_seconds < t1:
            notes.append(Note(start + bar - piece.beat_seconds, 0.1, int(rng.choice([LOW_TOM, HIGH_TOM])), 100))
        b += 1
    return notes


def _pitched_percussion(piece: Piece, rng: np.random.Generator, t0: float, t1: float) -> list[Note]:
    """Low drum hits (taiko) on the accents and some off-beats."""
    notes, t = [], t0
    while t < t1:
        beat = round((t % piece.bar_seconds) / piece.beat_seconds)
        if beat in piece.accents or rng.random() < 0.35:
            notes.append(Note(t, 0.3, piece.pitch(0, 3), int(rng.integers(80, 127))))
        t += piece.beat_seconds
    return notes


WRITERS = {"melody": _melody, "bass": _bass, "chords": _chords, "ostinato": _ostinato,
           "percussion": _drums, "percussion_pitched": _pitched_percussion}


def procedural_part(role: str, piece: Piece, rng: np.random.Generator, seconds: float,
                    p_full: float = 0.5) -> Part:
    """Write one part for ``role`` over ``seconds``, possibly entering late or leaving early."""
    t0, t1 = _span(rng, seconds, p_full)
    return Part(role, WRITERS[role](piece, rng, t0, t1))


def isolated_notes(rng: np.random.Generator, seconds: float, pitches: tuple[int, int] | tuple[int, ...],
                   drum: bool = False, sparse: float = 0.3) -> Part:
    """Single notes one after another with silence between them, as a recorded note of a sample
    library sounds (:func:`saz.synth.library.sample_stem`, the texture of the ``real`` set's
    mixtures): random pitches in the range ``pitches`` (``drum``: keys drawn from ``pitches``),
    random lengths and levels, gaps up to 0.6 s or, with probability ``sparse``, one or two notes
    alone in 1.5-4 s of silence."""
    gap = (1.5, 4.0) if rng.random() < sparse else (0.0, 0.6)
    t0, t1 = (0.0, seconds) if rng.random() < 0.4 else _span(rng, seconds, 0.0)
    notes, t = [], t0
    while t < t1:
        pitch = int(rng.choice(pitches)) if drum else int(rng.integers(pitches[0], pitches[1] + 1))
        length = float(min(rng.uniform(0.3, 2.0), t1 - t))
        notes.append(Note(t, length, pitch, int(rng.integers(40, 121))))
        t += length + float(rng.uniform(*gap))
    return Part("isolated", notes)


def drum_split(part: Part, cymbal_notes: tuple[int, ...]) -> tuple[Part, Part]:
    """Split a GM drum part into (drums, cymbals) so each class gets its own stem and labels."""
    cym = [n for n in part.notes if n.pitch in cymbal_notes]
    kit = [n for n in part.notes if n.pitch not in cymbal_notes]
    return Part("percussion", kit, part.source), Part("percussion", cym, part.source)


def corpus_parts(path: str | Path, rng: np.random.Generator, max_parts: int = 6) -> list[Part]:
    """Parts of a music21 corpus score as note lists in seconds at a random tempo.

    Each part's role is melody for the highest, bass for the lowest and chords otherwise.
    """
    converter = optional.music21("converter")
    score = converter.parse(str(path))
    seconds_per_quarter = 60.0 / rng.uniform(60, 140)
    parts = []
    for p in score.parts[:max_parts]:
        notes = []
        for el in p.flatten().notes:
            pitches = [el.pitch] if el.isNote else list(el.pitches)
            for pitch in pitches:
                notes.append(Note(float(el.offset) * seconds_per_quarter, max(0.05, float(el.quarterLength) * seconds_per_quarter),
                                  int(pitch.midi), int(rng.integers(60, 110))))
        if notes:
            parts.append(Part("melody", notes, source=f"music21:{Path(path).name}"))
    if len(parts) > 1:
        means = [np.mean([n.pitch for n in p.notes]) for p in parts]
        order = np.argsort(means)
        parts[order[0]].role = "bass"
        for k in order[1:-1]:
            parts[k].role = "chords"
    return parts
