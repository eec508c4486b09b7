"""Reproduce the DFT-derived crystal parameters bundled in :mod:`elfviz.structures_data`.

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
    C2/c-24: relax the atomic positions of the idealised starting cell of :mod:`elfviz.structures_data`
    at fixed cell (BFGS, forces below 1e-3 Ry/bohr, k-spacing 0.4 Å^-1, rs 1.38): :func:`relax_positions`.

``cmca4``
    A search for Cmca-4 (Cmca, H on 8f (0, y, z), 4 atoms per primitive cell): relax the cell shape and the
    atomic positions at fixed volume (ASE BFGS with the symmetry fixed, one pw.x scf per step, k-spacing
    0.3 Å^-1, rs 1.30) from the layered starts :data:`CMCA4_STARTS` of :func:`cmca4_start`
    (:func:`relax_shape`), and report energy and space group of each result. Its outcome (Nov 2026) is why
    Cmca-4 is not bundled: see ``elfviz.structures_data``.

Run ``python -m elfviz.structures_fit i41amd`` (a few minutes on one core), ``... cmca4`` (similar) or
``... c2c24`` (longer); each prints the numbers to paste into :mod:`elfviz.structures_data`.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .errors import EngineError

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
    "cmca4_start",
    "relax_shape",
    "main",
]

RY_EV = 13.605693122994
I41AMD_RS = 1.23
I41AMD_KSPACING = 0.25
C2C24_RS = 1.38
C2C24_KSPACING = 0.4
CMCA4_RS = 1.30
CMCA4_KSPACING = 0.3
CMCA4_STARTS = (
    {"tilt_deg": 58.0, "b_over_a": 0.66, "c_over_a": 1.36},
    {"tilt_deg": 30.0, "b_over_a": 0.66, "c_over_a": 1.36},
    {"tilt_deg": 45.0, "b_over_a": 0.66, "c_over_a": 1.36},
    {"tilt_deg": 58.0, "b_over_a": 1.36, "c_over_a": 0.66},
    {"tilt_deg": 20.0, "b_over_a": 0.9, "c_over_a": 1.2},
    {"tilt_deg": 70.0, "b_over_a": 0.8, "c_over_a": 1.6},
)
"""Starts of the Cmca-4 search (tilt of the molecules from b towards c in degrees, axis ratios)."""


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

    from .grid import BOHR_ANGSTROM

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
    from .grid import BOHR_ANGSTROM

    return float((3 * atoms.cell.volume / BOHR_ANGSTROM**3 / (4 * math.pi * len(atoms))) ** (1 / 3))


def wyckoff_record(atoms, space_group_number: int, symprec: float = 0.01) -> dict:
    """Conventional cell and Wyckoff representatives of a relaxed structure, for elfviz.structures_data.

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
    from .reference.settings import DFTSettings

    kmesh = DFTSettings(kspacing=kspacing).kpoint_mesh(atoms.cell.array)
    nat = len(atoms)
    lines = [
        "&CONTROL",
        f"  calculation = '{calculation}', prefix = 'fit', outdir = './out', pseudo_dir = './'",
        "  disk_io = 'none', tprnfor = .true., tstress = .true.,",
        f"  forc_conv_thr = {forc_conv_thr:.3e}, nstep = 200",
        "/",
        "&SYSTEM",
        f"  ibrav = 0, nat = {nat}, ntyp = 1, ecutwfc = {ecutwfc_ry:g}, ecutrho = {4 * ecutwfc_ry:g}",
        f"  occupations = 'smearing', smearing = 'fd', degauss = {degauss_ry:g}",
        "/",
        "&ELECTRONS",
        f"  conv_thr = {1e-9 * nat:.2e}, mixing_beta = 0.5",
        "/",
    ]
    if calculation == "relax":
        lines += ["&IONS", "  ion_dynamics = 'bfgs'", "/"]
    lines += ["ATOMIC_SPECIES", f"H 1.00794 {pseudo_file}", "CELL_PARAMETERS angstrom"]
    lines += ["  " + " ".join(f"{x:.12f}" for x in row) for row in atoms.cell.array]
    lines.append("ATOMIC_POSITIONS crystal")
    lines += [f"H {p[0]:.12f} {p[1]:.12f} {p[2]:.12f}" for p in atoms.get_scaled_positions()]
    lines += ["K_POINTS automatic", " ".join(str(k) for k in kmesh) + " 0 0 0"]
    return "\n".join(lines) + "\n"


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
    from .reference.pseudo import find_pseudopotential
    from .reference.qe import find_executable

    pw = find_executable("pw.x")
    tmp = Path(tempfile.mkdtemp(prefix="elfviz-fit-", dir=workdir))
    log.info("pw.x runs in %s", tmp)
    try:
        shutil.copy(find_pseudopotential(), tmp / "H.UPF")
        (tmp / "pw.in").write_text(text)
        command = ["nice", "-n", str(nice), pw, "-in", "pw.in"] if nice else [pw, "-in", "pw.in"]
        with open(tmp / "pw.out", "w") as out:
            proc = subprocess.run(
                command,
                cwd=tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
            )
        output = (tmp / "pw.out").read_text(errors="replace")
        if proc.returncode != 0 or "JOB DONE" not in output:
            raise EngineError(f"pw.x failed (exit {proc.returncode}): {output[-1500:]}")
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


def cmca4_start(
    rs: float = CMCA4_RS,
    bond: float = 0.74,
    *,
    tilt_deg: float = 58.0,
    b_over_a: float = 0.66,
    c_over_a: float = 1.36,
):
    """Layered Cmca hydrogen (H on 8f, 4 atoms, primitive cell): the start of the bundled relaxation.

    The structure type of solid iodine (Cmca, molecules centred on 4a and on (0, 1/2, 1/2), lying in the
    mirror planes x = 0 and 1/2, herringbone within a layer). Start: conventional axes in the ratio
    a : b : c = 1 : 0.66 : 1.36 with the molecular axis tilted 58° from b towards c (roughly iodine's), bond
    ``bond`` (Å), volume for ``rs`` (bohr). Only the symmetry matters: the relaxation
    (:func:`relax_shape`) decides the cell shape, y and z.

    Examples
    --------
    >>> atoms = cmca4_start(1.30)
    >>> len(atoms), round(_rs(atoms), 6)
    (4, 1.3)
    """
    from ase.spacegroup import crystal

    if not (rs > 0 and 0 < bond < 1.2):
        raise EngineError(f"rs must be positive and the bond 0-1.2 Å, got {rs}, {bond}")
    tilt = math.radians(tilt_deg)

    def build(a: float):
        b, c = b_over_a * a, c_over_a * a
        y, z = 0.5 * bond * math.cos(tilt) / b, 0.5 * bond * math.sin(tilt) / c
        return crystal("H", [(0.0, y, z)], spacegroup=64, cellpar=[a, b, c, 90, 90, 90], primitive_cell=True)

    a = 3.0
    return build(a * rs / _rs(build(a)))


def parse_forces_stress(output: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Free energy (eV), forces (eV/Å, Cartesian, ``(N, 3)``) and stress (eV/Å^3, ASE sign: negative
    under compression, 3x3) from a pw.x ``scf`` output with ``tprnfor`` and ``tstress``."""
    from .grid import BOHR_ANGSTROM

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
    kspacing: float = CMCA4_KSPACING,
    fmax: float = 0.01,
    max_steps: int = 60,
    workdir: str | Path | None = None,
):
    """Relax positions and cell shape at fixed volume (fixed rs), keeping the space group.

    ASE BFGS on a :class:`ase.filters.FrechetCellFilter` (``constant_volume=True``) with
    :class:`ase.constraints.FixSymmetry`; energies, forces and stresses from one pw.x ``scf`` per step
    (:func:`pw_calculator`). Converged when every force and the deviatoric stress times the volume are
    below ``fmax`` (eV/Å). Returns the relaxed copy (its final energy in eV in ``info["energy_ev"]``), the
    pressure (GPa) and the number of steps.
    """
    from ase import units
    from ase.constraints import FixSymmetry
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    relaxed = atoms.copy()
    relaxed.set_constraint(FixSymmetry(relaxed, symprec=0.01))
    relaxed.calc = pw_calculator(kspacing, workdir)
    optimizer = BFGS(FrechetCellFilter(relaxed, constant_volume=True), logfile="-")
    if not optimizer.run(fmax=fmax, steps=max_steps):
        raise EngineError(f"the shape relaxation did not converge to {fmax} eV/Å in {max_steps} steps")
    pressure = float(-np.trace(relaxed.get_stress(voigt=False, apply_constraint=False)) / 3 / units.GPa)
    steps = optimizer.get_number_of_steps()
    relaxed.info["energy_ev"] = float(relaxed.get_potential_energy())
    relaxed.set_constraint()
    relaxed.calc = None
    return relaxed, pressure, steps


def main(argv=None) -> int:
    """Command line: ``python -m elfviz.structures_fit i41amd`` (or ``c2c24``, ``cmca4``)."""
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.structures_fit", description=__doc__.split("\n")[0]
    )
    parser.add_argument("target", choices=["i41amd", "c2c24", "cmca4"])
    parser.add_argument(
        "--c-over-a",
        type=float,
        nargs="+",
        default=None,
        help="c/a values of the coarse scan (i41amd); default 2.0-3.2 in steps of 0.2",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.target == "i41amd":
        # coarse scan (k-spacing 0.4 Å^-1) to bracket the minimum, then the fit on a fine scan at 0.25 Å^-1
        coarse = np.array(args.c_over_a or np.round(np.arange(2.0, 3.21, 0.2), 4))
        guess, _ = fit_minimum(coarse, scan_i41amd(coarse, kspacing=0.4), n_points=3)
        fine = np.round(guess + np.array([-0.1, -0.05, 0.0, 0.05, 0.1]), 3)
        energies = scan_i41amd(fine, kspacing=I41AMD_KSPACING)
        xmin, emin = fit_minimum(fine, energies, n_points=5)
        cell = i41amd_cell(round(xmin, 4), conventional=True)
        at_minimum = run_pw(pw_text(cell, kspacing=I41AMD_KSPACING))
        print(
            f"I4_1/amd PBE minimum at rs {I41AMD_RS}: c/a = {xmin:.4f} (E = {emin:.6f} eV/atom), "
            f"pressure there {pressure_gpa(at_minimum):.1f} GPa"
        )
        return 0
    if args.target == "cmca4":
        import spglib

        from .molecules import closest_intermolecular, find_molecules

        print(f"Cmca (8f) starts relaxed at fixed volume, rs {CMCA4_RS}, k-spacing {CMCA4_KSPACING} 1/Å:")
        for kwargs in CMCA4_STARTS:
            relaxed, pressure, steps = relax_shape(cmca4_start(CMCA4_RS, **kwargs))
            cell = (relaxed.cell.array, relaxed.get_scaled_positions(), relaxed.numbers)
            groups = [spglib.get_spacegroup(cell, symprec=tol) for tol in (1e-3, 1e-2, 5e-2)]
            pairs = find_molecules(relaxed)
            print(
                f"start {kwargs}: {steps} steps, E = {relaxed.info['energy_ev'] / len(relaxed):.5f} eV/atom, "
                f"P = {pressure:.1f} GPa, space group at 0.001/0.01/0.05 Å: {groups}, "
                f"bond {np.linalg.norm(pairs[0][2]):.4f} Å, closest intermolecular "
                f"{closest_intermolecular(relaxed, pairs):.4f} Å",
                flush=True,
            )
        return 0
    start = c2c24_start(C2C24_RS)
    relaxed, output = relax_positions(start)
    record = wyckoff_record(relaxed, 15, symprec=0.01)
    print(f"C2/c-24 relaxed at rs {C2C24_RS}: PBE pressure {pressure_gpa(output):.1f} GPa")
    print(record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
