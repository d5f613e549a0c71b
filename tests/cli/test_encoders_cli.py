"""`saz features --feature mert|...|vggish --checkpoint ...` on tiny checkpoints, in-process."""

import numpy as np
import pytest
import soundfile as sf
import torch

import encoders
from conftest import tone


@pytest.fixture
def wavs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "a.wav", tone(44100, 2.0), 44100)
    sf.write(folder / "b.wav", tone(22050, 1.0, freq=660.0), 22050)
    return folder


def test_mert_every_layer_per_file_then_from_the_cache(cli, tmp_path, wavs):
    ckpt = encoders.write_mert(tmp_path / "mert")
    args = ("features", str(wavs), "--feature", "mert", "--checkpoint", str(ckpt), "--layer", "all",
            "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"))
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    outs = sorted((tmp_path / "o").rglob("*.npy"))
    assert [np.load(p).shape for p in outs] == [(encoders.N_LAYERS, encoders.DIM)] * 2
    assert "2 of 2 files" in r.stdout and r.stdout.count(" new ") == 2
    assert cli(*args).stdout.count(" hit ") == 2
    one = cli("features", str(wavs / "a.wav"), "--feature", "mert", "--checkpoint", str(ckpt), "--layer", "2",
              "-p", "pooling=frames", "--out", str(tmp_path / "f"), "--no-cache")
    assert one.returncode == 0, one.stderr
    assert np.load(tmp_path / "f" / "a.wav.npy").shape == (149, encoders.DIM)  # 2 s at 75 frames/s


def test_vggish_checkpoint_file(cli, tmp_path, wavs):
    w = encoders.write_tiny("vggish", tmp_path)
    r = cli("features", str(wavs / "a.wav"), "--feature", "vggish", "--checkpoint", str(w), "-p", "pooling=frames",
            "--out", str(tmp_path / "o"), "--no-cache")
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "o" / "a.wav.npy").shape == (2, 128)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the refusal is for machines without one")
def test_cuda_without_a_gpu_is_one_line(cli, tmp_path, wavs):
    ckpt = encoders.write_hubert(tmp_path / "h")
    r = cli("features", str(wavs), "--feature", "musichubert", "--checkpoint", str(ckpt), "--device", "cuda",
            "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "no CUDA GPU is available here" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_wrong_or_partial_checkpoint_is_one_line_before_any_file(cli, tmp_path, wavs):
    hubert = encoders.write_hubert(tmp_path / "h")
    wrong = cli("features", str(wavs), "--feature", "mert", "--checkpoint", str(hubert), "--out", str(tmp_path / "o"))
    assert wrong.returncode == 2 and "model_type 'hubert' is not a MERT checkpoint" in wrong.stderr
    (hubert / "model.safetensors").unlink()
    partial = cli("features", str(wavs), "--feature", "musichubert", "--checkpoint", str(hubert), "--out", str(tmp_path / "o"))
    assert partial.returncode == 2 and "no model weights" in partial.stderr
    for r in (wrong, partial):
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    other = cli("features", str(wavs), "--feature", "logmel", "--checkpoint", str(hubert), "--out", str(tmp_path / "o"))
    assert other.returncode == 2 and "has no parameter(s) ['checkpoint']" in other.stderr
