"""Deprecated alias of :mod:`elfviz.model.training.bond_midpoints` (moved in elfviz 0.2)."""

from elfviz._moved import alias

alias(__name__, "elfviz.analysis.bond_midpoints", "elfviz.model.training.bond_midpoints",
      program="elfviz.cli.programs.bond_midpoints")
