import shutil

import numpy as np
import pandas as pd
import pytest

from saz.datasets import DatasetError, load
from saz.datasets.hamnava import CLASSES
from saz.labels import binarize
from conftest import FIXTURES

ROOT = FIXTURES / "hamnava"


def test_soft_labels_value_by_value():
    ds = load("hamnava", ROOT)
    assert ds.kind.value == "soft" and ds.vocab.names == CLASSES
    assert len(ds) == 11  # 12 label rows - 1 without audio
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 4, "validation": 3, "test": 4}
    row = dict(zip(CLASSES, ds.y[ds.ids.index("ABHPSR.mp3")]))
    assert row == pytest.approx({"singer": 1, "tar": 0.75, "ney": 0.875, "setar": 0, "santour": 0.875,
                                 "kamancheh": 1, "tonbak": 1, "oud": 0.625, "daf": 0})
    assert ds.y[ds.ids.index("AAIGML.mp3"), CLASSES.index("oud")] == pytest.approx(0.666666667)
    clip = ds.clips.set_index("clip_id").loc["ADWZFO.mp3"]
    assert clip["split"] == "test" and clip["difficulty"] == 1 and clip["path"].endswith("audio/ADWZFO.mp3")


def test_real_defects_are_problems_not_failures():
    ds = load("hamnava", ROOT)
    assert len(ds.problems) == 2
    assert any("ACJUOP.mp3" in p and "audio file not found" in p for p in ds.problems)
    assert any("ABKBOC.mp3" in p and "without a label row" in p for p in ds.problems)
    assert "ACJUOP.mp3" not in ds.ids and "ABKBOC.mp3" not in ds.ids


def test_hard_variant():
    ds = load("hamnava", ROOT, labels="hard")
    assert ds.kind.value == "hard"
    np.testing.assert_array_equal(ds.y[ds.ids.index("ABQOQT.mp3")], [0, 0, 1, 1, 0, 0, 0, 0, 0])
    soft = load("hamnava", ROOT)
    # the shipped *_bin files are the soft labels binarised as the paper says, "greater than 0.5"
    np.testing.assert_array_equal(ds.y, binarize(soft.y, 0.5, "gt"))


def test_shipped_bin_files_binarise_greater_than_half():
    """Every row of the annotation files, audio or not: *_bin is soft > 0.5, and a soft label of
    exactly 0.5 (ACJUOP's tar, validation) is 0 there, which ">= 0.5" would make 1."""
    ties = 0
    for split in ("train", "validation", "test"):
        soft = pd.read_csv(ROOT / "annotations" / f"{split}.csv").set_index("sample_id")
        hard = pd.read_csv(ROOT / "annotations" / f"{split}_bin.csv").set_index("sample_id").loc[soft.index]
        cols = soft.columns[2:]
        np.testing.assert_array_equal(hard[cols].to_numpy(np.float32), binarize(soft[cols].to_numpy(), 0.5, "gt"))
        ties += int((soft[cols].to_numpy() == 0.5).sum())
    assert ties >= 1 and binarize(np.array([[0.5]]), 0.5, "ge")[0, 0] == 1


def test_paper_spellings_any_order_and_malformed_rows(tmp_path):
    root = tmp_path / "hn"
    shutil.copytree(ROOT, root)
    csv = root / "annotations" / "train.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    order = [0, 1, 10, 9, 8, 7, 6, 5, 4, 3, 2]  # reversed class columns
    renamed = {"singer": "vocal", "santour": "santur"}
    out = [",".join(renamed.get(header[i], header[i]) for i in order)]
    for line in lines[1:]:
        cells = line.split(",")
        out.append(",".join(cells[i] for i in order))
    out.append("AANKIK.mp3,0,zero,0,0,0,0,0,0,0,0")  # malformed duplicate id
    csv.write_text("\n".join(out) + "\n")
    ds = load("hamnava", root)
    ref = load("hamnava", ROOT)
    np.testing.assert_array_equal(ds.y, ref.y)
    assert any("train.csv:6: malformed row" in p for p in ds.problems)


def test_unknown_column_and_not_hamnava(tmp_path):
    root = tmp_path / "hn"
    shutil.copytree(ROOT, root)
    csv = root / "annotations" / "test.csv"
    csv.write_text(csv.read_text().replace("daf", "dotar"))
    ds = load("hamnava", root)
    assert any("unknown class column 'dotar'" in p for p in ds.problems)
    assert any("no column for class 'daf'" in p for p in ds.problems)
    assert np.isnan(ds.y[ds.splits["test"], CLASSES.index("daf")]).all() and ds.kind.value == "partial"
    with pytest.raises(DatasetError, match="not a HamNava root"):
        load("hamnava", tmp_path)


def test_santur_and_singer_score_as_the_default_models_dulcimer_and_voice():
    """Scoring the default model on HamNava maps its names as the `real` set does; the rest drop."""
    from saz.vocabulary import align_labels
    from saz.vocabulary import default_vocabulary

    ds = load("hamnava", FIXTURES / "hamnava")
    vocab = default_vocabulary()
    y, dropped = align_labels(ds.y, ds.vocab, vocab)
    for ours, theirs in (("dulcimer", "santour"), ("voice", "singer")):
        np.testing.assert_array_equal(y[:, vocab.names.index(ours)], ds.y[:, ds.vocab.names.index(theirs)])
    assert "santour" not in dropped and {"tar", "ney", "daf"} <= set(dropped)
    assert np.isnan(y[:, vocab.names.index("piano")]).all()  # not annotated: unknown, not absent
