"""Numba kernel: stable descending radix argsort of order-preserving integer keys."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def radix_argsort_descending(keys, n_bits):
    """Stable argsort of unsigned integer keys in descending order (LSD radix sort, 11-bit digits).

    Ties keep ascending index order; int32 indices (grids up to 2^31 - 1 points). ``keys`` must be
    order-preserving images of the values (see
    :func:`elfviz.topology._field.sortable_keys`); ``n_bits`` is 32 or 64.
    """
    n = keys.shape[0]
    radix_bits = 11
    n_buckets = 1 << radix_bits
    mask = n_buckets - 1
    cur_k = np.empty(n, keys.dtype)
    cur_i = np.empty(n, np.int32)
    for i in range(n):
        cur_k[i] = ~keys[i]  # descending order = ascending order of the complement
        cur_i[i] = i
    nxt_k = np.empty(n, keys.dtype)
    nxt_i = np.empty(n, np.int32)
    counts = np.zeros(n_buckets + 1, np.int64)
    shift = 0
    while shift < n_bits:
        counts[:] = 0
        for i in range(n):
            counts[((cur_k[i] >> shift) & mask) + 1] += 1
        skip = False
        for b in range(1, n_buckets + 1):
            if counts[b] == n:  # every key has this digit: the pass would not move anything
                skip = True
                break
        if not skip:
            for b in range(n_buckets):
                counts[b + 1] += counts[b]
            for i in range(n):
                d = (cur_k[i] >> shift) & mask
                pos = counts[d]
                nxt_k[pos] = cur_k[i]
                nxt_i[pos] = cur_i[i]
                counts[d] = pos + 1
            cur_k, nxt_k = nxt_k, cur_k
            cur_i, nxt_i = nxt_i, cur_i
        shift += radix_bits
    return cur_i
