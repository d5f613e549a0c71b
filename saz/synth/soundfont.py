"""Read the preset table of a SoundFont (.sf2, or .sf3 with compressed samples) without a synth.

Presets are listed from the RIFF ``pdta/phdr`` chunk: 38-byte records of name (20 bytes),
preset (program) number, bank, and offsets. Used to map instrument classes to presets and to
report, per SoundFont, which classes it can and cannot play.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"), Path("/usr/share/soundfonts"))


@dataclass(frozen=True)
class Preset:
    bank: int
    program: int
    name: str


class SoundFontError(Exception):
    """Not a readable SoundFont."""


@lru_cache(maxsize=16)
def presets(path: str | os.PathLike) -> tuple[Preset, ...]:
    """All presets of the SoundFont at ``path`` (the terminal 'EOP' record excluded)."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise SoundFontError(f"{p}: not a SoundFont (no RIFF sfbk header)")
        while True:
            hdr = f.read(8)
            if len(hdr) < 8:
                raise SoundFontError(f"{p}: no pdta chunk")
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"LIST":
                kind = f.read(4)
                if kind == b"pdta":
                    return _parse_pdta(f.read(size - 4), p)
                f.seek(size - 4 + (size & 1), 1)
            else:
                f.seek(size + (size & 1), 1)


def _parse_pdta(data: bytes, p: Path) -> tuple[Preset, ...]:
    pos = 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"phdr":
            body = data[pos + 8 : pos + 8 + size]
            out = []
            for i in range(size // 38 - 1):
                rec = body[i * 38 : (i + 1) * 38]
                name = rec[:20].split(b"\0", 1)[0].decode("latin-1").strip()
                program, bank = struct.unpack("<HH", rec[20:24])
                out.append(Preset(bank, program, name))
            return tuple(out)
        pos += 8 + size + (size & 1)
    raise SoundFontError(f"{p}: no phdr chunk")


def find_soundfont(name: str) -> Path:
    """Resolve a SoundFont by path or by file name in the usual Debian folders."""
    p = Path(name)
    if p.exists():
        return p
    for d in SOUNDFONT_DIRS:
        for ext in ("", ".sf2", ".sf3"):
            q = d / f"{name}{ext}"
            if q.exists():
                return q
    raise FileNotFoundError(f"SoundFont '{name}' not found (looked in {', '.join(map(str, SOUNDFONT_DIRS))}; "
                            "Debian packages fluid-soundfont-gm, musescore-general-soundfont, timgm6mb-soundfont)")
