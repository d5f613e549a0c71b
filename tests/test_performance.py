"""Performance variation: notes stay playable, controllers are valid, and bends bend."""

import numpy as np
import pytest

from saz.synth.fluid import Control, Note, Renderer
from saz.synth.performance import PerformanceConfig, perform
from saz.synth.soundfont import Preset, find_soundfont

SR = 22050
NOTES = [Note(0.25 * i, 0.2, 60 + (i % 5), 90) for i in range(16)]


@pytest.mark.parametrize("seed", range(8))
def test_perform_stays_in_range_with_valid_controls(seed):
    notes, controls = perform(NOTES, np.random.default_rng(seed), 4.0, PerformanceConfig(transpose=1.0), (55, 72))
    assert len(notes) == len(NOTES)
    assert all(55 <= n.pitch <= 72 and 15 <= n.velocity <= 127 and n.start >= 0 and n.duration > 0 for n in notes)
    assert [c.time for c in controls] == sorted(c.time for c in controls)
    for c in controls:
        assert (c.kind == "cc" and 0 <= c.value <= 127) or (c.kind == "bend" and -8192 <= c.value <= 8191)


def test_drums_get_dynamics_but_no_pitch_or_controllers():
    drums = [Note(0.1 * i, 0.05, 36 + (i % 3) * 2, 100) for i in range(20)]
    notes, controls = perform(drums, np.random.default_rng(0), 2.0, PerformanceConfig(transpose=1.0, dynamics=1.0), drum=True)
    assert controls == [] and [n.pitch for n in notes] == [n.pitch for n in drums]
    assert len({n.velocity for n in notes}) > 1


def _f0(y: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)), 8 * len(y)))
    return float(np.argmax(spec) * SR / (8 * len(y)))


@pytest.mark.needs_fluidsynth("FluidR3_GM")
def test_pitch_bend_moves_the_rendered_pitch_by_a_semitone():
    r = Renderer(find_soundfont("FluidR3_GM"), SR)
    try:
        flute = Preset(0, 73, "Flute")
        plain = r.render([Note(0.0, 1.0, 69, 100)], flute, 1.0)
        bent = r.render([Note(0.0, 1.0, 69, 100)], flute, 1.0, [Control(0.0, "bend", 4096)])
    finally:
        r.close()
    ratio = _f0(bent[SR // 4: 3 * SR // 4]) / _f0(plain[SR // 4: 3 * SR // 4])
    assert abs(12 * np.log2(ratio) - 1.0) < 0.15
