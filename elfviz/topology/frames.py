"""Network analysis of many frames as one Dataset over ``frame``, ready for ``groupby("pressure_gpa")``."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import GridError
from ..grid import keys
from .network import networking_analysis
from .tc import TcVerdict

log = logging.getLogger(__name__)

_COORD_ATTRS = {"pressure_gpa": float, "rs_bohr": float, "temperature_k": float, "phase": str, "source": str}


_NOT_ELF = TcVerdict("withheld", None, "not given for any_field (the correlation is defined for the ELF)")


def networking_over_frames(frames: Iterable[Any], *, field: str = keys.ELF, connectivity: int = 6,
                           any_field: bool = False) -> xr.Dataset:
    """t1, t2, t3, phi, phi* and the Tc correlation of each frame, as a Dataset over ``frame``.

    Parameters
    ----------
    frames : iterable of xarray.Dataset
        elfviz Datasets holding ``field`` (e.g. the frames of a FrameCollection, or predictions).
    field, connectivity, any_field
        As for :func:`elfviz.topology.networking_analysis`.

    Returns
    -------
    xarray.Dataset
        Dim ``frame``; variables ``t1``, ``t2``, ``t3``, ``phi``, ``phi_star`` (NaN without atoms),
        ``tc_k`` (Belli et al. 2021 empirical correlation; NaN where :func:`elfviz.topology.tc_verdict`
        withholds it: fluids, molecular structures, ``any_field``) and ``tc_status`` (reported, flagged or
        withheld);
        coordinates ``pressure_gpa``, ``rs_bohr``, ``temperature_k`` (NaN where unknown), ``phase`` and
        ``source`` (empty where unknown), taken from each frame's attributes.

    Examples
    --------
    >>> from elfviz import grid
    >>> f = np.random.default_rng(0).random((6, 6, 6))
    >>> frames = [grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], f, attrs={"pressure_gpa": p})
    ...           for p in (100.0, 200.0)]
    >>> table = networking_over_frames(frames)
    >>> table.sizes["frame"], table["pressure_gpa"].values.tolist()
    (2, [100.0, 200.0])
    """
    rows: list[dict[str, Any]] = []
    statuses: list[str] = []
    coords: dict[str, list[Any]] = {name: [] for name in _COORD_ATTRS}
    for k, ds in enumerate(frames):
        if not isinstance(ds, xr.Dataset):
            raise GridError(f"frame {k} is a {type(ds).__name__}, not an elfviz Dataset")
        try:
            res = networking_analysis(ds, field=field, connectivity=connectivity, any_field=any_field)
        except GridError as exc:
            raise GridError(f"frame {k}: {exc}") from None
        # withheld for fluids, molecular and non-H frames, and for any_field (not an ELF)
        verdict = _NOT_ELF if any_field else res.tc_verdict(ds)
        rows.append({"t1": res.t1, "t2": res.t2, "t3": res.t3, "phi": res.phi,
                     "phi_star": math.nan if res.phi_star is None else res.phi_star,
                     "tc_k": math.nan if verdict.estimate is None else verdict.estimate.tc_k})
        statuses.append(verdict.status)
        for name, kind in _COORD_ATTRS.items():
            value = ds.attrs.get(name)
            coords[name].append(kind(value) if value is not None else (math.nan if kind is float else ""))
    if not rows:
        raise GridError("no frames to analyse")
    n = len(rows)
    descriptions = {
        "t1": "highest value with a component wrapping in >= 1 direction",
        "t2": "highest value with a component wrapping in >= 2 directions",
        "t3": "highest value with a component wrapping in 3 directions",
        "phi": "networking value (= t3)",
        "phi_star": "molecularity index",
        "tc_k": "empirical Tc ~ 750 phi - 85 K (Belli et al., Nat. Commun. 12, 5381 (2021)), ~60 K scatter; "
                "a correlation, not a model prediction; NaN where withheld (tc_status)",
    }
    data_vars = {name: ("frame", np.array([r[name] for r in rows], dtype=float), {"long_name": text})
                 for name, text in descriptions.items()}
    data_vars["tc_k"][2]["units"] = "K"
    data_vars["tc_status"] = ("frame", np.array(statuses, dtype=str),
                              {"long_name": "domain of the Tc correlation: reported, flagged (no crystal "
                                            "provenance) or withheld (fluid, molecular, not ELF)"})
    return xr.Dataset(
        data_vars,
        coords={"frame": np.arange(n),
                **{name: ("frame", np.asarray(values)) for name, values in coords.items()}},
        attrs={"field": field, "connectivity": int(connectivity)},
    )
