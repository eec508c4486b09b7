"""Reproduce the DFT-derived crystal parameters bundled in :mod:`elfviz.structures.data`.

Some phases of dense hydrogen have no published coordinates that elfviz could check; for those the
bundled numbers come from our own PBE calculations with Quantum ESPRESSO (pw.x), and this module is
the recipe. Settings are the reference convention of elfviz (:class:`elfviz.reference.settings.DFTSettings`:
PBE, norm-conserving H pseudopotential, 60 Ry, Fermi-Dirac 0.02 Ry); pw.x runs with its symmetry
analysis on (unlike the ELF runs of :mod:`elfviz.reference.qe`), which makes the dense k-meshes cheap.

``i41amd``
    I4_1/amd (Cs-IV type, H on 4a, 2 atoms per primitive cell): scan c/a at fixed volume (rs 1.23 bohr,
    ~500 GPa, where McMahon & Ceperley PRL 106, 165302 (2011) find it stable), k-spacing 0.25 Å^-1,
    and fit a parabola to the lowest points: :func:`scan_i41amd`, :func:`fit_minimum`.
``c2c24``
    C2/c-24: relax the atomic positions of the idealised starting cell of :mod:`elfviz.structures.data`
    at fixed cell (BFGS, forces below 1e-3 Ry/bohr, k-spacing 0.4 Å^-1, rs 1.38): :func:`relax_positions`.

``cmca12``, ``cmca4``
    Cmca-12 and Cmca-4 (Cmca, H on 3 x 8f and 1 x 8f; 12 and 4 atoms per primitive cell): relax the cell
    shape and the atomic positions at fixed volume (ASE BFGS with the symmetry fixed, one pw.x scf per step,
    k-spacing 0.3 Å^-1, rs 1.30) from the public relaxed CASTEP cells :data:`PUBLISHED_CELLS` moved to rs 1.30
    with rigid molecules (:func:`published_start`, :func:`relax_shape`); print the numbers of the phase
    record. (They replace an earlier search from idealised layered starts, which could not pin Cmca-4 down.)

Run ``python -m elfviz.cli.programs.crystal_fit i41amd`` (a few minutes on one core), ``... cmca4`` (similar),
``... cmca12`` or ``... c2c24`` (longer); each prints the numbers to paste into :mod:`elfviz.structures.data`.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import EngineError
from ..structures.data import CMCA_PUBLIC_CELLS

log = logging.getLogger(__name__)

__all__ = [
    "i41amd_cell",
    "c2c24_start",
    "wyckoff_record",
    "pw_text",
    "run_pw",
    "pressure_gpa",
    "scan_i41amd",
    "fit_minimum",
    "relax_positions",
    "published_start",
    "PUBLISHED_CELLS",
    "relax_shape",
]

RY_EV = 13.605693122994
I41AMD_RS = 1.23
I41AMD_KSPACING = 0.25
C2C24_RS = 1.38
C2C24_KSPACING = 0.4
CMCA_RS = 1.30
CMCA_KSPACING = 0.3

PUBLISHED_CELLS = {
    "Cmca-12": {
        "cellpar": (3.19229788776391, 5.97163223130809, 3.49448556277361, 90.0, 90.0, 90.0),
        "basis": (
            (0.0, 0.006309704599607, 0.106399807043751),
            (0.0, 0.134976221311707, 0.467052895246428),
            (0.0, 0.237743451741483, 0.347291061614219),
        ),
        "source": CMCA_PUBLIC_CELLS + ", PROJECT/Cmca-12/relax/Cmca-12.cell (CASTEP 18.1 cell of 14 Aug 2020, PBE, "
        "30 GPa external pressure, 24 atoms in the conventional cell)",
    },
    "Cmca-4": {
        "cellpar": (2.84492451302610, 2.81475669370081, 2.83368190128028, 90.0, 90.0, 90.0),
        "basis": ((0.0, 0.405646566718671, 0.410752649023646),),
        "source": CMCA_PUBLIC_CELLS + ", PROJECT/Cmca4/relax/Cmca4.cell (CASTEP cell of 31 Jul 2020, PBE, 30 GPa "
        "external pressure, 8 atoms in the conventional cell)",
    },
}
"""Public relaxed CASTEP cells of Cmca-12 and Cmca-4 (Cmca, H on 8f): the lattice lengths (Å) of the
conventional cell and, as Wyckoff representatives, rows of the file's fractional coordinates (which
:func:`ase.spacegroup.crystal` turns back into the file's 24 and 8 atoms, to 1e-7, up to a translation).
The cells are the starts of the bundled relaxations (:func:`published_start`)."""


def i41amd_cell(c_over_a: float, rs: float = I41AMD_RS, *, conventional: bool = False):
    """I4_1/amd hydrogen (Cs-IV type, 4a) at a given c/a and rs (bohr).

    The 2-atom primitive cell, or with ``conventional`` the 4-atom tetragonal cell, whose k-meshes
    from a k-spacing keep the tetragonal symmetry (pw.x then needs far fewer k-points than for the
    body-centred primitive cell with an uneven mesh).

    Examples
    --------
    >>> atoms = i41amd_cell(2.5, rs=1.23)
    >>> len(atoms), round(float(atoms.cell.volume) / 2, 4)   # Å^3 per atom = 4/3 π (1.23 bohr)^3
    (2, 1.1551)
    >>> len(i41amd_cell(2.5, conventional=True))
    4
    """
    from ase.spacegroup import crystal

    from ..grid import BOHR_ANGSTROM

    if not (c_over_a > 0 and rs > 0):
        raise EngineError(f"c/a and rs must be positive, got {c_over_a}, {rs}")
    volume_conventional = 4 * (4.0 / 3.0) * math.pi * (rs * BOHR_ANGSTROM) ** 3
    a = (volume_conventional / c_over_a) ** (1.0 / 3.0)
    atoms = crystal(
        ["H"],
        basis=[(0.0, 0.75, 0.125)],
        spacegroup=141,
        setting=2,
        cellpar=[a, a, c_over_a * a, 90, 90, 90],
        primitive_cell=not conventional,
    )
    for key in ("spacegroup", "unit_cell"):
        atoms.info.pop(key, None)
    return atoms


# Layer stacking of the idealised C2/c-24 cell: (shift of the layer in units of the triangular lattice,
# in-plane angles of its three molecules in degrees); after make_c2c in Paul-St-Young/solid_hydrogen,
# qharv_db/ase_md.py (commit 02bec487d032d2b13f9ca61bf10656739f0a7e11), Y. Yang's QMC studies of phase III.
_C2C24_LAYERS = (
    ((0.0, 0.0), (90.0, -30.0, 30.0)),
    ((1 / 3, 2 / 3), (90.0, 30.0, -30.0)),
    ((1.0, 1.0), (90.0, -30.0, 30.0)),
    ((1 / 3, -1 / 3), (90.0, 30.0, -30.0)),
)
# its example cell (a = 1.79 Å between molecular centres, layer spacing c/2 = 1.35 Å, "c2c-p200"), whose
# shape elfviz keeps when it scales the cell to another rs
_C2C24_A, _C2C24_C = 1.79, 2.7


def c2c24_start(rs: float = C2C24_RS, bond: float = 0.74):
    """Idealised C2/c-24 hydrogen (24 atoms, primitive): the starting point of the bundled relaxation.

    Four layers of H2 molecules lying flat on a triangular lattice of molecular centres, three
    molecules per layer in a √3 x √3 cell, turned by 90°, ±30° and shifted layer by layer, as in the
    public builder ``make_c2c`` of Paul-St-Young/solid_hydrogen (``qharv_db/ase_md.py``). The cell of its
    example (a = 1.79 Å, c = 2.7 Å) is scaled uniformly to ``rs`` (bohr); the bond stays ``bond`` (Å).

    Examples
    --------
    >>> atoms = c2c24_start(1.38)
    >>> len(atoms), round(_rs(atoms), 6)
    (24, 1.38)
    """

    if not (rs > 0 and 0 < bond < 1.2):
        raise EngineError(f"rs must be positive and the bond 0-1.2 Å, got {rs}, {bond}")
    scale = rs / _rs(_c2c24_cell(_C2C24_A, _C2C24_C, bond))
    return _c2c24_cell(_C2C24_A * scale, _C2C24_C * scale, bond)


def _c2c24_cell(a: float, c: float, bond: float):
    from ase import Atoms

    triangular = a * np.array([[1.0, 0.0], [-0.5, math.sqrt(3) / 2]])
    in_plane = math.sqrt(3) * a * np.array([[math.sqrt(3) / 2, -0.5], [math.sqrt(3) / 2, 0.5]])
    centres = np.array([[0.0, 0.0], [1 / 3, 1 / 3], [2 / 3, 2 / 3]]) @ in_plane
    positions = []
    for layer, (shift, angles) in enumerate(_C2C24_LAYERS):
        theta = np.radians(angles)
        half = 0.5 * bond * np.column_stack([np.cos(theta), np.sin(theta)])
        for centre, h in zip(centres + np.asarray(shift) @ triangular, half, strict=True):
            positions += [[*(centre - h), layer * c / 2], [*(centre + h), layer * c / 2]]
    cell = np.zeros((3, 3))
    cell[:2, :2] = in_plane
    cell[2, 2] = 2 * c
    atoms = Atoms(f"H{len(positions)}", positions=positions, cell=cell, pbc=True)
    atoms.wrap()
    return atoms


def _rs(atoms) -> float:
    from ..grid import BOHR_ANGSTROM

    return float((3 * atoms.cell.volume / BOHR_ANGSTROM**3 / (4 * math.pi * len(atoms))) ** (1 / 3))


def wyckoff_record(atoms, space_group_number: int, symprec: float = 0.01) -> dict:
    """Conventional cell and Wyckoff representatives of a relaxed structure, for elfviz.structures.data.

    spglib standardises the cell (symmetrised positions) at ``symprec`` (Å) and must find
    ``space_group_number``; returns ``{"cellpar": (a, b, c, alpha, beta, gamma), "basis": ((x, y, z), ...),
    "wyckoffs": "..."}`` that :func:`ase.spacegroup.crystal` turns back into the structure.
    """
    import spglib
    from ase.geometry import cell_to_cellpar

    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    if dataset is None or int(dataset.number) != space_group_number:
        found = None if dataset is None else f"{dataset.international} ({dataset.number})"
        raise EngineError(f"spglib finds {found} at {symprec} Å, not space group {space_group_number}")
    std = (dataset.std_lattice, dataset.std_positions % 1.0, dataset.std_types)
    std_dataset = spglib.get_symmetry_dataset(std, symprec=1e-5)
    representatives = sorted(set(int(i) for i in std_dataset.equivalent_atoms))
    return {
        "cellpar": tuple(round(float(x), 6) for x in cell_to_cellpar(dataset.std_lattice)),
        "basis": tuple(tuple(round(float(x), 6) for x in std[1][i]) for i in representatives),
        "wyckoffs": "".join(std_dataset.wyckoffs[i] for i in representatives),
    }


def pressure_gpa(output: str) -> float:
    """The last pressure (GPa) printed by pw.x (``tstress``)."""
    found = re.findall(r"P=\s*(-?[\d.]+)", output)
    if not found:
        raise EngineError("no pressure in the pw.x output (tstress off?)")
    return float(found[-1]) / 10.0


def pw_text(
    atoms,
    *,
    kspacing: float,
    calculation: str = "scf",
    ecutwfc_ry: float = 60.0,
    degauss_ry: float = 0.02,
    forc_conv_thr: float = 1e-3,
    pseudo_file: str = "H.UPF",
) -> str:
    """pw.x input (symmetry on, fractional positions) for a hydrogen cell in the elfviz convention.

    ``calculation`` is ``"scf"`` (energy, forces and stress) or ``"relax"`` (positions, fixed cell). Cell
    relaxations run in ASE on top of ``"scf"`` (:func:`relax_shape`): the ``vc-relax`` of Debian's
    pw.x 6.7 crashes (SIGSEGV) when it rebuilds the cell.
    """
    if calculation not in ("scf", "relax"):
        raise EngineError(f"calculation must be 'scf' or 'relax', got {calculation!r}")
    from .qe import pw_input
    from .settings import DFTSettings

    settings = DFTSettings(ecutwfc_ry=ecutwfc_ry, ecutrho_ry=4 * ecutwfc_ry, smearing="fermi-dirac",
                           degauss_ry=degauss_ry, kspacing=kspacing, kshift=False, conv_thr_ry_per_atom=1e-9,
                           mixing_beta=0.5)
    return pw_input(atoms.cell.array, atoms.positions, settings, fft_shape=None,
                    kmesh=settings.kpoint_mesh(atoms.cell.array), pseudo_file=pseudo_file, prefix="fit",
                    calculation=calculation, extra_control=f"forc_conv_thr = {forc_conv_thr:.3e}, nstep = 200",
                    extra_ions="ion_dynamics = 'bfgs'", symmetry=True, fractional=True, disk_io="none")


def run_pw(
    text: str,
    *,
    workdir: str | Path | None = None,
    nice: int = 10,
    timeout: float | None = None,
    keep: bool = False,
) -> str:
    """Run pw.x (one process, ``nice``) on an input text; return its output text.

    The run happens in a fresh temporary directory (under ``workdir`` if given), whose ``pw.out`` grows
    while pw.x runs; ``keep`` leaves the directory in place afterwards.
    """
    from .pseudo import find_pseudopotential
    from .qe import find_executable, run_program

    pw = find_executable("pw.x")
    tmp = Path(tempfile.mkdtemp(prefix="elfviz-fit-", dir=workdir))
    log.info("pw.x runs in %s", tmp)
    try:
        shutil.copy(find_pseudopotential(), tmp / "H.UPF")
        (tmp / "pw.in").write_text(text)
        # the reference runner keeps the caller's environment (PATH, conda's libraries, MPI settings)
        command = ["nice", "-n", str(nice), pw] if nice else [pw]
        run_program(command, tmp / "pw.in", tmp / "pw.out", tmp, timeout=timeout)
        output = (tmp / "pw.out").read_text(errors="replace")
        if "JOB DONE" not in output:
            raise EngineError(f"pw.x did not finish: {output[-1500:]}")
        return output
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _energy_ry(output: str) -> float:
    found = re.findall(r"^!\s+total energy\s+=\s+(-?[\d.]+)\s+Ry", output, re.M)
    if not found:
        raise EngineError("no converged total energy in the pw.x output")
    return float(found[-1])


def scan_i41amd(c_over_a_values, *, rs: float = I41AMD_RS, kspacing: float = I41AMD_KSPACING) -> np.ndarray:
    """Total (free) energies in eV per atom of I4_1/amd hydrogen at fixed rs over c/a values."""
    energies = []
    for ratio in c_over_a_values:
        atoms = i41amd_cell(float(ratio), rs, conventional=True)
        energy = _energy_ry(run_pw(pw_text(atoms, kspacing=kspacing))) * RY_EV / len(atoms)
        log.info("I4_1/amd c/a = %.4f: E = %.6f eV/atom", ratio, energy)
        print(f"c/a = {ratio:.4f}  k-spacing {kspacing} 1/Å  E = {energy:.6f} eV/atom", flush=True)
        energies.append(energy)
    return np.array(energies)


def fit_minimum(x, energies, n_points: int = 5) -> tuple[float, float]:
    """Minimum (x, E) of a parabola through the ``n_points`` lowest-energy points.

    Raises :class:`EngineError` if the lowest point lies at an end of the scan (extend the scan).

    Examples
    --------
    >>> x = np.linspace(2.0, 3.0, 11)
    >>> xmin, emin = fit_minimum(x, 0.3 * (x - 2.43) ** 2 - 1.0)
    >>> round(xmin, 6), round(emin, 6)
    (2.43, -1.0)
    """
    x = np.asarray(x, dtype=float)
    energies = np.asarray(energies, dtype=float)
    order = np.argsort(x)
    x, energies = x[order], energies[order]
    lowest = int(np.argmin(energies))
    if lowest in (0, len(x) - 1):
        raise EngineError(
            f"the lowest energy is at the end of the scan (x = {x[lowest]:.4f}); extend the scan"
        )
    chosen = np.argsort(energies)[: max(3, min(n_points, len(x)))]
    c2, c1, c0 = np.polyfit(x[chosen], energies[chosen], 2)
    if c2 <= 0:
        raise EngineError("the energies near the minimum are not convex; refine the scan")
    xmin = -c1 / (2 * c2)
    return float(xmin), float(c0 - c1**2 / (4 * c2))


def relax_positions(
    atoms,
    *,
    kspacing: float = C2C24_KSPACING,
    forc_conv_thr: float = 1e-3,
    timeout: float | None = None,
    workdir: str | Path | None = None,
):
    """Relax atomic positions at fixed cell with pw.x (BFGS); return the relaxed copy and the output text."""
    output = run_pw(
        pw_text(atoms, kspacing=kspacing, calculation="relax", forc_conv_thr=forc_conv_thr),
        timeout=timeout,
        workdir=workdir,
    )
    block = re.search(r"Begin final coordinates(.*?)End final coordinates", output, re.S)
    if block is None:
        raise EngineError("pw.x did not finish the relaxation (no final coordinates)")
    rows = re.findall(r"^H\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)", block.group(1), re.M)
    relaxed = atoms.copy()
    relaxed.set_scaled_positions(np.array(rows, dtype=float))
    return relaxed, output


def published_start(name: str, rs: float = CMCA_RS):
    """A public cell of :data:`PUBLISHED_CELLS` (primitive cell) moved to ``rs`` (bohr) with rigid molecules.

    The start of the bundled Cmca-12 and Cmca-4 relaxations: the published cell is built with
    :func:`ase.spacegroup.crystal` and scaled with :func:`elfviz.structures.molecules.scale_molecular`
    (molecular centres follow the cell, H2 bonds keep their published length), which keeps Cmca.

    Examples
    --------
    >>> atoms = published_start("Cmca-12", 1.30)
    >>> len(atoms), round(_rs(atoms), 6)
    (12, 1.3)
    >>> len(published_start("Cmca-4", 1.45))
    4
    """
    from ase.spacegroup import crystal

    from ..structures.molecules import scale_molecular

    if name not in PUBLISHED_CELLS:
        raise EngineError(f"no published cell for {name!r}; known: {', '.join(PUBLISHED_CELLS)}")
    if not rs > 0:
        raise EngineError(f"rs must be a positive number of bohr, got {rs}")
    record = PUBLISHED_CELLS[name]
    atoms = crystal(["H"] * len(record["basis"]), basis=list(record["basis"]), spacegroup=64,
                    cellpar=list(record["cellpar"]), primitive_cell=True)
    for key in ("spacegroup", "unit_cell"):
        atoms.info.pop(key, None)
    return scale_molecular(atoms, rs / _rs(atoms), name)


def parse_forces_stress(output: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Free energy (eV), forces (eV/Å, Cartesian, ``(N, 3)``) and stress (eV/Å^3, ASE sign: negative
    under compression, 3x3) from a pw.x ``scf`` output with ``tprnfor`` and ``tstress``."""
    from ..grid import BOHR_ANGSTROM

    energy = _energy_ry(output) * RY_EV
    forces = re.findall(
        r"^\s*atom\s+\d+\s+type\s+\d+\s+force\s+=\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)", output, re.M
    )
    block = re.search(r"total\s+stress\s+\(Ry/bohr\*\*3\).*?\n((?:.*\n){3})", output)
    if not forces or block is None:
        raise EngineError("no forces or stress in the pw.x output (tprnfor/tstress off?)")
    n_atoms = int(re.search(r"number of atoms/cell\s*=\s*(\d+)", output).group(1))
    stress = np.array([[float(v) for v in row.split()[:3]] for row in block.group(1).splitlines()])
    forces = np.array(forces[:n_atoms], dtype=float) * (RY_EV / BOHR_ANGSTROM)
    return energy, forces, -stress * (RY_EV / BOHR_ANGSTROM**3)


def pw_calculator(kspacing: float, workdir: str | Path | None = None):
    """An ASE calculator that runs one pw.x ``scf`` (elfviz settings, symmetry on) per geometry."""
    from ase.calculators.calculator import Calculator, all_changes
    from ase.stress import full_3x3_to_voigt_6_stress

    class PwScf(Calculator):
        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            output = run_pw(pw_text(self.atoms, kspacing=kspacing), workdir=workdir)
            energy, forces, stress = parse_forces_stress(output)
            self.results = {
                "energy": energy,
                "free_energy": energy,
                "forces": forces,
                "stress": full_3x3_to_voigt_6_stress(stress),
            }

    return PwScf()


def relax_shape(
    atoms,
    *,
    kspacing: float = CMCA_KSPACING,
    fmax: float = 0.01,
    max_steps: int = 60,
    workdir: str | Path | None = None,
    trajectory: str | Path | None = None,
):
    """Relax positions and cell shape at fixed volume (fixed rs), keeping the space group.

    ASE BFGS on a :class:`ase.filters.FrechetCellFilter` (``constant_volume=True``) with
    :class:`ase.constraints.FixSymmetry`; energies, forces and stresses from one pw.x ``scf`` per step
    (:func:`pw_calculator`). Converged when every force and the deviatoric stress times the volume are
    below ``fmax`` (eV/Å); ``trajectory`` names an ASE ``.traj`` file that records every step. Returns the
    relaxed copy (its final energy in eV in ``info["energy_ev"]``), the
    pressure (GPa) and the number of steps.
    """
    from ase import units
    from ase.constraints import FixSymmetry
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    relaxed = atoms.copy()
    relaxed.set_constraint(FixSymmetry(relaxed, symprec=0.01))
    relaxed.calc = pw_calculator(kspacing, workdir)
    optimizer = BFGS(FrechetCellFilter(relaxed, constant_volume=True), logfile="-",
                     trajectory=None if trajectory is None else str(trajectory))
    if not optimizer.run(fmax=fmax, steps=max_steps):
        raise EngineError(f"the shape relaxation did not converge to {fmax} eV/Å in {max_steps} steps")
    pressure = float(-np.trace(relaxed.get_stress(voigt=False, apply_constraint=False)) / 3 / units.GPa)
    steps = optimizer.get_number_of_steps()
    relaxed.info["energy_ev"] = float(relaxed.get_potential_energy())
    relaxed.set_constraint()
    relaxed.calc = None
    return relaxed, pressure, steps
