"""The scene payload: what the browser's 3-D view receives is exactly the scene's meshes."""

from __future__ import annotations

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from elfviz import grid  # noqa: E402
from elfviz.errors import GridError  # noqa: E402
from elfviz.viz.payload import (  # noqa: E402
    decode_payload,
    line_segments,
    mesh_payload,
    payload_counts,
    scene_payload,
)
from elfviz.viz.scene import FINITE_OPACITY, scene_meshes  # noqa: E402


@pytest.fixture(scope="module")
def scene():
    shape = (16, 16, 16)
    cell = np.array([[3.2, 0.0, 0.0], [0.4, 3.0, 0.0], [0.0, 0.3, 3.4]])
    positions = [[0.5, 0.5, 0.5], [1.2, 0.6, 0.5], [2.0, 2.1, 2.3]]
    ds = grid.make_dataset(cell, positions, [1, 1, 1], shape=shape)
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    xyz = frac @ cell
    values = np.zeros(shape)
    for p in positions:
        d = xyz - np.asarray(p)
        d -= np.round(d @ np.linalg.inv(cell)) @ cell  # nearest image
        values = np.maximum(values, np.exp(-(d ** 2).sum(-1) / 0.5))
    return scene_meshes(grid.with_field(ds, "elf", values), 0.4)


def test_every_mesh_arrives_with_its_points_triangles_and_colours(scene):
    decoded = decode_payload(scene_payload(scene, revision=7, view_key="s:1"))
    assert decoded["revision"] == 7 and decoded["view_key"] == "s:1"
    meshes = scene.meshes()
    assert [m["name"] for m in decoded["meshes"]] == list(meshes)
    for record in decoded["meshes"]:
        mesh = meshes[record["name"]]
        np.testing.assert_allclose(record["points"], mesh.points, rtol=1e-6)
        for name in ("points_offset", "indices_offset", "colours_offset"):
            assert record[name] % 4 == 0  # typed arrays in the browser need aligned offsets
        if record["kind"] == "triangles":
            np.testing.assert_array_equal(record["indices"].reshape(-1, 3), mesh.faces.reshape(-1, 4)[:, 1:])
        else:
            assert record["name"] == "cell" and record["indices"].size == 2 * 12
    finite = next(m for m in decoded["meshes"] if m["name"] == "finite")
    assert finite["opacity"] == FINITE_OPACITY
    # each triangle's corners carry the triangle's component colour
    rgb = scene.finite.cell_data["rgb"]
    corners = finite["indices"].reshape(-1, 3)
    for k in range(3):
        np.testing.assert_array_equal(finite["colours"][corners[:, k]], rgb)


def test_counts_are_what_the_browser_reports(scene):
    counts = payload_counts(scene_payload(scene, revision=1, view_key="k"))
    assert counts["cell"] == {"points": 8, "triangles": 0, "lines": 12}
    assert counts["atoms"]["triangles"] == scene.atoms.n_cells
    assert sum(c["triangles"] for name, c in counts.items() if name in ("spanning", "finite")) == (
        scene.spanning.n_cells + scene.finite.n_cells)


def test_an_empty_scene_is_a_valid_payload():
    decoded = decode_payload(scene_payload(None, revision=3, view_key="none"))
    assert decoded == {"revision": 3, "view_key": "none", "meshes": []}


def test_polylines_become_segments_and_bad_meshes_are_refused():
    assert line_segments(pv.PolyData(np.eye(3), lines=[3, 0, 1, 2])).tolist() == [[0, 1], [1, 2]]
    broken = pv.PolyData(np.eye(3), faces=[3, 0, 1, 2])
    broken.faces = np.array([3, 0, 1, 7])  # refers to a point that does not exist
    with pytest.raises(GridError, match="refers to point"):
        mesh_payload({"spanning": broken}, revision=1, view_key="k")
    with pytest.raises(GridError, match="at least 4 bytes"):
        decode_payload(b"")
