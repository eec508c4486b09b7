"""Deprecated alias of :mod:`elfviz.reference.crystal_fit` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.structures_fit", "elfviz.reference.crystal_fit",
      program="elfviz.cli.programs.crystal_fit")
