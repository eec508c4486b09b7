"""components_at: labels, sizes, wrap ranks, translation lattices, atoms and bonds; lattice_basis."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import GridError
from elfviz.topology import components_at
from elfviz.topology.components import lattice_basis


def test_chain_sheet_and_dot():
    f = np.zeros((6, 7, 8), dtype=np.float32)
    f[:, 0, 0] = 0.9          # chain along a
    f[:, :, 4] = 0.8          # sheet spanned by a and b
    f[3, 3, 1] = 0.7          # isolated point
    rep = components_at(f, 0.5)
    assert rep.n_components == 3
    assert rep.sizes.tolist() == [6 * 7, 6, 1]
    assert rep.wrap_rank.tolist() == [2, 1, 0]
    assert [t.tolist() for t in rep.translations] == [[[1, 0, 0], [0, 1, 0]], [[1, 0, 0]], []]
    assert rep.dimension == 2
    assert rep.labels[0, 0, 0] == 1 and rep.labels[2, 5, 4] == 0 and rep.labels[3, 3, 1] == 2
    assert rep.labels[1, 1, 1] == -1
    assert rep.volume_fraction == pytest.approx((42 + 6 + 1) / f.size)
    # above the sheet's value only the chain is left
    assert components_at(f, 0.85).n_components == 1


def test_diagonal_chain_has_a_non_axis_translation():
    f = np.zeros((4, 8, 5), dtype=np.float32)
    for i in range(8):  # a diagonal line that closes after 8 steps: translation 2 a + 1 b
        f[i % 4, i % 8, 0] = 1.0
    rep = components_at(f, 0.5, connectivity=26)
    assert rep.n_components == 1 and rep.wrap_rank.tolist() == [1]
    assert rep.translations[0].tolist() == [[2, 1, 0]]
    assert components_at(f, 0.5, connectivity=6).n_components == 8  # face neighbours only: 8 dots
    from elfviz.topology import networking_analysis

    assert networking_analysis(f, connectivity=26).chain_direction == (2, 1, 0)


def test_empty_and_full_sets():
    f = np.random.default_rng(0).random((5, 5, 5)).astype(np.float32)
    empty = components_at(f, 1.5, any_field=True)
    assert empty.n_components == 0 and empty.dimension == 0 and np.all(empty.labels == -1)
    full = components_at(f, 0.0)
    assert full.n_components == 1 and full.dimension == 3
    assert full.translations[0].tolist() == np.eye(3, dtype=int).tolist()


def test_order_is_by_size_then_first_grid_point():
    f = np.zeros((8, 8, 8), dtype=np.float32)
    f[5, 5, 5] = f[5, 5, 6] = 1.0   # size 2, later in C order
    f[1, 1, 1] = f[1, 2, 1] = 1.0   # size 2, earlier
    f[3, 3, 3] = 1.0                # size 1
    rep = components_at(f, 0.5)
    assert rep.sizes.tolist() == [2, 2, 1]
    assert rep.labels[1, 1, 1] == 0 and rep.labels[5, 5, 5] == 1 and rep.labels[3, 3, 3] == 2


def test_rolling_permutes_labels_consistently():
    rng = np.random.default_rng(1)
    from scipy import ndimage

    f = ndimage.gaussian_filter(rng.random((9, 10, 11)), 1.2, mode="wrap")
    f = ((f - f.min()) / (f.max() - f.min())).astype(np.float32)
    t = float(np.quantile(f, 0.6))
    ref = components_at(f, t)
    shift = (4, -3, 7)
    rolled = components_at(np.roll(f, shift, axis=(0, 1, 2)), t)
    back = np.roll(rolled.labels, [-s for s in shift], axis=(0, 1, 2))
    mapping = {}
    for a, b in zip(ref.labels.reshape(-1), back.reshape(-1), strict=True):
        assert mapping.setdefault(int(a), int(b)) == int(b)
    assert len(set(mapping.values())) == len(mapping)
    for a, b in mapping.items():
        if a >= 0:
            assert ref.sizes[a] == rolled.sizes[b]
            assert ref.wrap_rank[a] == rolled.wrap_rank[b]
            assert np.array_equal(ref.translations[a], rolled.translations[b])


def molecules_dataset(move=None):
    n = 24
    cell = np.diag([4.0, 4.0, 4.0])
    positions = np.array([[0.6, 1.0, 1.0], [1.4, 1.0, 1.0], [2.6, 3.0, 3.0], [3.4, 3.0, 3.0]])
    pts = grid.grid_points_cartesian(cell, (n, n, n))
    f = np.zeros((n, n, n))
    for a, b in [(0, 1), (2, 3)]:
        d = pts - (positions[a] + positions[b]) / 2
        d -= np.round(d / 4.0) * 4.0
        f = np.maximum(f, 0.9 * np.exp(-(d[..., 0] ** 2 / 0.5 + d[..., 1] ** 2 / 0.1 + d[..., 2] ** 2 / 0.1)))
    if move is not None:
        positions = positions + move
    return grid.make_dataset(cell, positions, [1, 1, 1, 1], f)


def test_atoms_and_bonds_of_molecules():
    rep = components_at(molecules_dataset(), 0.3)
    assert rep.n_components == 2 and rep.dimension == 0
    assert rep.atom_component[0] == rep.atom_component[1] != rep.atom_component[2] == rep.atom_component[3]
    assert rep.bonds.tolist() == [[0, 1, 0, 0, 0], [2, 3, 0, 0, 0]]
    assert sorted(rep.atoms_in(0).tolist() + rep.atoms_in(1).tolist()) == [0, 1, 2, 3]
    # below every atom: no bonds, atoms outside
    high = components_at(molecules_dataset(), 0.89)
    assert np.all(high.atom_component == -1) and len(high.bonds) == 0


def test_bond_images_follow_atoms_moved_to_other_cells():
    move = np.zeros((4, 3))
    move[1] = [0.0, 0.0, 4.0]     # atom 1 one cell up along c
    move[2] = [-4.0, 4.0, 0.0]    # atom 2 one cell back along a and up along b
    rep = components_at(molecules_dataset(move), 0.3)
    assert rep.bonds.tolist() == [[0, 1, 0, 0, -1], [2, 3, -1, 1, 0]]


def test_bonds_in_a_wrapping_chain_use_the_shortest_image():
    n = 12
    cell = np.diag([3.0, 3.0, 3.0])
    f = np.zeros((n, n, n))
    f[0, 0, :] = 0.8  # a chain along c through the origin
    positions = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 1.5 + 6.0]])  # atom 1 two cells up
    rep = components_at(grid.make_dataset(cell, positions, [1, 1], f), 0.5)
    assert rep.wrap_rank.tolist() == [1] and rep.translations[0].tolist() == [[0, 0, 1]]
    assert rep.bonds.tolist() == [[0, 1, 0, 0, -2]]  # 1.0 Å apart, not 2.0 Å through the boundary


def test_report_serialises():
    rep = components_at(molecules_dataset(), 0.3)
    doc = json.loads(json.dumps(rep.to_dict()))
    assert doc["n_components"] == 2 and doc["components"][0]["atoms"] in ([0, 1], [2, 3])
    assert "labels" not in doc
    small = components_at(np.eye(4)[None].repeat(4, axis=0), 0.5)
    assert np.array_equal(np.array(small.to_dict(include_labels=True)["labels"]), small.labels)
    ds = rep.to_dataset()
    assert ds["component_label"].dims == ("a", "b", "c")
    assert ds.sizes["component"] == 2 and ds.sizes["atom"] == 4
    assert ds["component_size"].values.tolist() == rep.sizes.tolist()


def test_bad_threshold_and_field():
    f = np.full((4, 4, 4), 0.5)
    for bad in (float("nan"), float("inf"), "high"):
        with pytest.raises(GridError, match="threshold"):
            components_at(f, bad)
    with pytest.raises(GridError, match="NaN"):
        components_at(np.full((4, 4, 4), np.nan), 0.5)


# ----------------------------------------------------------------------------- lattice_basis
def test_lattice_basis_is_canonical_under_unimodular_changes():
    rng = np.random.default_rng(2)
    for _ in range(50):
        rank = int(rng.integers(1, 4))
        gens = rng.integers(-3, 4, (rank, 3))
        if np.linalg.matrix_rank(gens) < rank:
            continue
        base = lattice_basis(gens)
        assert len(base) == rank
        # integer combinations of the generators span the same lattice
        extra = rng.integers(-2, 3, (4, rank)) @ gens
        unimodular = np.eye(rank, dtype=int)
        if rank > 1:
            unimodular[0, 1] = int(rng.integers(-3, 4))
        assert np.array_equal(lattice_basis(np.vstack([unimodular @ gens, extra])), base)
        # HNF shape: pivots positive, entries above pivots reduced
        for i, row in enumerate(base):
            pivot = int(np.flatnonzero(row)[0])
            assert row[pivot] > 0
            for earlier in base[:i]:
                assert 0 <= earlier[pivot] < row[pivot]
        # same determinant lattice volume: |gram| is invariant
        assert np.isclose(np.linalg.det(base @ base.T), np.linalg.det(gens @ gens.T))


def test_lattice_basis_small_cases():
    assert lattice_basis(np.zeros((0, 3))).shape == (0, 3)
    assert lattice_basis([[0, 0, 0]]).shape == (0, 3)
    assert lattice_basis([[0, 0, -2], [0, 0, 3]]).tolist() == [[0, 0, 1]]
    assert lattice_basis([[2, 0, 0], [0, 2, 0], [1, 1, 0]]).tolist() == [[1, 1, 0], [0, 2, 0]]
    assert lattice_basis(list(itertools.product((-1, 0, 1), repeat=3))).tolist() == np.eye(3).tolist()
