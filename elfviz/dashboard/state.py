"""The dashboard's shared state: the current structure, its fields, the isovalue and the topology results.

Every panel holds the same :class:`DashboardState`. It only wires library results together:
the percolation sweep comes from :func:`elfviz.topology.networking_analysis` and
:func:`elfviz.topology.percolation_profile`, the components at the isovalue from
:func:`elfviz.topology.components_at`.

The sweep of a field is the same for every session showing it, so :func:`field_analysis` keeps it in a
bounded cache shared by the sessions of a server (keyed by the field's content); a session that loads a
structure in a worker thread (:class:`elfviz.dashboard.ticks.Background`) computes it there, and the
state's own update on the event loop then finds it ready.
"""

from __future__ import annotations

import hashlib
import logging
import time

import numpy as np
import param
import xarray as xr

from .. import grid
from ..grid import keys
from .cache import BoundedCache
from .sources import has_field, structure_key

log = logging.getLogger(__name__)

PROFILE_LEVELS = 201
"""Thresholds in the percolation-dimension-versus-isovalue curve."""

ANALYSIS_CACHE_SIZE = 64
"""Fields whose percolation sweep (a few kB each) a server keeps for all its sessions."""

_analyses = BoundedCache(max_entries=ANALYSIS_CACHE_SIZE, max_bytes=64 * 2**20, sizeof=lambda value: 16 * 1024)

_AUTO = object()


def field_key(ds: xr.Dataset, field: str = keys.ELF) -> str:
    """A hash of ``ds``'s structure, grid and the values of ``field`` (equal fields share it).

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], shape=(4, 4, 4))
    >>> a, b = grid.with_field(ds, "elf", np.zeros((4, 4, 4))), grid.with_field(ds, "elf", np.ones((4, 4, 4)))
    >>> field_key(a) == field_key(a.copy(deep=True)), field_key(a) == field_key(b)
    (True, False)
    """
    values = np.ascontiguousarray(ds[field].values)
    digest = hashlib.sha1(values.view(np.uint8).reshape(-1))
    digest.update(str(values.dtype).encode())
    return f"{structure_key(ds)}:{field}:{digest.hexdigest()[:16]}"


def field_analysis(ds: xr.Dataset):
    """``(networking_analysis(ds), percolation_profile(ds))`` of ``ds``'s ELF, from the shared cache when an
    equal field was analysed before (by this or another session). Safe to call from worker threads."""
    from ..topology import networking_analysis, percolation_profile

    key = field_key(ds)
    hit = _analyses.get(key)
    if hit is None:
        hit = (networking_analysis(ds), percolation_profile(ds))
        _analyses.put(key, hit)
    return hit


def shown_field(shown: str, reference, prediction):
    """The Dataset the views show: the prediction for ``shown == "model"``, else the reference; the other one
    when the preferred one is missing (None when both are)."""
    preferred = prediction if shown == "model" else reference
    fallback = reference if shown == "model" else prediction
    return preferred if preferred is not None else fallback


def analysis_cache_stats() -> dict[str, int]:
    """Entries, bytes, hits, misses and evictions of the shared analysis cache."""
    return _analyses.stats()


def clear_analysis_cache() -> None:
    """Forget the shared percolation sweeps."""
    _analyses.clear()


class DashboardState(param.Parameterized):
    """Shared state of one dashboard session.

    Parameters set by the panels: ``structure`` (with :meth:`set_structure`), ``prediction`` (by the
    model panel), ``shown`` and ``isovalue``. Derived, read-only for the panels: ``field_ds``,
    ``network``, ``profile``, ``components``.
    """

    structure = param.Parameter(default=None, doc="Current structure (elfviz Dataset, may hold fields).")
    label = param.String(default="", doc="Human-readable name of the current structure.")
    reference = param.Parameter(default=None, doc="Dataset whose `elf` is a reference ELF (bundled QE frame "
                                                  "or uploaded field), or None.")
    prediction = param.Parameter(default=None, doc="Model prediction (Dataset with `elf`) for the structure.")
    shown = param.Selector(default="model", objects=["model", "reference"], doc="Which ELF the views show.")
    field_ds = param.Parameter(default=None, doc="Dataset whose `elf` the views show (derived).")
    isovalue = param.Number(default=0.5, bounds=(0.0, 1.0), doc="ELF isovalue / percolation threshold.")
    network = param.Parameter(default=None, doc="NetworkAnalysis of the shown field (derived).")
    profile = param.Parameter(default=None, doc="percolation_profile Dataset of the shown field (derived).")
    components = param.Parameter(default=None, doc="ComponentReport at the isovalue (derived).")
    timings = param.Dict(default={}, doc="Seconds spent in the last topology updates (for the benchmark).")
    predict_on_select = param.Callable(
        default=None, doc="Called with a newly selected structure before the panels see it; returns its "
                          "prediction (or None). The model panel sets it, so a structure and its prediction "
                          "arrive in one update and the views are analysed once, not first for the reference.")
    prediction_steps = param.Parameter(
        default=None, doc="The same prediction in steps, for a structure loaded in a worker thread (the model "
                          "panel sets it): ``(settings, compute, show)``: ``settings()`` on the event loop, "
                          "``compute(ds, settings)`` in the worker, ``show(outcome)`` back on the loop returns "
                          "the prediction (or None).")

    def set_structure(self, ds: xr.Dataset, label: str = "", *, prediction=_AUTO) -> None:
        """Select a new structure; a Dataset that carries ``elf`` also becomes the reference.

        With :attr:`predict_on_select` set, the structure, its reference and its prediction change together.
        A ``prediction`` given here (computed in a worker thread, or None) is used instead of calling it.
        """
        grid.validate(ds)
        reference = ds if has_field(ds, keys.ELF) else None
        if prediction is _AUTO:
            prediction = self.predict_on_select(ds) if self.predict_on_select is not None else None
        self.param.update(structure=ds, label=label or str(ds.attrs.get("label", "structure")),
                          reference=reference, prediction=prediction)

    @property
    def residual_available(self) -> bool:
        """True when both a reference and a prediction of the current structure exist."""
        return self.reference is not None and self.prediction is not None

    @param.depends("reference", "prediction", "shown", watch=True, on_init=True)
    def _select_field(self) -> None:
        chosen = shown_field(self.shown, self.reference, self.prediction)
        if chosen is not self.field_ds:
            self.field_ds = chosen

    @param.depends("field_ds", watch=True)
    def _analyse_network(self) -> None:
        if self.field_ds is None:
            self.param.update(network=None, profile=None)
            return
        start = time.perf_counter()
        network, profile = field_analysis(self.field_ds)
        self.timings = {**self.timings, "network_s": time.perf_counter() - start}
        self.param.update(network=network, profile=profile)

    @param.depends("field_ds", "isovalue", watch=True)
    def _update_components(self) -> None:
        if self.field_ds is None:
            self.components = None
            return
        from ..topology import components_at

        start = time.perf_counter()
        components = components_at(self.field_ds, float(self.isovalue))
        self.timings = {**self.timings, "components_s": time.perf_counter() - start}
        self.components = components

    def percolation_dimension(self) -> int | None:
        """Percolation dimension (0..3) of the shown field at the current isovalue, from the sweep."""
        return None if self.network is None else self.network.percolation_dimension(self.isovalue)
