"""Where does the default lose on real polyphonic audio? Mixing texture, recorded sound, or unheard sources.

    python benchmarks/unheard_gap.py --work DIR --tune-also RECIPEVAL BENCHVAL [--n 400]
        [--samples ../shared/samples NPM SALAMANDER] [--also NAME=CHECKPOINT ...]

The `real` set's polyphonic clips are held-out recordings of single notes mixed by
:func:`saz.synth.library.pool_mixtures` (notes one after another with silence between them), and
the shipped thresholds were tuned on rendered clips (``--tune-also``: saz-bench-format folders
whose validation clips they were tuned on). Between the two, three things change at once. This
script separates them with mixtures made exactly as the real set makes them, of:

- ``heard SoundFont notes``: single notes of every class's presets in the SoundFonts the recipes
  use (never TimGM6mb), so texture alone changes;
- ``heard recordings``: the training side of ``--samples`` (recordings the default's members
  heard), so texture and recorded sound change;
- ``unheard patches``: Debian's freepats (:mod:`saz.synth.patches`), which no member heard;

and scores the shipped default on each (macro F1 over the classes present at its own thresholds,
mAP, and per class the median probability of a present class), beside the validation clips and
the real polyphonic clips (read for this diagnosis only; nothing here is chosen on them).

It tunes thresholds over both textures of heard sources, to see what they would move (validation
clips only). It then asks whether a clip's source can be told without labels, which a threshold switch
(rendered: the tuned thresholds, recorded: the ``sensitive`` profile) would need: a logistic
regression on log-mel statistics (per band: mean, standard deviation, mean absolute change,
10-90 % range) trained to tell recorded from rendered clips in one texture and tested in the
other (ROC AUC; in its own texture by cross-validation). Only validation clips are used.

``--also`` scores other checkpoints on the same clips (e.g. an ablation row and its reference), to see
whether a lever moves what it was built to move.

Results: ``benchmarks/results/unheard_gap.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from saz import io, plots
from saz.datasets import load
from saz.datasets.base import Dataset
from saz.evaluation.calibration import threshold_moves
from saz.evaluation.compare import macro_f1_present
from saz.evaluation.realset import load_real
from saz.evaluation.scoring import whole_clip_probabilities
from saz.evaluation.suite import REAL_MIXES
from saz.features.dataset import dataset_features
from saz.labels import binarize
from saz.metrics import evaluate, tune_thresholds
from saz.models.predictor import Predictor
from saz.prediction import load_predictor
from saz.progress import log
from saz.synth.fluid import Note, Renderer
from saz.synth.instruments import class_presets
from saz.synth.library import mixture_dataset
from saz.synth.patches import patch_mixtures
from saz.synth.recipes import BASE_SOUNDFONTS
from saz.synth.soundfont import find_soundfont
from saz.synth.sources import real_pool
from saz.vocabulary import load_map

SEED = 20261202
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
HEARD_SOUNDFONTS = (*BASE_SOUNDFONTS, "sf_GMbank")  # the recipes' SoundFonts (TimGM6mb stays unseen)
NOTES_PER_PRESET = 6
SR = 22050


def soundfont_notes(out: Path, soundfonts: tuple[str, ...] = HEARD_SOUNDFONTS) -> list[tuple[str, str, str]]:
    """Pool entries of single 2-s notes of each class's first two presets in each SoundFont (random
    pitch in the class's range or key of its kit, random length and velocity), written once."""
    imap, entries = load_map(), []
    for name in soundfonts:
        path = find_soundfont(name)
        renderer = Renderer(path, SR)
        rng = np.random.default_rng([SEED, *name.encode()])
        try:
            for cls, ic in imap.items():
                for preset in class_presets(path, ic)[:2]:
                    for k in range(NOTES_PER_PRESET):
                        pitch = int(rng.choice(ic.drum_notes)) if ic.is_drum else int(rng.integers(ic.range[0], ic.range[1] + 1))
                        note = Note(0.0, float(rng.uniform(0.6, 1.8)), pitch, int(rng.integers(60, 121)))
                        f = out / name / cls / f"{preset.bank}_{preset.program}_{k}.wav"
                        if not f.exists():
                            y = renderer.render([note], preset, 2.0)
                            f.parent.mkdir(parents=True, exist_ok=True)
                            tmp = f.with_suffix(".tmp.wav")
                            sf.write(tmp, y, SR, subtype="PCM_16")
                            os.replace(tmp, f)
                        entries.append((str(f), cls, name))
        finally:
            renderer.close()
    return entries


def recorded_share(ds: Dataset) -> np.ndarray | None:
    """Per clip of a rendered folder, the share of its stems played by recordings (None: no record)."""
    if "presets" not in ds.clips:
        return None
    shares = []
    for text in ds.clips["presets"].fillna("").astype(str):
        kinds = [item.split("=", 1)[1] for item in text.split(";") if "=" in item]
        shares.append(np.mean([k == "recorded" for k in kinds]) if kinds else np.nan)
    return np.asarray(shares)


def band_statistics(X: np.ndarray) -> np.ndarray:
    """Per mel band over time: mean, standard deviation, mean absolute change and 10-90 % range."""
    X = X.astype(np.float32).reshape(len(X), -1, X.shape[-1])
    lo, hi = np.percentile(X, [10, 90], axis=2)
    return np.concatenate([X.mean(2), X.std(2), np.abs(np.diff(X, axis=2)).mean(2), hi - lo], axis=1)


def cross_texture_auc(rendered: dict[str, np.ndarray], recorded: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """ROC AUC of a recorded-vs-rendered classifier fitted in one texture and scored in each (in its
    own texture by 5-fold cross-validation, so no clip is scored by a fit that saw it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def labelled(texture: str) -> tuple[np.ndarray, np.ndarray]:
        X = np.concatenate([rendered[texture], recorded[texture]])
        return X, np.r_[np.zeros(len(rendered[texture])), np.ones(len(recorded[texture]))]

    def model():
        return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))

    out = {}
    for fit_on in rendered:
        X, y = labelled(fit_on)
        clf = model().fit(X, y)
        out[fit_on] = {}
        for test_on in rendered:
            if test_on == fit_on:
                folds = StratifiedKFold(5, shuffle=True, random_state=0)
                p = cross_val_predict(model(), X, y, cv=folds, method="predict_proba")[:, 1]
                out[fit_on][test_on] = float(roc_auc_score(y, p))
            else:
                Xt, yt = labelled(test_on)
                out[fit_on][test_on] = float(roc_auc_score(yt, clf.predict_proba(Xt)[:, 1]))
    return out


def scored(pred: Predictor, sets: dict[str, Dataset], work: Path) -> tuple[dict, dict, dict, dict, dict]:
    """For each set, as ``saz predict`` hears its clips: scores at the predictor's thresholds, the
    median probability of each present class (5 positives or more), log-mel band statistics, the
    clips' recorded shares, and their labels and probabilities."""
    rows, medians, feats, shares, outputs = {}, {}, {}, {}, {}
    for name, ds in sets.items():
        X, y, ok, _ = dataset_features(ds, pred.feature, pred.seconds, work / "features", progress=False)
        prob = pred.probabilities(X)
        whole_clip_probabilities(pred, ds.clips[ok], prob)
        truth = binarize(y, 0.5)
        r = evaluate(truth, prob, pred.vocab, pred.thresholds)
        rows[name] = {"clips": int(len(truth)), "macro_f1_present": macro_f1_present(r), "map": r.map,
                      "classes_present": int(((truth == 1).sum(0) > 0).sum())}
        medians[name] = [float(np.median(prob[truth[:, j] == 1, j])) if (truth[:, j] == 1).sum() >= 5 else None
                         for j in range(truth.shape[1])]
        feats[name], shares[name] = band_statistics(X), recorded_share(ds.subset(np.flatnonzero(ok)))
        outputs[name] = (truth, prob)
        log(f"{pred.name} on {name}: macro F1 over present classes {rows[name]['macro_f1_present']:.3f}, mAP {r.map:.3f}")
    return rows, medians, feats, shares, outputs


def both_textures(pred: Predictor, outputs: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Thresholds tuned for F1 on the validation clips of heard sources in both textures (the clips
    the shipped thresholds were tuned on and the two isolated-note mixtures of heard sources),
    against the shipped ones, scored on the validation sets only."""
    tuned_on = ("recipe validation", "saz-bench validation", "heard SoundFont notes", "heard recordings")
    t = tune_thresholds(np.concatenate([outputs[k][0] for k in tuned_on]), np.concatenate([outputs[k][1] for k in tuned_on]))
    scores = {k: [macro_f1_present(evaluate(y, p, pred.vocab, th)) for th in (pred.thresholds, t)]
              for k, (y, p) in outputs.items() if "test" not in k}
    return {"moves": threshold_moves(list(pred.vocab.names), pred.thresholds, t), "macro_f1_shipped_vs_both": scores}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="notes, mixtures and features")
    ap.add_argument("--tune-also", type=Path, nargs=2, required=True, metavar=("RECIPEVAL", "BENCHVAL"),
                    help="the saz-bench-format folders whose validation clips the shipped thresholds were tuned on")
    ap.add_argument("--samples", type=Path, nargs="+", default=[SHARED / "samples"],
                    help="the real sources the default's members heard (their training side is mixed)")
    ap.add_argument("--n", type=int, default=400, help="mixtures per source kind")
    ap.add_argument("--also", nargs="*", default=[], metavar="NAME=CHECKPOINT",
                    help="other checkpoints to score on the same clips (e.g. two ablation rows)")
    ap.add_argument("--shared", type=Path, default=SHARED, help="the folder the real set is read from (samples/, fixtures/)")
    args = ap.parse_args()
    work = args.work.resolve()
    pred = load_predictor("default")
    names = list(pred.vocab.names)
    log("rendering heard SoundFont notes and mixing")
    sets = {"recipe validation": load("saz-bench", args.tune_also[0]).subset("validation"),
            "saz-bench validation": load("saz-bench", args.tune_also[1]).subset("validation"),
            "heard SoundFont notes": mixture_dataset(soundfont_notes(work / "notes"), args.n, work / "lg-soundfont", SEED + 1, "sfnotes"),
            "heard recordings": mixture_dataset([e for e in real_pool(args.samples, names) if e[1]], args.n, work / "lg-recorded",
                                         SEED + 2, "recorded"),
            "unheard patches": patch_mixtures(Path("/usr/share/midi/freepats"), args.n, work / "unheard", SEED)}
    real = load_real(args.shared, mixes=REAL_MIXES, cache=str(work / "real-mix"))
    sets["real polyphonic (test)"] = real.subset(np.flatnonzero(real.clips["split"].isin(["mix", "band"]).to_numpy()))
    rows, medians, feats, shares, outputs = scored(pred, sets, work)
    textures = both_textures(pred, outputs)
    recipe_share = shares["recipe validation"]
    rendered = {"saz-bench texture": np.concatenate([feats["saz-bench validation"], feats["recipe validation"][recipe_share == 0]]),
                "isolated notes": feats["heard SoundFont notes"]}
    recorded = {"saz-bench texture": feats["recipe validation"][recipe_share == 1], "isolated notes": feats["heard recordings"]}
    auc = cross_texture_auc(rendered, recorded)
    sizes = {k: [len(rendered[k]), len(recorded[k])] for k in rendered}
    log(f"source detector AUC: {auc}")
    others = {}
    for item in args.also:
        label, _, path = item.partition("=")
        o_rows, o_medians, *_ = scored(Predictor.load(path), sets, work)
        others[label] = {"checkpoint": path, "sets": o_rows, "median_positive_probability": o_medians}
    io.write_json(RESULTS / "unheard_gap.json", {"sets": rows, "median_positive_probability": medians, "classes": names,
                                                  "thresholds": [float(t) for t in pred.thresholds],
                                                  "detector_auc": auc, "detector_clips": sizes, "both_textures": textures,
                                                  "also": others})
    write_markdown(rows, medians, names, pred.thresholds, auc, sizes, textures, others, args)
    matrix = np.array([[np.nan if v is None else v for v in medians[k]] for k in sets])
    fig = plots.heatmap(np.r_[matrix, pred.thresholds[None]], [*sets, "threshold"], names,
                        "Median probability the default gives a present class", fmt="{:.2f}", cmap="viridis")
    io.save_figure(RESULTS / "unheard_gap.png", fig)
    plots.close(fig)
    log(f"-> {RESULTS / 'unheard_gap.md'}")


def write_markdown(rows: dict, medians: dict, names: list[str], thresholds: np.ndarray, auc: dict, sizes: dict,
                   textures: dict, others: dict, args: argparse.Namespace) -> None:
    lines = ["# Where the default loses on real polyphonic audio", "",
             f"Written by `python benchmarks/unheard_gap.py --work DIR --tune-also RECIPEVAL BENCHVAL --n {args.n}"
             + (" --also " + " ".join(f"{label}=CHECKPOINT" for label in others) if others else "") + "` "
             "(see its docstring; RECIPEVAL and BENCHVAL as in `docs/default-model.md`). The bundled default at its own "
             "thresholds; the mixtures are made as the `real` set makes its mixtures of held-out recordings.", "",
             "| clips | texture | sound | heard by the members | n | classes present | macro F1 over present | mAP |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    kinds = {"recipe validation": ("rendered parts", "SoundFonts and recordings", "yes"),
             "saz-bench validation": ("rendered parts", "SoundFonts", "yes"),
             "heard SoundFont notes": ("isolated notes", "SoundFonts", "yes"),
             "heard recordings": ("isolated notes", "recordings", "yes"),
             "unheard patches": ("isolated notes", "recorded patches (freepats)", "no"),
             "real polyphonic (test)": ("isolated notes, 2 band excerpts", "recordings", "no")}
    for name, r in rows.items():
        t, s, h = kinds[name]
        lines.append(f"| {name} | {t} | {s} | {h} | {r['clips']} | {r['classes_present']} | {r['macro_f1_present']:.3f} | {r['map']:.3f} |")
    lines += ["", "Median probability of a present class (classes with at least 5 positives in the set; "
              "`unheard_gap.png` draws it):", "",
              "| class | threshold | " + " | ".join(rows) + " |", "| --- | --- | " + " | ".join("---" for _ in rows) + " |"]
    for j, c in enumerate(names):
        cells = [f"{medians[k][j]:.2f}" if medians[k][j] is not None else "" for k in rows]
        lines.append(f"| {c} | {thresholds[j]:.2f} | " + " | ".join(cells) + " |")
    lines += ["", "Can a clip's source be told without labels? ROC AUC of a recorded-vs-rendered logistic regression on "
              "log-mel band statistics, fitted in one texture (rows) and scored in each (columns; in its own "
              "texture by 5-fold cross-validation). 0.5 is chance:", "",
              "| fitted on | " + " | ".join(auc) + " |", "| --- | " + " | ".join("---" for _ in auc) + " |"]
    for fit_on, scores in auc.items():
        lines.append(f"| {fit_on} ({sizes[fit_on][0]} rendered, {sizes[fit_on][1]} recorded) | "
                     + " | ".join(f"{v:.3f}" for v in scores.values()) + " |")
    lines += ["", "Thresholds tuned for F1 over both textures of heard sources (the clips the shipped ones were tuned on "
              "and the isolated-note mixtures of heard SoundFonts and recordings; validation clips only, not scored on "
              "any test): " + ", ".join(textures["moves"]) + ". Macro F1 over present classes, shipped -> both textures:", "",
              "| clips | shipped | tuned over both textures |", "| --- | --- | --- |"]
    lines += [f"| {k} | {a:.3f} | {b:.3f} |" for k, (a, b) in textures["macro_f1_shipped_vs_both"].items()]
    if others:
        lines += ["", "Other checkpoints (`--also`; an ablation row's is `WORK/rows/ROW/run/model.pt` of "
                  "`benchmarks/generalisation.py`) on the same clips, each at its own thresholds: macro F1 over present "
                  "classes / mAP:", "", "| checkpoint | " + " | ".join(rows) + " |",
                  "| --- | " + " | ".join("---" for _ in rows) + " |"]
        for label, o in others.items():
            lines.append(f"| {label} | " + " | ".join(f"{r['macro_f1_present']:.3f} / {r['map']:.3f}"
                                                      for r in o["sets"].values()) + " |")
    io.write_text(RESULTS / "unheard_gap.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
