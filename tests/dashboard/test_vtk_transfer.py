"""The vectorised index-array conversion sends vtk.js exactly the bytes Panel's own loop sends."""

from __future__ import annotations

import numpy as np
import pytest

serializer = pytest.importorskip("panel.pane.vtk.synchronizable_serializer")
vtk_core = pytest.importorskip("vtkmodules.vtkCommonCore")

from elfviz.dashboard import vtk_transfer  # noqa: E402


@pytest.fixture
def panel_original(monkeypatch):
    """Panel's own ``getCachedDataArray``, in place for the test (put back as it was afterwards)."""
    method = serializer.SynchronizationContext.getCachedDataArray
    original = getattr(method, "_elfviz_original", method)
    monkeypatch.setattr(serializer.SynchronizationContext, "getCachedDataArray", original)
    return original


def vtk_array(cls, values):
    array = cls()
    array.SetNumberOfTuples(len(values))
    for i, value in enumerate(values):
        array.SetValue(i, int(value))
    return array


def every_encoding(method, array):
    """The four encodings Panel can ask for (binary or base64, zipped or not), or the error each raises."""
    context = serializer.SynchronizationContext()
    key = serializer.digest(array)
    context.cacheDataArray(key, {"array": array, "mTime": array.GetMTime(), "ts": 0.0})
    out = []
    for binary in (True, False):
        for compression in (False, True):
            try:
                out.append(method(context, key, binary=binary, compression=compression))
            except OverflowError as error:
                out.append(("OverflowError", str(error)))
    return out


IN_RANGE = [0, 1, 7, 123_456, 2**31 - 1, 2**32 - 1]


@pytest.mark.parametrize(
    ("array_class", "values"),
    [
        ("vtkIdTypeArray", IN_RANGE),
        ("vtkIdTypeArray", [-3, *IN_RANGE]),  # Panel cannot store -1 unsigned: its OverflowError either way
        ("vtkIdTypeArray", []),
        ("vtkLongLongArray", [-5, -1, 0, 3, 2**31 - 1]),  # negatives become -1
        ("vtkLongLongArray", [2**31]),  # too large for int32: Panel's error
        ("vtkUnsignedLongLongArray", IN_RANGE),
        ("vtkFloatArray", [0.5, -1.25, 3.0]),  # not an index type: Panel's own code
    ],
)
def test_every_encoding_is_byte_identical_to_panels_loop(panel_original, array_class, values):
    array = vtk_array(getattr(vtk_core, array_class), values) if array_class != "vtkFloatArray" else None
    if array is None:
        array = vtk_core.vtkFloatArray()
        for value in values:
            array.InsertNextValue(value)
    expected = every_encoding(panel_original, array)
    assert vtk_transfer.install()
    assert every_encoding(serializer.SynchronizationContext.getCachedDataArray, array) == expected


def test_index_array_bytes_refuses_values_that_do_not_fit():
    assert vtk_transfer.index_array_bytes(vtk_array(vtk_core.vtkIdTypeArray, [0, -1])) is None
    assert vtk_transfer.index_array_bytes(vtk_array(vtk_core.vtkIdTypeArray, [2**32])) is None
    assert vtk_transfer.index_array_bytes(vtk_array(vtk_core.vtkLongLongArray, [-(2**40)])) == (
        np.array([-1], np.int32).tobytes())


def test_install_is_idempotent_and_the_3d_view_installs_it(panel_original):
    from elfviz.dashboard import DashboardState, View3D

    View3D(DashboardState())
    installed = serializer.SynchronizationContext.getCachedDataArray
    assert installed._elfviz_vectorised and installed._elfviz_original is panel_original
    assert vtk_transfer.install() and serializer.SynchronizationContext.getCachedDataArray is installed


def test_a_whole_isosurface_scene_serialises_to_the_same_arrays(panel_original, monkeypatch):
    pn = pytest.importorskip("panel")
    from elfviz.reference.promolecular import promolecular_elf
    from elfviz.structures import build_phase
    from elfviz.viz.scene import build_plotter

    ds = promolecular_elf(build_phase("C2c-24", rs=1.3), spacing=0.2)
    plotter = build_plotter(ds, 0.5)
    try:
        pane = pn.pane.VTK(plotter.ren_win)

        def arrays():
            context = serializer.SynchronizationContext(id_root=None, debug=False)
            return pane._serialize_ren_win(plotter.ren_win, context)[1]

        expected = arrays()
        converted = []
        vectorised = vtk_transfer.index_array_bytes
        monkeypatch.setattr(vtk_transfer, "index_array_bytes", lambda a: converted.append(a) or vectorised(a))
        assert vtk_transfer.install()
        sent = arrays()
    finally:
        plotter.close()
    assert sent == expected and len(sent) > 3
    triangles = sum(a.GetNumberOfTuples() for a in converted)
    assert converted and triangles > 1000  # the isosurface's triangle lists went the vectorised way
