"""Rotation-invariant neighbour-density descriptors at every grid point, computed by FFT (pure torch).

For each width ``s`` and real solid harmonic ``P_lm(x) = |x|^l Y_lm(x̂)`` (orthonormal real ``Y_lm``,
``l <= lmax``) the neighbour-density expansion seen from grid point ``r`` is the exact periodic sum

    c_slm(r) = Σ_j Σ_L φ_slm(R_j + L - r),      φ_slm(x) = s^-l P_lm(x) exp(-|x|^2 / 2 s^2),

computed for all grid points at once as ``(1/V) Σ_G i^l (2π)^{3/2} s^{l+3} P_lm(G) exp(-s^2 G^2/2) S(G) e^{iG·r}``
(the transform of a Gaussian solid harmonic is analytic). Rotating the structure rotates ``c_sl·`` by an
orthogonal matrix per ``l``, so the invariants are

    q_s = c_s00,    p_l^{st} = Σ_m c_slm c_tlm  (s <= t, 1 <= l <= lmax),

(the power spectrum, including cross-width terms). With ``DescriptorSpec(triple=True)`` two families of
three-channel invariants follow (an experimental, bispectrum-like extension; the bundled model does not use
them): with ``v_s`` the Cartesian l = 1 vector and ``Q_s`` the traceless symmetric l = 2 matrix of width s,

    t_{s t u} = v_s · Q_t · v_u  (s <= u),      w_{s t u} = tr(Q_s Q_t Q_u)  (s <= t <= u),

each stored as ``sign(x) |x|^(2/3)`` so that, like the power spectrum, it scales as the square of the
neighbour density. Descriptors are exact (no neighbour list, no cutoff)
whenever the narrowest Gaussian is resolved; a coarser grid is refined internally by an integer factor and
subsampled (see :func:`elfviz.grid.fourier.oversampling_for_width`), so a point's descriptor never depends on the
grid it is evaluated on. The same code runs on CPU and CUDA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..grid import as_cell, check_shape, reciprocal_cell
from ..grid.fourier import frequency_indices, oversampling_for_width

DEFAULT_WIDTHS = (0.25, 0.36, 0.52, 0.75, 1.05, 1.5, 2.2)
"""Gaussian widths s (Å): from the covalent bond (0.74 Å) out to the second neighbour shell."""


@dataclass(frozen=True)
class DescriptorSpec:
    """Settings of the FFT descriptors.

    Attributes
    ----------
    widths : tuple of float
        Gaussian widths s, Å.
    lmax : int
        Highest angular momentum (0..3).
    tolerance : float
        Relative size of a kernel's transform allowed at the grid's Nyquist radius before refining.
    triple : bool
        Append the three-channel invariants ``v·Q·v`` and ``tr QQQ`` (needs lmax >= 2; see the module
        docstring). Off in the bundled model.
    """

    widths: tuple[float, ...] = DEFAULT_WIDTHS
    lmax: int = 3
    tolerance: float = 1e-6
    triple: bool = False
    names: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        if not 0 <= int(self.lmax) <= 3:
            raise ValueError("lmax must be 0, 1, 2 or 3")
        if not self.widths or any(float(s) <= 0 for s in self.widths):
            raise ValueError("widths must be positive numbers (Å)")
        if self.triple and int(self.lmax) < 2:
            raise ValueError("triple invariants couple l = 1 and l = 2 channels: they need lmax >= 2")
        object.__setattr__(self, "widths", tuple(float(s) for s in self.widths))
        object.__setattr__(self, "triple", bool(self.triple))
        object.__setattr__(self, "names", tuple(feature_names(self.widths, int(self.lmax), self.triple)))

    @property
    def n_features(self) -> int:
        return len(self.names)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("names")
        out["widths"] = list(self.widths)
        if not self.triple:  # weights written before the option existed read back the same
            out.pop("triple")
        return out

    @classmethod
    def from_dict(cls, data: dict) -> DescriptorSpec:
        return cls(
            widths=tuple(data["widths"]),
            lmax=int(data["lmax"]),
            tolerance=float(data.get("tolerance", 1e-6)),
            triple=bool(data.get("triple", False)),
        )


def feature_names(widths: Sequence[float], lmax: int, triple: bool = False) -> list[str]:
    """Names of the invariants in the order :func:`compute_descriptors` returns them."""
    names = [f"q_s{s:g}" for s in widths]
    for l in range(1, lmax + 1):
        for i, s in enumerate(widths):
            for t in widths[i:]:
                names.append(f"p{l}_s{s:g}_s{t:g}")
    if triple:
        names += [f"vQv_s{widths[s]:g}_s{widths[t]:g}_s{widths[u]:g}" for s, t, u in _vqv_triples(len(widths))]
        names += [f"QQQ_s{widths[s]:g}_s{widths[t]:g}_s{widths[u]:g}" for s, t, u in _qqq_triples(len(widths))]
    return names


def _vqv_triples(n_widths: int) -> list[tuple[int, int, int]]:
    """Width indices (s, t, u) of ``v_s · Q_t · v_u``, s <= u (the form is symmetric in s and u)."""
    return [(s, t, u) for s in range(n_widths) for u in range(s, n_widths) for t in range(n_widths)]


def _qqq_triples(n_widths: int) -> list[tuple[int, int, int]]:
    """Width indices s <= t <= u of ``tr(Q_s Q_t Q_u)`` (the trace of symmetric matrices is symmetric)."""
    return [(s, t, u) for s in range(n_widths) for t in range(s, n_widths) for u in range(t, n_widths)]


# ----------------------------------------------------------------------------- harmonics
def solid_harmonics(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, lmax: int) -> list[list[torch.Tensor]]:
    """Real solid harmonics ``|r|^l Y_lm(r̂)`` (orthonormal ``Y_lm`` on the unit sphere), m = -l..l.

    Returns a list over l of lists over m.
    """
    out = [[torch.full_like(x, 0.5 / math.sqrt(math.pi))]]
    if lmax >= 1:
        c1 = math.sqrt(3.0 / (4.0 * math.pi))
        out.append([c1 * y, c1 * z, c1 * x])
    if lmax >= 2:
        c = 0.5 * math.sqrt(15.0 / math.pi)
        out.append(
            [
                c * x * y,
                c * y * z,
                0.25 * math.sqrt(5.0 / math.pi) * (2 * z * z - x * x - y * y),
                c * x * z,
                0.5 * c * (x * x - y * y),
            ]
        )
    if lmax >= 3:
        a = 0.25 * math.sqrt(35.0 / (2.0 * math.pi))
        b = 0.5 * math.sqrt(105.0 / math.pi)
        d = 0.25 * math.sqrt(21.0 / (2.0 * math.pi))
        e = 0.25 * math.sqrt(7.0 / math.pi)
        rho2 = x * x + y * y
        out.append(
            [
                a * y * (3 * x * x - y * y),
                b * x * y * z,
                d * y * (4 * z * z - rho2),
                e * z * (2 * z * z - 3 * rho2),
                d * x * (4 * z * z - rho2),
                0.5 * b * z * (x * x - y * y),
                a * x * (x * x - 3 * y * y),
            ]
        )
    return out


# ----------------------------------------------------------------------------- structure factor
def structure_factor_torch(
    frac: torch.Tensor, shape: Sequence[int], *, dtype=torch.complex64, atom_chunk: int = 256,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """``S(G) = Σ_j w_j exp(-2πi h·f_j)`` on the rfft half grid, ``(na, nb, nc//2+1)``, on ``frac``'s device.

    The torch twin of :func:`elfviz.grid.fourier.structure_factor` (NumPy; the one used everywhere else), kept so
    that the descriptors run on CUDA; the model tests check that the two agree to 1e-10 in float64.
    ``frac``: fractional coordinates ``(N, 3)``; ``weights``: one real weight per atom ``(N,)`` (default 1).
    """
    device = frac.device
    ha, hb, hc = (
        torch.as_tensor(h, device=device, dtype=torch.float64) for h in frequency_indices(shape, real=True)
    )
    frac = frac.to(torch.float64)
    out = torch.zeros((len(ha) * len(hb), len(hc)), dtype=dtype, device=device)
    for start in range(0, frac.shape[0], atom_chunk):
        f = frac[start : start + atom_chunk]
        ea = torch.polar(torch.ones(1, device=device, dtype=torch.float64), -2 * math.pi * f[:, 0:1] * ha).to(
            dtype
        )
        eb = torch.polar(torch.ones(1, device=device, dtype=torch.float64), -2 * math.pi * f[:, 1:2] * hb).to(
            dtype
        )
        ec = torch.polar(torch.ones(1, device=device, dtype=torch.float64), -2 * math.pi * f[:, 2:3] * hc).to(
            dtype
        )
        if weights is not None:
            ec = ec * weights[start : start + atom_chunk, None].to(device=device, dtype=ec.real.dtype)
        ab = (ea[:, :, None] * eb[:, None, :]).reshape(f.shape[0], -1)
        out += ab.transpose(0, 1) @ ec
    return out.reshape(len(ha), len(hb), len(hc))


def _g_components(cell: np.ndarray, shape, device, dtype):
    recip = torch.as_tensor(reciprocal_cell(cell), dtype=dtype, device=device)
    ha, hb, hc = (torch.as_tensor(h, device=device, dtype=dtype) for h in frequency_indices(shape, real=True))
    g = (
        ha[:, None, None, None] * recip[0]
        + hb[None, :, None, None] * recip[1]
        + hc[None, None, :, None] * recip[2]
    )
    return g[..., 0], g[..., 1], g[..., 2]


# ----------------------------------------------------------------------------- channels and invariants
def density_channels(
    positions,
    cell,
    shape: Sequence[int],
    spec: DescriptorSpec = DescriptorSpec(),
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    weights=None,
) -> torch.Tensor:
    """Neighbour-density expansion coefficients ``c_slm`` on the grid.

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions, Å.
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    shape : (int, int, int)
        Grid shape.
    spec : DescriptorSpec
        Widths and lmax.
    device, dtype
        Where and in which real precision to compute (float32 or float64).
    weights : array_like, (N,), optional
        A real weight per atom multiplying its Gaussians (default 1 each: the neighbour density itself);
        see :mod:`elfviz.model.atom_channels`.

    Returns
    -------
    torch.Tensor
        ``(n_widths, (lmax+1)^2, na, nb, nc)``; index ``l*l + l + m`` along the second axis.
    """
    cell = as_cell(cell)
    shape = check_shape(shape)
    complex_dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    frac = torch.as_tensor(
        np.asarray(positions, dtype=float).reshape(-1, 3) @ np.linalg.inv(cell),
        device=device,
        dtype=torch.float64,
    )
    volume = abs(float(np.linalg.det(cell)))
    if weights is not None:
        weights = torch.as_tensor(np.asarray(weights, dtype=float).reshape(-1), device=device, dtype=torch.float64)
        if weights.shape[0] != frac.shape[0]:
            raise ValueError(f"{weights.shape[0]} atom weights for {frac.shape[0]} atoms")
    nl = (spec.lmax + 1) ** 2
    out = torch.empty((len(spec.widths), nl) + tuple(shape), dtype=dtype, device=device)
    cache: dict[int, tuple] = {}
    for w, s in enumerate(spec.widths):
        m = oversampling_for_width(cell, shape, s, degree=spec.lmax, tolerance=spec.tolerance)
        if m not in cache:
            fine = tuple(n * m for n in shape)
            sfac = structure_factor_torch(frac, fine, dtype=complex_dtype, weights=weights)
            gx, gy, gz = _g_components(cell, fine, device, dtype)
            cache[m] = (fine, sfac, gx, gy, gz, solid_harmonics(gx, gy, gz, spec.lmax))
        fine, sfac, gx, gy, gz, harmonics = cache[m]
        g2 = gx * gx + gy * gy + gz * gz
        radial = sfac * (
            torch.exp(-0.5 * s * s * g2) * ((2 * math.pi) ** 1.5 * s**3 * math.prod(fine) / volume)
        )
        re_im = torch.view_as_real(radial)  # (..., 2)
        times_i = torch.stack((-re_im[..., 1], re_im[..., 0]), dim=-1)  # i * radial
        spectra = torch.empty((nl,) + tuple(re_im.shape), dtype=dtype, device=device)
        for l in range(spec.lmax + 1):
            # coefficient i^l s^l: real for even l (sign (-1)^(l/2)), i times (-1)^((l-1)/2) s^l for odd l
            sign = (-1) ** (l // 2) * s**l
            base = re_im if l % 2 == 0 else times_i
            for k, harmonic in enumerate(harmonics[l]):
                torch.mul(base, (sign * harmonic).unsqueeze(-1), out=spectra[l * l + k])
        spectra = torch.view_as_complex(spectra)
        if m == 1:
            torch.fft.irfftn(spectra, s=fine, dim=(-3, -2, -1), out=out[w])
        else:
            out[w] = torch.fft.irfftn(spectra, s=fine, dim=(-3, -2, -1))[:, ::m, ::m, ::m]
    return out


def invariants(channels: torch.Tensor, lmax: int) -> torch.Tensor:
    """Rotation invariants from :func:`density_channels` output: ``(n_features, na, nb, nc)``.

    Order: ``q_s`` for every width, then for l = 1..lmax the power spectrum ``p_l^{st}`` for s <= t.
    Each invariant is written straight into one preallocated output (one pair of widths at a time), which is
    4x faster on CPU than a batched Gram matrix and never holds more than one temporary of one channel's size.
    """
    n_widths = channels.shape[0]
    n_pairs = n_widths * (n_widths + 1) // 2
    n_features = n_widths + lmax * n_pairs
    out = torch.empty((n_features,) + tuple(channels.shape[2:]), dtype=channels.dtype, device=channels.device)
    out[:n_widths] = channels[:, 0]
    rows = out.reshape(n_features, -1)
    row = n_widths
    for l in range(1, lmax + 1):
        block = channels[:, l * l : (l + 1) * (l + 1)].reshape(n_widths, 2 * l + 1, -1)  # (S, 2l+1, P)
        for s in range(n_widths):
            for t in range(s, n_widths):
                torch.sum(block[s] * block[t], dim=0, out=rows[row])  # Σ_m c_slm c_tlm
                row += 1
    return out


_SQ2, _SQ6 = 1.0 / math.sqrt(2.0), 1.0 / math.sqrt(6.0)
# Frobenius-orthonormal traceless symmetric matrices B_m with Y_2m(r) proportional to r·B_m·r, in the order of
# solid_harmonics (xy, yz, 3z²-r², xz, x²-y²): Q = Σ_m c_2m B_m rotates as R Q Rᵀ.
_L2_BASIS = (
    ((0.0, _SQ2, 0.0), (_SQ2, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, _SQ2), (0.0, _SQ2, 0.0)),
    ((-_SQ6, 0.0, 0.0), (0.0, -_SQ6, 0.0), (0.0, 0.0, 2 * _SQ6)),
    ((0.0, 0.0, _SQ2), (0.0, 0.0, 0.0), (_SQ2, 0.0, 0.0)),
    ((_SQ2, 0.0, 0.0), (0.0, -_SQ2, 0.0), (0.0, 0.0, 0.0)),
)


def triple_invariants(channels: torch.Tensor, *, chunk: int = 65536) -> torch.Tensor:
    """Three-channel invariants ``v_s·Q_t·v_u`` and ``tr(Q_s Q_t Q_u)`` from :func:`density_channels` output.

    Returns ``(n_triple, na, nb, nc)`` in the order of :func:`feature_names` (``triple=True``), each value
    stored as ``sign(x) |x|^(2/3)``. Computed over ``chunk`` grid points at a time, so the temporaries stay a
    few hundred MB whatever the grid.
    """
    n_widths = channels.shape[0]
    if channels.shape[1] < 9:
        raise ValueError("triple invariants need the l = 1 and l = 2 channels (lmax >= 2)")
    flat = channels.reshape(n_widths, channels.shape[1], -1)
    vqv, qqq = _vqv_triples(n_widths), _qqq_triples(n_widths)
    out = torch.empty((len(vqv) + len(qqq), flat.shape[-1]), dtype=channels.dtype, device=channels.device)
    basis = torch.tensor(_L2_BASIS, dtype=channels.dtype, device=channels.device)
    for start in range(0, flat.shape[-1], chunk):
        part = flat[..., start : start + chunk]
        v = part[:, [3, 1, 2]]  # l = 1 components (y, z, x) -> Cartesian (x, y, z); (W, 3, P)
        q = torch.einsum("wmp,mij->wijp", part[:, 4:9], basis)  # (W, 3, 3, P)
        qv = torch.einsum("tijp,ujp->tuip", q, v)  # Q_t v_u, (W, W, 3, P)
        row = 0
        for s in range(n_widths):
            for u in range(s, n_widths):
                out[row : row + n_widths, start : start + chunk] = torch.einsum("ip,tip->tp", v[s], qv[:, u])
                row += n_widths
        for s in range(n_widths):
            for t in range(s, n_widths):
                qq = torch.einsum("ijp,jkp->ikp", q[s], q[t])
                for u in range(t, n_widths):
                    out[row, start : start + chunk] = torch.einsum("ikp,kip->p", qq, q[u])
                    row += 1
    out = out.abs().pow_(2.0 / 3.0).copysign_(out)
    return out.reshape((out.shape[0],) + tuple(channels.shape[2:]))


def descriptor_bytes(cell, shape: Sequence[int], spec: DescriptorSpec = DescriptorSpec(), *,
                     dtype_bytes: int = 4) -> int:
    """Peak memory (bytes) of :func:`compute_descriptors` on ``shape``, estimated before allocating.

    The density channels ``(n_widths, (lmax+1)^2, P)``, the Fourier work arrays of the finest (oversampled)
    grid, and the invariants; calibrated against the measured peak (856-935 bytes per point on 128³-160³
    grids for the shipped model's spec, this estimate: 972 with its outputs).

    Examples
    --------
    >>> import numpy as np
    >>> round(descriptor_bytes(np.eye(3) * 10.0, (64, 64, 64)) / 64**3)  # bytes per point, default spec
    2604
    """
    cell = as_cell(cell)
    shape = check_shape(shape)
    points = math.prod(shape)
    nl = (spec.lmax + 1) ** 2
    oversampling = max(oversampling_for_width(cell, shape, s, degree=spec.lmax, tolerance=spec.tolerance)
                       for s in spec.widths)
    fine_half = points * oversampling**3 // 2 + 1  # rfft half spectrum of the finest grid
    channels = len(spec.widths) * nl * points * dtype_bytes
    spectra = (2 * nl + 8) * fine_half * 2 * dtype_bytes  # spectra, harmonics, g components, structure factor
    subsampled = nl * points * oversampling**3 * dtype_bytes if oversampling > 1 else 0
    features = spec.n_features * points * dtype_bytes  # the invariants
    return int(channels + spectra + subsampled + features)


def compute_descriptors(
    positions,
    cell,
    shape: Sequence[int],
    spec: DescriptorSpec = DescriptorSpec(),
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Rotation-invariant descriptors at every grid point, ``(n_features, na, nb, nc)`` (feature-major, so
    that batches of points are cheap column slices of ``.reshape(n_features, -1)``).

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions, Å.
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    shape : (int, int, int)
        Grid shape (points along a, b, c; point (i, j, k) at fractional (i/na, j/nb, k/nc)).
    spec : DescriptorSpec
        Gaussian widths (Å) and lmax.
    device, dtype
        Torch device and real dtype.

    Examples
    --------
    >>> import numpy as np
    >>> d = compute_descriptors([[0, 0, 0], [0.74, 0, 0]], np.eye(3) * 4, (16, 16, 16), DescriptorSpec(lmax=2))
    >>> tuple(d.shape)
    (63, 16, 16, 16)
    """
    channels = density_channels(positions, cell, shape, spec, device=device, dtype=dtype)
    if not spec.triple:
        return invariants(channels, spec.lmax)
    return torch.cat([invariants(channels, spec.lmax), triple_invariants(channels)])
