"""OpenMIC-2018: 20,000 ten-second FMA excerpts with crowd-sourced, partial, soft labels.

Layout read (as the Zenodo archive unpacks)::

    class-map.json                        20 classes, name -> column index
    openmic-2018-aggregated-labels.csv    sample_key,instrument,relevance,num_responses
    openmic-2018-individual-responses.csv sample_key,worker_id,worker_trust,channel,instrument,response
    openmic-2018-metadata.csv             FMA track metadata, one row per sample_key
    partitions/split01_{train,test}.csv   one sample_key a line, no header
    audio/<key[:3]>/<key>.ogg             the excerpts
    vggish/<key[:3]>/<key>.json           {"time_points": [...], "features": [[128 ints], ...]}
    openmic-2018.npz                      X, Y_true, Y_mask, sample_key (optional)

Only the (clip, instrument) pairs listed in the aggregated labels are known; their relevance
(annotator confidence in [0, 1]) is kept as the soft label and every other entry is NaN.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from saz.datasets.base import Dataset, DatasetError, clips_frame, register, require
from saz.labels import LabelSet, Vocabulary
from saz.metrics import annotator_agreement

CLASS_MAP = "class-map.json"
AGGREGATED = "openmic-2018-aggregated-labels.csv"
RESPONSES = "openmic-2018-individual-responses.csv"
METADATA = "openmic-2018-metadata.csv"
NPZ = "openmic-2018.npz"
LABEL_FIELDS = ("sample_key", "instrument", "relevance", "num_responses")
VGGISH_DIM = 128


def audio_path(root: Path, key: str) -> Path:
    """Where the excerpt ``key`` lives: ``audio/<key[:3]>/<key>.ogg``."""
    return root / "audio" / key[:3] / f"{key}.ogg"


def _class_map(root: Path) -> Vocabulary:
    """The vocabulary of class-map.json, ordered by its indices."""
    try:
        cmap = json.loads((root / CLASS_MAP).read_text())
    except (OSError, ValueError) as e:
        raise DatasetError(f"{root / CLASS_MAP}: unreadable ({e})") from None
    if not isinstance(cmap, dict) or sorted(cmap.values()) != list(range(len(cmap))):
        raise DatasetError(f"{root / CLASS_MAP}: expected a name -> index object with indices 0..n-1")
    return Vocabulary.from_names(sorted(cmap, key=cmap.get))


def _aggregated_labels(root: Path, classes: set[str], problems: list[str]) -> dict[tuple[str, str], float]:
    """(sample_key, instrument) -> relevance from the aggregated labels; bad rows become problems."""
    out: dict[tuple[str, str], float] = {}
    with open(root / AGGREGATED, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if tuple(h.strip() for h in header) != LABEL_FIELDS:
            raise DatasetError(f"{root / AGGREGATED}: expected header {','.join(LABEL_FIELDS)}, got {','.join(header)}")
        for line, row in enumerate(reader, start=2):
            where = f"{AGGREGATED} line {line}"
            if not row:
                continue
            if len(row) != len(LABEL_FIELDS):
                problems.append(f"{where}: malformed row ({len(row)} fields, expected {len(LABEL_FIELDS)})")
                continue
            key, inst, rel = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                value = float(rel)
            except ValueError:
                value = math.nan
            if not key or not 0.0 <= value <= 1.0:
                problems.append(f"{where}: malformed row (sample_key '{key}', relevance '{rel}')")
            elif inst not in classes:
                problems.append(f"{where}: instrument '{inst}' is not in {CLASS_MAP}")
            elif (key, inst) in out:
                problems.append(f"{where}: duplicate label for ({key}, {inst}); the first is kept")
            else:
                out[key, inst] = value
    return out


def _partitions(root: Path, split_set: str, problems: list[str]) -> dict[str, str]:
    """sample_key -> "train"/"test" from ``partitions/<split_set>_{train,test}.csv``."""
    split: dict[str, str] = {}
    for name in ("train", "test"):
        rel = f"partitions/{split_set}_{name}.csv"
        if not (root / rel).is_file():
            problems.append(f"{rel}: missing, so no clip is in the '{name}' split")
            continue
        for key in (k.strip() for k in (root / rel).read_text().splitlines()):
            if key and split.setdefault(key, name) != name:
                problems.append(f"{rel}: {key} is in both the train and test partitions; kept in '{split[key]}'")
    return split


def _metadata(root: Path, problems: list[str]) -> pd.DataFrame:
    """The metadata table indexed by sample_key (empty when the file is absent)."""
    if not (root / METADATA).is_file():
        problems.append(f"{METADATA}: missing, so clips have no metadata columns")
        return pd.DataFrame(index=pd.Index([], name="sample_key"))

    def bad(fields: list[str]) -> None:
        problems.append(f"{METADATA}: malformed row skipped ({len(fields)} fields): {','.join(fields)[:80]}")

    meta = pd.read_csv(root / METADATA, dtype={"sample_key": str}, engine="python", on_bad_lines=bad)
    if "sample_key" not in meta.columns:
        problems.append(f"{METADATA}: no sample_key column, metadata ignored")
        return pd.DataFrame(index=pd.Index([], name="sample_key"))
    keyless = meta["sample_key"].isna()
    for _, r in meta.loc[keyless].iterrows():
        problems.append(f"{METADATA}: malformed row skipped (no sample_key): {','.join(map(str, r.dropna()))[:80]}")
    meta = meta.loc[~keyless]
    dup = meta["sample_key"].duplicated()
    for key in meta.loc[dup, "sample_key"]:
        problems.append(f"{METADATA}: duplicate row for {key}; the first is kept")
    return meta.loc[~dup].set_index("sample_key")


@register("openmic2018", "OpenMIC-2018: 20 classes, partial soft crowd labels, split01 train/test")
def load_openmic2018(root: Path, *, split_set: str = "split01") -> Dataset:
    """OpenMIC-2018 from its root: partial soft labels, official partition, FMA metadata."""
    root = Path(root)
    require(root, CLASS_MAP, AGGREGATED, what="OpenMIC-2018")
    vocab = _class_map(root)
    problems: list[str] = []
    labels = _aggregated_labels(root, set(vocab.names), problems)
    split = _partitions(root, split_set, problems)
    meta = _metadata(root, problems)
    audio = {p.stem: p for p in sorted((root / "audio").glob("*/*.ogg"))}

    labelled = {k for k, _ in labels}
    for key in sorted(labelled - audio.keys()):
        problems.append(f"{key}: labelled but has no audio (expected {audio_path(root, key).relative_to(root)})")
    for key in sorted(audio.keys() - labelled):
        problems.append(f"{audio[key].relative_to(root)}: audio without labels")

    keys = sorted(labelled | split.keys() | set(meta.index) | audio.keys())
    row = {k: i for i, k in enumerate(keys)}
    y = np.full((len(keys), len(vocab)), np.nan, dtype=np.float32)
    for (key, inst), value in labels.items():
        y[row[key], vocab.index(inst)] = value
    clips = clips_frame([
        {"clip_id": k, "path": str(audio[k].resolve()) if k in audio else None, "split": split.get(k)}
        for k in keys
    ])
    clips = clips.join(meta, on="clip_id")
    return Dataset("openmic2018", root, clips, LabelSet(vocab, y), problems)


def vggish_features(dataset_or_root: Dataset | str | Path, key: str) -> np.ndarray:
    """The precomputed VGGish frames of ``key`` as float32 ``(frames, 128)``.

    Values are the released PCA-whitened, 8-bit-quantised embeddings (0..255), not rescaled.
    """
    root = dataset_or_root.root if isinstance(dataset_or_root, Dataset) else Path(dataset_or_root)
    path = root / "vggish" / key[:3] / f"{key}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no VGGish features for {key}")
    x = np.asarray(json.loads(path.read_text())["features"], dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != VGGISH_DIM:
        raise ValueError(f"{path}: expected features of shape (frames, {VGGISH_DIM}), got {x.shape}")
    return x


def load_npz(root: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, Y, keys)`` from the official ``openmic-2018.npz``.

    X is float32 ``(n, 10, 128)`` holding the file's 8-bit-quantised VGGish values as they
    are (0..255, not rescaled). The integer dtype of the release is assumed uint8; the
    official baseline notebook prints X without a dtype (so possibly int64, as the
    repository's helper_numpy.py writes it), and any numeric dtype is accepted. Y is float32 ``(n, 20)`` = ``Y_true`` with NaN wherever
    ``Y_mask`` is False (the release fills those with 0.5); keys are the ``sample_key`` strings.
    """
    root = Path(root)
    require(root, NPZ, what="OpenMIC-2018 (npz)")
    with np.load(root / NPZ, allow_pickle=False) as d:
        missing = [k for k in ("X", "Y_true", "Y_mask", "sample_key") if k not in d.files]
        if missing:
            raise DatasetError(f"{root / NPZ}: missing arrays {', '.join(missing)}")
        x, y_true, mask, keys = d["X"], d["Y_true"], d["Y_mask"], d["sample_key"]
    n = len(keys)
    if x.ndim != 3 or x.shape[::2] != (n, VGGISH_DIM) or y_true.shape != mask.shape or y_true.shape[0] != n:
        raise DatasetError(f"{root / NPZ}: inconsistent shapes X {x.shape}, Y_true {y_true.shape}, "
                           f"Y_mask {mask.shape}, sample_key {keys.shape}")
    y = np.where(mask.astype(bool), y_true, np.nan).astype(np.float32)
    return x.astype(np.float32), y, keys.astype(str)


def individual_responses(root: str | Path) -> pd.DataFrame:
    """Every annotator response: sample_key, worker_id, worker_trust, channel, instrument, response."""
    root = Path(root)
    require(root, RESPONSES, what="OpenMIC-2018 (individual responses)")
    return pd.read_csv(root / RESPONSES, dtype={"sample_key": str, "worker_id": str, "channel": str})


def agreement(root: str | Path) -> pd.DataFrame:
    """Per-instrument inter-annotator agreement (Eq. 1) and confidence (Eq. 2) of the responses."""
    return annotator_agreement(individual_responses(root), clip="sample_key", instrument="instrument", value="response")
