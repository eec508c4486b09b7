"""Lattice-plane slices: exact on grid planes, linear and periodic between them, true in-plane geometry."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import GridError
from elfviz.viz.slices import lattice_plane_slice, plane_frame, slice_plot

SKEWED = np.array([[4.0, 0.0, 0.0], [1.3, 3.8, 0.0], [0.7, 0.9, 4.2]])


@pytest.fixture
def ds():
    field = np.random.default_rng(5).random((6, 5, 4))
    return grid.make_dataset(SKEWED, [[0, 0, 0]], [1], elf=field)


def test_slice_on_a_grid_plane_is_that_plane_with_the_end_points(ds):
    field = ds["elf"].values
    s = lattice_plane_slice(ds, plane="ab", position=2 / 4)
    assert s.shape == (7, 6)
    np.testing.assert_allclose(s.values[:6, :5], field[:, :, 2], rtol=1e-6)
    np.testing.assert_allclose(s.values[6, :5], field[0, :, 2], rtol=1e-6)  # periodic end point
    np.testing.assert_allclose(s.values[:6, 5], field[:, 0, 2], rtol=1e-6)


def test_slice_between_planes_interpolates_linearly_and_periodically(ds):
    field = ds["elf"].values
    s = lattice_plane_slice(ds, plane="bc", position=5.5 / 6)  # between a-planes 5 and 0 (wrapped)
    np.testing.assert_allclose(s.values[:5, :4], 0.5 * (field[5] + field[0]), rtol=1e-6)
    again = lattice_plane_slice(ds, plane="bc", position=5.5 / 6 - 3.0)
    np.testing.assert_allclose(again.values, s.values)
    assert s.attrs["normal_axis"] == "a" and s.attrs["u_axis"] == "b"


def test_slice_coordinates_reproduce_the_skewed_face(ds):
    s = lattice_plane_slice(ds, plane="ca", position=0.0)
    c, a = SKEWED[2], SKEWED[0]
    corner_u = np.array([s.x.values[-1, 0], s.y.values[-1, 0]])
    corner_v = np.array([s.x.values[0, -1], s.y.values[0, -1]])
    assert np.linalg.norm(corner_u) == pytest.approx(np.linalg.norm(c))
    assert np.linalg.norm(corner_v) == pytest.approx(np.linalg.norm(a))
    assert corner_u @ corner_v == pytest.approx(c @ a)  # the angle between the spanning vectors
    np.testing.assert_allclose(plane_frame(SKEWED, "ab") @ plane_frame(SKEWED, "ab").T, np.eye(2), atol=1e-12)


def test_bad_plane_or_field_is_a_grid_error(ds):
    with pytest.raises(GridError, match="unknown lattice plane"):
        lattice_plane_slice(ds, plane="xy")
    with pytest.raises(GridError, match="no field"):
        lattice_plane_slice(ds, field="residual")
    with pytest.raises(GridError, match="position"):
        lattice_plane_slice(ds, position="middle")


def test_slice_plot_is_a_quadmesh_in_angstrom(ds):
    pytest.importorskip("holoviews")
    plot = slice_plot(lattice_plane_slice(ds, plane="ab", position=0.25))
    assert type(plot).__name__ == "QuadMesh"
    xs = plot.dimension_values("x")
    assert xs.max() == pytest.approx(np.linalg.norm(SKEWED[0]) + SKEWED[1] @ SKEWED[0] / 4.0, rel=1e-6)
