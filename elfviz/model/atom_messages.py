"""Learned atom features by message passing, smeared onto the grid as weighted Gaussian densities.

The atom channels of :mod:`.atom_channels` are linear in fixed environment features. Here each atom's C
channels come from a few message-passing layers over its neighbours within :data:`MESSAGE_CUTOFF` (SchNet-style
continuous filters, rotation invariant), on top of the linear ones:

    f_c(a) = Σ_k W_ck h_k(a) + g_c(x_a),       x_a after T layers of  x_a += MLP(Σ_b W(d_ab) ⊙ U x_b)

(``h_k``: :func:`~elfviz.model.atom_channels.atom_basis`; ``g`` starts at zero, so an untrained network is the
linear one). The channels weight every atom's Gaussian solid harmonics,

    ρ_{c,s,lm}(r) = Σ_a f_c(a) T_{s,lm}(r, a),        T_{s,lm}(r, a) = Σ_L φ_slm(R_a + L - r),

which is linear in ``f``. Training needs ``ρ`` at sampled points with gradients through ``f``: the per-atom
terms ``T`` are summed directly over the periodic images near each point, once (:func:`atom_terms`), and
``ρ = Σ_a f_c(a) T(r, a)`` is a cheap contraction. The full grid is predicted by the FFT with ``f_c`` as atom
weights (:func:`learned_densities`), exact for Gaussians; the tests check that both give the same values.

Examples
--------
>>> import numpy as np, torch
>>> cell = np.eye(3) * 4.0
>>> positions = np.array([[0.0, 0.0, 0.0], [0.74, 0.0, 0.0], [2.0, 2.0, 2.0]])
>>> spec = MessageSpec(widths=(0.52,), lmax=1)
>>> terms = atom_terms([[1.0, 1.0, 1.0]], positions, cell, spec)
>>> tuple(terms.shape)                    # (points, atoms, widths x (lmax+1)²)
(1, 3, 4)
>>> messages = AtomMessages(channels=2)
>>> f = messages(*atom_graph(positions, cell))
>>> tuple(f.shape)
(3, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..grid import as_cell, check_shape
from .atom_channels import ATOM_BASIS_NAMES, atom_basis, image_sums
from .descriptors import DescriptorSpec, density_channels

__all__ = ["MESSAGE_CUTOFF", "AtomMessages", "MessageSpec", "atom_graph", "atom_terms", "learned_densities"]

MESSAGE_CUTOFF = 2.5
"""Neighbours (Å) an atom exchanges messages with (short: longer cutoffs hurt transfer to larger cells)."""


@dataclass(frozen=True)
class MessageSpec:
    """Widths and angular range of the learned atom densities.

    Attributes
    ----------
    widths : tuple of float
        Gaussian widths s (Å), l = 0..lmax each.
    lmax : int
        Highest angular momentum (0..3).
    cutoff_widths : float
        Direct sums leave out images farther than this many widths (6.5: the left-out tail is below 1e-7 of
        the peak for l <= 2).
    """

    widths: tuple[float, ...] = (0.36, 0.52, 0.75)
    lmax: int = 2
    cutoff_widths: float = 6.5

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(float(s) for s in self.widths))
        DescriptorSpec(widths=self.widths, lmax=self.lmax)  # checks widths and lmax
        if not self.cutoff_widths > 0:
            raise ValueError("cutoff_widths must be a positive number of widths")

    @property
    def n_terms(self) -> int:
        """Values per atom and point: widths x (lmax+1)²."""
        return len(self.widths) * (self.lmax + 1) ** 2

    def descriptor_spec(self) -> DescriptorSpec:
        return DescriptorSpec(widths=self.widths, lmax=self.lmax)

    def to_dict(self) -> dict:
        return {"widths": list(self.widths), "lmax": int(self.lmax), "cutoff_widths": float(self.cutoff_widths)}

    @classmethod
    def from_dict(cls, data: dict) -> MessageSpec:
        return cls(widths=tuple(data["widths"]), lmax=int(data["lmax"]),
                   cutoff_widths=float(data.get("cutoff_widths", 6.5)))


def atom_graph(positions, cell, cutoff: float = MESSAGE_CUTOFF) -> tuple[torch.Tensor, ...]:
    """An atom's inputs and its neighbours: ``(h, source, target, distance)``.

    ``h`` ``(N, K)`` float32 (:func:`~elfviz.model.atom_channels.atom_basis`); ``source``, ``target`` (E,)
    int64 and ``distance`` (E,) float32 Å for every ordered pair within ``cutoff`` (periodic images included).
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    cell = as_cell(cell)
    atoms = Atoms(numbers=np.ones(len(positions), int), positions=positions, cell=cell, pbc=True)
    target, source, distance = neighbor_list("ijd", atoms, cutoff)
    h = torch.as_tensor(atom_basis(positions, cell), dtype=torch.float32)
    return (h, torch.as_tensor(source, dtype=torch.int64), torch.as_tensor(target, dtype=torch.int64),
            torch.as_tensor(distance, dtype=torch.float32))


def atom_terms(points, positions, cell, spec: MessageSpec = MessageSpec(), *, chunk: int = 256,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Per-atom Gaussian solid harmonics summed over periodic images, at given points, ``(P, N, n_terms)``.

    ``T[p, a, w*(lmax+1)² + l*l + l + m] = Σ_L s_w^-l |x|^l Y_lm(x̂) exp(-|x|² / 2 s_w²)``, ``x = R_a + L - r_p``
    (Å), the images within ``spec.cutoff_widths`` widths. Contracting with atom weights gives
    :func:`~elfviz.model.descriptors.density_channels` with those weights at the points.
    """
    return image_sums(points, positions, cell, spec.widths, spec.lmax, spec.cutoff_widths * max(spec.widths),
                      chunk=chunk).to(dtype)


def learned_densities(weights: torch.Tensor, positions, cell, shape: Sequence[int],
                      spec: MessageSpec = MessageSpec(), *, device: str | torch.device = "cpu",
                      dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``ρ_{c,s,lm}`` on a whole grid by FFT, ``(C, n_terms, na, nb, nc)``: atom weights ``weights`` ``(N, C)``."""
    shape = check_shape(shape)
    weights = torch.as_tensor(weights).detach().to("cpu", torch.float64)
    local = spec.descriptor_spec()
    out = torch.empty((weights.shape[1], spec.n_terms) + tuple(shape), dtype=dtype, device=device)
    for c in range(weights.shape[1]):
        out[c] = density_channels(positions, cell, shape, local, device=device, dtype=dtype,
                                  weights=weights[:, c].numpy()).reshape((spec.n_terms,) + tuple(shape))
    return out


class AtomMessages(nn.Module):
    """C learned channels per atom: linear in the fixed atom features plus a message-passing correction.

    Parameters
    ----------
    channels : int
        Number C of channels.
    hidden : int
        Width of the atom states and filters.
    layers : int
        Message-passing layers T.
    n_radial : int
        Gaussian radial functions of a pair distance (0.5 Å to the cutoff).
    cutoff : float
        Message cutoff (Å); filters fall smoothly to zero there.
    """

    def __init__(self, channels: int = 4, *, hidden: int = 32, layers: int = 2, n_radial: int = 12,
                 cutoff: float = MESSAGE_CUTOFF):
        super().__init__()
        n_inputs = len(ATOM_BASIS_NAMES)
        self.channels, self.cutoff = int(channels), float(cutoff)
        self.register_buffer("centres", torch.linspace(0.5, self.cutoff, n_radial))
        self.radial_width = float(self.centres[1] - self.centres[0]) if n_radial > 1 else 0.5
        # the linear part starts as the first C atom features (channel 0: the plain density) plus a little noise
        start = torch.zeros(self.channels, n_inputs)
        diagonal = torch.arange(min(self.channels, n_inputs))
        start[diagonal, diagonal] = 1.0
        self.mixing = nn.Parameter(start + 0.05 * torch.randn(self.channels, n_inputs))
        self.embed = nn.Linear(n_inputs, hidden)
        self.filters = nn.ModuleList(
            nn.Sequential(nn.Linear(n_radial, hidden), nn.SiLU(), nn.Linear(hidden, hidden)) for _ in range(layers))
        self.inputs = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.updates = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)) for _ in range(layers))
        self.head = nn.Linear(hidden, self.channels)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, h: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                distance: torch.Tensor) -> torch.Tensor:
        """Channels ``(N, C)`` of atoms with features ``h`` ``(N, K)`` and pairs ``source -> target`` at
        ``distance`` Å (several structures at once: concatenate them with offset atom indices)."""
        radial = torch.exp(-0.5 * ((distance[:, None] - self.centres) / self.radial_width) ** 2)
        envelope = 0.5 * (torch.cos(math.pi * distance.clamp(max=self.cutoff) / self.cutoff) + 1.0)
        x = self.embed(h)
        for filt, inp, update in zip(self.filters, self.inputs, self.updates, strict=True):
            message = filt(radial) * envelope[:, None] * inp(x)[source]
            x = x + update(torch.zeros_like(x).index_add_(0, target, message))
        return h @ self.mixing.T + self.head(x)
