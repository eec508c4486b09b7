"""Deprecated alias of :mod:`elfviz.model.training.card` (moved in elfviz 0.2; removed in the next release)."""

from elfviz._moved import alias

alias(__name__, "elfviz.model.card", "elfviz.model.training.card")
