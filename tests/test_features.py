"""Each extractor against librosa (the reference), the cache, and the features CLI."""

import os
from multiprocessing import get_context

import librosa
import numpy as np
import pytest

from saz import audio
from saz.features import FEATURES, FeatureCache, feature_from_config, get_feature
from saz.features.extract import extract_files, output_paths, features_for_file
from saz.features.mfcc import HAMNAVA_MFCC
from saz.features.stats import STATS_NAMES
from conftest import REAL_FILES


@pytest.fixture(scope="module")
def clips():
    """Two real clips of the same length: HamNava mp3 (5 s) and the OpenMIC ogg padded to 5 s."""
    a, _ = audio.load(REAL_FILES["mp3"], sr=22050)
    b, _ = audio.load(REAL_FILES["ogg"], sr=22050)
    b = np.pad(b, (0, len(a) - len(b)))
    return np.stack([a, b])


def test_registry_lists_the_extractors():
    assert {"logmel", "mfcc", "stats", "pcen"} <= set(FEATURES)
    with pytest.raises(KeyError, match="unknown feature 'nope'"):
        get_feature("nope")
    with pytest.raises(TypeError, match="no parameter"):
        get_feature("logmel", n_bins=3)


def test_config_key_is_stable_and_sensitive():
    a, b = get_feature("logmel"), get_feature("logmel")
    assert a.key() == b.key()
    assert get_feature("logmel", n_mels=64).key() != a.key()
    assert feature_from_config(get_feature("mfcc", n_mfcc=13).config()) == get_feature("mfcc", n_mfcc=13)


def test_logmel_matches_librosa(clips):
    f = get_feature("logmel")  # n_fft 1024, hop 512, 128 mels
    out = f(clips)
    for i, y in enumerate(clips):
        ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=512, n_mels=128), top_db=80)
        assert out[i].shape == ref.shape == (128, 216)
        np.testing.assert_allclose(out[i], ref, atol=5e-3)  # dB


def test_logmel_with_fmin_fmax_matches_librosa(clips):
    f = get_feature("logmel", n_mels=64, fmin=50.0, fmax=8000.0, n_fft=2048, hop=256)
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=clips[0], sr=22050, n_fft=2048, hop_length=256,
                                                             n_mels=64, fmin=50, fmax=8000), top_db=80)
    np.testing.assert_allclose(f(clips[0]), ref, atol=5e-3)


def test_pcen_matches_librosa_and_ignores_a_steady_gain(clips):
    f = get_feature("pcen", n_mels=64)
    out = f(clips)
    for i, y in enumerate(clips):
        mel = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=512, n_mels=64, power=1.0)
        ref = librosa.pcen(mel * 2**31, sr=22050, hop_length=512)
        assert out[i].shape == ref.shape == (64, 216)
        np.testing.assert_allclose(out[i], ref, atol=1e-3 * np.abs(ref).max())
    # 20 dB quieter: the log-mel shifts by 20 dB everywhere, PCEN (once its smoother settles) hardly moves
    quiet, loud = f(clips[0] * 0.1)[:, 40:], out[0][:, 40:]
    assert np.abs(quiet - loud).mean() < 0.1 * np.abs(loud).mean()

def test_mfcc_matches_librosa(clips):
    out = get_feature("mfcc")(clips)
    ref = librosa.feature.mfcc(y=clips[1], sr=22050)
    np.testing.assert_allclose(out[1], ref, atol=5e-3)
    hn = HAMNAVA_MFCC(clips[0])
    ref = librosa.feature.mfcc(y=clips[0], sr=22050, n_fft=1024, hop_length=512, n_mels=40, n_mfcc=40)
    assert hn.shape == (40, 216)
    np.testing.assert_allclose(hn, ref, atol=5e-3)


def test_stats_matches_librosa(clips):
    out = get_feature("stats")(clips)
    assert out.shape == (2, 52) and len(STATS_NAMES) == 52
    y = clips[0]
    m = librosa.feature.mfcc(y=y, sr=22050)
    series = [
        librosa.feature.spectral_centroid(y=y, sr=22050), librosa.feature.spectral_bandwidth(y=y, sr=22050),
        librosa.feature.spectral_rolloff(y=y, sr=22050, roll_percent=0.85), librosa.feature.zero_crossing_rate(y),
        librosa.feature.rms(y=y), librosa.effects.harmonic(y),
    ]
    ref = np.concatenate([m.mean(1), m.var(1)] + [np.array([s.mean(), s.var()]) for s in series])
    np.testing.assert_allclose(out[0], ref, rtol=1e-3, atol=1e-6)


def test_silence_gives_finite_features():
    silent = np.zeros(22050, np.float32)
    for name in ("logmel", "mfcc", "stats", "pcen"):
        assert np.isfinite(get_feature(name)(silent)).all(), name


def test_cache_hit_after_miss_and_invalidated_by_edit(tmp_path):
    src = tmp_path / "a.ogg"
    src.write_bytes(REAL_FILES["ogg"].read_bytes())
    cache = FeatureCache(tmp_path / "cache")
    f = get_feature("logmel")
    x1, hit1 = features_for_file(src, f, cache)
    x2, hit2 = features_for_file(src, f, cache)
    assert (hit1, hit2) == (False, True)
    np.testing.assert_array_equal(x1, x2)
    # a corrupt entry is a miss, recomputed and replaced
    cache.path_for(f, src).write_bytes(b"garbage")
    x3, hit3 = features_for_file(src, f, cache)
    assert not hit3 and np.array_equal(x1, x3)
    # the same file edited: new identity, new entry
    os.utime(src, ns=(1, 1))
    _, hit4 = features_for_file(src, f, cache)
    assert not hit4
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def _fill_cache(root: str, path: str) -> None:
    features_for_file(path, get_feature("stats"), FeatureCache(root))


def test_cache_safe_under_two_processes(tmp_path):
    ctx = get_context("spawn")
    procs = [ctx.Process(target=_fill_cache, args=(str(tmp_path), str(REAL_FILES["mp3"]))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    entries = list(tmp_path.rglob("*.npy"))
    assert len(entries) == 1 and np.load(entries[0]).shape == (52,)
    assert not list(tmp_path.rglob("*.tmp"))


def test_extract_files_in_parallel_reports_bad_files(tmp_path, edge_cases):
    pairs = output_paths([edge_cases["stereo"].parent], tmp_path / "out")
    results = extract_files(pairs, get_feature("mfcc"), FeatureCache(tmp_path / "c"), workers=2)
    by_name = {r.path.name: r for r in results}
    assert by_name["stereo.wav"].ok and by_name["stereo.wav"].shape[0] == 20
    assert by_name["silence.wav"].ok
    assert "not audio" in by_name["notes.wav"].error
    assert "truncated" in by_name["truncated.wav"].error
    assert np.load(by_name["flac.flac"].output).shape == by_name["flac.flac"].shape


def test_extraction_removes_what_interrupted_cache_writes_left(tmp_path):
    """A temporary entry unchanged for an hour is an interrupted write's and goes; a young one may
    be another process's write in progress and stays, as do files of other features."""
    cache, f = FeatureCache(tmp_path / "c"), get_feature("stats")
    mine, other = tmp_path / "c" / f.key() / "ab", tmp_path / "c" / get_feature("mfcc").key() / "ab"
    stale, young, elsewhere = mine / ".abc.npy.x1y2z3.tmp", mine / ".abd.npy.q1w2e3.tmp", other / ".abe.npy.r4t5y6.tmp"
    for tmp in (stale, young, elsewhere):
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(b"cut short")
    os.utime(stale, (1, 1))
    os.utime(elsewhere, (1, 1))
    results = extract_files(output_paths([REAL_FILES["ogg"]], tmp_path / "out"), f, cache)
    assert results[0].ok and not stale.exists() and young.exists() and elsewhere.exists()
