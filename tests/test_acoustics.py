"""Acoustic realism: each step does what it claims, measured on the signal it returns."""

import numpy as np
import pytest

from saz.synth import acoustics as A
from conftest import tone

SR = 22050
ALL = A.AcousticsConfig(room=1, stem_eq=1, compress=1, limit=1, eq=1, band_limit=1, noise=1, clip=1, resample=1, lossy=1)
NONE = A.AcousticsConfig(room=0, stem_eq=0, compress=0, limit=0, eq=0, band_limit=0, noise=0, clip=0, resample=0, lossy=0)


def test_room_ir_decays_60_db_in_rt60():
    ir = A.room_ir(SR, np.random.default_rng(0), rt60=0.5)
    energy = np.cumsum(ir[::-1] ** 2)[::-1]  # Schroeder backward integration
    db = 10 * np.log10(energy / energy[0])
    t60 = np.argmax(db < -60) / SR
    assert 0.35 < t60 < 0.65
    assert np.all(ir[: int(0.005 * SR)] == 0)  # no direct path: the dry signal stays in place


def test_place_adds_a_tail_and_keeps_length_per_stem():
    y = np.zeros(SR * 2, np.float32)
    y[:2000] = tone(SR, 2000 / SR)
    cfg = A.AcousticsConfig(room=1, rt60=(0.8, 0.8), wet_db=(0.0, 0.0), stem_eq=0)
    out = A.place({"a": y, "b": y}, SR, np.random.default_rng(1), cfg)
    assert set(out) == {"a", "b"} and all(len(v) == len(y) and v.dtype == np.float32 for v in out.values())
    tail = out["a"][int(0.3 * SR): int(0.5 * SR)]
    assert np.sqrt((tail ** 2).mean()) > 1e-3  # the room rings on after the tone stopped
    assert np.allclose(A.place({"a": y}, SR, np.random.default_rng(1), NONE)["a"], y)


def test_noise_is_added_at_the_drawn_snr():
    y = tone(SR, 3.0)
    cfg = A.AcousticsConfig(**{**NONE.__dict__, "noise": 1.0, "snr_db": (20.0, 20.0)})
    out = A.master(y, SR, np.random.default_rng(2), cfg)
    scale = np.dot(out, y) / np.dot(y, y)  # master renormalises the peak: undo that
    resid = out - scale * y
    snr = 10 * np.log10(((scale * y) ** 2).mean() / (resid ** 2).mean())
    assert 17 < snr < 23


def test_coloured_noise_slopes():
    rng = np.random.default_rng(3)
    for exponent, expected in ((0.0, 0.0), (1.0, -3.0), (2.0, -6.0)):
        x = A.coloured_noise(2 ** 16, rng, exponent)
        spec = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x))
        lo, hi = spec[(f > 0.01) & (f < 0.02)].mean(), spec[(f > 0.02) & (f < 0.04)].mean()
        assert abs(10 * np.log10(hi / lo) - expected) < 1.5  # dB per octave


def test_compressor_narrows_dynamics():
    y = np.concatenate([tone(SR, 1.0, amp=0.05), tone(SR, 1.0, amp=0.8)]).astype(np.float64)
    out = A.compress(y, SR, threshold_db=-30.0, ratio=8.0)
    ratio_in = np.abs(y[-SR // 2:]).max() / np.abs(y[SR // 4: SR // 2]).max()
    ratio_out = np.abs(out[-SR // 2:]).max() / np.abs(out[SR // 4: SR // 2]).max()
    assert ratio_out < ratio_in / 3


@pytest.mark.parametrize("seed", [0, 1])
def test_lossy_round_trip_keeps_the_tone(seed):
    y = tone(SR, 2.0, freq=440.0, amp=0.5)
    out = A.lossy(y, SR, np.random.default_rng(seed))
    assert len(out) == len(y) and np.isfinite(out).all()
    spec = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spec) * SR / len(out) - 440.0) < 2.0


def test_master_everything_on_is_finite_same_length_and_deterministic():
    y = tone(SR, 2.0) + 0.3 * tone(SR, 2.0, freq=97.0)
    a = A.master(y, SR, np.random.default_rng(4), ALL)
    b = A.master(y, SR, np.random.default_rng(4), ALL)
    assert a.dtype == np.float32 and len(a) == len(y) and np.isfinite(a).all() and np.abs(a).max() <= 1.0
    assert np.array_equal(a, b)
    assert not np.allclose(a, A.master(y, SR, np.random.default_rng(5), ALL))


def test_master_final_level_follows_the_config():
    y = tone(SR, 1.0)
    cfg = A.AcousticsConfig(**{**NONE.__dict__, "level_db": (-30.0, -30.0)})
    out = A.master(y, SR, np.random.default_rng(6), cfg)
    assert abs(20 * np.log10(np.abs(out).max()) + 30.0) < 0.01
