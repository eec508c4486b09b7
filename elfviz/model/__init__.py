"""The bundled ELF model: FFT neighbour-density descriptors + per-point networks (an ensemble; torch).

``from elfviz.model import Predictor`` loads the shipped weights; see ``MODEL_CARD.md``.

=========================  ===============================================================================
module                     job (inference: imports only elfviz.grid, elfviz.errors, elfviz.resources)
=========================  ===============================================================================
:mod:`.descriptors`        rotation-invariant neighbour-density descriptors, computed exactly by FFT (torch)
:mod:`.network`            the per-point networks and the ensemble; reading and writing weights
:mod:`.predictor`          :class:`Predictor`: a structure in, its ELF on a grid out (CPU or CUDA)
:mod:`.atom_channels`      atom-weighted neighbour densities (fixed atom features, FFT and direct sums)
:mod:`.atom_network`       the atom-channel network: learned atom channels + a long-wavelength path (candidate)
:mod:`.atom_messages`      message-passing atom channels and their densities (direct sums and FFT)
:mod:`.lowk_head`          the long-wavelength head trained with a network (low-|G| Fourier features)
:mod:`.message_model`      the message-passing family as a model to load: members, their description (#21)
:mod:`.correction`         the Fourier correction of the long-wavelength residual (NumPy; weights/corrections/)
:mod:`.training`           training, evaluation, the model card, ablations (reads the dataset)
=========================  ===============================================================================

The names below are imported on first use, so ``elfviz.model.correction`` or the training reports do not
load torch.

Examples
--------
>>> from elfviz.model import Predictor        # doctest: +SKIP
>>> Predictor().version                       # doctest: +SKIP
'elfnet-msg@2.1'
"""

__all__ = [
    "BUNDLED_WEIGHTS",
    "DensityRangeWarning",
    "DescriptorSpec",
    "Predictor",
    "UncertainPredictionWarning",
    "compute_descriptors",
]


def __getattr__(name: str):
    if name in ("DescriptorSpec", "compute_descriptors"):
        from . import descriptors

        return getattr(descriptors, name)
    if name in ("BUNDLED_WEIGHTS", "DensityRangeWarning", "Predictor", "UncertainPredictionWarning"):
        from . import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'elfviz.model' has no attribute {name!r}")
