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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import GridError
from ..grid import keys

SLOPE_K = 750.0
"""Slope of the pure-hydrogen correlation, K per unit phi."""

INTERCEPT_K = -85.0
"""Intercept of the pure-hydrogen correlation, K."""

SCATTER_K = 60.0
"""Typical scatter of the correlation (about one standard deviation), K."""

REFERENCE = "Belli et al., Nat. Commun. 12, 5381 (2021)"

CAVEAT = ("Empirical correlation (Belli et al., Nat. Commun. 12, 5381 (2021)): Tc ~ 750 K * phi * H_f * "
          "H_DOS^(1/3) - 85 K, +/- 60 K scatter across the fitted hydrides, with H_f the hydrogen fraction "
          "and H_DOS the hydrogen share of the density of states at the Fermi level. Pure hydrogen has "
          "H_f = 1 and, only where it is a metal, H_DOS = 1. It is not a prediction of the elfviz model nor "
          "an electron-phonon calculation; it says nothing about whether the phase is metallic or "
          "dynamically stable.")


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


MOLECULAR_GAP = 0.1
"""phi* - phi above which a structure counts as molecular (H2 units persist over that ELF window).

On the bundled DFT frames the gap is 0.66-0.79 for the molecular crystals (C2c-12, C2c-24), 0.32-0.78 for
the liquids and 0.001-0.004 for atomic I4_1/amd, so 0.1 separates molecular from atomic with a wide margin.
"""

Status = Literal["reported", "flagged", "withheld"]


@dataclass(frozen=True)
class TcVerdict:
    """Whether, and with what warning, the Belli et al. (2021) Tc estimate may be shown for one structure.

    Attributes
    ----------
    status : {'reported', 'flagged', 'withheld'}
        ``reported``: a crystal in the correlation's domain, shown with the caveat; ``flagged``: shown, but
        ``reason`` says why it may not apply; ``withheld``: not shown, ``reason`` says why.
    estimate : TcEstimate or None
        None when withheld.
    reason : str
        '' when reported.

    Examples
    --------
    >>> str(TcVerdict("withheld", None, "not applicable: a fluid"))
    'Tc estimate withheld: not applicable: a fluid'
    """

    status: Status
    estimate: TcEstimate | None
    reason: str = ""

    @property
    def shown(self) -> bool:
        """True when there is a number to show (reported or flagged)."""
        return self.estimate is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict: status, reason and the estimate (or None)."""
        return {"status": self.status, "reason": self.reason,
                "estimate": None if self.estimate is None else self.estimate.to_dict()}

    def __str__(self) -> str:
        if self.estimate is None:
            return f"Tc estimate withheld: {self.reason}"
        text = str(self.estimate)
        return text if self.status == "reported" else f"{text} [flagged: {self.reason}]"


def tc_verdict(phi: float, phi_star: float | None = None, attrs: Mapping[str, Any] | None = None, *,
               numbers: Iterable[int] | None = None, field: str = keys.ELF,
               metallic: bool | None = None) -> TcVerdict:
    """The Tc estimate for one structure together with its domain: reported, flagged or withheld.

    The correlation (Belli et al. 2021, :data:`CAVEAT`) was fitted on crystalline metallic hydrides;
    for pure hydrogen ``H_f = H_DOS = 1`` only where it is a metal. The rules, in order:

    1. not an ELF field, or atoms other than H (``numbers``), or ``phi`` outside [0, 1]: **withheld**;
    2. a fluid (``attrs["phase"] == "liquid"``): **withheld**;
    3. ``metallic=False`` (the caller knows it is an insulator): **withheld**;
    4. no percolating bonding network: the structure is molecular, ``phi_star - phi >`` :data:`MOLECULAR_GAP`
       (H2 molecules stay apart from ``phi`` up to ``phi_star``), and the caller has not said it is a metal
       (``metallic=True``): **withheld**, since an insulating molecular phase has no Fermi-level DOS;
    5. no crystal-phase provenance (``attrs`` names no crystal phase, e.g. an uploaded file): **flagged**;
    6. otherwise (an atomic, or declared-metallic, crystal): **reported** with the caveat.

    Parameters
    ----------
    phi : float
        Networking value of the field.
    phi_star : float or None
        Molecularity index (None without atoms: rule 4 cannot apply).
    attrs : mapping, optional
        The structure's attributes (``phase``, ``source``, ``temperature_k`` in K).
    numbers : iterable of int, optional
        Atomic numbers (all must be 1).
    field : str
        Name of the analysed field (must be ``elf``).
    metallic : bool or None
        What the caller knows about the electronic structure (e.g. from a band-structure calculation);
        None: unknown.

    Returns
    -------
    TcVerdict

    Examples
    --------
    >>> tc_verdict(0.661, 0.662, {"phase": "I41amd"}).status              # atomic crystal
    'reported'
    >>> v = tc_verdict(0.309, 0.972, {"phase": "C2c-24"})                # molecular crystal
    >>> v.status, v.reason.split(":")[0]
    ('withheld', 'no percolating bonding network')
    >>> tc_verdict(0.309, 0.972, {"phase": "C2c-24"}, metallic=True).status
    'reported'
    >>> tc_verdict(0.6, 0.9, {"phase": "liquid", "temperature_k": 1500.0}).reason.split(" (")[0]
    'not applicable: this is a fluid at 1500 K'
    >>> tc_verdict(0.661, 0.662, {}).status                               # no provenance
    'flagged'
    """
    attrs = dict(attrs or {})
    if field != keys.ELF:
        return TcVerdict("withheld", None, f"not given for the field '{field}' (the correlation is defined "
                                           "for the ELF)")
    if numbers is not None and any(int(z) != 1 for z in numbers):
        return TcVerdict("withheld", None, "not given: the correlation used (H_f = H_DOS = 1) is for pure "
                                           "hydrogen only")
    try:
        phi = float(phi)
    except (TypeError, ValueError):
        return TcVerdict("withheld", None, f"phi is not a number ({phi!r})")
    if not math.isfinite(phi) or not 0.0 <= phi <= 1.0:
        return TcVerdict("withheld", None, f"phi = {phi} is outside [0, 1]")
    reason = fluid_reason(attrs)
    if reason is not None:
        return TcVerdict("withheld", None, reason)
    if metallic is False:
        return TcVerdict("withheld", None, "not applicable: the structure was declared an insulator (no "
                                           "Fermi-level DOS, so H_DOS = 0)")
    gap = None if phi_star is None or not math.isfinite(float(phi_star)) else float(phi_star) - phi
    if gap is not None and gap > MOLECULAR_GAP and metallic is not True:
        return TcVerdict("withheld", None, (
            f"no percolating bonding network: the structure is molecular (H2 molecules stay apart from "
            f"phi = {phi:.3f} up to phi* = {phi_star:.3f}). Molecular hydrogen is an insulator or poor metal "
            "with no reliable hydrogen DOS at the Fermi level (H_DOS), so the correlation gives no Tc; "
            "if a band-structure calculation shows this phase is a metal, pass metallic=True (CLI: --metallic)"))
    estimate = tc_estimate(phi)
    if not _phase_of(attrs):
        return TcVerdict("flagged", estimate, (
            "this structure carries no crystal-phase provenance; the correlation holds for crystalline "
            "metallic hydrides only"))
    return TcVerdict("reported", estimate, "")


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
