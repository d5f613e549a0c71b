"""Render note lists to audio with FluidSynth (libfluidsynth through pyfluidsynth).

One :class:`Renderer` holds one SoundFont loaded once, so a worker renders thousands of stems
without reloading it. Rendering is deterministic for the same sequence of calls on a fresh
renderer (what a seeded corpus chunk relies on): reverb and chorus are off (saz adds its own
acoustics), the synth is reset before every stem, the first renders after loading are thrown
away, and every stem is rendered in whole 64-sample blocks. What came before can still leave a
residue below -30 dB in a stem.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from saz.synth.instruments import DRUM_BANK
from saz.synth.soundfont import Preset, SoundFontError
from saz.synth import optional

BLOCK = 64  # FluidSynth's internal block size
DRUM_CHANNEL = 9
FLUSH = 16 * BLOCK  # silent samples rendered after a reset so that it takes effect


@dataclass(frozen=True)
class Note:
    """A note: onset and duration in seconds, MIDI pitch, velocity 1-127."""

    start: float
    duration: float
    pitch: int
    velocity: int = 100


@dataclass(frozen=True)
class Control:
    """A controller change at ``time`` seconds: ``kind`` 'cc' (``number``, value 0-127) or
    'bend' (value -8192..8191; FluidSynth's default range is +-2 semitones)."""

    time: float
    kind: str
    value: int
    number: int = 0


class Renderer:
    """A FluidSynth instance with one SoundFont, rendering mono float32 stems at ``sr``."""

    def __init__(self, soundfont: str | os.PathLike, sr: int = 22050):
        fluidsynth = optional.fluidsynth()
        self.soundfont = Path(soundfont)
        self.sr = sr
        self._fs = fluidsynth.Synth(samplerate=float(sr), gain=0.5)
        self._fs.setting("synth.reverb.active", 0)
        self._fs.setting("synth.chorus.active", 0)
        self._sfid = self._fs.sfload(str(self.soundfont))
        if self._sfid < 0:
            raise SoundFontError(f"{self.soundfont}: FluidSynth could not load this SoundFont")
        self._all_sounds_off = fluidsynth._fl.fluid_synth_all_sounds_off
        self._all_sounds_off.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self._write = fluidsynth._fl.fluid_synth_write_float
        self._write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        for _ in range(2):  # the first two renders after loading carry start-up transients
            self.render([Note(0.0, 0.1, 60)], Preset(0, 0, "warm-up"), 0.2)

    def _samples(self, n: int) -> np.ndarray:
        buf = np.zeros((n, 2), dtype=np.float32)
        if n:
            p = buf.ctypes.data
            self._write(self._fs.synth, n, p, 0, 2, p + 4, 0, 2)
        return buf

    def render(self, notes: list[Note], preset: Preset, seconds: float, controls: Sequence[Control] = ()) -> np.ndarray:
        """Render ``notes`` on ``preset`` for ``seconds``; drums when the preset is in bank 128.

        ``controls`` (expression, modulation, pitch bend...) are applied at their times.
        """
        fs = self._fs
        self._silence()
        drum = preset.bank == DRUM_BANK
        chan = DRUM_CHANNEL if drum else 0
        fs.program_select(chan, self._sfid, preset.bank, preset.program)
        total = int(round(seconds * self.sr))
        events = []
        for n in notes:
            on = int(round(n.start * self.sr))
            off = int(round((n.start + n.duration) * self.sr))
            if on >= total or not 0 <= n.pitch <= 127:
                continue
            events.append((on, 1, n.pitch, int(np.clip(n.velocity, 1, 127))))
            events.append((max(off, on + 1), 0, n.pitch, 0))
        for c in controls:  # kind 2: cc, 3: bend; sorted before note-ons at the same sample
            events.append((int(round(c.time * self.sr)), -1, 2 if c.kind == "cc" else 3, (c.number, c.value)))
        events.sort(key=lambda e: (e[0], e[1]))
        out, pos = [], 0
        for t, kind, pitch, vel in events:
            t = min(t, total)
            if t > pos:
                out.append(self._samples(t - pos))
                pos = t
            if kind < 0:
                number, value = vel
                if pitch == 2:
                    fs.cc(chan, number, int(np.clip(value, 0, 127)))
                else:
                    fs.pitch_bend(chan, int(np.clip(value, -8192, 8191)))
            elif kind:
                fs.noteon(chan, pitch, vel)
            else:
                fs.noteoff(chan, pitch)
        padded = total + (-total) % BLOCK
        out.append(self._samples(padded - pos))
        stereo = np.concatenate(out)[:total]
        return stereo.mean(axis=1).astype(np.float32)

    def _silence(self) -> None:
        """Cut every voice at once (no release tail), reset controllers, run the reset through."""
        self._fs.system_reset()
        self._all_sounds_off(self._fs.synth, -1)  # after the reset: a reset re-releases cut voices
        self._samples(FLUSH)

    def close(self) -> None:
        self._fs.delete()
