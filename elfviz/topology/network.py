"""Networking value and percolation thresholds of a periodic ELF field, exact to the grid, in one sweep.

Definitions (for a threshold ``t``, the set ``{ELF >= t}`` on the periodic grid, with voxels connected to
their 6 face neighbours by default, or 18/26 neighbours):

* A connected component *wraps* in ``r`` independent lattice directions when its periodic copies are
  connected to each other along ``r`` linearly independent lattice translations (the rank ``r`` of the
  component's translation lattice; 1 = chains, 2 = sheets, 3 = a 3-D network spanning the crystal).
* ``t1 >= t2 >= t3``: the highest ``t`` at which some component wraps in at least 1, 2, 3 directions.
  The *networking value* ``phi`` of Belli et al. (Nat. Commun. 12, 5381 (2021)) is ``t3``: the highest
  ELF isovalue at which the bonding network spans the crystal in all three directions.
* Molecularity index ``phi*``: each atom is mapped to its nearest grid point (Cartesian metric); ``phi*``
  is the highest ``t`` at which one component holds two atoms, or one atom and a periodic image of that
  same atom (the atom's component wraps). Above ``phi*`` every atom sits in its own ELF basin; at ``phi*``
  the first bond (ELF path between two atoms) appears. Atoms that share a grid point (grid too coarse)
  make ``phi*`` equal to the ELF there; a warning is logged.

Algorithm: voxels are processed once in descending ELF order (stable sort, so ties are handled
deterministically; the thresholds do not depend on the order within a plateau because they are properties
of the sets ``{ELF >= t}``). A periodic union-find keeps each voxel's integer lattice offset to its root; an
edge that closes a loop with a non-zero net offset adds a lattice translation to the component, whose rank
is tracked exactly in integer arithmetic. Cost O(N log N) for the sort plus O(N alpha(N)) for the sweep.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..grid import keys
from ._field import (
    atom_count_per_voxel,
    atom_voxels,
    descending_order,
    neighbour_steps,
    prepare_field,
)

log = logging.getLogger(__name__)

_EMPTY_LEVELS = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class NetworkAnalysis:
    """Percolation thresholds of one field.

    Attributes
    ----------
    t1, t2, t3 : float
        Highest field values at which some component of ``{field >= t}`` wraps around the periodic cell in
        at least 1, 2 and 3 independent lattice directions (``t1 >= t2 >= t3``); exact grid values.
    phi : float
        Networking value (== ``t3``).
    phi_star : float or None
        Molecularity index (None without atoms).
    phi_star_atoms : tuple or None
        ``(i, j, image)``: at ``phi_star`` atom ``i`` is first linked to atom ``j`` shifted by the lattice
        vector ``image`` (fractional multiples of the cell vectors); ``i == j`` means the atom is linked to
        its own periodic image.
    chain_direction : tuple of int
        Lattice direction [uvw] (multiples of the cell vectors a, b, c; primitive, first non-zero entry
        positive) of the first component that wraps at ``t1``: ``(0, 0, 1)`` = chains along c.
    sheet_plane : tuple of int
        Miller indices (hkl) of the plane spanned by the first component that wraps in two directions at
        ``t2``: ``(1, 0, 0)`` = sheets parallel to the b-c plane, stacked along a*.
    field : str
        Name of the analysed field.
    shape : tuple
        Grid shape (na, nb, nc).
    connectivity : int
        6, 18 or 26 neighbours.
    value_range : tuple
        (min, max) of the field.
    n_atoms : int
        Number of atoms used for ``phi_star`` (0 without a structure).
    source : str or None
        The Dataset's ``source`` attribute (e.g. ``model:elfnet-fft@1.6`` or ``dft:qe ...``), if any.

    Examples
    --------
    >>> c = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> f = 0.5 + 0.25 * c[:, None, None] + 0.15 * c[None, :, None] + 0.1 * c[None, None, :]
    >>> res = networking_analysis(f)
    >>> round(res.t1, 6), round(res.t2, 6), round(res.t3, 6)   # 0.5 + (A+B-C, A-B+C, -A+B+C)
    (0.8, 0.7, 0.5)
    >>> res.chain_direction, res.sheet_plane, res.percolation_dimension(0.65)
    ((0, 0, 1), (1, 0, 0), 2)
    """

    t1: float
    t2: float
    t3: float
    phi: float
    phi_star: float | None
    phi_star_atoms: tuple[int, int, tuple[int, int, int]] | None
    chain_direction: tuple[int, int, int]
    sheet_plane: tuple[int, int, int]
    field: str
    shape: tuple[int, int, int]
    connectivity: int
    value_range: tuple[float, float]
    n_atoms: int = 0
    source: str | None = None

    @property
    def thresholds(self) -> tuple[float, float, float]:
        """``(t1, t2, t3)``."""
        return (self.t1, self.t2, self.t3)

    def percolation_dimension(self, threshold: float) -> int:
        """Highest wrap rank (0..3) of the components of ``{field >= threshold}``.

        The rank can only grow as the threshold decreases, so it is the number of ``t_k >= threshold``.
        """
        threshold = float(threshold)
        if math.isnan(threshold):
            from ..errors import GridError

            raise GridError("the threshold is NaN; give a number in the field's range")
        return int(sum(t >= threshold for t in self.thresholds))

    def tc_estimate(self):
        """Belli et al. (2021) empirical Tc from ``phi`` (see :func:`elfviz.topology.tc_estimate`)."""
        from .tc import tc_estimate

        return tc_estimate(self.phi)

    def tc_verdict(self, structure: Any = None, *, metallic: bool | None = None):
        """The Tc estimate with its domain for this field's structure (see :func:`elfviz.topology.tc_verdict`).

        Parameters
        ----------
        structure : xarray.Dataset or mapping, optional
            The analysed Dataset (its ``attrs`` and ``numbers`` are read) or just its attributes.
        metallic : bool or None
            What the caller knows about the electronic structure; None: unknown.

        Returns
        -------
        TcVerdict
            ``reported``, ``flagged`` (shown with a warning) or ``withheld`` (with the reason).
        """
        from .tc import tc_verdict

        attrs = getattr(structure, "attrs", structure) or {}
        numbers = None
        if structure is not None and hasattr(structure, "data_vars") and keys.NUMBERS in structure:
            numbers = np.asarray(structure[keys.NUMBERS].values).ravel().tolist()
        return tc_verdict(self.phi, self.phi_star, attrs, numbers=numbers, field=self.field,
                          metallic=metallic)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (plain floats, ints and lists)."""
        return {
            "field": self.field,
            "shape": list(self.shape),
            "connectivity": self.connectivity,
            "value_range": [float(v) for v in self.value_range],
            "t1": self.t1,
            "t2": self.t2,
            "t3": self.t3,
            "phi": self.phi,
            "phi_star": self.phi_star,
            "phi_star_atoms": None if self.phi_star_atoms is None else {
                "i": self.phi_star_atoms[0], "j": self.phi_star_atoms[1],
                "image": list(self.phi_star_atoms[2])},
            "chain_direction": list(self.chain_direction),
            "sheet_plane": list(self.sheet_plane),
            "n_atoms": self.n_atoms,
            "source": self.source,
        }

    def summary(self) -> str:
        """A few human-readable lines."""
        axes = ("1-D (chains)", "2-D (sheets)", "3-D (network)")
        lines = [f"field '{self.field}' on a {'x'.join(map(str, self.shape))} grid, "
                 f"{self.connectivity}-neighbour connectivity, values in "
                 f"[{self.value_range[0]:.4f}, {self.value_range[1]:.4f}]"]
        where = (f"along [{' '.join(map(str, self.chain_direction))}]",
                 f"sheets parallel to ({' '.join(map(str, self.sheet_plane))})", "spanning the crystal")
        for k, t in enumerate(self.thresholds):
            lines.append(f"  t{k + 1} = {t:.6f}  {axes[k]} percolation, {where[k]}")
        lines.append(f"  phi  = {self.phi:.6f}  networking value (= t3)")
        if self.phi_star is None:
            lines.append("  phi* = n/a       (no atoms)")
        else:
            i, j, image = self.phi_star_atoms  # type: ignore[misc]
            link = f"atom {i} to its own image {list(image)}" if i == j else \
                f"atoms {i} and {j} (image {list(image)})"
            lines.append(f"  phi* = {self.phi_star:.6f}  molecularity index: first link between {link}")
        return "\n".join(lines)


def _run_sweep(prepared, connectivity: int, levels: np.ndarray, stop_early: bool):
    from . import _kernels  # numba, imported lazily

    values = prepared.values
    n_voxels = values.size
    order = descending_order(values)
    atom_count = np.zeros(n_voxels, dtype=np.int32)
    voxel = shift = None
    if prepared.positions is not None and len(prepared.positions):
        voxel, shift = atom_voxels(prepared.positions, prepared.cell, prepared.shape)
        atom_count = atom_count_per_voxel(voxel, n_voxels)
    out = _kernels.percolation_sweep(order, values.reshape(-1), np.asarray(prepared.shape, np.int64),
                                     neighbour_steps(connectivity), atom_count, stop_early,
                                     np.ascontiguousarray(levels, dtype=np.float64))
    return out, voxel, shift


def networking_analysis(ds_or_field: Any, *, field: str = keys.ELF, cell: Any = None, positions: Any = None,
                        connectivity: int = 6, any_field: bool = False) -> NetworkAnalysis:
    """Percolation thresholds t1 >= t2 >= t3, networking value phi and molecularity index phi*.

    Parameters
    ----------
    ds_or_field : xarray.Dataset, xarray.DataArray or array_like
        An elfviz Dataset (its ``cell`` and ``positions`` are used for phi*), or a bare 3-D array on the
        periodic grid (point ``(i, j, k)`` at fractional coordinates ``(i/na, j/nb, k/nc)``).
    field : str
        Field of the Dataset to analyse (default ``"elf"``).
    cell : array_like, optional
        (3, 3) lattice vectors as rows, Å; overrides the Dataset's cell. Only the atom -> grid mapping
        depends on it: the thresholds are properties of the grid alone.
    positions : array_like, optional
        (N, 3) Cartesian atom positions, Å; overrides the Dataset's atoms. Needed for ``phi_star``.
    connectivity : {6, 18, 26}
        Voxel neighbourhood: faces (default, the usual choice for ELF percolation), + edges, + corners.
    any_field : bool
        Allow values outside [0, 1] (any scalar field, e.g. a density).

    Returns
    -------
    NetworkAnalysis

    Raises
    ------
    GridError
        Missing, empty, non-3-D or non-finite field, values outside [0, 1] unless ``any_field``.
    StructureError
        Positions without a cell.

    Examples
    --------
    >>> import elfviz.grid as grid
    >>> x = np.arange(12) / 12
    >>> elf = np.broadcast_to(0.5 + 0.25 * np.cos(2 * np.pi * x)[:, None, None], (12, 12, 12))
    >>> ds = grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0], [1.5, 0, 0]], [1, 1], elf)
    >>> res = networking_analysis(ds)
    >>> res.t1 == res.t2 == float(np.float32(0.75)), round(res.phi, 4), round(res.phi_star, 4)
    (True, 0.25, 0.75)
    """
    prepared = prepare_field(ds_or_field, field=field, cell=cell, positions=positions, any_field=any_field)
    (thresholds, event_basis, phi_star, star_pair, *_unused, n_processed), voxel, shift = _run_sweep(
        prepared, connectivity, _EMPTY_LEVELS, stop_early=True)
    log.debug("percolation sweep stopped after %d of %d voxels", n_processed, prepared.values.size)
    t1, t2, t3 = (float(t) for t in thresholds)
    star_atoms = None
    phi_star_value = None
    if voxel is not None and not math.isnan(phi_star):
        phi_star_value = float(phi_star)
        star_atoms = _star_atoms(star_pair, voxel, shift)
    values = prepared.values
    return NetworkAnalysis(
        t1=t1, t2=t2, t3=t3, phi=t3, phi_star=phi_star_value, phi_star_atoms=star_atoms,
        chain_direction=_primitive(event_basis[0, 0]),
        sheet_plane=_primitive(np.cross(event_basis[1, 0], event_basis[1, 1])),
        field=prepared.name, shape=prepared.shape, connectivity=int(connectivity),
        value_range=(float(values.min()), float(values.max())),
        n_atoms=0 if voxel is None else len(voxel),
        source=_source_of(ds_or_field),
    )


def _source_of(obj: Any) -> str | None:
    attrs = getattr(obj, "attrs", None) or {}
    return str(attrs["source"]) if "source" in attrs else None


def _primitive(vector: np.ndarray) -> tuple[int, int, int]:
    """Integer direction divided by its gcd, first non-zero component positive."""
    g = math.gcd(*(int(x) for x in vector))
    return _canonical_direction(np.asarray(vector, dtype=np.int64) // max(g, 1))


def _canonical_direction(vector: np.ndarray) -> tuple[int, int, int]:
    """Sign convention for a lattice direction: first non-zero component positive."""
    v = [int(x) for x in vector]
    for x in v:
        if x != 0:
            if x < 0:
                v = [-y for y in v]
            break
    return tuple(v)  # type: ignore[return-value]


def _star_atoms(star_pair: np.ndarray, voxel: np.ndarray, shift: np.ndarray):
    """Translate the sweep's voxel pair into atom indices and an image vector (see module docs)."""
    va, vb = int(star_pair[0]), int(star_pair[1])
    image_vox = np.asarray(star_pair[2:5], dtype=np.int64)
    on_a = np.flatnonzero(voxel == va)
    if va == vb and not image_vox.any():
        i, j = int(on_a[0]), int(on_a[1])  # two atoms on one grid point
    elif va == vb:
        i = j = int(on_a[0])
    else:
        i, j = int(on_a[0]), int(np.flatnonzero(voxel == vb)[0])
    image = image_vox + shift[i] - shift[j]
    if i == j:
        image = np.asarray(_canonical_direction(image))
    return (i, j, tuple(int(x) for x in image))


def percolation_profile(ds_or_field: Any, thresholds: Any = None, *, field: str = keys.ELF,
                        connectivity: int = 6, any_field: bool = False) -> xr.Dataset:
    """Number of components, largest component and percolation dimension versus threshold, in one sweep.

    Parameters
    ----------
    ds_or_field : xarray.Dataset, xarray.DataArray or array_like
        As for :func:`networking_analysis`.
    thresholds : array_like, optional
        Thresholds to report (any order); default 201 values from the field's minimum to maximum.
    field, connectivity, any_field
        As for :func:`networking_analysis`.

    Returns
    -------
    xarray.Dataset
        Dim ``threshold`` (ascending) with ``n_components``, ``largest_fraction`` (voxels of the largest
        component / all voxels), ``dimension`` (highest wrap rank, 0..3) and ``volume_fraction``
        (fraction of voxels with field >= threshold).

    Examples
    --------
    >>> f = np.random.default_rng(0).random((8, 8, 8))
    >>> prof = percolation_profile(f, [0.0, 0.5, 1.0])
    >>> prof["dimension"].values.tolist(), prof["n_components"].values[0].item()
    ([3, 3, 0], 1)
    """
    prepared = prepare_field(ds_or_field, field=field, any_field=any_field)
    values = prepared.values
    if thresholds is None:
        levels = np.linspace(float(values.min()), float(values.max()), 201)
    else:
        levels = np.unique(np.asarray(thresholds, dtype=np.float64).reshape(-1))
        if levels.size == 0 or not np.all(np.isfinite(levels)):
            from ..errors import GridError

            raise GridError("thresholds must be a non-empty list of finite numbers")
    descending = levels[::-1].copy()
    out, _, _ = _run_sweep(prepared, connectivity, descending, stop_early=False)
    n_comp, largest, dim = (a[::-1] for a in out[4:7])
    flat = np.sort(values.reshape(-1))
    volume = 1.0 - np.searchsorted(flat, levels, side="left") / flat.size
    return xr.Dataset(
        {
            "n_components": ("threshold", n_comp.astype(np.int64),
                             {"long_name": "connected components of {field >= threshold}"}),
            "largest_fraction": ("threshold", largest / values.size,
                                 {"long_name": "largest component / all grid points", "units": "1"}),
            "dimension": ("threshold", dim.astype(np.int64),
                          {"long_name": "highest wrap rank (0 none, 1 chains, 2 sheets, 3 network)"}),
            "volume_fraction": ("threshold", volume, {"long_name": "fraction of grid points >= threshold"}),
        },
        coords={"threshold": ("threshold", levels, {"long_name": f"{prepared.name} threshold"})},
        attrs={"field": prepared.name, "connectivity": int(connectivity)},
    )
