import numpy as np
import pytest

from saz.labels import LabelKind, LabelSet, UnknownClassError, Vocabulary, binarize, label_kind, matrix_to_names, names_to_matrix

HAMNAVA = ["singer", "tar", "ney", "setar", "santour", "kamancheh", "tonbak", "oud", "daf"]


def test_aliases_resolve_to_canonical_names():
    v = Vocabulary.from_names(HAMNAVA)
    assert v.resolve("Santur") == "santour"
    assert v.resolve("vocal") == "singer" and v.resolve("voice") == "singer"
    assert v.index("santur") == 4
    assert "Tombak" in v and "piano" not in v
    with pytest.raises(UnknownClassError, match="unknown class 'piano'"):
        v.index("piano")


def test_alias_never_shadows_a_real_class():
    v = Vocabulary.from_names(["voice", "singer"])  # both exist: each stays itself
    assert v.resolve("voice") == "voice" and v.resolve("singer") == "singer"


def test_vocabulary_round_trip_and_duplicates():
    v = Vocabulary.from_names(HAMNAVA)
    assert Vocabulary.from_dict(v.to_dict()) == v
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary.from_names(["tar", "Tar"])


def test_label_kinds():
    assert label_kind(np.array([[0, 1.0]])) is LabelKind.HARD
    assert label_kind(np.array([[0, 0.75]])) is LabelKind.SOFT
    assert label_kind(np.array([[np.nan, 0.75]])) is LabelKind.PARTIAL


def test_binarize_scalar_per_class_and_nan():
    y = np.array([[0.2, 0.5, np.nan], [0.8, 0.4, 0.9]], dtype=np.float32)
    np.testing.assert_array_equal(binarize(y), [[0, 1, np.nan], [1, 0, 1]])
    np.testing.assert_array_equal(binarize(y, [0.1, 0.45, 0.95]), [[1, 1, np.nan], [1, 0, 0]])
    with pytest.raises(ValueError, match="3 per-class thresholds"):
        binarize(y, [0.5, 0.5])


def test_names_matrix_round_trip():
    v = Vocabulary.from_names(HAMNAVA)
    rows = [["tar", "vocal"], [], ["daf"]]
    y = names_to_matrix(rows, v)
    assert y.shape == (3, 9) and y.sum() == 3
    assert matrix_to_names(y, v) == [["singer", "tar"], [], ["daf"]]
    partial = names_to_matrix([["tar"]], v, unknown_as_nan=True)
    assert partial[0, 1] == 1 and np.isnan(partial[0, 0]) and LabelSet(v, partial).kind is LabelKind.PARTIAL


def test_labelset_validates_shapes_and_ranges():
    v = Vocabulary.from_names(["a", "b"])
    with pytest.raises(ValueError, match=r"\(n_clips, 2\)"):
        LabelSet(v, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        LabelSet(v, np.array([[0, 2.0]]))
    with pytest.raises(ValueError, match="frame_rate"):
        LabelSet(v, np.zeros((2, 2)), activity=np.zeros((2, 10, 2)))
    ls = LabelSet(v, np.array([[1, 0], [0.5, np.nan]]), activity=np.zeros((2, 10, 2)), frame_rate=10.0)
    sub = ls.subset([1])
    assert sub.y.shape == (1, 2) and sub.activity.shape == (1, 10, 2)
    np.testing.assert_array_equal(ls.mask, [[True, True], [True, False]])
