import json

import numpy as np
from PIL import Image

from saz.metrics import evaluate
from saz.plots import close, cooccurrence, heatmap
from saz.report import single_label_confusion, write_report


def test_report_files(tmp_path):
    rng = np.random.default_rng(0)
    y = (rng.random((60, 4)) < 0.3).astype(np.float32)
    y[:10] = np.eye(4)[rng.integers(0, 4, 10)]
    p = np.clip(0.5 * y + 0.5 * rng.random(y.shape), 0, 1)
    res = evaluate(y, p, ["tar", "ney", "daf", "oud"])
    written = write_report(res, tmp_path, y, p, title="Test")
    assert json.loads(written["json"].read_text()) == res.to_dict()
    md = written["markdown"].read_text()
    assert "| ney |" in md and "| macro over all 4 classes (absent ones as 0) |" in md
    assert f"| macro over the {res.n_present} classes present | {res.macro_present.precision:.3f} |" in md
    for key in ("f1_png", "cooccurrence_png", "confusion_png"):
        with Image.open(written[key]) as im:
            assert im.size[0] > 200 and im.size[1] > 150


def test_cooccurrence_and_confusion_by_hand():
    y = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]], dtype=np.float32)
    m = cooccurrence(y)
    assert m[0, 0] == 100 and m[0, 1] == 50 and m[1, 2] == 50 and m[2, 0] == 0
    p = np.array([[0.1, 0.9, 0.2], [0.8, 0.1, 0.1], [0.3, 0.2, 0.9], [0.9, 0.1, 0.2]])
    cm, idx = single_label_confusion(y, p)
    assert list(idx) == [1, 3]
    assert cm[0, 0] == 1 and cm[2, 0] == 1 and cm.sum() == 2


def test_heatmap_writes_every_value_and_leaves_missing_cells_empty():
    m = np.array([[0.25, np.nan], [0.5, 0.75]])
    fig = heatmap(m, ["a", "b"], ["x", "y"], "t", fmt="{:.2f}")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    close(fig)
    assert texts == ["0.25", "0.50", "0.75"]


def test_the_headline_is_over_the_classes_present_and_the_absent_ones_count_only_in_a_named_row():
    """A split that labels 2 of 4 classes: the headline F1 is theirs; 0 for the 2 absent ones only
    in the row that says so."""
    from saz.report import to_markdown

    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]], np.float32)
    p = np.array([[0.9, 0.1, 0.2, 0.1], [0.2, 0.8, 0.1, 0.3], [0.7, 0.6, 0.2, 0.1]])
    res = evaluate(y, p, ["tar", "ney", "daf", "oud"])
    assert (res.n_present, res.macro_f1_present, res.macro.f1) == (2, 1.0, 0.5)
    md = to_markdown(res)
    assert "Macro F1 over the 2 classes present in these clips: 1.000 (over all 4 classes, those absent counted as 0: 0.500)." in md
    assert "| macro over the 2 classes present | 1.000 | 1.000 | 1.000 |" in md
    assert "| macro over all 4 classes (absent ones as 0) | 0.500 | 0.500 | 0.500 |" in md
