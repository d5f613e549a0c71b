"""saz.prediction: windows, streaming, edge-case inputs, threshold profiles and window thresholds
(the command, `saz predict`: tests/cli/test_predict_cli.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from conftest import tone
from saz.audio import AudioError, AudioFormatError, PartialAudioError
from saz.models.checkpoint import Checkpoint
from saz.prediction import (Prediction, RecordingTooLong, _windows, check_length, load_predictor, predict, predict_many,
                            window_starts)

SR = 22050


def test_window_starts_cover_the_recording():
    assert window_starts(10, 100, 50) == [0]  # shorter than a window: one padded window
    assert window_starts(100, 100, 50) == [0]
    assert window_starts(101, 100, 50) == [0, 1]  # the last window ends with the recording: no padding
    assert window_starts(1000, 100, 50)[-1] == 900
    assert window_starts(1010, 100, 50)[-2:] == [900, 910]
    for n in (1, 99, 250, 1234):
        starts = window_starts(n, 100, 30)
        assert starts[-1] + 100 >= n and (len(starts) == 1 or starts[-2] + 100 < n)
        assert len(starts) == 1 or starts[-1] + 100 == n  # only a recording shorter than a window is padded


@pytest.mark.parametrize("block", [7, 64, 1000, 5000])
def test_streamed_windows_equal_windows_cut_from_the_whole_signal(block):
    y = np.random.default_rng(1).normal(size=1234).astype(np.float32)
    env: list[float] = []
    got = list(_windows((y[i:i + block] for i in range(0, len(y), block)), 1000, 100, 30, env))
    starts = window_starts(len(y), 100, 30)
    assert [s for s, _ in got] == starts
    for s, w in got:
        want = np.pad(y[s:s + 100], (0, max(0, s + 100 - len(y))))
        np.testing.assert_array_equal(w, want)
    assert len(env) == int(np.ceil(len(y) / 50)) and env[0] == np.abs(y[:50]).max()


def test_short_silent_stereo_and_array_inputs(model, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, tone(SR, 0.3), SR)
    p = predict(short, model=model)
    assert p.duration == pytest.approx(0.3, abs=1e-3) and p.window_probabilities.shape == (1, 3)
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(SR * 7), SR)
    s = predict(silent, model=model, threshold=0.0001)
    assert s.present == [] and s.segments == [] and (s.probabilities == 0).all()
    mono = tone(SR, 3.0, 330.0) + 0.3 * tone(SR, 3.0, 1200.0)
    sf.write(tmp_path / "mono.wav", mono, SR)
    sf.write(tmp_path / "stereo.wav", np.stack([mono, mono], axis=1), SR)
    a, b = predict(tmp_path / "mono.wav", model=model), predict(tmp_path / "stereo.wav", model=model)
    np.testing.assert_allclose(a.window_probabilities, b.window_probabilities, atol=1e-5)
    c = predict(np.stack([mono, mono]), sr=SR, model=model)  # (channels, samples) array
    np.testing.assert_allclose(c.window_probabilities, a.window_probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="sample rate"):
        predict(mono, model=model)


def test_long_recording_streams_in_bounded_windows(model, tmp_path):
    """A 4-minute file at 44.1 kHz: windows every second, all decoded blockwise and resampled."""
    sr = 44100
    t = np.arange(sr * 240) / sr
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * t / 60) > 0)).astype(np.float32)
    path = tmp_path / "long.flac"
    sf.write(path, y, sr)
    p = predict(path, model=model, hop=1.0)
    assert p.duration == pytest.approx(240, abs=0.01)
    assert len(p.window_starts) == len(window_starts(240 * SR, 2 * SR, SR)) == 239
    # the second half of every minute is digital silence: those windows predict nothing
    phase = p.window_starts % 60
    silent = (phase >= 30.1) & (phase + 2 <= 59.9)
    sounding = (phase <= 29.5) | ((phase >= 58.5) & (p.window_starts + 2 < 240))
    assert silent.sum() > 100 and sounding.sum() > 100
    assert (p.window_probabilities[silent] == 0).all()
    assert (p.window_probabilities[sounding] > 0).all()


def timeline(wp: list[list[float]], window: float, hop: float, duration: float, smooth: int | None = None) -> Prediction:
    """A Prediction of classes tar and ney (thresholds 0.5) with these window probabilities."""
    wp = np.array(wp, np.float32)
    return Prediction("x.wav", ["tar", "ney"], np.array([0.5, 0.5], np.float32), duration, window, hop, wp.max(0),
                      np.arange(len(wp)) * hop, wp, smooth=smooth)


def spans(p: Prediction) -> list[tuple[str, float, float, float]]:
    return [(s.instrument, s.start, s.end, round(s.confidence, 3)) for s in p.segments]


def test_segments_merge_consecutive_windows():
    p = timeline([[0.9, 0.1], [0.8, 0.1], [0.2, 0.7], [0.1, 0.6]], 4.0, 2.0, 10.0)
    assert spans(p) == [("tar", 0.0, 6.0, 0.85), ("ney", 4.0, 10.0, 0.65)]
    assert p.present == [("tar", pytest.approx(0.9)), ("ney", pytest.approx(0.7))]
    d = json.loads(p.to_json())
    assert d["timeline"]["segments"][0] == {"instrument": "tar", "start": 0.0, "end": 6.0, "confidence": 0.85}
    assert len(d["timeline"]["windows"]) == 4 and d["instruments"][0]["instrument"] == "tar"
    assert "smooth" not in d["timeline"]  # without smoothing, the JSON of before


def test_touching_or_overlapping_segments_of_one_instrument_become_one():
    """At 50 % overlap one window below threshold leaves two runs whose segments touch (0-6 and
    6-10): one segment, its confidence the mean over every window it spans. Windows longer than
    two hops overlap there; two windows below at 50 % leave a real gap."""
    touching = timeline([[0.9, 0.1], [0.8, 0.1], [0.2, 0.1], [0.9, 0.1]], 4.0, 2.0, 10.0)
    assert spans(touching) == [("tar", 0.0, 10.0, 0.7)]
    overlapping = timeline([[0.9, 0.1], [0.2, 0.1], [0.9, 0.1]], 5.0, 2.0, 9.0)
    assert spans(overlapping) == [("tar", 0.0, 9.0, 0.667)]
    apart = timeline([[0.9, 0.1], [0.2, 0.1], [0.2, 0.1], [0.9, 0.1]], 4.0, 2.0, 10.0)
    assert spans(apart) == [("tar", 0.0, 4.0, 0.9), ("tar", 6.0, 10.0, 0.9)]
    rounded = timeline([[0.9, 0.1], [0.2, 0.1], [0.9, 0.1]], 0.2, 0.1 + 1e-9, 0.4)  # 0.2 s and 0.2 + 2e-9 s touch
    assert spans(rounded) == [("tar", 0.0, 0.4, 0.667)]


def test_median_smoothing_drops_a_stray_window_and_fills_a_gap():
    wp = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.1, 0.1], [0.1, 0.1]]
    raw, smoothed = timeline(wp, 1.0, 1.0, 7.0), timeline(wp, 1.0, 1.0, 7.0, smooth=3)
    assert spans(raw) == [("tar", 0.0, 2.0, 0.9), ("ney", 2.0, 3.0, 0.9), ("tar", 3.0, 5.0, 0.9)]
    assert spans(smoothed) == [("tar", 0.0, 5.0, 0.74)]  # confidence: the model's own mean over 0-5 s
    assert smoothed.present == raw.present and json.loads(smoothed.to_json())["timeline"]["smooth"] == 3
    assert spans(timeline(wp, 1.0, 1.0, 7.0, smooth=1)) == spans(raw)
    for bad in (0, 2, -3, 1.0, True):
        with pytest.raises(ValueError, match="positive odd number of windows"):
            next(predict_many([np.zeros(SR, np.float32)], "default", sr=SR, smooth=bad))


def test_smooth_is_a_keyword_of_predict(model, tmp_path):
    y = np.concatenate([tone(SR, 4.0, 330.0), np.zeros(SR, np.float32), tone(SR, 4.0, 330.0)])
    sf.write(tmp_path / "a.wav", y, SR)
    raw = predict(tmp_path / "a.wav", model=model, threshold=0.0001, window=1.0, hop=1.0)
    smoothed = predict(tmp_path / "a.wav", model=model, threshold=0.0001, window=1.0, hop=1.0, smooth=3)
    assert smoothed.smooth == 3 and np.array_equal(smoothed.window_probabilities, raw.window_probabilities)
    assert [(s.start, s.end) for s in raw.segments if s.instrument == "tar"] == [(0.0, 4.0), (5.0, 9.0)]
    assert [(s.start, s.end) for s in smoothed.segments if s.instrument == "tar"] == [(0.0, 9.0)]  # the silent second bridged


def test_predict_many_reports_a_missing_file_and_loads_the_model_once(model, tmp_path):
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    results = list(predict_many([tmp_path / "a.wav", tmp_path / "missing.wav", tmp_path / "a.wav"], model))
    assert [r.ok for r in results] == [True, False, True] and "missing.wav" in str(results[1].error)
    assert type(results[1].error) is AudioError and results[1].to_dict() == {"source": str(tmp_path / "missing.wav"),
                                                                             "error": str(results[1].error)}
    (tmp_path / "notes.txt").write_text("not audio\n")
    with pytest.raises(AudioFormatError, match="notes.txt: unsupported format"):  # the error's own type, raised again
        predict(tmp_path / "notes.txt", model=model)
    assert load_predictor(model) is load_predictor(model)  # loaded once per process


def strict_json(text: str) -> dict:
    """``text`` parsed as RFC 8259 JSON: a bare NaN or Infinity is an error."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_audio_is_an_error_and_json_never_holds_nan(model, tmp_path):
    y = tone(SR, 3.0)
    y[SR] = np.nan
    sf.write(tmp_path / "nan.wav", y, SR, subtype="FLOAT")
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    bad, good = predict_many([tmp_path / "nan.wav", tmp_path / "a.wav"], model)
    assert str(bad.error) == f"{tmp_path / 'nan.wav'}: contains NaN or infinite samples" and good.ok
    assert strict_json(bad.to_json()) == {"source": str(tmp_path / "nan.wav"), "error": str(bad.error)}
    with pytest.raises(ValueError, match="array 0: contains NaN or infinite samples"):
        predict(y, sr=SR, model=model)
    good.probabilities[0] = np.nan  # a bug upstream: refused rather than written as a bare NaN
    with pytest.raises(ValueError, match="JSON compliant"):
        good.to_json()


def test_a_truncated_file_fails_unless_part_of_it_may_be_scored(model, tmp_path):
    sf.write(tmp_path / "whole.ogg", tone(SR, 12.0, 330.0) + 0.01 * np.random.default_rng(0).standard_normal(SR * 12), SR)
    data = (tmp_path / "whole.ogg").read_bytes()
    (tmp_path / "cut.ogg").write_bytes(data[: len(data) // 2])
    strict = predict_many([tmp_path / "cut.ogg"], model)
    (failed,) = strict
    assert isinstance(failed.error, PartialAudioError) and "without its last page" in str(failed.error)
    p = predict(tmp_path / "cut.ogg", model=model, allow_partial=True)
    assert p.ok and isinstance(p.warning, PartialAudioError) and str(p.warning) == str(failed.error)
    assert p.duration == pytest.approx(p.warning.decoded, abs=0.05) and 3 < p.duration < 9
    assert len(p.window_starts) == len(window_starts(round(p.duration * SR), 2 * SR, SR))  # the last windows too
    d = strict_json(p.to_json())
    assert d["warning"] == str(p.warning) and d["duration"] == pytest.approx(p.duration, abs=1e-3)
    assert "warning" not in predict(tmp_path / "whole.ogg", model=model).to_dict()
def test_max_seconds_stops_decoding_whatever_the_header_says(model, tmp_path, monkeypatch):
    """A stream that never ends (as a header that understates the length would give) stops once
    the decoded audio passes ``max_seconds``; the header check refuses a long file undecoded."""
    from saz import audio

    pulled = []

    def endless(path, sr, block_seconds):
        while True:
            pulled.append(block_seconds)
            yield np.zeros(int(sr * block_seconds), np.float32)

    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    monkeypatch.setattr(audio, "stream", endless)
    results = list(predict_many([tmp_path / "a.wav", np.zeros(SR * 9, np.float32)], model, sr=SR, max_seconds=61))
    assert type(results[0].error) is RecordingTooLong and len(pulled) == 3  # 90 s decoded of the endless stream
    assert str(results[0].error) == f"{tmp_path / 'a.wav'}: decodes to more than the limit of 61 s"
    assert results[1].ok  # an array within the limit
    monkeypatch.undo()
    with pytest.raises(RecordingTooLong, match=r"a.wav: 1 s long, over the limit of 0.5 s"):
        check_length(tmp_path / "a.wav", 0.5)
    check_length(tmp_path / "a.wav", 1.0)


def test_threshold_profiles_choose_what_counts_as_detected(model, tmp_path):
    ckpt = Checkpoint.load(model)
    with pytest.raises(ValueError, match="cannot name"):
        ckpt.with_profile("tuned", np.zeros(3), "x")
    with pytest.raises(ValueError, match="expected 3 thresholds"):
        ckpt.with_profile("low", np.zeros(4), "x")
    path = ckpt.with_profile("everything", np.zeros(3), "every class passes").save(tmp_path / "profiled.pt")
    pred = load_predictor(path)
    assert pred.profiles == {"tuned": "tuned for F1 on the validation clips", "everything": "every class passes"}
    assert list(pred.thresholds_for("tuned")) == list(pred.thresholds) and not pred.thresholds_for("everything").any()
    sf.write(tmp_path / "a.wav", tone(SR, 3.0), SR)
    tuned, everything = predict(tmp_path / "a.wav", model=path), predict(tmp_path / "a.wav", model=path, profile="everything")
    assert np.array_equal(tuned.probabilities, everything.probabilities)  # same network, other thresholds
    assert sorted(c for c, _ in everything.present) == ["daf", "ney", "tar"]
    assert tuned.to_dict()["thresholds_from"] == "tuned"
    assert predict(tmp_path / "a.wav", model=path, threshold=0.25).to_dict()["thresholds_from"] == "0.25 for every class"


def test_a_profile_fitted_to_ones_own_labelled_recordings(model, tmp_path):
    from saz.evaluation.calibration import fit_profile
    from saz.datasets import load
    from saz.metrics import evaluate

    rows = ["clip_id,path,labels"]
    for k in range(8):  # tar and ney tones; daf is in no row, so these clips do not decide it
        sf.write(tmp_path / f"c{k}.wav", tone(SR, 2.0 + k % 3, 220.0 * (1 + k)), SR)  # some longer than the window
        rows.append(f"c{k},c{k}.wav,{'tar' if k % 2 else 'ney'}")
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    pred = load_predictor(model)
    ds = load("csv", tmp_path / "mine.csv")
    fitted, info = fit_profile(pred, ds, "f1", progress=False)
    assert info["clips"] == 8 and info["fitted"] == ["tar", "ney"] and fitted[2] == pred.thresholds[2]
    truth = np.array([[k % 2, 1 - k % 2, np.nan] for k in range(8)], np.float32)
    probs = np.stack([predict(tmp_path / f"c{k}.wav", model=pred).probabilities for k in range(8)])
    f1 = lambda t: evaluate(truth, probs, pred.vocab, t).macro.f1  # noqa: E731
    assert f1(fitted) >= f1(pred.thresholds)  # the best on these clips can only match or beat the tuned ones
    capped, _ = fit_profile(pred, ds, "fpr", rate=0.0, progress=False)
    assert (capped <= pred.thresholds + 1e-6).all() and capped[2] == pred.thresholds[2]
    with pytest.raises(ValueError, match="unknown rule"):
        fit_profile(pred, ds, "best")


def test_evaluate_hears_long_clips_as_predict_does(model, tmp_path):
    """`saz evaluate` scores a clip longer than the window over all its windows (the same numbers
    `saz predict` gives the file); 'centre' scores only its centre window; short clips agree."""
    from saz.datasets import load
    from saz.evaluation.scoring import evaluate_checkpoint
    from saz.models.predictor import Predictor

    sf.write(tmp_path / "long.wav", np.concatenate([tone(SR, 1.0, 330.0), np.zeros(SR * 5, np.float32)]), SR)
    sf.write(tmp_path / "short.wav", tone(SR, 1.5, 660.0), SR)
    (tmp_path / "m.csv").write_text("clip_id,path,labels\nlong,long.wav,tar\nshort,short.wav,ney\n")
    ds, pred = load("csv", tmp_path / "m.csv"), Predictor.load(model)
    probs = {}
    for mode in ("windows", "centre"):
        r = evaluate_checkpoint(pred, ds, tmp_path / mode, protocol="hard", progress=False, long_clips=mode)
        assert r.run.windowed_clips == (1 if mode == "windows" else 0)
        probs[mode] = np.load(tmp_path / mode / "predictions.npz")["y_prob"]
    np.testing.assert_allclose(probs["windows"][0], predict(tmp_path / "long.wav", model=model).probabilities, atol=1e-5)
    assert not np.allclose(probs["centre"][0], probs["windows"][0], atol=1e-3)
    np.testing.assert_array_equal(probs["centre"][1], probs["windows"][1])
    with pytest.raises(ValueError, match="long_clips"):
        evaluate_checkpoint(pred, ds, tmp_path / "x", long_clips="middle")


def test_thresholds_tuned_per_prediction_window(model, tmp_path):
    """Thresholds tuned again at other windows (`saz models windows`); `saz predict --window`
    then decides with those of the nearest window, and at the model's own window nothing changes."""
    from saz.evaluation.calibration import window_probabilities, window_thresholds
    from saz.datasets import load
    from saz.metrics import tune_thresholds

    rows = ["clip_id,path,labels"]
    for k in range(8):
        sf.write(tmp_path / f"c{k}.wav", tone(SR, 2.0 + k % 3, 220.0 * (1 + k)), SR)
        rows.append(f"c{k},c{k}.wav,{['tar', 'ney', 'daf'][k % 3]}")
    (tmp_path / "val.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "broken.wav").write_bytes(b"RIFF not audio")
    (tmp_path / "with-bad.csv").write_text("\n".join([*rows, "bad,broken.wav,tar"]) + "\n")
    pred, ds = load_predictor(model), load("csv", tmp_path / "val.csv")
    prob, y = window_probabilities(pred, ds, 0.55, progress=False)
    assert prob.shape == (8, 3) and np.array_equal(y[:, 0], [1, 0, 0, 1, 0, 0, 1, 0])
    np.testing.assert_allclose(prob[3], predict(tmp_path / "c3.wav", model=pred, window=0.55).probabilities, atol=1e-6)
    assert len(window_probabilities(pred, load("csv", tmp_path / "with-bad.csv"), 0.55, progress=False)[0]) == 8
    table = window_thresholds(pred, [ds], [0.55, 1.0], progress=False)
    np.testing.assert_allclose(table[0.55], tune_thresholds(y, prob))  # every class decided by these clips
    with pytest.raises(ValueError, match="expected a positive window and 3 thresholds"):
        Checkpoint.load(model).with_window_thresholds({0.5: np.zeros(2)}, "x")

    tabled = load_predictor(Checkpoint.load(model).with_window_thresholds(table, "tuned here").save(tmp_path / "w.pt"))
    assert [tabled.threshold_window(w) for w in (0.4, 0.7, 0.8, 1.6, 5.0, None)] == [0.55, 0.55, 1.0, 2.0, 2.0, 2.0]
    np.testing.assert_allclose(tabled.thresholds_for(None, 0.45), table[0.55])
    assert np.array_equal(tabled.thresholds_for(None, 2.0), pred.thresholds)
    at_half = predict(tmp_path / "c1.wav", model=tabled, window=0.55)
    np.testing.assert_allclose(at_half.thresholds, table[0.55])
    assert at_half.to_dict()["thresholds_from"] == "tuned at 0.55-s windows"
    assert predict(tmp_path / "c1.wav", model=tabled).to_dict()["thresholds_from"] == "tuned"
    plain = predict(tmp_path / "c1.wav", model=pred, window=0.55)  # a checkpoint without a table keeps its own
    assert np.array_equal(plain.thresholds, pred.thresholds) and plain.to_dict()["thresholds_from"] == "tuned"


def test_a_pattern_unlike_training_is_named():
    """No class confident yet several middling (a kamancheh to the default) is named; a confident
    class, or too few middling ones (silence, nothing heard), is not."""
    def heard(*probs: float) -> Prediction:
        p = np.array(probs, np.float32)
        return Prediction("x.wav", ["tar", "ney", "daf", "oud"], np.full(4, 0.5, np.float32), 5.0, 5.0, 2.5, p,
                          np.zeros(1), p[None])

    assert heard(0.45, 0.3, 0.25, 0.05).hesitation == "no instrument reaches 0.6 yet 3 score between 0.2 and 0.6"
    assert heard(0.7, 0.3, 0.25, 0.05).hesitation is None  # one class confident
    assert heard(0.45, 0.1, 0.05, 0.0).hesitation is None  # one middling class: not wavering
    assert heard(0.0, 0.0, 0.0, 0.0).hesitation is None  # silence
    d = json.loads(heard(0.45, 0.3, 0.25, 0.0).to_json(False))
    assert d["unlike_training"] == "no instrument reaches 0.6 yet 3 score between 0.2 and 0.6"
    assert d["vocabulary"]["instruments"] == ["tar", "ney", "daf", "oud"] and "Iranian" in d["vocabulary"]["not_in_vocabulary"]


def test_saznet_hears_the_receptive_field_it_declares_and_the_shortest_window_follows(model):
    """One frame feature of saznet depends on exactly ``receptive_frames`` spectrogram frames (by
    its gradient); the shortest window the predictor takes spans that many frames."""
    import torch

    from saz.models import build
    from saz.prediction import SettingError, check_settings

    net = build("saznet", (64, 101), 3).eval()
    x = torch.randn(1, 64, 101, requires_grad=True)
    net.frame_features(x)[0, 25].sum().backward()  # the frame feature centred on input frame 50
    heard = torch.nonzero(x.grad[0].abs().sum(0)).flatten()
    assert len(heard) == net.receptive_frames == 23 and heard[0] == 50 - 11
    pred = load_predictor(model)
    assert pred.min_window == pytest.approx(22 * 512 / SR)
    with pytest.raises(SettingError, match="window 0.5: shorter than the model can use"):
        check_settings(pred, window=0.5)
    check_settings(pred, window=0.52, hop=0.52, threshold=1.0)
    with pytest.raises(SettingError, match=r"hop 0\.6: must be positive and at most the 0\.52-s window"):
        list(predict_many([np.zeros(SR, np.float32)], pred, sr=SR, window=0.52, hop=0.6))


def test_repeated_content_gets_one_answer_whatever_its_window_position(model, tmp_path):
    """One 2-s excerpt three times over, read with a 1.5-s hop: the hop grid ends at 3 s and used
    to leave the last copy to a window padded with 0.5 s of silence (4.5-6.5 s); the last window
    now ends with the recording (4-6 s) and hears the third copy as the first window hears the first."""
    rng = np.random.default_rng(3)
    excerpt = (tone(SR, 2.0, 330.0) + 0.05 * rng.normal(size=2 * SR)).astype(np.float32)
    sf.write(tmp_path / "thrice.wav", np.tile(excerpt, 3), SR, subtype="FLOAT")
    r = predict(tmp_path / "thrice.wav", model=model, hop=1.5)
    assert list(r.window_starts) == [0.0, 1.5, 3.0, 4.0]
    np.testing.assert_allclose(r.window_probabilities[-1], r.window_probabilities[0], atol=1e-5)


def test_a_plot_draws_each_moment_as_the_answer_reads_it_and_names_what_it_leaves_out():
    """Each stretch shows the best window hearing it, so colours above a threshold lie inside the
    outlined segments; the figure has a legend and names the classes it does not draw."""
    from saz import plots
    from saz.prediction import ENVELOPE_SECONDS, plot_rows

    wp = np.array([[0.9, 0.1, 0.05], [0.2, 0.1, 0.05], [0.1, 0.7, 0.0]], np.float32)
    p = Prediction("x.wav", ["tar", "ney", "daf"], np.array([0.5, 0.5, 0.5], np.float32), 8.0, 4.0, 2.0, wp.max(0),
                   np.array([0.0, 2.0, 4.0]), wp)
    edges, values = plots.heard_at(p.window_starts, p.window, p.duration, wp)
    assert list(edges) == [0, 2, 4, 6, 8] and values[:, 0].tolist() == pytest.approx([0.9, 0.9, 0.2, 0.1])
    for seg in p.segments:  # above threshold exactly where a segment is
        j = p.classes.index(seg.instrument)
        inside = (edges[:-1] >= seg.start) & (edges[1:] <= seg.end)
        assert ((values[:, j] >= 0.5) == inside).all()
    rows, note = plot_rows(p, max_classes=2)
    assert rows == [0, 1] and note == "Not drawn: 1 weaker classes (file probability 0.05 at most): daf"
    fig = plots.timeline(np.zeros(160), 1 / ENVELOPE_SECONDS, 8.0, p.window_starts, 4.0, wp[:, rows], ["tar", "ney"],
                         [(0, 0.0, 4.0)], "x.wav", note)
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert note in texts and "outline: above the class's threshold (detected)" in texts
    assert fig.axes[-1].get_ylabel().startswith("probability (colour)")
    plots.close(fig)
