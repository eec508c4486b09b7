"""Deprecated alias of :mod:`elfviz.model.training.evaluate` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.model.evaluate", "elfviz.model.training.evaluate",
      program="elfviz.cli.programs.evaluate")
