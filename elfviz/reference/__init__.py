"""First-principles reference ELF and the promolecular baseline.

``reference_elf`` dispatches to an engine: Quantum ESPRESSO (``"qe"``, the default and the reference
convention) or PySCF (``"pyscf"``, pip-only cross-check). Engines take a data-layer Dataset of the structure
(with or without a grid: :func:`elfviz.grid.make_structure`), choose the grid themselves (or use the one asked
for) and return the structure with the field ``elf`` and the calculation's settings, version, energy and
pressure in the attrs.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from .. import grid
from ..errors import EngineError
from .settings import DEFAULT_KSPACING, DFTSettings

ENGINES = ("qe", "pyscf")


def reference_elf(structure: xr.Dataset, *, engine: str = "qe", settings: DFTSettings | None = None,
                  spacing: float | None = None, shape: Any = None, **kwargs: Any) -> xr.Dataset:
    """Reference ELF of a hydrogen structure from a first-principles engine.

    Parameters
    ----------
    structure : xarray.Dataset or ase.Atoms
        Data-layer Dataset of the structure (with or without a grid; its grid and fields, if any, are
        ignored), or a periodic ``ase.Atoms``.
    engine : {"qe", "pyscf"}
        Quantum ESPRESSO (default) or PySCF.
    settings : DFTSettings, optional
        Numerical settings; defaults to the reference convention.
    spacing : float, optional
        Largest grid spacing, Å.
    shape : (int, int, int), optional
        Deliver on exactly this grid.
    **kwargs
        Passed to the engine (``allow_unconverged``, ``timeout``, ``workdir`` ...).
    """
    if not isinstance(structure, xr.Dataset):
        if not hasattr(structure, "get_positions"):
            raise EngineError(f"expected an elfviz Dataset or an ase.Atoms structure, got {type(structure).__name__}")
        structure = grid.structure_from_atoms(structure, source="structure")  # the engine chooses the grid
    if engine == "qe":
        from .qe import qe_elf

        return qe_elf(structure, settings, spacing=spacing, shape=shape, **kwargs)
    if engine == "pyscf":
        try:
            from .pyscf_engine import pyscf_elf
        except ImportError as exc:
            raise EngineError(f"the PySCF backend is not available ({exc}); install it with "
                              "`pip install pyscf` or `pip install elfviz[dft]`") from None
        return pyscf_elf(structure, settings, spacing=spacing, shape=shape, **kwargs)
    raise EngineError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


__all__ = ["DEFAULT_KSPACING", "DFTSettings", "ENGINES", "reference_elf"]
