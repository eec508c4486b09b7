"""``elfviz compare REF PRED``: accuracy of a predicted ELF against a reference on the same grid."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from ..grid import keys
from ._memory import ANALYSIS_BYTES_PER_POINT, add_max_memory, check_grid

NAME = "compare"
HELP = "compare two ELF fields on the same grid: R^2, MAE, RMSE, max |error|, networking value of both"
DESCRIPTION = """Compare a predicted ELF with a reference ELF of the same structure on the same grid.

Prints R^2, MAE, RMSE and max |error| over all grid points, and the networking value phi (the ELF at which the
isosurface first percolates in 3-D) and molecularity index phi* of both fields with their difference.
Files may be any field format elfviz reads (.nc, cube, XSF, ELFCAR).

examples:
  elfviz predict ref.nc -o pred.nc --like ref.nc
  elfviz compare ref.nc pred.nc
  elfviz compare ELFCAR pred.cube --json
"""

log = logging.getLogger(__name__)


def add_arguments(parser) -> None:
    parser.add_argument("reference", help="reference field file (e.g. DFT ELF)")
    parser.add_argument("prediction", help="predicted field file on the same grid")
    parser.add_argument("--field", default=keys.ELF, help="field name in both files (default elf)")
    parser.add_argument("--no-topology", action="store_true", help="skip the networking values")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    add_max_memory(parser)


def compare_datasets(ref, pred, *, field: str = keys.ELF, topology: bool = True) -> dict[str, Any]:
    """Metrics (and networking values) of ``pred[field]`` against ``ref[field]``.

    Raises
    ------
    GridError
        If the fields are missing or on different grids / cells.
    """
    import numpy as np

    from ..errors import GridError

    for name, ds in (("reference", ref), ("prediction", pred)):
        if field not in ds:
            raise GridError(f"the {name} has no field '{field}' (fields: {list(ds.data_vars)})")
    if ref[field].shape != pred[field].shape:
        raise GridError(
            f"the grids differ: reference {ref[field].shape}, prediction {pred[field].shape}; "
            "predict with `elfviz predict ... --like REF` to use the reference grid"
        )
    if not np.allclose(ref[keys.CELL].values, pred[keys.CELL].values, atol=1e-3):
        raise GridError("the two files have different cells; they must describe the same structure")
    from ..analysis import field_metrics

    out: dict[str, Any] = {
        "grid": list(ref[field].shape),
        "n_atoms": int(ref.sizes["atom"]),
        "rs_bohr": ref.attrs.get("rs_bohr"),
        "source_reference": ref.attrs.get("source"),
        "source_prediction": pred.attrs.get("source"),
    }
    out.update({k: float(v) for k, v in field_metrics(ref[field].values, pred[field].values).items()})
    if topology:
        from ..topology import networking_analysis

        for label, ds in (("reference", ref), ("prediction", pred)):
            result = networking_analysis(ds, field=field)
            out[f"phi_{label}"] = float(result.phi)
            out[f"phi_star_{label}"] = None if result.phi_star is None else float(result.phi_star)
        out["phi_error"] = out["phi_prediction"] - out["phi_reference"]
    return out


def format_text(result: dict[str, Any]) -> str:
    lines = [
        f"grid {tuple(result['grid'])}, {result['n_atoms']} atoms"
        + (f", rs {result['rs_bohr']:.3f} bohr" if result.get("rs_bohr") else ""),
        f"R^2          {result['r2']:.4f}",
        f"MAE          {result['mae']:.4f}",
        f"RMSE         {result['rmse']:.4f}",
        f"max |error|  {result['max_abs_error']:.4f}",
    ]
    if "phi_reference" in result:
        lines.append(
            f"phi          reference {result['phi_reference']:.4f}  prediction {result['phi_prediction']:.4f}"
            f"  difference {result['phi_error']:+.4f}"
        )
        ps_r, ps_p = result["phi_star_reference"], result["phi_star_prediction"]
        if ps_r is not None and ps_p is not None:
            lines.append(
                f"phi*         reference {ps_r:.4f}  prediction {ps_p:.4f}  difference {ps_p - ps_r:+.4f}"
            )
    return "\n".join(lines)


def run(args) -> int:
    from .. import io

    ref = io.read(args.reference, field=args.field)
    pred = io.read(args.prediction, field=args.field)
    if args.field in ref:  # differences, metrics and (unless --no-topology) two percolation sweeps
        per_point = 24 + (0 if args.no_topology else 2 * ANALYSIS_BYTES_PER_POINT)
        check_grid(ref[args.field].shape, per_point, "the comparison", args.max_memory,
                   advice="compare coarser copies of the fields, or pass --no-topology")
    result = compare_datasets(ref, pred, field=args.field, topology=not args.no_topology)
    if args.json:
        print(
            json.dumps(
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in result.items()
                },
                indent=2,
            )
        )
    else:
        print(format_text(result))
    return 0
