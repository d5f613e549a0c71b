"""`saz synth render | mix | physical | bench`, run in-process."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conftest import REPO
from saz.datasets import DatasetError, load
from saz.synth.physical import is_physical_set, models
from saz.vocabulary import default_vocabulary


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_render_with_levers(cli, tmp_path):
    r = cli("synth", "render", "--out", tmp_path / "c", "--n", "2", "--lever", "performance", "--lever", "acoustics",
            "--soundfont", "TimGM6mb", "--corpus-fraction", "0")
    assert r.returncode == 0, r.stderr
    assert len(load("saz-bench", tmp_path / "c").clips) == 2


def test_render_refuses_a_bad_lever_or_setting_before_rendering(cli, tmp_path):
    bad = cli("synth", "render", "--out", tmp_path / "d", "--n", "2", "--lever", "reverb")
    assert bad.returncode == 1 and "unknown lever(s) reverb" in bad.stderr
    for bad, message in ((["--set", "mix=1"], "mix=1: expected KEY=VALUE"),
                         (["--set", "sample_shift=two"], "'two' is not a number")):
        r = cli("synth", "render", "--out", tmp_path / "d", "--n", "1", *bad)
        assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_render_without_its_soundfont_says_what_to_install_in_one_line(cli, tmp_path):
    (tmp_path / "fonts").mkdir()
    r = cli("synth", "render", "-o", tmp_path / "out", "--n", "1", env={"SAZ_SOUNDFONT_DIRS": str(tmp_path / "fonts")})
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines == [f"error: SoundFont 'FluidR3_GM' not found in {tmp_path / 'fonts'} ($SAZ_SOUNDFONT_DIRS sets these "
                     "folders): apt-get install fluid-soundfont-gm"]


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_render_set_overrides_any_render_setting(cli, tmp_path):
    r = cli("synth", "render", "--out", tmp_path / "c", "--n", "4", "--soundfont", "TimGM6mb", "--corpus-fraction", "0",
            "--min-instruments", "3", "--set", "min_instruments=1", "--set", "max_instruments=1")
    assert r.returncode == 0, r.stderr
    manifest = pd.read_csv(tmp_path / "c" / "train.csv")
    assert len(manifest) == 4 and all(len(i.split(";")) == 1 for i in manifest["instruments"])  # --set wins


def test_mix_writes_a_manifest_the_csv_reader_loads(cli, tone_library, tmp_path):
    r = cli("synth", "mix", str(tone_library), "--out", str(tmp_path / "out"), "--n", "6", "--class-map", "none",
            "--seconds", "2", "--test-fraction", "0.5")
    assert r.returncode == 0, r.stderr
    for split in ("train", "test"):
        ds = load("csv", tmp_path / "out" / f"{split}.csv")
        assert len(ds) == 6 and set(ds.vocab.names) == {"daf", "ney", "santur", "tar", "zang"}
        assert ds.labels.activity is not None and ds.labels.activity.shape[0] == 6
        assert (ds.y.sum(axis=1) >= 1).all()
    before = (tmp_path / "out" / "train.csv").read_bytes()
    (tmp_path / "out" / "train.csv").unlink()
    r = cli("synth", "mix", str(tone_library), "--out", str(tmp_path / "out"), "--n", "6", "--class-map", "none",
            "--seconds", "2", "--test-fraction", "0.5")
    assert r.returncode == 0 and (tmp_path / "out" / "train.csv").read_bytes() == before  # resumed from chunks


@pytest.mark.needs_fluidsynth("FluidR3_GM", "MuseScore_General", "TimGM6mb")
def test_bench_small_build_from_the_v1_spec(cli, tmp_path):
    if not (REPO.parent / "shared" / "samples").is_dir():
        pytest.skip("../shared/samples not beside the repository")
    r = cli("synth", "bench", "--spec", str(REPO / "benchmarks/saz-bench-v1.toml"), "--out", str(tmp_path / "b"),
            "--scale", "0.02", "-j", "2")
    assert r.returncode == 0, r.stderr
    card = (tmp_path / "b" / "CARD.md").read_text()
    assert "| test | render | TimGM6mb | 40 |" in card and "| train | render | FluidR3_GM, MuseScore_General | 160 |" in card
    assert "| mandolin |" in card and (tmp_path / "b" / "cooccurrence.png").exists()
    train = load("csv", tmp_path / "b" / "train.csv")
    test = load("csv", tmp_path / "b" / "test.csv")
    assert len(train) == 160 and len(test) == 40 and train.vocab.names == default_vocabulary().names
    assert set(pd.read_csv(tmp_path / "b" / "test.csv")["soundfont"]) == {"TimGM6mb"}
    assert not set(pd.read_csv(tmp_path / "b" / "train.csv")["soundfont"]) & {"TimGM6mb"}
    bench = load("saz-bench", tmp_path / "b")
    assert {k: len(v) for k, v in bench.splits.items()} == {"train": 160, "validation": 30, "test": 40, "test_mix": 10}
    assert bench.labels.activity is None and bench.vocab.names == train.vocab.names
    np.testing.assert_array_equal(bench.subset("test").y, test.y)
    framed = load("saz-bench", tmp_path / "b", activity=True)
    assert framed.labels.activity.shape[:2] == (240, 216) and framed.labels.frame_rate == pytest.approx(22050 / 512)
    with pytest.raises(DatasetError, match="not a saz-bench root"):
        load("saz-bench", tmp_path)
    r = cli("synth", "bench", "--spec", str(REPO / "benchmarks/saz-bench-v1.toml"), "--out", str(tmp_path / "v"),
            "--scale", "0.02", "--split", "validation")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "v").glob("*.csv")) == ["validation.csv"]  # that split only, same clips
    assert (tmp_path / "v" / "validation.csv").read_bytes() == (tmp_path / "b" / "validation.csv").read_bytes()
    alone, full = (load("saz-bench", tmp_path / d).subset("validation").clips["path"].iloc[-1] for d in ("v", "b"))
    np.testing.assert_array_equal(sf.read(alone)[0], sf.read(full)[0])
    r = cli("synth", "bench", "--spec", str(REPO / "benchmarks/saz-bench-v1.toml"), "--out", str(tmp_path / "x"),
            "--split", "tset")
    assert r.returncode == 1 and "no split tset" in r.stderr and "Traceback" not in r.stderr


def test_physical_writes_a_library_and_refuses_no_notes(cli, tmp_path):
    r = cli("synth", "physical", "--out", tmp_path / "lib", "--per-model", "1")
    assert r.returncode == 0 and f"{len(models())} notes" in r.stdout, r.stderr
    assert is_physical_set(tmp_path / "lib")
    r = cli("synth", "physical", "--out", tmp_path / "x", "--per-model", "0")
    assert r.returncode == 2 and "--per-model must be at least 1" in r.stderr
