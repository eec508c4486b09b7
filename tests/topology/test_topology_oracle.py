"""Cross-checks of the percolation sweep and the component labelling against brute force.

Oracle 1 (exact, pure Python): breadth-first search over {f >= t} on the periodic grid with unwrapped
integer coordinates; every edge that reaches an already visited voxel in another cell copy gives a lattice
translation; the rank of all of them (numpy.linalg.matrix_rank) is the component's wrap rank. Run at every
distinct value of small random grids, this gives t1, t2, t3 and phi* by definition.

Oracle 2 (the issue's check): scipy.ndimage.label on a 3x3x3 tiling of the cell (no periodicity), a
component wraps along the offsets o for which a voxel's central copy and its copy in tile o carry the same
label. This sees only translations realised inside the tiling, so it is a lower bound in general and exact
for smooth fields.
"""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest
from scipy import ndimage

from elfviz.topology import components_at, networking_analysis, percolation_profile
from elfviz.topology._field import neighbour_steps
from elfviz.topology.components import lattice_basis


# ----------------------------------------------------------------------------- oracle 1: BFS
def bfs_components(mask: np.ndarray, connectivity: int = 6):
    """Components of a periodic mask: list of (set of flat indices, rank, array of translations)."""
    shape = np.array(mask.shape)
    steps = neighbour_steps(connectivity)
    unwrapped: dict[int, np.ndarray] = {}
    out = []
    for start in map(int, np.flatnonzero(mask.reshape(-1))):
        if start in unwrapped:
            continue
        unwrapped[start] = np.array(np.unravel_index(start, mask.shape))
        members, translations, queue = {start}, [], deque([start])
        while queue:
            u = queue.popleft()
            for s in steps:
                target = unwrapped[u] + s
                w_coord = target % shape
                if not mask[tuple(w_coord)]:
                    continue
                w = int(np.ravel_multi_index(tuple(w_coord), mask.shape))
                if w not in unwrapped:
                    unwrapped[w] = target
                    members.add(w)
                    queue.append(w)
                else:
                    diff = target - unwrapped[w]
                    assert np.all(diff % shape == 0)
                    if np.any(diff):
                        translations.append(diff // shape)
        vecs = np.array(translations, dtype=np.int64).reshape(-1, 3)
        rank = int(np.linalg.matrix_rank(vecs)) if len(vecs) else 0
        out.append((members, rank, vecs))
    return out


def brute_force_thresholds(values: np.ndarray, atom_voxel=None, connectivity: int = 6):
    """t1, t2, t3 and phi* from the definitions, checking every distinct value."""
    thresholds = [np.nan, np.nan, np.nan]
    phi_star = np.nan
    for t in np.unique(values)[::-1]:
        comps = bfs_components(values >= t, connectivity)
        dim = max((rank for _, rank, _ in comps), default=0)
        for k in range(dim):
            if np.isnan(thresholds[k]):
                thresholds[k] = float(t)
        if atom_voxel is not None and np.isnan(phi_star):
            for members, rank, _ in comps:
                n_in = sum(int(v) in members for v in atom_voxel)
                if n_in >= 2 or (n_in == 1 and rank >= 1):
                    phi_star = float(t)
                    break
        if not np.isnan(thresholds[2]) and (atom_voxel is None or not np.isnan(phi_star)):
            break
    return thresholds, phi_star


def random_field(rng, shape, *, levels=None, smooth=0.0):
    f = rng.random(shape)
    if smooth:
        f = ndimage.gaussian_filter(f, smooth, mode="wrap")
        f = (f - f.min()) / (f.max() - f.min())
    if levels:
        f = np.round(f * levels) / levels  # plateaus and ties
    return f.astype(np.float32)


def atoms_on_voxels(rng, shape, n_atoms, cell):
    """Cartesian positions a little off randomly chosen grid points (possibly in other cell copies)."""
    idx = np.stack([rng.integers(0, n, n_atoms) for n in shape], axis=1)
    jitter = rng.uniform(-0.02, 0.02, (n_atoms, 3))
    frac = (idx + jitter) / np.array(shape) + rng.integers(-1, 2, (n_atoms, 3))
    voxel = np.ravel_multi_index(tuple(idx.T), shape)
    return frac @ cell, voxel


CASES = [((4, 4, 4), 6, None), ((3, 4, 5), 6, None), ((2, 3, 5), 6, None), ((5, 5, 3), 6, 4),
         ((4, 4, 4), 18, None), ((3, 4, 4), 26, None), ((4, 5, 3), 26, 3), ((1, 5, 6), 6, None),
         ((6, 2, 4), 6, 8), ((4, 4, 5), 18, 6)]


@pytest.mark.parametrize("shape,connectivity,levels", CASES)
@pytest.mark.parametrize("seed", range(4))
def test_sweep_matches_bfs_oracle(shape, connectivity, levels, seed):
    rng = np.random.default_rng(1000 * seed + sum(shape) + connectivity)
    values = random_field(rng, shape, levels=levels)
    cell = np.diag([2.0, 2.5, 3.0]) + 0.3 * np.triu(np.ones((3, 3)), 1)
    positions, voxel = atoms_on_voxels(rng, shape, 3, cell)
    res = networking_analysis(values, cell=cell, positions=positions, connectivity=connectivity)
    expected, phi_star = brute_force_thresholds(values, voxel, connectivity)
    assert [res.t1, res.t2, res.t3] == expected
    assert res.phi == res.t3
    assert res.phi_star == phi_star
    assert res.t1 >= res.t2 >= res.t3


@pytest.mark.parametrize("shape,connectivity,levels", CASES[:7])
def test_components_match_bfs_oracle_at_every_value(shape, connectivity, levels):
    rng = np.random.default_rng(7 + sum(shape))
    values = random_field(rng, shape, levels=levels)
    for t in np.unique(values):
        rep = components_at(values, float(t), connectivity=connectivity)
        oracle = bfs_components(values >= t, connectivity)
        assert rep.n_components == len(oracle)
        flat = rep.labels.reshape(-1)
        assert np.array_equal(flat < 0, values.reshape(-1) < t)
        for members, rank, vecs in oracle:
            ids = {int(flat[v]) for v in members}
            assert len(ids) == 1  # one oracle component = one label, and sizes match
            k = ids.pop()
            assert rep.sizes[k] == len(members)
            assert rep.wrap_rank[k] == rank
            assert np.array_equal(rep.translations[k], lattice_basis(vecs))
        assert list(rep.sizes) == sorted(rep.sizes, reverse=True)


def test_profile_matches_components_at():
    rng = np.random.default_rng(3)
    values = random_field(rng, (6, 5, 7), levels=10)
    levels = np.unique(np.concatenate([np.unique(values), [0.05, 0.55, 1.0]]))
    prof = percolation_profile(values, levels)
    for t, n_comp, dim, largest in zip(levels, prof["n_components"].values, prof["dimension"].values,
                                       prof["largest_fraction"].values, strict=True):
        rep = components_at(values, float(t))
        assert n_comp == rep.n_components
        assert dim == rep.dimension
        assert largest == pytest.approx(rep.sizes.max() / values.size if rep.n_components else 0.0)
    assert np.allclose(prof["volume_fraction"].values, [(values >= t).mean() for t in levels])


# ----------------------------------------------------------------------------- oracle 2: 3x3x3 tiling
def tiled_translations(mask: np.ndarray, labels: np.ndarray, n_components: int, connectivity: int):
    """Label a 3x3x3 tiling of the cell with scipy and read off, per periodic component:

    * ranks: rank of the offsets o in {-1,0,1}^3 at which a voxel's central copy meets its copy in tile o;
    * tiling_labels: for every voxel, the component whose reference copy one of its 27 copies touches
      (-1 where none does, or below the threshold).
    """
    structure = ndimage.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[connectivity])
    tiled, _ = ndimage.label(np.tile(mask, (3, 3, 3)), structure=structure)
    shape = np.array(mask.shape)
    ranks, reference = [], {}
    for comp in range(n_components):
        v = np.argwhere(labels == comp)[0]
        centre = tiled[tuple(v + shape)]
        reference[int(centre)] = comp
        found = [o for o in itertools.product((-1, 0, 1), repeat=3)
                 if any(o) and tiled[tuple(v + shape * (1 + np.array(o)))] == centre]
        ranks.append(int(np.linalg.matrix_rank(np.array(found))) if found else 0)
    tiling_labels = np.full(mask.shape, -1)
    lookup = np.vectorize(lambda lab: reference.get(int(lab), -1))
    for o in itertools.product(range(3), repeat=3):
        block = tiled[tuple(slice(k * n, (k + 1) * n) for k, n in zip(o, shape, strict=True))]
        comp = lookup(block)
        tiling_labels = np.where(comp >= 0, comp, tiling_labels)
    return ranks, tiling_labels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("connectivity", [6, 26])
def test_tiling_check_on_smooth_fields(seed, connectivity):
    """Smooth random fields: the 3x3x3 tiling sees exactly the same components and wrap ranks."""
    rng = np.random.default_rng(seed)
    values = random_field(rng, (10, 12, 9), smooth=1.6)
    res = networking_analysis(values, connectivity=connectivity)
    for t in np.quantile(values, np.linspace(0.02, 0.98, 13)):
        rep = components_at(values, float(t), connectivity=connectivity)
        ranks, tiling_labels = tiled_translations(values >= t, rep.labels, rep.n_components, connectivity)
        assert ranks == rep.wrap_rank.tolist()
        assert np.array_equal(tiling_labels, rep.labels)
        assert res.percolation_dimension(t) == rep.dimension


@pytest.mark.parametrize("seed", range(4))
def test_tiling_is_a_lower_bound_on_rough_fields(seed):
    rng = np.random.default_rng(50 + seed)
    values = random_field(rng, (5, 6, 4))
    for t in np.unique(values)[::3]:
        rep = components_at(values, float(t))
        ranks, tiling_labels = tiled_translations(values >= t, rep.labels, rep.n_components, 6)
        assert all(r <= exact for r, exact in zip(ranks, rep.wrap_rank, strict=True))
        resolved = tiling_labels >= 0
        assert np.array_equal(tiling_labels[resolved], rep.labels[resolved])
