"""`saz reproduce`: each document end to end on the fixtures at the tiny budget, every table and
analysis it promises written, the published columns equal to the data files; the analyses alone."""

import csv
import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml
from conftest import invoke_saz

from saz.reproduce.settings import load_settings, published

FIXTURES = Path(__file__).parent / "fixtures"


def cultural_library(root: Path) -> Path:
    """A tiny single-instrument library in the paper's layout (category / instrument / recordings)."""
    sr, rng = 22050, np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    for (cat, name), f0 in {("Chordophone", "Iran-Tar"): 220, ("Chordophone", "China-Erhu"): 440,
                            ("Aerophone", "Iran-Ney"): 330, ("Membranophone", "Iran-Daf"): 0}.items():
        (root / cat / name).mkdir(parents=True)
        for k in range(3):
            y = np.sin(2 * np.pi * f0 * (1 + 0.03 * k) * t) if f0 else rng.standard_normal(len(t)) * np.exp(-5 * (t % 0.5))
            sf.write(root / cat / name / f"{k}.wav", (0.3 * y).astype(np.float32), sr)
    return root


def openmic_with_audio(root: Path) -> Path:
    """The OpenMIC fixture, every partition clip given the fixture's one real excerpt as audio
    and its released VGGish frames (the fixture ships both for one clip only)."""
    shutil.copytree(FIXTURES / "openmic2018", root)
    real = {"audio": root / "audio" / "000" / "000046_3840.ogg", "vggish": root / "vggish" / "000" / "000046_3840.json"}
    for part in (root / "partitions").glob("*.csv"):
        for key in part.read_text().split():
            for folder, source in real.items():
                target = root / folder / key[:3] / f"{key}{source.suffix}"
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    shutil.copy(source, target)
    return root


ROOTS = {"hamnava": lambda tmp: FIXTURES / "hamnava", "medleydb": lambda tmp: FIXTURES / "medleydb",
         "openmic": lambda tmp: openmic_with_audio(tmp / "openmic"), "cultural": lambda tmp: cultural_library(tmp / "lib")}


@pytest.fixture(scope="module", params=list(ROOTS))
def reproduced(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "out"
    args = ["reproduce", request.param, "--root", ROOTS[request.param](tmp), "--out", out, "--budget", "tiny",
            "--cache", tmp / "cache"]
    r = invoke_saz(*args)
    assert r.returncode == 0, r.stderr
    return request.param, out, r.stdout + r.stderr, args


def test_every_table_beside_the_published_numbers(reproduced):
    document, out, output, _ = reproduced
    settings, paper = load_settings(document, "tiny"), published(document)
    assert settings["tables"], document
    for tid in settings["tables"]:
        table = paper["tables"][tid]
        assert (out / "tables" / f"{tid}.md").is_file()
        with open(out / "tables" / f"{tid}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        got = {(r["row"], r["column"]): r["paper"] for r in rows}
        for row in table["rows"]:
            for col, value in zip(table["columns"], row[1:]):
                assert float(got[(row[0], col)]) == float(value), (tid, row[0], col)
        assert any(r["saz"] != "" for r in rows), f"{tid}: no saz value at all"
        assert table["ref"] in output and table["ref"] in (out / "REPORT.md").read_text()


def test_every_analysis_and_figure_written(reproduced):
    document, out, _, _ = reproduced
    manifest = json.loads((out / "manifest.json").read_text())
    for name in load_settings(document, "tiny")["analyses"]["names"]:
        assert manifest["files"].get(name), f"{name} wrote nothing"
        for path in manifest["files"][name]:
            assert (out / path).is_file() and (out / path).stat().st_size > 0, path
    promised = {"hamnava": ["figures/confidence.png", "analyses/labels_by_difficulty.csv", "analyses/results_by_difficulty.csv"],
                "medleydb": ["figures/genre_percent_fine.png", "figures/genre_percent_macro.png",
                             "figures/cooccurrence_percent_fine.png", "figures/cooccurrence_percent_macro.png"],
                "openmic": ["compare/macro_boxplots.png", "compare/per_class_f1.png", "compare/compare.csv"],
                "cultural": ["figures/per_class_f1.png", "analyses/class_distribution.csv"]}[document]
    for path in promised + ["figures/spectrograms/00.png", "REPORT.md"]:
        assert (out / path).is_file(), path
    used = tomllib.loads((out / "settings.toml").read_text())
    assert used["document"] == document and "budget 'tiny'" in (out / "settings.toml").read_text()


def test_settings_not_applied_are_said(reproduced):
    document, out, output, _ = reproduced
    report = (out / "REPORT.md").read_text()
    not_applied = json.loads((out / "manifest.json").read_text())["not_applied"]
    for line in not_applied:
        assert line in report and line in " ".join(output.split())
    assert not [line for line in not_applied if "not in this saz version" in line], "a shipped setting names a key saz lacks"


@pytest.mark.parametrize("reproduced", ["hamnava"], indirect=True)  # one document is enough
def test_an_interrupted_reproduction_resumes(reproduced):
    document, out, _, args = reproduced
    model = next((out / "runs").glob("*/seed0/model.pt"))
    stamp = model.stat().st_mtime_ns
    r = invoke_saz(*args)
    assert r.returncode == 0, r.stderr
    assert model.stat().st_mtime_ns == stamp


def test_medleydb_matrices_from_the_metadata_alone():
    from saz.datasets.medleydb import track_metadata
    from saz.evaluation.dataset_stats import occurrence_matrices

    tracks, problems = track_metadata(FIXTURES / "medleydb")
    assert len(tracks) == len(list((FIXTURES / "medleydb" / "Metadata").glob("*_METADATA.yaml"))) == 330
    meta = yaml.safe_load((FIXTURES / "medleydb/Metadata/AmarLal_SpringDay1_METADATA.yaml").read_text())
    row = tracks.set_index("track").loc["AmarLal_SpringDay1"]
    assert row["genre"] == meta["genre"]
    m = occurrence_matrices(tracks, "macro")
    co = m["cooccurrence"]
    assert (co.to_numpy() == co.to_numpy().T).all()
    drums = sum("drums" in t for t in tracks["macro"])
    assert co.loc["drums", "drums"] == drums == m["genre"].loc["drums"].sum()
    rock = tracks[tracks["genre"] == "Rock"]
    assert m["genre %"].loc["drums", "Rock"] == round(100 * sum("drums" in t for t in rock["macro"]) / len(rock), 2)


def test_hamnava_confidence_and_difficulty_by_hand():
    from saz.datasets import load
    from saz.evaluation.dataset_stats import by_difficulty, confidence

    ds = load("hamnava", FIXTURES / "hamnava")
    frames = [pd.read_csv(FIXTURES / "hamnava/annotations" / f"{s}.csv") for s in ("train", "validation", "test")]
    raw = pd.concat(frames)
    raw = raw[raw["sample_id"].isin(ds.clips["path"].map(lambda p: Path(p).name))]
    hard = raw[raw["difficulty"] == 1]["tar"]
    assert confidence(ds).loc["tar", "confidence hard"] == round(100 * float((2 * (hard - 0.5).abs()).mean()), 2)
    stats = by_difficulty(ds)
    assert stats.loc["hard", "clips"] == len(hard) and stats.loc["hard", "tar present"] == int((hard >= 0.5).sum())


def test_clip_table_names_tp_fn_fp():
    from saz.evaluation.dataset_stats import clip_table

    t = clip_table(np.array(["a"]), np.array([[1.0, 1.0, 0.0, np.nan]]), np.array([[True, False, True, True]]),
                   ["drums", "bass", "voice", "piano"])
    r = t.iloc[0]
    assert (r["TP"], r["FN"], r["FP"], r["predicted"]) == ("drums", "bass", "voice", "drums;voice")


def test_a_copied_setting_is_used_and_a_wrong_one_refused(cli, tmp_path: Path):
    r = cli("reproduce", "hamnava", "--show-settings")
    assert r.returncode == 0 and tomllib.loads(r.stdout)["document"] == "hamnava"
    mine = tmp_path / "mine.toml"
    mine.write_text(r.stdout.replace('document = "hamnava"', 'document = "medleydb"'))
    r = cli("reproduce", "hamnava", "--root", FIXTURES / "hamnava", "--out", tmp_path / "o", "--settings", mine)
    assert r.returncode == 1 and "a setting of 'medleydb', not of 'hamnava'" in r.stderr and "Traceback" not in r.stderr
    r = cli("reproduce", "nonsense", "--root", tmp_path, "--out", tmp_path / "o")
    assert r.returncode == 2 and "unknown document 'nonsense'" in r.stderr
