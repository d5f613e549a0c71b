"""Audio input: decode any file libsndfile reads (wav, flac, ogg/vorbis, opus, mp3) to float32 mono,
and, when an ``ffmpeg`` executable is on PATH, any other that ffmpeg decodes (m4a/AAC, WMA...).

Every failure surfaces as :class:`AudioError` naming the file and the cause, so a batch can
report one line per bad file and carry on; :class:`AudioFormatError`, a kind of it, says the file
is in no format saz decodes (rather than corrupt or unusable audio). Windows (offset/duration) seek instead of reading
the whole file, and :func:`stream` yields fixed-length blocks so long recordings are processed
with memory bounded by the block size.

:func:`load` and :func:`stream` make the same checks, so every entry point refuses the same
files: a sample format outside :data:`SUBTYPES` or one the header contradicts (decoded, it would
be noise), NaN or infinite samples, and a decode that stops early
(:class:`PartialAudioError`: fewer frames than the header declares, or an Ogg stream without its
last page). A file libsndfile cannot open goes to ffmpeg (:mod:`saz.ffmpeg`) when there is one:
the same checks apply to what it decodes, and its errors are as short; without ffmpeg, a file
of :data:`FFMPEG_EXTENSIONS` says in one line to install it.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf
import soxr

from saz import ffmpeg

FFMPEG_EXTENSIONS = (".m4a", ".aac", ".wma")  # formats libsndfile does not read: decoded by ffmpeg
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", *FFMPEG_EXTENSIONS)
FFMPEG = "FFMPEG"  # AudioInfo.format of a file that ffmpeg decodes (its subtype: the codec)
# Sample formats libsndfile decodes faithfully (a FLAC file reports its PCM width);
# any other, e.g. a bogus header's, is refused rather than decoded as noise.
SUBTYPES = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW",
                      "IMA_ADPCM", "MS_ADPCM", "GSM610", "VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II",
                      "MPEG_LAYER_III", "ALAC_16", "ALAC_20", "ALAC_24", "ALAC_32"})
SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}
OGG_MAX_PAGE = 27 + 255 + 255 * 255  # bytes: header, segment table, largest body
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

    def renamed(self, path: str | os.PathLike) -> AudioError:
        """This error, of its type, naming ``path`` instead of its file wherever its text does (the
        web app names the upload, not the temporary copy it decoded)."""
        other = copy.copy(self)
        other.path, other.cause = str(path), self.cause.replace(self.path, str(path))
        other.args = (f"{other.path}: {other.cause}",)
        return other


class AudioFormatError(AudioError):
    """The file is not in an audio format saz decodes: not audio at all, or a format libsndfile
    does not read (the web app answers 415 to it; other :class:`AudioError` s are corrupt or
    unusable audio)."""


class PartialAudioError(AudioError):
    """Decoding stopped before the end of the recording: ``decoded`` seconds came out, of
    ``declared`` (None: an Ogg stream without its last page, whose length nothing declares).
    :func:`stream` raises it after yielding every block it decoded, so a caller that accepts part
    of a file (``predict(..., allow_partial=True)``) keeps what it has."""

    def __init__(self, path: str | os.PathLike, decoded: float, declared: float | None):
        self.decoded, self.declared = decoded, declared
        if declared is None:
            cause = f"truncated: the Ogg stream stops at {decoded:.1f} s without its last page"
        else:
            cause = f"truncated or corrupt: decoding stopped at {decoded:.1f} s of the {declared:.1f} s the header declares"
        super().__init__(path, cause)

    def __reduce__(self) -> tuple:
        return type(self), (self.path, self.decoded, self.declared)


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
    _check_file(p)
    try:
        i = sf.info(str(p))
    except sf.LibsndfileError as e:
        refused = _open_error(p, e)
    except (RuntimeError, OSError) as e:
        refused = AudioError(p, f"cannot open: {e}")
    else:
        refused = None
    if refused is not None:
        return _ffmpeg_info(p, refused)
    if i.frames <= 0:
        raise AudioError(p, "zero-length audio (no samples)")
    short = _declared_data_shortfall(i.extra_info)
    if short:
        raise AudioError(p, f"truncated file: header declares {short[0]} data bytes, file holds {short[1]}")
    meta = AudioInfo(str(p), int(i.samplerate), int(i.channels), int(i.frames), i.format, i.subtype)
    _check_sample_format(meta, i.extra_info or "")
    return meta


def _ffmpeg_info(p: Path, refused: AudioError) -> AudioInfo:
    """The header of a file libsndfile ``refused``, as ffmpeg reports it. Without ffmpeg, a file
    named as a format only ffmpeg reads is told to install it; one ffmpeg cannot read either is
    :class:`AudioFormatError` in ffmpeg's words if so named, else ``refused``."""
    only_ffmpeg = p.suffix.lower() in FFMPEG_EXTENSIONS
    if ffmpeg.executable() is None:
        if only_ffmpeg:
            raise AudioFormatError(p, f"{p.suffix} audio needs ffmpeg, which is not installed (not on PATH): "
                                      "install ffmpeg to decode it")
        raise refused
    try:
        found = ffmpeg.probe(p)
    except ffmpeg.FFmpegError as e:
        if only_ffmpeg:
            raise AudioFormatError(p, f"not audio or corrupt ({p.suffix} file that ffmpeg cannot decode: {e})") from None
        raise refused from None
    if not found.seconds:
        raise AudioError(p, "zero-length audio (ffmpeg reports no duration)")
    return AudioInfo(str(p), found.samplerate, found.channels, int(round(found.seconds * found.samplerate)),
                     FFMPEG, found.codec)


def _blocks(meta: AudioInfo, start: int, n: int, block: int) -> Iterator[np.ndarray]:
    """Frames ``[start, start + n)`` of ``meta``'s file (``n`` -1: to the end) as float32
    ``(frames, channels)`` blocks of ``block`` frames (-1: one block), the last shorter; decoded
    by libsndfile, or by ffmpeg for a file only ffmpeg reads. AudioError for data that does not decode."""
    if meta.format == FFMPEG:
        yield from _ffmpeg_blocks(meta, start, n, block)
        return
    try:
        with sf.SoundFile(meta.path) as f:
            if start:
                f.seek(start)
            while True:
                x = f.read(frames=n if block < 0 else block, dtype="float32", always_2d=True)
                yield x
                if block < 0 or x.shape[0] < block:
                    break
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(meta.path, f"corrupt data: {e}") from None


def _ffmpeg_blocks(meta: AudioInfo, start: int, n: int, block: int) -> Iterator[np.ndarray]:
    """:func:`_blocks` through ffmpeg; a decode it ends with an error is :class:`PartialAudioError`
    after what it decoded (:class:`AudioError` when that was nothing)."""
    found = ffmpeg.Probe(meta.samplerate, meta.channels, meta.duration, meta.subtype)
    decoded = 0
    try:
        for x in ffmpeg.decode(meta.path, found, start / meta.samplerate, None if n < 0 else n / meta.samplerate, block):
            if n >= 0:
                x = x[:max(0, n - decoded)]  # -t rounds to whole samples: not one frame past the window
            decoded += x.shape[0]
            yield x
    except ffmpeg.FFmpegError as e:
        if decoded == 0:
            raise AudioError(meta.path, f"corrupt or undecodable audio (ffmpeg: {e})") from None
        raise PartialAudioError(meta.path, (start + decoded) / meta.samplerate, meta.duration) from None


def _check_file(p: Path) -> None:
    """Raise :class:`AudioError` unless ``p`` is a regular file with bytes this process may read
    (before libsndfile, whose words for these are vaguer)."""
    if not p.exists():
        raise AudioError(p, f"broken symbolic link (to {os.readlink(p)})" if p.is_symlink() else "file not found")
    if p.is_dir():
        raise AudioError(p, "is a directory, not an audio file")
    if not stat.S_ISREG(p.stat().st_mode):
        raise AudioError(p, "not a regular file (a pipe, socket or device)")
    if not os.access(p, os.R_OK):
        raise AudioError(p, "permission denied: the file is not readable")
    if p.stat().st_size == 0:
        raise AudioError(p, "empty file (0 bytes)")


def _check_sample_format(meta: AudioInfo, extra_info: str) -> None:
    """Raise :class:`AudioFormatError` for a sample format outside :data:`SUBTYPES`, or a header
    whose frame size (libsndfile's ``extra_info``) contradicts it: a 7-bit PCM header in 2-byte
    frames is read as 8-bit samples, noise."""
    if meta.subtype not in SUBTYPES:
        raise AudioFormatError(meta.path, f"sample format {meta.subtype or 'unknown'} is not one saz decodes faithfully")
    align = re.search(r"Block Align\s*:\s*(\d+)", extra_info)
    width = SAMPLE_BYTES.get(meta.subtype)
    if align and width and int(align.group(1)) != width * meta.channels:
        bits = re.search(r"Bit Width\s*:\s*(\d+)", extra_info)
        raise AudioFormatError(meta.path, f"bogus header: {bits.group(1) if bits else '?'} bits per sample in "
                                          f"{align.group(1)}-byte frames of {meta.channels} channel(s), which "
                                          f"libsndfile would read as {meta.subtype}")


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
    x = np.concatenate(list(_blocks(meta, start, n, -1)))  # one block, read to the end: the decoder's verdict too
    y = require_finite(path, to_mono(x))
    _check_complete(meta, start, n, len(y))
    out_sr = meta.samplerate if sr is None else int(sr)
    return resample(y, meta.samplerate, out_sr), out_sr


def stream(
    path: str | os.PathLike, sr: int = 22050, block_seconds: float = 60.0
) -> Iterator[np.ndarray]:
    """Yield consecutive float32 mono blocks of about ``block_seconds`` at ``sr``.

    The resampler keeps state across blocks, so the concatenation equals one-shot resampling
    up to filter edge effects, and memory stays bounded by the block size. A decode that stops
    early raises :class:`PartialAudioError` after the last block it decoded.
    """
    meta = info(path)
    block = max(1, int(block_seconds * meta.samplerate))
    rs = None if meta.samplerate == sr else soxr.ResampleStream(meta.samplerate, sr, 1, dtype="float32")
    decoded = 0
    for x in _blocks(meta, 0, -1, block):
        y = require_finite(path, to_mono(x).astype(np.float32, copy=False))
        decoded += len(y)
        if rs is not None:
            y = rs.resample_chunk(y, last=x.shape[0] < block)
        if y.size:
            yield y
    _check_complete(meta, 0, -1, decoded)


def require_finite(source: str | os.PathLike, y: np.ndarray) -> np.ndarray:
    """``y``, unless it holds a NaN or an infinity (a corrupt float file): the network would
    answer with NaN probabilities, so :class:`AudioError` instead."""
    if not np.isfinite(y).all():
        raise AudioError(source, "contains NaN or infinite samples")
    return y


def _check_complete(meta: AudioInfo, start: int, n: int, decoded: int) -> None:
    """Raise :class:`PartialAudioError` when a read of ``n`` frames from ``start`` (-1: to the
    end) gave fewer than the header declares, beyond the tolerance, or ran to the end of an Ogg
    stream that lacks its last page (libsndfile then counts only the frames that survive)."""
    expected = meta.frames - start if n < 0 else min(n, meta.frames - start)
    slack = TRUNCATION_TOLERANCE * meta.samplerate
    if meta.format in ("MP3", "MPEG", FFMPEG):  # a frame count estimated from a header, or a container's duration
        slack = max(MP3_SLACK_SECONDS * meta.samplerate, MP3_LENGTH_SLACK * expected)
    if decoded < expected - slack:
        raise PartialAudioError(meta.path, (start + decoded) / meta.samplerate, meta.duration)
    if meta.format == "OGG" and start + expected >= meta.frames and not _ogg_ended(meta.path):
        raise PartialAudioError(meta.path, (start + decoded) / meta.samplerate, None)


def _ogg_ended(path: str) -> bool:
    """Whether the file ends with a whole Ogg page flagged end-of-stream, as a complete Ogg file
    does (a cut one ends inside a page, or after one that is not the last)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - OGG_MAX_PAGE))
        tail = f.read()
    for k in (m.start() for m in re.finditer(b"OggS", tail)):  # the page that ends where the file does
        if len(tail) < k + 27:  # no whole page header from here on
            break
        lacing = tail[k + 27:k + 27 + tail[k + 26]]  # the segment table: the body's length, in parts
        if len(lacing) == tail[k + 26] and k + 27 + len(lacing) + sum(lacing) == len(tail):
            return bool(tail[k + 5] & 0x04)  # header type flag 4: end of stream
    return False


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


@dataclass(frozen=True)
class Scan:
    """What a folder holds: its audio files (by extension, recursively, sorted) and the other
    files, which a scan skips."""

    folder: Path
    files: list[Path]
    skipped: list[Path]


def scan(folder: str | os.PathLike) -> Scan:
    """The files under ``folder``, recursively, split into audio (:data:`AUDIO_EXTENSIONS`) and the
    rest; a broken link or a socket named like audio counts as audio, to be reported when read."""
    found = sorted(q for q in Path(folder).rglob("*") if not q.is_dir())
    is_audio = [q.suffix.lower() in AUDIO_EXTENSIONS for q in found]
    return Scan(Path(folder), [q for q, a in zip(found, is_audio) if a], [q for q, a in zip(found, is_audio) if not a])


def find_audio(paths: list[str | os.PathLike], on_scan: Callable[[Scan], None] | None = None) -> list[Path]:
    """Expand files and folders (recursively) into a list of audio files, each folder's sorted.

    Files named explicitly are kept whatever their extension, so a bad file given by the user
    is reported rather than silently skipped; ``on_scan`` sees each folder's :class:`Scan`, to
    say what it skipped.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = scan(p)
            if on_scan is not None:
                on_scan(found)
            out.extend(found.files)
        else:
            out.append(p)
    return out
