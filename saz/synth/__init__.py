"""Generated polyphonic music with exact labels: rendered from scores through SoundFonts and real
recordings (:mod:`saz.synth.render`), mixed from sample libraries (:mod:`saz.synth.library`), and the
saz-bench corpora built from them (:mod:`saz.synth.bench`). Needs the ``synth`` extra to render."""
