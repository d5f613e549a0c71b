"""Audio input: decode any file libsndfile reads (wav, flac, ogg/vorbis, mp3) to float32 mono.

Every failure surfaces as :class:`AudioError` naming the file and the cause, so a batch can
report one line per bad file and carry on; :class:`AudioFormatError`, a kind of it, says the file
is in no format saz decodes (rather than corrupt or unusable audio). Windows (offset/duration) seek instead of reading
the whole file, and :func:`stream` yields fixed-length blocks so long recordings are processed
with memory bounded by the block size.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf
import soxr

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
SILENCE_DBFS = -80.0  # peak level below which a signal counts as silent
AUDIBLE_DBFS = -50.0  # loudest 100 ms below this: breath, key noise or silence, not an instrument playing
TRUNCATION_TOLERANCE = 0.1  # seconds a decoder may fall short of the header's frame count
MP3_LENGTH_SLACK = 0.25  # fraction an mp3 may fall short of its (estimated) frame count...
MP3_SLACK_SECONDS = 0.5  # ...or this many seconds, whichever is more


class AudioError(Exception):
    """A file could not be used as audio. ``str(err)`` is one line: ``path: cause``."""

    def __init__(self, path: str | os.PathLike, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.cause)


class AudioFormatError(AudioError):
    """The file is not in an audio format saz decodes: not audio at all, or a format libsndfile
    does not read (the web app answers 415 to it; other :class:`AudioError` s are corrupt or
    unusable audio)."""


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, without decoding the samples."""

    path: str
    samplerate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        return self.frames / self.samplerate


def info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of ``path``; raise :class:`AudioError` if it is not usable audio."""
    p = Path(path)
    if not p.exists():
        raise AudioError(p, "file not found")
    if p.is_dir():
        raise AudioError(p, "is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise AudioError(p, "empty file (0 bytes)")
    try:
        i = sf.info(str(p))
    except sf.LibsndfileError as e:
        raise _open_error(p, e) from None
    except (RuntimeError, OSError) as e:
        raise AudioError(p, f"cannot open: {e}") from None
    if i.frames <= 0:
        raise AudioError(p, "zero-length audio (no samples)")
    short = _declared_data_shortfall(i.extra_info)
    if short:
        raise AudioError(p, f"truncated file: header declares {short[0]} data bytes, file holds {short[1]}")
    return AudioInfo(str(p), int(i.samplerate), int(i.channels), int(i.frames), i.format, i.subtype)


def _open_error(p: Path, e: Exception) -> AudioError:
    """The typed error for libsndfile refusing to open ``p`` (its words are all it tells)."""
    msg = str(e)
    if "unknown format" in msg.lower() or "format not recognised" in msg.lower():
        if p.suffix.lower() in AUDIO_EXTENSIONS:
            return AudioFormatError(p, f"not audio or corrupt header ({p.suffix} file that libsndfile cannot parse)")
        return AudioFormatError(p, f"unsupported format '{p.suffix or 'no extension'}'")
    if "does not exist" in msg:  # libsndfile's words for data its decoders reject
        msg = "no decoder accepts the data"
    return AudioError(p, f"corrupt or undecodable audio ({msg.split(':', 1)[-1].strip() or msg})")


def _declared_data_shortfall(extra_info: str) -> tuple[int, int] | None:
    """(declared, present) data bytes when a WAV/AIFF header promises more than the file holds."""
    m = re.search(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)", extra_info or "")
    if m and int(m.group(1)) > int(m.group(2)) > 0:
        return int(m.group(1)), int(m.group(2))
    return None


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average channels of a (frames, channels) array; pass mono through. A matrix-vector
    product, several times faster than ``mean(axis=1)`` over a short last axis."""
    if x.ndim != 2:
        return x
    return x @ np.full(x.shape[1], 1.0 / x.shape[1], dtype=x.dtype if x.dtype.kind == "f" else np.float64)


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """High-quality resampling with soxr; float32 out."""
    if sr_in == sr_out:
        return y.astype(np.float32, copy=False)
    return soxr.resample(y, sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def load(
    path: str | os.PathLike,
    sr: int | None = 22050,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Load ``path`` as float32 mono at ``sr`` (None keeps the file's rate).

    Only the frames of ``[offset, offset + duration)`` are decoded. Returns ``(y, sr)``.
    """
    meta = info(path)
    if offset < 0 or (duration is not None and duration <= 0):
        raise AudioError(path, f"invalid window offset={offset} duration={duration}")
    start = int(round(offset * meta.samplerate))
    if start >= meta.frames:
        raise AudioError(path, f"offset {offset:.3f}s is past the end ({meta.duration:.3f}s)")
    n = -1 if duration is None else int(round(duration * meta.samplerate))
    try:
        with sf.SoundFile(str(path)) as f:
            if start:
                f.seek(start)
            x = f.read(frames=n, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(path, f"corrupt data: {e}") from None
    expected = meta.frames - start if n < 0 else min(n, meta.frames - start)
    slack = TRUNCATION_TOLERANCE * meta.samplerate
    if meta.format in ("MP3", "MPEG"):  # an mp3's frame count is an estimate from its header
        slack = max(MP3_SLACK_SECONDS * meta.samplerate, MP3_LENGTH_SLACK * expected)
    if x.shape[0] < expected - slack:
        raise AudioError(path, f"truncated or corrupt: decoded {x.shape[0]} of {expected} frames")
    y = to_mono(x)
    if not np.all(np.isfinite(y)):
        raise AudioError(path, "corrupt data: non-finite samples")
    out_sr = meta.samplerate if sr is None else int(sr)
    return resample(y, meta.samplerate, out_sr), out_sr


def stream(
    path: str | os.PathLike, sr: int = 22050, block_seconds: float = 60.0
) -> Iterator[np.ndarray]:
    """Yield consecutive float32 mono blocks of about ``block_seconds`` at ``sr``.

    The resampler keeps state across blocks, so the concatenation equals one-shot resampling
    up to filter edge effects, and memory stays bounded by the block size.
    """
    meta = info(path)
    block = max(1, int(block_seconds * meta.samplerate))
    rs = None if meta.samplerate == sr else soxr.ResampleStream(meta.samplerate, sr, 1, dtype="float32")
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                x = f.read(frames=block, dtype="float32", always_2d=True)
                last = x.shape[0] < block
                y = to_mono(x).astype(np.float32, copy=False)
                if rs is not None:
                    y = rs.resample_chunk(y, last=last)
                if y.size:
                    yield y
                if last:
                    return
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(path, f"corrupt data: {e}") from None


def peak_dbfs(y: np.ndarray) -> float:
    """Peak level in dB relative to full scale (-inf for digital silence)."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return -np.inf if peak == 0.0 else 20.0 * np.log10(peak)


def is_silent(y: np.ndarray, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when the signal never rises above ``threshold_dbfs``."""
    return peak_dbfs(y) < threshold_dbfs


def loudest_dbfs(y: np.ndarray, sr: int, window: float = 0.1) -> float:
    """RMS level (dBFS) of the loudest ``window``-second stretch (hop half a window); the
    whole signal when it is shorter. -inf for digital silence."""
    n = max(1, int(window * sr))
    if len(y) <= n:
        power = float(np.mean(np.square(y))) if y.size else 0.0
    else:
        frames = np.lib.stride_tricks.sliding_window_view(y, n)[:: max(1, n // 2)]
        power = float(np.max(np.mean(np.square(frames, dtype=np.float64), axis=1)))
    return -np.inf if power == 0.0 else 10.0 * np.log10(power)


def is_audible(path: str | os.PathLike, floor_dbfs: float = AUDIBLE_DBFS) -> bool:
    """Whether a recording plays something: its loudest 100 ms reaches ``floor_dbfs``.

    Sample libraries ship breath and key-noise layers (MTG SoloSax: about -60 to -76 dBFS) under
    an instrument's name; as evaluation items labelled with that instrument they measure nothing.
    """
    y, sr = load(path, sr=None)
    return loudest_dbfs(y, sr) >= floor_dbfs


def find_audio(paths: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of audio files.

    Files named explicitly are kept whatever their extension, so a bad file given by the user
    is reported rather than silently skipped.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in AUDIO_EXTENSIONS))
        else:
            out.append(p)
    return out
