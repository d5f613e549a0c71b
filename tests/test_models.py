"""Every registered model: shapes, parameter counts against the papers, and that it learns.

Torch models are built on small inputs, checked for output shape and finiteness at two clip
lengths (5-s and 10-s clips give different frame counts), and trained for a few Adam steps with
their own optimiser settings on tiny separable data. The sklearn baselines are fitted on
separable statistics and on label matrices with constant columns.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from torch import nn

from saz.features import feature_from_config
from saz.models import MODELS, SklearnModel, TorchModel, build, count_parameters

TORCH_MODELS = sorted(n for n, cls in MODELS.items() if issubclass(cls, TorchModel))
SKLEARN_MODELS = sorted(n for n, cls in MODELS.items() if issubclass(cls, SklearnModel))

# input shape per input kind: (short clip, long clip); fc flattens, so it gets one length only
SHAPES = {"spectrogram": ((40, 50), (40, 100)), "sequence": ((5, 128), (10, 128)), "vector": ((52,), (52,))}


def shapes_for(name: str) -> tuple[tuple[int, ...], ...]:
    short, long = SHAPES[MODELS[name].input_kind]
    return (long,) if name == "fc" else (short, long)


def separable(kind: str, shape: tuple[int, ...], n: int, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise plus +2 in a class-specific band (frequency bins, or feature dims) for each present class."""
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(n, n_classes, generator=g) < 0.5).float()
    x = torch.randn(n, *shape, generator=g)
    axis = 1 if kind == "spectrogram" else -1
    band = x.shape[axis] // n_classes
    for c in range(n_classes):
        index: list[slice] = [slice(None)] * x.ndim
        index[axis] = slice(c * band, (c + 1) * band)
        x[tuple(index)] += 2.0 * y[:, c].reshape(n, *[1] * (x.ndim - 1))
    return x, y


def test_registry_has_every_model_with_a_valid_default_feature():
    expected = {"rf", "xgb", "fc", "fc_t", "rnn", "attention", "bilstm", "crnn", "han_cnn", "hamnava_cnn",
                "medleydb_cnn", "probe"}
    assert expected <= set(MODELS)
    for name in expected:
        cls = MODELS[name]
        assert cls.source, name
        assert cls.input_kind in SHAPES, name
        feature_from_config(cls.default_feature)  # every default feature exists with valid parameters


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_forward_shapes_and_frames(name: str):
    torch.manual_seed(0)
    model = build(name, shapes_for(name)[-1], 7).eval()
    for shape in shapes_for(name):
        x = torch.randn(3, *shape)
        with torch.no_grad():
            out = model(x)
            assert out.shape == (3, 7), (name, shape)
            assert torch.isfinite(out).all(), name
            if model.has_frames:
                frames = model.frame_logits(x)
                steps = shape[-1] if model.input_kind == "spectrogram" else shape[0]  # time axis
                assert frames.shape == (3, -(-steps // model.frame_hop), 7), name
                assert torch.isfinite(frames).all(), name
    cfg = model.config()
    rebuilt = build(cfg["name"], cfg["input_shape"], cfg["n_classes"], **cfg["hparams"])
    assert rebuilt.config() == cfg
    assert count_parameters(rebuilt) == count_parameters(model)


# (model, input shape, classes): exact counts; paper value where the document states one
PARAMETER_COUNTS = [
    ("fc", (10, 128), 20, 986_772, 986_772),  # openmic-attention-review.txt 5.2
    ("fc_t", (10, 128), 20, 52_116, 52_116),  # idem
    ("rnn", (10, 128), 20, 226_068, 226_068),  # idem
    ("attention", (10, 128), 20, 54_696, None),  # FC_T + attention map; no count in the paper
    ("han_cnn", (128, 43), 11, 1_446_123, None),  # as implied by Figure 7 (11 IRMAS classes)
    ("medleydb_cnn", (128, 862), 17, 528_145, 528_145),  # medleydb-cnn-report.txt Table 4.1 (sum of rows)
]


@pytest.mark.parametrize("name,shape,n_classes,ours,paper", PARAMETER_COUNTS)
def test_parameter_counts(name: str, shape: tuple[int, ...], n_classes: int, ours: int, paper: int | None):
    n = count_parameters(build(name, shape, n_classes))
    print(f"{name}: {n:,} parameters (paper: {'not stated' if paper is None else f'{paper:,}'})")
    assert n == ours
    if paper is not None:
        assert n == paper


def test_frame_logits_explain_the_clip_logits():
    """fc_t and bilstm average per-step logits; attention weights are a distribution over time."""
    torch.manual_seed(0)
    x = torch.randn(4, 10, 128)
    with torch.no_grad():
        for name in ("fc_t", "bilstm"):
            model = build(name, (10, 128), 5).eval()
            torch.testing.assert_close(model.frame_logits(x).mean(dim=1), model(x), atol=1e-5, rtol=1e-5)
        att = build("attention", (10, 128), 5).eval()
        w = att.attention_weights(x)
        assert w.shape == (4, 10, 5) and (w > 0).all()
        torch.testing.assert_close(w.sum(dim=1), torch.ones(4, 5))
        clip = torch.sigmoid(att(x))
        frames = torch.sigmoid(att.frame_logits(x))
        assert (clip >= frames.amin(dim=1) - 1e-5).all() and (clip <= frames.amax(dim=1) + 1e-5).all()


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_training_steps_reduce_the_loss(name: str):
    torch.manual_seed(0)
    shape = shapes_for(name)[0]
    x, y = separable(MODELS[name].input_kind, shape, 32, 4)
    model = build(name, shape, 4)
    opt = torch.optim.Adam(model.parameters(), **model.optimizer)
    loss_fn = nn.BCEWithLogitsLoss()

    def eval_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(loss_fn(model(x), y))

    before = eval_loss()
    for step in range(1, 61):  # until the loss has fallen by a fifth; slow learners get more steps
        model.train()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if step % 10 == 0 and (after := eval_loss()) < 0.8 * before:
            break
    print(f"{name}: loss {before:.3f} -> {after:.3f} in {step} steps")
    assert after < 0.8 * before, (name, before, after)


def test_fc_refuses_another_length():
    with pytest.raises(ValueError, match="built for inputs"):
        build("fc", (10, 128), 3)(torch.randn(2, 5, 128))


def test_probe_depths_and_sequence_pooling():
    x = torch.randn(6, 52)
    for depth in range(6):
        model = build("probe", (52,), 4, hidden_layers=depth, hidden_size=32)
        assert model(x).shape == (6, 4)
        assert sum(isinstance(m, nn.Linear) for m in model.modules()) == depth + 1
    seq = torch.randn(6, 5, 52)
    model = build("probe", (5, 52), 4).eval()
    torch.testing.assert_close(model(seq), model(seq.mean(dim=1)))
    with pytest.raises(ValueError, match="hidden_layers"):
        build("probe", (52,), 4, hidden_layers=6)


def test_han_cnn_plain_relu_variant():
    model = build("han_cnn", (40, 50), 3, leaky_slope=0.0)
    assert all(m.negative_slope == 0.0 for m in model.modules() if isinstance(m, nn.LeakyReLU))


# ---- scikit-learn baselines -------------------------------------------------------------------

def stats_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """52-dim vectors whose first 4 dims decide 4 labels, plus one all-zero and one all-one class."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 52)).astype(np.float32)
    y = (X[:, :4] > 0).astype(np.int64)
    return X, np.c_[y, np.zeros(n, np.int64), np.ones(n, np.int64)]


def sklearn_model(name: str, n_classes: int) -> SklearnModel:
    if name == "xgb":
        pytest.importorskip("xgboost")
    return build(name, (52,), n_classes, n_estimators=30)


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_sklearn_fit_predict_and_constant_columns(name: str):
    X, y = stats_data(300, 0)
    Xt, yt = stats_data(200, 1)
    model = sklearn_model(name, 6).fit(X, y, seed=0)
    p = model.predict_proba(Xt)
    assert p.shape == (200, 6) and ((p >= 0) & (p <= 1)).all()
    assert (p[:, 4] == 0).all() and (p[:, 5] == 1).all()
    acc = ((p[:, :4] >= 0.5) == yt[:, :4]).mean()
    assert acc > 0.8, (name, acc)  # chance is 0.5
    np.testing.assert_allclose(sklearn_model(name, 6).fit(X, y, seed=0).predict_proba(Xt), p)


@pytest.mark.parametrize("name", SKLEARN_MODELS)
def test_sklearn_all_constant_and_bad_labels(name: str):
    X, y = stats_data(50, 0)
    model = sklearn_model(name, 2).fit(X, y[:, 4:], seed=0)
    np.testing.assert_array_equal(model.predict_proba(X[:3]), [[0, 1]] * 3)
    soft = y[:, :2].astype(float) * 0.7
    with pytest.raises(ValueError, match="hard 0/1"):
        sklearn_model(name, 2).fit(X, soft)
    with pytest.raises(ValueError, match="labels must be"):
        sklearn_model(name, 3).fit(X, y[:, :2])


def test_xgb_without_xgboost_says_how_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "xgboost", None)
    X, y = stats_data(20, 0)
    with pytest.raises(ImportError, match=r"pip install saz\[xgb\]"):
        build("xgb", (52,), 6).fit(X, y)


def test_saznet_input_norm_cancels_gain_or_eq():
    torch.manual_seed(0)
    x = torch.randn(2, 64, 100)
    gain = x + 7.0                                       # a level change, in dB
    eq = x + torch.linspace(-6, 6, 64)[None, :, None]    # a fixed EQ curve, in dB
    outs = {}
    for norm in ("none", "clip", "band"):
        m = build("saznet", (64, 100), 5, input_norm=norm).eval()
        with torch.no_grad():
            outs[norm] = [m(v) for v in (x, gain, eq)]
    assert not torch.allclose(outs["none"][0], outs["none"][1], atol=1e-4)
    torch.testing.assert_close(outs["clip"][0], outs["clip"][1], atol=1e-4, rtol=0)
    assert not torch.allclose(outs["clip"][0], outs["clip"][2], atol=1e-4)
    torch.testing.assert_close(outs["band"][0], outs["band"][2], atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="input_norm"):
        build("saznet", (64, 100), 5, input_norm="pcen")


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_inference_folding_keeps_every_output(name: str):
    """BatchNorms folded into their convolutions, channels-last weights: the same clip and frame
    outputs (to float rounding), on trained-looking BatchNorm statistics, for every torch model."""
    from saz.models.inference import fold_batchnorm, for_inference

    shape = shapes_for(name)[-1]
    torch.manual_seed(0)
    model = build(name, shape, 7)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(model)
    model.eval()
    x = torch.randn(4, *shape)
    with torch.no_grad():
        before = model(x)
        frames = model.frame_logits(x) if model.has_frames else None
        n_bn = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
        fast = for_inference(model)
        left = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in fast.modules())
        torch.testing.assert_close(fast(x), before, atol=1e-4, rtol=1e-4)
        if frames is not None:
            torch.testing.assert_close(fast.frame_logits(x), frames, atol=1e-4, rtol=1e-4)
    if name == "saznet":
        assert n_bn == 6 and left == 0


def test_training_imports_neither_synth_nor_prediction():
    """The caller hands training its data (fresh clips included); a warm start resolves 'default' itself."""
    import subprocess

    code = ("import sys, saz.models.train\n"
            "print(sorted(m for m in sys.modules if m.startswith('saz.synth') or m == 'saz.prediction'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
