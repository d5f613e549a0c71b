"""saz teach: a tiny base model taught a few generated instruments (tones of distinct timbres)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from saz.labels import Vocabulary
from saz.models.checkpoint import Checkpoint
from saz.models.predictor import Predictor
from saz.teach import TeachError, plan_classes, teach
from saz.teach.examples import read_examples

SR = 22050
TIMBRES = {"kamancheh": (1, 2, 3, 4, 5), "daf": (), "reed": (1, 3, 5, 7)}  # harmonics; () is noise bursts


def instrument(kind: str, seed: int, seconds: float = 3.0) -> np.ndarray:
    """A recording of one generated instrument: harmonic tones at random pitches, or noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    if not TIMBRES[kind]:
        env = np.exp(-((t * 4) % 1) * 12)
        return (0.4 * env * rng.normal(size=t.size)).astype(np.float32)
    f0 = rng.uniform(200, 500)
    y = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in TIMBRES[kind])
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def examples(root: Path, names: dict[str, str], recordings: int = 3) -> Path:
    """A folder of ``<name>/<recordings>``: ``names`` maps a folder name to the timbre it holds."""
    for i, (name, kind) in enumerate(names.items()):
        (root / name).mkdir(parents=True)
        for r in range(recordings):
            sf.write(root / name / f"take{r}.wav", instrument(kind, 10 * i + r), SR)
    return root


@pytest.fixture(scope="module")
def taught(model: str, tmp_path_factory) -> tuple:
    root = examples(tmp_path_factory.mktemp("examples"), {"kamancheh": "kamancheh", "reed": "reed", "tar": "daf"})
    skipped: list[str] = []
    return teach(root, base=model, progress=False, on_skip=skipped.append), skipped


def test_new_names_become_classes_and_known_ones_refine(taught):
    result, skipped = taught
    vocab = result.checkpoint.vocabulary
    assert vocab.names[:3] == ("tar", "ney", "daf") and vocab.names[3:] == ("kamancheh", "reed")
    kinds = {r["class"]: r["kind"] for r in result.classes}
    assert kinds == {"kamancheh": "new", "reed": "new", "tar": "refined"} and not skipped


def test_cross_validation_scores_every_class(taught):
    result, _ = taught
    for row in result.classes:
        assert row["recordings"] == 3 and 0 <= row["ap"] <= 1 and 0 <= row["threshold"] <= 1
        assert row["windows"] == 6  # two 2-s windows (hop 1 s) of each 3-s recording, variations not counted
    assert np.mean([r["ap"] for r in result.classes]) > 0.6


def test_round_trip_and_prediction(taught, tmp_path: Path):
    result, _ = taught
    path = result.checkpoint.save(tmp_path / "mine.pt")
    loaded = Checkpoint.load(path)
    assert loaded.name == "taught" and loaded.info["taught"][0]["class"] == "kamancheh"
    pred = Predictor(loaded)
    from saz.features import feature_from_config
    x = feature_from_config(loaded.feature)(instrument("kamancheh", 99, 2.0))[None]
    p = pred.probabilities(x)
    assert p.shape == (1, 5) and pred.frame_probabilities(x).shape[-1] == 5


def test_no_forgetting(taught, model: str):
    result, _ = taught
    assert result.check["max_change"] < 1e-4 and result.check["macro_f1_change"] >= -0.01
    base = Predictor(Checkpoint.load(model))
    x = np.random.default_rng(1).normal(-40, 10, (4, 64, 87)).astype(np.float32)
    new = Predictor(result.checkpoint).probabilities(x)
    assert np.abs(new[:, 1:3] - base.probabilities(x)[:, 1:3]).max() < 1e-4  # ney and daf: not taught


def test_empty_folder(tmp_path: Path):
    with pytest.raises(TeachError, match="no recordings found"):
        read_examples(tmp_path)


def test_one_unreadable_recording_is_reported_and_the_rest_goes_on(model: str, tmp_path: Path):
    root = examples(tmp_path / "ex", {"kamancheh": "kamancheh", "reed": "reed"}, recordings=2)
    (root / "reed" / "broken.wav").write_bytes(b"not audio")
    skipped: list[str] = []
    result = teach(root, base=model, progress=False, on_skip=skipped.append)
    assert len(skipped) == 1 and "broken.wav" in skipped[0] and "\n" not in skipped[0]
    assert {r["class"] for r in result.classes} == {"kamancheh", "reed"}


def test_name_clash():
    vocab = Vocabulary.from_names(["dulcimer", "violin"])
    assert plan_classes(["santur", "oud"], vocab) == {"santur": "dulcimer", "oud": "oud"}
    with pytest.raises(TeachError, match="'santur' and 'dulcimer' both mean"):
        plan_classes(["santur", "dulcimer"], vocab)


def test_csv_examples(tmp_path: Path):
    sf.write(tmp_path / "a.wav", instrument("reed", 1), SR)
    (tmp_path / "ex.csv").write_text("path,instrument,recording\na.wav,reed,r1\n")
    rows = read_examples(tmp_path / "ex.csv")
    assert list(rows["instrument"]) == ["reed"] and list(rows["recording"]) == ["r1"]


def test_the_web_app_serves_a_taught_model(taught, tmp_path: Path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from saz.serve.app import create_app

    result, _ = taught
    path = result.checkpoint.save(tmp_path / "mine.pt")
    sf.write(tmp_path / "k.wav", instrument("kamancheh", 5), SR)
    with TestClient(create_app(model=str(path), tmp_dir=str(tmp_path))) as client:
        r = client.post("/api/predict", files={"file": ("k.wav", (tmp_path / "k.wav").read_bytes())})
    assert r.status_code == 200, r.text


def test_a_base_without_frame_features_is_refused():
    from saz.features import get_feature
    from saz.models import build
    from saz.teach.teacher import base_members

    fc = Checkpoint.from_model(build("fc", (64,), 3), get_feature("stats"), 2.0, Vocabulary.from_names("abc"), [0.5] * 3, None, {})
    with pytest.raises(TeachError, match="no saznet frame features"):
        base_members(fc)


def test_a_class_the_base_decides_taught_from_one_recording_adds_no_seen_false_positive():
    from saz.teach.heads import scores
    from saz.teach.examples import Items

    rng = np.random.default_rng(0)
    primary = ["one"] * 4 + [f"neg{i}" for i in range(20)]
    y = np.zeros((24, 2), np.float32)
    y[:4] = 1.0  # one recording of both classes (the first refined, the second new)
    p = np.concatenate([rng.uniform(0.6, 0.9, (4, 2)), rng.uniform(0.0, 0.7, (20, 2))]).astype(np.float32)
    items = Items(np.zeros((0, 0), np.float32), y, primary, [frozenset([r]) for r in primary], np.zeros(24, bool))
    thresholds, rows = scores(p, items, ["sitar", "erhu"], [np.zeros(24, bool), None])
    assert (p[4:, 0] < thresholds[0]).all() and thresholds[0] <= p[4:, 0].max() + 1e-6
    assert thresholds[1] == 0.5 and rows[0]["ap"] is None and "every item without it" in rows[0]["note"]


def test_a_refined_class_threshold_is_tuned_for_the_union_with_the_base():
    from saz.teach.heads import union_threshold

    truth = np.array([1, 1, 1, 0, 0, 0, 1, 0], bool)
    hit = np.array([1, 1, 0, 0, 0, 0, 0, 0], bool)  # the base finds two of the four positives
    p = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.2, 0.7, 0.95])  # head's best false alarm outranks every positive it adds
    t = union_threshold(truth, p, hit)
    fired = hit | (p >= t)
    assert t == 0.7 and fired.sum() == 6 and (fired & truth).sum() == 4  # F1 0.8 beats base alone (0.67)
    assert union_threshold(truth, p, truth.copy()) > p.max()  # the base is right everywhere: the head never fires


def test_variations_change_the_pitch_keep_the_length_and_the_recording():
    from saz.teach.examples import Items, varied_items

    tone = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32)
    solo = Items(np.stack([tone, tone]), np.array([[1.0], [0.0]], np.float32), ["take1", "negative"],
                 [frozenset(["take1"]), frozenset(["negative"])], np.zeros(2, bool))
    varied = varied_items(solo, seed=0, per_window=3, semitones=4.0, sr=SR)
    assert varied.waves.shape == (3, SR) and varied.primary == ["take1"] * 3 and not varied.mixed.any()
    peaks = [np.argmax(np.abs(np.fft.rfft(w))) for w in varied.waves]  # 1 Hz bins
    assert all(440 * 2 ** (-4 / 12) - 2 <= f <= 440 * 2 ** (4 / 12) + 2 for f in peaks) and len(set(peaks)) == 3
