"""What the sessions of one server share: bounded, thread-safe caches of predictions and percolation sweeps."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from elfviz import grid
from elfviz.dashboard import Dashboard, predictions
from elfviz.dashboard.cache import BoundedCache
from elfviz.dashboard.state import analysis_cache_stats, clear_analysis_cache, field_analysis


def test_the_cache_is_bounded_in_entries_and_bytes_and_drops_the_least_recently_used():
    cache = BoundedCache(max_entries=3, max_bytes=100)
    for key in "abc":
        cache.put(key, np.zeros(10, dtype=np.uint8))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", np.zeros(10, dtype=np.uint8))
    assert sorted(cache.keys()) == ["a", "c", "d"] and cache.evictions == 1
    cache.put("big", np.zeros(90, dtype=np.uint8))  # 120 bytes > 100: the oldest go until it fits
    assert cache.nbytes <= 100 and "big" in cache and len(cache) == 2
    cache.put("huge", np.zeros(101, dtype=np.uint8))  # larger than the whole cache: not kept
    assert "huge" not in cache and cache.nbytes <= 100
    cache.put("big", np.zeros(5, dtype=np.uint8))  # replacing an entry counts its new size only
    assert cache.nbytes == sum(cache._items[k][1] for k in cache.keys())


def test_the_cache_stays_consistent_under_concurrent_use():
    cache = BoundedCache(max_entries=50, max_bytes=40 * 64)

    def work(offset):
        for i in range(400):
            cache.put((offset, i % 70), np.zeros(64, dtype=np.uint8))
            cache.get((offset, (i * 7) % 70))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = cache.stats()
    assert stats["entries"] <= 40 and stats["bytes"] == 64 * stats["entries"]
    assert stats["hits"] + stats["misses"] == 8 * 400


def test_the_prediction_cache_is_bounded_in_bytes(collection, predictor, monkeypatch):
    frames = [collection.read(frame_id) for frame_id in collection.frame_ids()]
    one = predictor.predict(predictions.structure_input(frames[0]), shape=grid.grid_shape(frames[0])).nbytes
    small = BoundedCache(max_entries=32, max_bytes=int(2.5 * one))  # room for 2 predictions
    monkeypatch.setattr(predictions, "_cache", small)
    for ds in frames:
        predictions.predict(ds)
    assert len(small) == 2 and small.nbytes <= small.max_bytes and small.evictions == len(frames) - 2


def test_two_sessions_share_one_prediction_and_one_sweep(collection, predictor):
    predictions.clear_cache()
    clear_analysis_cache()
    calls = predictor.calls
    first, second = Dashboard(collection=collection), Dashboard(collection=collection)
    assert predictor.calls == calls + 1  # the second session took the first one's prediction
    assert second.state.prediction is first.state.prediction
    assert second.state.network is first.state.network  # and its percolation sweep
    assert second.state is not first.state and second.view.scene is not first.view.scene


def test_sessions_asking_for_the_same_structure_at_once_predict_it_once(collection):
    class Slow:
        version, device, card = "slow@0", "cpu", {}

        def __init__(self):
            self.calls = 0

        def predict(self, structure, *, shape=None, **kwargs):
            self.calls += 1
            time.sleep(0.3)
            ds = grid.structure_only(structure)
            return grid.with_field(grid.make_dataset(ds["cell"].values, ds["positions"].values,
                                                     ds["numbers"].values, shape=shape), "elf",
                                   np.full(shape, 0.5, dtype=np.float32))

    slow = Slow()
    previous = predictions._predictor
    predictions.set_predictor(slow)
    try:
        ds = collection.read(collection.frame_ids()[0])
        results = []
        threads = [threading.Thread(target=lambda: results.append(predictions.predict(ds)[0])) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert slow.calls == 1 and len(results) == 4 and all(r is results[0] for r in results)
    finally:
        predictions.set_predictor(previous)


def test_the_sweep_cache_knows_fields_by_content(collection):
    clear_analysis_cache()
    ds = collection.read(collection.frame_ids()[0])
    network, profile = field_analysis(ds)
    again = field_analysis(collection.read(collection.frame_ids()[0]))  # another object, same numbers
    assert again[0] is network and again[1] is profile
    other = grid.with_field(ds, "elf", np.clip(ds["elf"].values * 0.9, 0, 1))
    assert field_analysis(other)[0] is not network
    assert analysis_cache_stats()["entries"] == 2


@pytest.mark.parametrize("name", ["predictions", "analyses"])
def test_shared_caches_have_documented_bounds(name):
    from elfviz.dashboard import state

    cache = predictions._cache if name == "predictions" else state._analyses
    assert cache.max_entries <= 64 and cache.max_bytes <= 256 * 2**20
