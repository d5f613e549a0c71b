"""The default model's card is written whole from its template, its checkpoint and its facts."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from saz.evaluation import card
from saz.models.checkpoint import Checkpoint
from saz.prediction import DEFAULT_CARD, DEFAULT_MODEL


def shipped():
    return Checkpoint.load(DEFAULT_MODEL), card.read_facts(card.facts_path(DEFAULT_CARD))


def test_the_shipped_card_is_its_facts_rendered():
    ckpt, facts = shipped()
    assert card.render(ckpt, facts) == DEFAULT_CARD.read_text()


def test_a_new_profile_rewrites_only_the_profile_section(tmp_path):
    ckpt, facts = shipped()
    lowered = np.asarray(ckpt.thresholds) * 0.5
    scores = {"v1_macro_f1": 0.5, "real_single_top1": 0.25, "real_poly_macro_f1_present": 0.75}
    updated = ckpt.with_profile("half", lowered, "every threshold halved", scores)
    before, after = DEFAULT_CARD.read_text(), card.render(updated, facts)
    assert "| half | every threshold halved | 0.500 | 25.0 % | 0.750 |" in after
    assert "Thresholds that 'half' moves: accordion 0.50 -> 0.25" in after
    assert before.split("## Threshold profiles")[0] == after.split("## Threshold profiles")[0]
    assert before.split("## Scores per class")[1] == after.split("## Scores per class")[1]


def test_without_profiles_or_windows_the_card_has_no_profile_section():
    ckpt, facts = shipped()
    bare = dataclasses.replace(ckpt, threshold_profiles={}, window_thresholds=None)
    text = card.render(bare, facts)
    assert "## Threshold profiles" not in text and "Prediction windows" not in text
    assert "\n\n## Scores per class\n" in text


def test_run_facts_say_how_the_model_was_trained_and_survive_json(tmp_path):
    ckpt, facts = shipped()
    run = card.CardRun(levers=("timbres",), train=100, fresh=False, samples=("samples",), recordings="none",
                       init="none", epochs=3, patience=9, ensemble_with=("a.pt",), tune_also=("val",))
    reports = {name: {"per_class": rows} for name, rows in facts["reports"].items()}
    new = card.run_facts(ckpt, run, facts["scores"], reports)
    path = card.write(ckpt, new, tmp_path / "m.md", card.facts_path(tmp_path / "m.md"))
    assert json.loads((tmp_path / "m.card.json").read_text()) == new
    text = path.read_text()
    assert "--levers timbres --train 100 --samples samples --ensemble-with a.pt --tune-also val" in text
    assert "- Started from scratch; " in text and "the validation clips of `val`" in text


def test_stopping_says_why_training_ended():
    info = {"best_epoch": 10, "epochs_run": 10}
    run = card.CardRun(levers=(), train=1, fresh=False, samples=(), recordings="", epochs=10, patience=3)
    assert card.stopping(info, run).startswith("stopped at the 10-epoch cap with validation still improving")
    assert card.stopping({"best_epoch": 2, "epochs_run": 5}, run).startswith("trained until validation stopped improving")
