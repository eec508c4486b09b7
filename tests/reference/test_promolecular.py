"""Tests of the promolecular ELF baseline against brute-force periodic sums and analytic limits."""

import itertools
import math

import numpy as np
import pytest
from ase import Atoms

from elfviz.errors import GridError, SpeciesError
from elfviz.grid import BOHR_ANGSTROM, grid_points_cartesian, make_dataset
from elfviz.reference.promolecular import D0_PREFACTOR, promolecular_elf, promolecular_terms

SKEWED = np.array([[3.0, 0.0, 0.0], [0.9, 2.8, 0.0], [0.3, -0.6, 3.2]])


def liquid_like(n_side=2, spacing=1.5, seed=0, cell=None):
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3) / n_side
    cell = np.eye(3) * n_side * spacing if cell is None else cell
    pos = (grid + rng.normal(0, 0.04, grid.shape)) @ cell
    return Atoms(f"H{len(pos)}", pos, cell=cell, pbc=True)


def brute_force_elf(points, positions, cell, n_images=5):
    """Direct periodic sum of 1s densities over (2n+1)^3 images (bohr units inside)."""
    shifts = np.array(list(itertools.product(range(-n_images, n_images + 1), repeat=3))) @ cell
    images = (positions[:, None, :] + shifts[None]).reshape(-1, 3)
    d = (points[:, None, :] - images[None]) / BOHR_ANGSTROM
    r = np.linalg.norm(d, axis=-1)
    rho_i = np.exp(-2 * r) / np.pi
    rho = rho_i.sum(1)
    grad = (-2 * rho_i[..., None] * d / r[..., None]).sum(1)
    tau_w = np.sum(grad**2, -1) / (8 * rho)
    pauli = rho / 2 - tau_w
    return 1 / (1 + (pauli / (D0_PREFACTOR * rho ** (5 / 3))) ** 2), rho


def test_matches_brute_force_periodic_sum_on_a_skewed_cell():
    atoms = liquid_like(cell=SKEWED)
    shape = (18, 18, 20)
    ds = promolecular_elf(atoms, shape=shape)
    pts = grid_points_cartesian(SKEWED, shape).reshape(-1, 3)
    pick = np.random.default_rng(3).choice(len(pts), 200, replace=False)
    expected, rho = brute_force_elf(pts[pick], atoms.positions, SKEWED)
    np.testing.assert_allclose(ds["elf"].values.reshape(-1)[pick], expected, atol=2e-6)
    terms = promolecular_terms(atoms.positions, SKEWED, shape)
    np.testing.assert_allclose(terms["rho"].reshape(-1)[pick], rho, rtol=1e-7)


def test_density_integrates_to_one_electron_per_atom():
    atoms = liquid_like()
    shape = (48, 48, 48)
    rho = promolecular_terms(atoms.positions, atoms.cell.array, shape)["rho"]
    volume_bohr = atoms.get_volume() / BOHR_ANGSTROM**3
    assert rho.mean() * volume_bohr == pytest.approx(len(atoms), rel=2e-3)


def test_single_atom_is_one_everywhere():
    # one orbital: tau = tau_W exactly, so ELF = 1 wherever there is density (atom off the grid points)
    # (10 Å box, 7 Å cutoff: within 3 Å of the atom no periodic image contributes)
    atom = Atoms("H", [[5.03, 4.97, 5.11]], cell=[10, 10, 10], pbc=True)
    ds = promolecular_elf(atom, spacing=0.4)
    near = (
        np.linalg.norm(grid_points_cartesian(atom.cell.array, ds["elf"].shape) - atom.positions[0], axis=-1)
        < 3
    )
    assert near.sum() > 1000
    np.testing.assert_allclose(ds["elf"].values[near], 1.0, atol=1e-6)


def test_atom_on_a_grid_point_uses_the_direction_average():
    atom = Atoms("H", [[0, 0, 0]], cell=[6, 6, 6], pbc=True)
    ds = promolecular_elf(atom, shape=(20, 20, 20))
    assert float(ds["elf"][0, 0, 0]) == pytest.approx(1.0, abs=1e-6)


def test_h2_bond_centre_matches_the_analytic_value():
    bond = 0.74
    h2 = Atoms("H2", [[3 - bond / 2, 3, 3], [3 + bond / 2, 3, 3]], cell=[6, 6, 6], pbc=True)
    ds = promolecular_elf(h2, shape=(40, 40, 40), tolerance=1e-30)
    # at the midpoint the two gradients cancel: D = rho/2 with rho = 2 exp(-2 r)/pi, r = bond/2 (bohr)
    rho = 2 * math.exp(-bond / BOHR_ANGSTROM) / math.pi
    expected = 1 / (1 + (0.5 / (D0_PREFACTOR * rho ** (2 / 3))) ** 2)
    assert float(ds["elf"].sel(a=0.5, b=0.5, c=0.5)) == pytest.approx(expected, abs=1e-6)
    # near each nucleus the atom dominates: ELF -> 1
    assert float(ds["elf"].values.max()) > 0.99


def test_values_in_unit_interval_and_dataset_schema():
    ds = promolecular_elf(liquid_like(seed=4), spacing=0.2)
    elf = ds["elf"].values
    assert elf.dtype == np.float32
    assert 0.0 <= elf.min() and elf.max() <= 1.0
    assert ds.attrs["source"] == "promolecular"
    assert 0.05 < elf.mean() < 0.95


def test_translation_shifts_the_field():
    atoms = liquid_like(seed=5)
    shape = (16, 16, 16)
    ref = promolecular_elf(atoms, shape=shape)["elf"].values
    moved = atoms.copy()
    moved.translate(np.array([3, 5, 2]) / 16 @ atoms.cell.array)
    out = promolecular_elf(moved, shape=shape)["elf"].values
    np.testing.assert_allclose(out, np.roll(ref, (3, 5, 2), axis=(0, 1, 2)), atol=1e-6)


def test_permutation_and_supercell_invariance():
    atoms = liquid_like(seed=6)
    shape = (12, 12, 12)
    ref = promolecular_elf(atoms, shape=shape)["elf"].values
    perm = atoms[np.random.default_rng(0).permutation(len(atoms))]
    np.testing.assert_allclose(promolecular_elf(perm, shape=shape)["elf"].values, ref, atol=1e-6)
    big = promolecular_elf(atoms.repeat((2, 1, 1)), shape=(24, 12, 12))["elf"].values
    np.testing.assert_allclose(big, np.concatenate([ref, ref]), atol=1e-6)


def test_like_uses_the_grid_of_a_field_and_checks_the_cell():
    atoms = liquid_like(seed=7)
    field = make_dataset(atoms.cell.array, atoms.positions, atoms.numbers, shape=(10, 12, 14))
    ds = promolecular_elf(atoms, like=field)
    assert ds["elf"].shape == (10, 12, 14)
    other = make_dataset(atoms.cell.array * 1.1, atoms.positions, atoms.numbers, shape=(10, 12, 14))
    with pytest.raises(GridError, match="cell"):
        promolecular_elf(atoms, like=other)


def test_non_hydrogen_is_refused():
    atoms = Atoms("HLi", [[0, 0, 0], [1.5, 1.5, 1.5]], cell=[3, 3, 3], pbc=True)
    with pytest.raises(SpeciesError, match="Li"):
        promolecular_elf(atoms, spacing=0.3)
