"""ELF network topology: percolation thresholds, networking value, molecularity index, components, Tc.

Public API
----------
:func:`networking_analysis`
    t1 >= t2 >= t3 (1-, 2-, 3-D percolation thresholds), phi (= t3) and phi* in one exact sweep.
:func:`percolation_profile`
    Number of components, largest component and dimension versus threshold (one sweep).
:func:`components_at`
    The connected components of ``{ELF >= t}``: label field, sizes, wrap rank and translation lattice of
    each component, atoms per component and the bond graph across periodic images.
:func:`networking_over_frames`
    All of the above for many frames as one Dataset over ``frame`` with pressure/rs/phase coordinates.
:func:`tc_estimate`
    Belli et al. (2021) empirical correlation Tc ~ 750 phi - 85 K for pure hydrogen (~60 K scatter).
:func:`tc_verdict`
    That estimate with its domain: reported for crystals, flagged without crystal provenance, withheld for
    fluids and molecular (no percolating bonding network) or non-hydrogen structures.

Importing this package is light (NumPy/xarray); numba is imported on first use.
"""

from .components import ComponentReport, components_at
from .frames import networking_over_frames
from .network import NetworkAnalysis, networking_analysis, percolation_profile
from .tc import TcEstimate, TcVerdict, tc_estimate, tc_verdict

__all__ = [
    "ComponentReport",
    "NetworkAnalysis",
    "TcEstimate",
    "TcVerdict",
    "components_at",
    "networking_analysis",
    "networking_over_frames",
    "percolation_profile",
    "tc_estimate",
    "tc_verdict",
]
