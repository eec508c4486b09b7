"""Crystal data of dense-hydrogen phases (published or from our own PBE recipes), and what is missing.

Plain data (no imports from elfviz): :mod:`elfviz.structures` turns every record into a
:class:`~elfviz.structures.Phase`. Names follow the structure-search literature,
``<space group>-<atoms in the PRIMITIVE cell>`` (Pickard & Needs, Nat. Phys. 3, 473 (2007); e.g.
"Cmca with a primitive cell containing 12 atoms (Cmca-12)", Ishikawa et al., PRB 90, 104102 (2014)).

Every bundled record was checked (tests/test_structures.py): spglib finds the space group at
0.01 and 0.05 Å tolerance, the primitive cell holds the number of atoms in the name, H2 bonds are
0.70-0.80 Å (Cmca-4: 0.815 Å, stretched in PBE at rs 1.30) and no two atoms of different molecules are closer
than 1.0 Å at the source density, and the rs of the source cell matches the pressure-density table of
:mod:`elfviz.structures.eos` within 5 %.

Four records are not copied from a publication but computed by the recipes of
:mod:`elfviz.reference.crystal_fit` (PBE, Quantum ESPRESSO, the elfviz reference settings), which reproduce
them: the c/a of I4_1/amd (energy minimum at fixed rs 1.23 bohr), the relaxed positions of
C2/c-24 (idealised layered start after a public builder, fixed-cell BFGS at rs 1.38 bohr), and the relaxed
cells of Cmca-12 and Cmca-4 (public relaxed CASTEP cells of a 2020 student project, github.com/jrjturnbull/
SummerProject, relaxed again in shape and positions at fixed rs 1.30 bohr). Their ``source`` and ``notes`` say so.

Records with ``missing`` set are listed (``elfviz phases`` shows them) but carry no coordinates:
elfviz does not ship coordinates it could not check against a publication. The text says why and
what was searched, and :func:`elfviz.structures.build_phase` prints it.
"""

from __future__ import annotations

import math

__all__ = ["PHASE_RECORDS", "SEARCHED", "CMCA_PUBLIC_CELLS", "I41AMD_C_OVER_A"]

_BOHR_ANGSTROM = 0.529177210903

# ----------------------------------------------------------------------------- I4_1/amd (our PBE c/a)
I41AMD_C_OVER_A = 2.5996
"""c/a of I4_1/amd hydrogen: PBE energy minimum at rs 1.23 bohr (``elfviz.reference.crystal_fit i41amd``)."""
I41AMD_SCAN = (
    "coarse scan at k-spacing 0.4 1/Å, c/a 2.0-3.2 (run in the 2-atom primitive cell): lowest at 2.6; "
    "fine scan at 0.25 1/Å, E - E(2.594) = 2.67, 1.50, 0, 0.44, 2.53 meV/atom at c/a 2.494, 2.544, "
    "2.594, 2.644, 2.694; parabola minimum c/a = 2.5996 +- 0.007 (fit standard error; residuals "
    "< 0.6 meV/atom), PBE pressure of that cell 477.8 GPa (Nov 2026)"
)
I41AMD_PRESSURE_GPA = 477.8  # PBE pressure of that cell (pw.x stress, same settings)
_I41AMD_RS = 1.23

# ----------------------------------------------------------------------------- C2/c-24 (our PBE positions)
C2C24_SOURCE = (
    "Pickard & Needs, Nat. Phys. 3, 473 (2007) (phase); layered construction after make_c2c in "
    "github.com/Paul-St-Young/solid_hydrogen, qharv_db/ase_md.py (commit 02bec487); positions: our PBE "
    "relaxation at fixed cell, rs 1.38 bohr (python -m elfviz.cli.programs.crystal_fit c2c24)"
)
C2C24_PRESSURE_GPA = 223.3  # PBE static pressure of the relaxed cell (pw.x stress, same settings)
C2C24_CELLPAR = (2.960806, 5.128266, 5.156916, 90.0, 90.0, 90.0)
# 6 x 8f, spglib-standardised (symmetrised at 0.01 Å) from the relaxed positions
C2C24_BASIS = (
    (0.637624, 0.837043, 0.628559),
    (0.389439, 0.322374, 0.641092),
    (0.430919, 0.094436, 0.624448),
    (0.287182, 0.974429, 0.625903),
    (0.817912, 0.200279, 0.608301),
    (0.934648, 0.070554, 0.621717),
)
C2C24_NOTES = (
    "four layers of flat-lying H2 molecules on a triangular net, three per layer (12 molecules; 6 x 8f, "
    "48 atoms in the C-centred conventional cell, 24 in the primitive cell). Start: make_c2c's example "
    "cell (a = 1.79 Å, c = 2.7 Å, bonds 0.74 Å) scaled uniformly to rs 1.38 bohr; the cell shape was NOT "
    "optimised (beta = 90°, orthogonal stacking). Positions relaxed at fixed cell with pw.x BFGS (PBE, "
    "60 Ry, Fermi-Dirac 0.02 Ry, k-spacing 0.4 1/Å, 7x7x4 mesh, symmetry kept): converged in 16 BFGS "
    "steps, largest force component 8.2e-4 Ry/bohr, 88 meV/atom below the start; PBE pressure "
    "223.3 GPa (stress diagonal 219-230 GPa: the unoptimised cell is nearly hydrostatic). Relaxed: C2/c "
    "at 1e-4 to 0.05 Å, bonds 0.748-0.753 Å, closest intermolecular distance 1.155 Å (Nov 2026)"
)
# conventional cell (4 atoms) of volume 4 x 4/3 pi rs^3 with the fitted c/a
_I41AMD_A = (4 * 4 / 3 * math.pi * (_I41AMD_RS * _BOHR_ANGSTROM) ** 3 / I41AMD_C_OVER_A) ** (1 / 3)

# ----------------------------------------------------------------------------- Cmca-12, Cmca-4 (public cells, our PBE)
CMCA_PUBLIC_CELLS = ("github.com/jrjturnbull/SummerProject (a 2020 summer project on hydrogen phases), commit "
                     "b4300387de41caa0929efb391f5f8bfa46875b88")
"""Where the public relaxed CASTEP cells of Cmca-12 and Cmca-4 come from (the starts of their records)."""
_TURNBULL = CMCA_PUBLIC_CELLS
_CMCA_RELAXATION = (
    "shape and positions relaxed at fixed volume, rs 1.30 bohr, in Cmca (ASE BFGS with FixSymmetry on pw.x "
    "scf runs: PBE, H_HSCV_PBE-1.0.UPF, 60 Ry, Fermi-Dirac 0.02 Ry, k-spacing 0.3 1/Å unshifted, symmetry on; "
    "forces and deviatoric stress x volume below 0.01 eV/Å) from the published cell moved to rs 1.30 with "
    "rigid molecules; H2 bonds are kept rigid when elfviz scales the relaxed cell to another rs"
)
CMCA12_SOURCE = (
    "Pickard & Needs, Nat. Phys. 3, 473 (2007) (phase); start: the relaxed CASTEP cell of " + _TURNBULL
    + ", PROJECT/Cmca-12/relax/Cmca-12.cell; cell and positions: our PBE relaxation at rs 1.30 bohr "
    "(python -m elfviz.cli.programs.crystal_fit cmca12)"
)
CMCA12_PRESSURE_GPA = 342.6  # PBE pressure of the relaxed cell (pw.x stress, hydrostatic after the relaxation)
CMCA12_CELLPAR = (2.491658, 4.652045, 2.823586, 90.0, 90.0, 90.0)
CMCA12_BASIS = ((0.5, 0.005084, 0.638357), (0.5, 0.131149, 0.954194), (0.5, 0.271384, 0.815086))  # 3 x 8f
CMCA12_NOTES = (
    "Cmca with H on 3 x 8f: 24 atoms in the C-centred conventional cell, 12 in the primitive cell (6 molecules, "
    "all in the mirror planes x = 0 and 1/2). Start: CASTEP 18.1 output cell of 14 Aug 2020 (PBE, on-the-fly "
    "ultrasoft H, 1200 eV, relaxed with 30 GPa external pressure; file PROJECT/Cmca-12/relax/Cmca-12.cell of "
    + _TURNBULL + "): a, b, c = 3.1923, 5.9716, 3.4945 Å, rs 1.648 bohr (our EOS table puts that density "
    "near 65 GPa, not 30), Cmca at 1e-5 to 0.1 Å, 12 atoms in the primitive cell, bonds 0.743-0.747 Å, closest "
    "intermolecular distance 1.476 Å. Ours: " + _CMCA_RELAXATION + ". Converged in 24 BFGS steps "
    "(5.7 min on one core, 10x10x8 k-mesh), E = -13.98642 eV/atom, PBE pressure "
    "342.6 GPa; relaxed: Cmca at 1e-3, 0.01 and 0.05 Å, bonds 0.762 and 0.783 Å, closest intermolecular "
    "distance 1.067 Å (Dec 2026)"
)
CMCA4_SOURCE = (
    "Pickard & Needs, Nat. Phys. 3, 473 (2007) (phase); start: the relaxed CASTEP cell of " + _TURNBULL
    + ", PROJECT/Cmca4/relax/Cmca4.cell; cell and positions: our PBE relaxation at rs 1.30 bohr "
    "(python -m elfviz.cli.programs.crystal_fit cmca4)"
)
CMCA4_PRESSURE_GPA = 327.8  # PBE pressure of the relaxed cell
CMCA4_CELLPAR = (2.443949, 2.025715, 2.203645, 90.0, 90.0, 90.0)
CMCA4_BASIS = ((0.5, 0.86042, 0.366898),)  # 8f
CMCA4_NOTES = (
    "Cmca with H on 8f: 8 atoms in the C-centred conventional cell, 4 in the primitive cell; layers of H2 in "
    "the mirror planes x = 0 and 1/2, herringbone within a layer. Start: CASTEP output cell of 31 Jul 2020 "
    "(PBE, on-the-fly ultrasoft H, relaxed with 30 GPa external pressure, Cmca symmetry operations listed in "
    "the file; PROJECT/Cmca4/relax/Cmca4.cell of " + _TURNBULL + "): a, b, c = 2.8449, 2.8148, 2.8337 Å, "
    "rs 1.659 bohr (near 62 GPa on our EOS table), Cmca at 1e-5 to 0.1 Å, bond 0.733 Å, closest "
    "intermolecular distance 1.666 Å. Ours: " + _CMCA_RELAXATION + ". Converged in 23 BFGS steps (2.3 min on "
    "one core, 14x14x10 k-mesh), E = -13.93458 eV/atom, PBE pressure 327.8 GPa; "
    "relaxed: Cmca at 1e-3, 0.01 and 0.05 Å, bond 0.815 Å (longer than in the other phases), closest intermolecular "
    "distance 1.136 Å (Dec 2026). It is a local minimum, and whether it is the Cmca-4 of Pickard & Needs cannot "
    "be checked without their parameters: at the same rs and settings (rerun Dec 2026) the six idealised layered "
    "starts of our earlier search (iodine-type Cmca, 8f) end lower, five within 0.01-0.05 Å of Fmmm (lowest "
    "-13.97894 eV/atom, 44.4 meV/atom below this record, bond 0.776 Å, closest intermolecular 1.020 Å, "
    "342.9 GPa) and one that stays Cmca at 0.05 Å (-13.94370 eV/atom, 9.1 meV/atom below, bond 0.770 Å, "
    "closest 1.220 Å); Cmca-12 at rs 1.30 is 51.8 meV/atom below it"
)

SEARCHED = (
    "searched (Nov 2026): the AFLOW prototype encyclopedia and the AFLOW source prototype list (the only "
    "pure-hydrogen prototype is A_mC24_15_2e2f, H-III); public code and CIF files for 'C2/c-24', "
    "'Cmca-12', 'Cmca-4', 'P6_3/m-16', 'I4_1/amd', 'Cs-IV', 'Nat. Phys. 3, 473'; web copies of "
    "Pickard & Needs (2007), McMahon & Ceperley PRL 106, 165302 and PRB 84, 144515 (2011), Monserrat "
    "et al. (2016), Ishikawa et al. PRB 90, 104102 (2014); Materials Project pages. None gives the "
    "Wyckoff parameters (or, for I4_1/amd, c/a) in a form that could be checked. Dec 2026: relaxed CASTEP cells "
    "of Cmca-12 and Cmca-4 turned up in github.com/jrjturnbull/SummerProject (now the starts of their records); "
    "nothing for P6_3/m-16"
)

_PICKARD_NEEDS = "Pickard & Needs, Nat. Phys. 3, 473 (2007)"

PHASE_RECORDS: tuple[dict, ...] = (
    {
        "name": "C2c-12",
        "space_group": "C2/c",
        "space_group_number": 15,
        "n_atoms": 12,
        "molecular": True,
        "source": (
            "AFLOW Library of Crystallographic Prototypes, H-III (300 GPa), prototype A_mC24_15_2e2f "
            "(Hicks et al., Comput. Mater. Sci. 161, S1 (2019)), which attributes it to " + _PICKARD_NEEDS
        ),
        "pressure_gpa": 300.0,
        # a = 4.939 Å, b/a = 0.569143551326, c/a = 0.838023891476, beta = 142.47 deg (AFLOW's --params)
        "cellpar": (4.939, 4.939 * 0.569143551326, 4.939 * 0.838023891476, 90.0, 142.47, 90.0),
        "basis": (
            (0.0, 0.1012, 0.25),
            (0.0, 0.3684, 0.25),
            (0.226, 0.0672, 0.2464),
            (0.3443, 0.1958, 0.2227),
        ),
        "setting": 1,
        "notes": (
            "AFLOW's H-III entry: 2 x 4e + 2 x 8f = 24 atoms in the C-centred conventional cell, 12 in the "
            "primitive cell (AFLOW's own prototype list says 12), so it is NOT the 24-atom-primitive C2/c-24 "
            "of Pickard & Needs; bonds 0.751 and 0.757 Å, rs 1.329 bohr"
        ),
    },
    {
        "name": "C2c-24",
        "space_group": "C2/c",
        "space_group_number": 15,
        "n_atoms": 24,
        "molecular": True,
        "source": C2C24_SOURCE,
        "pressure_gpa": C2C24_PRESSURE_GPA,
        "cellpar": C2C24_CELLPAR,
        "basis": C2C24_BASIS,
        "setting": 1,
        "notes": C2C24_NOTES,
    },
    {
        "name": "Cmca-12",
        "space_group": "Cmca",
        "space_group_number": 64,
        "n_atoms": 12,
        "molecular": True,
        "source": CMCA12_SOURCE,
        # Pickard & Needs (2007), static-lattice PBE: Cmca-12 the most stable from about 270 to 385 GPa (figures
        # as widely quoted from that paper; its text was not at hand to check them: informative only, never enforced)
        "pressure_range_gpa": (270.0, 385.0),
        "pressure_gpa": CMCA12_PRESSURE_GPA,
        "cellpar": CMCA12_CELLPAR,
        "basis": CMCA12_BASIS,
        "setting": 1,
        "notes": CMCA12_NOTES,
    },
    {
        "name": "Cmca-4",
        "space_group": "Cmca",
        "space_group_number": 64,
        "n_atoms": 4,
        "molecular": True,
        "source": CMCA4_SOURCE,
        # Pickard & Needs (2007): Cmca-4 above about 385 GPa (as quoted, not checked against the text); upper end
        # where atomic I4_1/amd takes over (~500 GPa, McMahon & Ceperley 2011, as in the I41amd record)
        "pressure_range_gpa": (385.0, 500.0),
        "pressure_gpa": CMCA4_PRESSURE_GPA,
        "cellpar": CMCA4_CELLPAR,
        "basis": CMCA4_BASIS,
        "setting": 1,
        "notes": CMCA4_NOTES,
    },
    {
        "name": "P63m-16",
        "space_group": "P6_3/m",
        "space_group_number": 176,
        "n_atoms": 16,
        "molecular": True,
        "source": _PICKARD_NEEDS,
        "missing": "no checkable Wyckoff data for P6_3/m-16 (16 atoms per cell) were found",
    },
    {
        "name": "I41amd",
        "space_group": "I4_1/amd",
        "space_group_number": 141,
        "n_atoms": 2,
        "molecular": False,
        "source": (
            _PICKARD_NEEDS + "; McMahon & Ceperley, PRL 106, 165302 (2011) (structure type); c/a from our "
            "PBE energy minimum at rs 1.23 bohr (python -m elfviz.cli.programs.crystal_fit i41amd)"
        ),
        # McMahon & Ceperley (abstract): stable from ~500 GPa (rs 1.23) to ~1 TPa (rs 1.11)
        "pressure_range_gpa": (500.0, 1000.0),
        "pressure_gpa": I41AMD_PRESSURE_GPA,
        "cellpar": (_I41AMD_A, _I41AMD_A, I41AMD_C_OVER_A * _I41AMD_A, 90.0, 90.0, 90.0),
        "basis": ((0.0, 0.75, 0.125),),
        "setting": 2,
        "notes": (
            "Cs-IV type, H on 4a (origin choice 2): 4 atoms in the body-centred conventional cell, 2 in the "
            "primitive cell, each atom 4-coordinated. The only free parameter, c/a, is not bundled from a "
            "publication but from our own PBE calculation (Quantum ESPRESSO 6.7, 60 Ry, Fermi-Dirac 0.02 Ry, "
            "norm-conserving H, energy scan over c/a at fixed rs 1.23 bohr, k-spacing 0.25 1/Å, parabola "
            "through the five points around the minimum): " + I41AMD_SCAN
        ),
    },
)
"""One dict per phase, in the order of :data:`elfviz.structures.PHASES`."""
