"""networking_analysis: analytic thresholds, invariances, ties, phi*, bad input."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from elfviz import grid
from elfviz.errors import GridError, StructureError
from elfviz.topology import networking_analysis, percolation_profile
from elfviz.topology._field import atom_voxels, descending_order, sortable_keys


def cosine_field(shape, amplitudes, dtype=np.float32):
    """(1 + sum_d A_d cos(2 pi x_d) / S) / 2 on the periodic grid, normalised into [0, 1]."""
    total = float(sum(amplitudes))
    f = np.zeros(shape)
    for axis, (n, amp) in enumerate(zip(shape, amplitudes, strict=True)):
        c = np.cos(2 * np.pi * np.arange(n) / n)
        f = f + amp * c.reshape([-1 if d == axis else 1 for d in range(3)])
    return ((1.0 + f / total) / 2.0).astype(dtype)


def expected_cosine_thresholds(shape, amplitudes):
    """Closed form on the grid: wrapping along axis d must cross the grid plane nearest x_d = 1/2, whose
    best point is x_other = 0: t_d = (1 + (A_d cos(2 pi floor(n_d/2)/n_d) + sum_other A) / S) / 2.
    The component with the smallest amplitude wraps first."""
    total = float(sum(amplitudes))
    per_axis = []
    for n, amp in zip(shape, amplitudes, strict=True):
        others = total - amp
        per_axis.append((1.0 + (amp * np.cos(2 * np.pi * (n // 2) / n) + others) / total) / 2.0)
    return sorted(per_axis, reverse=True), list(np.argsort([-t for t in per_axis], kind="stable"))


@pytest.mark.parametrize("shape,amplitudes", [
    ((16, 16, 16), (3.0, 2.0, 1.0)),
    ((12, 20, 15), (1.0, 2.5, 1.7)),    # odd sizes: the plane nearest x = 1/2 is not at 1/2
    ((9, 10, 11), (0.7, 0.7, 2.0)),     # two equal amplitudes: t1 == t2
    ((8, 8, 8), (1.0, 1.0, 1.0)),       # isotropic: t1 == t2 == t3
])
@pytest.mark.parametrize("connectivity", [6, 18, 26])
def test_cosine_fields_closed_form(shape, amplitudes, connectivity):
    f = cosine_field(shape, amplitudes)
    res = networking_analysis(f, connectivity=connectivity)
    expected, axes = expected_cosine_thresholds(shape, amplitudes)
    assert res.thresholds == pytest.approx(expected, abs=2e-7)
    # reported thresholds are exact grid values
    assert all(np.any(f == np.float32(t)) for t in res.thresholds)
    if len(set(np.round(expected, 6))) == 3:
        # chains along the axis with the smallest amplitude; sheets normal to the largest amplitude's axis
        assert res.chain_direction == tuple(int(k == axes[0]) for k in range(3))
        assert res.sheet_plane == tuple(int(k == axes[2]) for k in range(3))
    assert res.percolation_dimension(res.t1) == 1 + sum(t == res.t1 for t in res.thresholds[1:])
    assert res.percolation_dimension(np.nextafter(np.float32(res.t1), np.float32(2))) == 0
    assert res.percolation_dimension(0.0) == 3


def test_cosine_field_float64_and_dataset_agree():
    shape, amps = (10, 14, 12), (2.0, 1.5, 1.0)
    f64 = cosine_field(shape, amps, dtype=np.float64)
    ds = grid.make_dataset(np.diag([3.0, 4.0, 3.5]), [[0, 0, 0]], [1], f64)
    res64 = networking_analysis(f64)
    expected, _ = expected_cosine_thresholds(shape, amps)
    assert res64.thresholds == pytest.approx(expected, abs=1e-12)
    res32 = networking_analysis(ds)  # the Dataset stores float32
    assert res32.thresholds == pytest.approx(expected, abs=2e-7)


def smooth_field(seed, shape=(14, 12, 16)):
    rng = np.random.default_rng(seed)
    f = ndimage.gaussian_filter(rng.random(shape), 1.8, mode="wrap")
    return ((f - f.min()) / (f.max() - f.min())).astype(np.float32)


def test_invariant_under_rolling_the_grid_and_translating_atoms():
    f = smooth_field(1)
    cell = np.array([[3.0, 0, 0], [0.4, 2.8, 0], [0.3, -0.2, 3.4]])
    rng = np.random.default_rng(2)
    positions = rng.random((6, 3)) @ cell
    ref = networking_analysis(f, cell=cell, positions=positions)
    for shift in [(1, 0, 0), (3, 5, 7), (-4, 2, 11)]:
        rolled = np.roll(f, shift, axis=(0, 1, 2))
        moved = positions + (np.array(shift) / np.array(f.shape)) @ cell
        res = networking_analysis(rolled, cell=cell, positions=moved)
        assert res.thresholds == ref.thresholds
        assert (res.chain_direction, res.sheet_plane) == (ref.chain_direction, ref.sheet_plane)
        assert res.phi_star == ref.phi_star
        assert res.phi_star_atoms == ref.phi_star_atoms


@pytest.mark.parametrize("perm", [(1, 0, 2), (2, 0, 1), (0, 2, 1)])
def test_invariant_under_permuting_axes_with_the_cell(perm):
    f = smooth_field(3)
    cell = np.array([[3.0, 0, 0], [0.5, 2.6, 0], [0.2, 0.4, 3.9]])
    positions = np.random.default_rng(4).random((5, 3)) @ cell
    ref = networking_analysis(f, cell=cell, positions=positions)
    res = networking_analysis(np.transpose(f, perm), cell=cell[list(perm)], positions=positions)
    assert res.thresholds == ref.thresholds
    assert res.phi_star == ref.phi_star
    i, j, image = ref.phi_star_atoms
    assert res.phi_star_atoms == (i, j, tuple(image[p] for p in perm))
    for got, want in [(res.chain_direction, ref.chain_direction), (res.sheet_plane, ref.sheet_plane)]:
        permuted = tuple(want[p] for p in perm)  # indices follow the axes (up to the sign convention)
        assert got in (permuted, tuple(-x for x in permuted))


def test_skewed_cell_thresholds_are_grid_properties_but_atom_mapping_is_not():
    f = smooth_field(5)
    cubic = np.eye(3) * 3.0
    skewed = np.array([[3.0, 0, 0], [2.2, 2.0, 0], [1.4, 1.1, 2.0]])
    frac = np.random.default_rng(6).random((8, 3))
    on_cubic = networking_analysis(f, cell=cubic, positions=frac @ cubic)
    on_skewed = networking_analysis(f, cell=skewed, positions=frac @ skewed)
    assert on_cubic.thresholds == on_skewed.thresholds
    vox_c, _ = atom_voxels(frac @ cubic, cubic, f.shape)
    vox_s, _ = atom_voxels(frac @ skewed, skewed, f.shape)
    assert not np.array_equal(vox_c, vox_s)  # the Cartesian metric decides which grid point is nearest


def test_atom_voxels_matches_brute_force_nearest_point_in_a_skewed_cell():
    cell = np.array([[3.0, 0, 0], [2.4, 1.8, 0], [-1.5, 1.2, 2.1]])
    shape = (6, 7, 5)
    rng = np.random.default_rng(7)
    positions = (rng.random((40, 3)) * 1.6 - 0.3) @ cell  # inside and outside the cell
    voxel, shift = atom_voxels(positions, cell, shape)
    points = grid.grid_points_cartesian(cell, shape).reshape(-1, 3)
    images = np.array([[i, j, k] for i in (-2, -1, 0, 1, 2) for j in (-2, -1, 0, 1, 2)
                       for k in (-2, -1, 0, 1, 2)]) @ cell
    for pos, v, s in zip(positions, voxel, shift, strict=True):
        d = np.linalg.norm(points[:, None, :] + images[None, :, :] - pos, axis=-1)
        assert int(np.argmin(d.min(axis=1))) == v
        copy = points[v] + s @ cell
        assert np.linalg.norm(copy - pos) == pytest.approx(d.min())


def test_ties_and_plateaus_are_deterministic():
    f = np.round(smooth_field(8) * 6) / 6  # a few big plateaus
    f = f.astype(np.float32)
    first = networking_analysis(f)
    assert networking_analysis(f) == first
    for shift in [(2, 0, 0), (0, 5, 3)]:
        assert networking_analysis(np.roll(f, shift, axis=(0, 1, 2))).thresholds == first.thresholds
    assert set(first.thresholds) <= set(np.unique(f).tolist())


def test_stable_descending_order_and_keys():
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        values = np.round(rng.random((5, 6, 7)) * 9).astype(dtype) / 9
        values.reshape(-1)[[3, 11]] = -0.0
        order = descending_order(values)
        assert np.array_equal(order, np.argsort(-(values.reshape(-1) + 0.0), kind="stable"))
    wide = rng.random((3, 4, 5))  # float64 values that are not float32 values keep 64-bit keys
    assert sortable_keys(wide)[1] == 64
    assert np.array_equal(descending_order(wide), np.argsort(-wide.reshape(-1), kind="stable"))


# ----------------------------------------------------------------------------- phi*
def chain_dataset():
    """Two H2-like ELF blobs per cell (the second one weaker), nearly zero ELF between molecules."""
    n = 24
    cell = np.diag([4.0, 4.0, 4.0])
    positions = np.array([[0.6, 1.0, 1.0], [1.4, 1.0, 1.0], [2.6, 3.0, 3.0], [3.4, 3.0, 3.0]])
    pts = grid.grid_points_cartesian(cell, (n, n, n))
    f = np.zeros((n, n, n))
    for a, b, height in [(0, 1, 0.95), (2, 3, 0.85)]:
        centre = (positions[a] + positions[b]) / 2
        d = pts - centre
        d -= np.round(d / 4.0) * 4.0
        r2 = d[..., 0] ** 2 / 0.5 + d[..., 1] ** 2 / 0.1 + d[..., 2] ** 2 / 0.1
        f = np.maximum(f, height * np.exp(-r2))
    return grid.make_dataset(cell, positions, [1, 1, 1, 1], np.clip(f, 0, 1))


def test_phi_star_links_the_two_atoms_of_a_molecule():
    ds = chain_dataset()
    res = networking_analysis(ds)
    assert res.n_atoms == 4
    assert res.phi_star_atoms == (0, 1, (0, 0, 0))  # the stronger molecule links first
    # the ELF rises from each atom towards the bond centre, so phi* is the ELF at the atoms' grid points
    f = ds["elf"].values
    vox, _ = atom_voxels(ds["positions"].values, ds["cell"].values, f.shape)
    assert res.phi_star == min(f.reshape(-1)[vox[0]], f.reshape(-1)[vox[1]])
    assert res.phi_star > 0.5 > res.t1  # molecules form long before anything percolates


def test_phi_star_with_the_atom_outside_the_cell_reports_the_right_image():
    ds = chain_dataset()
    pos = ds["positions"].values.copy()
    pos[1] += ds["cell"].values[2]  # atom 1 moved one cell up along c: same structure
    res = networking_analysis(ds, positions=pos)
    ref = networking_analysis(ds)
    assert res.phi_star == ref.phi_star
    assert res.phi_star_atoms == (0, 1, (0, 0, -1))  # atom 1 taken one cell down is atom 0's partner


def test_phi_star_for_an_atom_linked_to_its_own_image():
    n = 16
    x = np.arange(n) / n
    along_a = np.cos(2 * np.pi * x)[:, None, None]
    along_c = (0.75 + 0.25 * np.cos(2 * np.pi * x))[None, None, :]
    f = np.broadcast_to(0.5 + 0.4 * along_a * along_c, (n, n, n))
    # the maximum is the line a = c = 0 along b: an atom on it meets its own image along b at once
    res = networking_analysis(np.array(f), cell=np.eye(3) * 3.0, positions=[[0.0, 1.0, 0.0]])
    i, j, image = res.phi_star_atoms
    assert i == j == 0
    assert res.phi_star == pytest.approx(0.9, abs=1e-6)  # the value on the atom's own line along b
    assert image == (0, 1, 0)


def test_two_atoms_on_one_grid_point_warn(caplog):
    f = smooth_field(10, (8, 8, 8))
    with caplog.at_level(logging.WARNING, logger="elfviz.topology"):
        res = networking_analysis(f, cell=np.eye(3) * 8.0, positions=[[1.0, 1.0, 1.0], [1.2, 1.0, 1.0]])
    assert "more than one atom" in caplog.text
    assert res.phi_star == pytest.approx(float(f[1, 1, 1]))
    assert res.phi_star_atoms[:2] == (0, 1)


def test_no_atoms_gives_no_phi_star_and_to_dict_is_json():
    res = networking_analysis(smooth_field(11))
    assert res.phi_star is None and res.phi_star_atoms is None and res.n_atoms == 0
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["t3"] == res.t3 and doc["phi"] == res.phi and doc["phi_star"] is None
    assert "phi* = n/a" in res.summary()
    assert res.tc_estimate().phi == res.phi


def test_dataarray_input_and_field_selection():
    f = smooth_field(12, (6, 8, 10))
    ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], f, fields={"elf_ref": f[::-1].copy()})
    assert networking_analysis(ds, field="elf_ref").thresholds == networking_analysis(f[::-1]).thresholds
    assert networking_analysis(ds).source == ds.attrs["source"]
    assert networking_analysis(f).source is None
    da = ds["elf"].transpose("c", "a", "b")  # the a, b, c order is restored
    assert networking_analysis(da).thresholds == networking_analysis(f).thresholds


def test_percolation_profile_defaults_and_monotonicity():
    f = smooth_field(13)
    prof = percolation_profile(f)
    assert prof.sizes["threshold"] == 201
    dim = prof["dimension"].values
    assert np.all(np.diff(dim) <= 0) and dim[0] == 3 and dim[-1] == 0
    res = networking_analysis(f)
    for t, d in zip(prof["threshold"].values, dim, strict=True):
        assert d == res.percolation_dimension(t)
    assert isinstance(prof, xr.Dataset)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("values,match", [
    (np.full((4, 4, 4), np.nan), "NaN"),
    (np.where(np.arange(64).reshape(4, 4, 4) == 5, np.inf, 0.5), "NaN or infinite"),
    (np.full((4, 4, 4), 1.5), "outside the ELF range"),
    (np.full((4, 4, 4), -0.2), "outside the ELF range"),
    (np.zeros((0, 4, 4)), "empty"),
    (np.zeros((4, 4)), "3-D"),
    (np.zeros((2, 2, 2, 2)), "3-D"),
    (np.full((2, 2, 2), "a"), "real numbers"),
    (np.zeros((3, 3, 3), dtype=complex), "real numbers"),
])
def test_bad_fields_raise_grid_error(values, match):
    with pytest.raises(GridError, match=match):
        networking_analysis(values)


def test_any_field_accepts_values_outside_zero_one():
    f = smooth_field(14) * 40.0 - 3.0
    res = networking_analysis(f, any_field=True)
    ref = networking_analysis(smooth_field(14))
    assert res.thresholds == pytest.approx([t * 40.0 - 3.0 for t in ref.thresholds], rel=1e-5)


def test_other_bad_arguments():
    f = smooth_field(15, (4, 4, 4))
    with pytest.raises(GridError, match="connectivity"):
        networking_analysis(f, connectivity=8)
    with pytest.raises(StructureError, match="without a cell"):
        networking_analysis(f, positions=[[0, 0, 0]])
    with pytest.raises(StructureError, match=r"\(N, 3\)"):
        networking_analysis(f, cell=np.eye(3), positions=[0, 0])
    ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], f)
    with pytest.raises(GridError, match="no field 'elf_ref'.*'elf'"):
        networking_analysis(ds, field="elf_ref")
    with pytest.raises(GridError, match="NaN"):
        networking_analysis(f).percolation_dimension(float("nan"))
