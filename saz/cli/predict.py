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
from saz.progress import progress_bar

if TYPE_CHECKING:
    from saz.prediction import Prediction

FORMATS = ("table", "json", "csv")


def format_result(pred: Prediction, fmt: str, timeline: bool, first: bool) -> str:
    """One file's result as text in ``fmt`` (csv carries its header on the first file)."""
    if fmt == "json":
        return pred.to_json(timeline) + "\n"
    rows = []
    if fmt == "csv":
        if first:
            rows.append("source,instrument,start,end,confidence" if timeline else "source,instrument,probability")
        src = '"' + pred.source.replace('"', '""') + '"'
        if timeline:
            rows += [f"{src},{s.instrument},{s.start:.3f},{s.end:.3f},{s.confidence:.4f}" for s in pred.segments]
        else:
            rows += [f"{src},{n},{p:.4f}" for n, p in pred.present]
        return "".join(r + "\n" for r in rows)
    lines = [f"{pred.source} ({pred.duration:.1f} s)"]
    lines += [f"  {n:<20} {p:.2f}" for n, p in pred.present] or ["  (no instrument detected)"]
    if timeline:
        lines += ["  segments:"] + [f"    {s.instrument:<18} {s.start:8.2f} {s.end:8.2f}  {s.confidence:.2f}" for s in pred.segments]
    return "\n".join(lines) + "\n"


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
    """Writes each result to standard output, to the ``--out`` file (synced) and as a plot."""

    def __init__(self, fmt: str, timeline: bool, sink: IO[str] | None, plot_dir: Path | None) -> None:
        self.fmt, self.timeline, self.sink, self.plot_dir = fmt, timeline, sink, plot_dir
        self.wrote = False
        self.stems: dict[str, int] = {}

    def __call__(self, pred: Prediction) -> None:
        text = format_result(pred, self.fmt, self.timeline, first=not self.wrote)
        self.wrote = True
        print(text, end="", flush=True)
        if self.sink is not None:
            self.sink.write(text)
            self.sink.flush()
            os.fsync(self.sink.fileno())
        if self.plot_dir is not None:
            from saz.prediction import plot

            stem = Path(pred.source).stem
            self.stems[stem] = self.stems.get(stem, 0) + 1
            name = stem if self.stems[stem] == 1 else f"{stem}-{self.stems[stem]}"
            plot(pred, self.plot_dir / f"{name}.png")


def predict(
    paths: List[Path] = typer.Argument(..., help="Audio files and/or folders (searched recursively)."),
    model: str = typer.Option("default", "--model", "-m", help="'default' (bundled) or a checkpoint file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (one object per line) | csv."),
    timeline: bool = typer.Option(False, "--timeline", help="Per-window probabilities and merged segments."),
    plot_dir: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG per file (waveform + activity map) here."),
    window: Optional[float] = typer.Option(None, help="Window length in seconds (default: the model's clip length)."),
    hop: Optional[float] = typer.Option(None, help="Hop in seconds (default: half the window)."),
    threshold: Optional[float] = typer.Option(None, help="One threshold for every class (default: the model's tuned ones)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="A threshold profile the model ships instead of its "
                                          "tuned thresholds, e.g. 'sensitive' (`saz models info` lists them)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also append results to this file as each file finishes."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Score the part of a truncated or corrupt file "
                                       "that decodes, with a warning, instead of failing it."),
    trust: bool = trust_option(),
) -> None:
    """Which instruments play in each recording, how sure, and (with --timeline) when."""
    from saz.prediction import predict_many

    if fmt not in FORMATS:
        fail(f"unknown format '{fmt}' (table, json or csv)", code=2)
    files, n_failed = _inputs(paths)
    n_named = len(files) + n_failed
    if threshold is not None and profile is not None:
        fail("--threshold and --profile both set thresholds: give one", code=2)
    predictor = load_model(model, profile, trust)
    sink = open(out, "a", encoding="utf-8") if out is not None else None
    write = _Writer(fmt, timeline, sink, plot_dir)
    try:
        with reported(ValueError, code=2), progress_bar() as bar:
            task = bar.add_task("predict", total=len(files), info="", visible=len(files) > 1)
            for pred in predict_many(files, predictor, window=window, hop=hop, threshold=threshold, profile=profile,
                                     allow_partial=allow_partial):
                bar.advance(task)
                if _report(pred):
                    write(pred)
                else:
                    n_failed += 1
    finally:
        if sink is not None:
            sink.close()
    if n_failed:
        err.print(f"{n_failed} of {n_named} file(s) failed")
        raise typer.Exit(1)
