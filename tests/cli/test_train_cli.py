"""`saz train | evaluate | compare` (and `saz models ensemble` over the trained runs), run in-process."""

import json
import os
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import FIXTURES, tone
from saz.models.checkpoint import Checkpoint


def tone_manifest(folder: Path, labels: list[str], name: str = "m.csv", validation_from: int = 12) -> Path:
    """A CSV manifest ``folder/name`` of 12 generated 2-s tones (three pitches in turn), labelled
    in turn by ``labels``; clips from index ``validation_from`` on are in the validation split."""
    rows = ["clip_id,path,split,labels"]
    for k in range(12):
        sf.write(folder / f"c{k}.wav", tone(22050, 2.0, 220.0 * (1 + k % 3)), 22050)
        rows.append(f"c{k},c{k}.wav,{'train' if k < validation_from else 'validation'},{labels[k % len(labels)]}")
    (folder / name).write_text("\n".join(rows) + "\n")
    return folder / name


def test_hamnava_three_protocols_end_to_end_and_compare(cli, tmp_path):
    """The HamNava CNN and saznet through saz train/evaluate on the fixture, then saz compare."""
    root = FIXTURES / "hamnava"
    env = {"SAZ_CACHE": str(tmp_path / "cache")}
    for protocol in ("soft-regression", "soft-train-hard-eval", "hard"):
        for model in ("hamnava_cnn", "saznet"):
            run = tmp_path / f"{model}-{protocol}"
            r = cli("train", model, "-d", "hamnava", "-r", root, "-o", run, "--protocol", protocol, "--epochs", "2", env=env)
            assert r.returncode == 0, r.stderr
            r = cli("evaluate", run / "model.pt", "-d", "hamnava", "-r", root, "--split", "test", "-o", run / "eval", env=env)
            assert r.returncode == 0, r.stderr
            report = json.loads((run / "eval" / "report.json").read_text())
            assert report["run"]["protocol"] == protocol and report["n_clips"] == 4
            if protocol == "soft-regression":
                assert report["kind"] == "soft" and "r2" in report
            else:
                assert report["kind"] == "hard"
        r = cli("compare", tmp_path / f"hamnava_cnn-{protocol}" / "eval", tmp_path / f"saznet-{protocol}" / "eval",
                "-o", tmp_path / f"cmp-{protocol}", env=env)
        assert r.returncode == 0, r.stderr
        cmp = json.loads((tmp_path / f"cmp-{protocol}" / "compare.json").read_text())
        assert set(cmp["models"]) == {"hamnava_cnn", "saznet"}
        other = next(m for m in cmp["models"] if m != cmp["best"])
        assert 0 < cmp["models"][other]["vs_best"]["macro_f1_p"] <= 1
        assert (tmp_path / f"cmp-{protocol}" / "macro_boxplots.png").stat().st_size > 1000
    r = cli("compare", tmp_path / "saznet-hard" / "eval", tmp_path / "saznet-soft-regression" / "eval", "-o", tmp_path / "x")
    assert r.returncode == 1 and "other truth" in r.stderr
    pair = [tmp_path / f"saznet-{p}" / "model.pt" for p in ("hard", "soft-train-hard-eval")]
    r = cli("models", "ensemble", *pair, "-d", "hamnava", "-r", root, "--split", "train", "-o", tmp_path / "ens.pt", env=env)
    assert r.returncode == 0 and "ensemble of 2" in r.stdout, r.stderr
    r = cli("evaluate", tmp_path / "ens.pt", "-d", "hamnava", "-r", root, "--split", "test", "-o", tmp_path / "ens-eval", env=env)
    assert r.returncode == 0 and "ensemble on hamnava/test" in r.stdout, r.stderr
    r = cli("models", "ensemble", *pair, "-d", "hamnava", "-r", root, "--split", "test", "-o", tmp_path / "ens2.pt",
            "--combine", "max", env=env)
    assert r.returncode == 0 and Checkpoint.load(tmp_path / "ens2.pt").combine == "max", r.stderr
    r = cli("evaluate", tmp_path / "ens2.pt", "-d", "hamnava", "-r", root, "--split", "test", "-o", tmp_path / "ens2-eval", env=env)
    assert r.returncode == 0, r.stderr
    r = cli("compare", tmp_path / "ens-eval", tmp_path / "ens2-eval", "-o", tmp_path / "cmp-ens", env=env)
    assert r.returncode == 0, r.stderr
    cmp = json.loads((tmp_path / "cmp-ens" / "compare.json").read_text())  # two ensembles: two models, not two seeds
    assert len(cmp["models"]) == 2 and all(len(m["folders"]) == 1 for m in cmp["models"].values())
    assert any(m.endswith("/ens2-eval)") for m in cmp["models"])
    r = cli("models", "ensemble", pair[0], tmp_path / "hamnava_cnn-hard" / "model.pt", "-d", "hamnava", "-r", root,
            "--split", "train", "-o", tmp_path / "bad.pt", env=env)
    assert r.returncode == 1 and "differs from member 1 in its feature" in r.stderr and not (tmp_path / "bad.pt").exists()
    r = cli("models", "ensemble", *pair, "-d", "hamnava", "-r", root, "--split", "train", "-o", tmp_path / "bad.pt",
            "--combine", "median", env=env)
    assert r.returncode == 1 and "unknown ensemble combination 'median'" in r.stderr and not (tmp_path / "bad.pt").exists()


def test_train_and_evaluate_errors_are_one_line(cli, tmp_path):
    r = cli("train", "nosuchmodel", "-d", "hamnava", "-r", FIXTURES / "hamnava", "-o", tmp_path / "r")
    assert r.returncode == 1 and "unknown model 'nosuchmodel'" in r.stderr
    r = cli("train", "saznet", "-d", "hamnava", "-r", tmp_path, "-o", tmp_path / "r")
    assert r.returncode == 1 and "error:" in r.stderr and "Traceback" not in r.stderr
    r = cli("evaluate", tmp_path / "nothing.pt", "-d", "hamnava", "-r", FIXTURES / "hamnava", "-o", tmp_path / "e")
    assert r.returncode == 1 and "no such checkpoint" in r.stderr
    r = cli("train", "saznet", "-d", "hamnava", "-r", FIXTURES / "hamnava", "-o", tmp_path / "r", "--device", "gpu7")
    assert r.returncode == 1 and "unknown device 'gpu7'" in r.stderr and "Traceback" not in r.stderr
    r = cli("train", "saznet", "-d", "hamnava", "-r", FIXTURES / "hamnava", "-o", tmp_path / "r", "--label-smoothing", "0.7")
    assert r.returncode == 1 and "label_smoothing must be in [0, 0.5)" in r.stderr and "Traceback" not in r.stderr




def test_train_without_a_validation_split_cuts_one_from_training(cli, tmp_path):
    """A manifest with a training split only: `saz train` validates on a stratified 15 % of it."""
    tone_manifest(tmp_path, ["tar", "ney", "daf"])
    r = cli("train", "saznet", "-d", "csv", "-r", tmp_path / "m.csv", "-o", tmp_path / "run", "--epochs", "1",
            env={"SAZ_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0 and "no 'validation' split: validating on a stratified 15 % of 'train'" in r.stderr, r.stderr
    data = Checkpoint.load(tmp_path / "run" / "model.pt").info["data"]
    assert (data["train_clips"], data["validation_clips"]) == (9, 3)  # no clip in both, none left out


def test_train_resume_refuses_another_run_and_a_damaged_state(cli, tmp_path):
    """`saz train --resume` with another --seed (which would re-cut the validation clips) or over a
    damaged state.pt: one line naming the setting or the file; interrupted writes' leftovers go."""
    tone_manifest(tmp_path, ["tar", "ney", "daf"])
    env = {"SAZ_CACHE": str(tmp_path / "cache")}
    train = lambda *more: cli("train", "saznet", "-d", "csv", "-r", tmp_path / "m.csv", "-o", tmp_path / "run", *more, env=env)  # noqa: E731
    assert train("--epochs", "1").returncode == 0
    blocks = next((tmp_path / "cache" / "features").glob("logmel-*"))
    stale, young = blocks / ".block.npz.q1w2e3.tmp", blocks / ".other.npz.r4t5y6.tmp"
    for leftover in (stale, young, tmp_path / "run" / ".model.pt.u7i8o9.tmp"):
        leftover.write_bytes(b"cut short")
    os.utime(stale, (time.time() - 3600,) * 2)  # an hour old: an interrupted write's; the young one may be in progress
    r = train("--epochs", "2", "--seed", "1", "--resume")
    last = r.stderr.splitlines()[-1]
    assert r.returncode == 1 and "Traceback" not in r.stderr and last.startswith("error: "), r.stderr
    assert "run.json: cannot resume with seed=1: the run was started with seed=0" in last
    r = train("--epochs", "2", "--resume")
    assert r.returncode == 0 and "best epoch" in r.stdout, r.stderr
    assert not stale.exists() and young.exists() and not list((tmp_path / "run").glob(".*.tmp"))
    (tmp_path / "run" / "state.pt").write_bytes(b"")
    r = train("--epochs", "3", "--resume")
    last = r.stderr.splitlines()[-1]
    assert r.returncode == 1 and "Aborted" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert last.startswith(f"error: {tmp_path / 'run' / 'state.pt'}: damaged, cannot resume from it")


def test_evaluate_with_a_threshold_profile_and_its_errors(cli, profiled, tmp_path):
    sf.write(tmp_path / "a.wav", tone(22050, 3.0), 22050)
    (tmp_path / "m.csv").write_text("clip_id,path,labels\na,a.wav,tar\n")
    r = cli("evaluate", profiled, "--dataset", "csv", "--root", tmp_path / "m.csv", "--split", "all",
            "--out", tmp_path / "ev", "--profile", "everything", "--protocol", "hard")
    assert r.returncode == 0 and not np.load(tmp_path / "ev" / "predictions.npz")["thresholds"].any(), r.stderr
    r = cli("evaluate", profiled, "--dataset", "csv", "--root", tmp_path / "m.csv", "--out", tmp_path / "ev2", "--profile", "x")
    assert r.returncode == 2 and "no threshold profile 'x'" in r.stderr
    r = cli("evaluate", profiled, "--dataset", "csv", "--root", tmp_path / "m.csv", "--out", tmp_path / "ev3",
            "--long-clips", "middle")
    assert r.returncode == 2 and "--long-clips must be one of windows, centre (got 'middle')" in r.stderr
    r = cli("evaluate", profiled, "--dataset", "csv", "--root", tmp_path / "m.csv", "--out", tmp_path / "ev4")
    assert r.returncode == 1 and "csv has no split 'test'" in r.stderr


def test_evaluate_headline_is_over_the_classes_present_and_collapsed_thresholds_are_named(cli, profiled, tmp_path,
                                                                                           monkeypatch):
    """`saz evaluate` leads with macro F1 over the classes the split labels (a class it does not
    label counts as 0 only in the named second number); thresholds that call everything present
    (the 'everything' profile, or a run tuned so) get a warning, at evaluate and at train."""
    from saz import metrics

    for k, name in enumerate(("tar", "ney")):
        sf.write(tmp_path / f"{name}.wav", tone(22050, 2.0, 220.0 * (k + 1)), 22050)
    (tmp_path / "m.csv").write_text("clip_id,path,labels\ntar,tar.wav,tar\nney,ney.wav,ney\n")
    r = cli("evaluate", profiled, "-d", "csv", "-r", tmp_path / "m.csv", "--split", "all", "-o", tmp_path / "ev")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    present = np.mean([c["f1"] for c in report["per_class"] if c["support"] > 0])
    assert (f"macro F1 {present:.3f} over the 2 classes present (over all 3, absent ones as 0: "
            f"{report['macro']['f1']:.3f})") in r.stdout
    assert "warning:" not in r.stderr
    r = cli("evaluate", profiled, "-d", "csv", "-r", tmp_path / "m.csv", "--split", "all", "-o", tmp_path / "ev2",
            "--profile", "everything")
    assert r.returncode == 0 and f"warning: {profiled}: 3 of 3 thresholds at or below 0.05" in r.stderr, r.stderr
    tone_manifest(tmp_path, ["tar", "ney", "daf"], "train.csv")
    monkeypatch.setattr(metrics, "tune_thresholds", lambda truth, prob: np.full(truth.shape[1], 0.05, np.float32))
    r = cli("train", "saznet", "-d", "csv", "-r", tmp_path / "train.csv", "-o", tmp_path / "run", "--epochs", "1",
            env={"SAZ_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0 and "3 of 3 thresholds at or below 0.05, the lowest tuning tries" in r.stderr, r.stderr
    assert "validation macro F1 over present classes" in r.stdout and "(log.csv's val_macro_f1_present)" in r.stdout


def test_fine_tuning_the_default_starts_from_a_member_and_keeps_its_classes(cli, tmp_path):
    """`saz train saznet --init default` starts from the default's first member (`default:2` the
    second): its 32 classes, feature, 5-s clips and input scaling; the manifest's labels (violin,
    fiddle = violin, flute) teach their classes, the others stay unknown and keep their thresholds.
    A class the default does not know, or a member it lacks, is one line."""
    import torch

    from saz.models.bundled import DEFAULT_MODEL

    rows = tone_manifest(tmp_path, ["violin", "flute", "fiddle"], validation_from=9).read_text().splitlines()
    env = {"SAZ_CACHE": str(tmp_path / "cache")}
    train = lambda init, out, *more: cli("train", "saznet", "--init", init, "-d", "csv", "-r", tmp_path / "m.csv",  # noqa: E731
                                         "-o", tmp_path / out, "--epochs", "1", *more, env=env)
    r = train("default", "ft")
    assert r.returncode == 0, r.stderr
    assert ("fine-tuning from default: your labels teach 2 of its 32 classes (flute, violin); the other 30 are left "
            "unknown") in r.stderr
    default, tuned = Checkpoint.load(DEFAULT_MODEL), Checkpoint.load(tmp_path / "ft" / "model.pt")
    first = default.members[0]
    assert tuned.vocabulary.names == default.vocabulary.names and tuned.feature == first.feature and tuned.seconds == 5.0
    np.testing.assert_array_equal(tuned.norm.mean, first.norm.mean)
    untaught = [j for j, n in enumerate(tuned.vocabulary.names) if n not in ("flute", "violin")]
    np.testing.assert_allclose(np.asarray(tuned.thresholds)[untaught], np.asarray(first.thresholds)[untaught])
    assert any(not torch.equal(tuned.state_dict[k], first.state_dict[k]) for k in first.state_dict)
    r = train("default:2", "ft2", "--lr", "1e-12")
    assert r.returncode == 0, r.stderr
    second = Checkpoint.load(tmp_path / "ft2" / "model.pt").state_dict
    torch.testing.assert_close(second["classify.weight"], default.members[1].state_dict["classify.weight"], atol=1e-6, rtol=0)
    assert cli("predict", tmp_path / "c0.wav", "-m", tmp_path / "ft" / "model.pt").returncode == 0
    r = train("default:4", "bad")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == "error: default:4: the ensemble has members 1 to 3"
    (tmp_path / "tar.csv").write_text("\n".join(rows[:-1] + ["c11,c11.wav,validation,tar"]) + "\n")
    r = cli("train", "saznet", "--init", "default", "-d", "csv", "-r", tmp_path / "tar.csv", "-o", tmp_path / "bad",
            "--epochs", "1", env=env)
    assert r.returncode == 1 and "error: default: its vocabulary has no tar: fine-tuning keeps the classes" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "bad" / "model.pt").exists()
