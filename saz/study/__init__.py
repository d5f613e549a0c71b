"""The studies of the HamNava and Persian SSL papers on frozen encoder features (``saz study``).

- :mod:`saz.study.data`: encoders named on the command line, and a task's arrays (HamNava's
  official splits; Nava-style recordings cut into clips and split by recording).
- :mod:`saz.study.trial`: one head trained on one variant and seed (a plain function, so an
  engine can map it).
- :mod:`saz.study.runner`: variants x seeds, scored, mean ± std over seeds, paired p-values
  against the best, written as Markdown, JSON and plots.
- :mod:`saz.study.studies`: protocols, and the encoders, layers, depth and clip-length sweeps.
- :mod:`saz.study.report`: the tables, JSON and plots.
"""
