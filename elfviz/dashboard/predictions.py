"""Model predictions for the dashboard: one shared :class:`elfviz.model.Predictor`, results cached per structure.

The predictor (torch, bundled weights) is created on first use and shared by all sessions of a
server; predictions are kept in a bounded LRU cache (:class:`~elfviz.dashboard.cache.BoundedCache`, at most
:data:`CACHE_SIZE` entries and :data:`CACHE_BYTES` bytes) keyed by
:func:`~elfviz.dashboard.sources.structure_key`, so switching back to a structure is instant, and a
structure one visitor has predicted is instant for every other visitor of the same server.

Sessions predict in worker threads (:mod:`elfviz.dashboard.ticks`): the predictor runs one structure at a
time (torch already uses every core for one), and a structure asked for by several sessions at once is
predicted once: the others wait for it and take it from the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import xarray as xr

from .. import grid
from .cache import BoundedCache
from .sources import structure_key

log = logging.getLogger(__name__)

CACHE_SIZE = 32
"""Predictions kept in memory (a 64^3 float32 field is 1 MiB; an ensemble's prediction also keeps its
member spread, so 2 MiB)."""

CACHE_BYTES = 256 * 2**20
"""Most bytes of predictions kept (256 MiB: 32 predictions of 2 x 128^3 float32 fields)."""

TRAJECTORY_CACHE_BYTES = 256 * 2**20
"""Most bytes of trajectory frames' predictions kept, apart from the structures' (a 24-frame trajectory at 48^3
takes about 21 MiB), so a class playing one trajectory does not push the examples' predictions out."""

SHELVES = ("structures", "trajectories")
"""The two caches: predictions of single structures, and of trajectory frames."""


def structure_input(ds: xr.Dataset) -> xr.Dataset:
    """``ds``'s structure without fields and with only its structure attrs (:data:`elfviz.grid.STRUCTURE_ATTRS`),
    which is what the model is given.

    Examples
    --------
    >>> import numpy as np
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], shape=(4, 4, 4))
    >>> ds.attrs.update(engine="qe", total_energy_ev=-1.0, phase="liquid")
    >>> attrs = structure_input(ds).attrs
    >>> "engine" in attrs, "total_energy_ev" in attrs, attrs["phase"]
    (False, False, 'liquid')
    """
    structure = grid.structure_only(ds)
    structure.attrs = grid.structure_attrs(ds.attrs)
    return structure


_lock = threading.RLock()  # the predictor and correction objects
_model_lock = threading.RLock()  # one prediction at a time (torch uses every core for one)
_predictor: Any = None
_correction: Any = None
_cache = BoundedCache(max_entries=CACHE_SIZE, max_bytes=CACHE_BYTES)
_frames = BoundedCache(max_entries=4096, max_bytes=TRAJECTORY_CACHE_BYTES)
_member_phi = BoundedCache(max_entries=CACHE_SIZE, max_bytes=2**20, sizeof=lambda value: 64)


def get_predictor():
    """The shared bundled-weights :class:`~elfviz.model.Predictor` (created on first call)."""
    global _predictor
    with _lock:
        if _predictor is None:
            from ..model import Predictor

            _predictor = Predictor()
            log.info("loaded %s on %s", _predictor.version, _predictor.device)
        return _predictor


def set_predictor(predictor: Any) -> None:
    """Replace the shared predictor and clear the cache (and the correction fitted for the old one)."""
    global _predictor, _correction
    with _lock, _model_lock:
        _predictor = predictor
        _correction = None
        _cache.clear()
        _frames.clear()
        _member_phi.clear()


def use_weights(weights: str | None) -> Any:
    """Make the shared predictor that of ``weights`` (a shipped version such as ``elfnet-fft@1.6``, a weights
    path, or None for the default model) and return it. Nothing changes, and nothing cached is lost, when the
    shared predictor already has those weights (``panel serve app/app.py --args --weights X`` calls this for
    every page).

    Raises
    ------
    ModelError
        If ``weights`` names no shipped model and no weights file (the message lists the shipped ones).
    """
    from ..model import Predictor
    from ..model.bundled import resolve_weights
    from ..model.network import same_weights

    wanted = resolve_weights(weights)
    with _lock:
        current = getattr(_predictor, "weights_path", None)  # None: no predictor yet, or a stand-in (tests)
        if current is not None and same_weights(current, wanted):
            return _predictor
        predictor = Predictor(weights)
        set_predictor(predictor)
        log.info("loaded %s on %s", predictor.version, predictor.device)
        return predictor


def get_correction():
    """The shipped Fourier correction of the shared predictor's weights (loaded on first call).

    Raises
    ------
    ModelError
        If the predictor's weights have no shipped correction.
    """
    global _correction
    with _lock:
        if _correction is None:
            predictor = get_predictor()
            if not hasattr(predictor, "load_correction"):
                from ..errors import ModelError

                raise ModelError(f"the model {getattr(predictor, 'version', '?')} has no Fourier correction")
            _correction = predictor.load_correction("bundled")
        return _correction


def device_label(predictor: Any) -> str:
    """``"CUDA (<gpu name>)"`` or ``"CPU"`` for a predictor's device."""
    device = str(getattr(predictor, "device", "cpu"))
    if device.startswith("cuda"):
        try:
            import torch

            return f"CUDA ({torch.cuda.get_device_name(0)})"
        except Exception:  # pragma: no cover - name lookup is cosmetic
            return "CUDA"
    return "CPU"


def _cache_key(ds: xr.Dataset, corrected: bool) -> str:
    return structure_key(ds) + ("|fourier-corrected" if corrected else "")


def _shelf(shelf: str) -> BoundedCache:
    if shelf not in SHELVES:
        raise ValueError(f"unknown prediction cache {shelf!r}; one of {SHELVES}")
    return _cache if shelf == "structures" else _frames


def cached_prediction(ds: xr.Dataset, corrected: bool = False, *, shelf: str = "structures") -> xr.Dataset | None:
    """The cached prediction for this structure and grid (Fourier-corrected or not), or None."""
    return _shelf(shelf).get(_cache_key(ds, corrected))


def cache_stats(shelf: str = "structures") -> dict[str, int]:
    """A prediction cache's entries, bytes, hits, misses and evictions (shared by all sessions)."""
    return _shelf(shelf).stats()


def predict(ds: xr.Dataset, corrected: bool = False, *, shelf: str = "structures") -> tuple[xr.Dataset, float]:
    """Predict the ELF of ``ds``'s structure on ``ds``'s grid (cached).

    Parameters
    ----------
    ds : xarray.Dataset
        Structure (and grid) to predict for.
    corrected : bool
        Apply the shipped Fourier correction (:func:`get_correction`) to the network's prediction. The
        network's own prediction is computed (or taken from the cache) first and cached too.
    shelf : str
        Which cache keeps it (:data:`SHELVES`): ``"trajectories"`` for frames of a trajectory.

    Returns
    -------
    prediction : xarray.Dataset
        The Predictor's Dataset (field ``elf``, and ``elf_member_std`` for an ensemble; attrs ``source``,
        ``device``; ``correction`` if corrected).
    seconds : float
        Wall time of this call (near 0 for a cache hit).
    """
    start = time.perf_counter()
    cache = _shelf(shelf)
    hit = cache.get(_cache_key(ds, corrected))
    if hit is not None:
        return hit, time.perf_counter() - start
    with _model_lock:  # another session may have predicted it while this one waited
        hit = cache.get(_cache_key(ds, corrected))
        if hit is not None:
            return hit, time.perf_counter() - start
        if corrected:
            correction = get_correction()
            network, _ = predict(ds, shelf=shelf)
            result = correction(network)
            cache.put(_cache_key(ds, True), result)
            return result, time.perf_counter() - start
        predictor = get_predictor()
        structure = structure_input(ds)  # never the reference's DFT provenance, whatever the predictor keeps
        # an ensemble evaluates all its members anyway: keep their spread (elf_member_std) for the slice view
        spread = {"member_spread": True} if getattr(predictor, "n_members", 1) > 1 else {}
        result = predictor.predict(structure, shape=grid.grid_shape(ds), **spread)
        for key in grid.STRUCTURE_ATTRS:  # for predictors that return fewer attrs than they were given
            if key in ds.attrs and key not in result.attrs:
                result.attrs[key] = ds.attrs[key]
        cache.put(_cache_key(ds, False), result)
    return result, time.perf_counter() - start


def member_phi_range(ds: xr.Dataset) -> tuple[float, float] | None:
    """Lowest and highest networking value φ of the shared ensemble's member networks for ``ds``'s structure
    on ``ds``'s grid (:func:`elfviz.analysis.member_phi.member_networking_values`; cached), or None for a
    single network. The members' fields are the networks' own, without the Fourier correction."""
    predictor = get_predictor()
    if getattr(predictor, "n_members", 1) < 2:
        return None
    key = _cache_key(ds, False)
    hit = _member_phi.get(key)
    if hit is not None:
        return hit
    from ..analysis.member_phi import member_networking_values

    network, _ = predict(ds)
    with _model_lock:
        hit = _member_phi.get(key)
        if hit is not None:
            return hit
        values = member_networking_values(predictor, network)
        result = (float(values.min()), float(values.max()))
        _member_phi.put(key, result)
    return result


def clear_cache() -> None:
    """Forget all cached predictions."""
    _cache.clear()
    _frames.clear()
    _member_phi.clear()
