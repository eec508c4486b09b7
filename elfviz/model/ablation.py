"""Deprecated alias of :mod:`elfviz.model.training.ablation` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.model.ablation", "elfviz.model.training.ablation",
      program="elfviz.cli.programs.ablation")
