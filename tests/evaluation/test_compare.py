"""saz.evaluation.compare: the comparison table of evaluation runs."""

import numpy as np
import pytest

from saz import io
from saz.evaluation.compare import compare, to_markdown
from saz.metrics import EvaluationRun, evaluate
from saz.report import write_report

NAMES = ["tar", "ney", "daf"]


def _run(folder, model: str, seed: int, y: np.ndarray, p: np.ndarray) -> str:
    """An evaluation folder as `saz evaluate` writes it (report.json and predictions.npz)."""
    result = evaluate(y, p, NAMES, 0.5)
    result.run = EvaluationRun(model=model, seed=seed, checkpoint=f"{model}-{seed}.pt", dataset="csv", root="/d", protocol="hard")
    write_report(result, folder)
    io.atomic_write(folder / "predictions.npz", lambda f: np.savez(f, ids=np.arange(len(y)).astype(str), y_true=y, y_prob=p,
                                                                    thresholds=np.full(3, 0.5), classes=np.array(NAMES)))
    return str(folder)


def test_a_single_seed_shows_its_value_alone_and_says_n_1(tmp_path):
    rng = np.random.default_rng(0)
    y = (rng.random((40, 3)) < 0.4).astype(np.float32)
    runs = [_run(tmp_path / f"{m}{s}", m, s, y, np.clip(0.6 * y + 0.5 * rng.random(y.shape), 0, 1))
            for m, s in (("saznet", 0), ("saznet", 1), ("crnn", 0))]
    md = to_markdown(compare(runs, n_boot=50))
    rows = {line.split(" | ")[0][2:]: line for line in md.splitlines() if line.startswith("| saznet") or line.startswith("| crnn")}
    assert "| n=2 |" in rows["saznet"] and rows["saznet"].count(" ± ") == 6  # micro P, R, F1, macro F1 (2), mAP
    assert "| n=1 |" in rows["crnn"] and "±" not in rows["crnn"]
    assert "(n=1: the one value)" in md


def test_micro_precision_recall_csv_and_per_class_figure(tmp_path):
    from saz.evaluation.compare import write

    rng = np.random.default_rng(1)
    y = (rng.random((30, 3)) < 0.4).astype(np.float32)
    p = np.clip(0.6 * y + 0.5 * rng.random(y.shape), 0, 1)
    cmp = compare([_run(tmp_path / "a", "crnn", 0, y, p), _run(tmp_path / "b", "saznet", 0, y, 1 - p)], n_boot=20)
    tp = ((p >= 0.5) & (y == 1)).sum()
    assert cmp["models"]["crnn"]["micro_precision"]["mean"] == pytest.approx(tp / (p >= 0.5).sum())
    assert cmp["models"]["crnn"]["micro_recall"]["mean"] == pytest.approx(tp / y.sum())
    written = write(cmp, tmp_path / "out")
    lines = written["csv"].read_text().splitlines()
    assert lines[0].startswith("model,seed,micro_precision,micro_recall") and len(lines) == 3
    assert written["per_class_png"].stat().st_size > 0 and written["per_class_csv"].read_text().count("\n") == 4
