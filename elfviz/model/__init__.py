"""The bundled ELF model: FFT neighbour-density descriptors + per-point networks (an ensemble; torch).

``from elfviz.model import Predictor`` loads the shipped weights; see ``MODEL_CARD.md``.

Examples
--------
>>> from elfviz.model import Predictor        # doctest: +SKIP
>>> Predictor().version                       # doctest: +SKIP
'elfnet-fft@1.6'
"""

from .descriptors import DescriptorSpec, compute_descriptors
from .predictor import BUNDLED_WEIGHTS, DensityRangeWarning, Predictor, UncertainPredictionWarning

__all__ = [
    "BUNDLED_WEIGHTS",
    "DensityRangeWarning",
    "DescriptorSpec",
    "Predictor",
    "UncertainPredictionWarning",
    "compute_descriptors",
]
