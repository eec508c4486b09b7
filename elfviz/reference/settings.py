"""Settings of a first-principles ELF calculation, shared by all engines.

The defaults are the reference convention of elfviz (DESIGN.md § Reference convention): PBE,
norm-conserving H pseudopotential, 60 Ry wave-function cutoff (within 0.007 ELF MAE of 90-120 Ry),
Fermi-Dirac smearing of 0.02 Ry, and a Monkhorst-Pack k-mesh chosen from a k-spacing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import grid
from ..errors import EngineError

DEFAULT_KSPACING = 0.8
"""Default largest k-point spacing, Å^-1 (2π included, as ASE's and VASP's KSPACING): gives a 2x2x2 mesh for
64 hydrogen atoms at rs 1.20-1.65 bohr, and 3-5 points per direction for the small crystal cells."""


@dataclass(frozen=True)
class DFTSettings:
    """Numerical settings of a reference ELF calculation.

    Attributes
    ----------
    functional : str
        Exchange-correlation functional (``"PBE"``).
    ecutwfc_ry : float
        Plane-wave cutoff of the wave functions, Ry (QE); PySCF uses its own ``ke_cutoff``.
    ecutrho_ry : float or None
        Density cutoff, Ry; default 4 x ``ecutwfc_ry`` (norm-conserving).
    smearing : str
        ``"fermi-dirac"`` (default), ``"gaussian"``, ``"mv"`` or ``"none"`` (fixed occupations).
    degauss_ry : float
        Smearing width, Ry (0.02 Ry = 3158 K electronic temperature for Fermi-Dirac).
    kspacing : float
        Largest spacing between k-points, Å^-1 (2π included). Ignored when ``kmesh`` is given.
    kmesh : tuple of int or None
        Explicit Monkhorst-Pack mesh; ``(1, 1, 1)`` with ``kshift=False`` is the Gamma point.
    kshift : bool
        Shift the mesh by half a step (Monkhorst-Pack offset 1 1 1). For a liquid a shifted 2x2x2 mesh has 4
        irreducible points (time reversal) instead of 8, and samples the zone better than the unshifted one.
    conv_thr_ry_per_atom : float
        SCF convergence threshold per atom, Ry.
    mixing_beta : float
        Density mixing factor.
    max_scf_steps : int
        Largest number of SCF iterations before the run counts as not converged.
    mpi_processes : int or None
        MPI processes for QE (None: all cores, at most 4); OpenMP threads are fixed to 1.
    pseudopotential : str or None
        Path of the H pseudopotential (UPF); None searches the standard places (see :mod:`.pseudo`).
    """

    functional: str = "PBE"
    ecutwfc_ry: float = 60.0
    ecutrho_ry: float | None = None
    smearing: str = "fermi-dirac"
    degauss_ry: float = 0.02
    kspacing: float = DEFAULT_KSPACING
    kmesh: tuple[int, int, int] | None = None
    kshift: bool = True
    conv_thr_ry_per_atom: float = 1e-9
    mixing_beta: float = 0.5
    max_scf_steps: int = 200
    mpi_processes: int | None = None
    pseudopotential: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.functional.upper() != "PBE":
            raise EngineError(f"only the PBE functional is supported (the reference convention), got {self.functional}")
        if not self.ecutwfc_ry > 0:
            raise EngineError(f"ecutwfc must be positive (Ry), got {self.ecutwfc_ry}")
        if self.smearing not in ("fermi-dirac", "gaussian", "mv", "none"):
            raise EngineError(f"unknown smearing {self.smearing!r}; use fermi-dirac, gaussian, mv or none")
        if self.kmesh is None and not self.kspacing > 0:
            raise EngineError(f"k-spacing must be positive (Å^-1), got {self.kspacing}")
        if self.kmesh is not None and (len(self.kmesh) != 3 or any(int(k) < 1 for k in self.kmesh)):
            raise EngineError(f"a k-mesh must be three integers >= 1, got {self.kmesh}")

    @property
    def ecutrho(self) -> float:
        return float(self.ecutrho_ry if self.ecutrho_ry is not None else 4.0 * self.ecutwfc_ry)

    def kpoint_mesh(self, cell: Any) -> tuple[int, int, int]:
        """The Monkhorst-Pack mesh for a cell (Å): ``n_i = max(1, ceil(|b_i| / kspacing))``."""
        if self.kmesh is not None:
            return tuple(int(k) for k in self.kmesh)  # type: ignore[return-value]
        lengths = np.linalg.norm(grid.reciprocal_cell(cell), axis=1)
        return tuple(max(1, math.ceil(length / self.kspacing - 1e-9)) for length in lengths)  # type: ignore

    def replace(self, **changes: Any) -> DFTSettings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ecutrho_ry"] = self.ecutrho
        return out
