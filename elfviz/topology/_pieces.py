"""Numba kernel: merge labelled pieces across the periodic faces, keeping lattice offsets.

Used by :func:`elfviz.topology.components_at` after :func:`scipy.ndimage.label` has labelled the set inside
the cell; see :mod:`elfviz.topology._kernels` for the offset convention.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import _find


@njit(cache=True, nogil=True)
def merge_pieces(n_nodes, src, dst, shift):
    """Union-find with lattice offsets over an explicit edge list.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (pieces), numbered 0..n_nodes-1.
    src, dst : int64 (E,)
        Edge ends; edge e connects ``src[e]@c`` with ``dst[e]@(c + shift[e])``.
    shift : int64 (E, 3)
        Lattice vector crossed by each edge.

    Returns
    -------
    root : int64 (n_nodes,)      component root of each node
    offset : int64 (n_nodes, 3)  L(node) relative to its root
    loop_root : int64 (M,)       for each loop with non-zero translation: the root ...
    loop_vec : int64 (M, 3)      ... and the translation (before final compression; valid for the root)
    """
    node = np.zeros((n_nodes, 4), np.int32)  # (parent, offset to parent)
    node[:, 0] = np.arange(n_nodes)
    size = np.ones(n_nodes, np.int32)
    n_edges = src.shape[0]
    loop_node = np.empty(n_edges, np.int64)
    loop_vec = np.empty((n_edges, 3), np.int64)
    n_loops = 0
    lu = np.zeros(3, np.int64)
    lw = np.zeros(3, np.int64)
    for e in range(n_edges):
        u = src[e]
        w = dst[e]
        ru = _find(node, u, lu)
        rw = _find(node, w, lw)
        g0 = lu[0] + shift[e, 0] - lw[0]
        g1 = lu[1] + shift[e, 1] - lw[1]
        g2 = lu[2] + shift[e, 2] - lw[2]
        if ru == rw:
            if g0 != 0 or g1 != 0 or g2 != 0:
                loop_node[n_loops] = ru
                loop_vec[n_loops, 0] = g0
                loop_vec[n_loops, 1] = g1
                loop_vec[n_loops, 2] = g2
                n_loops += 1
        elif size[ru] >= size[rw]:
            node[rw, 0] = ru
            node[rw, 1] = g0
            node[rw, 2] = g1
            node[rw, 3] = g2
            size[ru] += size[rw]
        else:
            node[ru, 0] = rw
            node[ru, 1] = -g0
            node[ru, 2] = -g1
            node[ru, 3] = -g2
            size[rw] += size[ru]
    root = np.empty(n_nodes, np.int64)
    offset = np.empty((n_nodes, 3), np.int64)
    for u in range(n_nodes):
        root[u] = _find(node, u, lu)
        offset[u, 0] = lu[0]
        offset[u, 1] = lu[1]
        offset[u, 2] = lu[2]
    # loops recorded against an old root: translations are properties of the whole component, so
    # re-attach them to the final root of the node they were recorded on
    for m in range(n_loops):
        loop_node[m] = root[loop_node[m]]
    return root, offset, loop_node[:n_loops].copy(), loop_vec[:n_loops].copy()
