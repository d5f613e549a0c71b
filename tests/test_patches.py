"""GUS patches (Debian's freepats) read as recorded notes for the real-recording pools."""

import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from saz.vocabulary import load_map
from saz.synth.library import pool_mixtures
from saz.synth.patches import NOTE_SECONDS, is_patch_set, note, patch_pool, read_patch
from saz.synth.sources import real_pool

from conftest import FIXTURES

PATCHES = FIXTURES / "freepats"


def test_read_patch_decodes_every_sample_with_its_loop():
    samples = read_patch(PATCHES / "Tone_000" / "079_Ocarina.pat")
    assert len(samples) == 2
    for s in samples:
        assert 8000 < s.sr < 50000 and s.audio.dtype == np.float32
        assert 0 < np.abs(s.audio).max() <= 1.0
        start, end = s.loop
        assert 0 <= start < end <= len(s.audio)
    (kick,) = read_patch(PATCHES / "Drum_000" / "035_Kick_1.pat")
    assert kick.loop is None and np.abs(kick.audio).max() > 0.1  # a one-shot recording, heard loud


def test_a_looped_sample_becomes_a_held_note_that_fades_out():
    (s,) = read_patch(PATCHES / "Tone_000" / "032_Acoustic_Bass.pat")
    assert len(s.audio) / s.sr < 1.0  # the recording alone is shorter than the note
    x = note(s)
    start, end = s.loop
    assert len(x) == int(NOTE_SECONDS * s.sr)
    np.testing.assert_array_equal(x[: end // 2], s.audio[: end // 2])  # the attack is the recording itself
    np.testing.assert_array_equal(x[end : end + 100], s.audio[start : start + 100])  # then the loop again
    assert x[-1] == 0 and np.abs(x[-200:]).max() < np.abs(x).max()


def test_patch_pool_names_classes_from_the_instrument_map_and_reuses_its_notes(tmp_path):
    pool = patch_pool(PATCHES, list(load_map()), tmp_path / "cache")
    classes = {p.rsplit("/", 1)[1]: c for p, c, _ in pool}
    assert classes == {"032_Acoustic_Bass_00.wav": "bass", "035_Kick_1_00.wav": "drums",
                       "079_Ocarina_00.wav": "", "079_Ocarina_01.wav": ""}  # ocarina: a distractor
    assert {s for _, _, s in pool} == {"freepats"}
    for path, _, _ in pool:
        assert sf.info(path).duration > 0.05
    stamp = {p: Path(p).stat().st_mtime_ns for p, _, _ in pool}
    assert patch_pool(PATCHES, list(load_map()), tmp_path / "cache") == pool  # decoded once
    assert {p: Path(p).stat().st_mtime_ns for p, _, _ in pool} == stamp
    assert not list((tmp_path / "cache").rglob("*.tmp.wav"))


def test_a_broken_patch_is_skipped_by_name_and_the_rest_still_read(tmp_path, capsys):
    root = tmp_path / "freepats"
    shutil.copytree(PATCHES, root)
    broken = root / "Tone_000" / "032_Acoustic_Bass.pat"
    broken.write_bytes(broken.read_bytes()[:600])  # cut inside its sample data
    pool = patch_pool(root, list(load_map()), tmp_path / "cache")
    assert "032_Acoustic_Bass.pat" in capsys.readouterr().err
    assert {c for _, c, _ in pool} == {"drums", ""}


def test_real_pool_reads_a_patch_set_beside_other_roots(tmp_path, monkeypatch):
    monkeypatch.setenv("SAZ_CACHE", str(tmp_path / "cache"))
    assert is_patch_set(PATCHES) and not is_patch_set(FIXTURES / "tinysol")
    pool = real_pool([PATCHES], list(load_map()))
    assert sorted(c for _, c, _ in pool) == ["", "", "bass", "drums"]
    assert all(p.startswith(str(tmp_path / "cache")) for p, _, _ in pool)


def test_pool_mixtures_mix_the_labelled_notes_only_and_are_written_once(tmp_path):
    classes = list(load_map())
    pool = patch_pool(PATCHES, classes, tmp_path / "cache")
    df = pool_mixtures(pool, classes, 4, tmp_path / "mix", seed=1, prefix="fp-", split="validation")
    assert list(df["clip_id"]) == [f"fp-{i:06d}" for i in range(4)]
    labels = df[classes]
    assert set(labels.columns[labels.sum() > 0]) == {"bass", "drums"}
    assert set(df["instruments"]) == {"bass;drums"}  # the ocarina, a distractor, is never mixed in
    for path in df["path"]:
        assert Path(path).is_absolute() and sf.info(path).duration == 5.0
    stamp = {p: Path(p).stat().st_mtime_ns for p in df["path"]}
    again = pool_mixtures(pool, classes, 4, tmp_path / "mix", seed=1, prefix="fp-", split="validation")
    assert again.equals(df) and {p: Path(p).stat().st_mtime_ns for p in df["path"]} == stamp
