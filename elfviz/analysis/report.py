"""Deprecated alias of :mod:`elfviz.model.training.report` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.analysis.report", "elfviz.model.training.report",
      program="elfviz.cli.programs.report")
