"""Read the preset table of a SoundFont (.sf2, or .sf3 with compressed samples) without a synth.

Presets are listed from the RIFF ``pdta/phdr`` chunk: 38-byte records of name (20 bytes),
preset (program) number, bank, and offsets. Used to map instrument classes to presets and to
report, per SoundFont, which classes it can and cannot play.

SoundFonts named without a path are looked up in Debian's folders, or in the folders of
``$SAZ_SOUNDFONT_DIRS`` (separated by ``os.pathsep``) where it is set.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SOUNDFONT_DIRS = (Path("/usr/share/sounds/sf2"), Path("/usr/share/sounds/sf3"), Path("/usr/share/soundfonts"))
# The Debian package that installs each SoundFont saz names (recipes, saz-bench, the tests).
DEBIAN_PACKAGES = {
    "FluidR3_GM": "fluid-soundfont-gm",
    "MuseScore_General": "musescore-general-soundfont",
    "TimGM6mb": "timgm6mb-soundfont",
    "sf_GMbank": "csound-soundfont",
    "Black_Pearl_4_LV2": "avldrums.lv2-soundfont",
    "Red_Zeppelin_4_LV2": "avldrums.lv2-soundfont",
}


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


def soundfont_dirs() -> tuple[Path, ...]:
    """The folders a SoundFont name is looked up in: those of ``$SAZ_SOUNDFONT_DIRS`` where it is
    set and not empty (a folder of one's own SoundFonts, or an empty one to test without any),
    Debian's otherwise."""
    env = os.environ.get("SAZ_SOUNDFONT_DIRS", "")
    return tuple(Path(d) for d in env.split(os.pathsep) if d) if env else SOUNDFONT_DIRS


def install_hint(name: str) -> str:
    """How to get the SoundFont ``name``: the Debian package that ships it, where saz knows one."""
    package = DEBIAN_PACKAGES.get(name)
    return f"apt-get install {package}" if package else f"put {name}.sf2 or {name}.sf3 in one of them"


def find_soundfont(name: str) -> Path:
    """Resolve a SoundFont by path, or by file name in :func:`soundfont_dirs`; FileNotFoundError
    naming the folders and the Debian package to install when it is in none of them."""
    p = Path(name)
    if p.exists():
        return p
    dirs = soundfont_dirs()
    for d in dirs:
        for ext in ("", ".sf2", ".sf3"):
            q = d / f"{name}{ext}"
            if q.exists():
                return q
    raise FileNotFoundError(f"SoundFont '{name}' not found in {', '.join(map(str, dirs))} "
                            f"($SAZ_SOUNDFONT_DIRS sets these folders): {install_hint(name)}")
