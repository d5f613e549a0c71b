"""saz's label space: the instrument map, the default vocabulary, the table of instrument names and
the instruments of musical traditions.

The instrument map (``saz/data/instruments.toml``) lists the default model's classes in order,
with how each is played (GM programs, preset names, drum keys, range, roles); the name table
(``saz/data/sample_names.toml``) maps the names datasets and sample libraries use to those classes
(HamNava's ``santour`` -> ``dulcimer``); the traditions (``saz/data/traditions.toml``) list the
instruments of a few musical traditions, so that a command can say which of them a model cannot
name (:func:`absent_instruments`). Everything here is data: it imports nothing of saz above
:mod:`saz.labels`, so readers, training and scoring use it without the synthesiser.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np

from saz.labels import Vocabulary, normalise_name

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


def align_labels(y: np.ndarray, source: Vocabulary, target: Vocabulary) -> tuple[np.ndarray, list[str]]:
    """Columns of ``y`` (in ``source`` order) rearranged to ``target``; returns (y, dropped names).

    A name ``target`` does not know is looked up in saz's table of instrument names
    (``saz/data/sample_names.toml``, e.g. HamNava's ``santour`` -> ``dulcimer``), as the ``real``
    set maps it, before it is dropped."""
    out = np.full((len(y), len(target)), np.nan, dtype=np.float32)
    dropped = []
    for j, name in enumerate(source.names):
        canonical = resolve_name(target, name)
        if canonical is None:
            dropped.append(name)
        else:  # two source names of one class (singer and voice): either one says it plays
            k = target.names.index(canonical)
            out[:, k] = np.where(np.isnan(out[:, k]), y[:, j], np.fmax(out[:, k], y[:, j]))
    return out, dropped


def class_map(spec: str) -> tuple[dict[str, str], Vocabulary | None]:
    """The name map and vocabulary a ``--class-map`` names: 'default' (saz's name table onto the
    default vocabulary), 'none' (names kept as they are), or a TOML file with a ``[map]`` table
    (its classes make the vocabulary)."""
    if spec == "default":
        return default_class_map(), default_vocabulary()
    if spec == "none":
        return {}, None
    return tomllib.loads(Path(spec).read_text())["map"], None


@dataclass(frozen=True)
class Tradition:
    """A musical tradition's name as a reader says it ("Iranian") and its instruments' names."""

    label: str
    instruments: tuple[str, ...]


@lru_cache(maxsize=1)
def traditions() -> dict[str, Tradition]:
    """The traditions of ``saz/data/traditions.toml`` by key ('iranian'), in file order."""
    text = resources.files("saz.data").joinpath("traditions.toml").read_text()
    return {key: Tradition(d["label"], tuple(d["instruments"])) for key, d in tomllib.loads(text)["traditions"].items()}


# The instruments of Iranian classical music, as its musicians name them (voice aside): what a
# listener of that music expects a tool to know, whether or not a vocabulary has them.
IRANIAN_CLASSICAL = traditions()["iranian"].instruments


def outside(vocab: Vocabulary, names: Iterable[str] = IRANIAN_CLASSICAL) -> tuple[list[str], dict[str, str]]:
    """Of ``names``, those ``vocab`` has no class for (in their order), and those it scores as a
    class of another instrument, by saz's name table (``santur`` -> ``dulcimer``; a class's own
    spellings, its aliases, are no other instrument): what its user should be told it cannot say."""
    found = {name: resolve_name(vocab, name) for name in names}
    missing = [name for name, cls in found.items() if cls is None]
    return missing, {name: cls for name, cls in found.items() if cls is not None and vocab.resolve(name, strict=False) is None}


def absent_instruments(vocab: Vocabulary) -> dict[str, list[str]]:
    """Per tradition (by label), its instruments that ``vocab`` cannot name (:func:`outside`);
    traditions it covers whole are left out. A model asked about such an instrument answers with
    the nearest sound it knows, so a reader needs to be told."""
    absent = {t.label: outside(vocab, t.instruments)[0] for t in traditions().values()}
    return {label: names for label, names in absent.items() if names}


def known_and_absent(vocab: Vocabulary) -> dict:
    """What ``vocab`` names and, per musical tradition, the instruments it cannot
    (:func:`absent_instruments`), as a prediction's JSON says it (``vocabulary``)."""
    return {"instruments": list(vocab.names), "not_in_vocabulary": absent_instruments(vocab)}
