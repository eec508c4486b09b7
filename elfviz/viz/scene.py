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
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvista as pv
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import keys
from .isosurface import atom_spheres, cell_box, check_images, isosurface, split_by_spanning

log = logging.getLogger(__name__)


def _prefer_headless_window() -> None:
    """Without a display, let VTK open an EGL window directly (when libEGL is there).

    VTK's wheels try X first and print a red "bad X server connection" warning into every notebook cell
    that renders before they fall back to EGL; asking for EGL up front renders the same pixels silently.
    A user's own ``VTK_DEFAULT_OPENGL_WINDOW`` is kept.
    """
    import ctypes.util
    import os

    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or not sys.platform.startswith("linux"):
        return
    if ctypes.util.find_library("EGL"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


_prefer_headless_window()

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


def scene_meshes(ds: xr.Dataset, isovalue: float, *, field: str = keys.ELF, images: Any = (1, 1, 1),
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
    cell = ds[keys.CELL].values
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
        atoms = atom_spheres(ds[keys.POSITIONS].values, ds[keys.NUMBERS].values, cell, images=reps)
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


ATOM_KEY_COLOUR = (0.85, 0.85, 0.85)
"""Colour of the atom entry in the colour key (hydrogen spheres are drawn light grey)."""

DIMENSION_WORDS = {0: "does not percolate", 1: "percolates in 1-D (chains)", 2: "percolates in 2-D (sheets)",
                   3: "percolates in 3-D (network)"}


def scene_title(scene: Scene, field: str = "ELF") -> str:
    """One line that says what the picture shows, e.g. ``ELF = 0.650: 6 components, percolates in 3-D (network)``.

    Examples
    --------
    >>> scene_title(Scene(pv.PolyData(), pv.PolyData(), None, None, 0.65, n_components=6, dimension=3))
    'ELF = 0.650: 6 components, percolates in 3-D (network)'
    """
    text = f"{field} = {scene.isovalue:.3f}"
    if scene.n_components is not None:
        text += f": {scene.n_components} component{'s' if scene.n_components != 1 else ''}"
    if scene.dimension is not None:
        text += f", {DIMENSION_WORDS[scene.dimension]}"
    return text


def colour_key(scene: Scene) -> list[list[Any]]:
    """``[label, rgb]`` entries for the parts the scene holds (for ``pyvista.Plotter.add_legend``)."""
    entries: list[list[Any]] = []
    if scene.spanning.n_cells:
        entries.append(["percolating components (opaque)", tuple(SPANNING_COLOURS[0] / 255.0)])
    if scene.finite.n_cells:
        entries.append(["finite components (translucent)", tuple(FINITE_COLOURS[0] / 255.0)])
    if scene.atoms is not None:
        entries.append(["H atom", ATOM_KEY_COLOUR])
    return entries


def build_plotter(ds: xr.Dataset, isovalue: float, *, field: str = keys.ELF, images: Any = (1, 1, 1),
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


def render_png(plotter: pv.Plotter, *, caption: str | None = None,
               key: list[list[Any]] | tuple = ()) -> bytes:
    """Render a plotter off screen and return the image as PNG bytes.

    Parameters
    ----------
    plotter : pyvista.Plotter
        An off-screen plotter (:func:`build_plotter`).
    caption : str, optional
        A line written above the picture (e.g. :func:`scene_title`).
    key : list of [label, rgb]
        Colour key drawn below the picture (e.g. :func:`colour_key`); rgb in [0, 1].
    """
    import io

    from PIL import Image

    image = Image.fromarray(np.asarray(plotter.screenshot(return_img=True)))
    if caption or key:
        image = annotate(image, caption, key)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def annotate(image, caption: str | None, key: list[list[Any]] | tuple = ()):
    """The image with a caption band above and a colour-key band below (PIL, white bands, dark text)."""
    from PIL import Image, ImageDraw, ImageFont

    width = image.width
    size = max(11, min(18, width // 34))
    font = ImageFont.load_default(size=size)
    line = int(size * 1.6)
    # key entries flow left to right and wrap onto new rows
    rows: list[list[tuple[str, tuple[int, int, int], int]]] = [[]]
    x = pad = size // 2
    swatch = size
    for label, rgb in key:
        w = swatch + pad // 2 + int(font.getlength(label)) + 2 * pad
        if rows[-1] and x + w > width:
            rows.append([])
            x = pad
        rows[-1].append((label, tuple(int(round(255 * c)) for c in rgb), x))
        x += w
    top = line if caption else 0
    bottom = line * len(rows) if key else 0
    out = Image.new("RGB", (width, image.height + top + bottom), "white")
    out.paste(image.convert("RGB"), (0, top))
    draw = ImageDraw.Draw(out)
    if caption:
        draw.text((width // 2, line // 2), caption, fill=(20, 20, 20), font=font, anchor="mm")
    for r, row in enumerate(rows if key else []):
        y = top + image.height + r * line + line // 2
        for label, rgb, x0 in row:
            draw.rectangle([x0, y - swatch // 2, x0 + swatch, y + swatch // 2], fill=rgb, outline=(90, 90, 90))
            draw.text((x0 + swatch + pad // 2, y), label, fill=(20, 20, 20), font=font, anchor="lm")
    return out


def scene_png(ds: xr.Dataset, isovalue: float, *, field: str = keys.ELF, images: Any = (1, 1, 1),
              components: Any = "auto", show_atoms: bool = True, show_cell: bool = True,
              window_size: tuple[int, int] = (640, 480), caption: str | bool = True, key: bool = True) -> bytes:
    """PNG of the 3D view with a caption (isovalue, components, percolation) and a colour key.

    The one call for notebooks and reports. Arguments as :func:`scene_meshes`; ``caption=True`` writes
    :func:`scene_title`, a string writes that string, False nothing; ``key`` adds :func:`colour_key`.
    """
    scene = scene_meshes(ds, isovalue, field=field, images=images, components=components,
                         show_atoms=show_atoms, show_cell=show_cell)
    plotter = build_plotter(ds, isovalue, window_size=window_size, scene=scene)
    try:
        text = scene_title(scene, "ELF" if field.startswith(keys.ELF) else field) if caption is True else caption
        return render_png(plotter, caption=text or None, key=colour_key(scene) if key else ())
    finally:
        plotter.close()
