"""Empirical superconducting Tc estimate from the networking value (Belli et al. 2021).

Belli, Novoa, Contreras-Garcia and Errea, "Strong correlation between electronic bonding network and
critical temperature in hydrogen-based superconductors", Nat. Commun. 12, 5381 (2021), fitted Tc of many
hydrogen-based superconductors against the networking value phi, the hydrogen fraction H_f and the
hydrogen share of the density of states at the Fermi level H_DOS. For pure hydrogen (H_f = H_DOS = 1) the
fit reduces to ``Tc ~ 750 phi - 85 K`` with a scatter of about 60 K.

This is an empirical correlation across many compounds, not a prediction of the elfviz model or an
Eliashberg calculation; it is always reported with that caveat and its scatter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import GridError

SLOPE_K = 750.0
"""Slope of the pure-hydrogen correlation, K per unit phi."""

INTERCEPT_K = -85.0
"""Intercept of the pure-hydrogen correlation, K."""

SCATTER_K = 60.0
"""Typical scatter of the correlation (about one standard deviation), K."""

REFERENCE = "Belli et al., Nat. Commun. 12, 5381 (2021)"

CAVEAT = ("Empirical correlation (Belli et al., Nat. Commun. 12, 5381 (2021)), Tc ~ 750*phi - 85 K for pure "
          "hydrogen (H_f = H_DOS = 1), with about 60 K scatter across the fitted compounds. It is not a "
          "prediction of the elfviz model nor an electron-phonon calculation; it says nothing about whether "
          "the phase is metallic or dynamically stable.")


@dataclass(frozen=True)
class TcEstimate:
    """Tc estimate from the networking value, always with its scatter and caveat.

    Attributes
    ----------
    phi : float
        Networking value used.
    tc_k : float
        ``max(750 phi - 85, 0)`` K (the linear fit is negative for phi < 0.113, meaning no Tc expected).
    linear_k : float
        ``750 phi - 85`` K without clipping.
    scatter_k : float
        About 60 K.
    low_k, high_k : float
        ``tc_k -/+ scatter_k``, the low end clipped at 0 K.
    caveat : str
        Text to show next to the number, always.
    """

    phi: float
    tc_k: float
    linear_k: float
    scatter_k: float
    low_k: float
    high_k: float
    caveat: str = CAVEAT
    reference: str = REFERENCE
    formula: str = "Tc ~ 750 K * phi - 85 K (pure hydrogen, H_f = H_DOS = 1)"
    kind: str = "empirical correlation"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {"phi": self.phi, "tc_k": self.tc_k, "linear_k": self.linear_k, "scatter_k": self.scatter_k,
                "low_k": self.low_k, "high_k": self.high_k, "kind": self.kind, "formula": self.formula,
                "reference": self.reference, "caveat": self.caveat}

    def __str__(self) -> str:
        return (f"Tc ~ {self.tc_k:.0f} K +/- {self.scatter_k:.0f} K from phi = {self.phi:.3f} "
                f"({self.kind}, {self.reference}; not a model prediction)")


def tc_estimate(phi: float) -> TcEstimate:
    """Empirical Tc (K) of pure hydrogen from its networking value (Belli et al. 2021).

    Parameters
    ----------
    phi : float
        Networking value (the ELF value at which the bonding network first spans all three directions),
        in [0, 1].

    Returns
    -------
    TcEstimate
        ``tc_k = max(750 phi - 85, 0)`` K with ``scatter_k = 60`` K and the caveat text.

    Raises
    ------
    GridError
        If ``phi`` is not a finite number in [0, 1].

    Examples
    --------
    >>> est = tc_estimate(0.5)
    >>> est.tc_k, est.scatter_k, est.kind
    (290.0, 60.0, 'empirical correlation')
    """
    try:
        phi = float(phi)
    except (TypeError, ValueError):
        raise GridError(f"phi must be a number in [0, 1], got {phi!r}") from None
    if not math.isfinite(phi) or phi < 0.0 or phi > 1.0:
        raise GridError(f"phi must be an ELF value in [0, 1], got {phi}; the Tc correlation is defined for "
                        "the networking value of an ELF field")
    linear = SLOPE_K * phi + INTERCEPT_K
    tc = max(linear, 0.0)
    return TcEstimate(phi=phi, tc_k=tc, linear_k=linear, scatter_k=SCATTER_K,
                      low_k=max(tc - SCATTER_K, 0.0), high_k=tc + SCATTER_K)


def tc_applicability(attrs: dict, known_phases: Iterable[str] = ()) -> tuple[bool, str]:
    """Whether the Belli et al. (2021) Tc correlation may be shown for a structure, and why not.

    The correlation was fitted on crystalline metallic hydrides; it says nothing about a fluid. A
    structure applies only if its provenance names a crystal phase: ``attrs["phase"]`` (or the phase of a
    ``structure:<phase>`` source) is one of ``known_phases``.

    Parameters
    ----------
    attrs : dict
        The structure Dataset's attributes (``phase``, ``source``, ``temperature_k`` in K).
    known_phases : iterable of str
        Crystal phase names (e.g. ``elfviz.structures.PHASES``).

    Returns
    -------
    applies : bool
    reason : str
        Why not ('' when it applies).

    Examples
    --------
    >>> applies, reason = tc_applicability({"phase": "liquid", "temperature_k": 1500.0})
    >>> applies, reason.split(" (")[0]
    (False, 'not applicable: this is a fluid at 1500 K')
    >>> tc_applicability({"phase": "C2c-24"}, known_phases={"C2c-24"})
    (True, '')
    """
    reason = fluid_reason(attrs)
    if reason is not None:
        return False, reason
    if _phase_of(attrs) in set(known_phases):
        return True, ""
    return False, ("not shown: this structure carries no crystal-phase provenance, and the correlation holds "
                   "for crystalline metallic hydrides only")


def fluid_reason(attrs: dict) -> str | None:
    """Why the correlation does not apply to a fluid (liquid MD) frame, or None for any other structure.

    Examples
    --------
    >>> fluid_reason({"phase": "C2c-24"}) is None
    True
    >>> fluid_reason({"phase": "liquid"}).split(" (")[0]
    'not applicable: this is a fluid at 1000+ K'
    """
    if _phase_of(attrs) != "liquid":
        return None
    temperature = attrs.get("temperature_k")
    try:
        at = f" at {float(temperature):.0f} K" if math.isfinite(float(temperature)) else " at 1000+ K"
    except (TypeError, ValueError):
        at = " at 1000+ K"
    return (f"not applicable: this is a fluid{at} (a liquid MD frame), and the correlation was fitted on "
            "crystalline metallic hydrides only")


def _phase_of(attrs: dict) -> str:
    """The phase a structure's attrs name: ``phase``, else the phase of a ``structure:<phase>`` source."""
    phase = str(attrs.get("phase", ""))
    source = str(attrs.get("source", ""))
    if source.startswith("structure:") and not phase:
        phase = source.partition(":")[2]
    return phase
