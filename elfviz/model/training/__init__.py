"""Training, evaluating and documenting the ELF model (torch; reads the dataset; never imported by inference).

=========================  ===============================================================================
module                     job
=========================  ===============================================================================
:mod:`.config`             :class:`TrainConfig`, :class:`BondSampling`: the settings of a run
:mod:`.pools`              frame splits and pools of descriptor points, shared by an ensemble's members
:mod:`.loop`               the epoch loop and ensembles (:func:`train`, :func:`train_single`)
:mod:`.checkpoint`         resumable checkpoints and the weights' metadata
:mod:`.evaluate`           held-out metrics per density, the model card's numbers (``python -m``)
:mod:`.card`               the model card (``MODEL_CARD.md``) and weights metadata
:mod:`.ablation`           variants trained side by side on the same splits, seeds and budget (``python -m``)
:mod:`.atom_ablation`      the atom-channel family against 1.6, chosen by validation frames (``python -m``)
:mod:`.join_runs`          runs of the message-passing family joined into one model to load (``--export``)
:mod:`.correction_fit`     fitting the Fourier correction (:mod:`elfviz.model.correction`) on training frames
:mod:`.report`             model-versus-reference report over a FrameCollection (``python -m``)
:mod:`.bond_midpoints`     the ELF error at the midpoints of atom pairs, by bond length (``python -m``)
=========================  ===============================================================================

``from elfviz.model.training import train, TrainConfig`` gives the entry points (imported on first use: the
reports here need no torch).
"""

_HOMES = {
    "config": ("BOND_SIGMA", "BOND_WINDOW", "MODEL_NAME", "BondSampling", "TrainConfig"),
    "pools": ("build_pool", "build_pools", "draw_points", "frame_descriptors", "member_pools", "pool_bytes",
              "sample_frame", "split_frames"),
    "checkpoint": ("export_checkpoint",),
    "loop": ("evaluate_pool", "join_members", "regression_metrics", "train", "train_single"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_HOME_OF)


def __getattr__(name: str):
    if name in _HOME_OF:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_HOME_OF[name]}"), name)
    raise AttributeError(f"module 'elfviz.model.training' has no attribute {name!r}")
