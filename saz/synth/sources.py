"""Timbre sources beyond SoundFonts: real recorded samples, as pools of (file, class, source).

A pool feeds the render generator's sample stems (a class's part played by real recordings
instead of a preset) and its distractors (real sounds outside the vocabulary, unlabelled).
Every entry names its source (a sample library, a drum kit) so whole sources can be held out
for testing, never single clips. Readers:

- :func:`library_pool`: a ``<source>/<instrument>/<files>`` library such as ``../shared/samples``,
  through the ``samples`` reader and the default class map.
- :func:`flat_pool`: flat packs whose file names say what they are (Hydrogen drum kits,
  Sonic Pi's samples), through the ``[keywords]`` table of ``saz/data/sample_names.toml``.
- :func:`package_pool`: recorded instruments shipped as npm packages (the families of
  :data:`PACKAGE_FAMILIES`), named through the same class map as sample libraries.
- :func:`saz.synth.patches.patch_pool`: GUS patch sets (Debian's ``freepats``), one recorded
  note per patch sample, classes from the GM programs and drum keys of the instrument map.
- :func:`saz.synth.physical.physical_pool`: notes of physical models (``saz synth physical``):
  not recordings, but a timbre source of their own, one note per drawn instrument.
"""

from __future__ import annotations

import json
import re
import tomllib
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from saz.audio import AUDIO_EXTENSIONS
from saz.labels import normalise_name
from saz.vocabulary import default_class_map

Entry = tuple[str, str, str]  # (path, class or "" for a distractor, source)
# Real sources kept out of every training pool: the `real` evaluation set is made of them.
HELD_OUT_SOURCES = ("mtg_solosax", "splendid_grand_piano", "karoryfer_ganjo", "bjdniel", "ethan_winer")
HELD_OUT_SHARE = 5  # and one Philharmonia recording in five (by a stable hash of its file name)
HYDROGEN_KITS = Path("/usr/share/hydrogen/data/drumkits")
SONIC_PI = Path("/usr/share/sonic-pi/samples")
# npm packages of recorded notes: a name pattern (its 'instrument' group goes through the class
# map) and the source it belongs to. A family whose packages split one recording session (the
# Salamander Grand Piano V3, one package per velocity layer and format) is one source, not one per package.
PACKAGE_FAMILIES = (
    (re.compile(r"tonejs-instrument-(?P<instrument>.+)-[a-z0-9]+"), "npm:{name}"),
    (re.compile(r"@audio-samples/(?P<instrument>piano)-(?:mp3-)?velocity\d+"), "npm:@audio-samples/{instrument}"),
)


@lru_cache(maxsize=1)
def keywords() -> tuple[tuple[str, str], ...]:
    table = tomllib.loads(resources.files("saz.data").joinpath("sample_names.toml").read_text())["keywords"]
    return tuple(table.items())


def keyword_class(name: str) -> str:
    """The class a file name announces ('' when no keyword occurs in it, '-' to leave it out)."""
    low = name.lower().replace(" ", "_")
    return next((cls for kw, cls in keywords() if kw in low), "")


def held_out(path: str, source: str) -> bool:
    """Whether a real recording belongs to the evaluation side of the train/test divide."""
    return source in HELD_OUT_SOURCES or zlib.crc32(Path(path).name.encode()) % HELD_OUT_SHARE == 0


def library_pool(root: str | Path, classes: Iterable[str], side: str = "train") -> list[Entry]:
    """Entries of a ``<source>/<instrument>/<files>`` library on one ``side`` ('train', 'test'
    or 'all') of :func:`held_out`. Instruments outside ``classes`` become distractors (class '').
    """
    from saz.datasets.samples import load_samples

    ds = load_samples(Path(root), class_map=default_class_map())
    names = ds.vocab.names
    wanted = set(classes)
    out = []
    for (_, clip), j in zip(ds.clips.iterrows(), ds.y.argmax(axis=1)):
        source = str(clip["category"] or Path(clip["path"]).parent.parent.name)
        if side != "all" and held_out(str(clip["path"]), source) != (side == "test"):
            continue
        cls = names[j] if names[j] in wanted else ""
        out.append((str(clip["path"]), cls, source))
    return out


def flat_pool(folder: str | Path, source: str, distractors: bool = True) -> list[Entry]:
    """Entries of a flat pack (any depth); files named by :func:`keyword_class`."""
    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS:
            cls = keyword_class(p.stem)
            if cls != "-" and (cls or distractors):
                out.append((str(p), cls, source))
    return out


def package_pool(folder: str | Path, classes: Iterable[str]) -> list[Entry]:
    """Entries of the npm packages of :data:`PACKAGE_FAMILIES` under ``folder`` (an ``npm install
    --prefix`` folder or unpacked tarballs): the audio files anywhere in a package. Instruments
    outside ``classes`` become distractors (class '')."""

    cmap, wanted = default_class_map(), set(classes)
    out: list[Entry] = []
    for manifest in sorted(Path(folder).rglob("package.json")):
        name = str(json.loads(manifest.read_text()).get("name", ""))
        found = [(m, source) for family, source in PACKAGE_FAMILIES if (m := family.fullmatch(name))]
        if not found:
            continue
        match, source = found[0]
        instrument = normalise_name(match["instrument"])
        cls = cmap.get(instrument, instrument)
        files = sorted(f for f in manifest.parent.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS
                       and "node_modules" not in f.relative_to(manifest.parent).parts)
        out += [(str(f), cls if cls in wanted else "", source.format(name=name, **match.groupdict())) for f in files]
    return out


def real_pool(roots: str | Path | Iterable[str | Path], classes: Iterable[str]) -> list[Entry]:
    """Training-side entries of each root: GUS patches where the root is a patch set such as
    Debian's freepats (:func:`saz.synth.patches.patch_pool`, notes decoded once into the saz
    cache), physical-model notes where ``saz synth physical`` wrote the root
    (:func:`saz.synth.physical.physical_pool`), npm instrument packages where the root holds any
    (:func:`package_pool`), otherwise a ``<source>/<instrument>`` library (:func:`library_pool`)."""
    from saz.features.cache import default_cache_dir
    from saz.synth.patches import is_patch_set, patch_pool
    from saz.synth.physical import is_physical_set, physical_pool

    classes = list(classes)
    out: list[Entry] = []
    for root in [roots] if isinstance(roots, (str, Path)) else roots:
        if is_patch_set(root):
            out += patch_pool(root, classes, default_cache_dir())
            continue
        if is_physical_set(root):
            out += physical_pool(root, classes)
            continue
        packages = package_pool(root, classes)
        out += packages or library_pool(root, classes, side="train")
    return out


def debian_pool() -> list[Entry]:
    """Every Hydrogen kit (one source each) and Sonic Pi's samples, where installed."""
    out: list[Entry] = []
    if HYDROGEN_KITS.is_dir():
        for kit in sorted(d for d in HYDROGEN_KITS.iterdir() if d.is_dir()):
            out += flat_pool(kit, f"hydrogen:{normalise_name(kit.name)}")
    if SONIC_PI.is_dir():
        out += flat_pool(SONIC_PI, "sonic-pi")
    return out


def by_class(pool: Iterable[Entry]) -> dict[str, tuple[str, ...]]:
    """Class -> files (distractors under '')."""
    out: dict[str, list[str]] = {}
    for path, cls, _ in pool:
        out.setdefault(cls, []).append(path)
    return {k: tuple(v) for k, v in out.items()}
