"""Connected components of ``{field >= t}`` on the periodic grid: labels, wrap ranks, atoms and bonds.

The set is labelled inside the cell with :func:`scipy.ndimage.label`; pieces that touch across the
periodic faces are then merged with a union-find that keeps each piece's lattice offset, so that loops
around the torus yield the component's lattice translations exactly. The translation lattice of every
component is returned in Hermite normal form (a canonical basis: rank 1 along c is ``[[0, 0, 1]]``).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import GridError
from ..grid import keys
from ._field import atom_voxels, neighbour_steps, prepare_field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComponentReport:
    """The connected components of ``{field >= threshold}``.

    Components are numbered 0..n-1 by decreasing size (ties: the one reached first in C order over
    a, b, c comes first).

    Attributes
    ----------
    threshold : float
        The threshold used (values >= threshold are inside).
    field : str
        Field name.
    connectivity : int
        6, 18 or 26.
    labels : numpy.ndarray
        int32 (na, nb, nc): component id of each grid point, -1 below the threshold.
    sizes : numpy.ndarray
        int64 (n,): grid points per component.
    wrap_rank : numpy.ndarray
        int64 (n,): number of independent lattice directions in which each component wraps (0..3).
    translations : tuple of numpy.ndarray
        Per component, the (rank, 3) Hermite-normal-form basis of its lattice translations, in units of
        the cell vectors (a component with basis ``[[0, 0, 1]]`` is an infinite chain along c).
    atom_component : numpy.ndarray
        int64 (n_atoms,): component of each atom's nearest grid point, -1 if below the threshold.
    atom_image : numpy.ndarray
        int64 (n_atoms, 3): lattice shift that moves each atom into its component's reference copy.
    bonds : numpy.ndarray
        int64 (n_bonds, 5) rows ``(i, j, na, nb, nc)`` with i < j: atoms i and j are linked through
        ``{field >= threshold}``, atom j taken at ``position_j + (na, nb, nc) @ cell``. For a wrapping
        component the image is only defined up to its translations; the shortest (Cartesian) choice is
        given when the cell is known.
    """

    threshold: float
    field: str
    connectivity: int
    labels: np.ndarray = field(repr=False)
    sizes: np.ndarray
    wrap_rank: np.ndarray
    translations: tuple[np.ndarray, ...]
    atom_component: np.ndarray
    atom_image: np.ndarray = field(repr=False)
    bonds: np.ndarray = field(repr=False)

    @property
    def n_components(self) -> int:
        """Number of connected components."""
        return int(len(self.sizes))

    @property
    def dimension(self) -> int:
        """Highest wrap rank of any component (0 if there is none)."""
        return int(self.wrap_rank.max()) if len(self.wrap_rank) else 0

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.labels.shape)  # type: ignore[return-value]

    @property
    def volume_fraction(self) -> float:
        """Fraction of grid points at or above the threshold."""
        return float(self.sizes.sum() / self.labels.size)

    def atoms_in(self, component: int) -> np.ndarray:
        """Indices of the atoms whose grid point lies in ``component``."""
        return np.flatnonzero(self.atom_component == component)

    def to_dict(self, *, include_labels: bool = False) -> dict[str, Any]:
        """JSON-able summary; the (large) label field only if ``include_labels``."""
        out: dict[str, Any] = {
            "threshold": self.threshold,
            "field": self.field,
            "connectivity": self.connectivity,
            "shape": list(self.shape),
            "n_components": self.n_components,
            "dimension": self.dimension,
            "volume_fraction": self.volume_fraction,
            "components": [
                {"id": k, "size": int(self.sizes[k]), "wrap_rank": int(self.wrap_rank[k]),
                 "translations": self.translations[k].tolist(), "atoms": self.atoms_in(k).tolist()}
                for k in range(self.n_components)
            ],
            "atom_component": self.atom_component.tolist(),
            "bonds": [{"i": int(b[0]), "j": int(b[1]), "image": b[2:].tolist()} for b in self.bonds],
        }
        if include_labels:
            out["labels"] = self.labels.tolist()
        return out

    def to_dataset(self) -> xr.Dataset:
        """The labels and per-component / per-atom results as an ``xarray.Dataset`` (dims a, b, c,
        component, atom) for plotting and colouring isosurfaces."""
        na, nb, nc = self.shape
        return xr.Dataset(
            {
                "component_label": (("a", "b", "c"), self.labels,
                                    {"long_name": f"component of {{{self.field} >= {self.threshold:g}}}",
                                     "missing": -1}),
                "component_size": ("component", self.sizes, {"units": "grid points"}),
                "wrap_rank": ("component", self.wrap_rank),
                "atom_component": ("atom", self.atom_component),
            },
            coords={"a": np.arange(na) / na, "b": np.arange(nb) / nb, "c": np.arange(nc) / nc,
                    "component": np.arange(self.n_components), "atom": np.arange(len(self.atom_component))},
            attrs={"threshold": self.threshold, "field": self.field, "connectivity": self.connectivity,
                   "dimension": self.dimension},
        )


def components_at(ds: Any, threshold: float, *, field: str = keys.ELF, cell: Any = None, positions: Any = None,
                  connectivity: int = 6, any_field: bool = False) -> ComponentReport:
    """Connected components of ``{field >= threshold}`` on the periodic grid.

    Parameters
    ----------
    ds : xarray.Dataset, xarray.DataArray or array_like
        An elfviz Dataset (atoms from its ``positions``/``cell``) or a bare 3-D periodic field.
    threshold : float
        Grid points with ``value >= threshold`` are inside.
    field : str
        Field of the Dataset (default ``"elf"``).
    cell, positions : array_like, optional
        Lattice vectors (rows, Å) and Cartesian positions (Å), overriding the Dataset's.
    connectivity : {6, 18, 26}
        Voxel neighbourhood.
    any_field : bool
        Allow values outside [0, 1].

    Returns
    -------
    ComponentReport

    Examples
    --------
    >>> f = np.zeros((6, 6, 6)); f[:, 0, 0] = 1.0; f[2, 3, 3] = 1.0   # a chain along a and a dot
    >>> rep = components_at(f, 0.5)
    >>> rep.n_components, rep.sizes.tolist(), rep.wrap_rank.tolist(), rep.translations[0].tolist()
    (2, [6, 1], [1, 0], [[1, 0, 0]])
    """
    prepared = prepare_field(ds, field=field, cell=cell, positions=positions, any_field=any_field)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise GridError(f"the threshold must be a number, got {threshold!r}") from None
    if not np.isfinite(threshold):
        raise GridError(f"the threshold must be a finite number, got {threshold}")
    values = prepared.values
    shape = prepared.shape
    labels, sizes, ranks, translations, piece_offset, piece_lab = _periodic_components(
        values >= threshold, connectivity)

    n_atoms = 0 if prepared.positions is None else len(prepared.positions)
    atom_component = np.full(n_atoms, -1, dtype=np.int64)
    atom_image = np.zeros((n_atoms, 3), dtype=np.int64)
    bonds = np.zeros((0, 5), dtype=np.int64)
    if n_atoms:
        voxel, shift = atom_voxels(prepared.positions, prepared.cell, shape)
        atom_component = labels.reshape(-1)[voxel].astype(np.int64)
        pieces = piece_lab.reshape(-1)[voxel]
        inside = atom_component >= 0
        atom_image[inside] = piece_offset[pieces[inside] - 1] - shift[inside]
        bonds = _bond_list(atom_component, atom_image, translations, prepared.positions, prepared.cell)
    return ComponentReport(threshold=threshold, field=prepared.name, connectivity=int(connectivity),
                           labels=labels, sizes=sizes, wrap_rank=ranks, translations=translations,
                           atom_component=atom_component, atom_image=atom_image, bonds=bonds)


def _structure(connectivity: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[connectivity])


def _boundary_edges(piece_lab: np.ndarray, connectivity: int):
    """Edges between labelled pieces across the periodic faces: (src, dst, shift), 0-based pieces."""
    shape = np.asarray(piece_lab.shape, dtype=np.int64)
    steps = [s for s in neighbour_steps(connectivity) if tuple(s) > (0, 0, 0)]  # each undirected edge once
    # grid points on the boundary shell (any coordinate first or last): only they have crossing edges
    shell = np.zeros(piece_lab.shape, dtype=bool)
    for axis in range(3):
        index = [slice(None)] * 3
        for end in (0, -1):
            index[axis] = end
            shell[tuple(index)] = True
    coords = np.argwhere(shell & (piece_lab > 0))
    src, dst, shifts = [], [], []
    for step in steps:
        nbr = coords + step
        cross = np.floor_divide(nbr, shape)
        keep = cross.any(axis=1)
        if not keep.any():
            continue
        here = coords[keep]
        wrapped = nbr[keep] - cross[keep] * shape
        p = piece_lab[here[:, 0], here[:, 1], here[:, 2]]
        q = piece_lab[wrapped[:, 0], wrapped[:, 1], wrapped[:, 2]]
        both = q > 0
        src.append(p[both] - 1)
        dst.append(q[both] - 1)
        shifts.append(cross[keep][both])
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.int64)
    edges = np.concatenate([np.concatenate(src)[:, None], np.concatenate(dst)[:, None],
                            np.concatenate(shifts)], axis=1).astype(np.int64)
    edges = np.unique(edges, axis=0)  # many parallel edges between the same two pieces
    return (np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1]),
            np.ascontiguousarray(edges[:, 2:]))


def _periodic_components(mask: np.ndarray, connectivity: int):
    """Label a boolean mask on the periodic grid.

    Returns
    -------
    labels : int32 array, -1 outside; components by decreasing size
    sizes, ranks : int64 (n,)
    translations : tuple of (rank, 3) int64 arrays (HNF)
    piece_offset : int64 (m, 3): lattice offset of each scipy piece relative to its component's reference
    piece_lab : int32 array: the scipy piece label (1..m, 0 outside)
    """
    from scipy import ndimage

    from ._pieces import merge_pieces  # numba, imported on first use

    piece_lab, n_pieces = ndimage.label(mask, structure=_structure(connectivity))
    if n_pieces == 0:
        empty = np.zeros(0, np.int64)
        return (np.full(mask.shape, -1, np.int32), empty, empty, (), np.zeros((0, 3), np.int64), piece_lab)
    src, dst, shift = _boundary_edges(piece_lab, connectivity)
    root, piece_offset, loop_root, loop_vec = merge_pieces(n_pieces, src, dst, shift)
    piece_sizes = np.bincount(piece_lab.reshape(-1), minlength=n_pieces + 1)[1:]
    roots, comp_of_piece = np.unique(root, return_inverse=True)
    n_comp = len(roots)
    comp_sizes = np.bincount(comp_of_piece, weights=piece_sizes, minlength=n_comp).astype(np.int64)
    # scipy numbers pieces in C-order of their first grid point, so the smallest piece index of a
    # component tells which component is reached first: the deterministic tie-breaker
    first_piece = np.full(n_comp, n_pieces, dtype=np.int64)
    np.minimum.at(first_piece, comp_of_piece, np.arange(n_pieces))
    order = np.lexsort((first_piece, -comp_sizes))
    new_id = np.empty(n_comp, dtype=np.int64)
    new_id[order] = np.arange(n_comp)
    comp_of_piece = new_id[comp_of_piece]
    sizes = comp_sizes[order]

    translations: list[np.ndarray] = [np.zeros((0, 3), np.int64)] * n_comp
    if len(loop_root):
        loop_comp = new_id[np.searchsorted(roots, loop_root)]
        vecs = np.unique(np.concatenate([loop_comp[:, None], loop_vec], axis=1), axis=0)
        for comp in np.unique(vecs[:, 0]):
            translations[int(comp)] = lattice_basis(vecs[vecs[:, 0] == comp, 1:])
    ranks = np.array([len(t) for t in translations], dtype=np.int64)

    lookup = np.concatenate([[-1], comp_of_piece]).astype(np.int32)
    labels = lookup[piece_lab]
    return labels, sizes, ranks, tuple(translations), piece_offset, piece_lab


def lattice_basis(vectors: Any) -> np.ndarray:
    """Hermite normal form basis of the integer lattice spanned by the rows of ``vectors``.

    Parameters
    ----------
    vectors : array_like of int, (M, 3)

    Returns
    -------
    numpy.ndarray
        int64 (rank, 3), upper echelon rows with positive pivots and reduced entries above each pivot;
        a canonical basis (two sets of vectors span the same lattice iff their bases are equal).

    Examples
    --------
    >>> lattice_basis([[2, 0, 0], [3, 0, 0], [1, 1, 0], [0, -2, 0]]).tolist()
    [[1, 0, 0], [0, 1, 0]]
    """
    rows = [[int(x) for x in row] for row in np.asarray(vectors, dtype=np.int64).reshape(-1, 3)]
    rows = [r for r in rows if any(r)]
    basis: list[list[int]] = []
    pivots: list[int] = []
    for col in range(3):
        pivot = None
        rest = []
        for r in rows:
            if r[col] == 0:
                rest.append(r)
                continue
            if pivot is None:
                pivot = r
                continue
            a, b = pivot, r
            while b[col] != 0:  # Euclid on this column; the remainder row has a 0 here
                q = a[col] // b[col]
                a = [x - q * y for x, y in zip(a, b, strict=True)]
                a, b = b, a
            pivot = a
            if any(b):
                rest.append(b)
        if pivot is not None:
            if pivot[col] < 0:
                pivot = [-x for x in pivot]
            basis.append(pivot)
            pivots.append(col)
        rows = rest
    for i in range(len(basis)):
        for j in range(i + 1, len(basis)):
            pc = pivots[j]
            q = basis[i][pc] // basis[j][pc]
            if q:
                basis[i] = [x - q * y for x, y in zip(basis[i], basis[j], strict=True)]
    return np.array(basis, dtype=np.int64).reshape(-1, 3)


def _bond_list(atom_component: np.ndarray, atom_image: np.ndarray, translations, positions,
               cell) -> np.ndarray:
    """All linked atom pairs (i < j) with the image of j; shortest image for wrapping components."""
    rows = []
    for comp in np.unique(atom_component[atom_component >= 0]):
        members = np.flatnonzero(atom_component == comp)
        if len(members) < 2:
            continue
        ii, jj = np.triu_indices(len(members), k=1)
        i, j = members[ii], members[jj]
        image = atom_image[j] - atom_image[i]
        basis = translations[int(comp)]
        if len(basis) and cell is not None:
            image = _shortest_images(image, basis, positions[i], positions[j], cell)
        rows.append(np.concatenate([i[:, None], j[:, None], image], axis=1))
    if not rows:
        return np.zeros((0, 5), np.int64)
    return np.concatenate(rows).astype(np.int64)


def _shortest_images(image: np.ndarray, basis: np.ndarray, pos_i: np.ndarray, pos_j: np.ndarray,
                     cell: np.ndarray) -> np.ndarray:
    """Among ``image + sum_k c_k basis_k`` (c_k in -2..2) pick the one closest to atom i (Cartesian)."""
    coeffs = np.array(list(itertools.product(range(-2, 3), repeat=len(basis))), dtype=np.int64)
    shifts = coeffs @ basis  # (S, 3)
    candidates = image[:, None, :] + shifts[None, :, :]  # (P, S, 3)
    vec = pos_j[:, None, :] + candidates @ cell - pos_i[:, None, :]
    best = np.argmin(np.einsum("psx,psx->ps", vec, vec), axis=1)
    return candidates[np.arange(len(image)), best]
