"""The MedleyDB reader on the real-format fixture: metadata, labels, problems, segments, activity."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import yaml

from saz.datasets import Dataset, DatasetError, load
from saz.datasets.medleydb import MACRO_OF, load_medleydb
from saz.labels import normalise_name

ROOT = Path(__file__).parent / "fixtures" / "medleydb"
BEETHOVEN = "MusicDelta_Beethoven"
NIGHTOWL = "AClassicEducation_NightOwl"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def metadata(track: str) -> dict:
    return yaml.load((ROOT / "Audio" / track / f"{track}_METADATA.yaml").read_text(), Loader=LOADER)


def metadata_mix(track: str) -> str:
    """The mix file name that Metadata/ gives for ``track``."""
    return yaml.load((ROOT / "Metadata" / f"{track}_METADATA.yaml").read_text(), Loader=LOADER)["mix_filename"]


def stem_instruments(track: str) -> dict[str, list[str]]:
    """Stem id -> raw instrument names, as the track's YAML gives them."""
    out = {}
    for sid, stem in metadata(track)["stems"].items():
        inst = stem["instrument"]
        out[sid] = [inst] if isinstance(inst, str) else inst
    return out


def activation(track: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and per-stem columns of the track's ACTIVATION_CONF file."""
    path = ROOT / "Annotations/Instrument_Activations/ACTIVATION_CONF" / f"{track}_ACTIVATION_CONF.lab"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    values = np.array(rows[1:], dtype=float)
    return values[:, 0], {name: values[:, i] for i, name in enumerate(rows[0]) if i}


@pytest.fixture(scope="module")
def mix() -> Dataset:
    return load("medleydb", ROOT)


@pytest.fixture(scope="module")
def stem() -> Dataset:
    return load("medleydb", ROOT, level="stem")


def test_mix_level_is_one_clip_labelled_with_all_stem_instruments(mix: Dataset) -> None:
    assert mix.ids == [f"{BEETHOVEN}_MIX"]
    clip = mix.clips.iloc[0]
    assert Path(clip["path"]).is_absolute() and Path(clip["path"]).name == "MusicDelta_Beethoven_MIX.wav"
    assert clip["offset"] == 0.0 and math.isnan(clip["duration"]) and clip["split"] == "train"
    assert (clip["track"], clip["artist"], clip["genre"]) == (BEETHOVEN, "Music Delta Multitracks", "Classical")
    assert (mix.clips["has_bleed"].tolist(), mix.clips["instrumental"].tolist()) == ([False], [True])
    assert clip["level"] == "mix" and clip["stem_id"] is None
    assert list(mix.splits) == ["train"]  # one track: the 60/24/16 split puts it in train
    assert load("medleydb", ROOT, split="none").splits == {}

    raw = {n for names in stem_instruments(BEETHOVEN).values() for n in names}
    assert {"violin section", "double bass", "timpani", "french horn"} <= raw and len(raw) == 11
    expected = {normalise_name(n) for n in raw}
    assert set(np.array(mix.vocab.names)[mix.y[0] == 1]) == expected
    assert mix.y[0].sum() == len(expected) and set(np.unique(mix.y)) == {0.0, 1.0}
    assert mix.y[0, mix.vocab.index("violin section")] == 1 and mix.y[0, mix.vocab.index("male singer")] == 0


def test_raw_vocabulary_is_every_instrument_name_in_the_metadata(mix: Dataset) -> None:
    names = set()
    for path in (ROOT / "Metadata").glob("*_METADATA.yaml"):
        for stem in yaml.load(path.read_text(), Loader=LOADER)["stems"].values():
            inst = stem["instrument"]
            names.update([inst] if isinstance(inst, str) else inst)
    assert list(mix.vocab.names) == sorted(normalise_name(n) for n in names)
    assert "tabla" in mix.vocab and "main_system" in mix.vocab  # from metadata-only tracks


def test_stem_level_is_the_one_stem_with_audio(stem: Dataset) -> None:
    assert stem.ids == [f"{NIGHTOWL}_S08"]
    clip = stem.clips.iloc[0]
    assert Path(clip["path"]).name == "AClassicEducation_NightOwl_STEM_08.wav" and Path(clip["path"]).is_file()
    assert stem_instruments(NIGHTOWL)["S08"] == ["male singer"]
    assert (clip["stem_id"], clip["instrument"], clip["level"]) == ("S08", "male singer", "stem")
    assert np.flatnonzero(stem.y[0]).tolist() == [stem.vocab.index("male singer")]


def test_macro_labels_follow_the_report_categories() -> None:
    ds = load("medleydb", ROOT, labels="macro")
    assert list(ds.vocab.names) == [
        "acoustic_guitars", "bass", "brass", "drums", "electric_guitars", "electronic_fx", "electronic_keys",
        "folk_guitars", "free_reed", "harps", "percussion", "piano", "pitched_percussion", "strings", "system",
        "voice", "woodwinds",
    ]
    raw = {normalise_name(n) for names in stem_instruments(BEETHOVEN).values() for n in names}
    expected = {"strings", "bass", "woodwinds", "brass", "pitched_percussion"}
    assert {normalise_name(MACRO_OF[n]) for n in raw} == expected
    assert set(np.array(ds.vocab.names)[ds.y[0] == 1]) == expected
    unmapped = [p for p in ds.problems if "no macro-category" in p]
    assert unmapped == ["instrument 'Unlabeled' maps to no macro-category; ignored (83 stems)"]

    stems = load("medleydb", ROOT, level="stem", labels="macro")
    assert np.flatnonzero(stems.y[0]).tolist() == [stems.vocab.index("voice")]


def test_absent_audio_is_one_problem_per_track(mix: Dataset, stem: Dataset) -> None:
    tracks = {p.name[: -len("_METADATA.yaml")] for p in (ROOT / "Metadata").glob("*_METADATA.yaml")}
    assert len(tracks) == 330
    with_mix = {t for t in tracks if (ROOT / "Audio" / t / metadata_mix(t)).exists()}
    assert with_mix == {BEETHOVEN}
    absent = [p for p in mix.problems if "mix audio not found" in p]
    assert len(absent) == len(tracks - with_mix) == len(mix.problems)
    assert "AHa_TakeOnMe: mix audio not found (Audio/AHa_TakeOnMe/AHa_TakeOnMe_MIX.wav)" in absent
    assert not any(p.startswith(BEETHOVEN) for p in absent)

    absent = [p for p in stem.problems if "stem audio not found" in p]
    assert len(absent) == len(tracks)  # every track lacks at least one stem
    night = [p for p in absent if p.startswith(NIGHTOWL)]
    assert len(night) == 1 and "12 of 13 stems" in night[0] and "S08" not in night[0]



def test_segments_cut_the_mix_and_drop_a_short_tail() -> None:
    ds = load("medleydb", ROOT, segment=1.0)
    assert ds.ids == [f"{BEETHOVEN}_MIX@0.0", f"{BEETHOVEN}_MIX@1.0"]
    assert ds.clips["offset"].tolist() == [0.0, 1.0] and ds.clips["duration"].tolist() == [1.0, 1.0]
    assert (ds.y[0] == ds.y[1]).all() and ds.y[0].sum() == 11
    # 2 s in 0.8-s clips: the 0.4-s tail is half a segment, kept; in 1.5-s clips the 0.5-s tail is dropped
    ds = load("medleydb", ROOT, segment=0.8)
    assert ds.clips["offset"].tolist() == [0.0, 0.8, 1.6]
    assert ds.clips["duration"].tolist() == pytest.approx([0.8, 0.8, 0.4])
    assert len(load("medleydb", ROOT, segment=1.5)) == 1


def test_activity_is_the_max_over_the_stems_of_each_class(mix: Dataset, stem: Dataset) -> None:
    times, cols = activation(BEETHOVEN)
    hop = (times[-1] - times[0]) / (len(times) - 1)
    assert mix.labels.frame_rate == pytest.approx(1 / hop)
    assert mix.labels.frame_rate == pytest.approx(44100 / 2048, rel=1e-4)
    n = int((times < 2.0).sum())  # frames inside the 2-s mix
    assert n == 44 and mix.labels.activity.shape == (1, n, len(mix.vocab))
    act = mix.labels.activity[0]
    violins = mix.vocab.index("violin section")  # stems S01 and S02
    assert act[0, violins] == pytest.approx(0.2509) and act[1, violins] == pytest.approx(0.6469)
    assert act[:, violins] == pytest.approx(np.maximum(cols["S01"], cols["S02"])[:n])
    assert act[2, mix.vocab.index("viola")] == pytest.approx(0.6313)  # S03 alone
    assert (act[:, mix.vocab.index("male singer")] == 0).all()  # not in the track

    seg = load("medleydb", ROOT, segment=1.0).labels.activity
    first = int((times < 1.0).sum())
    assert seg.shape[1] == first == 22
    assert seg[1, 0, violins] == pytest.approx(max(cols["S01"][first], cols["S02"][first]))

    times, cols = activation(NIGHTOWL)
    act = stem.labels.activity[0]
    assert act[:, stem.vocab.index("male singer")] == pytest.approx(cols["S08"][: act.shape[0]])
    assert act[1, stem.vocab.index("male singer")] == pytest.approx(0.5692)
    assert (act[:, stem.vocab.index("vocalists")] == 0).all()  # another stem's instrument


def copy_track(root: Path, track: str, *, yaml_text: str | None = None) -> None:
    """Copy a fixture track's Audio folder under ``root``, optionally replacing its YAML."""
    shutil.copytree(ROOT / "Audio" / track, root / "Audio" / track)
    if yaml_text is not None:
        (root / "Audio" / track / f"{track}_METADATA.yaml").write_text(yaml_text)


def test_not_medleydb_root_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"not a MedleyDB root.*Audio/<Track>/<Track>_METADATA\.yaml"):
        load_medleydb(tmp_path)
    (tmp_path / "Audio" / "Something").mkdir(parents=True)
    with pytest.raises(DatasetError, match="not a MedleyDB root"):
        load("medleydb", tmp_path)


def test_malformed_metadata_is_a_problem(tmp_path: Path) -> None:
    copy_track(tmp_path, BEETHOVEN, yaml_text="stems: {S01: [unclosed\n")
    copy_track(tmp_path, NIGHTOWL, yaml_text=(ROOT / "Audio" / NIGHTOWL / f"{NIGHTOWL}_METADATA.yaml").read_text())
    ds = load("medleydb", tmp_path, level="stem")
    assert ds.ids == [f"{NIGHTOWL}_S08"]
    assert ds.labels.activity is None  # no Annotations folder here
    bad = [p for p in ds.problems if "malformed metadata" in p]
    assert len(bad) == 1 and f"{BEETHOVEN}_METADATA.yaml" in bad[0]
    assert load("medleydb", tmp_path).ids == []  # no usable mix at all, still no crash

    # a YAML without stems is malformed too; a readable copy in metadata_dir then stands in
    (tmp_path / "Audio" / BEETHOVEN / f"{BEETHOVEN}_METADATA.yaml").write_text("title: Beethoven\n")
    ds = load("medleydb", tmp_path, metadata_dir=ROOT / "Metadata")
    assert ds.ids == [f"{BEETHOVEN}_MIX"] and ds.y[0].sum() == 11
    assert any("malformed metadata (no 'stems' mapping)" in p for p in ds.problems)


def medleydb_with_mixes(tmp_path: Path, n: int) -> Path:
    """A copy of the fixture where the first ``n`` tracks of Metadata/ have a mix (the fixture's
    one real mix, copied under their names)."""
    root = Path(shutil.copytree(ROOT, tmp_path / "medleydb"))
    wav = root / "Audio" / BEETHOVEN / f"{BEETHOVEN}_MIX.wav"
    for meta in sorted((root / "Metadata").glob("*_METADATA.yaml"))[:n]:
        track = meta.name[: -len("_METADATA.yaml")]
        (root / "Audio" / track).mkdir(exist_ok=True)
        dest = root / "Audio" / track / f"{track}_MIX.wav"
        if not dest.exists():
            shutil.copy(wav, dest)
    return root


def test_reader_splits_60_24_16_over_tracks(tmp_path: Path) -> None:
    """The report's split: train/validation/test in 60/24/16 proportions, each track in one split,
    the same for the same seed."""
    root = medleydb_with_mixes(tmp_path, 50)
    ds = load("medleydb", root, labels="macro")
    sizes = {k: len(v) for k, v in ds.splits.items()}
    assert sum(sizes.values()) == len(ds) == 51  # the 50 copies and Beethoven's own
    for name, share in zip(("train", "validation", "test"), (0.60, 0.24, 0.16)):
        assert abs(sizes[name] - share * len(ds)) <= 2, sizes  # iterative stratification is near, not exact
    assert load("medleydb", root, labels="macro").clips["split"].tolist() == ds.clips["split"].tolist()
    assert load("medleydb", root, labels="macro", split_seed=1).clips["split"].tolist() != ds.clips["split"].tolist()
    cut = load("medleydb", root, labels="macro", segment=1.0)
    assert (cut.clips.groupby("track")["split"].nunique() == 1).all() and len(cut) == 2 * len(ds)
    with pytest.raises(ValueError, match="split must be one of"):
        load("medleydb", root, split="random")


def test_one_excerpt_per_file_from_the_activity_centre_or_the_first_loud_sample() -> None:
    """The report's 3.1: a mix's excerpt starts at the mean of its stems' activity centres, a
    stem's at its first sample above the threshold (of its peak), kept inside a long enough file."""
    import soundfile as sf

    lab = pd.read_csv(ROOT / "Annotations" / "Instrument_Activations" / "ACTIVATION_CONF"
                      / f"{BEETHOVEN}_ACTIVATION_CONF.lab")
    centres = [(lab["time"][lab[c] >= 0.5].min() + lab["time"][lab[c] >= 0.5].max()) / 2 for c in lab.columns[1:]]
    assert np.mean(centres) > 2.0  # past the fixture's 2-s cut of the mix: the excerpt keeps inside the file
    mix = load("medleydb", ROOT, excerpt=1.0)
    assert mix.clips[["offset", "duration"]].values.tolist() == [[1.0, 1.0]]
    stem = load("medleydb", ROOT, level="stem", excerpt=0.5, excerpt_threshold=0.2)
    y, sr = sf.read(next((ROOT / "Audio" / NIGHTOWL).glob("*_STEMS/*.wav")), always_2d=True)
    y = librosa.resample(y.mean(axis=1), orig_sr=sr, target_sr=22050)
    first = np.argmax(y > 0.2 * np.abs(y).max()) / 22050
    assert stem.clips["offset"].iloc[0] == pytest.approx(first, abs=2e-3) and stem.clips["duration"].iloc[0] == 0.5
    with pytest.raises(ValueError, match="excerpt"):
        load("medleydb", ROOT, excerpt=15.0, segment=5.0)


def test_mix_stem_and_raw_levels_joined_in_one_dataset(tmp_path: Path) -> None:
    """The report's final set: every MIX, STEM and RAW file, a raw track labelled with its stem's instrument."""
    root = Path(shutil.copytree(ROOT, tmp_path / "medleydb"))
    raw_dir = root / "Audio" / BEETHOVEN / f"{BEETHOVEN}_RAW"
    raw_dir.mkdir()
    for name in (f"{BEETHOVEN}_RAW_01_01.wav", f"{BEETHOVEN}_RAW_03_01.wav"):
        shutil.copy(root / "Audio" / BEETHOVEN / f"{BEETHOVEN}_MIX.wav", raw_dir / name)
    ds = load("medleydb", root, level="all", labels="macro", split="none")
    assert sorted(ds.clips["level"]) == ["mix", "raw", "raw", "stem"]
    raws = ds.clips[ds.clips["level"] == "raw"]
    assert raws["clip_id"].tolist() == [f"{BEETHOVEN}_S01_R01", f"{BEETHOVEN}_S03_R01"]
    assert all(np.array(ds.vocab.names)[ds.y[i] == 1].tolist() == ["strings"] for i in raws.index)
    assert any(f"{BEETHOVEN}: raw audio not found for" in p for p in ds.problems)
    assert len(load("medleydb", root, level="mix,raw", split="none")) == 3
    with pytest.raises(ValueError, match="level must be"):
        load("medleydb", root, level="mixes")
