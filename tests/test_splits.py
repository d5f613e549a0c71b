import numpy as np
import pytest

from saz.datasets.splits import MEDLEYDB_RATIOS, stratified_split


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = (rng.random((1200, 8)) < np.linspace(0.05, 0.5, 8)).astype(np.float32)
    groups = rng.integers(0, 400, 1200)
    return y, groups


def test_ratios_and_label_distribution_stay_close(data):
    y, groups = data
    s = stratified_split(y, groups=groups, seed=3)
    overall = y.mean(axis=0)
    for name, ratio in zip(("train", "validation", "test"), (0.7, 0.15, 0.15)):
        m = s == name
        assert abs(m.mean() - ratio) < 0.03
        assert np.abs(y[m].mean(axis=0) - overall).max() < 0.08  # groups of ~3 clips move together


def test_without_groups_distribution_is_tight(data):
    y, _ = data
    s = stratified_split(y, seed=3)
    for name in ("train", "validation", "test"):
        assert np.abs(y[s == name].mean(axis=0) - y.mean(axis=0)).max() < 0.02


def test_stratification_beats_random_assignment(data):
    y, _ = data
    s = stratified_split(y, seed=1)
    rng = np.random.default_rng(1)
    r = rng.permutation(s)
    dev = lambda a: np.abs(y[a == "test"].mean(0) - y.mean(0)).sum()  # noqa: E731
    assert dev(s) < dev(r)


def test_no_group_leaks_and_determinism(data):
    y, groups = data
    s = stratified_split(y, MEDLEYDB_RATIOS, groups=groups, seed=7)
    for g in np.unique(groups):
        assert len(set(s[groups == g])) == 1
    assert (s == stratified_split(y, MEDLEYDB_RATIOS, groups=groups, seed=7)).all()
    assert not (s == stratified_split(y, MEDLEYDB_RATIOS, groups=groups, seed=8)).all()
    assert abs((s == "train").mean() - 0.6) < 0.04


def test_bad_ratios():
    with pytest.raises(ValueError, match="ratios"):
        stratified_split(np.zeros((4, 2)), (0.5, 0.5), names=("a", "b", "c"))


def _dataset(splits: list[str], y: np.ndarray):
    from pathlib import Path

    from saz.datasets.base import Dataset, clips_frame
    from saz.labels import LabelSet, Vocabulary

    rows = [{"clip_id": f"c{k}", "path": f"/x/c{k}.wav", "split": s} for k, s in enumerate(splits)]
    return Dataset("toy", Path("/x"), clips_frame(rows), LabelSet(Vocabulary.from_names(["a", "b", "c"]), y))


def test_train_and_validation_use_the_splits_or_cut_a_stratified_share():
    from saz.datasets.splits import split_of, train_and_validation

    y = np.eye(3, dtype=np.float32)[np.arange(40) % 3]
    ds = _dataset(["train"] * 30 + ["validation"] * 10, y)
    tr, va, carved = train_and_validation(ds)
    assert (len(tr), len(va), carved) == (30, 10, False) and va.ids == [f"c{k}" for k in range(30, 40)]
    only = _dataset(["train"] * 20 + ["test"] * 20, y)
    tr, va, carved = train_and_validation(only, seed=1)
    assert carved and (len(tr), len(va)) == (17, 3) and not set(tr.ids) & set(va.ids)  # none in both
    assert set(tr.ids) | set(va.ids) == {f"c{k}" for k in range(20)}  # none left out, no test clip
    assert sorted(va.y.argmax(1)) == [0, 1, 2]  # stratified: one of each class
    again = train_and_validation(only, seed=1)[1]
    assert again.ids == va.ids  # the same cut for the same seed
    with pytest.raises(KeyError, match="toy has no split 'training'"):
        train_and_validation(only, train="training")
    assert len(split_of(only, "all")) == 40 and split_of(only, "test").ids == [f"c{k}" for k in range(20, 40)]
    with pytest.raises(KeyError, match="no split 'validation' \\(splits: train, test\\)"):
        split_of(only, "validation")
