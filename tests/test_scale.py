"""The Ray engine against the local one on a real local Ray of 2 workers (started once for the
module): saz predict, saz features and saz synth bench give the same outputs; a worker killed
mid-run is retried, or its file reported and done by the rerun, with nothing lost or doubled."""

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import tone

ray = pytest.importorskip("ray", reason="needs Ray: pip install -e '.[scale]'")

SR = 22050


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of 2 CPUs for the module (Ray's start costs seconds): the engines find it running."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the dying work below runs in workers
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Six tones of different pitch and length, one in a subfolder, and one file that is no audio."""
    root = tmp_path_factory.mktemp("scale") / "in"
    (root / "sub").mkdir(parents=True)
    for k in range(6):
        sf.write(root / ("sub" if k == 5 else "") / f"t{k}{'-victim' if k == 2 else ''}.wav",
                 tone(SR, 2.0 + 0.5 * k, 220.0 * (k + 1)), SR)
    (root / "broken.wav").write_bytes(b"RIFF....not audio")
    return root


def lines(text: str) -> list[str]:
    return sorted(line for line in text.splitlines() if line.strip())


def test_predict_on_ray_gives_the_local_lines_and_resumes(cli, model, folder, tmp_path, local_ray):
    local = cli("predict", folder, "-m", model, "-f", "json", "--timeline", "--threshold", "0.3")
    on_ray = cli("predict", folder, "-m", model, "-f", "json", "--timeline", "--threshold", "0.3", "--engine", "ray",
                 "-j", "2", "--out", tmp_path / "r.jsonl")
    assert local.returncode == on_ray.returncode == 1  # the broken file, reported on one line by both
    assert "broken.wav" in on_ray.stderr and "1 of 7 file(s) failed" in on_ray.stderr
    assert len(lines(local.stdout)) == 6 and lines(on_ray.stdout) == lines(local.stdout)
    assert lines((tmp_path / "r.jsonl").read_text()) == lines(local.stdout)
    kept = (tmp_path / "r.jsonl").read_text().splitlines(keepends=True)  # a crash: two lines lost, the last torn
    (tmp_path / "r.jsonl").write_text("".join(kept[:3]) + kept[3][:40])
    again = cli("predict", folder, "-m", model, "-f", "json", "--timeline", "--threshold", "0.3", "--engine", "ray",
                "-j", "2", "--out", tmp_path / "r.jsonl")
    assert "3 file(s) already in" in again.stderr and len(lines(again.stdout)) == 3
    assert lines((tmp_path / "r.jsonl").read_text()) == lines(local.stdout)  # nothing lost, nothing twice


def dying(state, files):
    """Predict ``files``, but the first time a worker meets the victim file it is killed (SIGKILL)."""
    from saz.prediction import _predict_chunk

    marker = Path(str(files[0])).with_suffix(".killed")
    if "victim" in str(files[0]) and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return list(_predict_chunk(state, files))


@pytest.mark.parametrize("retries", [1, 0])
def test_a_killed_worker_is_retried_or_its_file_reported(cli, model, folder, tmp_path, local_ray, retries):
    from saz.export import json_line
    from saz.prediction import _lost, load_predictor, predict_files
    from saz.scale import open_engine

    for m in folder.glob("*.killed"):
        m.unlink()
    files = sorted(folder.rglob("t*.wav"))
    predictor = load_predictor(model)
    expected = lines("".join(json_line(p, False, True) for p in predict_files(files, predictor)))
    with open_engine("ray", workers=2, retries=retries) as engine:
        got = list(engine.map(dying, files, (predictor, {}), lost=lambda f, why: _lost(predictor, f, why)))
    assert (folder / "t2-victim.killed").exists()  # the worker did die
    assert len(got) == len(files)
    failed = [p for p in got if not p.ok]
    if retries:
        assert not failed and lines("".join(json_line(p, False, True) for p in got)) == expected
        return
    assert [Path(p.source).name for p in failed] == ["t2-victim.wav"] and "Ray worker failed" in str(failed[0].error)
    out = tmp_path / "out.jsonl"
    out.write_text("".join(json_line(p, False, True) for p in got if p.ok))  # what the run wrote
    rerun = cli("predict", *files, "-m", model, "-f", "json", "--engine", "ray", "-j", "2", "--out", out)
    assert rerun.returncode == 0 and "5 file(s) already in" in rerun.stderr
    assert lines(out.read_text()) == expected


def test_features_on_ray_are_the_local_files_byte_for_byte(cli, folder, tmp_path, local_ray):
    a = cli("features", folder, "-o", tmp_path / "a", "--no-cache")
    b = cli("features", folder, "-o", tmp_path / "b", "--no-cache", "--engine", "ray", "-j", "2")
    assert a.returncode == b.returncode == 0 and "6 of 7 files" in b.stdout
    made = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.npy"))
    assert len(made) == 6 and made == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.npy"))
    for rel in made:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    index = lambda d: (tmp_path / d / "index.csv").read_text().replace(str(tmp_path / d), "OUT")  # noqa: E731
    assert index("a") == index("b")


def test_synth_bench_on_ray_builds_the_local_bytes(cli, tone_library, tmp_path, local_ray):
    spec = tmp_path / "tiny.toml"
    spec.write_text(f'name = "tiny"\nversion = "1"\nseconds = 1.0\nsr = 22050\nseed = 7\nchunk_size = 2\n'
                    f'[splits.mixes]\ngenerator = "mix"\nlibrary = "{tone_library}"\nrecordings = "train"\n'
                    'test_fraction = 0.5\nn = 6\n')
    a = cli("synth", "bench", "--spec", spec, "--out", tmp_path / "a")
    b = cli("synth", "bench", "--spec", spec, "--out", tmp_path / "b", "--engine", "ray", "-j", "2")
    assert a.returncode == b.returncode == 0, b.stderr
    clips = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "audio").rglob("*.wav"))
    assert len(clips) == 6
    for rel in [Path("mixes.csv"), *clips]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert np.array_equal(np.load(tmp_path / "a" / "activity" / "mixes" / f"{clips[0].stem}.npy"),
                          np.load(tmp_path / "b" / "activity" / "mixes" / f"{clips[0].stem}.npy"))


def test_without_ray_the_engine_is_refused_in_one_line(cli, model, folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    monkeypatch.delitem(sys.modules, "saz.scale.ray_engine", raising=False)
    r = cli("predict", folder / "t0.wav", "-m", model, "--engine", "ray")
    assert r.returncode == 2 and "--engine ray needs Ray" in r.stderr and "saz[scale]" in r.stderr
    r = cli("predict", folder / "t0.wav", "-m", model, "--address", "localhost:6379")
    assert r.returncode == 2 and "apply to --engine ray" in r.stderr


def test_a_sweep_on_ray_gathers_the_local_report_and_resumes(cli, tmp_path, local_ray):
    sys.path.insert(0, str(Path(__file__).parent / "cli"))
    from test_train_cli import tone_manifest

    tone_manifest(tmp_path, ["tar", "ney", "daf"], validation_from=9)
    env = {"SAZ_CACHE": str(tmp_path / "cache")}
    sweep = lambda out, *more: cli("sweep", "rf", "-d", "csv", "-r", tmp_path / "m.csv", "-o", tmp_path / out,  # noqa: E731
                                   "--seed", "0", "--seed", "1", "--grid", "n_estimators=3,9", "--test-split",
                                   "validation", *more, env=env)
    assert sweep("here").returncode == 0
    r = sweep("ray", "--engine", "ray", "-j", "2")
    assert r.returncode == 0, r.stderr
    reports = [json.loads((tmp_path / d / "compare.json").read_text()) for d in ("here", "ray")]
    for rep in reports:
        for entry in rep["models"].values():
            entry.pop("folders")
    assert reports[0] == reports[1] and set(reports[1]["models"]) == {"rf n_estimators=3", "rf n_estimators=9"}
    assert all(m["seeds"] == [0, 1] for m in reports[1]["models"].values())
    stamp = (tmp_path / "ray" / "trials" / "rf-n_estimators=3-seed0" / "eval" / "report.json").stat().st_mtime_ns
    assert sweep("ray", "--engine", "ray", "-j", "2").returncode == 0  # every trial done: none runs again
    assert (tmp_path / "ray" / "trials" / "rf-n_estimators=3-seed0" / "eval" / "report.json").stat().st_mtime_ns == stamp
