"""IRMAS: predominant-instrument recognition, 11 classes.

Layout read (as the Zenodo zips unpack)::

    IRMAS-TrainingData/<code>/[code][dru|nod]?[genre]NNNN__N.wav    3 s excerpts
    IRMAS-TestingData-Part*/**/<name>.wav + <name>.txt               one code a line

A training excerpt names only its predominant instrument, which is a known positive; the
other classes are unknown (NaN), so training labels are partial. A testing excerpt lists
every predominant instrument, so its labels are complete and hard (listed 1, others 0).
Clip ids are the paths relative to the root, without the extension.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from saz.datasets.base import Dataset, DatasetError, clips_frame, register
from saz.labels import DEFAULT_ALIASES, LabelSet, Vocabulary

# Instrument codes of the dataset, in vocabulary order, with the class name each stands for.
INSTRUMENTS: dict[str, str] = {
    "cel": "cello",
    "cla": "clarinet",
    "flu": "flute",
    "gac": "acoustic_guitar",
    "gel": "electric_guitar",
    "org": "organ",
    "pia": "piano",
    "sax": "saxophone",
    "tru": "trumpet",
    "vio": "violin",
    "voi": "voice",
}
CODES: tuple[str, ...] = tuple(INSTRUMENTS)
GENRES: dict[str, str] = {
    "cou_fol": "country_folk",
    "cla": "classical",
    "pop_roc": "pop_rock",
    "lat_sou": "latin_soul",
    "jaz_blu": "jazz_blues",
}
DRUM_TAGS: dict[str, bool] = {"dru": True, "nod": False}
TRAINING = "IRMAS-TrainingData"
TESTING_GLOB = "IRMAS-TestingData*"
_TAG = re.compile(r"\[([^\]]+)\]")

VOCAB = Vocabulary.from_names(
    INSTRUMENTS.values(),
    {name: (code, *DEFAULT_ALIASES.get(name, ())) for code, name in INSTRUMENTS.items()},
)


def parse_training_name(stem: str) -> tuple[str, bool | None, str]:
    """``(instrument code, drums, genre code)`` from a training file stem, by position.

    The first bracket is the instrument, an optional ``[dru]``/``[nod]`` bracket the drum tag
    (None when absent) and the last bracket the genre; genre codes overlap instrument codes
    (``[cla][cla]`` is a clarinet in classical music). Raises ValueError on any other pattern.
    """
    tags = _TAG.findall(stem)
    if len(tags) not in (2, 3) or (len(tags) == 3 and tags[1] not in DRUM_TAGS):
        raise ValueError(f"tags {tags} do not follow [instrument][dru|nod]?[genre]")
    if tags[0] not in INSTRUMENTS:
        raise ValueError(f"unknown instrument code [{tags[0]}]")
    if tags[-1] not in GENRES:
        raise ValueError(f"unknown genre code [{tags[-1]}]")
    return tags[0], DRUM_TAGS[tags[1]] if len(tags) == 3 else None, tags[-1]


def _training(root: Path, problems: list[str]) -> tuple[list[dict], list[np.ndarray]]:
    rows, ys = [], []
    for wav in sorted((root / TRAINING).rglob("*.wav")):
        rel = wav.relative_to(root)
        try:
            code, drums, genre = parse_training_name(wav.stem)
        except ValueError as e:
            problems.append(f"{rel}: {e}")
            continue
        if wav.parent.name != code:
            problems.append(f"{rel}: instrument [{code}] differs from its folder '{wav.parent.name}'")
        y = np.full(len(VOCAB), np.nan, dtype=np.float32)
        y[VOCAB.index(code)] = 1.0
        rows.append({"clip_id": rel.with_suffix("").as_posix(), "path": str(wav.resolve()), "split": "train",
                     "drums": drums, "genre": GENRES[genre]})
        ys.append(y)
    return rows, ys


def _testing(folder: Path, root: Path, problems: list[str]) -> tuple[list[dict], list[np.ndarray]]:
    rows, ys = [], []
    wavs = {p.with_suffix(""): p for p in folder.rglob("*.wav")}
    txts = {p.with_suffix(""): p for p in folder.rglob("*.txt")}
    for stem in sorted(txts.keys() - wavs.keys()):
        problems.append(f"{txts[stem].relative_to(root)}: labels without audio")
    for stem in sorted(wavs):
        rel = wavs[stem].relative_to(root)
        if stem not in txts:
            problems.append(f"{rel}: audio without its .txt labels")
            continue
        y = np.zeros(len(VOCAB), dtype=np.float32)
        for line, code in enumerate(txts[stem].read_text(errors="replace").splitlines(), start=1):
            code = code.strip()
            if code in INSTRUMENTS:
                y[VOCAB.index(code)] = 1.0
            elif code:
                problems.append(f"{txts[stem].relative_to(root)} line {line}: unknown instrument code '{code}'")
        if not y.any():
            problems.append(f"{txts[stem].relative_to(root)}: lists no known instrument")
        rows.append({"clip_id": rel.with_suffix("").as_posix(), "path": str(wavs[stem].resolve()), "split": "test",
                     "drums": None, "genre": None})
        ys.append(y)
    return rows, ys


@register("irmas", "IRMAS: 11 predominant instruments; partial training labels, hard test labels")
def load_irmas(root: Path) -> Dataset:
    """IRMAS from its root: training (partial, predominant only) and testing (hard) excerpts."""
    root = Path(root)
    testing = sorted(p for p in root.glob(TESTING_GLOB) if p.is_dir())
    if not (root / TRAINING).is_dir() and not testing:
        raise DatasetError(f"{root}: not an IRMAS root (expected {TRAINING}/ and/or {TESTING_GLOB.rstrip('*')}-Part*/)")
    problems: list[str] = []
    rows, ys = _training(root, problems) if (root / TRAINING).is_dir() else ([], [])
    for folder in testing:
        r, y = _testing(folder, root, problems)
        rows += r
        ys += y
    y = np.stack(ys) if ys else np.zeros((0, len(VOCAB)), dtype=np.float32)
    clips = clips_frame(rows) if rows else clips_frame([]).assign(drums=None, genre=None)
    return Dataset("irmas", root, clips, LabelSet(VOCAB, y), problems)
