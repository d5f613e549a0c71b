"""The pretrained-encoder features on tiny checkpoints written in the real on-disk layouts
(tests/encoders.py), loaded through the same code path a downloaded checkpoint takes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import encoders
from saz import audio
from saz.features import FeatureCache, get_feature
from saz.features.checkpoint import CheckpointError
from saz.features.extract import features_for_file

HF = ("mert", "music2vec", "musichubert", "wav2vec2")
RATES = {"mert": 24000, "music2vec": 16000, "musichubert": 16000, "wav2vec2": 16000}


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    return {name: encoders.write_tiny(name, root) for name in (*HF, "vggish")}


def music(seconds: float, sr: int, seed: int = 0, n: int = 2) -> np.ndarray:
    """Harmonic tones below 4 kHz with a little noise: content every resampler keeps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    rows = []
    for _ in range(n):
        f0 = rng.uniform(110, 440)
        y = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in range(1, 8) if f0 * k < 4000)
        rows.append(0.2 * y * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)) + 0.003 * rng.standard_normal(len(t)))
    return np.stack(rows).astype(np.float32)


@pytest.mark.parametrize("name", HF)
def test_shapes_layers_and_determinism(ckpts, name):
    sr = RATES[name]
    x = music(2.0, sr)
    feats = {kw: get_feature(name, checkpoint=str(ckpts[name]), **dict(kw)) for kw in
             [(), (("layer", 1),), (("pooling", "meanstd"),), (("pooling", "frames"),), (("pooling", "frames"), ("layer", -1))]}
    outs = {kw: f(x) for kw, f in feats.items()}
    L, D, T = encoders.N_LAYERS, encoders.DIM, 2 * sr // 320 - 1
    assert [o.shape for o in outs.values()] == [(2, L, D), (2, D), (2, L, 2 * D), (2, L, T, D), (2, T, D)]
    everything = outs[()]
    np.testing.assert_allclose(outs[(("layer", 1),)], everything[:, 1], atol=1e-5)
    frames = outs[(("pooling", "frames"),)]
    np.testing.assert_allclose(frames.mean(2), everything, atol=1e-5)
    np.testing.assert_allclose(outs[(("pooling", "meanstd"),)][..., D:], frames.std(2), atol=1e-4)
    assert feats[()].frame_rate == sr / 320
    np.testing.assert_array_equal(feats[()](x), everything)  # deterministic
    assert not np.allclose(everything[0], everything[1])  # the two clips differ


def test_another_checkpoint_gives_other_features_and_key(ckpts, tmp_path):
    other = encoders.write_hubert(tmp_path / "h1", seed=1)
    a, b = (get_feature("musichubert", checkpoint=str(p)) for p in (ckpts["musichubert"], other))
    x = music(1.0, 16000)
    assert a.key() != b.key() and not np.allclose(a(x), b(x))


def test_mert_runs_its_own_remote_code(ckpts):
    f = get_feature("mert", checkpoint=str(ckpts["mert"]))
    model = f.model()
    assert type(model).__name__ == "MERTModel" and "modeling_MERT" in type(model).__module__


@pytest.mark.parametrize("name", ["musichubert", "mert"])
def test_input_at_another_rate_is_resampled(ckpts, name):
    sr = RATES[name]
    x44 = music(2.0, 44100)
    native = np.stack([audio.resample(r, 44100, sr) for r in x44])
    f_native = get_feature(name, checkpoint=str(ckpts[name]), layer=1)
    f_44 = get_feature(name, checkpoint=str(ckpts[name]), layer=1, sr=44100)
    a, b = f_native(native), f_44(x44)
    assert a.shape == b.shape
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert not np.allclose(b, get_feature(name, checkpoint=str(ckpts[name]), layer=1, sr=22050)(x44), atol=1e-3)


def test_chunked_long_input_matches_unchunked(ckpts):
    """Layer 0 of data2vec-audio is local (per-frame layer-norm convolutions and a positional
    convolution), so away from the end chunking must not change it; deeper layers attend globally
    and only keep their shape."""
    path = str(ckpts["music2vec"])
    x = music(9.0, 16000, n=1)
    whole = get_feature("music2vec", checkpoint=path, pooling="frames", chunk_seconds=60.0)
    parts = get_feature("music2vec", checkpoint=path, pooling="frames", chunk_seconds=2.0, overlap_seconds=0.5, batch_size=3)
    a, b = whole(x), parts(x)
    assert a.shape == b.shape == (1, encoders.N_LAYERS, 449, encoders.DIM)
    np.testing.assert_allclose(b[:, 0, :-8], a[:, 0, :-8], atol=2e-4)
    assert np.isfinite(b).all() and np.abs(b).max() < 100
    pooled = get_feature("music2vec", checkpoint=path, chunk_seconds=2.0, overlap_seconds=0.5)(x)
    np.testing.assert_allclose(pooled, b.mean(2), atol=1e-5)


def test_cache_hit_and_replaced_weights(ckpts, tmp_path):
    wav = tmp_path / "a.wav"
    sf.write(wav, music(1.5, 16000, n=1)[0], 16000)
    folder = encoders.write_wav2vec2(tmp_path / "w", seed=3)
    cache = FeatureCache(tmp_path / "cache")
    f = get_feature("wav2vec2", checkpoint=str(folder))
    x, hit = features_for_file(wav, f, cache)
    again, hit2 = features_for_file(wav, get_feature("wav2vec2", checkpoint=str(folder), device="cpu", batch_size=9), cache)
    assert (hit, hit2) == (False, True) and np.array_equal(x, again)
    key = f.key()
    encoders.write_wav2vec2(folder, seed=4)
    assert f.key() != key
    y, hit3 = features_for_file(wav, f, cache)
    assert not hit3 and not np.allclose(x, y)


def _break(folder, how):
    if how == "no config":
        (folder / "config.json").unlink()
    elif how == "no weights":
        (folder / "model.safetensors").unlink()
    elif how == "corrupt weights":
        (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    elif how == "no modelling code":
        (folder / "modeling_MERT.py").unlink()
    elif how == "missing shard":
        (folder / "model.safetensors").rename(folder / "model-00001-of-00002.safetensors")
        (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
            "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))


@pytest.mark.parametrize("how, needle", [
    ("no config", "config.json: missing (expected a MERT checkpoint folder)"),
    ("no weights", "no model weights (expected model.safetensors or pytorch_model.bin of a MERT checkpoint)"),
    ("corrupt weights", "cannot load the mert checkpoint"),
    ("no modelling code", "modeling_MERT.py: missing"),
    ("missing shard", "model-00002-of-00002.safetensors: weight shard missing"),
])
def test_broken_checkpoint_is_one_line(tmp_path, how, needle):
    folder = encoders.write_mert(tmp_path / "m")
    _break(folder, how)
    with pytest.raises(CheckpointError) as e:
        get_feature("mert", checkpoint=str(folder)).check()
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_wrong_architecture_and_missing_folder(ckpts, tmp_path):
    with pytest.raises(CheckpointError, match=r"model_type 'hubert' is not a Music2vec .*'data2vec-audio'"):
        get_feature("music2vec", checkpoint=str(ckpts["musichubert"])).check()
    with pytest.raises(CheckpointError, match="does not exist"):
        get_feature("wav2vec2", checkpoint=str(tmp_path / "nowhere")).check()
    with pytest.raises(CheckpointError, match="--checkpoint DIR"):
        get_feature("mert").check()
    with pytest.raises(CheckpointError, match=r"layer 3: this MusicHuBERT \(hubert\) checkpoint has 3 hidden states"):
        get_feature("musichubert", checkpoint=str(ckpts["musichubert"]), layer=3).check()


def test_a_clip_shorter_than_one_frame_still_gives_one(ckpts):
    f = get_feature("wav2vec2", checkpoint=str(ckpts["wav2vec2"]), pooling="frames")
    assert f(np.zeros((1, 100), np.float32)).shape == (1, encoders.N_LAYERS, 1, encoders.DIM)


def test_without_transformers_saz_imports_and_names_the_extra(tmp_path):
    folder = encoders.write_hubert(tmp_path / "h")
    code = ("import sys; sys.modules['transformers'] = None\n"
            "import saz.cli, saz.features\nfrom saz.features import get_feature\n"
            f"try:\n    get_feature('musichubert', checkpoint={str(folder)!r}).check()\n"
            "except ValueError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "needs the transformers package: pip install 'saz[encoders]'" in r.stdout


@pytest.mark.parametrize("n, chunk, step", [(100_000, 32_000, 24_000), (64_000, 32_000, 24_000), (31_999, 32_000, 24_000),
                                            (1_000_003, 48_000, 40_000)])
def test_chunks_cover_every_frame_once(n, chunk, step):
    from saz.features.hf import chunk_starts, owned_frames
    hop = 320
    starts = chunk_starts(n, chunk, step, hop)
    assert starts[0] == 0 and all(s % hop == 0 for s in starts) and starts[-1] + min(chunk, n) >= n
    assert starts[-1] + min(chunk, n) - n < hop  # the last chunk is padded by less than one hop
    total = (n - 400) // hop + 1
    owned = owned_frames(starts, min(chunk, n), hop, total)
    assert owned[0][0] == 0 and owned[-1][1] == total
    assert all(a[1] == b[0] for a, b in zip(owned[:-1], owned[1:]))  # contiguous, no frame twice
    for s, (a, e) in zip(starts, owned):  # each frame from a chunk that holds it
        assert s // hop <= a <= e <= (s + min(chunk, n)) // hop
