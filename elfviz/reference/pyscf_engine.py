"""PySCF backend: reference ELF from periodic Kohn-Sham DFT with Gaussian orbitals (pip-only cross-check).

The calculation follows the reference convention as far as a Gaussian-basis code can: PBE, the
Goedecker-Teter-Hutter pseudopotential ``gth-pbe`` with the ``gth-dzvp`` basis, a plane-wave density cutoff
(``ke_cutoff``, default 100 Ha), Fermi-Dirac (or Gaussian) smearing of the same width as QE's ``degauss``
(``sigma = degauss_ry / 2`` Ha), and the same Monkhorst-Pack mesh (``DFTSettings.kpoint_mesh``, shifted by
half a step when ``kshift``). The ELF is evaluated analytically on the data layer's grid (fractional
``i/N``, no end point) from the k-point density matrices:

``rho = sum_k w_k sum_uv D^k_uv phi_u^k* phi_v^k``, ``grad rho`` likewise, and the positive kinetic energy
density ``tau = 1/2 sum_k w_k sum_uv D^k_uv grad phi_u^k* . grad phi_v^k`` of the smeared occupations, then
(Becke & Edgecombe 1990, atomic units)

``ELF = 1 / (1 + chi^2)``, ``chi = (tau - |grad rho|^2 / (8 rho)) / (3/10 (3 pi^2)^(2/3) rho^(5/3))``.

No interpolation is involved: any grid is exact. Quantum ESPRESSO is 20-40x faster for the same ELF and
stays the reference; this backend is for machines without QE and for the cross-check in the tests.

Examples
--------
>>> import numpy as np
>>> from elfviz import grid
>>> from elfviz.reference.pyscf_engine import pyscf_elf
>>> h2 = grid.make_dataset(np.eye(3) * 4.0, [[1.63, 2.0, 2.0], [2.37, 2.0, 2.0]], [1, 1], shape=(8, 8, 8))
>>> ref = pyscf_elf(h2, DFTSettings(kmesh=(1, 1, 1), kshift=False), shape=(24, 24, 24))  # doctest: +SKIP
>>> float(ref["elf"].max()) > 0.95  # doctest: +SKIP
True
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import EngineError, SpeciesError
from ..grid import keys
from .settings import DFTSettings

log = logging.getLogger(__name__)

HARTREE_EV = 27.211386245988
"""One hartree in eV."""

HARTREE_PER_BOHR3_GPA = 29421.015697
"""Pressure unit of atomic units (Ha / bohr^3) in GPa."""

DEFAULT_BASIS = "gth-dzvp"
DEFAULT_PSEUDO = "gth-pbe"
DEFAULT_KE_CUTOFF_HA = 100.0

_SMEARING = {"fermi-dirac": "fermi", "gaussian": "gaussian"}

_RHO_FLOOR = 1e-10
"""Density (e/bohr^3) below which the ELF is set to 0, as QE's pp.x does for vanishing density."""

_CF = 0.3 * (3.0 * math.pi**2) ** (2.0 / 3.0)
"""Thomas-Fermi kinetic-energy constant 3/10 (3 pi^2)^(2/3), Hartree atomic units."""


# ----------------------------------------------------------------------------- pure functions
def elf_from_density(rho: np.ndarray, grad_rho: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """ELF from the density, its gradient and the positive kinetic energy density (Hartree atomic units).

    Parameters
    ----------
    rho : ndarray (...)
        Electron density, e/bohr^3 (spin-summed).
    grad_rho : ndarray (3, ...)
        Gradient of the density, e/bohr^4.
    tau : ndarray (...)
        Kinetic energy density ``1/2 sum_i f_i |grad psi_i|^2``, Ha/bohr^3.

    Returns
    -------
    ndarray
        ELF in [0, 1]; 0 where ``rho`` < 1e-10 e/bohr^3.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.linspace(0.1, 3, 5)                       # hydrogen 1s: one orbital, tau = tau_W
    >>> rho = np.exp(-2 * r) / np.pi
    >>> grad = np.stack([-2 * rho, 0 * r, 0 * r])
    >>> np.allclose(elf_from_density(rho, grad, grad[0]**2 / (8 * rho)), 1.0)
    True
    """
    rho = np.asarray(rho, dtype=np.float64)
    grad_rho = np.asarray(grad_rho, dtype=np.float64)
    tau = np.asarray(tau, dtype=np.float64)
    safe = np.maximum(rho, _RHO_FLOOR)
    pauli = tau - np.sum(grad_rho**2, axis=0) / (8.0 * safe)
    chi = np.maximum(pauli, 0.0) / (_CF * safe ** (5.0 / 3.0))
    elf = 1.0 / (1.0 + chi**2)
    return np.where(rho > _RHO_FLOOR, elf, 0.0)


def monkhorst_pack_scaled(kmesh: tuple[int, int, int], shift: bool) -> np.ndarray:
    """Scaled (fractional) k-points of a Monkhorst-Pack mesh, the same set as QE's ``K_POINTS automatic``.

    Parameters
    ----------
    kmesh : (int, int, int)
        Points per reciprocal lattice vector.
    shift : bool
        Offset by half a step (QE's ``1 1 1``): for even sizes no point is at Gamma.

    Returns
    -------
    ndarray (n_k, 3)
        Fractional coordinates in units of the reciprocal lattice vectors, in [-0.5, 0.5).

    Examples
    --------
    >>> monkhorst_pack_scaled((2, 1, 1), shift=True)[:, 0].tolist()
    [0.25, -0.25]
    """
    axes = []
    for n in kmesh:
        points = (np.arange(n) + (0.5 if shift else 0.0)) / n
        axes.append(points - np.floor(points + 0.5))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    return mesh.reshape(-1, 3)


# ----------------------------------------------------------------------------- PySCF objects
def _import_pyscf():
    try:
        import pyscf  # noqa: F401
        from pyscf.pbc import dft, gto
    except ImportError as exc:  # pragma: no cover - pyscf is installed in the dev environment
        raise EngineError(
            f"the PySCF backend needs pyscf ({exc}); install it with `pip install pyscf` "
            "or `pip install elfviz[dft]`"
        ) from None
    return gto, dft


def build_cell(
    cell: np.ndarray,
    positions: np.ndarray,
    *,
    basis: str = DEFAULT_BASIS,
    pseudo: str = DEFAULT_PSEUDO,
    ke_cutoff_ha: float = DEFAULT_KE_CUTOFF_HA,
    verbose: int = 0,
):
    """A ``pyscf.pbc.gto.Cell`` for hydrogen atoms (cell and positions in Å)."""
    gto, _ = _import_pyscf()
    pcell = gto.Cell()
    pcell.a = np.asarray(cell, dtype=float)
    pcell.atom = [("H", tuple(map(float, p))) for p in positions]
    pcell.unit = "A"
    pcell.basis = basis
    pcell.pseudo = pseudo
    pcell.ke_cutoff = float(ke_cutoff_ha)
    pcell.spin = len(positions) % 2
    pcell.verbose = verbose
    try:
        pcell.build()
    except Exception as exc:
        raise EngineError(f"PySCF could not build the cell ({exc})") from None
    return pcell


def _smear(mf, settings: DFTSettings):
    if settings.smearing == "none":
        return mf
    if settings.smearing not in _SMEARING:
        raise EngineError(
            f"the PySCF backend supports Fermi-Dirac and Gaussian smearing, not {settings.smearing!r}"
        )
    from pyscf.pbc.scf.addons import smearing_

    return smearing_(mf, sigma=settings.degauss_ry / 2.0, method=_SMEARING[settings.smearing])


def run_scf(
    pcell, settings: DFTSettings, kmesh: tuple[int, int, int], *, multigrid: bool, label: str = "pyscf"
):
    """Converge a k-point PBE calculation; returns the mean-field object (converged or not)."""
    _, dft = _import_pyscf()
    kpts = pcell.get_abs_kpts(monkhorst_pack_scaled(kmesh, settings.kshift))
    if pcell.spin and settings.smearing == "none":
        raise EngineError(
            "an odd number of electrons needs smearing (spin-unpolarised, as in the QE reference)"
        )
    mf = dft.KRKS(pcell, kpts)
    mf.xc = "pbe,pbe"
    mf.conv_tol = max(settings.conv_thr_ry_per_atom * pcell.natm / 2.0, 1e-12)
    mf.max_cycle = settings.max_scf_steps
    mf = _smear(mf, settings)
    if multigrid:
        mf = mf.multigrid_numint()
    cycles = []

    def callback(env):
        cycles.append(env.get("cycle", len(cycles)))
        log.info(
            "%s: SCF cycle %d, E = %.8f Ha", label, int(env.get("cycle", 0)) + 1, float(env.get("e_tot", 0.0))
        )

    mf.callback = callback
    mf.kernel()
    mf._elfviz_cycles = len(cycles)
    return mf


def elf_on_grid(
    pcell, dm_kpts: np.ndarray, kpts: np.ndarray, shape: tuple[int, int, int], *, block_points: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """ELF and density on the periodic grid ``shape`` (fractional ``i/N``) from k-point density matrices.

    Parameters
    ----------
    pcell : pyscf.pbc.gto.Cell
    dm_kpts : ndarray (n_k, nao, nao) or (2, n_k, nao, nao)
        Spin-summed density matrices (per-spin ones are summed: the ELF of the total density).
    kpts : ndarray (n_k, 3)
        Absolute k-points, 1/bohr.
    shape : (int, int, int)
        Grid shape.
    block_points : int
        Grid points per block (bounds the memory of the AO values: 4 x block x nao complex numbers per k).

    Returns
    -------
    elf, rho : ndarray (na, nb, nc)
        ELF (float64) and density (e/bohr^3).
    """
    from pyscf.pbc.dft import numint

    dms = np.asarray(dm_kpts)
    if dms.ndim == 4:  # per-spin density matrices: the spin-summed density matrix gives rho, grad rho, tau
        dms = dms.sum(axis=0)
    coords = pcell.get_uniform_grids(np.asarray(shape))  # bohr, C order over (a, b, c)
    n_points = len(coords)
    nk = len(kpts)
    ni = numint.KNumInt(kpts)
    rho = np.zeros(n_points)
    elf = np.zeros(n_points)
    for start in range(0, n_points, block_points):
        stop = min(start + block_points, n_points)
        ao_k = ni.eval_ao(pcell, coords[start:stop], kpts=kpts, deriv=1)  # n_k x (4, n, nao)
        r = np.zeros((4, stop - start))
        t = np.zeros(stop - start)
        for k in range(nk):
            ao = ao_k[k]
            c0 = ao[0] @ dms[k]  # PySCF convention rho = sum_uv phi_u D_uv conj(phi_v)
            r[0] += np.einsum("pi,pi->p", c0, ao[0].conj()).real
            for x in range(3):
                r[x + 1] += 2.0 * np.einsum("pi,pi->p", c0, ao[x + 1].conj()).real
                cx = ao[x + 1] @ dms[k]
                t += 0.5 * np.einsum("pi,pi->p", cx, ao[x + 1].conj()).real
        r /= nk
        t /= nk
        elf[start:stop] = elf_from_density(r[0], r[1:], t)
        rho[start:stop] = r[0]
    return elf.reshape(shape), rho.reshape(shape)


# ----------------------------------------------------------------------------- grids
def choose_shape(
    cell: np.ndarray, settings: DFTSettings, spacing: float | None, shape: Any
) -> tuple[int, int, int]:
    """Delivery grid: ``shape`` if given, else the spacing's grid, else QE's minimum FFT grid for the settings
    (so that both engines deliver the same grid by default)."""
    if shape is not None:
        return grid.check_shape(shape)
    if spacing is not None:
        return grid.shape_for_spacing(cell, spacing)
    from .qe import minimum_fft_shape

    return minimum_fft_shape(cell, settings.ecutrho)


# ----------------------------------------------------------------------------- public entry point
def pyscf_elf(
    structure: xr.Dataset,
    settings: DFTSettings | None = None,
    *,
    spacing: float | None = None,
    shape: Any = None,
    basis: str = DEFAULT_BASIS,
    pseudo: str = DEFAULT_PSEUDO,
    ke_cutoff_ha: float = DEFAULT_KE_CUTOFF_HA,
    multigrid: bool | None = None,
    compute_pressure: bool = False,
    allow_unconverged: bool = False,
    threads: int | None = None,
    label: str = "pyscf",
    **ignored: Any,
) -> xr.Dataset:
    """Reference ELF of a hydrogen structure from PySCF periodic DFT.

    Parameters
    ----------
    structure : xarray.Dataset
        Data-layer Dataset of the structure, with or without a grid (only the structure is used; see
        :func:`elfviz.grid.make_structure`).
    settings : DFTSettings, optional
        Shared settings: k-mesh (``kpoint_mesh``, ``kshift``), smearing (``degauss_ry``), SCF threshold and
        steps. ``ecutwfc_ry`` does not apply (Gaussian basis); ``ke_cutoff_ha`` sets the density grid.
    spacing : float, optional
        Largest grid spacing of the delivered ELF, Å.
    shape : (int, int, int), optional
        Deliver on exactly this grid. Default: the grid QE would use for ``settings``.
    basis, pseudo : str
        PySCF basis and pseudopotential names (``gth-dzvp``, ``gth-pbe``).
    ke_cutoff_ha : float
        Kinetic-energy cutoff of the density's FFT mesh, Ha (100 Ha = 200 Ry).
    multigrid : bool, optional
        Use PySCF's multigrid integration for Coulomb and XC (same energy to 1e-5 Ha, 2-3x faster already at
        4 atoms). Default: on, unless ``compute_pressure``.
    compute_pressure : bool
        Compute the pressure from PySCF's analytic stress tensor. It needs plain FFT density fitting (no
        multigrid) and costs about half an SCF more, so it is off by default (``pressure_note`` says so).
    allow_unconverged : bool
        Return a non-converged SCF flagged ``scf_converged = 0`` instead of raising.
    threads : int, optional
        OpenMP threads for PySCF (default: its own choice).
    **ignored
        QE-only options (``workdir``, ``keep_files``, ``timeout``) are accepted and ignored with a warning.

    Returns
    -------
    xarray.Dataset
        The structure with field ``elf`` and attrs ``source``, ``engine`` ("pyscf"), ``settings``,
        ``pyscf_version``, ``basis``, ``pseudopotential``, ``ke_cutoff_ha``, ``kmesh``, ``kshift``,
        ``total_energy_ev``, ``free_energy_ev``, ``fermi_energy_ev``, ``scf_converged``, ``scf_iterations``,
        ``pressure_gpa`` (or ``pressure_note`` when not computed), ``scf_seconds``, ``elf_seconds``.
    """
    settings = settings or DFTSettings()
    for key in ignored:
        if key not in ("workdir", "keep_files", "timeout"):
            raise EngineError(f"unknown option {key!r} for the PySCF engine")
        if ignored[key]:
            log.warning("%s: option %s applies to Quantum ESPRESSO only; ignored", label, key)
    grid.validate_structure(structure)
    numbers = structure[keys.NUMBERS].values
    if np.any(numbers != 1):
        raise SpeciesError(
            "the PySCF reference supports hydrogen only; found atomic numbers "
            f"{sorted(set(numbers.tolist()))}"
        )
    import pyscf
    from pyscf import lib

    if threads:
        lib.num_threads(int(threads))
    cell = structure[keys.CELL].values
    positions = structure[keys.POSITIONS].values
    n_atoms = len(positions)
    target = choose_shape(cell, settings, spacing, shape)
    kmesh = settings.kpoint_mesh(cell)
    if compute_pressure and multigrid:
        raise EngineError(
            "PySCF's stress tensor needs FFT density fitting: use multigrid=False with compute_pressure"
        )
    multigrid = (not compute_pressure) if multigrid is None else bool(multigrid)

    pcell = build_cell(cell, positions, basis=basis, pseudo=pseudo, ke_cutoff_ha=ke_cutoff_ha)
    log.info(
        "%s: PySCF PBE/%s for %d atoms, k-mesh %s%s, %d AOs, density mesh %s%s",
        label,
        basis,
        n_atoms,
        kmesh,
        " shifted" if settings.kshift else "",
        pcell.nao_nr(),
        list(pcell.mesh),
        ", multigrid" if multigrid else "",
    )
    start = time.perf_counter()
    mf = run_scf(pcell, settings, kmesh, multigrid=multigrid, label=label)
    scf_seconds = time.perf_counter() - start
    converged = bool(mf.converged)
    if not converged and not allow_unconverged:
        raise EngineError(
            f"the PySCF SCF did not converge in {settings.max_scf_steps} cycles; try more SCF steps "
            "(DFTSettings(max_scf_steps=...)), or pass --allow-unconverged to keep the result flagged"
        )

    attrs: dict[str, Any] = {
        "engine": "pyscf",
        "settings": settings.to_dict(),
        "pyscf_version": pyscf.__version__,
        "basis": basis,
        "pseudopotential": pseudo,
        "ke_cutoff_ha": float(ke_cutoff_ha),
        "density_mesh": [int(n) for n in pcell.mesh],
        "multigrid": int(multigrid),
        "kmesh": list(kmesh),
        "kshift": int(settings.kshift),
        "n_kpoints": int(len(mf.kpts)),
        "total_energy_ev": float(mf.e_tot) * HARTREE_EV,
        "scf_converged": int(converged),
        "scf_iterations": int(getattr(mf, "_elfviz_cycles", 0)),
        "scf_seconds": scf_seconds,
    }
    if getattr(mf, "e_free", None) is not None:
        attrs["free_energy_ev"] = float(mf.e_free) * HARTREE_EV
    mu = getattr(mf, "mu", None)
    if mu is not None and np.ndim(mu) == 0:
        attrs["fermi_energy_ev"] = float(mu) * HARTREE_EV
    if compute_pressure:
        start = time.perf_counter()
        attrs["pressure_gpa"] = pressure_gpa(mf)
        attrs["stress_seconds"] = time.perf_counter() - start
    else:
        attrs["pressure_note"] = (
            "pressure not computed: PySCF's analytic stress needs FFT density fitting "
            "(no multigrid) and costs about half an SCF more; pass compute_pressure=True"
        )

    start = time.perf_counter()
    elf, rho = elf_on_grid(pcell, mf.make_rdm1(), mf.kpts, target)
    attrs["elf_seconds"] = time.perf_counter() - start
    n_electrons = float(rho.mean() * pcell.vol)
    attrs["electrons_on_grid"] = n_electrons
    if abs(n_electrons - n_atoms) > 0.02 * n_atoms:
        log.warning(
            "%s: the density integrates to %.3f electrons on the %s grid (expected %d); the grid is too "
            "coarse for a faithful ELF",
            label,
            n_electrons,
            target,
            n_atoms,
        )
    elf = np.clip(elf, 0.0, 1.0).astype(np.float32)
    extra = {
        k: v
        for k, v in structure.attrs.items()
        if k in ("phase", "trajectory", "frame_id", "temperature_k", "md_step", "md_time_fs")
    }
    source = (
        f"dft:pyscf-{pyscf.__version__} PBE {pseudo} {basis} ke_cutoff={ke_cutoff_ha:g}Ha "
        f"k={'x'.join(map(str, kmesh))}{'s' if settings.kshift else ''}"
    )
    ds = grid.make_dataset(cell, positions, numbers, elf, source=source, attrs={**extra, **attrs})
    log.info(
        "%s: done in %.1f s (SCF %.1f s, ELF %.1f s)%s",
        label,
        scf_seconds + attrs["elf_seconds"],
        scf_seconds,
        attrs["elf_seconds"],
        f", P = {attrs['pressure_gpa']:.1f} GPa" if "pressure_gpa" in attrs else "",
    )
    return ds


def pressure_gpa(mf) -> float:
    """Pressure (GPa) from PySCF's analytic stress tensor: ``P = -trace(sigma) / 3``."""
    try:
        sigma = np.asarray(mf.Gradients().get_stress())
    except Exception as exc:  # stress is not implemented for every combination (multigrid, smearing variants)
        raise EngineError(
            f"PySCF could not compute the stress tensor ({exc}); pass compute_pressure=False"
        ) from None
    return float(-np.trace(sigma) / 3.0 * HARTREE_PER_BOHR3_GPA)


def available() -> bool:
    """True when pyscf can be imported."""
    try:
        _import_pyscf()
        return True
    except EngineError:
        return False
