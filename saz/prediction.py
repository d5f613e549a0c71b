"""Which instruments play in a recording, how sure, and when: the main job of saz.

A recording is decoded in blocks (:func:`saz.audio.stream`) and cut into windows (default: the
model's clip length, 50 % overlap), so memory does not grow with its length. Windows from many
files are batched through the model together. Each window gets a probability per instrument
(a silent window gets 0 for all); a file's probability for an instrument is its highest window
probability; consecutive windows above the instrument's threshold merge into segments
``instrument start end confidence`` (confidence: mean window probability over the segment), and
segments of one instrument that touch or overlap merge into one. ``smooth=N`` takes, before that
thresholding, the median of each instrument's probabilities over N consecutive windows, so that
one stray window neither opens nor breaks a segment (the file's probabilities stay unsmoothed).

A file's probabilities can also say that the model is out of its depth
(:attr:`Prediction.hesitation`): no instrument reaches :data:`CONFIDENT` yet
:data:`HESITANT_CLASSES` or more lie between :data:`MIDDLING` and it. Measured with the bundled
default at its 5-s windows, that pattern held for none of the repo's two examples and none of the
20 real recordings of instruments it knows in ``tests/fixtures`` (whose strongest classes reach
0.66-0.96), and for all 9 kamancheh notes of ``../shared/cultural`` and 2-30 % of its other
recordings (Chinese, Indian and Japanese instruments, frame-drum and darbuka strokes).
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from scipy import ndimage

from saz import audio
from saz.labels import Vocabulary
from saz.models.bundled import DEFAULT_CARD, DEFAULT_MODEL, WEIGHTS, resolve_model  # noqa: F401  (re-exported)
from saz.models.checkpoint import TUNED, CheckpointError
from saz.models.predictor import Predictor
from saz.scale import Engine
from saz.vocabulary import known_and_absent

ENVELOPE_SECONDS = 0.05  # resolution of the waveform envelope kept for plots
TOUCHING = 1e-6  # seconds: a segment starting this close after another's end touches it (float rounding)
CONFIDENT = 0.6  # a class this probable is an answer the model gives with conviction...
MIDDLING = 0.2  # ...and one between MIDDLING and CONFIDENT a hesitant one
HESITANT_CLASSES = 2  # hesitant classes, with none confident, that make a pattern unlike training
CHUNK = 4  # files per task on a distributed engine: few padded batches, and little redone when a worker is lost


def default_card() -> str:
    """The bundled default model's card (Markdown)."""
    return DEFAULT_CARD.read_text() if DEFAULT_CARD.exists() else "No default model card in this installation."


@lru_cache(maxsize=4)
def _load(path: str, mtime: float, trust: bool) -> Predictor:
    return Predictor.load(path, trust)


def load_predictor(model: str | os.PathLike | Predictor = "default", trust: bool = False) -> Predictor:
    """A :class:`Predictor` for ``model`` (loaded once per process and file version). A checkpoint
    whose estimator is a pickle (an older saz's) is refused unless ``trust``: reading it runs its code."""
    if isinstance(model, Predictor):
        return model
    path = resolve_model(model)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return _load(str(path.resolve()), path.stat().st_mtime, trust)


class RecordingTooLong(audio.AudioError):
    """A recording longer than the caller's limit (``max_seconds``; the web app answers 413)."""

    @classmethod
    def over(cls, source: str | os.PathLike, limit: float, seconds: float | None = None) -> RecordingTooLong:
        """The error for ``source``, ``seconds`` long by its header (None: found while decoding)."""
        if seconds is None:
            return cls(source, f"decodes to more than the limit of {limit:g} s")
        return cls(source, f"{seconds:.0f} s long, over the limit of {limit:g} s")


def check_length(path: str | os.PathLike, max_seconds: float) -> None:
    """Raise :class:`RecordingTooLong` when the header of ``path`` declares more than
    ``max_seconds`` (cheap: nothing is decoded); :class:`saz.audio.AudioError` for no usable header."""
    seconds = audio.info(path).duration
    if seconds > max_seconds:
        raise RecordingTooLong.over(path, max_seconds, seconds)


@dataclass
class Segment:
    """When one instrument plays: ``start`` and ``end`` in seconds, ``confidence`` the mean window
    probability over the windows it spans."""

    instrument: str
    start: float
    end: float
    confidence: float


def runs(mask: np.ndarray) -> list[slice]:
    """The runs of consecutive True values of the 1-D ``mask``, as slices, in order."""
    return [run for (run,) in ndimage.find_objects(ndimage.label(mask)[0])]


def check_smooth(smooth: int | None) -> None:
    """ValueError unless ``smooth`` is None (no smoothing) or a positive odd number of windows:
    a median over an even count has no middle window."""
    if smooth is not None and (isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1 or smooth % 2 == 0):
        raise ValueError(f"smooth must be a positive odd number of windows (got {smooth!r})")


def median_smoothed(probs: np.ndarray, smooth: int | None) -> np.ndarray:
    """``probs`` (windows, classes) with each class's probabilities replaced by their median over
    ``smooth`` consecutive windows (the edge windows repeated beyond the ends); unchanged for None."""
    if not smooth or smooth == 1 or not len(probs):
        return probs
    return ndimage.median_filter(probs, size=(smooth, 1), mode="nearest")


@dataclass
class Prediction:
    """Result for one recording; ``error`` is set (and the rest empty) when it could not be read:
    an :class:`saz.audio.AudioError` (:class:`saz.audio.AudioFormatError` for a file in no format
    saz decodes), whose text is one line ``source: cause``. ``warning`` is set when only part of
    it decoded and that part was scored (``allow_partial``): a :class:`saz.audio.PartialAudioError`.
    ``smooth``: the median smoothing (in windows) the segments were read after, None for none."""

    source: str
    classes: list[str]
    thresholds: np.ndarray
    duration: float = 0.0
    window: float = 0.0
    hop: float = 0.0
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    window_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    window_probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    envelope: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    error: audio.AudioError | None = None
    thresholds_from: str = TUNED  # the threshold profile used ("tuned at W-s windows"), or "T for every class"
    warning: audio.PartialAudioError | None = None
    smooth: int | None = None  # median smoothing of the window probabilities the segments read (windows)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def present(self) -> list[tuple[str, float]]:
        """Instruments at or above their threshold, most probable first."""
        order = np.argsort(-self.probabilities, kind="stable")
        return [(self.classes[j], float(self.probabilities[j])) for j in order if self.probabilities[j] >= self.thresholds[j]]

    @property
    def segments(self) -> list[Segment]:
        """Per instrument, runs of consecutive windows above its threshold (read after the median
        smoothing of ``smooth`` windows, if set), a run that touches or overlaps the one before it
        merged into it; in time order."""
        if not len(self.window_starts):
            return []
        decided = median_smoothed(self.window_probabilities, self.smooth)
        out = [s for j in range(len(self.classes)) for s in self._class_segments(j, decided[:, j] >= self.thresholds[j])]
        return sorted(out, key=lambda s: (s.start, s.instrument))

    def window_end(self, k: int) -> float:
        """Where window ``k`` ends (the last one at the end of the recording)."""
        return min(float(self.window_starts[k]) + self.window, self.duration)

    def _class_segments(self, j: int, above: np.ndarray) -> list[Segment]:
        """The segments of class ``j`` from its windows ``above`` threshold: runs of them, each run
        that starts where the one before ends (or earlier) merged into it."""
        spans: list[list[int]] = []
        for run in runs(above):
            if spans and float(self.window_starts[run.start]) <= self.window_end(spans[-1][1] - 1) + TOUCHING:
                spans[-1][1] = run.stop
            else:
                spans.append([run.start, run.stop])
        return [Segment(self.classes[j], float(self.window_starts[a]), self.window_end(b - 1),
                        float(self.window_probabilities[a:b, j].mean())) for a, b in spans]

    @property
    def hesitation(self) -> str | None:
        """The file's confidence pattern in words when it looks unlike the model's training clips
        (no class reaches :data:`CONFIDENT` yet :data:`HESITANT_CLASSES` or more lie between
        :data:`MIDDLING` and it: the model wavers between sounds it knows instead of hearing one,
        as on an instrument outside its vocabulary); None when it does not."""
        p = self.probabilities
        hesitant = int(((p >= MIDDLING) & (p < CONFIDENT)).sum())
        if not p.size or p.max() >= CONFIDENT or hesitant < HESITANT_CLASSES:
            return None
        return f"no instrument reaches {CONFIDENT:g} yet {hesitant} score between {MIDDLING:g} and {CONFIDENT:g}"

    def to_dict(self, timeline: bool = True) -> dict:
        """The result as JSON-ready data; with ``timeline``, every window's probabilities, the
        segments and the waveform's peak envelope (one peak per ``step`` seconds); last, what the
        model knows and what of a tradition's it does not (``vocabulary``:
        :func:`saz.vocabulary.known_and_absent`) and :attr:`hesitation` (``unlike_training``)."""
        d: dict = {"source": self.source}
        if not self.ok:
            return {**d, "error": str(self.error)}
        if self.warning is not None:
            d["warning"] = str(self.warning)
        d.update({"duration": round(self.duration, 3), "thresholds_from": self.thresholds_from,
                  "instruments": [{"instrument": n, "probability": round(p, 4)} for n, p in self.present],
                  "probabilities": {n: round(float(p), 4) for n, p in zip(self.classes, self.probabilities)}})
        if timeline:
            d["timeline"] = {"window": self.window, "hop": self.hop, **({"smooth": self.smooth} if self.smooth is not None else {}),
                             "windows": [{"start": round(float(s), 3), "probabilities": {n: round(float(p), 4) for n, p in zip(self.classes, row)}}
                                         for s, row in zip(self.window_starts, self.window_probabilities)],
                             "segments": [{"instrument": s.instrument, "start": round(s.start, 3), "end": round(s.end, 3),
                                           "confidence": round(s.confidence, 4)} for s in self.segments],
                             "envelope": {"step": ENVELOPE_SECONDS, "peaks": [round(float(v), 3) for v in self.envelope]}}
        d.update({"vocabulary": known_and_absent(Vocabulary.from_names(self.classes)), "unlike_training": self.hesitation})
        return d

    def to_json(self, timeline: bool = True) -> str:
        """:meth:`to_dict` as one line of RFC 8259 JSON (a non-finite number raises rather than
        writing a bare NaN no JSON reader accepts)."""
        return json.dumps(self.to_dict(timeline), allow_nan=False)


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Starts of the windows covering ``n_samples``: every hop while a window fits, then one that
    ends where the recording does, so that only a recording shorter than a window is heard with
    padding (silence after the end would change what the model hears in the last window); always
    at least one."""
    if n_samples <= window:
        return [0]
    starts = list(range(0, n_samples - window + 1, hop))
    return starts if starts[-1] + window == n_samples else [*starts, n_samples - window]


def _enveloped(blocks: Iterable[np.ndarray], sr: int, envelope: list[float]) -> Iterator[np.ndarray]:
    """``blocks`` as they come; their peak envelope (one value per ``ENVELOPE_SECONDS``) is
    appended to ``envelope``, for plots."""
    n = max(1, int(ENVELOPE_SECONDS * sr))
    rest = np.zeros(0, np.float32)
    for block in blocks:
        e = np.concatenate([rest, np.abs(block)])
        k = len(e) // n
        envelope.extend(e[:k * n].reshape(k, n).max(axis=1).tolist())
        rest = e[k * n:]
        yield block
    if rest.size:
        envelope.append(float(rest.max()))


def _windows(blocks: Iterable[np.ndarray], sr: int, window: int, hop: int, envelope: list[float]
             ) -> Iterator[tuple[int, np.ndarray]]:
    """The windows of :func:`window_starts` over a stream of blocks, each as soon as it is whole,
    keeping only what the next window needs and the last ``window`` samples (for the window that
    ends with the recording); the waveform's envelope goes to ``envelope`` (:func:`_enveloped`)."""
    buf = np.zeros(0, np.float32)
    buf_start = next_start = yielded = 0  # sample index of buf[0]; of the next window on the hop grid
    for block in _enveloped(blocks, sr, envelope):
        buf = np.concatenate([buf, block])
        end = buf_start + len(buf)
        while next_start + window <= end:
            yield next_start, buf[next_start - buf_start:next_start - buf_start + window]
            next_start, yielded = next_start + hop, yielded + 1
        drop = min(next_start, end - window) - buf_start
        if drop > 0:
            buf, buf_start = buf[drop:], buf_start + drop
    for start in window_starts(buf_start + len(buf), window, hop)[yielded:]:
        w = buf[start - buf_start:start - buf_start + window]
        yield start, np.pad(w, (0, window - len(w)))


class _File:
    """Windows of one recording waiting for the model, and what came back."""

    def __init__(self, source: str):
        self.source = source
        self.starts: list[int] = []
        self.probs: dict[int, np.ndarray] = {}
        self.envelope: list[float] = []
        self.samples = 0
        self.closed = False
        self.error: audio.AudioError | None = None
        self.warning: audio.PartialAudioError | None = None

    @property
    def done(self) -> bool:
        return self.closed and (self.error is not None or len(self.probs) == len(self.starts))


def _decoded(item: str | os.PathLike | np.ndarray, sr: int, in_sr: int | None, source: str) -> Iterator[np.ndarray]:
    """The mono samples of a file (in blocks, as decoded) or of an array (at once), at ``sr``;
    non-finite samples are refused."""
    if isinstance(item, np.ndarray):
        if item.ndim == 2 and item.shape[0] < item.shape[1]:
            item = item.T  # (channels, samples) -> (samples, channels)
        y = audio.require_finite(source, audio.to_mono(np.asarray(item, np.float32)))
        if in_sr is None:
            raise ValueError("an array needs its sample rate: predict(array, sr=...)")
        yield audio.resample(y, in_sr, sr)
        return
    yield from audio.stream(item, sr=sr, block_seconds=30.0)


def _blocks(item: str | os.PathLike | np.ndarray, sr: int, in_sr: int | None, counter: _File,
            allow_partial: bool, max_seconds: float | None) -> Iterator[np.ndarray]:
    """:func:`_decoded`'s blocks, counted in ``counter``; decoding stops with
    :class:`RecordingTooLong` once they pass ``max_seconds`` (whatever the header said). A file
    that decodes only in part ends early with ``counter.warning`` set when ``allow_partial``,
    else raises."""
    try:
        for block in _decoded(item, sr, in_sr, counter.source):
            counter.samples += len(block)
            if max_seconds is not None and counter.samples > max_seconds * sr:
                raise RecordingTooLong.over(counter.source, max_seconds)
            yield block
    except audio.PartialAudioError as e:
        if not allow_partial:
            raise
        counter.warning = e


def _audio_error(source: str, e: Exception) -> audio.AudioError:
    """``e`` as the :class:`saz.audio.AudioError` of ``source`` (an OS or value error wrapped in one)."""
    if isinstance(e, audio.AudioError):
        return e
    error = audio.AudioError(source, str(e))
    error.__cause__ = e
    return error


def _thresholds_read(pred: Predictor, window: float, threshold: float | None,
                     profile: str | None) -> tuple[np.ndarray, str]:
    """The per-class thresholds predictions at ``window`` seconds read (one ``threshold`` for
    every class, a ``profile``'s, or those tuned at the nearest window) and how they were set;
    ValueError for a ``threshold`` and a ``profile`` both."""
    if threshold is not None and profile is not None:
        raise ValueError("give one threshold for every class or a threshold profile, not both")
    if threshold is not None:
        check_settings(pred, threshold=threshold)
        return np.full(len(pred.vocab.names), threshold, np.float32), f"{threshold:g} for every class"
    label = profile or TUNED
    if label == TUNED and pred.threshold_window(window) != pred.seconds:
        label = f"{TUNED} at {pred.threshold_window(window):g}-s windows"
    return pred.thresholds_for(profile, window), label


class SettingError(ValueError):
    """A prediction setting that makes no sense; ``str(err)`` is one line, ``name value: cause``
    (``name`` is the setting: window, hop or threshold)."""

    def __init__(self, name: str, value: float, cause: str):
        self.name, self.value, self.cause = name, value, cause
        super().__init__(f"{name} {value:g}: {cause}")


def check_settings(pred: Predictor, window: float | None = None, hop: float | None = None,
                   threshold: float | None = None) -> None:
    """Raise :class:`SettingError` for a ``threshold`` outside [0, 1], a ``window`` shorter than the
    model can use (:attr:`Predictor.min_window`), a ``hop`` that is not positive or is longer than
    the window (the audio between windows would go unheard); None leaves a setting to its default."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise SettingError("threshold", threshold, "outside [0, 1]: a threshold is a probability")
    if window is not None and not (window > 0 and window >= pred.min_window):
        raise SettingError("window", window, f"shorter than the model can use: each of its outputs hears "
                                             f"{pred.receptive_frames} spectrogram frames, {pred.min_window:.2f} s")
    length = pred.seconds if window is None else window
    if hop is not None and not 0 < hop <= length:
        raise SettingError("hop", hop, f"must be positive and at most the {length:g}-s window (the step from one "
                                       "window's start to the next)")


def _window_and_hop(pred: Predictor, window: float | None, hop: float | None) -> tuple[float, float]:
    """The prediction window (default: the model's clip length) and hop (default: half the
    window) in seconds, checked (:func:`check_settings`)."""
    check_settings(pred, window, hop)
    window = float(pred.seconds if window is None else window)
    return window, float(window / 2 if hop is None else hop)


def _too_short(f: _File, sr: int, window: float) -> audio.AudioError:
    """The error of a recording shorter than the window it was asked to be heard in: padded with
    silence, it would be scored on what it is not."""
    seconds = f.samples / sr
    return audio.AudioError(f.source, f"{seconds:.2f} s long, shorter than the {window:g}-s window asked for: give a "
                                      f"window of at most {seconds:.2f} s, or none (the model's own clip, padded as in training)")


def _silent(waves: np.ndarray) -> np.ndarray:
    """Which windows (rows of ``waves``) peak below :data:`saz.audio.SILENCE_DBFS`: nothing plays there."""
    return np.maximum(waves.max(axis=1), -waves.min(axis=1)) < 10 ** (audio.SILENCE_DBFS / 20)


def _score(pred: Predictor, pending: list[tuple[_File, int, np.ndarray]], batch: int) -> None:
    """Run the model on the windows in ``pending`` (those of files not failed) as one batch of
    ``batch`` rows, each window's probabilities into its file (0 for a silent window); ``pending``
    is emptied. A short batch is padded with silence to ``batch`` rows: the float rounding of the
    model's kernels can change with the batch size (not, as measured, with a row's place or its
    neighbours), so a window scores the same whatever files share its batch, on any engine."""
    live = [(f, s, w) for f, s, w in pending if f.error is None]
    pending.clear()
    if not live:
        return
    waves = np.stack([w for _, _, w in live])
    padded = np.concatenate([waves, np.zeros((batch - len(waves), waves.shape[1]), waves.dtype)]) if len(waves) < batch else waves
    probs = pred.probabilities(pred.feature(padded))[:len(waves)]
    probs[_silent(waves)] = 0.0
    for (f, s, _), p in zip(live, probs):
        f.probs[s] = p


def predict_many(items: Iterable[str | os.PathLike | np.ndarray], model: str | os.PathLike | Predictor = "default",
                 sr: int | None = None, window: float | None = None, hop: float | None = None,
                 threshold: float | None = None, batch: int = 32, profile: str | None = None,
                 allow_partial: bool = False, max_seconds: float | None = None,
                 smooth: int | None = None) -> Iterator[Prediction]:
    """Predictions for files or arrays, in input order, each yielded as soon as it is complete.

    One model load; windows from consecutive files share batches. A file that cannot be
    decoded yields a :class:`Prediction` with ``error`` set, and the others go on; one that
    decodes only in part (truncated or corrupt, :class:`saz.audio.PartialAudioError`) too, unless
    ``allow_partial``: then the part decoded is scored, with ``warning`` set. Detections use
    the model's thresholds (those tuned at the nearest window it has thresholds for,
    :meth:`Predictor.threshold_window`), those of its threshold ``profile``
    (:meth:`Predictor.profiles`), or one ``threshold`` for every class. A recording that decodes
    to more than ``max_seconds`` stops there with a :class:`RecordingTooLong` error; one shorter than
    a ``window`` asked for is an error too (without ``window``, one shorter than the model's clip is
    padded, as its training clips were). Settings that make no sense raise :class:`SettingError`.
    ``smooth``: segments are read from the median of each instrument's probabilities over that
    (odd) number of windows (:func:`median_smoothed`); ValueError for an even or non-positive one.
    """
    check_smooth(smooth)
    pred = load_predictor(model)
    fsr, asked = pred.feature.sr, window  # asked: the window given (None: the model's own)
    window, hop = _window_and_hop(pred, window, hop)
    w_n, h_n = int(round(window * fsr)), int(round(hop * fsr))
    classes = list(pred.vocab.names)
    thresholds, label = _thresholds_read(pred, window, threshold, profile)
    queue: deque[_File] = deque()
    pending: list[tuple[_File, int, np.ndarray]] = []

    def finished() -> Iterator[Prediction]:
        while queue and queue[0].done:
            f = queue.popleft()
            if f.error is not None:
                yield Prediction(f.source, classes, thresholds, error=f.error, thresholds_from=label, smooth=smooth)
                continue
            starts = np.array(f.starts)
            wp = np.stack([f.probs[s] for s in f.starts])
            yield Prediction(f.source, classes, thresholds, f.samples / fsr, window, hop, wp.max(axis=0),
                             starts / fsr, wp, np.asarray(f.envelope, np.float32), thresholds_from=label,
                             warning=f.warning, smooth=smooth)

    for i, item in enumerate(items):
        f = _File(f"array {i}" if isinstance(item, np.ndarray) else str(item))
        queue.append(f)
        try:
            for start, w in _windows(_blocks(item, fsr, sr, f, allow_partial, max_seconds), fsr, w_n, h_n, f.envelope):
                f.starts.append(start)
                pending.append((f, start, w))
                if len(pending) >= batch:
                    _score(pred, pending, batch)
                    yield from finished()
            if asked is not None and f.samples < w_n:
                f.error = _too_short(f, fsr, window)
        except (audio.AudioError, OSError, ValueError) as e:
            f.error = _audio_error(f.source, e)
        f.closed = True
        yield from finished()
    _score(pred, pending, batch)
    yield from finished()


def _predict_chunk(state: tuple[Predictor, dict], files: list[str | os.PathLike]) -> Iterator[Prediction]:
    """An engine's work: :func:`predict_many` of ``files`` with the predictor and settings of ``state``."""
    predictor, settings = state
    return predict_many(files, predictor, **settings)


def _lost(predictor: Predictor, file: str | os.PathLike, why: str) -> Prediction:
    """The failed prediction of a file whose worker was lost (an engine's ``lost``)."""
    return Prediction(str(file), list(predictor.vocab.names), predictor.thresholds, error=audio.AudioError(file, why))


def predict_files(files: list[str | os.PathLike], predictor: Predictor, engine: Engine | None = None,
                  **settings: object) -> Iterator[Prediction]:
    """:func:`predict_many` of ``files`` on ``engine`` (default: here, in input order); on a
    distributed engine, :data:`CHUNK` files per task, the predictor shipped once per worker, results in the
    order they finish: each file's the same as here. ``settings``: :func:`predict_many`'s."""
    engine = engine or Engine()
    return engine.map(_predict_chunk, files, (predictor, settings), chunk=CHUNK, lost=partial(_lost, predictor))


def predict(path_or_array: str | os.PathLike | np.ndarray, sr: int | None = None,
            model: str | os.PathLike | Predictor = "default", window: float | None = None, hop: float | None = None,
            threshold: float | None = None, profile: str | None = None, allow_partial: bool = False,
            smooth: int | None = None) -> Prediction:
    """Predict one recording (a path, or a mono/stereo array with its ``sr``); ``allow_partial``:
    score the part of a truncated or corrupt file that decodes; ``smooth``: read the segments
    after a median over that many windows (see :func:`predict_many`)."""
    result = next(predict_many([path_or_array], model, sr, window, hop, threshold, profile=profile,
                               allow_partial=allow_partial, smooth=smooth))
    if not result.ok:
        if isinstance(path_or_array, np.ndarray):
            raise ValueError(str(result.error))
        raise result.error
    return result


def plot_rows(pred: Prediction, max_classes: int = 12) -> tuple[list[int], str]:
    """The classes a plot of ``pred`` draws, in vocabulary order (those detected, then the most
    probable others above 0.1, at most ``max_classes``; the 5 most probable when none is), and a
    line naming the others, most probable first, so that a reader knows what was left out."""
    order = [int(j) for j in np.argsort(-pred.probabilities, kind="stable")]
    detected = [j for j in order if pred.probabilities[j] >= pred.thresholds[j]]
    others = [j for j in order if j not in detected and pred.probabilities[j] >= 0.1]
    rows = sorted((detected + others)[:max_classes] or order[:5])
    left = [j for j in order if j not in rows]
    if not left:
        return rows, ""
    weakest = max(float(pred.probabilities[j]) for j in left)
    return rows, (f"Not drawn: {len(left)} weaker classes (file probability {weakest:.2f} at most): "
                  + ", ".join(pred.classes[j] for j in left))


def plot(pred: Prediction, path: str | os.PathLike, max_classes: int = 12) -> Path:
    """PNG of ``pred``: waveform above the activity map of the instruments worth showing
    (:func:`plot_rows`), the others named under it; with ``smooth``, the probabilities the
    segments were read from."""
    from saz import io, plots

    rows, left_out = plot_rows(pred, max_classes)
    if pred.smooth and pred.smooth > 1:  # drawn as the segments read them
        left_out = f"Window probabilities drawn after the median over {pred.smooth} windows. {left_out}"
    names = [pred.classes[j] for j in rows]
    segs = [(names.index(s.instrument), s.start, s.end) for s in pred.segments if s.instrument in names]
    fig = plots.timeline(pred.envelope, 1 / ENVELOPE_SECONDS, pred.duration, pred.window_starts, pred.window,
                         median_smoothed(pred.window_probabilities, pred.smooth)[:, rows], names, segs,
                         Path(pred.source).name, left_out)
    try:
        return io.save_figure(path, fig)
    finally:
        plots.close(fig)
