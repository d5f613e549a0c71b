"""Performance variation: the same part played by a person rather than a sequencer.

A preset played at one velocity with no controllers is one timbre; real players shape every
note. :func:`perform` turns a part's notes into a performance: a random transposition within
the instrument's range, a velocity curve (crescendo, diminuendo or arch) with human jitter,
timing jitter, legato or staccato, and controller curves: expression swells (CC 11),
modulation/vibrato (CC 1), a brightness change (CC 74 where the preset maps it), a fixed
detune and slides into some notes (pitch bend). Drum parts get only the dynamics and timing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from saz.synth.fluid import Control, Note

CONTROL_RATE = 0.04  # seconds between controller updates of a curve


@dataclass(frozen=True)
class PerformanceConfig:
    """Probabilities and ranges of each kind of variation (stored in the corpus card)."""

    transpose: float = 0.5                       # P(random shift within the instrument's range)
    dynamics: float = 0.8                        # P(a velocity curve)
    velocity_jitter: float = 10.0                # sd of per-note velocity noise
    timing_jitter: float = 0.012                 # sd of onset noise, seconds
    articulation: float = 0.5                    # P(legato or staccato durations)
    expression: float = 0.6                      # P(an expression swell curve)
    vibrato: float = 0.5                         # P(modulation wheel vibrato)
    brightness: float = 0.3                      # P(a filter cutoff change)
    detune_cents: float = 15.0                   # max fixed detune of the whole stem
    slide: float = 0.3                           # P(slides into notes) for a stem
    slide_fraction: float = 0.25                 # share of notes that slide, when it slides


def _transpose(notes: list[Note], rng: np.random.Generator, low: int, high: int) -> list[Note]:
    pitches = [n.pitch for n in notes]
    down, up = low - min(pitches), high - max(pitches)
    if down > up:  # already outside the range: leave it to the caller's folding
        return notes
    shift = int(rng.integers(max(down, -7), min(up, 7) + 1))
    return [replace(n, pitch=n.pitch + shift) for n in notes]


def _curve(rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random curve in [0, 1] sampled every CONTROL_RATE seconds."""
    t = np.arange(0.0, seconds, CONTROL_RATE)
    knots = rng.uniform(0, 1, size=int(rng.integers(2, 6)))
    return t, np.interp(t, np.linspace(0, seconds, len(knots)), knots)


def perform(notes: list[Note], rng: np.random.Generator, seconds: float, cfg: PerformanceConfig,
            note_range: tuple[int, int] = (0, 127), drum: bool = False) -> tuple[list[Note], list[Control]]:
    """A performance of ``notes``: varied notes and controller events (see the module docstring)."""
    if not notes:
        return notes, []
    out = list(notes)
    if not drum and rng.random() < cfg.transpose:
        out = _transpose(out, rng, *note_range)
    shape = str(rng.choice(["flat", "crescendo", "diminuendo", "arch"])) if rng.random() < cfg.dynamics else "flat"
    base = rng.uniform(-25, 15)
    span = rng.uniform(15, 45)
    legato = rng.random() < cfg.articulation and not drum
    length = float(rng.choice([0.5, 1.15])) if legato else 1.0
    varied = []
    for n in out:
        x = n.start / max(seconds, 1e-6)
        curve = {"flat": 0.0, "crescendo": x - 0.5, "diminuendo": 0.5 - x, "arch": 0.5 - abs(x - 0.5) * 2}[shape]
        vel = n.velocity + base + span * curve + rng.normal(0, cfg.velocity_jitter)
        start = max(0.0, n.start + rng.normal(0, cfg.timing_jitter))
        varied.append(Note(start, max(0.03, n.duration * length), n.pitch, int(np.clip(vel, 15, 127))))
    controls: list[Control] = []
    if drum:
        return varied, controls
    if rng.random() < cfg.expression:
        t, c = _curve(rng, seconds)
        controls += [Control(float(a), "cc", int(50 + 77 * b), 11) for a, b in zip(t, c)]
    if rng.random() < cfg.vibrato:
        controls.append(Control(0.0, "cc", int(rng.integers(20, 90)), 1))
    if rng.random() < cfg.brightness:
        t, c = _curve(rng, seconds)
        controls += [Control(float(a), "cc", int(30 + 97 * b), 74) for a, b in zip(t, c)]
    detune = int(rng.uniform(-cfg.detune_cents, cfg.detune_cents) / 100 * 4096)
    controls.append(Control(0.0, "bend", detune))
    if rng.random() < cfg.slide:
        for n in varied:
            if rng.random() < cfg.slide_fraction:
                depth = int(rng.uniform(0.3, 1.0) * 4096) * int(rng.choice([-1, 1]))
                steps = 5
                for k in range(steps):
                    when = max(0.0, n.start - 0.002) if k == 0 else n.start + k * 0.02
                    controls.append(Control(when, "bend", detune + depth * (steps - 1 - k) // (steps - 1)))
    return varied, sorted(controls, key=lambda c: c.time)
