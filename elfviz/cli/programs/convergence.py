"""Command line of :mod:`elfviz.reference.convergence`: ``python -m elfviz.cli.programs.convergence``.

Is the reference right? Convergence of the QE reference ELF and of the networking value phi.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from elfviz.io.store import atomic_write
from elfviz.reference import convergence as _library
from elfviz.reference.convergence import (
    PROXY_K,
    SECTIONS,
    crosscheck_structure,
    crystal_structure,
    cutoff_series,
    dataset_label_run,
    grid_series,
    h2_bond_centre,
    kmesh_series,
    liquid_frame,
    markdown_table,
    proxy_structure,
    qe_pyscf_crosscheck,
)
from elfviz.reference.settings import DFTSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.convergence", description=_library.__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="what to run, in this order"
    )
    parser.add_argument("--frame", default=None, help="liquid frame id (default: nearest rs 1.38)")
    parser.add_argument(
        "--rs", type=float, default=1.38, help="density of the liquid frame and crystal, bohr"
    )
    parser.add_argument(
        "--crystal", default="C2c-12", help="crystal phase (one bundled in elfviz.structures)"
    )
    parser.add_argument("--np", type=int, default=None, dest="n_processes", help="MPI processes for QE")
    parser.add_argument("--pyscf-basis", default="gth-dzvp")
    parser.add_argument("--out", default="convergence.json", help="results (JSON)")
    parser.add_argument(
        "--crystal-kspacings",
        nargs="+",
        type=float,
        default=[0.8, 0.5, 0.35, 0.3],
        help="k-spacings (1/Å) of the crystal series; the last is the reference",
    )
    parser.add_argument("--rs-proxy", type=float, default=1.2, help="density of the 8-atom proxy cell, bohr")
    parser.add_argument("--cache", default=None, help="folder keeping every run (the study resumes from it)")
    parser.add_argument(
        "--liquid-kmeshes",
        nargs="+",
        default=["Gamma", "2x2x2", "2x2x2s", "3x3x3s"],
        help="k-meshes of the liquid series (the last is the reference)",
    )
    args = parser.parse_args(argv)
    global CACHE_DIR
    if args.cache:
        CACHE_DIR = Path(args.cache)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base = DFTSettings(mpi_processes=args.n_processes)
    results: dict[str, Any] = {"settings": base.to_dict()}
    out = Path(args.out)

    def save() -> None:
        text = json.dumps(results, indent=1, default=str)
        atomic_write(Path(out), lambda tmp: tmp.write_text(text))

    rows: list[dict[str, Any]] = results.setdefault("series", [])
    all_liquid_k = {
        "Gamma": {"kmesh": (1, 1, 1), "kshift": False},
        "2x2x2": {"kmesh": (2, 2, 2), "kshift": False},
        "2x2x2s": {"kmesh": (2, 2, 2), "kshift": True},
        "3x3x3s": {"kmesh": (3, 3, 3), "kshift": True},
    }
    liquid_k = [(name, all_liquid_k[name]) for name in args.liquid_kmeshes]
    crystal_k = [(f"ks{ks:g}", {"kspacing": ks, "kmesh": None}) for ks in args.crystal_kspacings]
    crystal_base = base.replace(kspacing=0.5)  # the dataset's crystal k-spacing
    liquid = crystal = None
    for section in args.sections:
        if section.startswith("liquid") and liquid is None:
            liquid = liquid_frame(args.frame, args.rs)
            results["liquid_frame"] = liquid.attrs["frame_id"]
        if section.startswith("crystal") and crystal is None:
            crystal = crystal_structure(args.crystal, args.rs)
        name_l = f"liquid {results.get('liquid_frame')}"
        name_c = f"{args.crystal} rs {args.rs:g}"
        if section == "liquid-k":
            known = {"2x2x2s": dataset_label_run(results["liquid_frame"])}  # the frame's own label
            rows += kmesh_series(liquid, name_l, base, liquid_k, known=known)
        elif section == "liquid-cutoff":
            rows += cutoff_series(liquid, name_l, base, [45.0, 60.0, 80.0])
        elif section == "liquid-grid":
            rows += grid_series(liquid, name_l, base, [1.0, 1.5, 2.0])
        elif section == "crystal-k":
            rows += kmesh_series(crystal, name_c, crystal_base, crystal_k)
        elif section == "crystal-cutoff":
            rows += cutoff_series(crystal, name_c, crystal_base, [45.0, 60.0, 80.0])
        elif section == "crystal-grid":
            rows += grid_series(crystal, name_c, crystal_base, [1.0, 2.0])
        elif section == "proxy-k":
            rows += kmesh_series(
                proxy_structure(args.rs_proxy), f"8-atom proxy rs {args.rs_proxy:g}", base, PROXY_K
            )
        elif section == "proxy-cutoff":
            rows += cutoff_series(
                proxy_structure(args.rs_proxy),
                f"8-atom proxy rs {args.rs_proxy:g}",
                base.replace(kmesh=(4, 4, 4), kshift=True),
                [45.0, 60.0, 80.0],
            )
        elif section == "proxy-grid":
            rows += grid_series(
                proxy_structure(args.rs_proxy),
                f"8-atom proxy rs {args.rs_proxy:g}",
                base.replace(kmesh=(4, 4, 4), kshift=True),
                [1.0, 1.5, 2.0],
            )
        elif section == "h2":
            results["h2"] = h2_bond_centre()
            print(f"H2 in a 10 Å box: ELF at the bond centre {results['h2']['elf_bond_centre']:.4f}")
        elif section == "crosscheck":
            structure = crosscheck_structure()
            results["crosscheck"] = [
                qe_pyscf_crosscheck(
                    structure, base.replace(kmesh=k, kshift=s), (30, 30, 30), basis=args.pyscf_basis
                )
                for k, s in [((1, 1, 1), False), ((2, 2, 2), True)]
            ]
            for row in results["crosscheck"]:
                print(
                    f"QE vs PySCF ({row['n_atoms']} atoms, k {row['kmesh']}): Pearson {row['pearson']:.5f}, "
                    f"MAE {row['mae']:.4f}, max {row['max_abs']:.3f}"
                )
        save()
    if rows:
        print(markdown_table(rows))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
