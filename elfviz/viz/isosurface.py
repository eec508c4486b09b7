"""Periodic isosurfaces, atoms and cell boxes as pyvista meshes (pure functions, no rendering).

A field on the periodic grid of the elfviz schema has no duplicated end point: grid point ``(i, j, k)``
sits at fractional ``(i/na, j/nb, k/nc)``. To draw an isosurface that closes across the cell faces the
field is padded periodically by one layer (the end point ``i = na`` equals ``i = 0``), placed on the true
Cartesian points of the (possibly skewed) cell as a ``pyvista.StructuredGrid`` and contoured there. The
surface of one cell therefore meets the surface of its periodic image exactly, and an iso-blob that
straddles a cell face or corner is cut into pieces that reassemble into the whole blob.

Triangles are tagged with the connected component of the ``{ELF >= isovalue}`` voxels they bound (labels
from :func:`elfviz.topology.components_at`) and whether that component spans the periodic cell
(percolates: non-zero wrap rank).

All lengths are in Å.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvista as pv

from .. import grid
from ..errors import GridError
from ..grid import keys

log = logging.getLogger(__name__)

ATOM_RADIUS_SCALE = 0.6
"""Atom spheres are drawn with this fraction of the covalent radius (0.19 Å for H)."""

BOUNDARY_TOLERANCE = 0.02
"""Atoms this close (in fractional units) to a cell face are also drawn on the opposite face."""


# ----------------------------------------------------------------------------- checks
def check_images(images: Any) -> tuple[int, int, int]:
    """Validate a number of periodic images per lattice direction, e.g. ``(2, 2, 1)``.

    Raises
    ------
    GridError
        Unless ``images`` is three integers from 1 to 4 (or a single such integer).
    """
    if np.isscalar(images):
        images = (images,) * 3
    try:
        reps = tuple(int(n) for n in images)
    except (TypeError, ValueError):
        raise GridError(f"images must be three integers like (2, 2, 2), got {images!r}") from None
    if len(reps) != 3 or any(n < 1 or n > 4 for n in reps):
        raise GridError(f"images must be three integers from 1 to 4 (copies along a, b, c), got {images!r}")
    return reps  # type: ignore[return-value]


def _check_field(field: Any) -> np.ndarray:
    arr = np.asarray(field, dtype=np.float32)
    if arr.ndim != 3 or min(arr.shape) < 2:
        raise GridError(f"an isosurface needs a 3-D field on the (a, b, c) grid, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GridError("the field contains NaN or infinite values; clean it before drawing an isosurface")
    return arr


def _check_isovalue(isovalue: Any) -> float:
    try:
        value = float(isovalue)
    except (TypeError, ValueError):
        raise GridError(f"the isovalue must be a number, got {isovalue!r}") from None
    if not np.isfinite(value):
        raise GridError(f"the isovalue must be finite, got {isovalue!r}")
    return value


# ----------------------------------------------------------------------------- grid
def periodic_structured_grid(field: Any, cell: Any, *, images: Any = (1, 1, 1),
                             name: str = keys.ELF) -> pv.StructuredGrid:
    """The field on the true Cartesian points of the cell, padded periodically by one layer.

    Parameters
    ----------
    field : array_like, (na, nb, nc)
        Values at fractional ``(i/na, j/nb, k/nc)`` (periodic grid, no end point).
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å; any shape (skewed cells are placed exactly).
    images : (int, int, int)
        Periodic copies along a, b, c (1 to 4 each).
    name : str
        Name of the point-data array.

    Returns
    -------
    pyvista.StructuredGrid
        ``(images[0]*na + 1, images[1]*nb + 1, images[2]*nc + 1)`` points; point ``(i, j, k)`` sits at
        fractional ``(i/na, j/nb, k/nc)`` and carries ``field[i % na, j % nb, k % nc]``.

    Examples
    --------
    >>> g = periodic_structured_grid(np.zeros((4, 4, 4)), np.eye(3) * 2.0)
    >>> g.dimensions, g.bounds[1]
    ((5, 5, 5), 2.0)
    """
    arr = _check_field(field)
    cell_arr = grid.as_cell(cell)
    reps = check_images(images)
    tiled = np.tile(arr, reps)
    padded = np.pad(tiled, [(0, 1)] * 3, mode="wrap")
    axes = [np.arange(m) / n for m, n in zip(padded.shape, arr.shape, strict=True)]
    frac = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    cart = frac @ cell_arr
    sgrid = pv.StructuredGrid(cart[..., 0], cart[..., 1], cart[..., 2])
    sgrid.point_data[name] = padded.ravel(order="F")
    return sgrid


# ----------------------------------------------------------------------------- isosurface
def isosurface(field: Any, cell: Any, isovalue: float, *, images: Any = (1, 1, 1),
               labels: Any = None, wrap_rank: Any = None) -> pv.PolyData:
    """Periodic isosurface of a field, closed across the cell faces, tagged by connected component.

    Parameters
    ----------
    field : array_like, (na, nb, nc)
        Periodic field (e.g. the ELF) on the cell's grid.
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    isovalue : float
        Contour value, in the field's units.
    images : (int, int, int)
        Periodic copies along a, b, c.
    labels : array_like of int, (na, nb, nc), optional
        Connected-component label of each voxel of ``{field >= isovalue}``, -1 below (as in
        :func:`elfviz.topology.components_at`). Without it every triangle gets component -1.
    wrap_rank : array_like of int, optional
        Rank of each component's lattice translations (0: finite, 1-3: spans the cell along as many
        independent directions); a component with ``wrap_rank >= 1`` percolates.

    Returns
    -------
    pyvista.PolyData
        Triangles with cell data ``component`` (int32, -1 if unknown) and ``wrap_rank`` (int8, -1 if
        unknown). Empty (no points) when the isovalue lies outside the field's range.

    Examples
    --------
    >>> x = np.arange(16) / 16
    >>> blob = np.exp(-((x[:, None, None] - 0.5)**2 + (x[None, :, None] - 0.5)**2
    ...                 + (x[None, None, :] - 0.5)**2) / 0.02)
    >>> surf = isosurface(blob, np.eye(3) * 4.0, 0.5)
    >>> surf.n_cells > 0, surf.is_manifold
    (True, True)
    """
    arr = _check_field(field)
    value = _check_isovalue(isovalue)
    reps = check_images(images)
    if not (float(arr.min()) < value < float(arr.max())):
        return _empty_surface()
    sgrid = periodic_structured_grid(arr, cell, images=reps, name="field")
    surface = sgrid.contour([value], scalars="field", method="contour")
    surface = surface.triangulate()
    if surface.n_cells == 0:
        return _empty_surface()
    surface.point_data.clear()
    component = np.full(surface.n_cells, -1, dtype=np.int32)
    rank = np.full(surface.n_cells, -1, dtype=np.int8)
    if labels is not None:
        lab = np.asarray(labels)
        if lab.shape != arr.shape:
            raise GridError(f"component labels have shape {lab.shape} but the field is {arr.shape}")
        voxel = _source_voxel(surface.cell_centers().points, arr, grid.as_cell(cell), reps)
        component = lab[voxel].astype(np.int32)
        if wrap_rank is not None:
            ranks = np.asarray(wrap_rank, dtype=np.int64)
            known = (component >= 0) & (component < len(ranks))
            rank[known] = ranks[component[known]]
    surface.cell_data["component"] = component
    surface.cell_data["wrap_rank"] = rank
    return surface


def _empty_surface() -> pv.PolyData:
    surface = pv.PolyData()
    surface.cell_data["component"] = np.zeros(0, dtype=np.int32)
    surface.cell_data["wrap_rank"] = np.zeros(0, dtype=np.int8)
    return surface


def _source_voxel(points: np.ndarray, field: np.ndarray, cell: np.ndarray,
                  reps: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid index (into the unpadded field) of the highest corner of the voxel holding each point.

    A marching-cubes triangle lies inside one voxel and crosses edges with one end at or above the
    isovalue, so the highest of the voxel's eight corners is inside ``{field >= isovalue}`` and carries
    the triangle's component label.
    """
    shape = np.array(field.shape)
    frac = grid.cart_to_frac(points, cell) * shape  # grid units of the tiled, padded grid
    upper = shape * np.asarray(reps) - 1
    base = np.clip(np.floor(frac + 1e-9).astype(np.int64), 0, upper)
    base %= shape  # into the unpadded cell (images and the padding layer repeat it)
    # the two grid indices of each axis the voxel spans, wrapped at the periodic end: (n, 2) per axis
    ia, ib, ic = (np.where(axis >= n, axis - n, axis) for axis, n in
                  ((base[:, k, None] + np.array([0, 1]), shape[k]) for k in range(3)))
    nb, nc = int(shape[1]), int(shape[2])
    # flat index of the 8 corners, in np.ndindex(2, 2, 2) order (a, then b, then c): ties go to the first
    flat = ((ia[:, :, None, None] * nb + ib[:, None, :, None]) * nc + ic[:, None, None, :]).reshape(-1, 8)
    best = flat[np.arange(len(points)), field.ravel()[flat].argmax(axis=1)]  # first highest corner
    return np.unravel_index(best, field.shape)


def split_by_spanning(surface: pv.PolyData) -> tuple[pv.PolyData, pv.PolyData]:
    """Split an isosurface into the triangles of spanning (percolating) and of finite components.

    Parameters
    ----------
    surface : pyvista.PolyData
        Output of :func:`isosurface` (cell data ``wrap_rank``).

    Returns
    -------
    spanning, finite : pyvista.PolyData
        Triangles with ``wrap_rank >= 1``, and all others (unknown rank counts as finite).
    """
    if surface.n_cells == 0:
        return _empty_surface(), _empty_surface()
    rank = np.asarray(surface.cell_data["wrap_rank"])
    spanning = rank >= 1
    return _extract(surface, spanning), _extract(surface, ~spanning)


def _extract(surface: pv.PolyData, mask: np.ndarray) -> pv.PolyData:
    if not mask.any():
        return _empty_surface()
    part = surface.remove_cells(~mask, pass_point_ids=False, pass_cell_ids=False)
    return part


# ----------------------------------------------------------------------------- atoms
def atom_sites(positions: Any, numbers: Any, cell: Any, *, images: Any = (1, 1, 1),
               boundary: float = BOUNDARY_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian sites (Å) and atomic numbers of the atoms to draw in the (super)cell.

    Positions are wrapped into the cell, repeated over the images, and atoms within ``boundary``
    (fractional) of a face are repeated on the opposite face so that face-centred and corner atoms
    appear complete, as in crystallographic drawings.

    Examples
    --------
    >>> sites, z = atom_sites([[0.0, 0.0, 0.0]], [1], np.eye(3) * 2.0)
    >>> len(sites)  # a corner atom appears at all 8 corners
    8
    """
    cell_arr = grid.as_cell(cell)
    reps = np.array(check_images(images))
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    nums = np.asarray(numbers).reshape(-1)
    frac = grid.cart_to_frac(pos, cell_arr)
    frac -= np.floor(frac)
    frac[frac > 1.0 - 1e-9] = 0.0
    shifts = np.array(list(np.ndindex(*reps)), dtype=float)
    frac = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    nums = np.tile(nums, len(shifts))
    for axis in range(3):
        near = frac[:, axis] < boundary
        extra = frac[near].copy()
        extra[:, axis] += reps[axis]
        frac = np.vstack([frac, extra])
        nums = np.concatenate([nums, nums[near]])
    return frac @ cell_arr, nums


def atom_spheres(positions: Any, numbers: Any, cell: Any, *, images: Any = (1, 1, 1),
                 radius_scale: float = ATOM_RADIUS_SCALE, boundary: float = BOUNDARY_TOLERANCE,
                 resolution: int = 12) -> pv.PolyData:
    """Atoms as spheres (covalent radius times ``radius_scale``, Å), with Jmol colours.

    Returns
    -------
    pyvista.PolyData
        Merged sphere glyphs with point data ``rgb`` (uint8) and ``number`` (atomic number).

    Examples
    --------
    >>> spheres = atom_spheres([[0.5, 0.5, 0.5]], [1], np.eye(3) * 2.0)
    >>> spheres.n_points > 0
    True
    """
    from ase.data import covalent_radii
    from ase.data.colors import jmol_colors

    sites, nums = atom_sites(positions, numbers, cell, images=images, boundary=boundary)
    meshes = []
    for z in np.unique(nums):
        radius = float(covalent_radii[int(z)]) * radius_scale
        sphere = pv.Sphere(radius=radius, theta_resolution=resolution, phi_resolution=resolution)
        glyphs = pv.PolyData(sites[nums == z]).glyph(geom=sphere, orient=False, scale=False)
        colour = (np.asarray(jmol_colors[int(z)]) * 255).astype(np.uint8)
        glyphs.point_data["rgb"] = np.tile(colour, (glyphs.n_points, 1))
        glyphs.point_data["number"] = np.full(glyphs.n_points, int(z), dtype=np.int32)
        meshes.append(glyphs)
    if not meshes:
        return pv.PolyData()
    merged = meshes[0] if len(meshes) == 1 else meshes[0].merge(meshes[1:])
    return merged


# ----------------------------------------------------------------------------- cell
def cell_box(cell: Any, *, images: Any = (1, 1, 1)) -> pv.PolyData:
    """The 12 edges of the (super)cell parallelepiped as line segments (Å).

    Examples
    --------
    >>> box = cell_box(np.eye(3) * 2.0)
    >>> box.n_lines, box.bounds[1]
    (12, 2.0)
    """
    cell_arr = grid.as_cell(cell) * np.array(check_images(images))[:, None]
    corners = np.array(list(np.ndindex(2, 2, 2)), dtype=float) @ cell_arr
    index = {c: i for i, c in enumerate(np.ndindex(2, 2, 2))}
    lines = []
    for corner in np.ndindex(2, 2, 2):
        for axis in range(3):
            if corner[axis] == 0:
                other = list(corner)
                other[axis] = 1
                lines.append([2, index[corner], index[tuple(other)]])
    return pv.PolyData(corners, lines=np.array(lines).ravel())
