"""Deprecated alias of :mod:`elfviz.model.training.correction_fit` (moved in elfviz 0.2)."""

from elfviz._moved import alias

alias(__name__, "elfviz.analysis.correction_fit", "elfviz.model.training.correction_fit")
