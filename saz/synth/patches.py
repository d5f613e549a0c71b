"""Gravis UltraSound patches (``.pat``, as Debian's ``freepats`` ships them) as recorded notes.

A GUS patch holds one instrument as a few recorded samples, each covering a key range, with a
loop that a synthesiser repeats while a key is held. saz has no TiMidity render path, so each
sample becomes one note: the recording up to its loop end, the loop repeated until the note
lasts ``NOTE_SECONDS``, then a short fade. Written once as WAV files to a cache folder, the notes
join the real-recording pools of :mod:`saz.synth.sources` like any sample library.

Layout read (``/usr/share/midi/freepats``): ``Tone_000/NNN_Name.pat`` for General MIDI program
``NNN`` (0-based) and ``Drum_000/NNN_Name.pat`` for percussion key ``NNN``; classes come from the
``programs`` and ``drum_notes`` of ``saz/data/instruments.toml``, and every other patch is a
distractor (a real sound outside the vocabulary).
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import soundfile as sf

from saz.datasets.base import Dataset
from saz.features.cache import default_cache_dir
from saz.synth.library import mixture_dataset
from saz.vocabulary import default_vocabulary, load_map

FREEPATS = Path("/usr/share/midi/freepats")
NOTE_SECONDS = 2.0
FADE_SECONDS = 0.05
_MAGIC = b"GF1PATCH"
_FIRST_SAMPLE = 239  # patch header 129 + instrument header 63 + layer header 47
_SAMPLE_HEADER = 96
_LAYOUT = "*_*/[0-9][0-9][0-9]_*.pat"  # Tone_000/NNN_Name.pat, Drum_000/NNN_Name.pat


class PatchError(ValueError):
    """A file that is not a readable GUS patch; the message names it."""


@dataclass(frozen=True)
class PatchSample:
    """One recorded sample of a patch: audio at its own rate, loop points in samples."""

    audio: np.ndarray
    sr: int
    loop: tuple[int, int] | None


def read_patch(path: str | os.PathLike) -> list[PatchSample]:
    """The samples of a GUS patch file (8- or 16-bit, signed or unsigned, looped or not)."""
    b = Path(path).read_bytes()
    if not b.startswith(_MAGIC) or len(b) < _FIRST_SAMPLE:
        raise PatchError(f"{path}: not a GUS patch (no GF1PATCH header)")
    out = []
    pos = _FIRST_SAMPLE
    for _ in range(b[198]):  # samples in the first layer
        if pos + _SAMPLE_HEADER > len(b):
            raise PatchError(f"{path}: truncated sample header at byte {pos}")
        length, loop_start, loop_end = struct.unpack_from("<III", b, pos + 8)
        (rate,) = struct.unpack_from("<H", b, pos + 20)
        modes = b[pos + 55]
        data = b[pos + _SAMPLE_HEADER : pos + _SAMPLE_HEADER + length]
        if len(data) < length or rate == 0:
            raise PatchError(f"{path}: truncated or rateless sample at byte {pos}")
        wide, unsigned, looped = modes & 1, modes & 2, modes & 4
        dtype = ("<u2" if wide else np.uint8) if unsigned else ("<i2" if wide else np.int8)
        x = np.frombuffer(data[: length - length % 2] if wide else data, dtype=dtype).astype(np.float32)
        bits = 16 if wide else 8
        x = (x - 2 ** (bits - 1) if unsigned else x) / 2 ** (bits - 1)
        step = 2 if wide else 1
        loop = (loop_start // step, loop_end // step) if looped and loop_end > loop_start else None
        out.append(PatchSample(x, int(rate), loop))
        pos += _SAMPLE_HEADER + length
    return out


def note(sample: PatchSample, seconds: float = NOTE_SECONDS) -> np.ndarray:
    """The sample as a held note: its loop repeated until ``seconds``, then faded out."""
    x = sample.audio
    if sample.loop:
        start, end = sample.loop
        head, body = x[:end], x[start:end]
        need = int(seconds * sample.sr) - len(head)
        x = np.concatenate([head, np.tile(body, max(0, -(-need // len(body))))]) if need > 0 else head
        x = x[: max(int(seconds * sample.sr), len(head))]
    fade = min(len(x), int(FADE_SECONDS * sample.sr))
    x = x.copy()
    x[len(x) - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)
    return x


def _classes(kind: str) -> dict[int, str]:
    """GM program (``Tone``) or percussion key (``Drum``) -> class of the default vocabulary."""

    return {n: name for name, c in load_map().items() for n in (c.programs if kind == "Tone" else c.drum_notes)}


def patch_pool(folder: str | os.PathLike, classes: Iterable[str], cache: str | os.PathLike) -> list[tuple[str, str, str]]:
    """Pool entries ``(wav, class or '', 'freepats')`` for the patches under ``folder``, their notes
    written once under ``cache`` (atomically; an unreadable patch is skipped with its reason
    printed, the rest go on)."""
    wanted = set(classes)
    files = sorted(Path(folder).glob(_LAYOUT))
    out_dir = Path(cache) / f"freepats-{zlib.crc32(repr([(f.name, f.stat().st_size) for f in files]).encode()):08x}"
    maps = {"Tone": _classes("Tone"), "Drum": _classes("Drum")}
    entries: list[tuple[str, str, str]] = []
    for f in files:
        kind = f.parent.name.split("_")[0]
        if kind not in maps:
            continue
        cls = maps[kind].get(int(f.name[:3]), "")
        target = out_dir / f.parent.name / f.stem
        try:
            notes = sorted(target.glob("*.wav")) if (target / ".done").exists() else _write_notes(f, target)
        except PatchError as e:
            print(f"skipped: {e}", file=sys.stderr)
            continue
        entries += [(str(p), cls if cls in wanted else "", "freepats") for p in notes]
    return entries


def _write_notes(patch: Path, target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, s in enumerate(read_patch(patch)):
        path = target / f"{patch.stem}_{k:02d}.wav"
        tmp = path.with_suffix(".tmp.wav")
        sf.write(tmp, note(s), s.sr, subtype="PCM_16")
        os.replace(tmp, path)
        paths.append(path)
    (target / ".done").touch()
    return paths


def is_patch_set(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds GUS patches in the freepats layout."""
    return any(Path(folder).glob(_LAYOUT))


def patch_mixtures(root: str | Path, n: int, out: str | Path, seed: int, cache: str | Path | None = None) -> Dataset:
    """``n`` validation clips mixed from the notes of the patch set under ``root`` (a source the
    default never heard), as a dataset written once under ``out``."""
    pool = patch_pool(Path(root), default_vocabulary().names, Path(cache) if cache else default_cache_dir())
    return mixture_dataset(pool, n, Path(out), seed, "unheard")
