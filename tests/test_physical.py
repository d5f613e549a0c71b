"""saz.synth.physical: physical-model notes play the pitch asked for, carry their models' partials,
are written as a library that the real-source pools read, and come back the same for a seed."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from saz.vocabulary import default_vocabulary
from saz.synth.physical import SR, is_physical_set, modal, models, physical_pool, pluck, render_notes
from saz.synth.sources import real_pool


@pytest.mark.parametrize("name, f0", [("guitar", 220.0), ("harp", 110.0), ("koto", 293.7), ("kalimba", 523.3), ("marimba", 261.6)])
def test_notes_sound_at_the_pitch_asked_for(name, f0):
    p = models()[name]
    y = (pluck if p["kind"] == "pluck" else modal)(f0, p, np.random.default_rng(3))
    assert y.shape == (2 * SR,) and np.isfinite(y).all()
    est = np.median(librosa.yin(y[: SR // 2].astype(np.float32), fmin=50, fmax=2000, sr=SR))
    assert abs(12 * np.log2(est / f0)) < 0.5  # within half a semitone


def test_a_kalimba_tine_has_its_inharmonic_partial_and_decays():
    p = models()["kalimba"]
    y = modal(440.0, p, np.random.default_rng(0))
    spec = np.abs(np.fft.rfft(y[:SR]))
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    lo, hi = (440.0 * r for r in p["ratios"][1])
    band = (freqs > lo) & (freqs < hi)
    harmonic = (np.abs(freqs[:, None] - 440.0 * np.arange(2, 12)[None]) < 20).any(axis=1)
    assert spec[band].max() > 20 * np.median(spec[band])  # a peak between 5.2 and 6.6 f0, not at a harmonic
    assert not harmonic[band][np.argmax(spec[band])]
    assert np.abs(y[-SR // 4:]).max() < 0.5 * np.abs(y[: SR // 4]).max()


def test_library_is_written_read_as_a_pool_and_repeatable(tmp_path):
    render_notes(tmp_path / "a", per_model=2, seed=7)
    render_notes(tmp_path / "b", per_model=2, seed=7)
    assert is_physical_set(tmp_path / "a") and not is_physical_set(tmp_path)
    names = default_vocabulary().names
    pool = physical_pool(tmp_path / "a", names)
    assert len(pool) == 2 * len(models()) and {s for _, _, s in pool} == {"physical"}
    assert {c for _, c, _ in pool} == {p["class"] for p in models().values()} <= set(names)
    assert sorted(real_pool(tmp_path / "a", names)) == sorted(pool)  # recipes' --samples read it as such
    for path, _, _ in pool:
        y, sr = sf.read(path)
        twin, _ = sf.read(path.replace(str(tmp_path / "a"), str(tmp_path / "b")))
        assert sr == SR and len(y) == 2 * SR and np.abs(y).max() == pytest.approx(0.708, abs=1e-3)
        np.testing.assert_array_equal(y, twin)
    assert not list((tmp_path / "a").rglob("*.tmp*"))
