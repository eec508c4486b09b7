"""Command line of :mod:`elfviz.reference.crystal_fit`: ``python -m elfviz.cli.programs.crystal_fit``.

Reproduce the DFT-derived crystal parameters bundled in :mod:`elfviz.structures.data`.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

from elfviz.reference import crystal_fit as _library
from elfviz.reference.crystal_fit import (
    C2C24_RS,
    CMCA_KSPACING,
    CMCA_RS,
    I41AMD_KSPACING,
    I41AMD_RS,
    c2c24_start,
    fit_minimum,
    i41amd_cell,
    pressure_gpa,
    published_start,
    pw_text,
    relax_positions,
    relax_shape,
    run_pw,
    scan_i41amd,
    wyckoff_record,
)


def main(argv=None) -> int:
    """Command line: ``python -m elfviz.cli.programs.crystal_fit i41amd`` (or ``c2c24``, ``cmca12``, ``cmca4``)."""
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.crystal_fit", description=_library.__doc__.split("\n")[0]
    )
    parser.add_argument("target", choices=["i41amd", "c2c24", "cmca12", "cmca4"])
    parser.add_argument(
        "--c-over-a",
        type=float,
        nargs="+",
        default=None,
        help="c/a values of the coarse scan (i41amd); default 2.0-3.2 in steps of 0.2",
    )
    parser.add_argument(
        "--kspacing", type=float, default=CMCA_KSPACING, help="k-spacing in 1/Å (cmca12, cmca4); default %(default)s"
    )
    parser.add_argument(
        "--fmax", type=float, default=0.01, help="force and stress threshold, eV/Å (cmca12, cmca4); default %(default)s"
    )
    parser.add_argument("--max-steps", type=int, default=100, help="BFGS steps at most (cmca12, cmca4)")
    parser.add_argument("--trajectory", default=None, help="ASE .traj file recording the steps (cmca12, cmca4)")
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
    if args.target in ("cmca12", "cmca4"):
        return _relax_published("Cmca-12" if args.target == "cmca12" else "Cmca-4", args)
    start = c2c24_start(C2C24_RS)
    relaxed, output = relax_positions(start)
    record = wyckoff_record(relaxed, 15, symprec=0.01)
    print(f"C2/c-24 relaxed at rs {C2C24_RS}: PBE pressure {pressure_gpa(output):.1f} GPa")
    print(record)
    return 0


def _relax_published(name: str, args) -> int:
    """Relax a published Cmca cell at fixed rs (shape and positions) and print what the phase record needs."""
    import time

    import spglib

    from ...structures.molecules import closest_intermolecular, find_molecules

    start = published_start(name, CMCA_RS)
    print(f"{name}: published cell at rs {CMCA_RS} (rigid molecules), k-spacing {args.kspacing} 1/Å, "
          f"fmax {args.fmax} eV/Å", flush=True)
    began = time.perf_counter()
    relaxed, pressure, steps = relax_shape(start, kspacing=args.kspacing, fmax=args.fmax,
                                           max_steps=args.max_steps, trajectory=args.trajectory)
    minutes = (time.perf_counter() - began) / 60
    cell = (relaxed.cell.array, relaxed.get_scaled_positions(), relaxed.numbers)
    groups = {tol: spglib.get_spacegroup(cell, symprec=tol) for tol in (1e-3, 1e-2, 5e-2)}
    pairs = find_molecules(relaxed)
    bonds = [float(np.linalg.norm(v)) for _, _, v in pairs]
    print(
        f"{name}: {steps} steps in {minutes:.1f} min, E = {relaxed.info['energy_ev'] / len(relaxed):.5f} eV/atom, "
        f"P = {pressure:.1f} GPa, space group at 0.001/0.01/0.05 Å: {list(groups.values())}, "
        f"bonds {min(bonds):.4f}-{max(bonds):.4f} Å, closest intermolecular "
        f"{closest_intermolecular(relaxed, pairs):.4f} Å"
    )
    print(wyckoff_record(relaxed, 64, symprec=0.01))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
