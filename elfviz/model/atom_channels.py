"""Atom-weighted neighbour densities: every atom's Gaussians weighted by features of its own environment.

The descriptors of :mod:`.descriptors` see every neighbour as the same Gaussian, so a grid point cannot tell
the bonded partner of an H2 molecule from an atom of the fluid at the same distance. Here each atom ``a``
carries ``K`` fixed environment features ``h_k(a)`` (:func:`atom_basis`: its nearest-neighbour distance in a
few radial bins, the gap to its second neighbour, a short-range coordination), and each feature weights the
atom's Gaussian solid harmonics:

    b_{k,s,lm}(r) = Σ_a h_k(a) Σ_L φ_slm(R_a + L - r),      φ_slm(x) = s^-l P_lm(x) exp(-|x|² / 2 s²).

A network mixes them with learned weights, ``ρ_{c,s,lm} = Σ_k W_ck b_{k,s,lm}``, i.e. with learned atom
channels ``f_c(a) = Σ_k W_ck h_k(a)`` (:class:`elfviz.model.atom_network.AtomMixNet`), whose invariants it
reads. Because the mixing is linear, the basis densities are computed once per structure, exactly, by FFT
(:func:`basis_channels`, a weighted structure factor); :func:`direct_basis_channels` sums over neighbours
instead, for a few points (the tests check that both agree to 1e-5). ``wide`` widths (l = 0 only) feed the
network's long-wavelength path.

Examples
--------
>>> import numpy as np
>>> cell = np.eye(3) * 4.0
>>> positions = [[0.0, 0.0, 0.0], [0.74, 0.0, 0.0], [2.0, 2.0, 2.0]]
>>> h = atom_basis(positions, cell)
>>> h.shape, ATOM_BASIS_NAMES[0]
((3, 7), 'one')
>>> spec = AtomChannelSpec(widths=(0.52,), lmax=1, wide=(1.5,))
>>> tuple(basis_channels(positions, cell, (16, 16, 16), spec).shape)  # K * (1 width * 4 + 1 wide)
(35, 16, 16, 16)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..grid import as_cell, check_shape
from .descriptors import DescriptorSpec, density_channels, solid_harmonics

__all__ = [
    "ATOM_BASIS_NAMES",
    "AtomChannelSpec",
    "atom_basis",
    "basis_channels",
    "direct_basis_channels",
]

NEAREST_CENTRES = (0.72, 0.85, 1.00, 1.20)
"""Centres (Å) of the radial bins of an atom's nearest-neighbour distance (H2 bond 0.74 Å; fluid 1.0-1.3 Å)."""
NEAREST_WIDTH = 0.08
"""Width (Å) of those bins."""
COORDINATION_RADIUS = 1.3
"""Distance (Å) within which neighbours count towards the coordination feature (smooth, 0.1 Å skin)."""
NEIGHBOUR_CUTOFF = 3.0
"""Neighbour search radius (Å); an atom with fewer than two neighbours inside sees them at this distance."""

ATOM_BASIS_NAMES = ("one", *(f"nearest_{c:g}" for c in NEAREST_CENTRES), "molecular_gap", "coordination")
"""Names of the :func:`atom_basis` columns, in order."""


def atom_basis(positions, cell) -> np.ndarray:
    """Fixed environment features ``h_k(a)`` of every atom, ``(N, K)`` (columns: :data:`ATOM_BASIS_NAMES`).

    ``one`` (1: the plain neighbour density), ``nearest_<d>`` (Gaussian bins of the nearest-neighbour distance
    d1 at :data:`NEAREST_CENTRES`, width :data:`NEAREST_WIDTH`), ``molecular_gap`` (``tanh((d2 - d1) / 0.3 Å)``:
    near 1 for an atom of an H2 molecule far from the others, near 0 in an atomic fluid) and ``coordination``
    (neighbours within :data:`COORDINATION_RADIUS`, smoothly counted, divided by 4). Distances in Å, periodic
    images included through the ASE neighbour list (as :func:`elfviz.grid.pairs.pair_midpoints`).
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    cell = as_cell(cell)
    n_atoms = len(positions)
    atoms = Atoms(numbers=np.ones(n_atoms, int), positions=positions, cell=cell, pbc=True)
    owner, distance = neighbor_list("id", atoms, NEIGHBOUR_CUTOFF)
    order = np.lexsort((distance, owner))  # by atom, then nearest first
    owner, distance = owner[order], distance[order]
    first = np.searchsorted(owner, np.arange(n_atoms))
    count = np.bincount(owner, minlength=n_atoms)
    padded = np.append(distance, NEIGHBOUR_CUTOFF)  # an atom without a k-th neighbour sees it at the cutoff
    nearest = np.where(count >= 1, padded[np.minimum(first, len(distance))], NEIGHBOUR_CUTOFF)
    second = np.where(count >= 2, padded[np.minimum(first + 1, len(distance))], NEIGHBOUR_CUTOFF)
    counted = 0.5 * (1.0 - np.tanh((distance - COORDINATION_RADIUS) / 0.1))
    coordination = np.bincount(owner, weights=counted, minlength=n_atoms)
    columns = [np.ones(len(positions))]
    columns += [np.exp(-0.5 * ((nearest - c) / NEAREST_WIDTH) ** 2) for c in NEAREST_CENTRES]
    columns += [np.tanh((second - nearest) / 0.3), coordination / 4.0]
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class AtomChannelSpec:
    """Widths and angular range of the atom-weighted densities.

    Attributes
    ----------
    widths : tuple of float
        Gaussian widths s (Å) of the local channels (l = 0..lmax).
    lmax : int
        Highest angular momentum of the local channels (0..3).
    wide : tuple of float
        Gaussian widths (Å) of the long-wavelength channels (l = 0 only).
    """

    widths: tuple[float, ...] = (0.36, 0.52, 0.75, 1.05)
    lmax: int = 2
    wide: tuple[float, ...] = (1.5, 2.2, 3.0)

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(float(s) for s in self.widths))
        object.__setattr__(self, "wide", tuple(float(s) for s in self.wide))
        DescriptorSpec(widths=self.widths, lmax=self.lmax)  # checks widths and lmax
        if any(s <= 0 for s in self.wide):
            raise ValueError("wide widths must be positive numbers (Å)")

    @property
    def n_basis(self) -> int:
        return len(ATOM_BASIS_NAMES)

    @property
    def n_local(self) -> int:
        """Local values per basis feature: widths x (lmax+1)²."""
        return len(self.widths) * (self.lmax + 1) ** 2

    @property
    def n_channels(self) -> int:
        """Values per grid point: K x (n_local + len(wide))."""
        return self.n_basis * (self.n_local + len(self.wide))

    def to_dict(self) -> dict:
        return {"widths": list(self.widths), "lmax": int(self.lmax), "wide": list(self.wide)}

    @classmethod
    def from_dict(cls, data: dict) -> AtomChannelSpec:
        return cls(widths=tuple(data["widths"]), lmax=int(data["lmax"]), wide=tuple(data["wide"]))


def basis_channels(
    positions,
    cell,
    shape: Sequence[int],
    spec: AtomChannelSpec = AtomChannelSpec(),
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The atom-weighted densities at every grid point, by FFT, ``(n_channels, na, nb, nc)``.

    Channel order: for each basis feature k, its local channels (width-major, then ``l*l + l + m``), then all
    wide channels of every k (k-major). See :func:`direct_basis_channels` for the same numbers at given points.
    """
    cell = as_cell(cell)
    shape = check_shape(shape)
    h = atom_basis(positions, cell)
    local_spec = DescriptorSpec(widths=spec.widths, lmax=spec.lmax)
    wide_spec = DescriptorSpec(widths=spec.wide, lmax=0)
    out = torch.empty((spec.n_channels,) + tuple(shape), dtype=dtype, device=device)
    n_local = spec.n_local
    for k in range(spec.n_basis):
        local = density_channels(positions, cell, shape, local_spec, device=device, dtype=dtype, weights=h[:, k])
        out[k * n_local : (k + 1) * n_local] = local.reshape((n_local,) + tuple(shape))
    start = spec.n_basis * n_local
    for k in range(spec.n_basis):
        wide = density_channels(positions, cell, shape, wide_spec, device=device, dtype=dtype, weights=h[:, k])
        out[start + k * len(spec.wide) : start + (k + 1) * len(spec.wide)] = wide[:, 0]
    return out


def direct_basis_channels(points, positions, cell, spec: AtomChannelSpec = AtomChannelSpec(), *,
                          cutoff_widths: float = 9.0) -> np.ndarray:
    """The same values as :func:`basis_channels` at arbitrary points, by direct sums over neighbours.

    Parameters
    ----------
    points : array_like, (P, 3)
        Cartesian points, Å.
    positions, cell
        The structure (Å).
    spec : AtomChannelSpec
    cutoff_widths : float
        Neighbours (periodic images included) farther than this many widths s are left out of a width's sum
        (exp(-81/2) ~ 2.6e-18 of the peak at the default).

    Returns
    -------
    numpy.ndarray
        ``(P, n_channels)``, float64, in the channel order of :func:`basis_channels`.
    """
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    h = torch.as_tensor(atom_basis(positions, cell))
    local = image_sums(points, positions, cell, spec.widths, spec.lmax, cutoff_widths * max(spec.widths))
    wide = image_sums(points, positions, cell, spec.wide, 0, cutoff_widths * max(spec.wide))
    local = torch.einsum("pnt,nk->pkt", local, h).reshape(local.shape[0], -1)  # k-major, then width and lm
    wide = torch.einsum("pnw,nk->pkw", wide, h).reshape(wide.shape[0], -1)
    return torch.cat([local, wide], dim=1).numpy()


def image_sums(points, positions, cell, widths: Sequence[float], lmax: int, cutoff: float, *,
               chunk: int = 256) -> torch.Tensor:
    """Every atom's Gaussian solid harmonics at given points, summed over its periodic images within
    ``cutoff`` Å, ``(P, N, len(widths) * (lmax+1)²)`` float64.

    ``[p, a, w*(lmax+1)² + l*l + l + m] = Σ_L s_w^-l |x|^l Y_lm(x̂) exp(-|x|² / 2 s_w²)``, ``x = R_a + L - r_p``:
    the direct sums behind :func:`direct_basis_channels` and :func:`elfviz.model.atom_messages.atom_terms`.
    """
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    cell = as_cell(cell)
    inverse = np.linalg.inv(cell)
    n_atoms, nl = len(positions), (lmax + 1) ** 2
    n_terms = len(widths) * nl
    # atoms and points wrapped into the cell (MD positions are often unwrapped): then `reach` cells of images
    # around it hold every image within the cutoff of every point
    positions = (positions @ inverse % 1.0) @ cell
    points = (points @ inverse % 1.0) @ cell
    heights = 1.0 / np.linalg.norm(inverse, axis=0)  # distances between opposite faces of the cell
    reach = np.ceil(cutoff / heights).astype(int) + 1
    shifts = np.array(np.meshgrid(*(np.arange(-n, n + 1) for n in reach), indexing="ij")).reshape(3, -1).T
    images = torch.as_tensor((positions[None] + (shifts @ cell)[:, None]).reshape(-1, 3), dtype=torch.float64)
    owner = torch.arange(len(images)) % n_atoms
    points_t = torch.as_tensor(points, dtype=torch.float64)
    out = torch.zeros((len(points), n_atoms, n_terms), dtype=torch.float64)
    for start in range(0, len(points), chunk):
        block = points_t[start:start + chunk]
        diff = images[None, :, :] - block[:, None, :]
        r2 = (diff * diff).sum(-1)
        p, i = torch.nonzero(r2 <= cutoff * cutoff, as_tuple=True)
        x, d2 = diff[p, i], r2[p, i]
        harmonics = solid_harmonics(x[:, 0], x[:, 1], x[:, 2], lmax)
        values = torch.empty((len(p), n_terms), dtype=torch.float64)
        for w, s in enumerate(widths):
            gauss = torch.exp(-0.5 * d2 / (s * s))
            for l in range(lmax + 1):
                for m, harmonic in enumerate(harmonics[l]):
                    values[:, w * nl + l * l + m] = harmonic * gauss / s**l
        out[start:start + chunk].view(-1, n_terms).index_add_(0, p * n_atoms + owner[i], values)
    return out
