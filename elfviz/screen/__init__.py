"""High-throughput screening: ELF prediction and network analysis for many structures on Dask.

:func:`screen` expands the inputs into items (:mod:`elfviz.screen.inputs`), skips the items already in
the results table, sends the others to Dask workers (:func:`elfviz.screen.worker.screen_one`) and appends
each result to the table as it arrives (:mod:`elfviz.screen.journal`). Where it runs:

* ``scheduler=None`` (default): an embedded ``distributed.LocalCluster`` on 127.0.0.1 with ``workers``
  processes of one thread each (torch limited to ``cpu_count // workers`` threads per process);
* ``scheduler="tcp://host:8786"``: an existing Dask cluster (``dask scheduler`` + ``dask worker``; the
  workers need elfviz installed, not the input files: structures travel with the tasks);
* ``scheduler=<distributed.Client>``: a client you already hold (left open);
* ``scheduler="inline"``: in this process, one item after the other (debugging, tiny runs).

The results table holds, per item: ``phi`` (networking value, = ``t3``), ``phi_star`` (molecularity index),
``t1 >= t2 >= t3`` (1-/2-/3-D percolation thresholds), ``rs_bohr``, ``density_g_cm3``, ``n_atoms``, the
Belli et al. (2021) Tc estimate with its scatter and caveat, the grid, the model, timings (s), and
``status``/``error``. :func:`results_to_dataset` gives the same as an ``xarray.Dataset`` over ``item``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ElfvizError, GridError, OutputExistsError
from .cluster import ClusterError, dask_client, gather, model_for_workers
from .inputs import ScreenItem, iter_items
from .journal import COLUMNS, ResultsJournal
from .outputs import FieldStore, read_results_netcdf, results_to_dataset, write_results_netcdf
from .worker import BundledModel, model_label, screen_one

__all__ = [
    "ClusterError",
    "INLINE",
    "read_results_netcdf",
    "results_to_dataset",
    "screen",
    "write_results_netcdf",
]

log = logging.getLogger(__name__)

INLINE = "inline"
"""``scheduler`` value that runs the items in the calling process."""


def screen(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    *,
    out_csv: str | os.PathLike | None = None,
    out_netcdf: str | os.PathLike | None = None,
    fields_dir: str | os.PathLike | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    spacing: float = 0.12,
    device: str = "cpu",
    resume: bool = True,
    force: bool = False,
    model: Any = None,
    connectivity: int = 6,
    select: Mapping[str, Any] | None = None,
    retry_errors: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Predict the ELF of many structures and tabulate phi, phi*, t1-t3, rs, density and the Tc estimate.

    Parameters
    ----------
    inputs : path, glob or iterable of them
        Structure files (every frame of a trajectory is an item), ASE databases (every row), elfviz
        netCDF files, frame-collection folders, ``@dataset`` (the bundled dataset), ``phase:NAME``.
    out_csv : path-like, optional
        Results table, written row by row as items finish; re-running with the same table skips the
        finished items (``resume``). Without it, results are only returned.
    out_netcdf : path-like, optional
        The results as a netCDF Dataset over ``item`` (written at the end; refused if it exists, unless
        ``force``).
    fields_dir : path-like, optional
        Also store every predicted ELF field in this :class:`~elfviz.io.store.FrameCollection` folder.
    scheduler : None, str or distributed.Client
        None: embedded LocalCluster; ``"tcp://host:port"``: existing cluster; ``"inline"``: this process.
    workers : int, optional
        Worker processes of the embedded cluster (default: CPU cores, 1 for a GPU device).
    spacing : float
        Largest grid spacing along each lattice vector, Å.
    device : str
        Device of the bundled model on the workers: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    resume : bool
        Continue an existing ``out_csv`` (default). False refuses an existing table unless ``force``.
    force : bool
        Start over: replace an existing ``out_csv`` and ``out_netcdf``.
    model : None, path, Predictor or callable
        None: the bundled model (``elfviz.model.Predictor``); a path: weights for the Predictor; a
        Predictor instance; or a callable ``f(structure, *, shape) -> Dataset`` with an ``elf`` field (for
        example :func:`elfviz.reference.promolecular.promolecular_elf`).
    connectivity : {6, 18, 26}
        Voxel neighbourhood for the percolation analysis.
    select : mapping, optional
        Filter frames of collection folders on their index columns, e.g. ``{"split": "test"}``.
    retry_errors : bool
        Recompute items recorded as failed in ``out_csv`` (by default they are skipped like finished ones).
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per input item (input order), columns :data:`elfviz.screen.journal.COLUMNS`; rows of items
        finished in earlier runs come from ``out_csv``. ``df.attrs`` holds run figures (``n_computed``,
        ``n_skipped``, ``n_failed``, ``compute_s``, ``items_per_s``, ``workers``).

    Raises
    ------
    FileFormatError
        An input path does not exist (checked before any work).
    OutputExistsError
        ``out_csv`` is from another run configuration or in use; ``out_netcdf`` exists without ``force``.
    ClusterError
        The scheduler cannot be reached.

    Examples
    --------
    >>> import tempfile, ase.io
    >>> from ase import Atoms
    >>> from elfviz.reference.promolecular import promolecular_elf
    >>> path = os.path.join(tempfile.mkdtemp(), "h2.extxyz")
    >>> ase.io.write(path, [Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[2.4, 2.4, 2.4], pbc=True)])
    >>> table = screen([path], model=promolecular_elf, scheduler="inline", spacing=0.3)
    >>> table.loc[0, "status"], bool(table.loc[0, "t1"] >= table.loc[0, "t3"])
    ('ok', True)
    """
    started = time.perf_counter()
    spacing = _check_spacing(spacing)
    if workers is not None and (int(workers) != workers or workers < 1):
        raise ElfvizError(f"workers must be a positive integer, got {workers!r}")
    if connectivity not in (6, 18, 26):
        raise GridError(f"connectivity must be 6, 18 or 26 neighbours, got {connectivity!r}")
    outputs = [p for p in (out_csv, out_netcdf, fields_dir) if p is not None]
    items = list(iter_items(inputs, select=select, exclude=outputs))
    if out_netcdf is not None:
        out_netcdf = Path(out_netcdf)
        if out_netcdf.exists() and not force:
            raise OutputExistsError(
                f"{out_netcdf} already exists; choose another --netcdf name or pass --force"
            )
    model_obj = _resolve_model(model, device)
    config = {"model": _label(model_obj), "spacing_angstrom": spacing, "connectivity": int(connectivity)}
    log.info("screening %d item(s) with %s at %.3g Å", len(items), config["model"], spacing)

    journal = ResultsJournal(out_csv, config, resume=resume, force=force) if out_csv is not None else None
    rows: dict[str, dict[str, Any]] = {}
    run_figures: dict[str, Any] = {
        "n_items": len(items),
        "n_computed": 0,
        "n_failed": 0,
        "compute_s": 0.0,
        "items_per_s": float("nan"),
        "workers": 0,
    }
    with journal if journal is not None else _nothing():
        finished = journal.finished_keys(include_errors=not retry_errors) if journal is not None else set()
        if journal is not None:
            previous = journal.previous
            rows.update({str(r["key"]): _clean(r) for r in previous.to_dict("records")})
        todo = [item for item in items if item.key not in finished]
        run_figures["n_skipped"] = len(items) - len(todo)
        if run_figures["n_skipped"]:
            log.info("skipping %d item(s) already in %s", run_figures["n_skipped"], out_csv)

        def record(row: dict[str, Any]) -> None:
            rows[row["key"]] = row
            run_figures["n_computed"] += 1
            run_figures["n_failed"] += row.get("status") != "ok"
            if journal is not None:
                journal.append(row)

        for item in todo:
            if not item.ok:
                record(_read_failure_row(item, config))
        computable = [item for item in todo if item.ok]
        if computable:
            _run_items(
                computable,
                model_obj,
                config,
                record,
                scheduler=scheduler,
                workers=workers,
                device=device,
                spacing=spacing,
                connectivity=int(connectivity),
                fields_dir=fields_dir,
                progress=progress,
                figures=run_figures,
            )
        if journal is not None and retry_errors:
            journal.compact()
    table = pd.DataFrame([_full_row(rows[item.key]) for item in items if item.key in rows], columns=COLUMNS)
    run_figures["wall_s"] = time.perf_counter() - started
    table.attrs.update(run_figures)
    if out_netcdf is not None:
        write_results_netcdf(results_to_dataset(table), out_netcdf, force=force)
    log.info(
        "screened %d item(s) (%d failed, %d skipped) in %.1f s",
        run_figures["n_computed"],
        run_figures["n_failed"],
        run_figures["n_skipped"],
        run_figures["wall_s"],
    )
    return table


# ----------------------------------------------------------------------------- running
def _run_items(
    items: list[ScreenItem],
    model_obj: Any,
    config: Mapping[str, Any],
    record,
    *,
    scheduler: Any,
    workers: int | None,
    device: str,
    spacing: float,
    connectivity: int,
    fields_dir: str | os.PathLike | None,
    progress: bool,
    figures: dict[str, Any],
) -> None:
    from tqdm.auto import tqdm

    store = FieldStore(fields_dir) if fields_dir is not None else None
    if workers is not None and scheduler is not None and scheduler != INLINE:
        log.warning(
            "workers=%s is ignored: the worker count of an existing cluster is set where it is started",
            workers,
        )
    n_workers = workers or (1 if str(device).startswith("cuda") else min(os.cpu_count() or 1, len(items)))
    bar = tqdm(
        total=len(items),
        desc="screening",
        unit="item",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    by_key = {item.key: item for item in items}
    kwargs = {
        "spacing": spacing,
        "connectivity": connectivity,
        "config": dict(config),
        "keep_field": store is not None,
    }

    def handle(out: Mapping[str, Any], item: ScreenItem) -> None:
        row = dict(out["row"])
        row.update({"source": item.source, "frame": item.frame, "content_hash": item.content_hash})
        if store is not None and out.get("dataset") is not None:
            store.add(out["dataset"], item)
        record(row)
        bar.update(1)
        if row["status"] != "ok":
            bar.set_postfix(failed=figures["n_failed"], refresh=False)
            log.warning("%s failed: %s", item.key, row.get("error"))

    try:
        if scheduler == INLINE:
            figures["workers"] = 1
            t0 = time.perf_counter()
            for item in items:
                handle(screen_one(item.payload(), model_obj, **kwargs), item)
        else:
            with dask_client(scheduler, n_workers) as (client, embedded):
                figures["workers"] = len(client.nthreads())
                model_arg = model_for_workers(model_obj, client, embedded, n_workers)
                t0 = time.perf_counter()
                gather(client, items, model_arg, kwargs, by_key, handle)
        figures["compute_s"] = time.perf_counter() - t0
        figures["items_per_s"] = (
            len(items) / figures["compute_s"] if figures["compute_s"] > 0 else float("nan")
        )
    finally:
        bar.close()


@contextmanager
def _nothing():
    yield None


# ----------------------------------------------------------------------------- helpers
def _check_spacing(spacing: Any) -> float:
    try:
        value = float(spacing)
    except (TypeError, ValueError):
        raise GridError(f"spacing must be a number of Å, got {spacing!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise GridError(f"spacing must be a positive number of Å, got {spacing!r}; 0.1-0.15 Å is typical")
    return value


def _resolve_model(model: Any, device: str) -> Any:
    if model is None:
        return BundledModel(device=device)
    if isinstance(model, (str, os.PathLike)):
        return BundledModel(weights=os.fspath(model), device=device)
    return model


def _label(model_obj: Any) -> str:
    if isinstance(model_obj, BundledModel):  # load on this machine's CPU only to read the version
        return model_label(dataclasses.replace(model_obj, device="cpu", torch_threads=None))
    return model_label(model_obj)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _read_failure_row(item: ScreenItem, config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": item.key,
        "source": item.source,
        "frame": item.frame,
        "status": "error",
        "error": item.error,
        "content_hash": item.content_hash,
        "worker": "client",
        "finished_utc": _now(),
        **config,
    }


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _full_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: row.get(column) for column in COLUMNS}
