"""Networking value φ of each member network of an ensemble: how far the prediction's φ is settled.

The bundled model is the mean of several networks trained alike from different seeds. Where the structure is
like the training data they agree; where it is not (e.g. a crystal unlike any fluid configuration) their ELF
fields, and so their φ, scatter. The range of the members' φ needs no reference, but the members share part
of their error, so it is a lower bound on the uncertainty rather than an error bar: the model card reports how
often it contained the DFT value on the held-out frames.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..grid import keys


def member_networking_values(predictor: Any, predicted: xr.Dataset, *, connectivity: int = 6) -> np.ndarray:
    """φ of each member network's ELF on the grid of a prediction.

    Parameters
    ----------
    predictor : elfviz.model.Predictor
        The predictor that made ``predicted`` (an ensemble has one value per member, a single network one).
    predicted : xarray.Dataset
        Its prediction (``positions`` Å, ``cell`` Å, ``elf`` on the grid). The members' fields are those of the
        networks alone: a Fourier correction of ``predicted`` is not applied to them. If ``predicted`` is the
        predictor's latest ensemble prediction made with ``member_spread=True``, its members' fields are
        reused (:meth:`~elfviz.model.Predictor.member_values`); otherwise they are evaluated once more.
    connectivity : {6, 18, 26}
        Voxel neighbourhood of the percolation analysis.

    Returns
    -------
    numpy.ndarray
        φ per member (dimensionless ELF isovalue), shape ``(n_members,)``.

    Examples
    --------
    >>> from elfviz.model import Predictor
    >>> from elfviz.structures import build_phase
    >>> predictor = Predictor(device="cpu")
    >>> pred = predictor.predict(build_phase("I41amd", rs=1.45), spacing=0.15)  # doctest: +SKIP
    >>> member_networking_values(predictor, pred)  # doctest: +SKIP
    array([0.61, 0.64, 0.67, 0.63])
    """
    from ..topology import networking_analysis

    values = predictor.member_values(predicted[keys.POSITIONS].values, predicted[keys.CELL].values,
                                     predicted[keys.ELF].shape)
    dims = predicted[keys.ELF].dims
    fields = (predicted.assign(elf=(dims, np.clip(v, 0.0, 1.0))) for v in values)
    return np.array([float(networking_analysis(ds, connectivity=connectivity).phi) for ds in fields])
