"""Model predictions for the dashboard: one shared :class:`elfviz.model.Predictor`, results cached per structure.

The predictor (torch, bundled weights) is created on first use and shared by all sessions of a
server; predictions are kept in a small LRU cache keyed by :func:`~elfviz.dashboard.sources.structure_key`,
so switching back to a structure is instant.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import xarray as xr

from .. import grid
from .sources import structure_key

log = logging.getLogger(__name__)

CACHE_SIZE = 32
"""Predictions kept in memory (a 64^3 float32 field is 1 MiB)."""

_lock = threading.RLock()
_predictor: Any = None
_cache: OrderedDict[str, xr.Dataset] = OrderedDict()


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
    """Replace the shared predictor (e.g. one with a Fourier correction) and clear the cache."""
    global _predictor
    with _lock:
        _predictor = predictor
        _cache.clear()


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


def cached_prediction(ds: xr.Dataset) -> xr.Dataset | None:
    """The cached prediction for this structure and grid, or None."""
    with _lock:
        key = structure_key(ds)
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        return None


def predict(ds: xr.Dataset) -> tuple[xr.Dataset, float]:
    """Predict the ELF of ``ds``'s structure on ``ds``'s grid (cached).

    Returns
    -------
    prediction : xarray.Dataset
        The Predictor's Dataset (field ``elf``, attrs ``source``, ``device``).
    seconds : float
        Wall time of this call (near 0 for a cache hit).
    """
    start = time.perf_counter()
    hit = cached_prediction(ds)
    if hit is not None:
        return hit, time.perf_counter() - start
    predictor = get_predictor()
    structure = grid.structure_only(ds)
    result = predictor.predict(structure, shape=grid.grid_shape(ds))
    for key in ("label", "frame_id", "phase", "pressure_gpa", "temperature_k", "split", "trajectory"):
        if key in ds.attrs and key not in result.attrs:
            result.attrs[key] = ds.attrs[key]
    with _lock:
        _cache[structure_key(ds)] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result, time.perf_counter() - start


def clear_cache() -> None:
    """Forget all cached predictions."""
    with _lock:
        _cache.clear()
