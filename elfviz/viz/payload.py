"""A :class:`~elfviz.viz.scene.Scene` as one binary message for the browser's 3-D view.

The dashboard's three.js view (``elfviz/dashboard/js/scene_view.js``) keeps one WebGL scene for the life
of the page and swaps its meshes when a new payload arrives. The payload is one ``bytes`` object:

=========  ====================================================================================
bytes      content
=========  ====================================================================================
0-3        little-endian ``uint32`` N: length of the JSON header
4-4+N      UTF-8 JSON header ``{revision, view_key, meshes: [record, ...]}``
then       per mesh, at 4-byte aligned offsets from the start: ``float32`` points (n_points x 3, Å),
           ``uint32`` indices (triangles x 3 or line segments x 2), ``uint8`` RGB colours per point
=========  ====================================================================================

Each mesh record holds ``name``, ``kind`` (``"triangles"`` or ``"lines"``), ``n_points``, ``n_indices``,
``points_offset``, ``indices_offset``, ``colours_offset``, ``opacity`` and ``line_width``.
:func:`decode_payload` reads it back (the tests use it; the browser has its own decoder).

Examples
--------
>>> import numpy as np, pyvista as pv
>>> triangle = pv.PolyData(np.eye(3), faces=[3, 0, 1, 2])
>>> triangle.cell_data["rgb"] = np.array([[255, 0, 0]], dtype=np.uint8)
>>> data = mesh_payload({"spanning": triangle}, revision=1, view_key="demo")
>>> decoded = decode_payload(data)
>>> decoded["meshes"][0]["indices"].tolist(), decoded["meshes"][0]["colours"][0].tolist()
([0, 1, 2], [255, 0, 0])
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pyvista as pv

from ..errors import GridError
from .scene import CELL_COLOUR, FINITE_OPACITY, Scene

LINE_WIDTH = 2.0
"""Width of the cell box lines (pixels, where the browser supports wide lines)."""

MESH_STYLE = {
    "spanning": {"opacity": 1.0},
    "finite": {"opacity": FINITE_OPACITY},
    "atoms": {"opacity": 1.0},
    "cell": {"opacity": 1.0, "line_width": LINE_WIDTH},
}
"""Per-mesh drawing style; the same choices as :func:`elfviz.viz.scene.add_scene`."""


def _pad4(n: int) -> int:
    return (n + 3) // 4 * 4


def triangle_indices(mesh: pv.PolyData) -> np.ndarray:
    """Triangle corner indices (m, 3) of a surface mesh, triangulating other polygons first."""
    if mesh.n_cells == 0 or mesh.faces.size == 0:
        return np.zeros((0, 3), dtype=np.uint32)
    if not mesh.is_all_triangles:
        mesh = mesh.triangulate()
    return mesh.faces.reshape(-1, 4)[:, 1:].astype(np.uint32)


def line_segments(mesh: pv.PolyData) -> np.ndarray:
    """Segment end-point indices (m, 2) of the lines and polylines of a mesh.

    Examples
    --------
    >>> line_segments(pv.PolyData(np.eye(3), lines=[3, 0, 1, 2])).tolist()
    [[0, 1], [1, 2]]
    """
    flat = np.asarray(mesh.lines, dtype=np.int64)
    segments = []
    i = 0
    while i < flat.size:
        n = int(flat[i])
        ids = flat[i + 1:i + 1 + n]
        segments.append(np.column_stack([ids[:-1], ids[1:]]))
        i += n + 1
    if not segments:
        return np.zeros((0, 2), dtype=np.uint32)
    return np.concatenate(segments).astype(np.uint32)


def point_colours(mesh: pv.PolyData, indices: np.ndarray, default: Any) -> np.ndarray:
    """RGB (uint8, n_points x 3) per point from point data ``rgb``, cell data ``rgb`` or one colour.

    Cell colours go to the points of each cell; an isosurface's points belong to one component each, so
    per-cell and per-point colours agree.
    """
    if "rgb" in mesh.point_data:
        return np.asarray(mesh.point_data["rgb"], dtype=np.uint8).reshape(-1, 3)
    colours = np.empty((mesh.n_points, 3), dtype=np.uint8)
    colour = np.asarray(default, dtype=float)
    colours[:] = np.round(colour * 255 if colour.max() <= 1.0 else colour).astype(np.uint8)
    if "rgb" in mesh.cell_data and len(indices):
        rgb = np.asarray(mesh.cell_data["rgb"], dtype=np.uint8).reshape(-1, 3)
        colours[indices.ravel()] = np.repeat(rgb, indices.shape[1], axis=0)
    return colours


def mesh_payload(meshes: dict[str, pv.PolyData], *, revision: int, view_key: str,
                 style: dict[str, dict] | None = None) -> bytes:
    """Pack named meshes into one payload (format in the module docstring).

    Parameters
    ----------
    meshes : dict of str to pyvista.PolyData
        Surfaces (triangles) or line sets (the cell box); a mesh with lines and no faces is sent as lines.
    revision : int
        Number of this scene; the browser reports the revision it draws.
    view_key : str
        Changes when the camera should be reset (another structure or another set of periodic images).
    style : dict, optional
        Per-name ``opacity`` and ``line_width``; default :data:`MESH_STYLE`.

    Returns
    -------
    bytes
    """
    style = MESH_STYLE if style is None else style
    records, blocks = [], []
    for name, mesh in meshes.items():
        is_lines = mesh.n_lines > 0 and mesh.faces.size == 0
        indices = line_segments(mesh) if is_lines else triangle_indices(mesh)
        points = np.ascontiguousarray(mesh.points, dtype=np.float32)
        if len(indices) and indices.max() >= len(points):
            raise GridError(f"mesh {name!r} refers to point {indices.max()} of {len(points)}")
        colours = point_colours(mesh, indices, CELL_COLOUR)
        records.append({"name": name, "kind": "lines" if is_lines else "triangles", "n_points": len(points),
                        "n_indices": int(indices.size), "opacity": float(style.get(name, {}).get("opacity", 1.0)),
                        "line_width": float(style.get(name, {}).get("line_width", 1.0))})
        blocks.append((points.tobytes(), np.ascontiguousarray(indices, dtype="<u4").tobytes(), colours.tobytes()))

    # offsets depend on the header length, which depends on the offsets' digits: fix the header size first
    def header_bytes(offset_base: int) -> bytes:
        offset = offset_base
        for record, (pts, idx, col) in zip(records, blocks, strict=True):
            record["points_offset"] = offset
            offset += _pad4(len(pts))
            record["indices_offset"] = offset
            offset += _pad4(len(idx))
            record["colours_offset"] = offset
            offset += _pad4(len(col))
        text = json.dumps({"revision": int(revision), "view_key": str(view_key), "meshes": records})
        return text.encode("utf-8")

    base = 0
    while True:
        header = header_bytes(base)
        needed = _pad4(4 + len(header))
        if needed == base:
            break
        base = needed
    out = bytearray(struct.pack("<I", len(header)) + header)
    out.extend(b" " * (base - len(out)))
    for pts, idx, col in blocks:
        for block in (pts, idx, col):
            out.extend(block)
            out.extend(b"\0" * (_pad4(len(block)) - len(block)))
    return bytes(out)


def scene_payload(scene: Scene | None, *, revision: int, view_key: str) -> bytes:
    """The payload of every non-empty mesh of a :class:`Scene` (no mesh for None; see :func:`mesh_payload`)."""
    return mesh_payload({} if scene is None else scene.meshes(), revision=revision, view_key=view_key)


def decode_payload(data: bytes) -> dict:
    """Read a payload back: the header with each mesh's ``points``, ``indices`` and ``colours`` arrays."""
    if len(data) < 4:
        raise GridError(f"a scene payload has at least 4 bytes, got {len(data)}")
    (length,) = struct.unpack_from("<I", data, 0)
    header = json.loads(bytes(data[4:4 + length]).decode("utf-8"))
    for mesh in header["meshes"]:
        mesh["points"] = np.frombuffer(data, "<f4", mesh["n_points"] * 3, mesh["points_offset"]).reshape(-1, 3)
        mesh["indices"] = np.frombuffer(data, "<u4", mesh["n_indices"], mesh["indices_offset"])
        mesh["colours"] = np.frombuffer(data, np.uint8, mesh["n_points"] * 3, mesh["colours_offset"]).reshape(-1, 3)
    return header


def payload_counts(data: bytes) -> dict[str, dict[str, int]]:
    """Points, triangles and lines per mesh of a payload, as the browser's ``summary()`` reports them."""
    counts = {}
    for mesh in decode_payload(data)["meshes"]:
        per = 2 if mesh["kind"] == "lines" else 3
        n = mesh["n_indices"] // per
        counts[mesh["name"]] = {"points": mesh["n_points"], "triangles": 0 if per == 2 else n,
                                "lines": n if per == 2 else 0}
    return counts
