"""The per-point network of the atom-channel family: learned atom channels and a long-wavelength path.

:class:`AtomMixNet` reads, at each grid point, the fixed descriptors of :mod:`.descriptors` (as
:class:`~elfviz.model.network.ElfNet` does) and the atom-weighted densities of :mod:`.atom_channels`:

* **learned atom channels** (``atoms=True``): ``ρ_{c,s,lm} = Σ_k W_ck b_{k,s,lm}`` with a learned ``(C, K)``
  mixing, i.e. atom features ``f_c(a) = Σ_k W_ck h_k(a)`` trained end to end; their rotation invariants
  (``ρ_{c,s,00}`` and ``Σ_m ρ_{c,s,lm} ρ_{c',t,lm}`` for every pair of (channel, width), l >= 1) join the fixed
  descriptors at the MLP's input;
* **a long-wavelength path** (``wide=True``): a learned linear response to the wide (1.5-3 Å) atom-weighted
  densities added to the MLP's logit: a smooth field ``Σ_a Σ_k h_k(a) K_k(|r - r_a|)`` with learned radial
  kernels ``K_k`` made of wide Gaussians, i.e. a low-k Fourier head on the atoms' features.

With both off it is the 1.6 network (same transform, standardisation and MLP), which is how the ablation
compares them on one footing. Outputs pass a sigmoid, so the ELF is always in [0, 1].

Examples
--------
>>> import torch
>>> from elfviz.model.atom_channels import AtomChannelSpec
>>> spec = AtomChannelSpec(widths=(0.52, 0.75), lmax=1, wide=(2.2,))
>>> net = AtomMixNet(5, spec, channels=2, hidden=(8,))
>>> y = net(torch.rand(4, 5), torch.rand(4, spec.n_channels))
>>> tuple(y.shape), bool(((y >= 0) & (y <= 1)).all())
((4,), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .atom_channels import AtomChannelSpec
from .atom_messages import AtomMessages, MessageSpec
from .lowk_head import LowKSpec
from .network import mlp

__all__ = ["AtomMixNet", "LowKNet", "MessageAtomNet", "channel_invariants", "head_on_grid", "predict_any",
           "predict_grid", "predict_grid_messages"]


def _signed_sqrt(x: torch.Tensor) -> torch.Tensor:
    return x.abs().add(1e-12).sqrt().copysign(x)


def channel_invariants(mixed: torch.Tensor, lmax: int, pairs: torch.Tensor) -> torch.Tensor:
    """Rotation invariants of densities ``mixed`` ``(P, CW, (lmax+1)²)`` (one row per (channel, width)):
    ``ρ_{cw,00}`` and, for l >= 1, ``Σ_m ρ_{cw,lm} ρ_{c'w',lm}`` for the (cw, c'w') in ``pairs`` (2, n)."""
    parts = [mixed[..., 0]]
    n_cw = mixed.shape[1]
    upper = pairs[0] * n_cw + pairs[1]  # flat indices of the upper triangle of a (CW, CW) Gram
    for l in range(1, lmax + 1):
        block = mixed[..., l * l : (l + 1) * (l + 1)]
        gram = torch.bmm(block, block.transpose(1, 2))  # Σ_m ρ_{c,s,lm} ρ_{c',t,lm}: 4-6x faster than pairs
        parts.append(gram.reshape(gram.shape[0], -1)[:, upper])
    return torch.cat(parts, dim=1)


def _fit_scale(values: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> None:
    # a feature (nearly) constant on the training points is not amplified beyond 100x its typical size
    spread = values.std(0)
    floor = 1e-2 * (values.mean(0).abs() + spread) + 1e-6
    mean.copy_(values.mean(0))
    scale.copy_(1.0 / torch.maximum(spread, floor))


class AtomMixNet(nn.Module):
    """Per-point MLP on fixed descriptors and learned atom channels, plus a long-wavelength logit.

    Parameters
    ----------
    n_fixed : int
        Length of the fixed descriptor vector (:mod:`.descriptors`).
    spec : AtomChannelSpec
        The atom-weighted densities given to :meth:`forward`.
    channels : int
        Number C of learned atom channels.
    hidden : sequence of int
        Widths of the MLP's hidden layers.
    atoms, wide : bool
        Use the learned atom channels, the long-wavelength path.
    """

    def __init__(self, n_fixed: int, spec: AtomChannelSpec, *, channels: int = 4,
                 hidden: Sequence[int] = (128, 128, 64), atoms: bool = True, wide: bool = True):
        super().__init__()
        self.spec, self.n_fixed, self.channels = spec, int(n_fixed), int(channels)
        self.hidden, self.atoms, self.wide = tuple(int(h) for h in hidden), bool(atoms), bool(wide)
        K = spec.n_basis
        n_cw = self.channels * len(spec.widths)
        self.register_buffer("pairs", torch.triu_indices(n_cw, n_cw), persistent=False)  # (channel, width) pairs
        self.n_atom_features = (n_cw + spec.lmax * self.pairs.shape[1]) if self.atoms else 0
        n_in = self.n_fixed + self.n_atom_features
        # the mixing starts as the first C basis features (channel 0 = the plain density) plus a little noise
        start = torch.zeros(self.channels, K)
        start[torch.arange(min(self.channels, K)), torch.arange(min(self.channels, K))] = 1.0
        self.mixing = nn.Parameter(start + 0.05 * torch.randn(self.channels, K))
        self.register_buffer("feature_mean", torch.zeros(n_in))
        self.register_buffer("feature_scale", torch.ones(n_in))
        n_wide = K * len(spec.wide)
        self.register_buffer("wide_mean", torch.zeros(n_wide))
        self.register_buffer("wide_scale", torch.ones(n_wide))
        self.wide_head = nn.Linear(n_wide, 1)
        nn.init.zeros_(self.wide_head.weight)
        nn.init.zeros_(self.wide_head.bias)
        self.mlp = mlp(n_in, self.hidden)

    def n_parameters(self) -> int:
        """Trainable parameters in use (the mixing only with ``atoms``, the wide head only with ``wide``)."""
        used = sum(p.numel() for p in self.mlp.parameters())
        used += self.mixing.numel() if self.atoms else 0
        used += sum(p.numel() for p in self.wide_head.parameters()) if self.wide else 0
        return used

    # ------------------------------------------------------------------ features
    def atom_invariants(self, channels: torch.Tensor) -> torch.Tensor:
        """Invariants of the mixed atom channels, ``(P, n_atom_features)``, from :meth:`forward`'s ``channels``."""
        spec = self.spec
        K, nl = spec.n_basis, (spec.lmax + 1) ** 2
        local = channels[:, : K * spec.n_local].reshape(-1, K, len(spec.widths), nl)
        mixed = torch.einsum("ck,pkwm->pcwm", self.mixing, local).reshape(local.shape[0], -1, nl)  # (P, CW, nl)
        return channel_invariants(mixed, spec.lmax, self.pairs)

    def features(self, fixed: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """The MLP's input before standardisation: signed square roots of the fixed and atom invariants."""
        parts = [fixed]
        if self.atoms:
            parts.append(self.atom_invariants(channels))
        return _signed_sqrt(torch.cat(parts, dim=1))

    def wide_channels(self, channels: torch.Tensor) -> torch.Tensor:
        return channels[:, self.spec.n_basis * self.spec.n_local :]

    @torch.no_grad()
    def fit_standardisation(self, fixed: torch.Tensor, channels: torch.Tensor) -> None:
        """Standardisation buffers from training points (with the initial mixing)."""
        for values, mean, scale in ((self.features(fixed, channels), self.feature_mean, self.feature_scale),
                                    (self.wide_channels(channels), self.wide_mean, self.wide_scale)):
            _fit_scale(values, mean, scale)

    # ------------------------------------------------------------------ output
    def logits(self, fixed: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        z = (self.features(fixed, channels) - self.feature_mean) * self.feature_scale
        out = self.mlp(z).squeeze(-1)
        if self.wide:
            w = (self.wide_channels(channels) - self.wide_mean) * self.wide_scale
            out = out + self.wide_head(w).squeeze(-1)
        return out

    def forward(self, fixed: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
        """ELF in [0, 1] at ``P`` points: ``fixed`` ``(P, n_fixed)``, ``channels`` ``(P, spec.n_channels)``."""
        return torch.sigmoid(self.logits(fixed, channels))


@torch.no_grad()
def predict_grid(net: AtomMixNet, positions, cell, shape: Sequence[int], fixed_spec, *,
                 device: str | torch.device = "cpu", batch: int = 65536) -> torch.Tensor:
    """ELF of ``net`` at every point of a grid, ``shape`` (CPU float32): fixed descriptors and atom-weighted
    densities by FFT, the network over batches of points.

    ``fixed_spec`` is the :class:`~elfviz.model.descriptors.DescriptorSpec` the network was trained with.
    """
    from .atom_channels import basis_channels
    from .descriptors import compute_descriptors

    net.eval()
    fixed = compute_descriptors(positions, cell, shape, fixed_spec, device=device).reshape(fixed_spec.n_features, -1)
    channels = basis_channels(positions, cell, shape, net.spec, device=device).reshape(net.spec.n_channels, -1)
    out = torch.empty(fixed.shape[1], dtype=torch.float32)
    for start in range(0, fixed.shape[1], batch):
        stop = start + batch
        out[start:stop] = net(fixed[:, start:stop].T, channels[:, start:stop].T).float().cpu()
    return out.reshape(tuple(int(n) for n in shape))


class MessageAtomNet(nn.Module):
    """Per-point MLP on fixed descriptors and the densities of message-passing atom channels.

    The channels ``f_c(a)`` come from :class:`~elfviz.model.atom_messages.AtomMessages` (linear in the fixed
    atom features plus a learned message-passing part, which starts at zero); their densities
    ``ρ_{c,s,lm}`` (:mod:`.atom_messages`) give rotation invariants as in :class:`AtomMixNet`.

    Parameters
    ----------
    n_fixed : int
        Length of the fixed descriptor vector (:mod:`.descriptors`).
    spec : MessageSpec
        Widths and lmax of the learned densities.
    channels : int
        Number C of atom channels.
    hidden : sequence of int
        Widths of the per-point MLP's hidden layers.
    message_hidden, layers : int
        Width of the atom states, number of message-passing layers.
    """

    def __init__(self, n_fixed: int, spec: MessageSpec, *, channels: int = 4,
                 hidden: Sequence[int] = (128, 128, 64), message_hidden: int = 32, layers: int = 2):
        super().__init__()
        self.spec, self.n_fixed, self.channels = spec, int(n_fixed), int(channels)
        self.hidden = tuple(int(h) for h in hidden)
        self.messages = AtomMessages(self.channels, hidden=message_hidden, layers=layers)
        n_cw = self.channels * len(spec.widths)
        self.register_buffer("pairs", torch.triu_indices(n_cw, n_cw), persistent=False)
        n_in = self.n_fixed + n_cw + spec.lmax * self.pairs.shape[1]
        self.register_buffer("feature_mean", torch.zeros(n_in))
        self.register_buffer("feature_scale", torch.ones(n_in))
        self.mlp = mlp(n_in, self.hidden)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def densities(self, terms: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``ρ`` ``(P, C*W, nl)`` from per-atom terms ``(P, N, n_terms)`` and atom channels ``(P, N, C)``
        (each point's own structure's atoms; padding atoms have zero terms)."""
        rho = torch.einsum("pnt,pnc->pct", terms, weights)
        return rho.reshape(rho.shape[0], -1, (self.spec.lmax + 1) ** 2)

    def features(self, fixed: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
        return _signed_sqrt(torch.cat([fixed, channel_invariants(mixed, self.spec.lmax, self.pairs)], dim=1))

    @torch.no_grad()
    def fit_standardisation(self, fixed: torch.Tensor, mixed: torch.Tensor) -> None:
        """Standardisation buffers from training points (with the initial atom channels)."""
        _fit_scale(self.features(fixed, mixed), self.feature_mean, self.feature_scale)

    def from_densities(self, fixed: torch.Tensor, mixed: torch.Tensor) -> torch.Tensor:
        """ELF in [0, 1] at ``P`` points from fixed descriptors and densities ``(P, C*W, nl)``."""
        z = (self.features(fixed, mixed) - self.feature_mean) * self.feature_scale
        return torch.sigmoid(self.mlp(z).squeeze(-1))

    def forward(self, fixed: torch.Tensor, terms: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """ELF at ``P`` points: ``fixed`` ``(P, n_fixed)``, ``terms`` ``(P, N, n_terms)``
        (:func:`~elfviz.model.atom_messages.atom_terms`), ``weights`` ``(P, N, C)`` (:attr:`messages`)."""
        return self.from_densities(fixed, self.densities(terms, weights))


@torch.no_grad()
def predict_grid_messages(net: MessageAtomNet, positions, cell, shape: Sequence[int], fixed_spec, *,
                          device: str | torch.device = "cpu", batch: int = 65536,
                          fixed: torch.Tensor | None = None, graph: Sequence[torch.Tensor] | None = None
                          ) -> torch.Tensor:
    """ELF of ``net`` at every point of a grid, ``shape`` (CPU float32): the atom channels once, their
    densities by FFT (:func:`~elfviz.model.atom_messages.learned_densities`), the MLP over batches of points.
    When already computed for this structure (an ensemble's members share them): ``fixed``, the fixed
    descriptors of this grid ``(n_features, P)``; ``graph``, :func:`~elfviz.model.atom_messages.atom_graph`."""
    from .atom_messages import atom_graph, learned_densities
    from .descriptors import compute_descriptors

    net.eval()
    if graph is None:
        graph = atom_graph(positions, cell)
    weights = net.messages(*[t.to(device) for t in graph])
    if fixed is None:
        fixed = compute_descriptors(positions, cell, shape, fixed_spec, device=device)
        fixed = fixed.reshape(fixed_spec.n_features, -1)
    rho = learned_densities(weights, positions, cell, shape, net.spec, device=device)
    nl = (net.spec.lmax + 1) ** 2
    rho = rho.reshape(net.channels * len(net.spec.widths), nl, -1)
    out = torch.empty(fixed.shape[1], dtype=torch.float32)
    for start in range(0, fixed.shape[1], batch):
        stop = start + batch
        mixed = rho[:, :, start:stop].permute(2, 0, 1).contiguous()
        out[start:stop] = net.from_densities(fixed[:, start:stop].T, mixed).float().cpu()
    return out.reshape(tuple(int(n) for n in shape))


HEAD_MODES = ("sum", "logit")
"""How :class:`LowKNet` joins its head to the base ELF: added to it (``sum``, clipped to [0, 1] on whole grids) or
to its logit (``logit``: the ELF stays inside (0, 1), the head fades where the base is near 0 or 1)."""

LOGIT_EPS = 1e-6
"""Base ELF clipped to [eps, 1 - eps] before its logit (float32 sigmoids round to 1 above logit ~17)."""


class LowKNet(nn.Module):
    """A per-point network (:class:`AtomMixNet` or :class:`MessageAtomNet`) plus the long-wavelength head of
    :mod:`.lowk_head`: ``ELF = base + Σ_f w_f Φ_f`` (``mode="sum"``, clipped to [0, 1] on whole grids) or
    ``σ(logit(base) + Σ_f w_f Φ_f)`` (``mode="logit"``), ``w`` starting at zero."""

    def __init__(self, base: nn.Module, spec: LowKSpec, mode: str = "sum"):
        super().__init__()
        if mode not in HEAD_MODES:
            raise ValueError(f"head mode must be one of {HEAD_MODES}, got {mode!r}")
        self.base, self.spec, self.mode = base, spec, mode
        self.head = nn.Parameter(torch.zeros(spec.n_features))

    def combine(self, base, head):
        """The ELF from the base network's ELF and the head's field (tensors or float arrays alike).

        >>> net = LowKNet(nn.Identity(), LowKSpec(), mode="logit")
        >>> float(net.combine(torch.tensor(0.99), torch.tensor(5.0))) < 1.0
        True
        """
        if self.mode == "sum":
            return base + head
        if isinstance(base, torch.Tensor):
            return torch.sigmoid(torch.logit(base, eps=LOGIT_EPS) + head)
        import numpy as np
        from scipy.special import expit, logit

        return expit(logit(np.clip(base, LOGIT_EPS, 1.0 - LOGIT_EPS)) + head)

    def n_parameters(self) -> int:
        return self.base.n_parameters() + self.head.numel()


@torch.no_grad()
def predict_any(net: nn.Module, positions, cell, numbers, shape: Sequence[int], fixed_spec, *,
                device: str | torch.device = "cpu", fixed: torch.Tensor | None = None,
                graph: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """ELF of any network of this module on a grid of ``shape`` (CPU float32). A :class:`MessageAtomNet` can be
    given what is already computed for this structure and grid (:func:`predict_grid_messages`' ``fixed`` and
    ``graph``)."""
    import numpy as np

    if isinstance(net, MessageAtomNet):
        return predict_grid_messages(net, positions, cell, shape, fixed_spec, device=device, fixed=fixed,
                                     graph=graph)
    if isinstance(net, AtomMixNet):
        return predict_grid(net, positions, cell, shape, fixed_spec, device=device)
    if not isinstance(net, LowKNet):
        raise TypeError(f"no grid prediction for a {type(net).__name__}")
    field = predict_any(net.base, positions, cell, numbers, shape, fixed_spec, device=device).double().numpy()
    field = net.combine(field, head_on_grid(net, positions, cell, numbers, shape, fixed_spec, device=device))
    return torch.as_tensor(np.clip(field, 0.0, 1.0), dtype=torch.float32)


@torch.no_grad()
def head_on_grid(net: LowKNet, positions, cell, numbers, shape: Sequence[int], fixed_spec, *,
                 device: str | torch.device = "cpu", coarse_fixed: torch.Tensor | None = None,
                 graph: Sequence[torch.Tensor] | None = None):
    """The long-wavelength head's field ``Σ_f w_f Φ_f`` on a grid of ``shape`` (float64 array): the base network
    on a coarse grid of the cell, its low-|G| features (:func:`~.lowk_head.mode_design`), one inverse FFT.
    A :class:`MessageAtomNet` base can be given what an ensemble's members share: ``coarse_fixed``, the fixed
    descriptors on the coarse grid (:func:`~.lowk_head.coarse_shape`), and the atom ``graph``."""
    from .lowk_head import coarse_shape, head_field, mode_design

    coarse = predict_any(net.base, positions, cell, numbers, coarse_shape(cell, net.spec.spacing), fixed_spec,
                         device=device, fixed=coarse_fixed, graph=graph).double().numpy()
    modes, hkl = mode_design(coarse, positions, numbers, cell, net.spec)
    return head_field(net.head.detach().cpu().double().numpy(), modes, hkl, shape)
