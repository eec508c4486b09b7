"""elfviz: predict and explore the electron localization function (ELF) of dense hydrogen.

The top-level import stays light (NumPy, xarray, ASE only): torch, panel and vtk are
imported lazily by the sub-packages that need them.

Examples
--------
>>> import elfviz
>>> ds = elfviz.grid.make_dataset(cell=[[3, 0, 0], [0, 3, 0], [0, 0, 3]],
...                               positions=[[0, 0, 0], [0.74, 0, 0]], numbers=[1, 1],
...                               shape=(8, 8, 8))
>>> ds.sizes["a"], ds.sizes["atom"]
(8, 2)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import grid
from .errors import (
    ElfvizError,
    EngineError,
    FileFormatError,
    GridError,
    ModelError,
    OutputExistsError,
    SpeciesError,
    StructureError,
)

try:
    __version__ = version("elfviz")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "grid",
    "ElfvizError",
    "EngineError",
    "FileFormatError",
    "GridError",
    "ModelError",
    "OutputExistsError",
    "SpeciesError",
    "StructureError",
]
