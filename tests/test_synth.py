"""Generators: labels match the audio, the same seed gives the same bytes, mixes never clip."""

import hashlib
import os
import sys
from dataclasses import replace

import numpy as np
import pytest

from saz.datasets import load
from saz.synth import optional
from saz.synth.fluid import Note, Renderer
from saz.synth.instruments import class_presets, coverage
from saz.vocabulary import default_vocabulary, load_map
from saz.synth.library import LibraryConfig, LibraryGenerator, library_pools, pools_from_dataset, split_recordings
from saz.synth.mix import MixConfig, activity, frame_rms_db, mix
from saz.synth.parts import Part, isolated_notes
from saz.synth.render import RenderConfig, RenderGenerator
from saz.synth.soundfont import Preset, SoundFontError, find_soundfont, presets
from conftest import tone

SR = 22050


@pytest.fixture(scope="module")
def fluid():
    return Renderer(find_soundfont("FluidR3_GM"), SR)


@pytest.mark.needs_soundfont("FluidR3_GM", "TimGM6mb")
def test_soundfont_preset_tables():
    fluid = presets(find_soundfont("FluidR3_GM"))
    assert Preset(0, 104, "Sitar") in fluid and any(p.bank == 128 for p in fluid)
    tim = coverage(find_soundfont("TimGM6mb"))
    assert tim["mandolin"] == [] and tim["ukulele"] == []  # absent there: reported, not faked
    assert [p.name for p in class_presets(find_soundfont("FluidR3_GM"), load_map()["mandolin"])] == ["Mandolin"]


def test_not_a_soundfont(tmp_path):
    p = tmp_path / "x.sf2"
    p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    with pytest.raises(SoundFontError, match="not a SoundFont"):
        presets(p)


def test_soundfonts_are_looked_up_in_saz_soundfont_dirs(tmp_path, monkeypatch):
    (tmp_path / "mine.sf2").write_bytes(b"")
    monkeypatch.setenv("SAZ_SOUNDFONT_DIRS", f"{tmp_path / 'none'}{os.pathsep}{tmp_path}")
    assert find_soundfont("mine") == tmp_path / "mine.sf2"
    with pytest.raises(FileNotFoundError, match=r"SoundFont 'FluidR3_GM' not found in .*none, .*: apt-get install fluid-soundfont-gm"):
        find_soundfont("FluidR3_GM")
    with pytest.raises(FileNotFoundError, match="put other.sf2 or other.sf3 in one of them"):
        find_soundfont("other")


def test_a_missing_fluidsynth_names_what_to_install(tmp_path, monkeypatch):
    """pyfluidsynth not installed, or installed without the C library it loads: each says its own fix."""
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # as if pyfluidsynth were not installed
    with pytest.raises(optional.SynthUnavailable, match=r"pyfluidsynth is not available .*pip install 'saz\[synth\]'"):
        optional.fluidsynth()
    monkeypatch.delitem(sys.modules, "fluidsynth")
    (tmp_path / "fluidsynth.py").write_text("raise ImportError(\"Couldn't find the FluidSynth library.\")\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # pyfluidsynth's own error where libfluidsynth is missing
    with pytest.raises(optional.SynthUnavailable, match="FluidSynth is not available .*: apt-get install fluidsynth") as e:
        optional.fluidsynth()
    assert (e.value.needs, e.value.install) == ("FluidSynth", "apt-get install fluidsynth")


def test_default_vocabulary_has_openmic_and_cultural_classes():
    v = default_vocabulary()
    assert len(v) == 32
    assert {"accordion", "voice", "ukulele", "mallet_percussion", "sitar", "dulcimer", "taiko", "harp"} <= set(v.names)


@pytest.mark.needs_fluidsynth("FluidR3_GM")
def test_single_note_has_energy_only_while_it_sounds(fluid):
    y = fluid.render([Note(1.0, 0.5, 60)], Preset(0, 0, "piano"), 3.0)
    db = frame_rms_db(y)
    t = np.arange(len(db)) * 512 / SR
    assert len(y) == 3 * SR
    assert db[t < 0.98].max() < -100  # silent before the onset
    assert db[(t > 1.05) & (t < 1.45)].min() > -40  # sounding while held
    assert db[t > 2.6].max() < db[(t > 1.05) & (t < 1.45)].min() - 40  # released and decayed


@pytest.mark.needs_fluidsynth("FluidR3_GM")
def test_renderer_is_deterministic_for_the_same_calls(fluid):
    """Same calls on a fresh renderer give the same bytes (what seeded corpus chunks rely on);
    a stem rendered after others differs from its fresh rendering by less than -30 dB."""
    notes = [Note(0.2, 0.4, 64), Note(0.7, 0.6, 67, 80)]
    a = fluid.render(notes, Preset(0, 40, "violin"), 1.5)
    fluid.render([Note(0.0, 3.0, 40)], Preset(0, 19, "organ"), 1.0)  # a held note cut mid-way
    b = fluid.render(notes, Preset(0, 40, "violin"), 1.5)
    assert np.abs(a - b).max() < 0.03 * np.abs(a).max()
    fresh = Renderer(find_soundfont("FluidR3_GM"), SR)
    c = fresh.render(notes, Preset(0, 40, "violin"), 1.5)
    fresh.render([Note(0.0, 3.0, 40)], Preset(0, 19, "organ"), 1.0)
    np.testing.assert_array_equal(c, a)
    np.testing.assert_array_equal(fresh.render(notes, Preset(0, 40, "violin"), 1.5), b)
    drums = fluid.render([Note(0.1, 0.1, 36)], Preset(128, 0, "kit"), 1.0)
    assert np.abs(drums).max() > 0.01


def test_mix_normalises_and_never_clips():
    rng = np.random.default_rng(0)
    stems = {"a": tone(SR, 2.0, 220, amp=3.0), "b": tone(SR, 2.0, 330, amp=0.01)}
    cfg = MixConfig(peak_db=(-3.0, -1.0))
    y, scales = mix(stems, rng, cfg)
    peak_db = 20 * np.log10(np.abs(y).max())
    assert -3.0 - 1e-6 <= peak_db <= -1.0 + 1e-6
    assert set(scales) == {"a", "b"} and all(s > 0 for s in scales.values())


def test_labels_follow_audibility():
    rng = np.random.default_rng(1)
    n = 2 * SR
    late = np.zeros(n, np.float32)
    late[SR:] = tone(SR, 1.0, 440)
    stems = {"a": tone(SR, 2.0, 220), "b": late, "c": np.zeros(n, np.float32)}
    y, scales = mix(stems, rng)
    act, present = activity(stems, scales, y, ["a", "b", "c", "d"])
    assert list(present) == [1, 1, 0, 0]  # the silent stem and the absent class are not labelled
    frames_t = np.arange(act.shape[0]) * 512 / SR
    assert act[frames_t < 0.95, 1].sum() == 0 and act[frames_t > 1.05, 1].all()
    assert act[:, 2].sum() == 0


def test_masked_or_too_short_source_is_not_labelled():
    rng = np.random.default_rng(2)
    blip = np.zeros(SR, np.float32)
    blip[1000:1500] = tone(SR, 500 / SR, 900)  # 23 ms: shorter than min_duration
    stems = {"loud": tone(SR, 1.0, 200), "blip": blip}
    y, scales = mix(stems, rng, MixConfig(gain_db=(0, 0)))
    _, present = activity(stems, scales, y, ["loud", "blip"], MixConfig(min_duration=0.1))
    assert list(present) == [1, 0]


def test_part_window_and_transposition():
    p = Part("melody", [Note(0.0, 1.0, 30), Note(6.0, 1.0, 100), Note(9.0, 1.0, 60)])
    w = p.window(5.0, 3.0)
    assert [(n.start, n.pitch) for n in w.notes] == [(1.0, 100)]
    assert p.window(7.5, 1.0).notes == []  # a part resting through the window: nothing to label
    t = p.transposed(55, 79)
    assert all(55 <= n.pitch <= 79 for n in t.notes)


def test_isolated_notes_stay_in_range_in_the_clip_and_apart():
    rng = np.random.default_rng(0)
    for _ in range(50):
        part = isolated_notes(rng, 5.0, (60, 72))
        starts = [n.start for n in part.notes]
        assert part.notes and starts == sorted(starts)
        assert all(60 <= n.pitch <= 72 and 0 <= n.start and n.start + n.duration <= 5.0 + 1e-9 for n in part.notes)
        assert all(a.start + a.duration <= b.start + 1e-9 for a, b in zip(part.notes, part.notes[1:]))  # one at a time
    kit = isolated_notes(np.random.default_rng(1), 5.0, (49, 51, 57), drum=True)
    assert {n.pitch for n in kit.notes} <= {49, 51, 57}
    sparse = [isolated_notes(np.random.default_rng(k), 5.0, (60, 72), sparse=1.0) for k in range(20)]
    assert max(len(p.notes) for p in sparse) <= 3  # alone in 1.5-4 s of silence: at most a few notes in 5 s


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_preset_isolated_renders_notes_in_silence():
    cfg = RenderConfig(soundfonts=("TimGM6mb",), seconds=3.0, classes=("flute", "cello"), max_instruments=1)
    plain = list(RenderGenerator(cfg, seed=3)(0, list(range(4))))
    isolated = list(RenderGenerator(replace(cfg, preset_isolated=1.0, sample_sparse=1.0), seed=3)(0, list(range(4))))
    assert _digest(isolated) != _digest(plain)
    for clip in isolated:
        assert clip.labels.sum() == 1 and np.isfinite(clip.audio).all()
        frames = np.abs(clip.audio[: len(clip.audio) // 512 * 512]).reshape(-1, 512).max(axis=1)
        assert (frames < 1e-4).mean() > 0.2  # sparse single notes leave long silences


def _digest(clips):
    h = hashlib.sha256()
    for c in clips:
        h.update(c.audio.tobytes())
        h.update(c.activity.tobytes())
        h.update(c.labels.tobytes())
    return h.hexdigest()


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_render_generator_same_seed_same_bytes_and_labels_match_audio():
    cfg = RenderConfig(soundfonts=("TimGM6mb",), seconds=2.0)
    a = list(RenderGenerator(cfg, seed=5)(0, list(range(6))))
    b = list(RenderGenerator(cfg, seed=5)(0, list(range(6))))
    c = list(RenderGenerator(cfg, seed=6)(0, list(range(6))))
    assert _digest(a) == _digest(b) != _digest(c)
    classes = list(load_map())
    for clip in a:
        assert clip.audio.dtype == np.float32 and len(clip.audio) == 2 * SR
        assert np.abs(clip.audio).max() <= 1.0
        labelled = {classes[j] for j in np.flatnonzero(clip.labels)}
        assert labelled <= set(clip.meta["instruments"].split(";"))  # nothing labelled that was not played
        assert "mandolin" not in clip.meta["instruments"]  # TimGM6mb has no mandolin preset
        np.testing.assert_array_equal(clip.labels, (clip.activity.sum(axis=0) > 0).astype(np.float32))


def test_library_split_by_recording_and_category_rule(tone_library):
    ds = load("samples", tone_library)
    clips = ds.clips.assign(**{"class": [ds.vocab.names[j] for j in ds.y.argmax(1)]})
    split = split_recordings(clips, 0.5, seed=0)
    for _, g in clips.groupby("recording"):
        assert split[g.index].nunique() == 1  # a recording never lands in two splits
    assert set(split) == {"train", "test"}
    pools = pools_from_dataset(clips, 0.5, seed=0)
    assert not {p for p, _, _ in pools["train"]} & {p for p, _, _ in pools["test"]}
    assert library_pools(ds, 0.5, seed=0) == pools  # each recording's class is its one label
    gen = LibraryGenerator(pools["train"], ds.vocab.names, LibraryConfig(seconds=2.0, min_instruments=4, max_instruments=4), 3)
    category = dict(zip(clips["class"], clips["category"]))
    for clip in gen(0, list(range(5))):
        chosen = clip.meta["instruments"].split(";")
        assert sorted(category[c] for c in chosen) == ["aerophone", "chordophone", "idiophone", "membranophone"]
        assert np.abs(clip.audio).max() <= 1.0
    again = list(LibraryGenerator(pools["train"], ds.vocab.names, LibraryConfig(seconds=2.0), 3)(0, [0, 1]))
    twice = list(LibraryGenerator(pools["train"], ds.vocab.names, LibraryConfig(seconds=2.0), 3)(0, [0, 1]))
    assert _digest(again) == _digest(twice)


ORPHAN_SCRIPT = '''
import os, sys, time
from pathlib import Path
import numpy as np
from saz.synth.corpus import Clip, build_split

MARKS = Path(sys.argv[2])

def slow(chunk, indices):
    for i in indices:
        time.sleep(0.3)
        (MARKS / f"{os.getpid()}-{i}").touch()
        yield Clip(f"c{i}", np.zeros(800, np.float32), np.zeros((2, 1), np.uint8), np.zeros(1, np.float32), {})

if __name__ == "__main__":
    build_split(slow, Path(sys.argv[1]), "train", 80, ["x"], 8000, chunk_size=40, workers=2)
'''


def test_corpus_workers_stop_when_their_parent_is_killed(tmp_path):
    """A corpus build killed with SIGKILL must not leave its workers rendering whole chunks."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script, marks = tmp_path / "build.py", tmp_path / "marks"
    script.write_text(ORPHAN_SCRIPT)
    marks.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "out"), str(marks)])
    deadline = time.time() + 60
    while len({p.name.split("-")[0] for p in marks.iterdir()}) < 2 and time.time() < deadline:
        time.sleep(0.1)
    workers = {int(p.name.split("-")[0]) for p in marks.iterdir()}
    assert len(workers) == 2, "both workers should have started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # a chunk takes 12 s; a worker that checks its parent stops after one clip
    alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}") and
             open(f"/proc/{pid}/stat").read().split()[2] != "Z"]
    made = len(list(marks.iterdir()))
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers {alive} still running after their parent was killed"
    assert made < 80
    assert not (tmp_path / "out" / "parts" / "train" / "00000.csv").exists()
