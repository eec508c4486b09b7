"""Pressure <-> density of solid hydrogen: a monotone interpolation through published points.

:func:`rs_from_pressure` interpolates ln rs against ln P monotonically (PCHIP) through published points
(:data:`EOS_POINTS`): hcp H2 at 5.4 GPa (Hazen et al., PRB 36, 3944 (1987), single-crystal X-ray, 300 K),
the C2/c phase III cell at 300 GPa (DFT; AFLOW's H-III prototype, attributed to Pickard & Needs 2007,
bundled as ``C2c-12`` in :mod:`elfviz.structures`), and atomic
hydrogen at 0.5-3.5 TPa (McMahon & Ceperley, PRL 106, 165302 (2011), DFT with zero-point motion).

Valid from 5.4 GPa to 3.5 TPa; between 5.4 and 300 GPa it rests on two points only, so expect a few
per cent error in rs there. It picks a density for a phase, it does not predict thermodynamics: give
``rs`` directly for quantitative work. A Vinet fit through the same points was tried and rejected (it
misses them by up to 15 % in pressure): mixing a 300 K experiment, molecular and atomic DFT phases in
one analytic form is worse than interpolating.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import StructureError

__all__ = ["EOS_POINTS", "rs_from_pressure", "pressure_from_rs"]

EOS_POINTS = (
    # (pressure GPa, rs bohr, source)
    (5.40, 2.2031167, "hcp H2, V = 26.55 Å^3 per 4 atoms; Hazen et al., PRB 36, 3944 (1987)"),
    (
        300.0,
        1.3294697,
        "C2/c H-III DFT cell (AFLOW A_mC24_15_2e2f, after Pickard & Needs 2007); elfviz C2c-12",
    ),
    (500.0, 1.225, "I4_1/amd onset; McMahon & Ceperley, PRL 106, 165302 (2011)"),
    (1000.0, 1.11, "McMahon & Ceperley (2011)"),
    (2500.0, 0.969, "McMahon & Ceperley (2011), arXiv:1011.5028"),
    (3500.0, 0.92, "McMahon & Ceperley (2011)"),
)
"""Published (pressure, rs) points behind :func:`rs_from_pressure`."""


def _eos_interpolator():
    from scipy.interpolate import PchipInterpolator

    p = np.log([pt[0] for pt in EOS_POINTS])
    r = np.log([pt[1] for pt in EOS_POINTS])
    return PchipInterpolator(p, r)


def rs_from_pressure(pressure_gpa: float) -> float:
    """Wigner-Seitz radius (bohr) of solid hydrogen at a pressure (GPa); see the module docstring.

    Raises
    ------
    StructureError
        Outside 5.4 GPa - 3.5 TPa, where no published point constrains the curve.

    Examples
    --------
    >>> round(rs_from_pressure(300.0), 4)
    1.3295
    """
    p = float(pressure_gpa)
    lo, hi = EOS_POINTS[0][0], EOS_POINTS[-1][0]
    if not (lo <= p <= hi):
        raise StructureError(
            f"pressure {p} GPa is outside the range of elfviz's pressure-density table "
            f"({lo}-{hi} GPa); give the density directly as --rs (bohr)"
        )
    return float(np.exp(_eos_interpolator()(math.log(p))))


def pressure_from_rs(rs: float) -> float:
    """Pressure (GPa) at which solid hydrogen has Wigner-Seitz radius ``rs`` (bohr).

    The exact inverse of :func:`rs_from_pressure` (root of the same monotone interpolant).

    Examples
    --------
    >>> round(pressure_from_rs(1.225))
    500
    """
    r = float(rs)
    lo, hi = EOS_POINTS[-1][1], EOS_POINTS[0][1]
    if not (lo <= r <= hi):
        raise StructureError(
            f"rs = {r} bohr is outside the range of elfviz's pressure-density table ({lo}-{hi:.3f} bohr)"
        )
    from scipy.optimize import brentq

    forward = _eos_interpolator()
    target = math.log(r)
    log_p = brentq(
        lambda x: float(forward(x)) - target,
        math.log(EOS_POINTS[0][0]),
        math.log(EOS_POINTS[-1][0]),
        xtol=1e-14,
        rtol=1e-14,
    )
    return float(np.exp(log_p))
