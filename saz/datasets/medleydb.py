"""MedleyDB: multitrack recordings whose per-track YAML metadata names each stem's instrument.

Layout read (as the dataset unpacks, plus the metadata folder of the marl/medleydb repository)::

    Audio/<Track>/<Track>_METADATA.yaml       mix_filename, stem_dir, stems: {S01: {filename,
                                              instrument (a name or a list), component, raw}}
    Audio/<Track>/<Track>_MIX.wav             the mix
    Audio/<Track>/<Track>_STEMS/<file>.wav    the stems
    Audio/<Track>/<Track>_RAW/<file>.wav      the raw tracks (stems: {S01: {raw: {R01: {filename}}}})
    Metadata/<Track>_METADATA.yaml            the same YAMLs kept apart from the audio (optional)
    Annotations/Instrument_Activations/ACTIVATION_CONF/<Track>_ACTIVATION_CONF.lab
                                              time,S01,S02,... confidence per stem and frame

Per-track YAMLs inside Audio/ win over Metadata/ ones of the same track. ``level="mix"`` gives
one multi-label clip per mix (the instruments of all its stems), ``level="stem"`` one clip per
stem, ``level="raw"`` one per raw track (``<Track>_RAW/``, labelled with its stem's instrument);
``level="all"`` (or ``"mix,stem,raw"``) joins them, as the report's final dataset. Labels are the raw instrument names or the 17 macro-categories of the MedleyDB CNN report
(:data:`MACRO_CATEGORIES`). MedleyDB has no official split: ``split="iterative"`` (the default)
gives the report's 60/24/16 train/validation/test split, multilabel iterative stratification
over tracks (every clip of a track in one split; ``split_seed`` picks it), ``split="none"`` none.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from saz import audio
from saz.datasets.base import Dataset, DatasetError, clips_frame, register
from saz.datasets.splits import MEDLEYDB_RATIOS, stratified_split
from saz.labels import LabelSet, Vocabulary, normalise_name

ACTIVATION_DIR = Path("Annotations") / "Instrument_Activations" / "ACTIVATION_CONF"
METADATA_SUFFIX = "_METADATA.yaml"
EXCERPT_SR = 22050  # the report's loading rate, at which its first loud sample is found
TIME_TOLERANCE = 1e-6  # seconds of slack for float rounding and the 4-decimal activation times
HOP_TOLERANCE = 1e-3  # relative difference of hops across activation files still taken as equal

# The 17 macro-categories of the MedleyDB CNN report (section 2.3 and table 5.1) and the raw
# MedleyDB instrument names grouped under each. The report lists only part of its dictionary;
# its examples are kept as given (lap steel guitar -> acoustic guitars, saxophone -> woodwinds),
# and every other name of taxonomy.yaml is placed by its family there.
MACRO_CATEGORIES: dict[str, tuple[str, ...]] = {
    "acoustic guitars": ("acoustic guitar", "lap steel guitar", "slide guitar"),
    "bass": ("electric bass", "double bass"),
    "brass": (
        "trumpet", "cornet", "trombone", "french horn", "euphonium", "tuba", "brass section",
        "french horn section", "trombone section", "horn section", "trumpet section",
    ),
    "drums": ("drum set", "snare drum", "kick drum", "bass drum", "toms", "high hat", "cymbal", "drum machine"),
    "electric guitars": ("clean electric guitar", "distorted electric guitar"),
    "electronic fx": ("fx/processed sound", "scratches", "sampler", "crowd"),
    "electronic keys": ("electric piano", "electronic organ", "synthesizer", "theremin"),
    "folk guitars": ("banjo", "mandolin", "ukulele", "oud", "sitar", "liuqin", "zhongruan"),
    "free reed": ("harmonica", "concertina", "accordion", "bandoneon", "harmonium", "melodica", "pipe organ"),
    "harps": ("harp", "guzheng"),
    "percussion": (
        "auxiliary percussion", "tambourine", "shaker", "maracas", "cabasa", "cowbell", "triangle",
        "sleigh bells", "castanet", "claps", "snaps", "rattle", "guiro", "gong", "whistle", "bongo",
        "conga", "darbuka", "doumbek", "tabla", "gu",
    ),
    "piano": ("piano", "tack piano", "harpsichord"),
    "pitched percussion": (
        "glockenspiel", "vibraphone", "xylophone", "marimba", "chimes", "timpani", "yangqin", "dulcimer",
    ),
    "strings": (
        "violin", "viola", "cello", "erhu", "dilruba", "violin section", "viola section", "cello section",
        "string section",
    ),
    "system": ("Main System",),
    "voice": (
        "male singer", "female singer", "male speaker", "female speaker", "male rapper", "female rapper",
        "male screamer", "female screamer", "beatboxing", "vocalists", "choir",
    ),
    "woodwinds": (
        "flute", "flute section", "piccolo", "dizi", "bamboo flute", "panpipes", "recorder", "saxophone",
        "alto saxophone", "baritone saxophone", "tenor saxophone", "soprano saxophone", "clarinet",
        "bass clarinet", "clarinet section", "oboe", "english horn", "bassoon", "bagpipe", "woodwind section",
    ),
}
MACRO_OF: dict[str, str] = {normalise_name(raw): cat for cat, raws in MACRO_CATEGORIES.items() for raw in raws}

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class _Stem:
    id: str
    filename: str
    instruments: tuple[str, ...]
    raws: tuple[tuple[str, str], ...] = ()  # (raw id, filename) of the raw tracks the stem was mixed from


@dataclass(frozen=True)
class _Track:
    name: str
    meta: dict
    stems: tuple[_Stem, ...]

    @property
    def mix_filename(self) -> str:
        return str(self.meta.get("mix_filename") or f"{self.name}_MIX.wav")

    @property
    def stem_dir(self) -> str:
        return str(self.meta.get("stem_dir") or f"{self.name}_STEMS")

    @property
    def raw_dir(self) -> str:
        return str(self.meta.get("raw_dir") or f"{self.name}_RAW")


@dataclass(frozen=True)
class _Activation:
    times: np.ndarray
    columns: dict[str, np.ndarray]
    hop: float


def _parse_track(path: Path) -> _Track:
    """One metadata YAML as a track; raise ValueError saying what is wrong with it."""
    name = path.name[: -len(METADATA_SUFFIX)]
    try:
        meta = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ValueError(" ".join(str(e).split())) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("stems"), dict) or not meta["stems"]:
        raise ValueError("no 'stems' mapping")
    stems = []
    for sid, stem in sorted(meta["stems"].items(), key=lambda kv: str(kv[0])):
        inst = stem.get("instrument") if isinstance(stem, dict) else None
        names = [inst] if isinstance(inst, str) else inst
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ValueError(f"stem {sid} has no instrument name")
        if not isinstance(stem.get("filename"), str):
            raise ValueError(f"stem {sid} has no filename")
        raw = stem.get("raw") if isinstance(stem.get("raw"), dict) else {}
        raws = tuple((str(rid), r["filename"]) for rid, r in sorted(raw.items(), key=lambda kv: str(kv[0]))
                     if isinstance(r, dict) and isinstance(r.get("filename"), str))
        stems.append(_Stem(str(sid), stem["filename"], tuple(n.strip() for n in names), raws))
    return _Track(name, meta, tuple(stems))


def _read_tracks(root: Path, metadata_dir: str | Path | None, problems: list[str]) -> dict[str, _Track]:
    """Tracks from Audio/*/ YAMLs then the metadata folder, first readable one per track name."""
    md = root / "Metadata" if metadata_dir is None else Path(metadata_dir)
    if not md.is_absolute() and not md.is_dir():
        md = root / md
    if metadata_dir is not None and not md.is_dir():
        raise DatasetError(f"{md}: metadata_dir is not a folder (expected *{METADATA_SUFFIX} files)")
    paths = sorted((root / "Audio").glob(f"*/*{METADATA_SUFFIX}")) + sorted(md.glob(f"*{METADATA_SUFFIX}"))
    if not paths:
        raise DatasetError(
            f"{root}: not a MedleyDB root (expected Audio/<Track>/<Track>{METADATA_SUFFIX} "
            f"or {md}/<Track>{METADATA_SUFFIX})"
        )
    tracks: dict[str, _Track] = {}
    for path in paths:
        name = path.name[: -len(METADATA_SUFFIX)]
        if name in tracks:
            continue
        try:
            tracks[name] = _parse_track(path)
        except ValueError as e:
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            problems.append(f"{shown}: malformed metadata ({e})")
    return tracks


def _vocabulary(tracks: dict[str, _Track], labels: str, problems: list[str]) -> tuple[Vocabulary, dict[str, int]]:
    """The vocabulary and the class index of each (normalised) raw name; unmapped names are problems."""
    names = [n for t in tracks.values() for s in t.stems for n in s.instruments]
    raw = Counter(normalise_name(n) for n in names)
    if labels == "raw":
        vocab = Vocabulary.from_names(sorted(raw))
        return vocab, {n: vocab.names.index(n) for n in raw}
    vocab = Vocabulary.from_names(sorted(MACRO_CATEGORIES))
    spelling = {normalise_name(n): n for n in names}
    for name in sorted(raw.keys() - MACRO_OF.keys()):
        problems.append(f"instrument '{spelling[name]}' maps to no macro-category; ignored ({raw[name]} stems)")
    return vocab, {n: vocab.index(MACRO_OF[n]) for n in raw if n in MACRO_OF}


def _read_activation(path: Path) -> _Activation:
    """A ``time,S01,...`` activation file; raise ValueError if it is not one."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise ValueError(" ".join(str(e).split())) from None
    if len(df.columns) < 2 or df.columns[0].strip() != "time" or len(df) < 2:
        raise ValueError("expected a 'time,S01,...' header and at least two frames")
    try:
        values = df.to_numpy(dtype=np.float64)
    except ValueError:
        raise ValueError("non-numeric values") from None
    times = values[:, 0]
    hop = float((times[-1] - times[0]) / (len(times) - 1))
    if not hop > 0:
        raise ValueError("time column does not increase")
    return _Activation(times, {c.strip(): values[:, i] for i, c in enumerate(df.columns) if i}, hop)


def _track_activation(
    root: Path, track: _Track, hop: float | None, problems: list[str]
) -> _Activation | None:
    """The track's activation file if present and readable at ``hop`` (any hop when None)."""
    lab = root / ACTIVATION_DIR / f"{track.name}_ACTIVATION_CONF.lab"
    if not lab.is_file():
        return None
    where = lab.relative_to(root)
    try:
        act = _read_activation(lab)
    except ValueError as e:
        problems.append(f"{where}: unreadable activation file ({e})")
        return None
    if hop is not None and abs(act.hop - hop) > HOP_TOLERANCE * hop:
        problems.append(f"{where}: hop {act.hop:.4f} s differs from {hop:.4f} s of the other files; ignored")
        return None
    lacking = [s.id for s in track.stems if s.id not in act.columns]
    if lacking:
        problems.append(f"{where}: no column for {', '.join(lacking)}; their activity is NaN")
    return act


def _windows(duration: float, segment: float | None) -> list[tuple[float, float]]:
    """(offset, duration) of each clip; duration NaN for the whole file."""
    if segment is None:
        return [(0.0, math.nan)]
    n = int(math.floor(duration / segment + TIME_TOLERANCE))
    out = [(round(k * segment, 6), float(segment)) for k in range(n)]
    rest = duration - n * segment
    if rest >= segment / 2 - TIME_TOLERANCE:
        out.append((round(n * segment, 6), round(rest, 6)))
    return out


def _activity_centre(act: _Activation | None, stem_ids: list[str]) -> float | None:
    """The mean over ``stem_ids`` of the centre of each stem's active span (confidence >= 0.5,
    first to last frame): where the report starts a mix's excerpt; None without activity."""
    centres = []
    for sid in stem_ids:
        on = act.times[act.columns[sid] >= 0.5] if act is not None and sid in act.columns else []
        if len(on):
            centres.append((on[0] + on[-1]) / 2)
    return float(np.mean(centres)) if centres else None


def _first_loud(path: Path, threshold: float) -> float:
    """Seconds to the first sample above ``threshold`` of the file's peak (0 if none): where the
    report starts a stem's excerpt."""
    y, sr = audio.load(path, sr=EXCERPT_SR)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    loud = y > threshold * peak if peak > 0 else np.zeros(len(y), bool)
    return float(np.argmax(loud)) / sr if loud.any() else 0.0


def _clip_windows(path: Path, length: float, segment: float | None, excerpt: float | None, threshold: float,
                  centre: float | None) -> list[tuple[float, float]]:
    """(offset, duration) of each clip of a file: its ``segment``-second windows, or with
    ``excerpt`` one window from ``centre`` (mixes) or the first loud sample (else), kept inside the
    file when it is long enough; the reader of a short one pads it with silence (the report's 3.1)."""
    if excerpt is None:
        return _windows(length, segment)
    start = centre if centre is not None else _first_loud(path, threshold)
    if start + excerpt > length + TIME_TOLERANCE and length >= excerpt:
        start = length - excerpt
    elif start >= length:  # annotations past the audio (a cut file): from its start
        start = 0.0
    return [(round(start, 6), float(excerpt))]


def _clip_activity(
    act: _Activation, stems: list[tuple[str, list[int]]], start: float, end: float, n_classes: int
) -> np.ndarray:
    """(frames in [start, end), n_classes): per class the max over its stems; absent classes 0."""
    sel = (act.times >= start - TIME_TOLERANCE) & (act.times < end - TIME_TOLERANCE)
    out = np.zeros((int(sel.sum()), n_classes), dtype=np.float32)
    for _, classes in stems:
        out[:, classes] = np.nan
    for sid, classes in stems:
        if sid in act.columns:
            col = act.columns[sid][sel].astype(np.float32)
            for j in classes:
                out[:, j] = np.fmax(out[:, j], col)
    return out


def _missing(track: _Track, what: str, paths: dict[str, Path], folder: Path, root: Path, problems: list[str]) -> set[str]:
    """The ids of ``paths`` whose audio is absent, reported in one problem line for the track."""
    missing = [k for k, p in paths.items() if not p.exists()]
    if missing:
        problems.append(f"{track.name}: {what} audio not found for {len(missing)} of {len(paths)} {what}s "
                        f"({', '.join(missing)}) in {folder.relative_to(root)}")
    return set(missing)


def _units(
    root: Path, track: _Track, levels: tuple[str, ...], classes: dict[str, list[int]], problems: list[str]
) -> list[tuple[str, Path, _Stem | None, str]]:
    """(clip id, audio path, stem or None for the mix, level) of each audio file present at
    ``levels``; absent audio is a problem. A raw track is a clip of its stem's instruments."""
    folder = root / "Audio" / track.name
    units: list[tuple[str, Path, _Stem | None, str]] = []
    if "mix" in levels:
        path = folder / track.mix_filename
        if path.exists():
            units.append((f"{track.name}_MIX", path, None, "mix"))
        else:
            problems.append(f"{track.name}: mix audio not found ({path.relative_to(root)})")
    labelled = [s for s in track.stems if classes[s.id]]
    if "stem" in levels:
        paths = {s.id: folder / track.stem_dir / s.filename for s in track.stems}
        missing = _missing(track, "stem", paths, folder / track.stem_dir, root, problems)
        units += [(f"{track.name}_{s.id}", paths[s.id], s, "stem") for s in labelled if s.id not in missing]
    if "raw" in levels:
        paths = {f"{s.id}_{rid}": folder / track.raw_dir / f for s in track.stems for rid, f in s.raws}
        missing = _missing(track, "raw", paths, folder / track.raw_dir, root, problems) if paths else set()
        units += [(f"{track.name}_{s.id}_{rid}", paths[f"{s.id}_{rid}"], s, "raw") for s in labelled
                  for rid, _ in s.raws if f"{s.id}_{rid}" not in missing]
    return units


def levels_of(level: str) -> tuple[str, ...]:
    """The levels a ``level`` option names: one of mix, stem, raw, several joined by commas, or all."""
    names = LEVELS if level == "all" else tuple(dict.fromkeys(x.strip() for x in str(level).split(",")))
    if not names or any(n not in LEVELS for n in names):
        raise ValueError(f"level must be mix, stem, raw, several of them joined by commas, or all; got {level!r}")
    return names


SPLITS = ("iterative", "none")
LEVELS = ("mix", "stem", "raw")


def _validate_options(level: str, labels: str, segment: float | None, split: str = "iterative",
                      excerpt: float | None = None) -> None:
    if excerpt is not None and (segment is not None or not excerpt > 0):
        raise ValueError(f"excerpt must be a positive number of seconds, without segment, got {excerpt}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    levels_of(level)
    if labels not in ("raw", "macro"):
        raise ValueError(f"labels must be 'raw' or 'macro', got {labels!r}")
    if segment is not None and not segment > 0:
        raise ValueError(f"segment must be a positive number of seconds, got {segment}")


def _orphan_audio(root: Path, tracks: dict, problems: list[str]) -> None:
    """A problem line for each audio folder that no metadata file describes."""
    if (root / "Audio").is_dir():
        for d in sorted(p for p in (root / "Audio").iterdir() if p.is_dir()):
            if d.name not in tracks and not (d / f"{d.name}{METADATA_SUFFIX}").exists():
                problems.append(f"{d.relative_to(root)}: audio folder without metadata")


def _clip_row(clip_id: str, path: Path, offset: float, duration: float, segment: float | None, name: str,
              track, level: str, stem) -> dict:
    """One row of the clips table: the clip's audio window and its track's metadata."""
    return {
        "clip_id": clip_id if segment is None else f"{clip_id}@{offset}",
        "path": str(path.resolve()),
        "offset": offset,
        "duration": duration,
        "split": None,
        "track": name,
        "artist": track.meta.get("artist"),
        "genre": track.meta.get("genre"),
        "has_bleed": _yes_no(track.meta.get("has_bleed")),
        "instrumental": _yes_no(track.meta.get("instrumental")),
        "level": level,
        "stem_id": None if stem is None else stem.id,
        "instrument": None if stem is None else "|".join(stem.instruments),
    }


def _labels(label_rows: list[list[int]], acts: list[np.ndarray | None], n_classes: int,
            hop: float | None) -> tuple[np.ndarray, np.ndarray | None, float | None]:
    """Clip labels (n, classes), frame activity (n, frames, classes; NaN past a clip's end) and its rate."""
    y = np.zeros((len(label_rows), n_classes), dtype=np.float32)
    for i, js in enumerate(label_rows):
        y[i, js] = 1.0
    n_frames = max((len(a) for a in acts if a is not None), default=0)
    if not n_frames:
        return y, None, None
    activity = np.full((len(label_rows), n_frames, n_classes), np.nan, dtype=np.float32)
    for i, a in enumerate(acts):
        if a is not None:
            activity[i, : len(a)] = a
    return y, activity, 1.0 / hop


@register("medleydb", "MedleyDB multitracks: mixes (multi-label) or stems, raw or 17 macro classes, frame activity")
def load_medleydb(
    root: Path,
    *,
    level: str = "mix",
    labels: str = "raw",
    segment: float | None = None,
    metadata_dir: str | Path | None = None,
    split: str = "iterative",
    split_seed: int = 0,
    excerpt: float | None = None,
    excerpt_threshold: float = 0.1,
) -> Dataset:
    """MedleyDB mixes or stems with raw or macro labels, optionally cut into ``segment``-second
    clips or one ``excerpt``-second clip per file (the report's 15 s), split 60/24/16 over tracks
    (``split="none"``: unsplit)."""
    _validate_options(level, labels, segment, split, excerpt)
    root = Path(root)
    problems: list[str] = []
    tracks = _read_tracks(root, metadata_dir, problems)
    vocab, class_of = _vocabulary(tracks, labels, problems)
    _orphan_audio(root, tracks, problems)
    rows: list[dict] = []
    label_rows: list[list[int]] = []
    acts: list[np.ndarray | None] = []
    hop: float | None = None
    for name, track in sorted(tracks.items()):
        classes = {s.id: sorted({class_of[n] for n in map(normalise_name, s.instruments) if n in class_of})
                   for s in track.stems}
        units = _units(root, track, levels_of(level), classes, problems)
        if not units:
            continue
        act = _track_activation(root, track, hop, problems)
        hop = act.hop if hop is None and act is not None else hop
        for clip_id, path, stem, unit_level in units:
            stem_ids = [s.id for s in track.stems] if stem is None else [stem.id]
            try:
                length = audio.info(path).duration
            except audio.AudioError as e:
                problems.append(f"{name}: {e}")
                continue
            centre = _activity_centre(act, stem_ids) if stem is None else None
            for offset, duration in _clip_windows(path, length, segment, excerpt, excerpt_threshold, centre):
                rows.append(_clip_row(clip_id, path, offset, duration, segment, name, track, unit_level, stem))
                label_rows.append(sorted({j for sid in stem_ids for j in classes[sid]}))
                end = length if math.isnan(duration) else offset + duration
                acts.append(None if act is None else _clip_activity(
                    act, [(sid, classes[sid]) for sid in stem_ids], offset, end, len(vocab)))
    y, activity, frame_rate = _labels(label_rows, acts, len(vocab), hop)
    clips = clips_frame(rows)
    if split == "iterative" and rows:
        clips["split"] = stratified_split(y, MEDLEYDB_RATIOS, groups=clips["track"], seed=int(split_seed))
    return Dataset("medleydb", root, clips, LabelSet(vocab, y, activity, frame_rate), problems)


def _yes_no(value: object) -> bool | None:
    """The metadata's 'yes'/'no' flags as booleans (None when absent or unrecognised)."""
    if isinstance(value, bool):
        return value
    return {"yes": True, "no": False}.get(str(value).strip().lower()) if value is not None else None


def track_metadata(root: str | Path, metadata_dir: str | Path | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every track of the metadata, audio or not (the genre analyses of medleydb-cnn-report.txt
    chapter 6 need no audio): one row per track with ``track``, ``genre``, ``instruments`` (its
    stems' raw names, normalised, sorted) and ``macro`` (their macro-categories); and the problems."""
    problems: list[str] = []
    tracks = _read_tracks(Path(root), metadata_dir, problems)
    rows = []
    for name, track in sorted(tracks.items()):
        raw = sorted({normalise_name(n) for s in track.stems for n in s.instruments})
        rows.append({"track": name, "genre": str(track.meta.get("genre") or "unknown"), "instruments": raw,
                     "macro": sorted({MACRO_OF[n] for n in raw if n in MACRO_OF})})
    return pd.DataFrame(rows, columns=["track", "genre", "instruments", "macro"]), problems
