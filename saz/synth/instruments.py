"""The instrument map resolved against SoundFonts, and the real instrumentations (``saz/data/ensembles.toml``)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from saz.synth.soundfont import Preset, presets
from saz.vocabulary import InstrumentClass, load_map

DRUM_BANK = 128


@lru_cache(maxsize=1)
def ensembles() -> dict[str, dict]:
    """Real instrumentations (``saz/data/ensembles.toml``): name -> core, options, max."""
    table = tomllib.loads(resources.files("saz.data").joinpath("ensembles.toml").read_text())["ensembles"]
    return {k: {"core": tuple(v.get("core", ())), "options": tuple(v.get("options", ())), "max": int(v.get("max", 6))}
            for k, v in table.items()}


def class_presets(soundfont: str | Path, cls: InstrumentClass, variations: bool = False) -> list[Preset]:
    """Presets of ``soundfont`` that play ``cls`` (empty when the SoundFont lacks it).

    ``variations`` adds the class's programs in the GS-style variation banks 1-126
    (MuseScore's alternative and expressive presets among them) and every drum kit. Bank 127
    is left out: SoundFonts put the MT-32 map there, where program numbers mean other things.
    """
    table = presets(str(soundfont))
    if cls.is_drum:
        kits = [p for p in table if p.bank == DRUM_BANK]
        return kits if variations else kits[:1]
    by_slot = {(p.bank, p.program): p for p in table}
    out = [by_slot[(0, prog)] for prog in cls.programs if (0, prog) in by_slot]
    if variations:
        out += [p for p in table if 0 < p.bank < 127 and p.program in cls.programs]
    wanted = [n.lower() for n in cls.presets]
    out += [p for p in table if p.bank != DRUM_BANK and any(w in p.name.lower() for w in wanted)]
    return out


def coverage(soundfont: str | Path, classes: dict[str, InstrumentClass] | None = None) -> dict[str, list[Preset]]:
    """Class name -> presets available in ``soundfont``."""
    classes = classes or load_map()
    return {name: class_presets(soundfont, c) for name, c in classes.items()}
