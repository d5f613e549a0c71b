"""saz.models.describe: what `saz models info` says about a model and a checkpoint."""

import numpy as np

from saz.models.checkpoint import Checkpoint
from saz.models.describe import checkpoint_summary, model_description


def test_a_registered_model_is_described_by_its_module():
    heading, doc = model_description("saznet")
    assert heading.startswith("(spectrogram input; source: ") and doc.startswith("saznet: saz's own model")


def test_a_checkpoint_summary_has_its_thresholds_profiles_and_windows(model):
    ckpt = Checkpoint.load(model).with_profile("everything", np.zeros(3), "every class passes")
    ckpt = ckpt.with_window_thresholds({1.0: np.full(3, 0.25)}, "tuned on three clips")
    s = checkpoint_summary(ckpt)
    assert s.model == "saznet" and s.heading.startswith("checkpoint (saz ") and s.heading.endswith(", protocol auto")
    assert s.feature.startswith("feature: feature=logmel, ") and "n_mels=64" in s.feature and s.feature.endswith("; 2-s clips")
    assert s.columns == ["class", "threshold", "'everything' profile"]
    assert [r[0] for r in s.rows] == ["tar", "ney", "daf"] and all(r[2] == "0.00" for r in s.rows)
    assert [float(r[1]) for r in s.rows] == [round(float(t), 2) for t in ckpt.thresholds]
    assert s.notes[0] == "threshold profile 'everything' (saz predict --profile everything): every class passes"
    assert s.notes[1] == ("thresholds for 1-s prediction windows (saz predict --window: the nearest): "
                          "tuned on three clips")
    assert len(s.notes) == 2 and not any("{" in line for line in s.notes)  # no raw dict
    v = ckpt.info["validation"]
    micro, macro = v["micro"], v["macro"]
    assert s.validation == [
        ["micro F1 (precision, recall)", f"{micro['f1']:.3f} ({micro['precision']:.3f}, {micro['recall']:.3f})"],
        ["macro F1 over all classes (precision, recall)", f"{macro['f1']:.3f} ({macro['precision']:.3f}, {macro['recall']:.3f})"],
        ["macro F1 over present classes", f"{v['macro_f1_present']:.3f}"], ["mAP", f"{v['map']:.3f}"]]
    plain = checkpoint_summary(Checkpoint.load(model))
    assert plain.columns == ["class", "threshold"] and plain.notes == []
