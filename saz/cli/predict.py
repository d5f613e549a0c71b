"""``saz predict``: which instruments play in each recording, how sure, and when."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, List, Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.inputs import ScanReport
from saz.cli.loaders import load_model, trust_option
from saz.cli.output import err, failed, note
from saz.cli.scale import address_option, engine_option, gpus_option, opened_engine
from saz.export import FORMATS, vocabulary_lines
from saz.progress import progress_bar

if TYPE_CHECKING:
    from saz.models.predictor import Predictor
    from saz.prediction import Prediction
    from saz.scale import Engine

def _inputs(paths: List[Path]) -> tuple[list[Path], int]:
    """The files to predict: each file named (a missing or unreadable one fails when it is read,
    as any bad file does) and the audio files of each folder named; with how many folders held
    none (each reported). Exit status 1 when nothing is left."""
    from saz import audio

    scans = ScanReport()
    files = audio.find_audio(paths, on_scan=scans)
    if not files:
        raise typer.Exit(1)
    return files, scans.empty


def _check_options(predictor: Predictor, window: float | None, hop: float | None, threshold: float | None) -> None:
    """Refuse a --window, --hop or --threshold that makes no sense, in one line naming it (exit status 2)."""
    from saz.prediction import SettingError, check_settings

    try:
        check_settings(predictor, window, hop, threshold)
    except SettingError as e:
        fail(f"--{e.name} {e.value:g}: {e.cause}", code=2)


def _report(pred: Prediction) -> bool:
    """Say on standard error what went wrong with ``pred``: its error (then False: nothing to
    write) or the warning that only part of it was scored."""
    from saz.audio import PartialAudioError

    if pred.error is not None:
        hint = " (--allow-partial scores the part decoded)" if isinstance(pred.error, PartialAudioError) else ""
        failed(f"{pred.error}{hint}")
    elif pred.warning is not None:
        note("warning", f"{pred.warning}; scored the {pred.duration:.1f} s decoded")
    return pred.ok


class _Writer:
    """Writes each result to standard output and with ``--out``: appended to that file (synced)
    or, for a format of one document per recording, to the recording's own file in that folder;
    and as a plot in ``plot_dir`` (with ``attention``, a model that attends over time, its
    attention map beside it)."""

    def __init__(self, fmt: str, timeline: bool, out: Path | None, plot_dir: Path | None, header: str = "",
                 attention: Predictor | None = None) -> None:
        self.format, self.timeline, self.plot_dir = FORMATS[fmt], timeline, plot_dir
        self.attention = attention
        self.folder = out if out is not None and self.format.per_recording else None
        self.sink: IO[str] | None = open(out, "a", encoding="utf-8") if out is not None and self.folder is None else None
        self.header = header  # printed before the first result (the table's vocabulary lines)
        self.wrote = False
        self.stems: dict[str, int] = {}

    def __call__(self, pred: Prediction) -> None:
        text = self.format.render(pred, self.timeline, first=not self.wrote)
        if not self.wrote:
            text = self.header + text
        self.wrote = True
        print(text, end="", flush=True)
        if self.sink is not None:
            self.sink.write(text)
            self.sink.flush()
            os.fsync(self.sink.fileno())
        name = self._name(pred) if self.folder is not None or self.plot_dir is not None else ""
        if self.folder is not None:
            from saz.io import write_text

            write_text(self.folder / f"{name}{self.format.suffix}", text)
        if self.plot_dir is not None:
            from saz.prediction import plot

            plot(pred, self.plot_dir / f"{name}.png")
            if self.attention is not None:
                from saz.evaluation.attention import plot_file_attention

                plot_file_attention(self.attention, pred.source, self.plot_dir / f"{name}_attention.png")

    def _name(self, pred: Prediction) -> str:
        """The file name stem for ``pred``'s files: its recording's, numbered from the second
        recording of that stem on (``take.wav`` and ``other/take.wav``: ``take``, ``take-2``)."""
        stem = Path(pred.source).stem
        self.stems[stem] = self.stems.get(stem, 0) + 1
        return stem if self.stems[stem] == 1 else f"{stem}-{self.stems[stem]}"

    def close(self) -> None:
        """Close the ``--out`` file results are appended to, if there is one."""
        if self.sink is not None:
            self.sink.close()


def _check_format(fmt: str, out: Path | None) -> None:
    """Exit with status 2 for a format saz does not write, one whose package is missing, or a
    document format with an ``--out`` that is a file rather than a folder."""
    if fmt not in FORMATS:
        fail(f"unknown format '{fmt}' ({', '.join(FORMATS)})", code=2)
    missing = FORMATS[fmt].missing()
    if missing is not None:
        fail(f"--format {fmt}: {missing}", code=2)
    if FORMATS[fmt].per_recording and out is not None and out.exists() and not out.is_dir():
        fail(f"--format {fmt} writes a file per recording: --out names the folder for them, and {out} is a file", code=2)


def _not_written(files: list[Path], fmt: str, out: Path | None) -> list[Path]:
    """``files`` less those whose JSON line the ``--out`` file already holds (a rerun resumes), said in a line."""
    from saz.export import written_sources

    if fmt != "json" or out is None:
        return files
    done = written_sources(out)
    todo = [f for f in files if str(f) not in done]
    if len(todo) < len(files):
        note("resume", f"{len(files) - len(todo)} file(s) already in {out}: predicting the other {len(todo)}")
    return todo


def _run(files: list[Path], predictor: Predictor, engine: Engine, settings: dict, write: _Writer) -> int:
    """Predict ``files`` on ``engine``, writing each result as it comes; the number that failed."""
    from saz.prediction import predict_files

    n_failed = 0
    with reported(ValueError, code=2), progress_bar() as bar:
        task = bar.add_task("predict", total=len(files), info="", visible=len(files) > 1)
        for pred in predict_files(files, predictor, engine, **settings):
            bar.advance(task)
            if _report(pred):
                write(pred)
            else:
                n_failed += 1
    return n_failed


def predict(
    paths: List[Path] = typer.Argument(..., help="Audio files and/or folders (searched recursively)."),
    model: str = typer.Option("default", "--model", "-m", help="'default' (bundled) or a checkpoint file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (one object per line) | csv | audacity | "
                            "sv | elan | jams (the last four: a file per recording, with its segments)."),
    timeline: bool = typer.Option(False, "--timeline", help="Segments (table, json), per-window probabilities (json, csv)."),
    plot_dir: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG per file (waveform + activity map) here."),
    window: Optional[float] = typer.Option(None, help="Window length in seconds (default: the model's clip length)."),
    hop: Optional[float] = typer.Option(None, help="Hop in seconds (default: half the window)."),
    threshold: Optional[float] = typer.Option(None, help="One threshold for every class (default: the model's tuned ones)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="A threshold profile the model ships instead of its "
                                          "tuned thresholds, e.g. 'sensitive' (`saz models info` lists them)."),
    smooth: Optional[int] = typer.Option(None, "--smooth", help="Read segments after a median over N (odd) windows "
                                         "of each instrument's probabilities."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also append results to this file as each file finishes "
                                       "(json: files whose line it holds are skipped, so a rerun resumes); "
                                       "with audacity, sv, elan or jams: the folder for a file per recording."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Score the part of a truncated or corrupt file "
                                       "that decodes, with a warning, instead of failing it."),
    trust: bool = trust_option(),
    engine: str = engine_option(),
    address: Optional[str] = address_option(),
    workers: int = typer.Option(1, "--workers", "-j", help="With --engine ray: the workers predicting at once."),
    gpus: float = gpus_option(),
) -> None:
    """Which instruments play in each recording, how sure, and (with --timeline) when."""
    _check_format(fmt, out)
    files, n_failed = _inputs(paths)
    n_named = len(files) + n_failed
    if threshold is not None and profile is not None:
        fail("--threshold and --profile both set thresholds: give one", code=2)
    predictor = load_model(model, profile, trust)
    _check_options(predictor, window, hop, threshold)
    files = _not_written(files, fmt, out)
    header = vocabulary_lines(predictor.vocab, model) if fmt == "table" else ""
    write = _Writer(fmt, timeline, out, plot_dir, header, predictor if predictor.has_attention else None)
    settings = {"window": window, "hop": hop, "threshold": threshold, "profile": profile,
                "allow_partial": allow_partial, "smooth": smooth}
    try:
        if files:  # a rerun with everything written starts no engine
            with opened_engine(engine, address, workers, gpus) as runner:
                n_failed += _run(files, predictor, runner, settings, write)
    finally:
        write.close()
    if n_failed:
        err.print(f"{n_failed} of {n_named} file(s) failed")
        raise typer.Exit(1)
