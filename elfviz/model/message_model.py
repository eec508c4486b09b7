"""The message-passing family as a model to load: members with a long-wavelength head, and their description.

Each member is a :class:`~elfviz.model.atom_network.LowKNet` over a
:class:`~elfviz.model.atom_network.MessageAtomNet` (docs/model_history.md, issue #21). On a grid, the fixed
descriptors (on the grid and on the head's coarse grid) and the atoms' neighbour graph are computed once for
all members; each member then adds its atom channels' densities (FFT), its per-point network and its head (the
member on a coarse grid, the low-|G| features, one inverse FFT).

The weights JSON names the family (``"family": "messages+lowk"``), how the head joins the per-point network
(``"head"``: ``"sum"``, after its sigmoid, as in elfnet-msg@2.0, whose JSON predates the key; or ``"logit"``,
before it) and every size the members are built from, so :func:`elfviz.model.network.load_model` rebuilds them
before it loads the tensors (``weights_only=True``).

Examples
--------
>>> import numpy as np
>>> ensemble = build_message_ensemble({"descriptors": {"widths": [0.52, 0.75], "lmax": 1},
...     "messages": {"widths": [0.52], "lmax": 1}, "lowk": {}, "channels": 2, "hidden": [8], "members": 2})
>>> cell = np.eye(3) * 4.0
>>> fields = ensemble.member_fields(np.array([[0., 0., 0.], [0.74, 0., 0.]]), cell, (18, 18, 18))
>>> tuple(fields.shape)
(2, 5832)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from .atom_messages import MessageSpec, atom_graph
from .atom_network import HEAD_MODES, LowKNet, MessageAtomNet, head_on_grid, predict_grid_messages
from .descriptors import DescriptorSpec, compute_descriptors
from .lowk_head import LowKSpec, coarse_shape

__all__ = ["FAMILY", "MessageEnsemble", "build_message_ensemble", "family_meta"]

FAMILY = "messages+lowk"
"""The ``family`` a weights JSON names for this module's models."""


class MessageEnsemble(nn.Module):
    """Members of the message-passing family, evaluated together on a grid.

    Parameters
    ----------
    members : sequence of LowKNet
        Each a :class:`LowKNet` over a :class:`MessageAtomNet`, all reading the same fixed descriptors.
    fixed_spec : DescriptorSpec
        The fixed descriptors every member reads.
    """

    def __init__(self, members: Sequence[LowKNet], fixed_spec: DescriptorSpec):
        super().__init__()
        members = list(members)
        if not members or not all(isinstance(m, LowKNet) and isinstance(m.base, MessageAtomNet) for m in members):
            raise ModelError("a message-passing model needs one or more LowKNet members over a MessageAtomNet")
        if any(m.base.n_fixed != fixed_spec.n_features for m in members):
            raise ModelError(f"the members read {members[0].base.n_fixed} fixed descriptors, the spec gives "
                             f"{fixed_spec.n_features}")
        self.members = nn.ModuleList(members)
        self.fixed_spec = fixed_spec

    @property
    def n_members(self) -> int:
        return len(self.members)

    def member(self, index: int) -> MessageEnsemble:
        """A model of member ``index`` alone (shares its tensors)."""
        return MessageEnsemble([self.members[index]], self.fixed_spec)

    def grid_bytes(self, cell, shape: Sequence[int], *, batch: int = 65536) -> int:
        """Peak memory (bytes) :meth:`member_fields` adds to the process, outputs apart: the larger of two phases.

        First the fixed descriptors are computed (:func:`~elfviz.model.descriptors.descriptor_bytes`). Then,
        member by member, they are kept (float32) beside one member's learned densities (float32) and its base
        and head fields (float64), plus the larger of the FFT work of one channel's densities and the MLP's
        activations on a batch of ``batch`` points (about three copies of its input). Measured as the rise of
        the process's peak RSS (VmHWM) over a prediction of 64 atoms by elfnet-msg@2.1 after a warm-up one (CPU,
        batches of 16384 points): 365 / 2107 / 4162 MB at 64³ / 128³ / 160³, against 277 / 2215 / 4325 MB from
        :meth:`~elfviz.model.Predictor.estimate_bytes` (outputs included; tests/test_resources.py).
        """
        from .descriptors import descriptor_bytes

        base = self.members[0].base
        points = int(np.prod([int(n) for n in shape]))
        kept = 4 * self.fixed_spec.n_features * points
        densities = 4 * base.channels * base.spec.n_terms * points
        fields = 3 * 8 * points
        local = base.spec.descriptor_spec()
        density_work = descriptor_bytes(cell, shape, local) - 4 * local.n_features * points  # no invariants here
        activations = 3 * 4 * base.feature_mean.numel() * min(int(batch), points)
        members = kept + densities + fields + max(density_work, activations)
        return max(descriptor_bytes(cell, shape, self.fixed_spec), members)

    @torch.no_grad()
    def member_fields(self, positions, cell, shape: Sequence[int], *, device: str | torch.device = "cpu",
                      batch: int = 65536) -> torch.Tensor:
        """Each member's ELF at every grid point, float32 ``(n_members, P)`` on ``device``, unclipped.

        Parameters
        ----------
        positions : array (N, 3)
            Hydrogen positions, Å.
        cell : array (3, 3)
            Lattice vectors (rows), Å.
        shape : (int, int, int)
            Grid shape.
        """
        self.eval()
        positions = np.asarray(positions, dtype=float).reshape(-1, 3)
        numbers = np.ones(len(positions), dtype=int)
        graph = atom_graph(positions, cell)  # what every member shares: the atoms' neighbours, fixed descriptors
        fixed = self._fixed(positions, cell, shape, device)
        coarse_fixed = {}  # by coarse-grid shape (the members' heads may differ in spacing)
        out = torch.empty((self.n_members, fixed.shape[1]), dtype=torch.float32, device=device)
        for i, member in enumerate(self.members):
            base = predict_grid_messages(member.base, positions, cell, shape, self.fixed_spec, device=device,
                                         batch=batch, fixed=fixed, graph=graph).double().numpy()
            coarse = coarse_shape(cell, member.spec.spacing)
            if coarse not in coarse_fixed:
                coarse_fixed[coarse] = self._fixed(positions, cell, coarse, device)
            head = head_on_grid(member, positions, cell, numbers, shape, self.fixed_spec, device=device,
                                coarse_fixed=coarse_fixed[coarse], graph=graph)
            out[i] = torch.as_tensor(member.combine(base, head).ravel(), dtype=torch.float32, device=device)
        return out

    def _fixed(self, positions, cell, shape: Sequence[int], device) -> torch.Tensor:
        """The fixed descriptors on a grid of ``shape``, ``(n_features, P)``."""
        fixed = compute_descriptors(positions, cell, shape, self.fixed_spec, device=device)
        return fixed.reshape(self.fixed_spec.n_features, -1)


def _sizes(meta: dict[str, Any]) -> dict[str, Any]:
    return {"channels": int(meta.get("channels", 4)),
            "hidden": tuple(int(h) for h in meta.get("hidden", (128, 128, 64))),
            "message_hidden": int(meta.get("message_hidden", 32)), "layers": int(meta.get("layers", 2))}


def build_message_ensemble(meta: dict[str, Any]) -> MessageEnsemble:
    """An untrained :class:`MessageEnsemble` with the sizes in a weights description ``meta`` (a spec's missing
    keys, and missing sizes, take the defaults).

    Raises
    ------
    ModelError
        If a spec in ``meta`` is malformed or ``members`` is not a positive integer.
    """
    members = meta.get("members", 1)
    if not isinstance(members, int) or isinstance(members, bool) or members < 1:
        raise ModelError(f"'members' in the model description must be a positive integer, got {members!r}")
    try:
        fixed_spec = DescriptorSpec.from_dict(meta["descriptors"])
        message_spec = MessageSpec.from_dict({**MessageSpec().to_dict(), **meta.get("messages", {})})
        lowk_spec = LowKSpec.from_dict({**LowKSpec().to_dict(), **meta.get("lowk", {})})
        sizes = _sizes(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"the description of a {FAMILY} model is malformed ({exc})") from None
    head = meta.get("head", "sum")  # weights from before the logit head have no "head" key
    if head not in HEAD_MODES:
        raise ModelError(f"the description of a {FAMILY} model names an unknown head {head!r}; one of {HEAD_MODES}")
    nets = [LowKNet(MessageAtomNet(fixed_spec.n_features, message_spec, **sizes), lowk_spec, mode=head)
            for _ in range(members)]
    return MessageEnsemble(nets, fixed_spec)


def family_meta(ensemble: MessageEnsemble) -> dict[str, Any]:
    """The description :func:`build_message_ensemble` rebuilds ``ensemble`` from (sizes and specs, no tensors)."""
    first = ensemble.members[0]
    base = first.base
    return {"family": FAMILY, "descriptors": ensemble.fixed_spec.to_dict(), "messages": base.spec.to_dict(),
            "lowk": first.spec.to_dict(), "channels": base.channels, "hidden": list(base.hidden),
            "message_hidden": base.messages.embed.out_features, "layers": len(base.messages.inputs),
            "members": ensemble.n_members, "head": first.mode}
