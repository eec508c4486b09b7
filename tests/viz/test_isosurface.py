"""Periodic isosurfaces on skewed cells: geometry, closure across cell faces, component tagging."""

from __future__ import annotations

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from elfviz import grid  # noqa: E402
from elfviz.errors import GridError  # noqa: E402
from elfviz.viz import isosurface as iso  # noqa: E402

SKEWED = np.array([[4.0, 0.0, 0.0], [1.3, 3.8, 0.0], [0.7, 0.9, 4.2]])  # triclinic, Å


def periodic_gaussian(cell, shape, centre_frac, width):
    """exp(-d^2 / 2 w^2) with d the minimum-image distance (Å) to a centre given in fractional coords."""
    cell = np.asarray(cell)
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    diff = frac - np.asarray(centre_frac)
    best = np.full(shape, np.inf)
    for shift in np.ndindex(3, 3, 3):  # nearest image among the 27 neighbours (cells here are near-cubic)
        d = (diff - np.round(diff) + np.array(shift) - 1) @ cell
        best = np.minimum(best, np.einsum("...i,...i->...", d, d))
    return np.exp(-best / (2 * width**2))


def distance_to_lattice_points(points, cell, centre_frac=(0, 0, 0)):
    frac = grid.cart_to_frac(points, cell) - np.asarray(centre_frac)
    best = np.full(len(points), np.inf)
    base = np.round(frac)
    for shift in np.ndindex(3, 3, 3):
        d = (frac - base - (np.array(shift) - 1)) @ cell
        best = np.minimum(best, np.linalg.norm(d, axis=1))
    return best


def test_structured_grid_sits_on_true_skewed_points_and_wraps():
    field = np.random.default_rng(1).random((5, 6, 7)).astype(np.float32)
    g = iso.periodic_structured_grid(field, SKEWED)
    assert g.dimensions == (6, 7, 8)
    points = g.points.reshape(8, 7, 6, 3).transpose(2, 1, 0, 3)  # VTK is x-fastest (Fortran order)
    values = g.point_data["elf"].reshape(8, 7, 6).transpose(2, 1, 0)
    expected = grid.frac_to_cart(np.array([5 / 5, 2 / 6, 3 / 7]), SKEWED)
    np.testing.assert_allclose(points[5, 2, 3], expected, atol=1e-6)
    np.testing.assert_allclose(values[5, 2, 3], field[0, 2, 3])  # end point repeats the first plane
    np.testing.assert_allclose(values[:5, :6, :7], field)
    np.testing.assert_allclose(points[5, 6, 7], SKEWED.sum(axis=0), atol=1e-6)


def test_structured_grid_with_images_tiles_the_field():
    field = np.random.default_rng(2).random((4, 4, 4))
    g = iso.periodic_structured_grid(field, SKEWED, images=(2, 1, 3))
    assert g.dimensions == (9, 5, 13)
    values = g.point_data["elf"].reshape(13, 5, 9).transpose(2, 1, 0)
    np.testing.assert_allclose(values[4:8, :4, 8:12], field.astype(np.float32))
    np.testing.assert_allclose(g.points.max(axis=0), (SKEWED * [[2], [1], [3]]).sum(axis=0).clip(0), atol=1e-6)


def test_sphere_split_over_the_corners_of_a_skewed_cell_has_the_sphere_area():
    width, shape = 0.5, (40, 40, 40)
    field = periodic_gaussian(SKEWED, shape, (0, 0, 0), width)
    radius = width * np.sqrt(2 * np.log(2.0))  # where the Gaussian equals 0.5
    surface = iso.isosurface(field, SKEWED, 0.5)
    assert surface.n_cells > 0
    # the blob at the corners is cut into pieces, all on the true sphere about the lattice points
    d = distance_to_lattice_points(surface.points, SKEWED)
    np.testing.assert_allclose(d, radius, atol=0.02)
    assert surface.area == pytest.approx(4 * np.pi * radius**2, rel=0.03)
    # its pieces are open exactly at the cell faces
    assert not surface.is_manifold


def test_surface_closes_across_periodic_boundaries():
    width, shape = 0.5, (32, 32, 32)
    field = periodic_gaussian(SKEWED, shape, (0, 0, 0), width)
    surface = iso.isosurface(field, SKEWED, 0.5, images=(2, 2, 2))
    centre = SKEWED.sum(axis=0)  # lattice point (1, 1, 1): the blob there is assembled from 8 cells
    blob = surface.connectivity(extraction_mode="closest", closest_point=centre)
    assert blob.is_manifold  # closed: no open edges where cells meet
    radius = width * np.sqrt(2 * np.log(2.0))
    np.testing.assert_allclose(np.linalg.norm(blob.points - centre, axis=1), radius, atol=0.03)
    assert surface.area == pytest.approx(8 * iso.isosurface(field, SKEWED, 0.5).area, rel=1e-4)


def test_surface_follows_a_translation_of_the_field():
    shape = (24, 24, 24)
    field = periodic_gaussian(SKEWED, shape, (0.5, 0.5, 0.5), 0.6)
    shifted = np.roll(field, (3, 0, 2), axis=(0, 1, 2))  # by (1/8, 0, 1/12) of the cell
    a = iso.isosurface(field, SKEWED, 0.4)
    b = iso.isosurface(shifted, SKEWED, 0.4)
    assert a.area == pytest.approx(b.area, rel=1e-4)
    np.testing.assert_allclose(b.center, np.asarray(a.center) + grid.frac_to_cart([1 / 8, 0, 1 / 12], SKEWED),
                               atol=1e-3)


def test_triangles_carry_their_component_and_spanning_flag():
    shape = (24, 24, 24)
    cell = np.eye(3) * 4.0
    c = np.arange(24) / 24
    slab = np.broadcast_to(np.exp(-((c - 0.25) ** 2) / (2 * 0.05**2))[None, None, :], shape)  # z-layer
    blob = periodic_gaussian(cell, shape, (0.5, 0.5, 0.75), 0.4)
    field = np.maximum(slab, blob)
    labels = np.full(shape, -1, dtype=np.int32)
    labels[(field >= 0.5) & (slab >= blob)] = 0  # the slab spans the cell along a and b
    labels[(field >= 0.5) & (blob > slab)] = 1  # the blob is finite
    surface = iso.isosurface(field, cell, 0.5, labels=labels, wrap_rank=[2, 0])
    comp = surface.cell_data["component"]
    assert set(np.unique(comp)) == {0, 1}
    z = surface.cell_centers().points[:, 2]
    assert np.all(np.abs(z[comp == 0] - 1.0) < 0.6)  # slab triangles near z = 0.25 * 4 Å
    assert np.all(np.abs(z[comp == 1] - 3.0) < 1.0)
    np.testing.assert_array_equal(surface.cell_data["wrap_rank"], np.where(comp == 0, 2, 0))
    spanning, finite = iso.split_by_spanning(surface)
    assert spanning.n_cells == int(np.sum(comp == 0)) and finite.n_cells == int(np.sum(comp == 1))
    assert spanning.area == pytest.approx(2 * 16.0, rel=1e-3)  # two planes of 4 x 4 Å


def test_isovalue_outside_the_range_gives_an_empty_surface():
    field = np.random.default_rng(3).random((6, 6, 6)) * 0.5
    for value in (0.9, -0.1):
        surface = iso.isosurface(field, np.eye(3) * 3, value)
        assert surface.n_points == 0
    spanning, finite = iso.split_by_spanning(iso.isosurface(field, np.eye(3) * 3, 0.9))
    assert spanning.n_cells == finite.n_cells == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"field": np.full((4, 4, 4), np.nan)}, "NaN"),
    ({"field": np.zeros((4, 4))}, "3-D field"),
    ({"images": (0, 1, 1)}, "images"),
    ({"images": "two"}, "images"),
    ({"isovalue": "high"}, "isovalue"),
    ({"labels": np.zeros((3, 4, 4))}, "labels"),
])
def test_bad_input_raises_grid_error(kwargs, message):
    args = {"field": np.random.default_rng(0).random((4, 4, 4)), "cell": np.eye(3) * 2, "isovalue": 0.5}
    args.update(kwargs)
    with pytest.raises(GridError, match=message):
        iso.isosurface(args.pop("field"), args.pop("cell"), args.pop("isovalue"), **args)


def test_atom_sites_complete_atoms_on_faces_and_corners():
    cell = SKEWED
    frac = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.5], [0.3, 0.4, 0.6], [1.3, -0.6, 0.6]])
    sites, numbers = iso.atom_sites(frac @ cell, [1, 1, 1, 8], cell)
    assert len(sites) == 8 + 2 + 1 + 1
    assert sorted(numbers.tolist()).count(8) == 1
    inside = grid.cart_to_frac(sites, cell)
    assert np.all(inside > -1e-9) and np.all(inside < 1 + 1e-9)
    np.testing.assert_allclose(inside[numbers == 8], [[0.3, 0.4, 0.6]], atol=1e-9)  # wrapped into the cell
    sites2, _ = iso.atom_sites([[0.3, 0.4, 0.6] @ cell], [1], cell, images=(2, 1, 1))
    np.testing.assert_allclose(grid.cart_to_frac(sites2, cell), [[0.3, 0.4, 0.6], [1.3, 0.4, 0.6]], atol=1e-9)


def test_atom_spheres_have_radius_and_colour():
    spheres = iso.atom_spheres([[1.0, 1.0, 1.0]], [1], np.eye(3) * 3.0, radius_scale=1.0)
    r = np.linalg.norm(spheres.points - 1.0, axis=1)
    np.testing.assert_allclose(r, 0.31, atol=1e-6)  # covalent radius of H
    assert spheres.point_data["rgb"].dtype == np.uint8
    assert np.all(spheres.point_data["number"] == 1)


def test_cell_box_edges_are_the_lattice_vectors():
    box = iso.cell_box(SKEWED, images=(1, 2, 1))
    assert box.n_lines == 12
    lines = box.lines.reshape(-1, 3)[:, 1:]
    edges = box.points[lines[:, 1]] - box.points[lines[:, 0]]
    supercell = SKEWED * np.array([[1], [2], [1]])
    for vector in supercell:
        assert np.sum(np.all(np.isclose(edges, vector), axis=1)) == 4
