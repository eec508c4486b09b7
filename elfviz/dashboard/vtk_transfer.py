"""Vectorised conversion of VTK index arrays for Panel's VTK pane (same bytes, ~100x less time).

Panel's scene serialiser (``panel.pane.vtk.synchronizable_serializer``) hands vtk.js every 64-bit array
(the triangle lists of polydata are exported as ``vtkIdTypeArray``) as 32-bit integers, converting them one
value at a time in a Python loop: for an isosurface of 100 000 triangles that loop is most of the time an
isovalue change takes. :func:`install` replaces that one method of ``SynchronizationContext`` with a NumPy
conversion that produces byte-identical buffers; an array with a value Panel's loop cannot store in 32 bits
(where it raises ``OverflowError``) still goes through Panel's own code, as does every other array. It
patches nothing when Panel's class does not look as expected (another Panel version), so the pane then
works as it always did, only slower.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

_INDEX_TYPES = {12: np.uint32, 17: np.uint32, 16: np.int32}
"""VTK data types Panel converts (vtkIdType, unsigned long long -> uint32; long long -> int32)."""


def index_array_bytes(array) -> bytes | None:
    """The 32-bit buffer Panel's serialiser sends for a 64-bit VTK integer array.

    Parameters
    ----------
    array : vtkDataArray
        Of VTK data type 12 (vtkIdType), 16 (long long) or 17 (unsigned long long).

    Returns
    -------
    bytes or None
        Each value as uint32 (types 12, 17) or int32 (16; negative values as -1, as Panel writes them);
        None if a value does not fit, which Panel's own conversion reports with ``OverflowError``.
    """
    from vtkmodules.util.numpy_support import vtk_to_numpy

    target = np.dtype(_INDEX_TYPES[array.GetDataType()])
    values = vtk_to_numpy(array).reshape(-1)
    if values.size == 0:
        return b""
    if target.kind == "i":
        values = np.maximum(values, -1)
    limits = np.iinfo(target)
    if int(values.min()) < limits.min or int(values.max()) > limits.max:
        return None
    return values.astype(target).tobytes()


def install() -> bool:
    """Speed up Panel's VTK serialiser's index-array conversion (once per process).

    Returns
    -------
    bool
        Whether the faster conversion is in place.
    """
    try:
        from panel.pane.vtk import synchronizable_serializer as serializer
    except Exception:  # noqa: BLE001 - no VTK support in this Panel: nothing to speed up
        return False
    context_class = getattr(serializer, "SynchronizationContext", None)
    original = getattr(context_class, "getCachedDataArray", None)
    if original is None or not all(hasattr(serializer, n) for n in ("zipCompression", "base64Encode")):
        log.info("Panel's VTK serialiser has changed: its index-array conversion is left as it is")
        return False
    if getattr(original, "_elfviz_vectorised", False):
        return True

    def getCachedDataArray(self, pMd5, binary=False, compression=False):  # noqa: N802, N803 - Panel's names
        array = self.dataArrayCache[pMd5]["array"]
        data = index_array_bytes(array) if array.GetDataType() in _INDEX_TYPES else None
        if data is None:  # not an index array, or out of 32-bit range: Panel's own code (and error)
            return original(self, pMd5, binary=binary, compression=compression)
        if compression:
            data = serializer.zipCompression(pMd5, data)
        return data if binary else serializer.base64Encode(data)

    getCachedDataArray._elfviz_vectorised = True
    getCachedDataArray._elfviz_original = original  # Panel's own method, e.g. to compare against
    getCachedDataArray.__doc__ = original.__doc__
    context_class.getCachedDataArray = getCachedDataArray
    return True
