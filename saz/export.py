"""A :class:`saz.prediction.Prediction` as text: the output formats of ``saz predict --format``.

Each format is one function registered in :data:`FORMATS` under its name, so a new format is one
more function. Two kinds:

* *stream* formats (``table``, ``json``, ``csv``) write the results of many recordings one after
  another (``--out FILE`` appends them); ``--timeline`` adds the timeline; the table says once per
  run which instruments the model knows and which of a tradition's it does not
  (:func:`vocabulary_lines`; a JSON line's ``vocabulary``), and when a file's probabilities look
  unlike training (``Prediction.hesitation``; a JSON line's ``unlike_training``);
* *document* formats write one whole file per recording, always with its segments, for a tool that
  imports it (``--out DIR`` gets ``<stem><suffix>`` per recording): an Audacity label track
  (``audacity``), a Sonic Visualiser region layer (``sv``), ELAN tiers (``elan``) and JAMS
  (``jams``, with the optional ``jams`` package: ``pip install 'saz[timeline]'``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from saz._version import __version__

if TYPE_CHECKING:
    import jams

    from saz.labels import Vocabulary
    from saz.prediction import Prediction

CSV_HEADER = "source,instrument,probability"
CSV_TIMELINE_HEADER = "source,instrument,start,end,probability"  # one row per window and instrument
SV_HEADER = "time,value,duration,label"  # Sonic Visualiser's own layout of a region layer


@dataclass(frozen=True)
class Format:
    """How one format writes a result: ``text(pred, timeline, first)`` for a stream format (``first``:
    the first result written, which carries a header), ``text(pred)`` for a document format, which
    has a file ``suffix`` and may need an optional ``package``."""

    text: Callable[..., str]
    suffix: str | None = None
    package: str | None = None

    @property
    def per_recording(self) -> bool:
        """Whether each recording gets a file of its own (a document format)."""
        return self.suffix is not None

    def render(self, pred: Prediction, timeline: bool = False, first: bool = True) -> str:
        """``pred`` as this format's text."""
        return self.text(pred) if self.per_recording else self.text(pred, timeline, first)

    def missing(self) -> str | None:
        """Why this format cannot be written here (its package is not installed), or None."""
        if self.package is None or importlib.util.find_spec(self.package) is not None:
            return None
        return f"this format needs the '{self.package}' package: pip install 'saz[timeline]'"


FORMATS: dict[str, Format] = {}


def stream(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorator: register ``fn(pred, timeline, first) -> str`` as the stream format ``name``."""
    def wrap(fn: Callable[..., str]) -> Callable[..., str]:
        FORMATS[name] = Format(fn)
        return fn
    return wrap


def document(name: str, suffix: str, package: str | None = None) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorator: register ``fn(pred) -> str`` as the document format ``name``, written to
    ``<stem><suffix>`` files (needing ``package``, if given)."""
    def wrap(fn: Callable[..., str]) -> Callable[..., str]:
        FORMATS[name] = Format(fn, suffix, package)
        return fn
    return wrap


TEACH = "to add an instrument, teach it from a few of your recordings: saz teach EXAMPLES --out MINE.pt"


def vocabulary_lines(vocab: Vocabulary, model: str) -> str:
    """The table's lines, once per run, on the instruments ``model`` knows and those it does not."""
    from saz.vocabulary import known_and_absent

    field = known_and_absent(vocab)
    names = field["instruments"]
    lines = [f"{model} knows {len(names)} instruments (saz models info {model}): {', '.join(names)}"]
    if field["not_in_vocabulary"]:
        lines.append("not in its vocabulary (for these it answers with the nearest instrument it knows):")
        lines += [f"  {label}: {', '.join(absent)}" for label, absent in field["not_in_vocabulary"].items()]
        lines.append(TEACH)
    return "".join(line + "\n" for line in lines)


@stream("table")
def table(pred: Prediction, timeline: bool, first: bool) -> str:
    """For reading: the instruments present and their probabilities, a line when the pattern looks
    unlike training (with ``timeline``, the segments)."""
    lines = [f"{pred.source} ({pred.duration:.1f} s)"]
    lines += [f"  {n:<20} {p:.2f}" for n, p in pred.present] or ["  (no instrument detected)"]
    if pred.hesitation is not None:
        lines.append(f"  unlike its training: {pred.hesitation}; what plays may be outside its vocabulary")
    if timeline:
        lines += ["  segments:"] + [f"    {s.instrument:<18} {s.start:8.2f} {s.end:8.2f}  {s.confidence:.2f}" for s in pred.segments]
    return "\n".join(lines) + "\n"


@stream("json")
def json_line(pred: Prediction, timeline: bool, first: bool) -> str:
    """One line of JSON (:meth:`saz.prediction.Prediction.to_json`)."""
    return pred.to_json(timeline) + "\n"


def written_sources(path: str | Path) -> set[str]:
    """The recordings whose JSON line the ``--out`` file ``path`` already holds (none if it does not
    exist), so that a rerun does only the rest. A last line cut short (a run killed while writing it)
    is removed first: its recording is done again, and no torn line stays in the file."""
    import json

    p = Path(path)
    if not p.is_file():
        return set()
    data = p.read_bytes()
    whole = data[:data.rfind(b"\n") + 1]
    if len(whole) < len(data):
        with open(p, "r+b") as f:
            f.truncate(len(whole))
    return {json.loads(line)["source"] for line in whole.decode("utf-8").splitlines() if line.strip()}


@stream("csv")
def csv_rows(pred: Prediction, timeline: bool, first: bool) -> str:
    """A row per instrument present (:data:`CSV_HEADER`) or, with ``timeline``, a row per window and
    instrument (:data:`CSV_TIMELINE_HEADER`, every window's probability); the header comes first."""
    src = '"' + pred.source.replace('"', '""') + '"'
    if timeline:
        rows = [f"{src},{n},{start:.3f},{pred.window_end(k):.3f},{p:.4f}"
                for k, start in enumerate(pred.window_starts) for n, p in zip(pred.classes, pred.window_probabilities[k])]
    else:
        rows = [f"{src},{n},{p:.4f}" for n, p in pred.present]
    header = [CSV_TIMELINE_HEADER if timeline else CSV_HEADER] if first else []
    return "".join(r + "\n" for r in header + rows)


@document("audacity", ".audacity.txt")
def audacity(pred: Prediction) -> str:
    """An Audacity label track (File > Import > Labels): ``start<TAB>end<TAB>instrument`` per segment."""
    return "".join(f"{s.start:.6f}\t{s.end:.6f}\t{s.instrument}\n" for s in pred.segments)


@document("sv", ".sv.csv")
def sonic_visualiser(pred: Prediction) -> str:
    """A Sonic Visualiser region layer (File > Import Annotation Layer), in the layout it exports
    regions in (:data:`SV_HEADER`): start, confidence as the value, duration, instrument as the label."""
    rows = [f"{s.start:.6f},{s.confidence:.4f},{s.end - s.start:.6f},{s.instrument}" for s in pred.segments]
    return "".join(r + "\n" for r in [SV_HEADER, *rows])


@document("elan", ".elan.txt")
def elan(pred: Prediction) -> str:
    """Tab-delimited text for ELAN (File > Import > CSV / Tab-delimited Text File): ``tier<TAB>begin
    <TAB>end<TAB>annotation``, a tier per instrument (an ELAN tier holds no overlapping
    annotations), each annotation the segment's confidence; times in seconds."""
    return "".join(f"{s.instrument}\t{s.start:.3f}\t{s.end:.3f}\t{s.confidence:.2f}\n" for s in pred.segments)


def to_jams(pred: Prediction) -> jams.JAMS:
    """``pred``'s segments as a JAMS document: one ``tag_open`` annotation (saz's classes are no
    closed instrument vocabulary of JAMS) with an observation per segment (time, duration,
    instrument, confidence), and in its sandbox how they were read."""
    import jams

    jam = jams.JAMS(file_metadata=jams.FileMetadata(title=Path(pred.source).name, duration=pred.duration))
    how = {"window": pred.window, "hop": pred.hop, "thresholds_from": pred.thresholds_from, "smooth": pred.smooth}
    ann = jams.Annotation("tag_open", time=0.0, duration=pred.duration, sandbox=jams.Sandbox(**how),
                          annotation_metadata=jams.AnnotationMetadata(data_source="saz predict",
                                                                      annotation_tools=f"saz {__version__}"))
    for s in pred.segments:
        ann.append(time=s.start, duration=s.end - s.start, value=s.instrument, confidence=round(s.confidence, 4))
    jam.annotations.append(ann)
    return jam


@document("jams", ".jams", package="jams")
def jams_document(pred: Prediction) -> str:
    """:func:`to_jams` as one line of JSON, which ``jams.load`` reads."""
    return to_jams(pred).dumps() + "\n"
