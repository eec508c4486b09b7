"""The bundled ELF model: FFT neighbour-density descriptors + per-point network (torch).

``from elfviz.model import Predictor`` loads the shipped weights; see ``MODEL_CARD.md``.
"""
