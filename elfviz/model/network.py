"""The per-point network and its on-disk format (plain ``state_dict`` + JSON metadata).

``ElfNet`` maps the descriptor vector of one grid point to the ELF there: a fixed feature transform
(signed square root, which turns the quadratic power-spectrum invariants back into amplitudes), a
standardisation whose mean and scale are buffers fitted on the training data, an MLP with SiLU
activations, and a sigmoid so the output is always in [0, 1]. ``ElfEnsemble`` averages the outputs of
several such networks trained from different seeds (a deep ensemble): the members' errors are partly
independent, so the mean is more accurate than any member.

Weights are stored as ``NAME.pt`` (a ``state_dict`` of tensors only, read with ``torch.load(...,
weights_only=True)``, never unpickling code) next to ``NAME.json`` (version, descriptor settings, layer
sizes, training summary); nothing in either file is executed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..errors import ModelError
from .descriptors import DescriptorSpec

if TYPE_CHECKING:
    from .message_model import MessageEnsemble

log = logging.getLogger(__name__)

FORMAT = "elfviz-elfnet-1"


def mlp(n_inputs: int, hidden: Sequence[int]) -> nn.Sequential:
    """Linear + SiLU layers of the given widths, then one linear output (a logit per point)."""
    layers: list[nn.Module] = []
    width = int(n_inputs)
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.SiLU()]
        width = int(h)
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class ElfNet(nn.Module):
    """Per-point MLP: descriptors ``(P, F)`` -> ELF ``(P,)`` in [0, 1].

    Parameters
    ----------
    n_features : int
        Length of the descriptor vector.
    hidden : sequence of int
        Widths of the hidden layers.
    transform : {"sqrt", "none"}
        Feature transform applied before standardisation.

    Examples
    --------
    >>> net = ElfNet(5, hidden=(8, 8))
    >>> y = net(torch.rand(3, 5))
    >>> tuple(y.shape), bool(((y >= 0) & (y <= 1)).all())
    ((3,), True)
    """

    def __init__(self, n_features: int, hidden: Sequence[int] = (128, 128, 64), transform: str = "sqrt"):
        super().__init__()
        if transform not in ("sqrt", "none"):
            raise ValueError("transform must be 'sqrt' or 'none'")
        self.transform = transform
        self.n_features = int(n_features)
        self.hidden = tuple(int(h) for h in hidden)
        self.register_buffer("feature_mean", torch.zeros(self.n_features))
        self.register_buffer("feature_scale", torch.ones(self.n_features))
        self.mlp = mlp(self.n_features, self.hidden)

    def transform_features(self, x: torch.Tensor) -> torch.Tensor:
        """Fixed transform (before standardisation)."""
        if self.transform == "sqrt":  # sign(x) sqrt|x|, in one temporary (copysign gives the same numbers)
            return x.abs().sqrt_().copysign_(x)
        return x

    @torch.no_grad()
    def fit_standardisation(self, x: torch.Tensor) -> None:
        """Set the standardisation buffers from raw training descriptors ``(P, F)`` (the transform makes one
        temporary copy of ``x``, which matters for a training pool of gigabytes)."""
        z = self.transform_features(x.to(self.feature_mean.device, self.feature_mean.dtype))
        self.feature_mean.copy_(z.mean(0))
        self.feature_scale.copy_(1.0 / z.std(0).clamp_min(1e-6))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_of_transformed(self.transform_features(x))

    def logits_of_transformed(self, z: torch.Tensor) -> torch.Tensor:
        """Logits from already transformed features (lets an ensemble transform once for all members)."""
        return self.mlp((z - self.feature_mean) * self.feature_scale).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


class ElfEnsemble(nn.Module):
    """Mean ELF of several :class:`ElfNet` members with the same inputs: ``(P, F)`` -> ``(P,)`` in [0, 1].

    The members' outputs (not logits) are averaged, so the ensemble is the mean prediction and stays in
    [0, 1]. ``state_dict`` keys are ``members.<i>.<member key>``.

    Parameters
    ----------
    members : sequence of ElfNet
        Trained networks with the same number of features and the same feature transform.

    Examples
    --------
    >>> a, b = ElfNet(5, hidden=(8,)), ElfNet(5, hidden=(8,))
    >>> x = torch.rand(3, 5)
    >>> bool(torch.allclose(ElfEnsemble([a, b])(x), (a(x) + b(x)) / 2))
    True
    """

    def __init__(self, members: Sequence[ElfNet]):
        super().__init__()
        members = list(members)
        if not members:
            raise ModelError("an ensemble needs at least one member network")
        first = members[0]
        for k, net in enumerate(members[1:], start=1):
            if net.n_features != first.n_features or net.transform != first.transform:
                raise ModelError(
                    f"ensemble member {k} has {net.n_features} features ({net.transform!r} transform), member 0 "
                    f"has {first.n_features} ({first.transform!r}): members must share the descriptors"
                )
        self.members = nn.ModuleList(members)
        self.n_features = first.n_features
        self.transform = first.transform
        self.hidden = first.hidden

    @property
    def n_members(self) -> int:
        return len(self.members)

    def member_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Each member's ELF, ``(n_members, P)``; their mean is :meth:`forward`."""
        z = self.members[0].transform_features(x)
        return torch.stack([torch.sigmoid(net.logits_of_transformed(z)) for net in self.members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.members[0].transform_features(x)  # the same fixed transform for all members
        total = torch.sigmoid(self.members[0].logits_of_transformed(z))
        for net in self.members[1:]:
            total = total + torch.sigmoid(net.logits_of_transformed(z))
        return total / len(self.members)


def build_network(meta: dict[str, Any]) -> ElfNet | ElfEnsemble | MessageEnsemble:
    """An untrained network (or ensemble, if ``meta["members"] > 1``) with the architecture in ``meta``; a
    description naming the message-passing family (``"family": "messages+lowk"``) gives a
    :class:`~elfviz.model.message_model.MessageEnsemble`."""
    family = meta.get("family")
    if family is not None:
        from .message_model import FAMILY, build_message_ensemble

        if family != FAMILY:
            raise ModelError(f"unknown model family {family!r} (this elfviz knows {FAMILY!r} and the default)")
        return build_message_ensemble(meta)
    spec = DescriptorSpec.from_dict(meta["descriptors"])
    transform = meta.get("transform", "sqrt")
    n_members = meta.get("members", 1)
    if not isinstance(n_members, int) or isinstance(n_members, bool) or n_members < 1:
        raise ModelError(f"'members' in the model description must be a positive integer, got {n_members!r}")
    hidden_per_member = meta.get("member_hidden") or [meta["hidden"]] * n_members
    if len(hidden_per_member) != n_members:
        raise ModelError(f"'member_hidden' lists {len(hidden_per_member)} members, 'members' says {n_members}")
    nets = [ElfNet(spec.n_features, hidden=hidden, transform=transform) for hidden in hidden_per_member]
    return nets[0] if n_members == 1 else ElfEnsemble(nets)


def weight_paths(path: str | Path) -> tuple[Path, Path]:
    """``(NAME.pt, NAME.json)`` for a weights path given with or without suffix (a dot in NAME is kept:
    ``model-1.6`` -> ``model-1.6.pt``)."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".pt", ".json") else path
    return stem.with_name(stem.name + ".pt"), stem.with_name(stem.name + ".json")


def same_weights(a: str | Path, b: str | Path) -> bool:
    """Whether two weights paths (stems, or ``.pt`` / ``.json`` paths) name the same files."""
    return weight_paths(a)[0].resolve() == weight_paths(b)[0].resolve()


def save_model(path: str | Path, net: ElfNet | ElfEnsemble | MessageEnsemble, meta: dict[str, Any]) -> Path:
    """Write ``NAME.pt`` (state_dict) and ``NAME.json`` (metadata); returns the ``.pt`` path."""
    from .message_model import MessageEnsemble, family_meta

    pt, js = weight_paths(path)
    pt.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(net, MessageEnsemble):
        meta = {**meta, "format": FORMAT, **family_meta(net)}
    else:
        members = list(net.members) if isinstance(net, ElfEnsemble) else [net]
        meta = {
            **meta,
            "format": FORMAT,
            "hidden": list(net.hidden),
            "transform": net.transform,
            "n_features": net.n_features,
            "members": len(members),
        }
        meta.pop("member_hidden", None)
        if any(m.hidden != net.hidden for m in members):
            meta["member_hidden"] = [list(m.hidden) for m in members]
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    tmp_pt, tmp_js = pt.with_name(pt.name + ".part"), js.with_name(js.name + ".part")
    torch.save(state, tmp_pt)
    tmp_js.write_text(json.dumps(meta, indent=2, sort_keys=True))
    tmp_pt.replace(pt)
    tmp_js.replace(js)
    return pt


def load_model(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[ElfNet | ElfEnsemble | MessageEnsemble, dict[str, Any]]:
    """Load weights written by :func:`save_model` (tensors only: ``weights_only=True``).

    Raises
    ------
    ModelError
        If a file is missing, not an elfviz model, or does not match its metadata.
    """
    pt, js = weight_paths(path)
    if not pt.exists() or not js.exists():
        from .bundled import bundled_models

        raise ModelError(
            f"model weights need both {pt.name} and {js.name} in {pt.parent}; name a shipped model "
            f"({', '.join(bundled_models()) or 'none installed'}), train one with `elfviz train`, or reinstall "
            "elfviz to restore the bundled weights"
        )
    try:
        meta = json.loads(js.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{js} is not valid JSON ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"{js} is not an elfviz model description (format {meta.get('format')!r}, expected {FORMAT!r})"
        )
    try:
        state = torch.load(pt, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt/unsafe files
        raise ModelError(
            f"cannot read the weights {pt} ({exc}); the file may be truncated or not a plain state_dict"
        ) from None
    net = build_network(meta)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"the weights in {pt} do not match the architecture in {js.name}: {exc}") from None
    net.eval()
    return net.to(device), meta
