"""The numbers of one predicted frame: t1, t2, t3, phi, phi*, components and H2 molecules at an isovalue."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from ..grid import keys
from ..topology import ComponentReport, components_at, networking_analysis

FRAME_NUMBERS = {
    "t1": ("1", "highest ELF with a component wrapping in >= 1 direction"),
    "t2": ("1", "highest ELF with a component wrapping in >= 2 directions"),
    "t3": ("1", "highest ELF with a component wrapping in 3 directions"),
    "phi": ("1", "networking value (= t3), Belli et al., Nat. Commun. 12, 5381 (2021)"),
    "phi_star": ("1", "molecularity index: highest ELF at which two atoms (or an atom and its image) are linked"),
    "n_components": ("1", "connected components of {ELF >= isovalue}"),
    "dimension": ("1", "percolation dimension of {ELF >= isovalue} (0-3)"),
    "n_molecules": ("1", "components of {ELF >= isovalue} holding exactly two atoms and not wrapping (H2)"),
    "molecular_fraction": ("1", "fraction of the atoms in two-atom components of {ELF >= isovalue} (H2 molecules)"),
    "member_std_mean": ("1", "mean over the grid of the member networks' ELF standard deviation (NaN: not "
                             "measured)"),
}
"""Per-frame numbers: name -> (units, description)."""


def molecule_components(report: ComponentReport) -> np.ndarray:
    """Ids of the components that are H2 molecules: exactly two atoms and no wrapping around the cell.

    Examples
    --------
    >>> from elfviz import grid
    >>> f = np.zeros((12, 12, 12)); f[2:6, 3, 3] = 0.9                  # one bond between two atoms
    >>> ds = grid.make_dataset(np.eye(3) * 6, [[1, 1.5, 1.5], [2.5, 1.5, 1.5]], [1, 1], f)
    >>> molecule_components(components_at(ds, 0.5)).tolist()
    [0]
    """
    comp = np.asarray(report.atom_component)
    counts = np.bincount(comp[comp >= 0], minlength=report.n_components)
    return np.flatnonzero((counts == 2) & (np.asarray(report.wrap_rank) == 0))


def molecular_fraction(report: ComponentReport) -> float:
    """Fraction of the atoms that sit in H2 molecules (:func:`molecule_components`) of ``report``.

    NaN for a structure without atoms. An atom below the threshold counts as not molecular.
    """
    comp = np.asarray(report.atom_component)
    if comp.size == 0:
        return math.nan
    molecular = np.isin(comp, molecule_components(report))
    return float(molecular.sum() / comp.size)


def frame_numbers(ds: xr.Dataset, isovalue: float, *, field: str = keys.ELF, connectivity: int = 6,
                  analysis: Any = None) -> dict[str, Any]:
    """t1, t2, t3, phi, phi*, components, H2 molecules and member spread of one frame with an ELF field.

    Parameters
    ----------
    ds : xarray.Dataset
        An elfviz Dataset with ``field`` (e.g. from :meth:`elfviz.model.Predictor.predict`); its
        ``member_std_mean`` attribute (``predict(..., member_spread=True)``) is passed on.
    isovalue : float
        ELF value at which components and molecules are counted, in [0, 1].
    field : str
        The field to analyse.
    connectivity : int
        Grid neighbours, 6, 18 or 26 (as :func:`elfviz.topology.networking_analysis`).
    analysis : NetworkAnalysis, optional
        ``networking_analysis(ds, field=field, connectivity=connectivity)`` when the caller has it already
        (the sweep is not run twice).

    Returns
    -------
    dict
        The keys of :data:`FRAME_NUMBERS`, floats (NaN where undefined: phi* without an atom pair,
        ``member_std_mean`` without a member spread) and ints.

    Examples
    --------
    >>> from elfviz import grid
    >>> f = np.zeros((12, 12, 12)); f[2:6, 3, 3] = 0.9
    >>> ds = grid.make_dataset(np.eye(3) * 6, [[1, 1.5, 1.5], [2.5, 1.5, 1.5]], [1, 1], f)
    >>> n = frame_numbers(ds, 0.5)
    >>> n["n_molecules"], n["molecular_fraction"], round(n["phi_star"], 2)
    (1, 1.0, 0.9)
    """
    if analysis is None:
        analysis = networking_analysis(ds, field=field, connectivity=connectivity)
    report = components_at(ds, float(isovalue), field=field, connectivity=connectivity)
    spread = ds.attrs.get("member_std_mean")
    return {
        "t1": float(analysis.t1), "t2": float(analysis.t2), "t3": float(analysis.t3), "phi": float(analysis.phi),
        "phi_star": math.nan if analysis.phi_star is None else float(analysis.phi_star),
        "n_components": report.n_components, "dimension": report.dimension,
        "n_molecules": int(len(molecule_components(report))), "molecular_fraction": molecular_fraction(report),
        "member_std_mean": math.nan if spread is None else float(spread),
    }
