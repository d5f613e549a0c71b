"""The IRMAS reader against the real fixture files, value by value."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saz.datasets import DATASETS, DatasetError, load
from saz.datasets.irmas import CODES, GENRES, INSTRUMENTS, VOCAB, parse_training_name
from saz.labels import LabelKind

ROOT = Path(__file__).parent / "fixtures" / "irmas"
TRAIN_ID = "IRMAS-TrainingData/cla/[cla][cla]0189__2"
TEST_ID = "IRMAS-TestingData-Part1/Part1/02 - And The Body Will Die-8"
NAMES = ["cello", "clarinet", "flute", "acoustic_guitar", "electric_guitar", "organ", "piano",
         "saxophone", "trumpet", "violin", "voice"]
NAN = np.nan


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture to break."""
    return Path(shutil.copytree(ROOT, tmp_path / "irmas"))


def test_codes_and_vocabulary():
    assert CODES == ("cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi")
    assert [INSTRUMENTS[c] for c in CODES] == NAMES and list(VOCAB.names) == NAMES
    assert VOCAB.resolve("gel") == "electric_guitar" and VOCAB.resolve("voi") == "voice"


def test_fixture_clips_labels_and_splits():
    assert "irmas" in DATASETS
    ds = load("irmas", ROOT)
    assert ds.name == "irmas" and ds.ids == [TRAIN_ID, TEST_ID] and ds.problems == []
    assert list(ds.clips["split"]) == ["train", "test"]
    assert list(ds.clips["path"]) == [str((ROOT / f"{i}.wav").resolve()) for i in (TRAIN_ID, TEST_ID)]
    assert (ds.clips["offset"] == 0.0).all() and ds.clips["duration"].isna().all()
    assert ds.kind is LabelKind.PARTIAL and ds.y.dtype == np.float32
    # training: the predominant clarinet is known, every other class unknown
    np.testing.assert_array_equal(ds.y[0], [NAN, 1, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN])
    # testing: the .txt lists gel and voi -> complete hard labels
    np.testing.assert_array_equal(ds.y[1], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])
    assert ds.subset("test").kind is LabelKind.HARD


def test_training_metadata_second_cla_is_the_genre():
    ds = load("irmas", ROOT)
    train, test = ds.clips.iloc[0], ds.clips.iloc[1]
    assert train["genre"] == "classical" and train["drums"] is None
    assert pd.isna(test["genre"]) and test["drums"] is None


@pytest.mark.parametrize("stem, parsed", [
    ("[cla][cla]0189__2", ("cla", None, "cla")),
    ("[pia][dru][jaz_blu]1454__3", ("pia", True, "jaz_blu")),
    ("[gel][nod][pop_roc]0829__1", ("gel", False, "pop_roc")),
    ("[voi][lat_sou]2304__1", ("voi", None, "lat_sou")),
    ("[flu][cou_fol]0437__2", ("flu", None, "cou_fol")),
])
def test_parse_training_name(stem: str, parsed: tuple):
    assert parse_training_name(stem) == parsed and parsed[2] in GENRES


@pytest.mark.parametrize("stem, message", [
    ("[cla]0189__2", "do not follow"),
    ("[cla][cla][dru]0189__2", "do not follow"),
    ("[xyz][cla]0189__2", "unknown instrument code"),
    ("[cla][dru][rap]0189__2", "unknown genre code"),
])
def test_parse_training_name_rejects(stem: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_training_name(stem)


def test_drum_tags_and_bad_training_names(copy: Path):
    src = copy / "IRMAS-TrainingData/cla/[cla][cla]0189__2.wav"
    for name in ("cla/[cla][dru][pop_roc]0001__1.wav", "cla/[cla][nod][jaz_blu]0002__1.wav",
                 "flu/[cla][cou_fol]0003__1.wav", "cla/[cla][xyz]0004__1.wav"):
        (copy / "IRMAS-TrainingData" / name).parent.mkdir(exist_ok=True)
        shutil.copy(src, copy / "IRMAS-TrainingData" / name)
    ds = load("irmas", copy)
    assert ds.problems == [
        "IRMAS-TrainingData/cla/[cla][xyz]0004__1.wav: unknown genre code [xyz]",
        "IRMAS-TrainingData/flu/[cla][cou_fol]0003__1.wav: instrument [cla] differs from its folder 'flu'",
    ]
    c = ds.clips.set_index("clip_id").loc[:, ["drums", "genre"]]
    c.index = c.index.str.removeprefix("IRMAS-TrainingData/")
    assert c.loc["cla/[cla][dru][pop_roc]0001__1"].tolist() == [True, "pop_rock"]
    assert c.loc["cla/[cla][nod][jaz_blu]0002__1"].tolist() == [False, "jazz_blues"]
    assert c.loc["flu/[cla][cou_fol]0003__1"].tolist() == [None, "country_folk"]
    assert len(ds) == 5 and (np.nansum(ds.subset("train").y, axis=0) == [0, 4] + [0] * 9).all()


def test_test_clip_without_labels_and_labels_without_audio(copy: Path):
    part = copy / "IRMAS-TestingData-Part1/Part1"
    (part / "02 - And The Body Will Die-8.txt").rename(part / "orphan.txt")
    ds = load("irmas", copy)
    assert ds.problems == [
        "IRMAS-TestingData-Part1/Part1/orphan.txt: labels without audio",
        "IRMAS-TestingData-Part1/Part1/02 - And The Body Will Die-8.wav: audio without its .txt labels",
    ]
    assert ds.ids == [TRAIN_ID]


def test_unknown_code_in_test_labels(copy: Path):
    with open(copy / "IRMAS-TestingData-Part1/Part1/02 - And The Body Will Die-8.txt", "a") as f:
        f.write("dru\t\n")
    ds = load("irmas", copy)
    assert ds.problems == [f"{TEST_ID}.txt line 3: unknown instrument code 'dru'"]
    np.testing.assert_array_equal(ds.y[1], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])


def test_testing_only_root_at_any_depth(tmp_path: Path):
    deep = tmp_path / "IRMAS-TestingData-Part2/IRTestingData-Part2/more"
    deep.mkdir(parents=True)
    for ext in ("wav", "txt"):
        shutil.copy(ROOT / f"{TEST_ID}.{ext}", deep / f"song-1.{ext}")
    (deep / "song-2.wav").write_bytes((ROOT / f"{TEST_ID}.wav").read_bytes())
    (deep / "song-2.txt").write_text("pia\t\n")
    ds = load("irmas", tmp_path)
    base = "IRMAS-TestingData-Part2/IRTestingData-Part2/more"
    assert ds.ids == [f"{base}/song-1", f"{base}/song-2"] and ds.problems == []
    assert ds.kind is LabelKind.HARD and set(ds.splits) == {"test"}
    np.testing.assert_array_equal(ds.y, [[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]])


def test_not_an_irmas_root(tmp_path: Path):
    with pytest.raises(DatasetError, match="not an IRMAS root.*IRMAS-TrainingData"):
        load("irmas", tmp_path)
