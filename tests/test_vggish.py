"""VGGish: the same numbers as harritaylor/torchvggish (front end, network, PCA), and the feature's
shapes, files and errors on a tiny state dict in its layout (tests/encoders.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torchvggish import torchvggish as tv_model, vggish_input  # the reference (dev extra)

import encoders
from saz.features import get_feature
from saz.features.checkpoint import CheckpointError
from saz.features.vggish import build, examples


def tones(seconds: float, sr: int = 16000, n: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([0.3 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + 0.01 * rng.standard_normal(len(t))
                     for _ in range(n)]).astype(np.float32)


def test_front_end_matches_torchvggish():
    x = tones(3.3, n=1)[0]
    ours = examples(torch.from_numpy(x[None]))[0]
    theirs = vggish_input.waveform_to_examples(x.astype(np.float64), 16000, return_tensor=False)
    assert ours.shape == theirs.shape == (3, 96, 64)
    np.testing.assert_allclose(ours.numpy(), theirs, atol=2e-4)


def test_network_and_pca_match_torchvggish_at_full_size():
    torch.manual_seed(0)
    ref = tv_model._vgg(postprocess=False).eval()
    state = ref.state_dict()
    ours = build(state, Path("ref.pth"))
    x = examples(torch.from_numpy(tones(2.0, n=1)))[0][:, None]
    with torch.no_grad():
        np.testing.assert_allclose(ours(x).numpy(), ref(x).numpy(), rtol=1e-4, atol=1e-5)
    pca = encoders.vggish_pca()
    post = object.__new__(tv_model.Postprocessor)
    post._pca_matrix = torch.as_tensor(pca["pca_eigen_vectors"]).float()
    post._pca_means = torch.as_tensor(pca["pca_means"].reshape(-1, 1)).float()
    e = torch.randn(4, 128) * 3
    feat = get_feature("vggish", checkpoint="unused.pth", postprocess="quantized")
    np.testing.assert_array_equal(feat._post(e, (post._pca_matrix, post._pca_means)).numpy(), post.postprocess(e).numpy())


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return encoders.write_tiny("vggish", tmp_path_factory.mktemp("vggish"))


def test_shapes_pooling_and_postprocessing(weights):
    x = tones(5.0)
    pca = str(weights.with_name(encoders.VGGISH_PCA))
    frames = get_feature("vggish", checkpoint=str(weights), pooling="frames")(x)
    assert frames.shape == (2, 5, 128) and (frames >= 0).all()  # the port's final ReLU
    np.testing.assert_allclose(get_feature("vggish", checkpoint=str(weights))(x), frames.mean(1), atol=1e-5)
    assert get_feature("vggish", checkpoint=str(weights), pooling="meanstd")(x).shape == (2, 256)
    small = get_feature("vggish", checkpoint=str(weights), pooling="frames", batch_size=2)(x)
    np.testing.assert_allclose(small, frames, atol=1e-5)  # segmenting the spectrogram changes nothing
    q = get_feature("vggish", checkpoint=str(weights), pca=pca, postprocess="quantized", pooling="frames")(x)
    assert q.shape == (2, 5, 128) and np.array_equal(q, np.round(q)) and q.min() >= 0 and q.max() <= 255
    assert get_feature("vggish", checkpoint=str(weights), pooling="frames")(tones(0.3)).shape == (2, 1, 128)
    f44 = get_feature("vggish", checkpoint=str(weights), sr=44100, pooling="frames")(tones(5.0, sr=44100))
    assert f44.shape == (2, 5, 128)


def test_errors_are_one_line(weights, tmp_path):
    bad = tmp_path / "bad.pth"
    state = encoders.vggish_state_dict()
    del state["embeddings.4.weight"]
    torch.save(state, bad)
    cases = [(dict(checkpoint=str(bad)), "key embeddings.4.weight missing"),
             (dict(checkpoint=str(tmp_path / "none.pth")), "does not exist"),
             (dict(checkpoint=str(weights), postprocess="pca"), "no pca_eigen_vectors / pca_means"),
             (dict(), "--checkpoint FILE.pth")]
    (tmp_path / "junk.pth").write_bytes(b"junk")
    cases.append((dict(checkpoint=str(tmp_path / "junk.pth")), "not a readable VGGish state dict"))
    for params, needle in cases:
        with pytest.raises(CheckpointError) as e:
            get_feature("vggish", **params).check()
        assert needle in str(e.value) and "\n" not in str(e.value)
