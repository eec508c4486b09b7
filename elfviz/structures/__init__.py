"""Crystal phases of dense hydrogen, built from published space-group and Wyckoff data.

Phases are named as in the structure-search literature, ``<space group>-<atoms in the primitive
cell>`` (Pickard & Needs, Nat. Phys. 3, 473 (2007)): ``Cmca-4`` has 4 atoms per primitive cell (8 in
its C-centred conventional cell). :func:`build_phase` builds a phase with
:func:`ase.spacegroup.crystal`, returns its primitive cell (so the atom count matches the name; ask for
``cell="conventional"`` to get the conventional one), scales it to a requested Wigner-Seitz radius
``rs`` (bohr) or pressure (GPa), and repeats it into a supercell.

Data bundled
------------
The records, with their sources and checks, live in :mod:`elfviz.structures.data`.

``C2c-12``
    The phase III (H-III) cell of the AFLOW Library of Crystallographic Prototypes (prototype
    ``A_mC24_15_2e2f``; Hicks et al., Comput. Mater. Sci. 161, S1 (2019)), DFT at 300 GPa, which AFLOW
    attributes to Pickard & Needs (2007): C2/c (No. 15), a = 4.939 Å, b = 2.811 Å, c = 4.139 Å,
    beta = 142.47°, H on 4e (0, 0.1012, 1/4), 4e (0, 0.3684, 1/4), 8f (0.226, 0.0672, 0.2464),
    8f (0.3443, 0.1958, 0.2227). 24 atoms in the conventional cell, **12 in the primitive cell** (AFLOW's
    own prototype list says 12): it is not the 24-atom C2/c-24 of Pickard & Needs, so elfviz names it by
    what it is. H2 bonds 0.751 and 0.757 Å, rs = 1.329 bohr.

``C2c-24``
    The 24-atom C2/c phase III candidate of Pickard & Needs: four layers of flat-lying H2 molecules,
    built as in the public builder ``make_c2c`` of Paul-St-Young/solid_hydrogen (``qharv_db/ase_md.py``),
    with the atomic positions relaxed at fixed cell by our own PBE calculation at rs 1.38 bohr
    (``python -m elfviz.cli.programs.crystal_fit c2c24``). Not a published coordinate set: see its record.

``I41amd``
    Atomic Cs-IV-type I4_1/amd (H on 4a, 2 atoms per primitive cell, each 4-coordinated; McMahon &
    Ceperley 2011). Its only free parameter, c/a, is our own PBE energy minimum at rs 1.23 bohr
    (``python -m elfviz.cli.programs.crystal_fit i41amd``); the cell scales uniformly, keeping c/a.

``Cmca-12``, ``Cmca-4``
    Cmca (No. 64), H on 3 x 8f and on 8f: 24 and 8 atoms in the C-centred conventional cell, **12 and 4 in the
    primitive cell**, layers of H2 in the mirror planes (Pickard & Needs 2007, as quoted, not checked against
    the paper: Cmca-12 stable at about 270-385 GPa, Cmca-4 above about 385 GPa). Started from public relaxed
    CASTEP cells (github.com/jrjturnbull/SummerProject, commit b4300387, 2020, 30 GPa external pressure) and
    relaxed by our own PBE calculation in cell shape and positions at fixed rs 1.30 bohr
    (``python -m elfviz.cli.programs.crystal_fit cmca12`` / ``cmca4``): 342.6 and 327.8 GPa, bonds 0.762-0.783 and
    0.815 Å. Not a coordinate set from the paper: see their records (Cmca-4 is a local minimum, above the near-Fmmm
    structure of our earlier idealised-start search).

``P63m-16``
    Listed (space group, source) but **not bundled**: its Wyckoff parameters could not be checked
    against a publication, and elfviz does not ship unchecked coordinates. :func:`build_phase` says so
    and what was searched; add data with :func:`register_phase` (or read a CIF with
    :func:`elfviz.io.read`).

Scaling
-------
Molecular phases compress *between* molecules, not within them: the molecular centres follow the cell
(fixed fractional coordinates) and every intramolecular vector keeps its published length and
direction. Atomic phases scale uniformly. A molecular phase compressed until molecules come closer
than their bond length is refused.

Pressure to rs
--------------
``pressure_gpa`` is converted with :func:`elfviz.structures.eos.rs_from_pressure`, an interpolation through
published points; see :mod:`elfviz.structures.eos` for its sources and validity (5.4 GPa - 3.5 TPa).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import StructureError
from ..grid import BOHR_ANGSTROM, keys
from .data import PHASE_RECORDS
from .eos import EOS_POINTS, pressure_from_rs, rs_from_pressure
from .molecules import MOLECULE_CUTOFF, closest_intermolecular, find_molecules, scale_molecular

log = logging.getLogger(__name__)

__all__ = [
    "PHASES",
    "Phase",
    "build_phase",
    "get_phase",
    "available_phases",
    "register_phase",
    "find_molecules",
    "MOLECULE_CUTOFF",
    "rs_from_pressure",
    "pressure_from_rs",
    "EOS_POINTS",
]


@dataclass(frozen=True)
class Phase:
    """A crystal phase: space group, Wyckoff basis and cell at a reference pressure.

    Attributes
    ----------
    name : str
        elfviz name, e.g. ``"C2c-24"``.
    space_group : str
        Hermann-Mauguin symbol.
    space_group_number : int
        International Tables number.
    n_atoms : int
        Atoms in the primitive cell (the number in the name), which :func:`build_phase` returns.
    molecular : bool
        Whether the phase consists of H2 molecules.
    source : str
        Citation of the data.
    pressure_gpa : float or None
        Pressure at which the published structure was computed or measured.
    pressure_range_gpa : (float, float) or None
        Pressure range where the source finds the phase stable (informative, not enforced);
        ``None`` where elfviz does not bundle it.
    cellpar : tuple of 6 floats or None
        a, b, c (Å), alpha, beta, gamma (degrees); ``None`` if the data are not bundled.
    basis : tuple of (x, y, z) or None
        Fractional coordinates of the Wyckoff representatives.
    setting : int
        ASE space-group setting (1 or 2, the origin choice).
    notes : str
        What the structure is, and how it was checked.
    missing : str
        Why the coordinates are not bundled (empty when they are).
    """

    name: str
    space_group: str
    space_group_number: int
    n_atoms: int
    molecular: bool
    source: str
    pressure_gpa: float | None = None
    pressure_range_gpa: tuple[float, float] | None = None
    cellpar: tuple[float, ...] | None = None
    basis: tuple[tuple[float, float, float], ...] | None = None
    setting: int = 1
    notes: str = field(default="")
    missing: str = field(default="")

    @property
    def available(self) -> bool:
        """Whether the Wyckoff data are bundled, so that :func:`build_phase` can build the phase."""
        return self.cellpar is not None and self.basis is not None and not self.missing

    @property
    def rs_reference(self) -> float | None:
        """rs (bohr) of the published cell, ``None`` if not bundled."""
        if not self.available:
            return None
        from ase.spacegroup import crystal

        atoms = _crystal(self, crystal)
        return _rs_of(atoms)

    @property
    def rs_range(self) -> tuple[float, float] | None:
        """rs range (bohr) of ``pressure_range_gpa`` by :func:`rs_from_pressure` (clipped), or None."""
        if self.pressure_range_gpa is None:
            return None
        lo, hi = self.pressure_range_gpa
        lo_c = min(max(lo, EOS_POINTS[0][0]), EOS_POINTS[-1][0])
        hi_c = min(max(hi, EOS_POINTS[0][0]), EOS_POINTS[-1][0])
        return (rs_from_pressure(hi_c), rs_from_pressure(lo_c))


PHASES: dict[str, Phase] = {}
"""All known phases by name (some without bundled coordinates; see :attr:`Phase.available`)."""


def register_phase(phase: Phase, *, replace: bool = False, check: bool = True) -> Phase:
    """Add a phase (e.g. with coordinates from a publication you checked) to :data:`PHASES`.

    With ``check`` (default) the published cell is built once and refused with a
    :class:`StructureError` unless its primitive cell holds ``n_atoms`` atoms and, for a molecular
    phase, every atom has one H2 partner with bonds of 0.6-0.9 Å and no atom of another molecule is
    as close as a bond. (The bundled records are checked more strictly by the test suite.)
    """
    if phase.name in PHASES and not replace and PHASES[phase.name].available:
        raise StructureError(f"phase {phase.name!r} is already registered; pass replace=True to replace it")
    if phase.available and len(phase.cellpar) != 6:
        raise StructureError("cellpar must be (a, b, c, alpha, beta, gamma)")
    if phase.available and check:
        _check_published_cell(phase)
    PHASES[phase.name] = phase
    return phase


def _check_published_cell(phase: Phase) -> None:
    from ase.spacegroup import crystal

    atoms = _crystal(phase, crystal)
    if len(atoms) != phase.n_atoms:
        raise StructureError(
            f"{phase.name}: the Wyckoff data give {len(atoms)} atoms in the primitive cell, but n_atoms is "
            f"{phase.n_atoms}; check the positions, the space-group setting and the atom count"
        )
    if phase.molecular:
        molecules = find_molecules(atoms)
        bonds = [float(np.linalg.norm(v)) for _, _, v in molecules]
        if not (0.6 <= min(bonds) and max(bonds) <= 0.9):
            raise StructureError(
                f"{phase.name}: H2 bonds of {min(bonds):.3f}-{max(bonds):.3f} Å are outside 0.6-0.9 Å; "
                "check the fractional coordinates"
            )
        closest = closest_intermolecular(atoms, molecules)
        if closest <= max(bonds):
            raise StructureError(
                f"{phase.name}: atoms of different molecules are {closest:.3f} Å apart, no farther than a "
                "bond; check the fractional coordinates"
            )


for _record in PHASE_RECORDS:
    register_phase(Phase(**_record), check=False)  # checked in tests/test_structures.py
del _record


# ----------------------------------------------------------------------------- building
def _crystal(phase: Phase, crystal, primitive: bool = True):
    return crystal(
        ["H"] * len(phase.basis),
        basis=list(phase.basis),
        spacegroup=phase.space_group_number,
        cellpar=list(phase.cellpar),
        setting=phase.setting,
        primitive_cell=primitive,
    )


def _rs_of(atoms) -> float:
    volume_bohr3 = atoms.cell.volume / BOHR_ANGSTROM**3
    return float((3.0 * volume_bohr3 / (4.0 * math.pi * len(atoms))) ** (1.0 / 3.0))


def build_phase(
    name: str,
    rs: float | None = None,
    pressure_gpa: float | None = None,
    supercell=(1, 1, 1),
    *,
    cell: str = "primitive",
):
    """Build a hydrogen phase at a given density, optionally as a supercell.

    Parameters
    ----------
    name : str
        A key of :data:`PHASES` (case-insensitive; ``C2/c-12`` and ``c2c-12`` both work).
    rs : float, optional
        Wigner-Seitz radius in bohr. Default: the published cell.
    pressure_gpa : float, optional
        Pressure (GPa), converted to rs with :func:`rs_from_pressure` (give ``rs`` or this, not both).
    supercell : int or (int, int, int)
        Repetitions along a, b, c (of the cell chosen by ``cell``).
    cell : {"primitive", "conventional"}
        The primitive cell (default; as many atoms as the name says) or the conventional
        (centred) cell of the space group, which is larger for C- and I-centred phases.

    Returns
    -------
    ase.Atoms
        Periodic structure; ``info`` holds ``phase``, ``rs_bohr``, ``space_group``, ``source``,
        ``cell`` and ``pressure_gpa`` when a pressure was given.

    Raises
    ------
    StructureError
        Unknown phase, data not bundled, bad density, or a molecular phase squeezed so much that
        molecules overlap.

    Examples
    --------
    >>> atoms = build_phase("C2c-12", rs=1.38)
    >>> len(atoms), round(atoms.info["rs_bohr"], 6)
    (12, 1.38)
    >>> len(build_phase("C2c-12", rs=1.38, cell="conventional"))
    24
    """
    from ase.spacegroup import crystal

    phase = get_phase(name)
    if not phase.available:
        reason = phase.missing or "no coordinates were given"
        raise StructureError(
            f"phase {phase.name} ({phase.space_group}) is listed but its Wyckoff data are not bundled "
            f"with elfviz: {reason} (source: {phase.source}; what was searched: "
            "elfviz.structures.data.SEARCHED). Read a CIF of it instead "
            "(elfviz.io.read) or add checked data with elfviz.structures.register_phase. "
            "Bundled phases: " + ", ".join(available_phases())
        )
    if cell not in ("primitive", "conventional"):
        raise StructureError(f"cell must be 'primitive' or 'conventional', got {cell!r}")
    if rs is not None and pressure_gpa is not None:
        raise StructureError("give either rs (bohr) or a pressure (GPa), not both")
    repeat = _check_supercell(supercell)
    atoms = _crystal(phase, crystal, primitive=cell == "primitive")
    if cell == "primitive" and len(atoms) != phase.n_atoms:
        raise StructureError(
            f"the data of {phase.name} give {len(atoms)} atoms in the primitive cell, not {phase.n_atoms}: "
            "check its Wyckoff positions and space-group setting"
        )
    rs_ref = _rs_of(atoms)
    if pressure_gpa is not None:
        rs = rs_from_pressure(pressure_gpa)
    target = rs_ref if rs is None else float(rs)
    if not (math.isfinite(target) and target > 0):
        raise StructureError(f"rs must be a positive number of bohr, got {rs}")
    factor = target / rs_ref
    if phase.molecular:
        atoms = scale_molecular(atoms, factor, phase.name)
    else:
        atoms.set_cell(atoms.cell.array * factor, scale_atoms=True)
    atoms.pbc = True
    atoms = atoms.repeat(repeat)
    for key in ("spacegroup", "unit_cell"):  # ASE objects that structure writers cannot serialise
        atoms.info.pop(key, None)
    rs_range = phase.rs_range
    if rs_range is not None and not (rs_range[0] * 0.97 <= target <= rs_range[1] * 1.03):
        log.warning(
            "%s at rs = %.3f bohr is outside the range where its source finds it stable (rs %.2f-%.2f)",
            phase.name,
            target,
            *rs_range,
        )
    atoms.info.update(
        {
            "phase": phase.name,
            "rs_bohr": _rs_of(atoms),
            "space_group": phase.space_group,
            "source": phase.source,
            keys.CELL: cell,
        }
    )
    if pressure_gpa is not None:
        atoms.info["pressure_gpa"] = float(pressure_gpa)
    return atoms


def _check_supercell(supercell) -> tuple[int, int, int]:
    if isinstance(supercell, (int, np.integer)):
        supercell = (int(supercell),) * 3
    try:
        reps = tuple(int(n) for n in supercell)
    except (TypeError, ValueError):
        raise StructureError(
            f"supercell must be three positive integers like 2,2,2, got {supercell!r}"
        ) from None
    if (
        len(reps) != 3
        or min(reps) < 1
        or any(float(n) != float(m) for n, m in zip(reps, supercell, strict=True))
    ):
        raise StructureError(f"supercell must be three positive integers like 2,2,2, got {supercell!r}")
    return reps  # type: ignore[return-value]


def _normalise(name: str) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def get_phase(name: str) -> Phase:
    """The :class:`Phase` record for a name (case, ``/``, ``_`` and ``-`` are ignored)."""
    key = _normalise(name)
    for phase in PHASES.values():
        if _normalise(phase.name) == key:
            return phase
    raise StructureError(f"unknown phase {name!r}; known phases: {', '.join(PHASES)}")


def available_phases() -> list[str]:
    """Names of the phases whose coordinates are bundled."""
    return [name for name, phase in PHASES.items() if phase.available]
