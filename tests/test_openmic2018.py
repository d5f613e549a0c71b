"""The OpenMIC-2018 reader against the real fixture files, value by value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saz.datasets import DATASETS, DatasetError, load
from saz.datasets.openmic2018 import agreement, individual_responses, load_npz, vggish_features
from saz.labels import LabelKind

ROOT = Path(__file__).parent / "fixtures" / "openmic2018"
KEY = "000046_3840"
CLASSES = ["accordion", "banjo", "bass", "cello", "clarinet", "cymbals", "drums", "flute", "guitar",
           "mallet_percussion", "mandolin", "organ", "piano", "saxophone", "synthesizer", "trombone",
           "trumpet", "ukulele", "violin", "voice"]
TRAIN = ["000046_3840", "000135_483840", "000139_119040", "000141_153600", "000144_30720",
         "000145_172800", "000154_288000", "000182_145920", "000189_207360", "000190_126720"]
TEST = ["000178_3840", "000308_61440", "000312_184320", "000319_145920", "000321_218880",
        "000327_88320", "000328_222720", "000336_69120", "000346_65280", "000359_46080"]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture to break."""
    return Path(shutil.copytree(ROOT, tmp_path / "openmic"))


def test_registered_and_loads_every_key_of_the_fixture():
    assert "openmic2018" in DATASETS
    ds = load("openmic2018", ROOT)
    assert ds.name == "openmic2018" and len(ds) == 20
    assert ds.ids == sorted(TRAIN + TEST)
    assert list(ds.vocab.names) == CLASSES
    assert ds.kind is LabelKind.PARTIAL and ds.y.dtype == np.float32 and ds.y.shape == (20, 20)
    assert ds.problems == []


def test_label_row_is_the_aggregated_relevance_and_nan_elsewhere():
    ds = load("openmic2018", ROOT)
    i = ds.ids.index(KEY)
    row = ds.y[i]
    assert row[CLASSES.index("clarinet")] == np.float32(0.17104999999999998)
    assert row[CLASSES.index("flute")] == 0.0 and row[CLASSES.index("trumpet")] == 0.0
    known = {CLASSES.index(c) for c in ("clarinet", "flute", "trumpet")}
    assert all(np.isnan(row[j]) for j in range(20) if j not in known)
    assert np.isnan(np.delete(ds.y, i, axis=0)).all()  # no other clip is labelled
    assert ds.summary()["known_per_class"]["clarinet"] == 1


def test_splits_paths_and_metadata():
    ds = load("openmic2018", ROOT)
    assert sorted(ds.subset("train").ids) == TRAIN and sorted(ds.subset("test").ids) == TEST
    c = ds.clips.set_index("clip_id")
    assert c.loc[KEY, "path"] == str((ROOT / "audio/000/000046_3840.ogg").resolve())
    assert Path(c.loc[KEY, "path"]).is_absolute()
    assert c.drop(index=KEY)["path"].isna().all()  # the fixture has audio for one clip only
    assert (c["offset"] == 0.0).all() and c["duration"].isna().all()
    header = pd.read_csv(ROOT / "openmic-2018-metadata.csv", nrows=0).columns
    assert set(header) - {"sample_key"} <= set(ds.clips.columns)
    assert c.loc[KEY, "track_id"] == 46 and c.loc[KEY, "artist_name"] == "Nicky Cook"
    assert c.loc[KEY, "track_title"] == "Yosemite" and c.loc[KEY, "start_time"] == 3.84
    assert c.loc["000135_483840", "artist_name"] == "Abominog" and c.loc["000135_483840", "start_time"] == 483.84
    assert pd.isna(c.loc["000178_3840", "artist_name"])  # in a partition, not in the metadata


def test_other_split_set_missing_is_reported(copy: Path):
    ds = load("openmic2018", copy, split_set="split02")
    assert ds.splits == {} and len(ds) == 2  # labelled/metadata keys only
    assert ds.problems == [
        "partitions/split02_train.csv: missing, so no clip is in the 'train' split",
        "partitions/split02_test.csv: missing, so no clip is in the 'test' split",
    ]


def test_labelled_clip_without_audio(copy: Path):
    (copy / "audio/000/000046_3840.ogg").unlink()
    ds = load("openmic2018", copy)
    assert ds.problems == ["000046_3840: labelled but has no audio (expected audio/000/000046_3840.ogg)"]
    assert pd.isna(ds.clips.set_index("clip_id").loc[KEY, "path"])


def test_audio_without_labels(copy: Path):
    (copy / "audio/999").mkdir()
    shutil.copy(copy / "audio/000/000046_3840.ogg", copy / "audio/999/999001_0.ogg")
    ds = load("openmic2018", copy)
    assert ds.problems == ["audio/999/999001_0.ogg: audio without labels"]
    i = ds.ids.index("999001_0")
    assert len(ds) == 21 and np.isnan(ds.y[i]).all() and pd.isna(ds.clips.loc[i, "split"])


def test_unknown_instrument_and_malformed_rows(copy: Path):
    with open(copy / "openmic-2018-aggregated-labels.csv", "a") as f:
        f.write("000046_3840,kazoo,1.0,3\n"  # line 5
                "000046_3840,piano\n"  # 6
                "000046_3840,piano,abc,3\n"  # 7
                "000046_3840,piano,1.5,3\n"  # 8
                "000046_3840,clarinet,0.9,3\n")  # 9
    ds = load("openmic2018", copy)
    f = "openmic-2018-aggregated-labels.csv"
    assert ds.problems == [
        f"{f} line 5: instrument 'kazoo' is not in class-map.json",
        f"{f} line 6: malformed row (2 fields, expected 4)",
        f"{f} line 7: malformed row (sample_key '000046_3840', relevance 'abc')",
        f"{f} line 8: malformed row (sample_key '000046_3840', relevance '1.5')",
        f"{f} line 9: duplicate label for (000046_3840, clarinet); the first is kept",
    ]
    row = ds.y[ds.ids.index(KEY)]
    assert np.isnan(row[CLASSES.index("piano")]) and row[CLASSES.index("clarinet")] == np.float32(0.17105)


def test_malformed_and_duplicate_metadata_rows(copy: Path):
    path = copy / "openmic-2018-metadata.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1] + ",extra", "000999_0,1,2", lines[2]]) + "\n")
    ds = load("openmic2018", copy)
    assert ds.problems == [
        "openmic-2018-metadata.csv: malformed row skipped (42 fields): " + lines[1][:80],
        "openmic-2018-metadata.csv: malformed row skipped (no sample_key): 000999_0,1.0,2",
        "openmic-2018-metadata.csv: duplicate row for 000135_483840; the first is kept",
    ]
    assert len(ds) == 20 and ds.clips.set_index("clip_id").loc[KEY, "artist_name"] == "Nicky Cook"


def test_not_an_openmic_root(tmp_path: Path):
    expected = "class-map.json, openmic-2018-aggregated-labels.csv"
    with pytest.raises(DatasetError, match=f"not a OpenMIC-2018 root.*{expected}"):
        load("openmic2018", tmp_path)


def test_individual_responses_and_agreement_by_hand():
    r = individual_responses(ROOT)
    assert list(r.columns) == ["sample_key", "worker_id", "worker_trust", "channel", "instrument", "response"]
    assert len(r) == 9 and set(r["sample_key"]) == {KEY}
    assert r.groupby("instrument")["response"].apply(list).to_dict() == {
        "clarinet": [0.0, 1.0, 0.0], "flute": [0.0, 0.0, 0.0], "trumpet": [0.0, 0.0, 0.0]}
    a = agreement(ROOT).set_index("instrument")
    # clarinet 0,1,0: each 0 agrees with 1 of the 2 others (1/2), the 1 with none (0) -> (1/2 + 0 + 1/2) / 3
    assert a.loc["clarinet", "agreement"] == pytest.approx(1 / 3)
    assert a.loc["flute", "agreement"] == 1.0 and a.loc["trumpet", "agreement"] == 1.0
    assert (a["confidence"] == 1.0).all() and (a["excerpts"] == 1).all()  # every answer is a certain 0 or 1


def test_vggish_json_features():
    raw = json.loads((ROOT / "vggish/000/000046_3840.json").read_text())
    x = vggish_features(ROOT, KEY)
    assert x.shape == (10, 128) and x.dtype == np.float32 and len(raw["time_points"]) == 10
    assert x[0, :4].tolist() == [173, 16, 162, 107] and x[1, 0] == 175
    np.testing.assert_array_equal(vggish_features(load("openmic2018", ROOT), KEY), x)
    with pytest.raises(FileNotFoundError, match="no VGGish features for 000135_483840"):
        vggish_features(ROOT, "000135_483840")


@pytest.mark.parametrize("x_dtype", [np.uint8, np.int64])  # uint8 assumed; int64 as helper_numpy.py writes
def test_npz_round_trip(tmp_path: Path, x_dtype: type):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 10, 128)).astype(x_dtype)
    y_true = np.full((3, 20), 0.5)
    mask = np.zeros((3, 20), dtype=bool)
    y_true[0, 4], mask[0, 4] = 0.17105, True
    y_true[2, [0, 19]], mask[2, [0, 19]] = [1.0, 0.0], True
    keys = np.array([KEY, "000135_483840", "000178_3840"])
    np.savez(tmp_path / "openmic-2018.npz", X=x, Y_true=y_true, Y_mask=mask, sample_key=keys)
    X, Y, K = load_npz(tmp_path)
    assert X.dtype == np.float32 and X.shape == (3, 10, 128)
    np.testing.assert_array_equal(X, x.astype(np.float32))
    assert Y.dtype == np.float32 and np.isnan(Y).sum() == 60 - 3
    assert Y[0, 4] == np.float32(0.17105) and Y[2, 0] == 1.0 and Y[2, 19] == 0.0
    assert list(K) == keys.tolist()
    with pytest.raises(DatasetError, match="openmic-2018.npz"):
        load_npz(tmp_path / "elsewhere")
