"""Residual fields: reference ELF minus predicted ELF, on one checked grid.

``residual = elf_ref - elf_pred``: positive where the prediction is too low.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError, StructureError
from ..grid import keys

CELL_TOLERANCE = 1e-4
"""Largest difference (Å) allowed between the two cells' lattice vectors or between atom positions."""


def check_same_structure(
    ref_ds: xr.Dataset, pred_ds: xr.Dataset, *, tolerance: float = CELL_TOLERANCE
) -> None:
    """Raise unless the two Datasets share the grid shape, the cell and the atoms.

    Atom positions are compared modulo lattice translations (an atom wrapped into the cell is the same
    atom), in the same order.

    Raises
    ------
    GridError
        Different grid shapes or cells.
    StructureError
        Different atom counts, species or positions.
    """
    grid.validate(ref_ds)
    grid.validate(pred_ds)
    shape_ref, shape_pred = grid.grid_shape(ref_ds), grid.grid_shape(pred_ds)
    if shape_ref != shape_pred:
        raise GridError(
            f"the reference grid {shape_ref} and the prediction grid {shape_pred} differ; predict on "
            "the reference grid (Predictor.predict(structure, like=ref_ds)) or resample first"
        )
    cell_ref, cell_pred = ref_ds[keys.CELL].values, pred_ds[keys.CELL].values
    cell_diff = float(np.abs(cell_ref - cell_pred).max())
    if cell_diff > tolerance:
        raise GridError(
            f"the reference and prediction cells differ by up to {cell_diff:.3g} Å; residuals need "
            "the same structure on the same grid"
        )
    n_ref, n_pred = ref_ds.sizes["atom"], pred_ds.sizes["atom"]
    if n_ref != n_pred:
        raise StructureError(
            f"the reference has {n_ref} atoms and the prediction {n_pred}; they are not the same structure"
        )
    if not np.array_equal(ref_ds[keys.NUMBERS].values, pred_ds[keys.NUMBERS].values):
        raise StructureError("the reference and prediction have different species (or atom order)")
    if n_ref:
        frac = grid.cart_to_frac(pred_ds[keys.POSITIONS].values - ref_ds[keys.POSITIONS].values, cell_ref)
        frac -= np.rint(frac)
        shift = float(np.linalg.norm(frac @ grid.as_cell(cell_ref), axis=1).max())
        if shift > tolerance:
            raise StructureError(
                f"atom positions of the reference and prediction differ by up to {shift:.3g} Å; "
                "residuals need the same structure (same atom order)"
            )


def residual_dataset(
    ref_ds: xr.Dataset, pred_ds: xr.Dataset, *, ref_field: str = keys.ELF, pred_field: str = keys.ELF
) -> xr.Dataset:
    """Combine a reference and a prediction of the same structure into one residual Dataset.

    Parameters
    ----------
    ref_ds : xarray.Dataset
        Reference (e.g. DFT) Dataset with field ``ref_field``.
    pred_ds : xarray.Dataset
        Prediction on the same grid, cell and atoms, with field ``pred_field``.
    ref_field, pred_field : str
        Field names to compare (default ``"elf"`` in both).

    Returns
    -------
    xarray.Dataset
        The prediction's structure with fields ``elf_ref``, ``elf`` (the prediction) and
        ``residual = elf_ref - elf``; attrs ``source_ref``, ``source_pred`` and the reference's metadata
        (``pressure_gpa``, ``phase``, ``frame_id`` ... where the prediction lacks them).

    Raises
    ------
    GridError, StructureError
        If the two Datasets do not describe the same structure on the same grid, or a field is missing.

    Examples
    --------
    >>> ref = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.full((4, 4, 4), 0.5))
    >>> pred = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.full((4, 4, 4), 0.4))
    >>> round(float(residual_dataset(ref, pred)["residual"].mean()), 6)
    0.1
    """
    for name, ds, fld in (("reference", ref_ds, ref_field), ("prediction", pred_ds, pred_field)):
        if not isinstance(ds, xr.Dataset):
            raise GridError(f"the {name} must be an elfviz Dataset, got {type(ds).__name__}")
        if fld not in ds:
            raise GridError(f"the {name} Dataset has no field '{fld}' (fields: {grid.field_names(ds)})")
    check_same_structure(ref_ds, pred_ds)
    ref = ref_ds[ref_field].transpose(*grid.GRID_DIMS).values.astype(np.float64)
    pred = pred_ds[pred_field].transpose(*grid.GRID_DIMS).values.astype(np.float64)
    out = grid.structure_only(pred_ds)
    out = grid.with_field(out, keys.ELF_REF, ref)
    out = grid.with_field(out, keys.ELF, pred)
    out = grid.with_field(out, "residual", ref - pred)
    attrs = dict(ref_ds.attrs)
    attrs.update({k: v for k, v in pred_ds.attrs.items() if v is not None})
    for key in ("pressure_gpa", "temperature_k", "phase", "trajectory", "split", "frame_id"):
        if key in ref_ds.attrs:  # the reference carries the physical metadata
            attrs[key] = ref_ds.attrs[key]
    attrs["source_ref"] = ref_ds.attrs.get("source", "unknown")
    attrs["source_pred"] = pred_ds.attrs.get("source", "unknown")
    attrs["source"] = f"residual: {attrs['source_ref']} - {attrs['source_pred']}"
    out.attrs = attrs
    grid.update_derived_attrs(out)
    return out


def ensure_residual(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` with a ``residual`` field, computing ``elf_ref - elf`` if it is missing."""
    if "residual" in ds:
        return ds
    if keys.ELF_REF in ds and keys.ELF in ds:
        return grid.with_field(ds, "residual", ds[keys.ELF_REF].values.astype(np.float64) - ds[keys.ELF].values)
    raise GridError(
        "the Dataset has neither a 'residual' field nor 'elf_ref' and 'elf' to compute one; build "
        "it with elfviz.analysis.residual_dataset(ref, pred)"
    )
