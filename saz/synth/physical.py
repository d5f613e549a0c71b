"""Physical-model notes: plucked strings and struck or plucked idiophones, as a timbre source.

Several classes have no recorded instrument anywhere saz can read offline (kalimba, koto,
shamisen, steel drums, ...) and only two to four SoundFont presets, so a model can learn those
presets rather than the instrument. Physical models give each note its own instrument: every
parameter of the model (decay, brightness, pluck point, body resonances, the inharmonic partials
of a bar or tine) is drawn per note from the ranges in ``saz/data/physical.toml``. Two models:

- ``pluck``: Karplus-Strong string (a noise burst, low-passed for brightness and comb-filtered for
  the pluck point, circulating in a delay line whose loop filter sets the decay), through a few
  body resonances;
- ``modal``: a sum of exponentially decaying partials at the model's frequency ratios, started
  by a short noise click (bars, tines, pans).

:func:`render_notes` writes the notes once as a library folder (``<class>/<model>_<n>.wav`` and a
``physical.json`` marker); :func:`physical_pool` reads such a folder into pool entries whose source
is ``physical``, so recipes take it with ``--samples DIR`` like any sample library.
"""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np
import soundfile as sf
from scipy import signal

SR = 22050
NOTE_SECONDS = 2.0
MARKER = "physical.json"
SOURCE = "physical"


@lru_cache(maxsize=1)
def models() -> dict[str, dict]:
    """The physical models of ``saz/data/physical.toml`` by name."""
    return tomllib.loads(resources.files("saz.data").joinpath("physical.toml").read_text())["models"]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _resonate(y: np.ndarray, centres: list[float], rng: np.random.Generator, sr: int) -> np.ndarray:
    """``y`` plus each of its body resonances (two-pole peaks, Q 4-12, gain 0.3-1)."""
    out = y.copy()
    for f in centres:
        b, a = signal.iirpeak(f, rng.uniform(4, 12), fs=sr)
        out += rng.uniform(0.3, 1.0) * signal.lfilter(b, a, y)
    return out


def pluck(f0: float, p: dict, rng: np.random.Generator, sr: int = SR, seconds: float = NOTE_SECONDS) -> np.ndarray:
    """One Karplus-Strong note at ``f0`` Hz with parameters drawn from the model ``p``."""
    n = int(seconds * sr)
    period = max(2, int(round(sr / f0)))
    t60 = _log_uniform(rng, *p["t60"])
    loop_gain = 10 ** (-3 / (t60 * f0))  # 60 dB down after t60 seconds, one pass per period
    burst = rng.uniform(-1, 1, period)
    cut = min(0.45 * sr, _log_uniform(rng, *p["brightness"]) * f0)
    burst = signal.sosfilt(signal.butter(2, cut, fs=sr, output="sos"), burst)
    pos = max(1, int(rng.uniform(*p["position"]) * period))
    burst[pos:] -= burst[:-pos].copy()  # a comb: the pluck point's missing harmonics
    x = np.zeros(n)
    x[:period] = burst
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -loop_gain / 2, -loop_gain / 2  # averaging loop filter
    y = signal.lfilter([1.0], a, x)
    return _resonate(y, [_log_uniform(rng, *r) for r in p["body"]], rng, sr)


def modal(f0: float, p: dict, rng: np.random.Generator, sr: int = SR, seconds: float = NOTE_SECONDS) -> np.ndarray:
    """One note of decaying partials at ``f0`` Hz with parameters drawn from the model ``p``."""
    t = np.arange(int(seconds * sr)) / sr
    y = np.zeros_like(t)
    for ratio, t60, level in zip(p["ratios"], p["t60"], p["level"]):
        f = f0 * rng.uniform(*ratio)
        if f >= 0.45 * sr:
            continue
        decay = np.exp(-6.9078 * t / _log_uniform(rng, *t60))  # ln(1000): 60 dB at t60
        y += 10 ** (rng.uniform(*level) / 20) * decay * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    click = int(0.004 * sr)
    y[:click] += 10 ** (rng.uniform(*p["click"]) / 20) * rng.uniform(-1, 1, click) * np.linspace(1, 0, click)
    return y


def note(name: str, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    """One note of the model ``name`` at a random pitch of its range, peak-normalised to -3 dBFS,
    with a 5 ms fade-in against clicks."""
    p = models()[name]
    f0 = 440.0 * 2 ** ((rng.integers(p["midi"][0], p["midi"][1] + 1) - 69) / 12)
    y = (pluck if p["kind"] == "pluck" else modal)(f0, p, rng, sr)
    fade = int(0.005 * sr)
    y[:fade] *= np.linspace(0, 1, fade)
    return (0.708 * y / max(float(np.abs(y).max()), 1e-9)).astype(np.float32)


def render_notes(out: str | os.PathLike, per_model: int = 40, seed: int = 0) -> Path:
    """Write ``per_model`` notes of every model into the library folder ``out`` (files written
    atomically, the marker last, so an interrupted run is redone, never half-read)."""
    out = Path(out)
    for name, p in models().items():
        folder = out / p["class"]
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, *name.encode()])
        for k in range(per_model):
            path = folder / f"{name}_{k:03d}.wav"
            tmp = path.with_suffix(".tmp.wav")
            sf.write(tmp, note(name, rng), SR, subtype="PCM_16")
            os.replace(tmp, path)
    tmp = out / f".{MARKER}.tmp"
    tmp.write_text(json.dumps({"per_model": per_model, "seed": seed, "models": sorted(models())}))
    os.replace(tmp, out / MARKER)
    return out


def is_physical_set(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is a complete library written by :func:`render_notes`."""
    return (Path(folder) / MARKER).is_file()


def physical_pool(folder: str | os.PathLike, classes: Iterable[str]) -> list[tuple[str, str, str]]:
    """Pool entries ``(wav, class or '', 'physical')`` of a library written by :func:`render_notes`."""
    wanted = set(classes)
    return [(str(f), f.parent.name if f.parent.name in wanted else "", SOURCE)
            for f in sorted(Path(folder).glob("*/*.wav"))]
