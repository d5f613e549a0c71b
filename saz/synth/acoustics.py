"""Acoustic realism for generated music: rooms, noise, mastering and the damage of real media.

SoundFont stems are dry, noiseless and perfectly band-limited; real recordings are none of
those. Two stages make a generated clip sound recorded:

- :func:`place` puts each stem in a room at its own microphone distance (a synthetic impulse
  response: exponentially decaying noise whose highs die faster, after a distance-dependent
  pre-delay), with a random per-stem EQ. Labels are computed after this, so reverb tails that
  are audible are labelled.
- :func:`master` treats the mix as a record and a recording chain would: bus compression and
  limiting, EQ and band-limiting, coloured background noise at a random SNR, mild clipping,
  a sample-rate round trip and lossy re-encoding (MP3 or Ogg Vorbis through libsndfile), and
  a final level anywhere from -40 dBFS to full scale (saz's features are absolute dB, and real
  recordings, single notes of sample libraries above all, can be very quiet).

Every step draws its own parameters from the generator and is taken with its own probability,
so one clip gets a plausible subset. Both functions return float32 of the input's length.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr
from scipy import signal


@dataclass(frozen=True)
class AcousticsConfig:
    """Probabilities and ranges of every step (stored in the corpus card)."""

    room: float = 0.8                          # P(stems are placed in a room)
    rt60: tuple[float, float] = (0.15, 1.6)    # reverberation time, seconds
    wet_db: tuple[float, float] = (-18.0, 0.0)  # reverberant energy relative to direct, per stem
    stem_eq: float = 0.7                       # P(random EQ on a stem)
    compress: float = 0.6                      # P(bus compression)
    limit: float = 0.5                         # P(brick-wall-ish limiting after loudness push)
    eq: float = 0.6                            # P(random EQ on the mix)
    band_limit: float = 0.4                    # P(high-pass and low-pass as on old or cheap media)
    noise: float = 0.7                         # P(background noise)
    snr_db: tuple[float, float] = (12.0, 45.0)
    clip: float = 0.15                         # P(mild soft clipping)
    resample: float = 0.25                     # P(sample-rate round trip through 8-16 kHz)
    lossy: float = 0.5                         # P(MP3 or Ogg Vorbis re-encoding)
    level_db: tuple[float, float] = (-40.0, -0.5)  # final peak level: real recordings come at any level


def _biquad_peak(f0: float, gain_db: float, q: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ cookbook peaking filter."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w), 1 - alpha / a])
    return b / den[0], den / den[0]


def random_eq(y: np.ndarray, sr: int, rng: np.random.Generator, bands: int = 3, max_db: float = 9.0) -> np.ndarray:
    """``bands`` peaking filters at random log-spaced frequencies and gains (+-``max_db``)."""
    out = y.astype(np.float64)
    for _ in range(bands):
        f0 = float(np.exp(rng.uniform(np.log(80), np.log(min(9000, 0.45 * sr)))))
        b, a = _biquad_peak(f0, float(rng.uniform(-max_db, max_db)), float(rng.uniform(0.5, 2.0)), sr)
        out = signal.lfilter(b, a, out)
    return out


def room_ir(sr: int, rng: np.random.Generator, rt60: float) -> np.ndarray:
    """A synthetic room impulse response (no direct path): decaying noise, highs decaying faster."""
    n = int(min(rt60 * 1.2, 2.0) * sr)
    t = np.arange(n) / sr
    noise = rng.standard_normal(n)
    low = signal.sosfilt(signal.butter(2, 1500, "low", fs=sr, output="sos"), noise)
    high = noise - low
    decay = np.log(1000) / rt60  # 60 dB down at rt60
    ir = low * np.exp(-decay * t) + high * np.exp(-1.8 * decay * t)
    onset = int(rng.uniform(0.005, 0.03) * sr)  # first reflections arrive after the direct sound
    ir[:onset] = 0.0
    return ir / (np.sqrt((ir ** 2).sum()) + 1e-12)


def place(stems: dict[str, np.ndarray], sr: int, rng: np.random.Generator, cfg: AcousticsConfig
          ) -> dict[str, np.ndarray]:
    """Each stem EQ'd and placed in one shared room at its own distance (its own wet level)."""
    in_room = rng.random() < cfg.room
    ir = room_ir(sr, rng, float(rng.uniform(*cfg.rt60))) if in_room else None
    out = {}
    for name in sorted(stems):
        y = stems[name].astype(np.float64)
        if rng.random() < cfg.stem_eq:
            y = random_eq(y, sr, rng, bands=2, max_db=6.0)
        if ir is not None:
            wet = signal.fftconvolve(y, ir)[: len(y)]
            dry_rms, wet_rms = np.sqrt((y ** 2).mean()), np.sqrt((wet ** 2).mean())
            if wet_rms > 0:
                y = y + wet * (dry_rms / wet_rms) * 10 ** (rng.uniform(*cfg.wet_db) / 20)
        out[name] = y.astype(np.float32)
    return out


def coloured_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise with power spectrum 1/f^``exponent`` (0 white, 1 pink, 2 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    y = np.fft.irfft(spec / f ** (exponent / 2), n)
    return y / (np.sqrt((y ** 2).mean()) + 1e-12)


def compress(y: np.ndarray, sr: int, threshold_db: float, ratio: float, attack: float = 0.005,
             release: float = 0.12) -> np.ndarray:
    """Feed-forward RMS compressor with one-pole attack/release smoothing of the gain."""
    level = np.sqrt(signal.lfilter([1 - np.exp(-1 / (0.01 * sr))], [1, -np.exp(-1 / (0.01 * sr))], y ** 2) + 1e-12)
    level_db = 20 * np.log10(level)
    over = np.maximum(level_db - threshold_db, 0.0)
    target = -over * (1 - 1 / ratio)
    # attack when gain falls, release when it rises: two passes of one-pole smoothing
    a_att, a_rel = np.exp(-1 / (attack * sr)), np.exp(-1 / (release * sr))
    smooth = signal.lfilter([1 - a_rel], [1, -a_rel], target)
    smooth = np.minimum(smooth, signal.lfilter([1 - a_att], [1, -a_att], target))
    return y * 10 ** (smooth / 20)


def lossy(y: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Round trip through MP3 or Ogg Vorbis at a random quality (libsndfile's encoders)."""
    fmt = "MP3" if rng.random() < 0.5 else "OGG"
    sub = "MPEG_LAYER_III" if fmt == "MP3" else "VORBIS"
    buf = io.BytesIO()
    peak = np.abs(y).max()
    scale = 0.98 / peak if peak > 0.98 else 1.0
    sf.write(buf, (y * scale).astype(np.float32), sr, format=fmt, subtype=sub,
             compression_level=float(rng.uniform(0.3, 0.95)))
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    out = out[: len(y)] / scale
    return np.pad(out, (0, len(y) - len(out)))


def master(y: np.ndarray, sr: int, rng: np.random.Generator, cfg: AcousticsConfig) -> np.ndarray:
    """The mix as a recorded, produced and distributed record (see the module docstring)."""
    n = len(y)
    x = y.astype(np.float64)
    peak0 = float(np.abs(x).max()) or 1.0
    if rng.random() < cfg.compress:
        x = compress(x, sr, float(rng.uniform(-30, -12)) + 20 * np.log10(peak0), float(rng.uniform(1.5, 6.0)))
    if rng.random() < cfg.eq:
        x = random_eq(x, sr, rng)
    if rng.random() < cfg.band_limit:
        hp = float(rng.uniform(30, 250))
        lp = float(rng.uniform(2500, min(11000, 0.45 * sr)))
        x = signal.sosfilt(signal.butter(2, [hp, lp], "band", fs=sr, output="sos"), x)
    if rng.random() < cfg.noise:
        rms = np.sqrt((x ** 2).mean())
        noise = coloured_noise(n, rng, float(rng.choice([0.0, 1.0, 2.0])))
        x = x + noise * rms * 10 ** (-rng.uniform(*cfg.snr_db) / 20)
    peak = float(np.abs(x).max()) or 1.0
    x = x / peak * 10 ** (rng.uniform(-3, -0.5) / 20)
    if rng.random() < cfg.limit:  # push loudness into a limiter as a mastering engineer would
        push = 10 ** (rng.uniform(2, 9) / 20)
        x = compress(x * push, sr, -1.0, 20.0, attack=0.001, release=0.05)
    if rng.random() < cfg.clip:
        drive = float(rng.uniform(1.5, 4.0))
        x = np.tanh(drive * x) / np.tanh(drive)
    if rng.random() < cfg.resample:
        low = int(rng.choice([8000, 11025, 16000]))
        x = soxr.resample(soxr.resample(x, sr, low), low, sr)[:n]
        x = np.pad(x, (0, n - len(x)))
    if rng.random() < cfg.lossy:
        x = lossy(x, sr, rng)
    peak = float(np.abs(x).max())
    if peak > 0:
        x = x / peak * 10 ** (rng.uniform(*cfg.level_db) / 20)
    return x.astype(np.float32)
