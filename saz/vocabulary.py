"""saz's label space: the instrument map, the default vocabulary and the table of instrument names.

The instrument map (``saz/data/instruments.toml``) lists the default model's classes in order,
with how each is played (GM programs, preset names, drum keys, range, roles); the name table
(``saz/data/sample_names.toml``) maps the names datasets and sample libraries use to those classes
(HamNava's ``santour`` -> ``dulcimer``). Everything here is data: it imports nothing of saz above
:mod:`saz.labels`, so readers, training and scoring use it without the synthesiser.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from saz.labels import Vocabulary, normalise_name

# The instruments of Iranian classical music, as its musicians name them (voice aside): what a
# listener of that music expects a tool to know, whether or not a vocabulary has them.
IRANIAN_CLASSICAL = ("tar", "setar", "santur", "kamancheh", "ney", "oud", "tonbak", "daf")


@dataclass(frozen=True)
class InstrumentClass:
    """How one class is played: GM programs, preset names, drum keys, range and roles."""

    name: str
    programs: tuple[int, ...] = ()
    presets: tuple[str, ...] = ()
    drum_notes: tuple[int, ...] = ()
    range: tuple[int, int] = (0, 127)
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_drum(self) -> bool:
        return bool(self.drum_notes)


@lru_cache(maxsize=4)
def load_map(path: str | None = None) -> dict[str, InstrumentClass]:
    """Classes of the instrument map, in file order (the default vocabulary's order)."""
    text = Path(path).read_text() if path else resources.files("saz.data").joinpath("instruments.toml").read_text()
    out = {}
    for name, d in tomllib.loads(text)["classes"].items():
        out[normalise_name(name)] = InstrumentClass(
            normalise_name(name), tuple(d.get("programs", ())), tuple(d.get("presets", ())),
            tuple(d.get("drum_notes", ())), tuple(d.get("range", (0, 127))), tuple(d.get("roles", ())),
        )
    return out


def default_vocabulary() -> Vocabulary:
    """The 20 OpenMIC-2018 classes plus the cultural instruments the SoundFonts carry."""
    return Vocabulary.from_names(load_map().keys())


@lru_cache(maxsize=1)
def default_class_map() -> dict[str, str]:
    """Instrument names of datasets and sample libraries -> default vocabulary (``saz/data/sample_names.toml``)."""
    return tomllib.loads(resources.files("saz.data").joinpath("sample_names.toml").read_text())["map"]


@lru_cache(maxsize=1)
def _name_table() -> dict[str, str]:
    return {normalise_name(k): v for k, v in default_class_map().items()}


def resolve_name(vocab: Vocabulary, name: str) -> str | None:
    """The class of ``vocab`` that ``name`` means: the name itself or one of its aliases, else its
    entry in saz's name table; None when neither is in ``vocab``."""
    return vocab.resolve(name, strict=False) or vocab.resolve(_name_table().get(normalise_name(name), ""), strict=False)


def class_map(spec: str) -> tuple[dict[str, str], Vocabulary | None]:
    """The name map and vocabulary a ``--class-map`` names: 'default' (saz's name table onto the
    default vocabulary), 'none' (names kept as they are), or a TOML file with a ``[map]`` table
    (its classes make the vocabulary)."""
    if spec == "default":
        return default_class_map(), default_vocabulary()
    if spec == "none":
        return {}, None
    return tomllib.loads(Path(spec).read_text())["map"], None


def outside(vocab: Vocabulary, names: Iterable[str] = IRANIAN_CLASSICAL) -> tuple[list[str], dict[str, str]]:
    """Of ``names``, those ``vocab`` has no class for (in their order), and those it scores as a
    class of another instrument, by saz's name table (``santur`` -> ``dulcimer``; a class's own
    spellings, its aliases, are no other instrument): what its user should be told it cannot say."""
    found = {name: resolve_name(vocab, name) for name in names}
    missing = [name for name, cls in found.items() if cls is None]
    return missing, {name: cls for name, cls in found.items() if cls is not None and vocab.resolve(name, strict=False) is None}
