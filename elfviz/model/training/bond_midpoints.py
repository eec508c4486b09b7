"""ELF at the midpoints of atom pairs: reference against prediction, by pair distance.

The networking value φ of a crystal is set by one symmetry-equivalent saddle of the ELF, usually at the
midpoint of a bond; in a liquid φ is set by one of many different saddles. This module measures how well a
prediction reproduces the ELF at bond midpoints of a chosen length, on crystals and liquid frames alike, so
that a crystal's φ error can be compared with the model's typical point error at such midpoints.

Run ``python -m elfviz.cli.programs.bond_midpoints`` for the bundled model and dataset (see ``--help``), or with
``--files REFERENCE OTHER`` to compare two fields of one structure (e.g. a label against the same frame at a
denser k-mesh from ``elfviz reference --like``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ... import grid
from ...analysis.residuals import check_same_structure
from ...errors import GridError
from ...grid import keys
from ...grid.pairs import pair_midpoints


def bond_midpoint_values(
    reference: xr.Dataset, prediction: xr.Dataset, d_min: float, d_max: float
) -> xr.Dataset:
    """Reference and predicted ELF at the midpoints of all pairs with distances in ``[d_min, d_max]`` Å.

    Both Datasets must hold the same structure on the same grid (as ``elfviz predict --like`` writes).

    Returns
    -------
    xarray.Dataset
        Variables ``distance`` (Å), ``elf_reference``, ``elf_prediction`` and ``error`` (prediction minus
        reference) along dimension ``pair``.
    """
    check_same_structure(reference, prediction)
    for name, ds in (("reference", reference), ("prediction", prediction)):
        if keys.ELF not in ds:
            raise GridError(f"the {name} Dataset has no 'elf' field")
    distances, midpoints = pair_midpoints(
        reference[keys.POSITIONS].values, reference[keys.CELL].values, d_min, d_max
    )
    ref = grid.interpolate_periodic(reference[keys.ELF].values, midpoints)
    pred = grid.interpolate_periodic(prediction[keys.ELF].values, midpoints)
    return xr.Dataset(
        {
            "distance": ("pair", distances),
            "elf_reference": ("pair", ref),
            "elf_prediction": ("pair", pred),
            "error": ("pair", pred - ref),
        },
        attrs={"d_min": d_min, "d_max": d_max},
    )


def summarize(values: xr.Dataset) -> dict[str, float]:
    """Pair count, mean reference ELF, mean signed error, mean and 90th-percentile absolute error.

    Summarizes :func:`bond_midpoint_values`; NaN statistics when there are no pairs.
    """
    n = int(values.sizes["pair"])
    if n == 0:
        return {"pairs": 0, "elf_reference": np.nan, "bias": np.nan, "mae": np.nan, "p90": np.nan}
    error = values["error"].values
    return {
        "pairs": n,
        "elf_reference": float(values["elf_reference"].mean()),
        "bias": float(error.mean()),
        "mae": float(np.abs(error).mean()),
        "p90": float(np.percentile(np.abs(error), 90)),
    }
