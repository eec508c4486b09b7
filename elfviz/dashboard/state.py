"""The dashboard's shared state: the current structure, its fields, the isovalue and the topology results.

Every panel holds the same :class:`DashboardState`. It only wires library results together:
the percolation sweep comes from :func:`elfviz.topology.networking_analysis` and
:func:`elfviz.topology.percolation_profile`, the components at the isovalue from
:func:`elfviz.topology.components_at`.
"""

from __future__ import annotations

import logging
import time

import param
import xarray as xr

from .. import grid
from .sources import has_field

log = logging.getLogger(__name__)

PROFILE_LEVELS = 201
"""Thresholds in the percolation-dimension-versus-isovalue curve."""


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

    def set_structure(self, ds: xr.Dataset, label: str = "") -> None:
        """Select a new structure; a Dataset that carries ``elf`` also becomes the reference.

        With :attr:`predict_on_select` set, the structure, its reference and its prediction change together.
        """
        grid.validate(ds)
        reference = ds if has_field(ds, "elf") else None
        prediction = self.predict_on_select(ds) if self.predict_on_select is not None else None
        self.param.update(structure=ds, label=label or str(ds.attrs.get("label", "structure")),
                          reference=reference, prediction=prediction)

    @property
    def residual_available(self) -> bool:
        """True when both a reference and a prediction of the current structure exist."""
        return self.reference is not None and self.prediction is not None

    @param.depends("reference", "prediction", "shown", watch=True, on_init=True)
    def _select_field(self) -> None:
        preferred = self.prediction if self.shown == "model" else self.reference
        fallback = self.reference if self.shown == "model" else self.prediction
        chosen = preferred if preferred is not None else fallback
        if chosen is not self.field_ds:
            self.field_ds = chosen

    @param.depends("field_ds", watch=True)
    def _analyse_network(self) -> None:
        if self.field_ds is None:
            self.param.update(network=None, profile=None)
            return
        from ..topology import networking_analysis, percolation_profile

        start = time.perf_counter()
        network = networking_analysis(self.field_ds)
        profile = percolation_profile(self.field_ds)
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
