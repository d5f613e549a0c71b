"""`saz datasets list | info`, run in-process on the real fixture data."""

import json

import pytest

from conftest import FIXTURES


def test_datasets_list_and_info_with_plots(cli, tmp_path):
    r = cli("datasets", "list")
    assert r.returncode == 0 and "hamnava" in r.stdout and "csv" in r.stdout
    r = cli("datasets", "info", "hamnava", str(FIXTURES / "hamnava"), "--plots", str(tmp_path), "--json", str(tmp_path / "s.json"))
    assert r.returncode == 0, r.stderr
    assert "11 clips" in r.stdout and "train 4, validation 3, test 4" in r.stdout
    assert r.stderr.count("problem:") == 2 and "ABKBOC.mp3" in r.stderr
    for png in ("class_counts.png", "labels_per_clip.png", "cooccurrence.png", "soft_labels.png"):
        assert (tmp_path / png).stat().st_size > 5000
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["per_class"]["tar"] == 5 and s["kind"] == "soft"


def test_datasets_info_reader_option_and_bad_root(cli, tmp_path):
    r = cli("datasets", "info", "hamnava", str(FIXTURES / "hamnava"), "-o", "labels=hard")
    assert r.returncode == 0 and "hard labels" in r.stdout
    r = cli("datasets", "info", "hamnava", str(tmp_path))
    assert r.returncode == 1 and "not a HamNava root" in r.stderr
    r = cli("datasets", "info", "nosuchreader", str(tmp_path))
    assert r.returncode == 1 and "error: unknown dataset 'nosuchreader'" in r.stderr and "Traceback" not in r.stderr
    r = cli("datasets", "info", "hamnava", str(FIXTURES / "hamnava"), "-o", "labels")
    assert r.returncode == 2 and "expected KEY=VALUE, got 'labels'" in r.stderr


@pytest.mark.parametrize("name,root,clips", [
    ("openmic2018", "openmic2018", "20 clips"), ("irmas", "irmas", "2 clips"), ("medleydb", "medleydb", "1 clips"),
    ("samples", "tinysol", "2 clips"), ("samples", "medley_solos_db", "1 clips"),
])
def test_datasets_info_plots_every_fixture(cli, tmp_path, name, root, clips):
    r = cli("datasets", "info", name, str(FIXTURES / root), "--plots", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert clips in r.stdout
    assert (tmp_path / "cooccurrence.png").stat().st_size > 3000 and (tmp_path / "class_counts.png").exists()
