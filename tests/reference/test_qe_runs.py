"""Small Quantum ESPRESSO runs (coarse settings, <= 4 atoms): the ELF is physically right and lands on the
data layer's grid with the right axis order."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import EngineError
from elfviz.reference import qe
from elfviz.reference.convergence import bond_centre_elf
from elfviz.reference.settings import DFTSettings

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(not qe.is_available(), reason="Quantum ESPRESSO is not installed"),
]

COARSE = DFTSettings(
    ecutwfc_ry=30.0, kmesh=(1, 1, 1), kshift=False, mpi_processes=1, conv_thr_ry_per_atom=1e-7
)


@pytest.fixture(scope="module")
def h2_box():
    """H2 (0.74 Å) off-centre in a 6 Å box, Gamma point, 30 Ry."""
    centre = np.array([2.2, 3.4, 2.9])
    structure = grid.make_dataset(
        np.eye(3) * 6.0, [centre - [0.37, 0, 0], centre + [0.37, 0, 0]], [1, 1], shape=(4, 4, 4)
    )
    return qe.qe_elf(structure, COARSE)


def test_h2_bond_centre_is_localised(h2_box):
    elf = h2_box["elf"].values
    assert elf.dtype == np.float32 and elf.min() >= 0.0 and elf.max() <= 1.0
    assert bond_centre_elf(h2_box) > 0.95
    attrs = h2_box.attrs
    assert attrs["engine"] == "qe" and attrs["scf_converged"] == 1 and attrs["kmesh"] == [1, 1, 1]
    assert attrs["qe_grid"] == list(elf.shape) == list(qe.minimum_fft_shape(np.eye(3) * 6.0, 120.0))
    assert np.isfinite(attrs["total_energy_ev"]) and np.isfinite(attrs["pressure_gpa"])
    # one doubly occupied orbital: ELF is 1 wherever there is density (the Pauli term vanishes)
    points = grid.grid_points_cartesian(h2_box["cell"].values, elf.shape)
    near = np.linalg.norm(points - h2_box["positions"].values.mean(axis=0), axis=-1) < 1.5
    assert elf[near].min() > 0.99


# Four H2 molecules at rs 1.5 bohr in an orthorhombic cell with different lengths along a, b, c (dense enough
# that ELF is low between the molecules: median ~0.35, only ~11 % of the voxels above 0.9).
DENSE_CELL = np.diag([2.1752, 2.5591, 2.943])
DENSE_POSITIONS = np.array(
    [
        [0.0026, 0.7484, 2.054],
        [1.5142, 0.0225, 1.3494],
        [0.1303, 2.0839, 0.854],
        [1.3086, 1.2918, 0.2075],
        [0.37, 0.4637, 2.6622],
        [1.0185, 0.4592, 1.1999],
        [0.5063, 1.4907, 0.8645],
        [1.4048, 1.8144, 2.5622],
    ]
)


@pytest.fixture(scope="module")
def asymmetric():
    structure = grid.make_dataset(DENSE_CELL, DENSE_POSITIONS, [1] * 8, shape=(4, 4, 4))
    return qe.qe_elf(structure, COARSE)


def test_elf_maxima_sit_at_the_atoms(asymmetric):
    elf = asymmetric["elf"].values
    cell = asymmetric["cell"].values
    positions = asymmetric["positions"].values
    na, nb, nc = elf.shape
    assert (na, nb, nc) == qe.minimum_fft_shape(cell, 120.0) and na < nb < nc
    frac = grid.cart_to_frac(positions, cell)
    index = np.round(frac * elf.shape).astype(int) % elf.shape
    at_atoms = elf[tuple(index.T)]
    assert at_atoms.min() > 0.9
    # the same fractional coordinates with axes swapped (what an axis-order bug would read) are far lower
    swapped = np.round(frac[:, ::-1] * elf.shape).astype(int) % elf.shape
    assert elf[tuple(swapped.T)].mean() < at_atoms.mean() - 0.3
    # every voxel with ELF > 0.95 lies within 0.6 Å of an atom (the maxima are the protons and H2 bonds)
    points = grid.grid_points_cartesian(cell, elf.shape)[elf > 0.95]
    d = points[:, None, :] - positions[None]
    d -= np.round(d @ np.linalg.inv(cell)) @ cell
    assert np.linalg.norm(d, axis=-1).min(axis=1).max() < 0.6


def test_explicit_grid_is_resampled_and_flagged(asymmetric):
    structure = grid.structure_only(asymmetric)
    small = qe.qe_elf(structure, COARSE, shape=(12, 12, 12), keep_files=True)
    assert small["elf"].shape == (12, 12, 12) and small.attrs["resampled_from_qe_grid"] == 1
    workdir = Path(small.attrs["workdir"])
    assert (workdir / "pw.out").is_file() and (workdir / "elf.cube").is_file()
    shutil.rmtree(workdir)
    # resampling the native ELF to the same small grid agrees with the returned field
    np.testing.assert_allclose(
        small["elf"].values, qe.resample_periodic(asymmetric["elf"].values, (12, 12, 12)), atol=2e-3
    )


def test_unconverged_scf_is_an_error_unless_allowed(asymmetric):
    structure = grid.structure_only(asymmetric)
    settings = COARSE.replace(max_scf_steps=2)
    with pytest.raises(EngineError, match="did not converge"):
        qe.qe_elf(structure, settings)
    flagged = qe.qe_elf(structure, settings, allow_unconverged=True)
    assert flagged.attrs["scf_converged"] == 0
    assert flagged["elf"].min() >= 0 and flagged["elf"].max() <= 1
