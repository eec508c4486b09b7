"""What a Dask worker does for one screening item: build the structure, predict the ELF, analyse its network.

:func:`screen_one` is a pure function of its arguments (plus a per-process cache of loaded models), so it
runs unchanged on an embedded LocalCluster, on a remote ``dask worker``, or in-process. It never raises for
a bad item: any failure becomes a row with ``status = "error"`` and a message that names the stage
(``structure``, ``predict``, ``topology``) and what went wrong.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..errors import ElfvizError, ModelError, StructureError
from ..grid import keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    """How to build a :class:`elfviz.model.Predictor` on a worker (picklable, loaded once per process).

    Parameters
    ----------
    weights : str, optional
        Weights file; None for the bundled weights.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    batch_points : int, optional
        Grid points per batch (bounds memory).
    torch_threads : int, optional
        ``torch.set_num_threads`` on the worker before the model is built (None leaves it alone).
    """

    weights: str | None = None
    device: str = "cpu"
    batch_points: int | None = None
    torch_threads: int | None = None

    def load(self):
        """The Predictor for this spec, built on first use in this process and cached."""
        cached = _PREDICTORS.get(self)
        if cached is not None:
            return cached
        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))
        try:
            from ..model import Predictor
        except ImportError as exc:
            raise ModelError(
                f"the elfviz model is not available ({exc}); install elfviz with its [ml] extra "
                "(torch) or pass another predictor"
            ) from None
        predictor = Predictor(weights=self.weights, device=self.device, batch_points=self.batch_points)
        _PREDICTORS[self] = predictor
        return predictor


_PREDICTORS: dict[BundledModel, Any] = {}


def predict_function(model: Any) -> Callable[..., Any]:
    """A callable ``f(structure_dataset, shape=(na, nb, nc)) -> Dataset with 'elf'`` for any model object.

    ``model`` may be a :class:`BundledModel`, an object with a ``predict`` method (a Predictor), or a plain
    callable with the signature of :func:`elfviz.reference.promolecular.promolecular_elf`.
    """
    if isinstance(model, BundledModel):
        return model.load().predict
    if hasattr(model, "predict") and callable(model.predict):
        return model.predict
    if callable(model):
        return model
    raise ModelError(
        f"cannot predict with {model!r}: give a Predictor, a callable like promolecular_elf, "
        "or None for the bundled model"
    )


def model_label(model: Any) -> str:
    """Name of a model for the results table: ``model:<version>`` for Predictors, else the callable's path."""
    if isinstance(model, BundledModel):
        return f"model:{model.load().version}"
    version = getattr(model, "version", None)
    if version:
        return f"model:{version}"
    target = getattr(model, "predict", model)
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local:{os.getpid()}"


def _message(stage: str, exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, ElfvizError):
        text = f"{type(exc).__name__}: {text}"
    return f"{stage}: {text}"


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def screen_one(
    payload: Mapping[str, Any],
    model: Any,
    *,
    spacing: float,
    connectivity: int = 6,
    config: Mapping[str, Any] | None = None,
    keep_field: bool = False,
) -> dict[str, Any]:
    """Screen one structure: ELF prediction, percolation thresholds, phi, phi*, Tc estimate, timings.

    Parameters
    ----------
    payload : mapping
        ``key``, ``cell`` (3, 3) Å, ``positions`` (N, 3) Å, ``numbers`` (N,), ``info`` (pressure ...).
    model : BundledModel, Predictor or callable
        See :func:`predict_function`.
    spacing : float
        Largest grid spacing along each lattice vector, Å.
    connectivity : {6, 18, 26}
        Voxel neighbourhood of the percolation analysis.
    config : mapping, optional
        Run-configuration columns copied into the row (``model``, ``spacing_angstrom``, ``connectivity``).
    keep_field : bool
        Also return the predicted Dataset (``"dataset"`` entry) so the client can store it.

    Returns
    -------
    dict
        ``{"row": {...column: value...}, "dataset": xarray.Dataset or None}``. Never raises for a bad item.

    Examples
    --------
    >>> from elfviz.reference.promolecular import promolecular_elf
    >>> payload = {"key": "h2", "cell": np.eye(3) * 3.0, "positions": [[0, 0, 0], [0.74, 0, 0]],
    ...            "numbers": [1, 1], "info": {}}
    >>> out = screen_one(payload, promolecular_elf, spacing=0.3)
    >>> out["row"]["status"], out["row"]["n_atoms"], out["row"]["grid_a"]
    ('ok', 2, 10)
    """
    from .. import grid

    start = time.perf_counter()
    info = dict(payload.get("info") or {})
    row: dict[str, Any] = {
        "key": payload["key"],
        "status": "error",
        "worker": _worker_name(),
        "spacing_angstrom": float(spacing),
        "connectivity": int(connectivity),
    }
    row.update(config or {})
    for column in ("phase", "pressure_gpa", "temperature_k", "split"):
        if info.get(column) is not None:
            row[column] = info[column]
    result: dict[str, Any] = {"row": row, "dataset": None}

    def finish() -> dict[str, Any]:
        row["t_total_s"] = time.perf_counter() - start
        row["finished_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return result

    stage = "structure"
    try:
        from ase.symbols import Symbols

        numbers = np.asarray(payload[keys.NUMBERS], dtype=np.int64)
        pbc = tuple(bool(p) for p in payload.get("pbc", (True, True, True)))
        if not all(pbc) and np.abs(np.linalg.det(np.asarray(payload[keys.CELL], dtype=float))) > 1e-6:
            raise StructureError(
                f"the structure is periodic only along {list(pbc)}; elfviz needs periodic "
                "boundary conditions in all three directions (pbc=True in the file or atoms)"
            )
        row["n_atoms"] = int(len(numbers))
        row["formula"] = Symbols(numbers).get_chemical_formula()
        structure = grid.make_dataset(
            payload[keys.CELL],
            payload[keys.POSITIONS],
            numbers,
            spacing=spacing,
            source="structure",
            attrs={k: v for k, v in info.items() if k in ("pressure_gpa", "temperature_k")},
        )
        shape = grid.grid_shape(structure)
        row.update(
            {
                "grid_a": shape[0],
                "grid_b": shape[1],
                "grid_c": shape[2],
                "volume_a3": grid.cell_volume(payload[keys.CELL]),
                "rs_bohr": _finite(structure.attrs.get("rs_bohr")),
                "density_g_cm3": grid.mass_density_g_cm3(payload[keys.CELL], numbers),
            }
        )

        stage = "predict"
        t0 = time.perf_counter()
        predict = predict_function(model)
        row["t_setup_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            predicted = predict(structure, shape=shape)
        row["t_predict_s"] = time.perf_counter() - t0
        messages = list(dict.fromkeys(str(w.message) for w in caught))
        if messages:  # e.g. the structure lies outside the model's training density range
            row["warnings"] = " | ".join(messages)
        if keys.ELF not in getattr(predicted, "data_vars", {}):
            raise ModelError(f"the model returned {type(predicted).__name__} without an 'elf' field")
        row["device"] = str(predicted.attrs.get("device") or getattr(model, "device", None) or "cpu")

        stage = "topology"
        from ..topology import networking_analysis

        t0 = time.perf_counter()
        analysis = networking_analysis(predicted, field=keys.ELF, connectivity=connectivity)
        # the Tc correlation's domain (crystals, not fluids or molecular phases) decides what is reported
        provenance = {k: info[k] for k in ("phase", "temperature_k") if info.get(k) not in (None, "")}
        verdict = analysis.tc_verdict(provenance)
        tc = verdict.estimate
        row["t_topology_s"] = time.perf_counter() - t0
        row.update(
            {
                "phi": analysis.phi,
                "phi_star": _finite(analysis.phi_star),
                "t1": analysis.t1,
                "t2": analysis.t2,
                "t3": analysis.t3,
                "tc_k": math.nan if tc is None else tc.tc_k,
                "tc_low_k": math.nan if tc is None else tc.low_k,
                "tc_high_k": math.nan if tc is None else tc.high_k,
                "tc_scatter_k": math.nan if tc is None else tc.scatter_k,
                "tc_status": verdict.status,
            }
        )
        if tc is not None:
            row["tc_caveat"] = tc.caveat
        if verdict.reason:  # empty text cells read back from CSV as NaN: leave them missing
            row["tc_note"] = verdict.reason
        row["status"] = "ok"
        if keep_field:
            result["dataset"] = predicted
    except Exception as exc:  # a bad item must never stop the batch
        row["error"] = _message(stage, exc)
        log.debug("item %s failed", payload.get("key"), exc_info=True)
    return finish()
