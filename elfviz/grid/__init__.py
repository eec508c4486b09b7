"""The data object of elfviz: one periodic structure and its fields as an ``xarray.Dataset``.

Schema (see ``DESIGN.md``)
--------------------------
dims
    ``a, b, c``  grid along the three lattice vectors; grid point ``(i, j, k)`` sits at fractional
    coordinates ``(i/na, j/nb, k/nc)`` (periodic, no duplicated end point);
    ``atom``; ``vector`` (0..2, lattice vector index); ``xyz`` (0..2, Cartesian component).
coords
    ``a, b, c``: fractional coordinate of each grid plane, in [0, 1).
variables
    ``cell(vector, xyz)``   lattice vectors as rows, Å;
    ``positions(atom, xyz)`` Cartesian positions, Å;
    ``numbers(atom)``        atomic numbers;
    fields on ``(a, b, c)``: ``elf`` (float32 in [0, 1]) and optionally ``elf_ref``, ``residual``, ...
attrs
    ``source`` (e.g. ``"model:elfnet-fft@1.6"``, ``"dft:qe ..."``, ``"file:ELFCAR"``), ``rs_bohr``,
    ``density_g_cm3``, ``n_atoms``, ``pressure_gpa`` where known, ``provenance`` (a JSON string).

Structure Datasets
------------------
A structure without a grid (the input of the DFT engines, which choose their own grid) is the same
Dataset without the ``a, b, c`` dims and without fields: ``cell``, ``positions``, ``numbers``, the
``vector``/``xyz`` coords and the same attrs. Build one with :func:`make_structure` or
:func:`structure_from_atoms`, check it with :func:`validate_structure` (which also accepts a Dataset with
a grid); :func:`has_grid` tells the two apart, and :func:`validate` requires the grid.

netCDF cannot store nested attributes, so anything that is not a string or a number is stored as a
JSON string (see :func:`encode_attrs`).

Units: Å at the API, GPa for pressure, bohr only for ``rs_bohr``.

Modules: :mod:`.cell` (cells, coordinates, densities), :mod:`.sizing` (grid shapes), :mod:`.schema` (the
Dataset: building, attrs, validation), :mod:`.atoms` (ASE), :mod:`.on_grid` (a structure placed on a grid),
:mod:`.fourier` (periodic Fourier tools, one argument order: positions, cell, shape), :mod:`.pairs` (atom
pairs and their midpoints). Everything public is re-exported here: ``from elfviz import grid``.
"""

from __future__ import annotations

from .atoms import from_atoms, structure_from_atoms, to_atoms
from .cell import (
    AMU_GRAM,
    BOHR_ANGSTROM,
    MIN_INTERATOMIC_DISTANCE,
    as_cell,
    cart_to_frac,
    cell_for_rs,
    cell_volume,
    check_positions,
    frac_to_cart,
    mass_density_g_cm3,
    minimum_image_distance,
    reciprocal_cell,
    rs_bohr,
    valence_electrons,
)
from .schema import (
    ELF_FIELDS,
    GRID_DIMS,
    STRUCTURE_ATTRS,
    _json_default,
    decode_attrs,
    encode_attrs,
    field_attrs,
    field_names,
    grid_shape,
    has_grid,
    make_dataset,
    make_structure,
    structure_attrs,
    structure_only,
    update_derived_attrs,
    validate,
    validate_field,
    validate_structure,
    with_field,
)
from .sizing import (
    check_shape,
    fractional_axes,
    grid_points_cartesian,
    interpolate_periodic,
    is_fft_friendly,
    nearest_grid_index,
    next_fft_size,
    shape_for_spacing,
)

"""One bohr in Å (CODATA 2018)."""


"""One atomic mass unit in g."""


"""Atoms closer than this (Å) are rejected as overlapping."""


"""Field names that hold ELF and therefore must lie in [0, 1]."""


"""Attrs that describe a structure (its state point and where it comes from), so they carry over to a field
computed for it. Everything else (a reference's DFT provenance: ``engine``, ``total_energy_ev``,
``pw_seconds``, ``scf_converged``, its ``source`` ...) describes a field and does not."""

__all__ = [
    "AMU_GRAM",
    "BOHR_ANGSTROM",
    "ELF_FIELDS",
    "GRID_DIMS",
    "MIN_INTERATOMIC_DISTANCE",
    "STRUCTURE_ATTRS",
    "_json_default",
    "as_cell",
    "cart_to_frac",
    "cell_for_rs",
    "cell_volume",
    "check_positions",
    "check_shape",
    "decode_attrs",
    "encode_attrs",
    "field_attrs",
    "field_names",
    "frac_to_cart",
    "fractional_axes",
    "from_atoms",
    "grid_points_cartesian",
    "grid_shape",
    "has_grid",
    "interpolate_periodic",
    "is_fft_friendly",
    "make_dataset",
    "make_structure",
    "mass_density_g_cm3",
    "minimum_image_distance",
    "nearest_grid_index",
    "next_fft_size",
    "reciprocal_cell",
    "rs_bohr",
    "shape_for_spacing",
    "structure_attrs",
    "structure_from_atoms",
    "structure_only",
    "to_atoms",
    "update_derived_attrs",
    "valence_electrons",
    "validate",
    "validate_field",
    "validate_structure",
    "with_field",
]
