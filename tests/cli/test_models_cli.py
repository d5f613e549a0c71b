"""`saz models list | info | profile | windows`, run in-process (`models ensemble`: with the
trained runs in test_train_cli.py)."""

import json

import numpy as np
import soundfile as sf

from conftest import tone

SR = 22050


def test_models_info_default_and_list(cli):
    r = cli("models", "info", "default")
    assert r.returncode == 0 and "# saz default model" in r.stdout and "Scores per class" in r.stdout
    r = cli("models", "list")
    for name in ("rf", "xgb", "fc", "fc_t", "rnn", "attention", "bilstm", "crnn", "han_cnn", "hamnava_cnn",
                 "medleydb_cnn", "probe", "saznet"):
        assert f"│ {name} " in r.stdout, name


def test_models_info_of_a_model_a_checkpoint_and_a_missing_file(cli, profiled, tmp_path):
    r = cli("models", "info", "saznet")
    assert r.returncode == 0 and r.stdout.startswith("saznet (spectrogram input; source: ") and "Design" in r.stdout
    r = cli("models", "info", profiled)
    assert r.returncode == 0 and "'everything' profile" in r.stdout and "every class passes" in r.stdout
    assert r.stdout.startswith("saznet checkpoint (saz ") and "; 2-s clips" in r.stdout and "validation: {" not in r.stdout
    assert "┃ validation " in r.stdout and "│ macro F1 over present classes " in r.stdout and "│ mAP " in r.stdout
    r = cli("models", "info", tmp_path / "missing.pt")
    assert r.returncode == 1 and "no such checkpoint" in r.stderr and "Traceback" not in r.stderr


def _clips(folder, name: str, labels) -> None:
    rows = ["clip_id,path,labels"]
    for k in range(8):
        sf.write(folder / f"c{k}.wav", tone(SR, 2.0 + k % 3, 220.0 * (1 + k)), SR)  # some longer than the window
        rows.append(f"c{k},c{k}.wav,{labels[k % len(labels)]}")
    (folder / name).write_text("\n".join(rows) + "\n")


def test_a_profile_fitted_to_ones_own_labelled_recordings(cli, model, tmp_path):
    from saz.evaluation.calibration import fit_profile
    from saz.datasets import load
    from saz.prediction import load_predictor

    _clips(tmp_path, "mine.csv", ["ney", "tar"])  # daf is in no row, so these clips do not decide it
    fitted, _ = fit_profile(load_predictor(model), load("csv", tmp_path / "mine.csv"), "f1", progress=False)
    r = cli("models", "profile", model, "--name", "mine", "-d", "csv", "-r", tmp_path / "mine.csv", "-o", tmp_path / "m.pt")
    assert r.returncode == 0 and "profile 'mine' (2 classes fitted on 8 clips)" in r.stdout, r.stderr
    assert np.allclose(load_predictor(tmp_path / "m.pt").thresholds_for("mine"), fitted)
    assert "fitted on 8 clips" in load_predictor(tmp_path / "m.pt").profiles["mine"]
    r = cli("predict", tmp_path / "c0.wav", "-m", tmp_path / "m.pt", "--profile", "mine", "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["thresholds_from"] == "mine"
    r = cli("models", "profile", model, "-n", "x", "-d", "csv", "-r", tmp_path / "mine.csv", "-o", tmp_path / "x.pt",
            "--rule", "best")
    assert r.returncode == 1 and "unknown rule 'best'" in r.stderr and not (tmp_path / "x.pt").exists()


def test_thresholds_tuned_per_prediction_window(cli, model, tmp_path):
    from saz.evaluation.calibration import window_thresholds
    from saz.datasets import load
    from saz.prediction import load_predictor

    _clips(tmp_path, "val.csv", ["tar", "ney", "daf"])
    r = cli("models", "windows", model, "-d", "csv", "-r", tmp_path / "val.csv", "--split", "all",
            "-w", "1", "-w", "0.55", "-o", tmp_path / "w.pt")
    assert r.returncode == 0 and "thresholds for 0.55-s, 1-s windows" in r.stdout, r.stderr
    table = window_thresholds(load_predictor(model), [load("csv", tmp_path / "val.csv")], [0.55, 1.0], progress=False)
    tabled = load_predictor(tmp_path / "w.pt")
    assert [tabled.threshold_window(w) for w in (0.4, 0.7, 0.8, 1.6, 5.0, None)] == [0.55, 0.55, 1.0, 2.0, 2.0, 2.0]
    np.testing.assert_allclose(tabled.thresholds_for(None, 0.45), table[0.55])
    np.testing.assert_allclose(tabled.thresholds_for(None, 1.0), table[1.0])
    r = cli("models", "info", tmp_path / "w.pt")
    said = " ".join(r.stdout.split())  # as printed, wrapped to the terminal's width
    assert r.returncode == 0 and "0.55-s, 1-s prediction windows" in said and "8 clips of csv (val.csv, all)" in said, r.stderr
    r = cli("models", "windows", model, "-d", "csv", "-r", tmp_path / "val.csv", "-w", "1", "-o", tmp_path / "x.pt")
    assert r.returncode == 1 and "validation" in r.stderr and not (tmp_path / "x.pt").exists()
