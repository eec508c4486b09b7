"""The 3D scene of one structure: periodic ELF isosurface coloured by component, atoms, cell box.

:func:`scene_meshes` builds the meshes (pure, testable without rendering); :func:`build_plotter`
puts them into a ``pyvista.Plotter`` (exports and notebooks; the dashboard sends the meshes to the browser
with :mod:`elfviz.viz.payload`);
:func:`render_png` renders the scene off screen to PNG bytes.

Colours: components that span the periodic cell (wrap rank >= 1, i.e. percolating) are opaque, in
saturated colours, one per component; finite components are translucent, in muted colours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvista as pv
import xarray as xr

from .. import grid
from ..errors import GridError
from .isosurface import atom_spheres, cell_box, check_images, isosurface, split_by_spanning

log = logging.getLogger(__name__)

SPANNING_COLOURS = np.array([
    (230, 85, 13), (214, 39, 40), (255, 187, 0), (148, 52, 110), (227, 119, 194), (188, 189, 34),
], dtype=np.uint8)
"""Saturated colours for spanning (percolating) components."""

FINITE_COLOURS = np.array([
    (107, 174, 214), (116, 196, 118), (158, 154, 200), (150, 150, 150), (65, 182, 196), (161, 217, 155),
], dtype=np.uint8)
"""Muted colours for finite (non-percolating) components."""

FINITE_OPACITY = 0.45
"""Opacity of finite components, so the spanning network stands out."""

CELL_COLOUR = (0.2, 0.2, 0.2)
BACKGROUND = "white"


@dataclass
class Scene:
    """Meshes of one 3D view and what they show.

    Attributes
    ----------
    spanning, finite : pyvista.PolyData
        Isosurface triangles of spanning and of finite components, with cell data ``rgb``.
    atoms : pyvista.PolyData or None
        Atom spheres (point data ``rgb``), None when atoms are hidden.
    cell : pyvista.PolyData or None
        Cell box lines, None when hidden.
    isovalue : float
        The contour value.
    n_components : int or None
        Number of connected components at the isovalue (None without component labels).
    dimension : int or None
        Percolation dimension at the isovalue (largest wrap rank; None without labels).
    """

    spanning: pv.PolyData
    finite: pv.PolyData
    atoms: pv.PolyData | None
    cell: pv.PolyData | None
    isovalue: float
    n_components: int | None = None
    dimension: int | None = None
    meta: dict = field(default_factory=dict)

    def meshes(self) -> dict[str, pv.PolyData]:
        """Non-empty meshes by name (``spanning``, ``finite``, ``atoms``, ``cell``)."""
        out = {"spanning": self.spanning, "finite": self.finite, "atoms": self.atoms, "cell": self.cell}
        return {k: v for k, v in out.items() if v is not None and v.n_points > 0}


def component_colours(component: np.ndarray, spanning: bool) -> np.ndarray:
    """RGB (uint8, shape (n, 3)) per triangle from its component id; -1 (unknown) gets the first colour.

    Examples
    --------
    >>> component_colours(np.array([0, 1, -1]), spanning=True).shape
    (3, 3)
    """
    palette = SPANNING_COLOURS if spanning else FINITE_COLOURS
    comp = np.asarray(component, dtype=np.int64)
    return palette[np.where(comp < 0, 0, comp) % len(palette)]


def scene_meshes(ds: xr.Dataset, isovalue: float, *, field: str = "elf", images: Any = (1, 1, 1),
                 components: Any = "auto", show_atoms: bool = True, show_cell: bool = True) -> Scene:
    """Build the meshes of the 3D view of ``ds[field]`` at ``isovalue``.

    Parameters
    ----------
    ds : xarray.Dataset
        elfviz Dataset with the field.
    isovalue : float
        ELF value of the isosurface.
    field : str
        Field to contour.
    images : (int, int, int)
        Periodic copies along a, b, c.
    components : "auto", ComponentReport-like, or None
        ``"auto"`` calls :func:`elfviz.topology.components_at` at the isovalue; an object with
        ``labels``, ``wrap_rank`` (and ``n_components``, ``dimension``) is used as given; None skips
        the component analysis (all triangles are drawn as finite).
    show_atoms, show_cell : bool
        Include atom spheres and the cell box.

    Returns
    -------
    Scene

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 3.0, [[1.5, 1.5, 1.5]], [1], shape=(8, 8, 8))
    >>> ds = grid.with_field(ds, "elf", np.full((8, 8, 8), 0.3))
    >>> scene_meshes(ds, 0.5, components=None).spanning.n_cells
    0
    """
    if field not in ds:
        raise GridError(f"the Dataset has no field {field!r}; fields: {grid.field_names(ds)}")
    reps = check_images(images)
    values = ds[field].values
    cell = ds["cell"].values
    if isinstance(components, str) and components == "auto":
        from ..topology import components_at

        components = components_at(ds, float(isovalue), field=field)
    labels = getattr(components, "labels", None) if components is not None else None
    wrap_rank = getattr(components, "wrap_rank", None) if components is not None else None
    surface = isosurface(values, cell, isovalue, images=reps, labels=labels, wrap_rank=wrap_rank)
    spanning, finite = split_by_spanning(surface)
    for part, is_spanning in ((spanning, True), (finite, False)):
        if part.n_cells:
            part.cell_data["rgb"] = component_colours(part.cell_data["component"], is_spanning)
    atoms = None
    if show_atoms and ds.sizes["atom"]:
        atoms = atom_spheres(ds["positions"].values, ds["numbers"].values, cell, images=reps)
    box = cell_box(cell, images=reps) if show_cell else None
    return Scene(spanning=spanning, finite=finite, atoms=atoms, cell=box, isovalue=float(isovalue),
                 n_components=None if components is None else int(components.n_components),
                 dimension=None if components is None else int(components.dimension),
                 meta={"field": field, "images": reps,
                       "field_range": (float(values.min()), float(values.max()))})


def add_scene(plotter: pv.Plotter, scene: Scene) -> pv.Plotter:
    """Add the meshes of a :class:`Scene` to a plotter (each mesh one named actor)."""
    meshes = scene.meshes()
    if "spanning" in meshes:
        plotter.add_mesh(meshes["spanning"], scalars="rgb", rgb=True, preference="cell", smooth_shading=False,
                         name="spanning")
    if "finite" in meshes:
        plotter.add_mesh(meshes["finite"], scalars="rgb", rgb=True, preference="cell", opacity=FINITE_OPACITY,
                         name="finite")
    if "atoms" in meshes:
        plotter.add_mesh(meshes["atoms"], scalars="rgb", rgb=True, smooth_shading=True, name="atoms")
    if "cell" in meshes:
        plotter.add_mesh(meshes["cell"], color=CELL_COLOUR, line_width=2, name="cell")
    return plotter


def build_plotter(ds: xr.Dataset, isovalue: float, *, field: str = "elf", images: Any = (1, 1, 1),
                  components: Any = "auto", show_atoms: bool = True, show_cell: bool = True,
                  window_size: tuple[int, int] = (640, 480), scene: Scene | None = None) -> pv.Plotter:
    """A ready off-screen ``pyvista.Plotter`` of the scene (see :func:`scene_meshes` for the arguments).

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 3.0, [[1.5, 1.5, 1.5]], [1], shape=(8, 8, 8))
    >>> ds = grid.with_field(ds, "elf", np.full((8, 8, 8), 0.3))
    >>> p = build_plotter(ds, 0.5, components=None)
    >>> sorted(p.actors)
    ['atoms', 'cell']
    """
    if scene is None:
        scene = scene_meshes(ds, isovalue, field=field, images=images, components=components,
                             show_atoms=show_atoms, show_cell=show_cell)
    plotter = pv.Plotter(off_screen=True, window_size=list(window_size))
    plotter.set_background(BACKGROUND)
    add_scene(plotter, scene)
    plotter.camera_position = "iso"
    plotter.reset_camera()
    return plotter


def render_png(plotter: pv.Plotter) -> bytes:
    """Render a plotter off screen and return the image as PNG bytes."""
    import io

    from PIL import Image

    image = plotter.screenshot(return_img=True)
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()
