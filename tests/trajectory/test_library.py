"""The library without files: per-frame numbers of a stretched H2 molecule, analyse_trajectory in memory."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import GridError
from elfviz.reference.promolecular import promolecular_elf
from elfviz.topology import components_at
from elfviz.trajectory import (
    analyse_trajectory,
    frame_dataset,
    frame_numbers,
    molecular_fraction,
    molecule_components,
)

from .helpers import SHAPE, StandInPredictor


def _h2(d, cell=4.0):
    return grid.make_dataset(np.eye(3) * cell, [[1, 2, 2], [1 + d, 2, 2]], [1, 1], shape=SHAPE)


def test_stretching_h2_lowers_phi_star_and_ends_the_molecule():
    bonds = np.linspace(0.74, 2.0, 7)
    numbers = [frame_numbers(promolecular_elf(_h2(d), shape=SHAPE), 0.6) for d in bonds]
    phi_star = [n["phi_star"] for n in numbers]
    assert np.all(np.diff(phi_star) < 0), phi_star  # the bond ELF falls as the bond stretches
    fraction = [n["molecular_fraction"] for n in numbers]
    assert fraction[0] == 1.0 and fraction[-1] == 0.0 and np.all(np.diff(fraction) <= 0)
    for n in numbers:  # one molecule while its bond ELF is above 0.6, then two single atoms
        assert (n["n_molecules"], n["n_components"]) == ((1, 1) if n["phi_star"] >= 0.6 else (0, 2))
        assert np.isnan(n["member_std_mean"])


def test_a_wrapping_pair_is_not_a_molecule():
    # a chain through a 1.6 Å cell: two atoms per component, but it wraps (an infinite chain, not H2)
    ds = promolecular_elf(grid.make_dataset(np.diag([1.6, 4.0, 4.0]), [[0, 2, 2], [0.8, 2, 2]], [1, 1],
                                            shape=(16, 20, 20)), shape=(16, 20, 20))
    report = components_at(ds, 0.3)
    assert report.n_components == 1 and report.wrap_rank[0] == 1
    assert molecule_components(report).size == 0 and molecular_fraction(report) == 0.0


def test_analyse_trajectory_in_memory_and_frame_dataset():
    frames = []
    for k, d in enumerate((0.74, 1.0, 1.4)):
        frame = grid.make_structure(np.eye(3) * 4.0, [[1, 2, 2], [1 + d, 2, 2]], [1, 1])
        frame.attrs.update(frame_index=10 * k, md_time_fs=5.0 * k)
        frames.append(frame)
    predictor = StandInPredictor()
    table = analyse_trajectory(iter(frames), predictor, isovalue=0.6, shape=SHAPE)
    assert predictor.calls == 3 and table["frame"].values.tolist() == [0, 10, 20]
    assert table["time"].values.tolist() == [0.0, 5.0, 10.0] and table["time"].attrs["units"] == "fs"
    assert table["elf"].dtype == np.float32 and table["elf"].shape == (3, *SHAPE)
    assert table["molecular_fraction"].values.tolist() == [1.0, 1.0, 0.0]
    assert np.all(np.diff(table["phi_star"].values) < 0)
    assert table["member_std_mean"].values.tolist() == pytest.approx([0.001, 0.002, 0.003])
    one = frame_dataset(table, 10)
    grid.validate(one)
    np.testing.assert_array_equal(one["elf"].values, table["elf"].sel(frame=10).values)
    with pytest.raises(GridError, match="no frame 5"):
        frame_dataset(table, 5)


def test_changing_grid_with_fields_is_refused():
    frames = [grid.make_structure(np.eye(3) * a, [[0, 0, 0], [0.74, 0, 0]], [1, 1]) for a in (3.0, 3.6)]
    with pytest.raises(GridError, match="fields cannot share one array"):
        analyse_trajectory(frames, StandInPredictor(), spacing=0.2)
    table = analyse_trajectory(frames, StandInPredictor(), spacing=0.2, fields=False)
    assert "elf" not in table and table["grid_shape"].values[:, 0].tolist() == [15, 18]


def test_frame_numbers_take_a_sweep_already_made():
    import numpy as np

    from elfviz import grid
    from elfviz.topology import networking_analysis
    from elfviz.trajectory import frame_numbers

    f = np.zeros((12, 12, 12))
    f[2:6, 3, 3] = 0.9
    ds = grid.make_dataset(np.eye(3) * 6, [[1, 1.5, 1.5], [2.5, 1.5, 1.5]], [1, 1], f)
    assert frame_numbers(ds, 0.5, analysis=networking_analysis(ds)) == frame_numbers(ds, 0.5)
