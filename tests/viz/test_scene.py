"""The 3D scene: meshes from a Dataset, colours by component, plotter and PNG rendering."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")

from elfviz import grid  # noqa: E402
from elfviz.errors import GridError  # noqa: E402
from elfviz.viz import scene  # noqa: E402


def slab_and_blob_dataset():
    shape = (20, 20, 20)
    cell = np.eye(3) * 4.0
    c = np.arange(20) / 20
    slab = np.broadcast_to(np.exp(-((c - 0.25) ** 2) / (2 * 0.05**2))[None, None, :], shape)
    r2 = ((c[:, None, None] - 0.5) ** 2 + (c[None, :, None] - 0.5) ** 2 + (c[None, None, :] - 0.75) ** 2) * 16
    blob = np.exp(-r2 / (2 * 0.4**2))
    field = np.maximum(slab, blob)
    labels = np.full(shape, -1, dtype=np.int32)
    labels[(field >= 0.5) & (slab >= blob)] = 0
    labels[(field >= 0.5) & (blob > slab)] = 1
    components = SimpleNamespace(labels=labels, wrap_rank=np.array([2, 0]), n_components=2, dimension=2)
    ds = grid.make_dataset(cell, [[2.0, 2.0, 1.0], [2.0, 2.0, 3.0]], [1, 1], elf=field)
    return ds, components


def test_scene_splits_spanning_from_finite_and_colours_them():
    ds, components = slab_and_blob_dataset()
    sc = scene.scene_meshes(ds, 0.5, components=components)
    assert sc.n_components == 2 and sc.dimension == 2
    assert sc.spanning.n_cells > 0 and sc.finite.n_cells > 0
    assert np.all(sc.spanning.cell_data["wrap_rank"] == 2)
    spanning_rgb = np.unique(sc.spanning.cell_data["rgb"], axis=0)
    finite_rgb = np.unique(sc.finite.cell_data["rgb"], axis=0)
    assert not set(map(tuple, spanning_rgb)) & set(map(tuple, finite_rgb))
    assert set(sc.meshes()) == {"spanning", "finite", "atoms", "cell"}


def test_scene_without_components_draws_everything_as_finite():
    ds, _ = slab_and_blob_dataset()
    sc = scene.scene_meshes(ds, 0.5, components=None, show_atoms=False, show_cell=False, images=(2, 1, 1))
    assert sc.spanning.n_cells == 0 and sc.finite.n_cells > 0
    assert sc.n_components is None and sc.atoms is None and sc.cell is None
    assert sc.finite.bounds[1] == pytest.approx(8.0, abs=0.25)  # two images along a


def test_scene_rejects_a_missing_field():
    ds, _ = slab_and_blob_dataset()
    with pytest.raises(GridError, match="no field 'elf_ref'"):
        scene.scene_meshes(ds, 0.5, field="elf_ref", components=None)


def test_component_colours_cycle_and_handle_unknown():
    colours = scene.component_colours(np.array([-1, 0, len(scene.SPANNING_COLOURS)]), spanning=True)
    np.testing.assert_array_equal(colours[0], colours[1])
    np.testing.assert_array_equal(colours[1], colours[2])


def test_plotter_has_named_actors_and_renders_a_non_blank_png():
    from PIL import Image

    ds, components = slab_and_blob_dataset()
    plotter = scene.build_plotter(ds, 0.5, components=components, window_size=(200, 160))
    try:
        assert set(plotter.actors) == {"spanning", "finite", "atoms", "cell"}
        png = scene.render_png(plotter)
    finally:
        plotter.close()
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape[:2] == (160, 200)
    assert image.std() > 10  # not a blank canvas
    orange = np.all(np.abs(image[..., :3].astype(int) - scene.SPANNING_COLOURS[0]) < 60, axis=-1)
    assert orange.sum() > 50  # the spanning slab is visible in its colour


def test_scene_png_has_a_caption_and_a_colour_key_a_reader_can_use():
    """The notebook picture: isovalue, components and dimension written above, a colour key below."""
    import io

    import xarray as xr
    from PIL import Image

    from elfviz.data import examples_path
    from elfviz.topology import components_at
    from elfviz.viz.scene import ATOM_KEY_COLOUR, SPANNING_COLOURS, colour_key, scene_meshes, scene_png, scene_title

    ds = xr.load_dataset(examples_path() / "frames" / "I41amd-rs1.30.nc")
    scene = scene_meshes(ds, 0.6, images=(2, 2, 1))
    comps = components_at(ds, 0.6)
    assert scene_title(scene) == f"ELF = 0.600: {comps.n_components} component, percolates in 3-D (network)"
    assert [label for label, _ in colour_key(scene)] == ["percolating components (opaque)", "H atom"]
    image = np.asarray(Image.open(io.BytesIO(scene_png(ds, 0.6, images=(2, 2, 1), window_size=(400, 300)))))
    assert image.shape[1] == 400 and image.shape[0] > 300  # bands added above and below
    band_top, band_bottom = image[: image.shape[0] - 300 - 1], image[-20:]
    assert (band_top < 100).any()  # dark caption text
    swatch = np.all(np.abs(band_bottom.astype(int) - SPANNING_COLOURS[0]) < 3, axis=-1)
    assert swatch.sum() > 20  # the orange swatch of the percolating component
    grey = np.all(np.abs(band_bottom.astype(int) - np.round(255 * np.array(ATOM_KEY_COLOUR))) < 3, axis=-1)
    assert grey.sum() > 20
    plain = np.asarray(Image.open(io.BytesIO(scene_png(ds, 0.6, window_size=(400, 300), caption=False,
                                                       key=False))))
    assert plain.shape[:2] == (300, 400)
