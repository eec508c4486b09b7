"""Deprecated alias of :mod:`elfviz.model.correction` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.analysis.learned_correction", "elfviz.model.correction")
