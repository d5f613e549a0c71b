import numpy as np
import pytest

from saz.datasets import DatasetError, load
from conftest import FIXTURES


@pytest.fixture
def audio_dir(tmp_path):
    d = tmp_path / "clips"
    d.mkdir()
    for name in ("a.ogg", "b.ogg", "c.ogg"):
        (d / name).write_bytes((FIXTURES / "openmic2018/audio/000/000046_3840.ogg").read_bytes())
    return tmp_path


def test_class_columns_soft_and_unknown(audio_dir):
    (audio_dir / "manifest.csv").write_text(
        "path,split,tar,ney,source\nclips/a.ogg,train,1,0.25,x\nclips/b.ogg,test,,1,y\nclips/missing.ogg,train,0,0,z\n"
        "clips/c.ogg,train,2,0,w\n"
    )
    ds = load("csv", audio_dir)
    assert ds.vocab.names == ("tar", "ney") and len(ds) == 2
    np.testing.assert_array_equal(ds.y[0], [1, 0.25])
    assert np.isnan(ds.y[1, 0]) and ds.kind.value == "partial"
    assert ds.clips["source"].tolist() == ["x", "y"] and ds.splits["test"].tolist() == [1]
    assert ds.clips["path"].iloc[0] == str((audio_dir / "clips/a.ogg").resolve())
    assert any(":4: audio file not found" in p for p in ds.problems)
    assert any(":5: malformed row" in p and "outside [0, 1]" in p for p in ds.problems)


def test_names_column_offsets_and_activity(audio_dir):
    np.save(audio_dir / "act.npy", np.array([[0, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=np.float32))
    (audio_dir / "m.csv").write_text(
        "clip_id,path,labels,offset,duration,activity,frame_rate\n"
        "one,clips/a.ogg,voice;piano,0.5,1.0,act.npy,10\ntwo,clips/b.ogg,piano,,,,\nthree,clips/c.ogg,vocal;banjo,,,,\n"
    )
    ds = load("csv", audio_dir / "m.csv")
    assert ds.vocab.names == ("banjo", "piano", "voice")  # "vocal" folded into "voice"
    np.testing.assert_array_equal(ds.y, [[0, 1, 1], [0, 1, 0], [1, 0, 1]])
    assert ds.clips["offset"].tolist() == [0.5, 0.0, 0.0] and ds.clips["duration"].iloc[0] == 1.0
    assert np.isnan(ds.clips["duration"].iloc[1])
    assert ds.labels.activity.shape == (3, 3, 3) and ds.labels.frame_rate == 10
    assert np.isnan(ds.labels.activity[1]).all()
    np.testing.assert_array_equal(ds.labels.activity[0, 1], [0, 1, 1])
    fixed = load("csv", audio_dir / "m.csv", classes=["piano", "voice"])
    assert fixed.labels.activity is None and any("unusable activity file" in p for p in fixed.problems)
    assert len(fixed) == 2 and any(":4: malformed row (unknown class 'banjo'" in p for p in fixed.problems)


def test_no_manifest_or_no_path_column(tmp_path):
    with pytest.raises(DatasetError, match="no manifest"):
        load("csv", tmp_path)
    (tmp_path / "manifest.csv").write_text("file,tar\nx.wav,1\n")
    with pytest.raises(DatasetError, match="no 'path' column"):
        load("csv", tmp_path)
