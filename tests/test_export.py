"""saz.export: each format's text for a known timeline, and JAMS checked by the jams package itself
(the command's files and folders: tests/cli/test_predict_cli.py)."""

from __future__ import annotations

import numpy as np
import pytest

from saz.export import CSV_TIMELINE_HEADER, FORMATS, SV_HEADER
from saz.prediction import Prediction


@pytest.fixture
def pred() -> Prediction:
    """tar in the first two windows (0-6 s), ney in the last two (4-10 s): 4-s windows, 2-s hop."""
    wp = np.array([[0.9, 0.1], [0.8, 0.1], [0.2, 0.7], [0.1, 0.6]], np.float32)
    return Prediction("in/x.wav", ["tar", "ney"], np.array([0.5, 0.5], np.float32), 10.0, 4.0, 2.0, wp.max(0),
                      np.array([0.0, 2.0, 4.0, 6.0]), wp)


def test_every_format_is_registered_once_in_order():
    assert list(FORMATS) == ["table", "json", "csv", "audacity", "sv", "elan", "jams"]
    assert [n for n, f in FORMATS.items() if f.per_recording] == ["audacity", "sv", "elan", "jams"]
    assert len({f.suffix for f in FORMATS.values() if f.per_recording}) == 4  # one folder holds them all


def test_the_segments_in_audacity_sonic_visualiser_and_elan(pred):
    assert FORMATS["audacity"].render(pred) == "0.000000\t6.000000\ttar\n4.000000\t10.000000\tney\n"
    assert FORMATS["sv"].render(pred) == f"{SV_HEADER}\n0.000000,0.8500,6.000000,tar\n4.000000,0.6500,6.000000,ney\n"
    assert FORMATS["elan"].render(pred) == "tar\t0.000\t6.000\t0.85\nney\t4.000\t10.000\t0.65\n"


def test_csv_timeline_has_a_row_per_window_and_instrument(pred):
    text = FORMATS["csv"].render(pred, timeline=True, first=True)
    lines = text.splitlines()
    assert lines[0] == CSV_TIMELINE_HEADER and len(lines) == 1 + 4 * 2
    assert lines[1:3] == ['"in/x.wav",tar,0.000,4.000,0.9000', '"in/x.wav",ney,0.000,4.000,0.1000']
    assert lines[-1] == '"in/x.wav",ney,6.000,10.000,0.6000'  # the last window ends with the recording
    assert FORMATS["csv"].render(pred, timeline=True, first=False) == "\n".join(lines[1:]) + "\n"
    assert FORMATS["csv"].render(pred) == 'source,instrument,probability\n"in/x.wav",tar,0.9000\n"in/x.wav",ney,0.7000\n'


def test_jams_is_valid_and_holds_each_segment(tmp_path):
    jams = pytest.importorskip("jams", reason="the timeline extra is not installed (pip install -e '.[timeline]')")
    wp = np.array([[0.9, 0.1], [0.8, 0.1], [0.2, 0.7], [0.1, 0.6]], np.float32)
    p = Prediction("in/x.wav", ["tar", "ney"], np.array([0.5, 0.5], np.float32), 10.0, 4.0, 2.0, wp.max(0),
                   np.array([0.0, 2.0, 4.0, 6.0]), wp, smooth=3)
    text = FORMATS["jams"].render(p)
    assert text.count("\n") == 1  # one line per recording on standard output
    (tmp_path / "x.jams").write_text(text)
    jam = jams.load(str(tmp_path / "x.jams"), validate=True, strict=True)  # raises for a document off the schema
    (ann,) = jam.annotations
    assert ann.namespace == "tag_open" and ann.duration == 10.0 and jam.file_metadata.title == "x.wav"
    assert [(o.time, o.duration, o.value, o.confidence) for o in ann] == [(0.0, 6.0, "tar", 0.85), (4.0, 6.0, "ney", 0.65)]
    assert dict(ann.sandbox) == {"window": 4.0, "hop": 2.0, "thresholds_from": "tuned", "smooth": 3}
