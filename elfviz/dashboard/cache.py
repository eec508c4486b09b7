"""A bounded, thread-safe LRU cache for what all sessions of one dashboard server share.

Model predictions and the percolation analyses of fields are the same for every visitor who looks at the
same structure, so a server keeps them once (:mod:`elfviz.dashboard.predictions`,
:mod:`elfviz.dashboard.state`). Sessions compute in worker threads (:mod:`elfviz.dashboard.ticks`), so the
cache is guarded by a lock, and it is bounded in entries and in bytes: twenty students uploading their own
structures cannot grow the server without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


def nbytes_of(value: Any) -> int:
    """Bytes held by ``value``'s arrays: ``.nbytes`` of an array or Dataset, summed over tuples and lists.

    Examples
    --------
    >>> import numpy as np
    >>> nbytes_of((np.zeros(10, dtype=np.float32), 1.0))
    40
    """
    if isinstance(value, (tuple, list)):
        return sum(nbytes_of(item) for item in value)
    nbytes = getattr(value, "nbytes", 0)
    return int(nbytes) if isinstance(nbytes, (int, float)) else 0


class BoundedCache:
    """Least-recently-used cache bounded by ``max_entries`` and ``max_bytes``, safe to use from threads.

    Parameters
    ----------
    max_entries : int
        Most entries kept.
    max_bytes : int
        Most bytes kept (as measured by ``sizeof``); the least recently used entries go first. An entry
        larger than ``max_bytes`` on its own is not kept.
    sizeof : callable
        Bytes of a value (default :func:`nbytes_of`).

    Examples
    --------
    >>> cache = BoundedCache(max_entries=2, max_bytes=10**6)
    >>> cache.put("a", 1); cache.put("b", 2); cache.get("a")
    1
    >>> cache.put("c", 3)   # "b" is the least recently used
    >>> sorted(cache.keys()), cache.get("b") is None
    (['a', 'c'], True)
    """

    def __init__(self, max_entries: int, max_bytes: int, sizeof: Callable[[Any], int] = nbytes_of):
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a BoundedCache needs max_entries >= 1 and max_bytes >= 1")
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._sizeof = sizeof
        self._lock = threading.RLock()
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value for ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return default
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used entries beyond the bounds."""
        size = max(0, int(self._sizeof(value)))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
                self.evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        with self._lock:
            return self._bytes

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits, misses and evictions so far."""
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "hits": self.hits, "misses": self.misses,
                    "evictions": self.evictions}
