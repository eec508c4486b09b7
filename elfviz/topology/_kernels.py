"""Numba kernels of the topology package: periodic union-find with lattice offsets.

Every node (a grid voxel, or a piece of a labelled set) belongs to a tree whose root represents its
connected component. Besides its parent, each node keeps an integer lattice offset ``off`` (stored
together as ``node[u] = (parent, off_a, off_b, off_c)``): the copy of
the node in cell ``L(node) = off[node] + L(parent)`` of the infinite periodic lattice is connected to the
root's copy in cell 0 (``L(root) = 0``). An edge ``u -> w`` that crosses the periodic boundary by the lattice
vector ``d`` connects ``u@c`` with ``w@(c + d)``. When both ends already share a root, the edge closes a loop
whose net translation ``L(u) + d - L(w)`` is a lattice translation of the component: the component is
connected to its own image shifted by that vector. The rank of all such translations (0..3) is the number
of independent lattice directions in which the component wraps around the cell.

Ranks are kept exactly in integer arithmetic with at most three independent vectors per component root
(cross product and determinant tests); vectors are divided by their gcd to keep the numbers small.

This module imports numba at import time; the public modules import it lazily so that ``import
elfviz.topology`` stays light.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _find(node, u, lv):
    """Root of ``u``; writes ``L(u)`` (offset of u's connected copy relative to the root) into ``lv``.

    ``node[u] = (parent, off_a, off_b, off_c)``: parent and offset share a row so that one memory access
    serves both (the sweep visits voxels in value order, i.e. at random places in memory).

    Full path compression: every node on the path is re-attached to the root with its total offset.
    """
    r = u
    l0 = 0
    l1 = 0
    l2 = 0
    while node[r, 0] != r:
        l0 += node[r, 1]
        l1 += node[r, 2]
        l2 += node[r, 3]
        r = node[r, 0]
    lv[0] = l0
    lv[1] = l1
    lv[2] = l2
    # second pass: compress
    x = u
    while node[x, 0] != r and x != r:
        p = node[x, 0]
        o0 = node[x, 1]
        o1 = node[x, 2]
        o2 = node[x, 3]
        node[x, 0] = r
        node[x, 1] = l0
        node[x, 2] = l1
        node[x, 3] = l2
        l0 -= o0
        l1 -= o1
        l2 -= o2
        x = p
    return r


@njit(cache=True, nogil=True)
def _gcd(a, b):
    a = abs(a)
    b = abs(b)
    while b != 0:
        a, b = b, a % b
    return a


@njit(cache=True, nogil=True)
def _add_translation(basis, rank, slot, next_slot, r, t0, t1, t2):
    """Add translation ``t`` to the lattice of root ``r``; return (new rank, next free slot).

    ``basis[slot[r], k]`` holds the k-th independent vector of root r.
    """
    rk = rank[r]
    if rk >= 3 or (t0 == 0 and t1 == 0 and t2 == 0):
        return rk, next_slot
    g = _gcd(_gcd(t0, t1), t2)
    t0 //= g
    t1 //= g
    t2 //= g
    if rk == 0:
        if slot[r] < 0:
            slot[r] = next_slot
            next_slot += 1
        s = slot[r]
        basis[s, 0, 0] = t0
        basis[s, 0, 1] = t1
        basis[s, 0, 2] = t2
        rank[r] = 1
        return 1, next_slot
    s = slot[r]
    if rk == 1:
        b0 = basis[s, 0, 0]
        b1 = basis[s, 0, 1]
        b2 = basis[s, 0, 2]
        c0 = b1 * t2 - b2 * t1
        c1 = b2 * t0 - b0 * t2
        c2 = b0 * t1 - b1 * t0
        if c0 == 0 and c1 == 0 and c2 == 0:
            return 1, next_slot
        basis[s, 1, 0] = t0
        basis[s, 1, 1] = t1
        basis[s, 1, 2] = t2
        rank[r] = 2
        return 2, next_slot
    # rank 2: independent iff det(b0, b1, t) != 0
    a0 = basis[s, 0, 0]
    a1 = basis[s, 0, 1]
    a2 = basis[s, 0, 2]
    b0 = basis[s, 1, 0]
    b1 = basis[s, 1, 1]
    b2 = basis[s, 1, 2]
    det = t0 * (a1 * b2 - a2 * b1) - t1 * (a0 * b2 - a2 * b0) + t2 * (a0 * b1 - a1 * b0)
    if det == 0:
        return 2, next_slot
    basis[s, 2, 0] = t0
    basis[s, 2, 1] = t1
    basis[s, 2, 2] = t2
    rank[r] = 3
    return 3, next_slot


@njit(cache=True, nogil=True)
def _merge_bases(basis, rank, slot, next_slot, keep, gone):
    """Merge the translation lattice of root ``gone`` into root ``keep``; return next free slot."""
    if rank[gone] == 0:
        return next_slot
    if rank[keep] == 0:
        slot[keep] = slot[gone]
        rank[keep] = rank[gone]
        return next_slot
    s = slot[gone]
    for k in range(rank[gone]):
        if rank[keep] >= 3:
            break
        _, next_slot = _add_translation(basis, rank, slot, next_slot, keep,
                                        basis[s, k, 0], basis[s, k, 1], basis[s, k, 2])
    return next_slot


@njit(cache=True, nogil=True)
def percolation_sweep(order, values, shape, neighbours, atom_count, stop_early, profile_levels):
    """Process voxels in the given (descending) order and record the percolation events.

    Parameters
    ----------
    order : int64 (N,)
        Flat voxel indices in processing order (descending value, ties by flat index).
    values : float32 or float64 (N,)
        Field values, flat in C order.
    shape : int64 (3,)
        Grid shape.
    neighbours : int64 (K, 3)
        Neighbour steps (all signs, e.g. the 6 face neighbours).
    atom_count : int32 (N,)
        Number of atoms mapped to each voxel.
    stop_early : bool
        Stop as soon as t3 and (if there are atoms) phi* are known. Ignored with profile levels.
    profile_levels : float64 (P,)
        Descending thresholds at which to record the number of components, largest size and dimension.

    Returns
    -------
    thresholds : float64 (3,)   t1, t2, t3 (NaN if never reached)
    event_basis : int64 (3, 3, 3)  [k, :k+1]: independent translations of the first component of rank k+1
    phi_star : float64           NaN if no atom event happened
    star_pair : int64 (5,)       voxel a, voxel b, image (3) with b@image connected to a@0
    prof_ncomp, prof_largest, prof_dim : int64 (P,)
    n_processed : int64
    """
    na = shape[0]
    nb = shape[1]
    nc = shape[2]
    n = na * nb * nc
    node = np.zeros((n, 4), np.int32)  # parent (-1: not yet processed) and offset to it, one cache line
    node[:, 0] = -1
    size = np.zeros(n, np.int32)
    rank = np.zeros(n, np.int8)
    slot = np.full(n, -1, np.int32)
    atoms = np.zeros(n, np.int32)
    repvox = np.full(n, -1, np.int32)
    min_n = min(na, min(nb, nc))
    n_slots = n // max(min_n, 1) + 2
    basis = np.zeros((n_slots, 3, 3), np.int64)
    next_slot = 0

    thresholds = np.full(3, np.nan)
    event_basis = np.zeros((3, 3, 3), np.int64)
    global_rank = 0
    phi_star = np.nan
    star_pair = np.full(5, -1, np.int64)
    star_pair[2:] = 0
    have_atoms = False
    for v in range(n):
        if atom_count[v] > 0:
            have_atoms = True
            break

    n_prof = profile_levels.shape[0]
    prof_ncomp = np.zeros(n_prof, np.int64)
    prof_largest = np.zeros(n_prof, np.int64)
    prof_dim = np.zeros(n_prof, np.int64)
    p = 0
    n_comp = 0
    largest = 0

    lw = np.zeros(3, np.int64)
    la = np.zeros(3, np.int64)
    n_nb = neighbours.shape[0]
    n_processed = 0
    for step in range(n):
        x = np.float64(values[order[step]])
        while p < n_prof and x < profile_levels[p]:
            prof_ncomp[p] = n_comp
            prof_largest[p] = largest
            prof_dim[p] = global_rank
            p += 1
        if stop_early and n_prof == 0 and global_rank == 3 and (not have_atoms or phi_star == phi_star):
            break
        v = order[step]
        n_processed += 1
        node[v, 0] = v
        size[v] = 1
        atoms[v] = atom_count[v]
        if atom_count[v] > 0:
            repvox[v] = v
        n_comp += 1
        if largest < 1:
            largest = 1
        if atom_count[v] >= 2 and phi_star != phi_star:
            phi_star = x
            star_pair[0] = v
            star_pair[1] = v
        rv = v
        lv0 = 0
        lv1 = 0
        lv2 = 0
        i = v // (nb * nc)
        j = (v // nc) % nb
        k = v % nc
        for e in range(n_nb):
            ii = i + neighbours[e, 0]
            jj = j + neighbours[e, 1]
            kk = k + neighbours[e, 2]
            d0 = 0
            d1 = 0
            d2 = 0
            if ii < 0:
                ii += na
                d0 = -1
            elif ii >= na:
                ii -= na
                d0 = 1
            if jj < 0:
                jj += nb
                d1 = -1
            elif jj >= nb:
                jj -= nb
                d1 = 1
            if kk < 0:
                kk += nc
                d2 = -1
            elif kk >= nc:
                kk -= nc
                d2 = 1
            w = (ii * nb + jj) * nc + kk
            if node[w, 0] < 0:
                continue
            rw = _find(node, w, lw)
            g0 = lv0 + d0 - lw[0]
            g1 = lv1 + d1 - lw[1]
            g2 = lv2 + d2 - lw[2]
            if rv == rw:
                r = rv
                old_rank = rank[r]
                _, next_slot = _add_translation(basis, rank, slot, next_slot, r, g0, g1, g2)
                if rank[r] > old_rank and atoms[r] > 0 and old_rank == 0 and phi_star != phi_star:
                    phi_star = x
                    star_pair[0] = repvox[r]
                    star_pair[1] = repvox[r]
                    s = slot[r]
                    star_pair[2] = basis[s, 0, 0]
                    star_pair[3] = basis[s, 0, 1]
                    star_pair[4] = basis[s, 0, 2]
            else:
                # union by size; the new root keeps the larger tree. v's own offset to its root (lv)
                # is tracked here instead of calling find(v) for every neighbour.
                if size[rv] >= size[rw]:
                    r = rv
                    c = rw
                    node[rw, 0] = rv
                    node[rw, 1] = g0
                    node[rw, 2] = g1
                    node[rw, 3] = g2
                else:
                    r = rw
                    c = rv
                    node[rv, 0] = rw
                    node[rv, 1] = -g0
                    node[rv, 2] = -g1
                    node[rv, 3] = -g2
                    lv0 -= g0
                    lv1 -= g1
                    lv2 -= g2
                    rv = rw
                size[r] += size[c]
                if size[r] > largest:
                    largest = size[r]
                n_comp -= 1
                next_slot = _merge_bases(basis, rank, slot, next_slot, r, c)
                if phi_star != phi_star and atoms[r] + atoms[c] > 0:
                    if atoms[r] > 0 and atoms[c] > 0:
                        phi_star = x
                        a = repvox[r]
                        b = repvox[c]
                        _find(node, a, la)
                        _find(node, b, lw)
                        star_pair[0] = a
                        star_pair[1] = b
                        star_pair[2] = lw[0] - la[0]
                        star_pair[3] = lw[1] - la[1]
                        star_pair[4] = lw[2] - la[2]
                    elif rank[r] > 0:
                        phi_star = x
                        a = repvox[r] if atoms[r] > 0 else repvox[c]
                        s = slot[r]
                        star_pair[0] = a
                        star_pair[1] = a
                        star_pair[2] = basis[s, 0, 0]
                        star_pair[3] = basis[s, 0, 1]
                        star_pair[4] = basis[s, 0, 2]
                atoms[r] += atoms[c]
                if repvox[r] < 0:
                    repvox[r] = repvox[c]
            if rank[r] > global_rank:
                s = slot[r]
                for level in range(global_rank, rank[r]):
                    thresholds[level] = x
                    # the component's independent translations when it reached this rank
                    for m in range(level + 1):
                        for q in range(3):
                            event_basis[level, m, q] = basis[s, m, q]
                global_rank = rank[r]
    while p < n_prof:
        prof_ncomp[p] = n_comp
        prof_largest[p] = largest
        prof_dim[p] = global_rank
        p += 1
    return (thresholds, event_basis, phi_star, star_pair, prof_ncomp, prof_largest, prof_dim,
            n_processed)
