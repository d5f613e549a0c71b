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
