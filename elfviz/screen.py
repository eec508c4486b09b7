"""High-throughput screening: ELF prediction and network analysis for many structures on Dask.

:func:`screen` expands the inputs into items (:mod:`elfviz.screen_inputs`), skips the items already in
the results table, sends the others to Dask workers (:func:`elfviz.screen_worker.screen_one`) and appends
each result to the table as it arrives (:mod:`elfviz.screen_journal`). Where it runs:

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
import re
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import ElfvizError, GridError, OutputExistsError
from .screen_inputs import ScreenItem, iter_items
from .screen_journal import COLUMNS, STRING_COLUMNS, ResultsJournal
from .screen_worker import BundledModel, model_label, screen_one

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 20.0
"""How long to try to reach a remote Dask scheduler before giving up, s."""

INLINE = "inline"
"""``scheduler`` value that runs the items in the calling process."""

UNITS = {"pressure_gpa": "GPa", "temperature_k": "K", "volume_a3": "Å^3", "rs_bohr": "bohr",
         "density_g_cm3": "g/cm^3", "phi": "1", "phi_star": "1", "t1": "1", "t2": "1", "t3": "1",
         "tc_k": "K", "tc_low_k": "K", "tc_high_k": "K", "tc_scatter_k": "K", "spacing_angstrom": "Å",
         "t_setup_s": "s", "t_predict_s": "s", "t_topology_s": "s", "t_total_s": "s"}


class ClusterError(ElfvizError):
    """The Dask cluster cannot be reached or started."""


def screen(inputs: Iterable[str | os.PathLike] | str | os.PathLike, *, out_csv: str | os.PathLike | None = None,
           out_netcdf: str | os.PathLike | None = None, fields_dir: str | os.PathLike | None = None,
           scheduler: Any = None, workers: int | None = None, spacing: float = 0.12, device: str = "cpu",
           resume: bool = True, force: bool = False, model: Any = None, connectivity: int = 6,
           select: Mapping[str, Any] | None = None, retry_errors: bool = False,
           progress: bool = False) -> pd.DataFrame:
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
        Also store every predicted ELF field in this :class:`~elfviz.store.FrameCollection` folder.
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
        One row per input item (input order), columns :data:`elfviz.screen_journal.COLUMNS`; rows of items
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
            raise OutputExistsError(f"{out_netcdf} already exists; choose another --netcdf name or pass --force")
    model_obj = _resolve_model(model, device)
    config = {"model": _label(model_obj), "spacing_angstrom": spacing, "connectivity": int(connectivity)}
    log.info("screening %d item(s) with %s at %.3g Å", len(items), config["model"], spacing)

    journal = ResultsJournal(out_csv, config, resume=resume, force=force) if out_csv is not None else None
    rows: dict[str, dict[str, Any]] = {}
    run_figures: dict[str, Any] = {"n_items": len(items), "n_computed": 0, "n_failed": 0, "compute_s": 0.0,
                                   "items_per_s": float("nan"), "workers": 0}
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
            _run_items(computable, model_obj, config, record, scheduler=scheduler, workers=workers,
                       device=device, spacing=spacing, connectivity=int(connectivity), fields_dir=fields_dir,
                       progress=progress, figures=run_figures)
        if journal is not None and retry_errors:
            journal.compact()
    table = pd.DataFrame([_full_row(rows[item.key]) for item in items if item.key in rows], columns=COLUMNS)
    run_figures["wall_s"] = time.perf_counter() - started
    table.attrs.update(run_figures)
    if out_netcdf is not None:
        write_results_netcdf(results_to_dataset(table), out_netcdf, force=force)
    log.info("screened %d item(s) (%d failed, %d skipped) in %.1f s", run_figures["n_computed"],
             run_figures["n_failed"], run_figures["n_skipped"], run_figures["wall_s"])
    return table


# ----------------------------------------------------------------------------- running
def _run_items(items: list[ScreenItem], model_obj: Any, config: Mapping[str, Any], record, *, scheduler: Any,
               workers: int | None, device: str, spacing: float, connectivity: int,
               fields_dir: str | os.PathLike | None, progress: bool, figures: dict[str, Any]) -> None:
    from tqdm.auto import tqdm

    store = _FieldStore(fields_dir) if fields_dir is not None else None
    if workers is not None and scheduler is not None:
        log.warning("workers=%s is ignored: the worker count of an existing cluster is set where it is started",
                    workers)
    n_workers = workers or (1 if str(device).startswith("cuda") else min(os.cpu_count() or 1, len(items)))
    bar = tqdm(total=len(items), desc="screening", unit="item", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    by_key = {item.key: item for item in items}
    kwargs = {"spacing": spacing, "connectivity": connectivity, "config": dict(config),
              "keep_field": store is not None}

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
            with _dask_client(scheduler, n_workers) as (client, embedded):
                figures["workers"] = len(client.nthreads())
                model_arg = _model_for_workers(model_obj, client, embedded, n_workers)
                t0 = time.perf_counter()
                _gather(client, items, model_arg, kwargs, by_key, handle)
        figures["compute_s"] = time.perf_counter() - t0
        figures["items_per_s"] = len(items) / figures["compute_s"] if figures["compute_s"] > 0 else float("nan")
    finally:
        bar.close()


def _gather(client, items, model_arg, kwargs, by_key, handle) -> None:
    from distributed import as_completed

    futures = [client.submit(screen_one, item.payload(), model_arg, pure=False, **kwargs) for item in items]
    item_keys = {future.key: item.key for future, item in zip(futures, items)}
    try:
        for future in as_completed(futures):
            item = by_key[item_keys[future.key]]
            try:
                out = future.result()
            except Exception as exc:  # the worker died or the task could not run: record it, go on
                out = {"row": {"key": item.key, "status": "error", "spacing_angstrom": kwargs["spacing"],
                               "connectivity": kwargs["connectivity"], **kwargs["config"],
                               "error": f"dask: {type(exc).__name__}: {exc}", "finished_utc": _now()},
                       "dataset": None}
            handle(out, item)
            future.release()  # let the cluster forget the result (fields can be large)
    except BaseException:
        client.cancel(futures)
        raise


@contextmanager
def _dask_client(scheduler: Any, n_workers: int):
    """Yield ``(client, embedded)``: a client on the requested cluster, closed afterwards if we made it."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError(f"Dask distributed is not installed ({exc}); install elfviz[dist], or use "
                           "--scheduler inline") from None
    if isinstance(scheduler, Client):
        yield scheduler, False
        return
    if scheduler is None:
        log.info("starting a local Dask cluster: %d worker process(es), 1 thread each", n_workers)
        try:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.WARNING)
        except Exception as exc:
            raise ClusterError(
                f"could not start a local Dask cluster ({type(exc).__name__}: {exc}). Worker processes re-import "
                "the calling script: put the screen(...) call under `if __name__ == \"__main__\":`, or use "
                "scheduler=\"inline\"") from None
        try:
            with Client(cluster) as client:
                yield client, True
        finally:
            cluster.close()
        return
    address = str(scheduler)
    if not re.match(r"^[a-z]+://", address):
        address = "tcp://" + address
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                           "`dask scheduler` and `dask worker ADDRESS`, or drop --scheduler to use a local "
                           "cluster") from None
    try:
        if not client.nthreads():
            log.info("waiting for a worker to join %s", address)
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ClusterError(f"the Dask scheduler at {address} has no workers; start one with "
                                   f"`dask worker {address}`") from None
        yield client, False
    finally:
        client.close()


def _model_for_workers(model_obj: Any, client, embedded: bool, n_workers: int) -> Any:
    if isinstance(model_obj, BundledModel):
        if embedded and model_obj.torch_threads is None:
            threads = max(1, (os.cpu_count() or 1) // max(n_workers, 1))
            return dataclasses.replace(model_obj, torch_threads=threads)
        return model_obj
    if hasattr(model_obj, "predict"):  # a loaded Predictor: send it once to every worker
        return client.scatter(model_obj, broadcast=True, hash=False)
    return model_obj


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
    return {"key": item.key, "source": item.source, "frame": item.frame, "status": "error", "error": item.error,
            "content_hash": item.content_hash, "worker": "client", "finished_utc": _now(), **config}


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def _full_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {column: row.get(column) for column in COLUMNS}


class _FieldStore:
    """Predicted fields in a FrameCollection, one frame per item (frame id derived from the item key)."""

    def __init__(self, root: str | os.PathLike):
        from .store import FrameCollection

        self.collection = FrameCollection(root)

    @staticmethod
    def frame_id(item: ScreenItem) -> str:
        stem = Path(item.source).name if not item.source.startswith("phase:") else item.source
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}-{item.frame}").strip("._") or "item"
        return f"{safe}-{item.content_hash[:12]}"

    def add(self, ds: xr.Dataset, item: ScreenItem) -> None:
        columns = {k: item.info[k] for k in ("phase", "split", "trajectory") if k in item.info}
        # force: a frame already there belongs to this key (written before its row by an interrupted run)
        self.collection.add(ds, self.frame_id(item), force=True, screen_key=item.key, **columns)


# ----------------------------------------------------------------------------- Dataset view
def results_to_dataset(table: pd.DataFrame) -> xr.Dataset:
    """The results table as an ``xarray.Dataset`` over ``item``.

    Identifiers and physical conditions (``key``, ``source``, ``frame``, ``phase``, ``pressure_gpa``,
    ``rs_bohr``) are coordinates, so ``ds.groupby("phase")`` works; the other columns are variables with
    ``units`` attributes; the Tc caveat and the run configuration (when uniform) are global attributes.

    Examples
    --------
    >>> table = pd.DataFrame([{"key": "a#0@1", "status": "ok", "phi": 0.3, "rs_bohr": 1.4, "model": "m"}],
    ...                      columns=COLUMNS)
    >>> ds = results_to_dataset(table)
    >>> float(ds["phi"][0]), ds["rs_bohr"].attrs["units"], ds.attrs["model"]
    (0.3, 'bohr', 'm')
    """
    table = table.reset_index(drop=True)
    ds = xr.Dataset(coords={"item": np.arange(len(table))})
    attrs: dict[str, Any] = {"title": "elfviz screening results", "created_utc": _now()}
    for column in ("tc_caveat", "model", "spacing_angstrom", "connectivity"):
        values = table[column].dropna().unique() if column in table else []
        if len(values) == 1:
            attrs[column] = values[0].item() if isinstance(values[0], np.generic) else values[0]
    coords = ("key", "source", "frame", "phase", "pressure_gpa", "rs_bohr")
    for column in COLUMNS:
        if column == "tc_caveat" and "tc_caveat" in attrs:
            continue
        series = table[column] if column in table else pd.Series([None] * len(table))
        numeric = pd.to_numeric(series, errors="coerce")
        if column not in STRING_COLUMNS and series.notna().sum() == numeric.notna().sum():
            values = numeric.to_numpy(dtype=np.float64)
        else:
            values = np.array(["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                               for v in series.astype(object)], dtype=object)
        var = xr.DataArray(values, dims=("item",), attrs={"units": UNITS[column]} if column in UNITS else {})
        if column in coords:
            ds = ds.assign_coords({column: var})
        else:
            ds[column] = var
    ds.attrs.update(attrs)
    return ds


def write_results_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write :func:`results_to_dataset` output to netCDF (h5netcdf), atomically; refuses to overwrite."""
    from .grid import encode_attrs
    from .store import ENGINE, atomic_write, check_writable

    path = check_writable(path, force)
    out = ds.copy()
    out.attrs = encode_attrs(ds.attrs)
    atomic_write(path, lambda tmp: out.to_netcdf(tmp, engine=ENGINE))
    return path


def read_results_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Read a results netCDF written by :func:`write_results_netcdf`."""
    from .grid import decode_attrs
    from .store import ENGINE

    with xr.open_dataset(path, engine=ENGINE) as handle:
        ds = handle.load()
    ds.attrs = decode_attrs(ds.attrs)
    return ds
