import os
import pickle
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from saz import audio
from conftest import EXAMPLES, REAL_FILES, tone


@pytest.mark.parametrize("key,sr_file,seconds", [
    ("mp3", 22050, 5.0), ("ogg", 22050, 2.0), ("wav_irmas", 44100, 3.0), ("wav_medleydb", 44100, 2.0),
])
def test_real_files_load_as_float32_mono(key, sr_file, seconds):
    path = REAL_FILES[key]
    assert audio.info(path).samplerate == sr_file
    y, sr = audio.load(path, sr=16000)
    assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / 16000 - seconds) < 0.05
    assert np.abs(y).max() > 0.01 and not audio.is_silent(y)


def test_window_matches_slice_of_whole_file():
    path = REAL_FILES["wav_irmas"]
    whole, sr = audio.load(path, sr=None)
    part, _ = audio.load(path, sr=None, offset=1.0, duration=0.5)
    assert len(part) == int(0.5 * sr)
    np.testing.assert_allclose(part, whole[sr : sr + len(part)], atol=1e-6)


def test_window_reads_only_what_is_asked(monkeypatch):
    """A window decodes its frames only: the read size requested from libsndfile is the window."""
    asked = []
    real_read = sf.SoundFile.read

    def spy(self, frames=-1, *a, **k):
        asked.append(frames)
        return real_read(self, frames, *a, **k)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    audio.load(REAL_FILES["wav_medleydb"], sr=None, offset=0.5, duration=0.25)
    assert asked == [int(0.25 * 44100)]


def test_mp3_window_seeks():
    path = REAL_FILES["mp3"]
    whole, sr = audio.load(path, sr=None)
    part, _ = audio.load(path, sr=None, offset=2.0, duration=1.0)
    ref = whole[2 * sr : 3 * sr]
    assert len(part) == len(ref)
    assert np.corrcoef(part, ref)[0, 1] > 0.99


def test_stream_concatenates_to_whole_file(tmp_path):
    y = tone(44100, 3.0, freq=330)
    p = tmp_path / "long.wav"
    sf.write(p, y, 44100)
    blocks = list(audio.stream(p, sr=22050, block_seconds=0.7))
    assert len(blocks) >= 4 and all(b.dtype == np.float32 for b in blocks)
    joined = np.concatenate(blocks)
    ref, _ = audio.load(p, sr=22050)
    assert abs(len(joined) - len(ref)) <= 2
    n = min(len(joined), len(ref))
    np.testing.assert_allclose(joined[1000 : n - 1000], ref[1000 : n - 1000], atol=2e-3)


def test_edge_cases_load(edge_cases):
    y, sr = audio.load(edge_cases["stereo"], sr=22050)
    assert y.ndim == 1 and len(y) == 22050
    for name, n in (("sr8k", 22050), ("sr96k", 22050), ("flac", 22050)):
        y, _ = audio.load(edge_cases[name], sr=22050)
        assert abs(len(y) - n) <= 2, name
        assert 0.45 < np.abs(y).max() < 0.55  # a 0.5-amplitude tone survives resampling
    y, _ = audio.load(edge_cases["short"], sr=22050)
    assert len(y) == 2205


def test_silence_is_valid_and_reported_silent(edge_cases):
    y, _ = audio.load(edge_cases["silence"])
    assert len(y) == 22050 and audio.is_silent(y) and audio.peak_dbfs(y) == -np.inf
    assert not audio.is_silent(tone(22050, 0.1, amp=0.01))


def test_loudest_window_level_finds_a_short_note_in_a_quiet_file(tmp_path):
    sr = 22050
    y = np.concatenate([np.zeros(sr, np.float32), tone(sr, 0.2, amp=0.5), np.zeros(sr, np.float32)])
    assert audio.loudest_dbfs(y, sr) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.5)  # the note, not the mean
    assert audio.loudest_dbfs(np.zeros(100, np.float32), sr) == -np.inf
    sf.write(tmp_path / "note.wav", y, sr)
    sf.write(tmp_path / "breath.wav", 0.001 * np.random.default_rng(0).standard_normal(sr).astype(np.float32), sr)
    assert audio.is_audible(tmp_path / "note.wav") and not audio.is_audible(tmp_path / "breath.wav")  # -60 dBFS noise


@pytest.mark.parametrize("case,words", [
    ("truncated", "truncated"),
    ("text", "not audio"),
    ("empty", "empty"),
    ("zero_frames", "zero-length"),
    ("unsupported", "unsupported format"),
])
def test_bad_files_raise_one_clear_error(edge_cases, case, words):
    with pytest.raises(audio.AudioError) as e:
        audio.load(edge_cases[case])
    msg = str(e.value)
    assert "\n" not in msg and str(edge_cases[case]) in msg and words in msg
    assert isinstance(e.value, audio.AudioFormatError) == (case in ("text", "unsupported"))  # no audio format, not bad audio
    again = pickle.loads(pickle.dumps(e.value))  # crosses process boundaries with its type and parts
    assert type(again) is type(e.value) and (again.path, again.cause, str(again)) == (e.value.path, e.value.cause, msg)


def test_missing_file(tmp_path):
    with pytest.raises(audio.AudioError, match="file not found"):
        audio.load(tmp_path / "nope.wav")


def test_corrupt_mp3_payload(tmp_path):
    data = REAL_FILES["mp3"].read_bytes()
    p = tmp_path / "cut.mp3"
    p.write_bytes(data[: len(data) // 10])
    with pytest.raises(audio.AudioError, match="truncated or corrupt"):
        audio.load(p)


def test_offset_past_end():
    with pytest.raises(audio.AudioError, match="past the end"):
        audio.load(REAL_FILES["ogg"], offset=10.0)


def test_find_audio_recurses_and_keeps_named_files(tmp_path, edge_cases):
    found = audio.find_audio([edge_cases["stereo"].parent, edge_cases["unsupported"]])
    names = {p.name for p in found}
    assert {"stereo.wav", "flac.flac", "notes.wav"} <= names
    assert "score.xyz" in names  # named explicitly, so kept to be reported
    assert sum(p.name == "score.xyz" for p in found) == 1


def read_both(path) -> tuple[Exception | None, Exception | None, float]:
    """What load and stream say of ``path`` (their errors, None for none), and the seconds stream
    yielded before it stopped."""
    loaded = streamed = None
    try:
        audio.load(path, sr=None)
    except audio.AudioError as e:
        loaded = e
    samples = 0
    try:
        for block in audio.stream(path, sr=8000, block_seconds=1.0):
            samples += len(block)
    except audio.AudioError as e:
        streamed = e
    return loaded, streamed, samples / 8000


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused_by_every_reader(tmp_path, bad):
    y = tone(22050, 2.0)
    y[30000] = bad  # in stream's second block
    p = tmp_path / "[cel][cla]0001__1.wav"
    sf.write(p, y, 22050, subtype="FLOAT")
    loaded, streamed, _ = read_both(p)
    for e in (loaded, streamed):
        assert str(e) == f"{p}: contains NaN or infinite samples"
        assert type(e) is audio.AudioError  # corrupt audio, not an unknown format


def cut_copies(tmp_path, source, fractions) -> list:
    """Copies of ``source`` cut at each fraction of its bytes."""
    data = source.read_bytes()
    out = []
    for f in fractions:
        p = tmp_path / f"cut{int(f * 1000)}{source.suffix}"
        p.write_bytes(data[: int(len(data) * f)])
        out.append(p)
    return out


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, object]:
    """A 15-s recording encoded as OGG/Vorbis, Ogg Opus and MP3 by libsndfile."""
    d = tmp_path_factory.mktemp("encoded")
    rng = np.random.default_rng(0)
    y = (tone(22050, 15.0, 220.0) + 0.05 * rng.standard_normal(22050 * 15)).astype(np.float32)
    out = {}
    for name, fmt, subtype, sr in (("a.ogg", "OGG", "VORBIS", 22050), ("a.opus", "OGG", "OPUS", 48000), ("a.mp3", "MP3", "MPEG_LAYER_III", 22050)):
        sf.write(d / name, y if sr == 22050 else audio.resample(y, 22050, sr), sr, format=fmt, subtype=subtype)
        out[name] = d / name
    return out


@pytest.mark.parametrize("name,fractions", [
    ("a.ogg", (0.3, 0.6, 0.9, 0.999)),
    ("a.opus", (0.3, 0.6, 0.9, 0.999)),
    ("a.mp3", (0.05, 0.3, 0.6)),  # an mp3's length is an estimate: its last quarter is tolerated
])
def test_a_decode_that_stops_early_fails_load_and_stream_alike(tmp_path, encoded, name, fractions):
    whole = encoded[name]
    assert read_both(whole)[:2] == (None, None) and read_both(whole)[2] == pytest.approx(15.0, abs=0.1)
    for p in cut_copies(tmp_path, whole, fractions):
        loaded, streamed, seconds = read_both(p)
        assert isinstance(loaded, audio.PartialAudioError) and isinstance(streamed, audio.PartialAudioError), p
        assert str(loaded) == str(streamed) and str(p) in str(loaded) and "\n" not in str(loaded)
        assert streamed.decoded == pytest.approx(seconds, abs=0.1) and seconds < 14.9  # yielded all it decoded, first
        again = pickle.loads(pickle.dumps(streamed))
        assert type(again) is audio.PartialAudioError and str(again) == str(streamed)


def test_a_corrupt_ogg_page_stops_the_decoder_and_is_refused(tmp_path):
    data = bytearray((EXAMPLES / "ensemble.ogg").read_bytes())
    k = len(data) // 2
    data[k:k + 2000] = bytes(2000)
    p = tmp_path / "damaged.ogg"
    p.write_bytes(bytes(data))
    for e in read_both(p)[:2]:  # each stops near 9 s: where the zeroed bytes are
        assert isinstance(e, audio.PartialAudioError) and str(e).endswith("of the 15.0 s the header declares")


def patched_bits(tmp_path, bits: int) -> Path:
    """A 16-bit mono WAV whose fmt chunk is patched to say ``bits`` bits per sample."""
    p = tmp_path / f"bits{bits}.wav"
    sf.write(p, tone(22050, 1.0), 22050, subtype="PCM_16")
    data = bytearray(p.read_bytes())
    k = data.index(b"fmt ") + 22  # bits per sample, after the chunk's id, size and 14 bytes of fields
    data[k:k + 2] = bits.to_bytes(2, "little")
    p.write_bytes(bytes(data))
    return p


def test_a_sample_format_libsndfile_would_misread_is_refused(tmp_path):
    for bits, read_as in ((7, "PCM_U8"), (20, "PCM_24")):
        p = patched_bits(tmp_path, bits)
        with pytest.raises(audio.AudioFormatError) as e:
            audio.info(p)
        assert str(e.value) == (f"{p}: bogus header: {bits} bits per sample in 2-byte frames of 1 channel(s), "
                                f"which libsndfile would read as {read_as}")
        assert [str(x) for x in read_both(p)[:2]] == [str(e.value)] * 2
    y, _ = audio.load(patched_bits(tmp_path, 12), sr=None)  # 12-bit samples in 2-byte frames: a valid WAV
    np.testing.assert_allclose(y, tone(22050, 1.0), atol=1e-4)
    g = tmp_path / "g721.wav"
    sf.write(g, tone(8000, 1.0), 8000, subtype="G721_32")
    with pytest.raises(audio.AudioFormatError, match="sample format G721_32 is not one saz decodes faithfully"):
        audio.load(g)


def test_unusable_paths_say_what_they_are(tmp_path):
    sf.write(tmp_path / "a.wav", tone(22050, 0.5), 22050)
    (tmp_path / "broken.wav").symlink_to(tmp_path / "gone.wav")
    (tmp_path / "folder.wav").mkdir()
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "sock.wav"))
        for name, cause in (("broken.wav", f"broken symbolic link (to {tmp_path / 'gone.wav'})"),
                            ("folder.wav", "is a directory, not an audio file"),
                            ("sock.wav", "not a regular file (a pipe, socket or device)")):
            with pytest.raises(audio.AudioError) as e:
                audio.load(tmp_path / name)
            assert str(e.value) == f"{tmp_path / name}: {cause}"
    locked = tmp_path / "locked.wav"
    locked.write_bytes((tmp_path / "a.wav").read_bytes())
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as root: every file is readable")
    with pytest.raises(audio.AudioError, match="permission denied: the file is not readable"):
        audio.load(locked)


def test_a_folder_scan_finds_opus_and_tells_what_it_skipped(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.opus", "sub/a.wav", "sub/c.OGG"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub" / "gone.flac").symlink_to(tmp_path / "nowhere")
    found = audio.scan(tmp_path)
    assert found.files == [tmp_path / "b.opus", tmp_path / "sub/a.wav", tmp_path / "sub/c.OGG", tmp_path / "sub/gone.flac"]
    assert found.skipped == [tmp_path / "notes.txt"]
    seen = []
    assert audio.find_audio([tmp_path, tmp_path / "notes.txt"], on_scan=seen.append) == found.files + [tmp_path / "notes.txt"]
    assert seen == [found]


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                  reason="ffmpeg is not installed: the m4a tests make and decode a real m4a with it")


@needs_ffmpeg
def test_an_m4a_made_by_ffmpeg_decodes_like_the_wav_it_was_made_from(tmp_path):
    """libsndfile does not read m4a: ffmpeg decodes it (stereo at its own rate, mixed down and
    resampled by saz as any file), in windows and in blocks; a broken one is one line."""
    sr = 44100
    t = np.arange(3 * sr) / sr
    wav = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)], axis=1).astype(np.float32)
    sf.write(tmp_path / "a.wav", wav, sr)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", tmp_path / "a.wav", "-c:a", "aac", "-b:a", "192k",
                    tmp_path / "a.m4a"], check=True)
    meta = audio.info(tmp_path / "a.m4a")
    assert (meta.format, meta.subtype, meta.samplerate, meta.channels) == ("FFMPEG", "aac", sr, 2)
    assert meta.duration == pytest.approx(3.0, abs=0.05)
    y, out_sr = audio.load(tmp_path / "a.m4a", sr=None)
    assert out_sr == sr and abs(len(y) - 3 * sr) < 0.05 * sr and y.dtype == np.float32
    assert np.corrcoef(y[:3 * sr], wav.mean(axis=1))[0, 1] > 0.99  # saz's mix-down: the mean of the channels
    part, _ = audio.load(tmp_path / "a.m4a", sr=None, offset=1.0, duration=0.5)
    assert len(part) == sr // 2 and np.corrcoef(part, y[sr:sr + sr // 2])[0, 1] > 0.99
    whole, _ = audio.load(tmp_path / "a.m4a", sr=22050)
    streamed = np.concatenate(list(audio.stream(tmp_path / "a.m4a", sr=22050, block_seconds=0.7)))
    np.testing.assert_allclose(streamed, whole, atol=2e-3)
    (tmp_path / "fake.m4a").write_text("not audio\n")
    with pytest.raises(audio.AudioFormatError) as e:
        audio.load(tmp_path / "fake.m4a")
    assert str(e.value) == (f"{tmp_path / 'fake.m4a'}: not audio or corrupt (.m4a file that ffmpeg cannot decode: "
                            "Invalid data found when processing input)")


def test_without_ffmpeg_an_m4a_says_to_install_it(tmp_path, monkeypatch):
    from saz import ffmpeg

    monkeypatch.setattr(ffmpeg, "executable", lambda: None)
    (tmp_path / "a.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A ")
    with pytest.raises(audio.AudioFormatError) as e:
        audio.load(tmp_path / "a.m4a")
    assert str(e.value) == f"{tmp_path / 'a.m4a'}: .m4a audio needs ffmpeg, which is not installed (not on PATH): install ffmpeg to decode it"
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(audio.AudioFormatError, match="unsupported format '.md'"):  # as before: not a format ffmpeg would read
        audio.load(tmp_path / "notes.md")


def test_a_folder_scan_finds_the_formats_ffmpeg_decodes(tmp_path):
    for name in ("a.m4a", "b.AAC", "c.wma", "d.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in audio.scan(tmp_path).files] == ["a.m4a", "b.AAC", "c.wma"]
