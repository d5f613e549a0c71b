"""Decoding through an ``ffmpeg`` executable: the formats libsndfile does not read (m4a/AAC, WMA...).

:func:`saz.audio.info` turns here when libsndfile cannot open a file and ``ffmpeg`` is on PATH
(:func:`executable`). :func:`probe` reads what ffmpeg reports of the file's first audio stream
(sample rate, channels, duration, codec) without decoding it; :func:`decode` runs ffmpeg in a
subprocess that writes the stream as 32-bit float PCM to its standard output, at the file's own
rate and channels (saz resamples and mixes down as it does for every other format), and yields
it in blocks, so memory stays bounded. Errors are :class:`FFmpegError`, whose text is ffmpeg's
own last line; :mod:`saz.audio` names the file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np

PROBE_SECONDS = 60  # the longest a probe may take (ffmpeg reads the container's header only)
NAMED_LAYOUTS = {"mono": 1, "stereo": 2, "downmix": 2, "quad": 4, "hexagonal": 6, "octagonal": 8, "hexadecagonal": 16}
_STREAM = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+)[^\n]*?, (\d+) Hz, ([^,\n]+)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


class FFmpegError(Exception):
    """ffmpeg could not read or decode a file; ``str(err)`` is one line, the cause."""


@dataclass(frozen=True)
class Probe:
    """What ffmpeg reports of a file's first audio stream; ``seconds`` None when it states no duration."""

    samplerate: int
    channels: int
    seconds: float | None
    codec: str


def executable() -> str | None:
    """The ``ffmpeg`` found on PATH, or None."""
    return shutil.which("ffmpeg")


def _last_line(text: str) -> str:
    """The last non-empty line of ffmpeg's messages (its verdict), or a stand-in."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "ffmpeg gave no reason"


def _channels(layout: str) -> int:
    """Channels of an ffmpeg channel layout ('stereo', '5.1(side)', '3 channels'); FFmpegError if unknown."""
    name = layout.split("(")[0].strip()
    if m := re.fullmatch(r"(\d+) channels", name):
        return int(m[1])
    if m := re.fullmatch(r"(\d+)\.(\d+)", name):
        return int(m[1]) + int(m[2])
    if name not in NAMED_LAYOUTS:
        raise FFmpegError(f"channel layout '{layout}' that saz does not know")
    return NAMED_LAYOUTS[name]


def probe(path: str | os.PathLike) -> Probe:
    """What ffmpeg reports of ``path``'s first audio stream (``ffmpeg -i``, which decodes nothing);
    FFmpegError when ffmpeg is missing, cannot read the file or finds no audio stream in it."""
    exe = executable()
    if exe is None:
        raise FFmpegError("ffmpeg is not installed (not on PATH)")
    try:
        run = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", os.fspath(path)], capture_output=True,
                             timeout=PROBE_SECONDS, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise FFmpegError(f"ffmpeg could not be run ({e})") from None
    report = run.stderr.decode("utf-8", "replace")
    stream = _STREAM.search(report)
    if stream is None:  # ffmpeg's verdict starts with the path, which the caller names already
        raise FFmpegError(_last_line(report).removeprefix(f"{os.fspath(path)}: ") if "Input #" not in report
                          else "no audio stream in it")
    d = _DURATION.search(report)
    seconds = None if d is None else 3600 * int(d[1]) + 60 * int(d[2]) + float(d[3])
    return Probe(int(stream[2]), _channels(stream[3]), seconds, stream[1])


def decode(path: str | os.PathLike, found: Probe, start: float = 0.0, seconds: float | None = None,
           block: int = -1) -> Iterator[np.ndarray]:
    """The first audio stream of ``path`` from ``start`` for ``seconds`` (None: to the end) as
    float32 ``(frames, channels)`` blocks of ``block`` frames (-1: one block), at the rate and
    channels of ``found`` (:func:`probe`); the last block is shorter than ``block`` (empty, if
    need be). FFmpegError, after the blocks decoded, when ffmpeg stops with an error."""
    cmd = [executable() or "ffmpeg", "-v", "error", "-nostdin", *(["-ss", f"{start:.6f}"] if start else []),
           "-i", os.fspath(path), *(["-t", f"{seconds:.6f}"] if seconds is not None else []), "-map", "0:a:0",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(found.channels), "-ar", str(found.samplerate), "pipe:1"]
    frame = 4 * found.channels
    with tempfile.TemporaryFile() as messages:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=messages)
        try:
            while True:
                data = proc.stdout.read(-1 if block < 0 else block * frame)
                yield np.frombuffer(data[:len(data) // frame * frame], np.float32).reshape(-1, found.channels)
                if block < 0 or len(data) < block * frame:
                    break
            if proc.wait() != 0:
                messages.seek(0)
                raise FFmpegError(_last_line(messages.read().decode("utf-8", "replace")))
        finally:
            if proc.poll() is None:  # the reader stopped early: ffmpeg need not decode the rest
                proc.kill()
            proc.stdout.close()
            proc.wait()
