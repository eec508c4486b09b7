"""``elfviz train DATA -o WEIGHTS``: train the ELF network on a dataset of reference frames."""

from __future__ import annotations

import logging

from ._memory import add_max_memory

NAME = "train"
HELP = "train the ELF model on a frame collection (resumable, early stopping)"
DESCRIPTION = """Train the ELF network of the descriptor-network family (elfnet-fft@1.6, shipped by name) on a
FrameCollection (index.csv + frames/*.nc with field elf). The default model, elfnet-msg@2.1 (message passing with a
long-wavelength head), has its own recipe: VARIANT=messages+lowk-logit bash scripts/train-elfnet-msg.sh OUT
(data/training_runs/README.md).

Liquid frames with split 'train' are fitted, split 'validation' selects the epoch (early stopping); test
frames and crystals are never used. A checkpoint WEIGHTS.ckpt.pt is written every epoch: --resume continues
an interrupted run. The result is WEIGHTS.pt (plain state_dict) + WEIGHTS.json (settings, history, metrics),
usable with `elfviz predict --weights WEIGHTS`. DATA 'bundled' means the full dataset (data/dataset in a source
checkout, or $ELFVIZ_DATASET; not in the wheel).

examples:
  elfviz train bundled -o mymodel --seed 0               # elfnet-fft@1.6's recipe: 4 networks, seeds 0-3
  elfviz train bundled -o mymodel --seed 0 --members 1   # one network
  elfviz train /data/h_frames -o mymodel --epochs 40 --device cuda
  elfviz train bundled -o mymodel --resume
  elfviz train bundled -o mymodel --export-checkpoint --force   # best epoch so far
"""

log = logging.getLogger(__name__)


def add_arguments(parser) -> None:
    parser.add_argument("data", help="FrameCollection directory, or 'bundled'")
    add_max_memory(parser)
    parser.add_argument("-o", "--output", required=True, help="weights stem (writes OUT.pt, OUT.json)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs per network (default 40)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT.ckpt.pt")
    parser.add_argument("--force", action="store_true", help="overwrite existing weights")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--points-per-frame", type=int, default=None, help="random grid points per training frame (default 14000)"
    )
    parser.add_argument(
        "--bond-fraction",
        type=float,
        default=None,
        help="share of the training points drawn near midpoints of atom pairs 0.85-1.8 Å apart, where the "
        "saddles that set the networking value sit (default 0.0 = uniform over the grid, the bundled recipe)",
    )
    parser.add_argument("--hidden", default=None, help="hidden layer widths, e.g. 128,128,64")
    parser.add_argument("--lmax", type=int, default=None, help="highest angular momentum of the descriptors")
    parser.add_argument(
        "--triple-invariants",
        action="store_true",
        help="append the three-channel invariants v·Q·v and tr QQQ to the descriptors (experimental; "
        "tried on the bundled data without a gain, see MODEL_CARD.md)",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=None,
        help="networks in the ensemble (seeds SEED, SEED+1, ...; their outputs are averaged); "
        "default 4, 1 for a single network",
    )
    parser.add_argument("--max-frames", type=int, default=None, help="use at most this many frames per split")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--export-checkpoint",
        action="store_true",
        help="do not train: write the best epoch of OUT.ckpt.pt (e.g. of a run still going or "
        "interrupted) as OUT.pt + OUT.json",
    )


def run(args) -> int:
    from ..errors import ModelError
    from ..model.training import export_checkpoint, train

    if args.export_checkpoint:
        meta = export_checkpoint(args.output, force=args.force)
        card = meta["card"]
        print(
            f"exported {args.output}.pt: best epoch {card['best_epoch']} of {card['epochs_run']} run, "
            f"validation R^2 {card['validation']['r2']:.4f}"
        )
        return 0

    data = args.data
    if data == "bundled":
        from ..data import dataset_path

        data = dataset_path()
    overrides = {}
    if args.points_per_frame:
        overrides["points_per_frame"] = args.points_per_frame
    if args.bond_fraction is not None:
        overrides["bond_fraction"] = args.bond_fraction
    if args.hidden:
        try:
            overrides["hidden"] = tuple(int(h) for h in args.hidden.split(","))
        except ValueError:
            raise ModelError(f"--hidden must be integers like 128,128,64, got {args.hidden!r}") from None
    if args.lmax is not None:
        overrides["lmax"] = args.lmax
    if args.triple_invariants:
        overrides["triple"] = True
    if args.members is not None:
        overrides["members"] = args.members
    if args.max_frames:
        overrides["max_frames"] = args.max_frames
    meta = train(
        data,
        args.output,
        seed=args.seed,
        epochs=args.epochs,
        device=args.device,
        resume=args.resume,
        force=args.force,
        progress=not args.no_progress,
        max_memory=args.max_memory,
        **overrides,
    )
    card = meta["card"]
    best = card["validation"]
    if card.get("members"):
        print(
            f"wrote {args.output}.pt: {meta['version']}, ensemble of {len(card['members'])} networks, "
            f"validation R^2 {best['r2']:.4f} (members "
            f"{', '.join(format(m['validation_r2'], '.4f') for m in card['members'])}), MAE {best['mae']:.4f}, "
            f"RMSE {best['rmse']:.4f}; training {card['training_seconds']:.0f} s + descriptors "
            f"{card['descriptor_seconds']:.0f} s; the members are kept in {args.output}.members/ for --resume"
        )
        return 0
    print(
        f"wrote {args.output}.pt: {meta['version']}, best epoch {card['best_epoch']} of {card['epochs_run']}, "
        f"validation R^2 {best['r2']:.4f}, MAE {best['mae']:.4f}, RMSE {best['rmse']:.4f}; "
        f"training {card['training_seconds']:.0f} s + descriptors {card['descriptor_seconds']:.0f} s"
    )
    return 0
