"""Command line of :mod:`elfviz.model.training.evaluate`: ``python -m elfviz.cli.programs.evaluate``.

Evaluate a model on the held-out frames of a dataset and write the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from elfviz.io.store import atomic_write
from elfviz.model.network import weight_paths
from elfviz.model.training import evaluate as _library
from elfviz.model.training.evaluate import evaluate, update_weights_card

from ...model.bundled import WEIGHTS_HELP


def main(argv: list[str] | None = None) -> int:
    from ...model.bundled import resolve_weights
    from ...model.training.card import card_path, write_card

    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.evaluate", description=_library.__doc__.split("\n")[0]
    )
    parser.add_argument("--weights", default=None, help=WEIGHTS_HELP)
    parser.add_argument("--data", default=None, help="FrameCollection (default: bundled dataset)")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--card",
        default=None,
        help="model card to write (default: MODEL_CARD.md next to the bundled model, or WEIGHTS_CARD.md)",
    )
    parser.add_argument("--json", default=None, help="also write all per-frame results to this JSON file")
    parser.add_argument("--max-frames", type=int, default=None, help="evaluate at most this many frames")
    parser.add_argument(
        "--per-group", type=int, default=None, help="at most this many frames per phase and density (quicker)"
    )
    parser.add_argument("--no-topology", action="store_true")
    parser.add_argument(
        "--correction",
        default="bundled",
        help="also score the Fourier-corrected prediction: 'bundled' (the shipped correction of the model's "
        "version, if there is one), a correction JSON file, or 'none' (default: bundled)",
    )
    parser.add_argument(
        "--seen-frames",
        type=int,
        default=15,
        help="also score this many training frames and the validation frames, to tell overfitting from errors "
        "the network makes on data it has seen (default 15; 0: skip)",
    )
    parser.add_argument(
        "--no-update", action="store_true", help="do not write the metrics into the weights JSON"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="evaluate nothing: write the card again from the metrics stored in the weights JSON (after a "
        "change to the card's text or tables)",
    )
    parser.add_argument(
        "--note",
        default=None,
        help="a sentence for the card's limitations (e.g. how the weights were trained)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ...data import dataset_path

    weights = resolve_weights(args.weights)
    card = Path(args.card) if args.card else card_path(weights)
    if args.render_only:
        return render_stored_card(weights, card)
    data = Path(args.data) if args.data else dataset_path()
    correction = None if args.correction == "none" else args.correction
    result = evaluate(
        data,
        weights,
        device=args.device,
        topology=not args.no_topology,
        max_frames=args.max_frames,
        per_group=args.per_group,
        progress=True,
        correction=correction,
        correction_optional=correction == "bundled",
        seen_frames=args.seen_frames,
    )
    if data.resolve() == dataset_path().resolve():
        result["data"] = "bundled dataset (elfviz.data.dataset_path())"
    if args.note:
        result["note"] = args.note
    if args.json:
        text = json.dumps(result, indent=2, default=float)
        atomic_write(Path(args.json), lambda tmp: tmp.write_text(text))
    if not args.no_update:
        update_weights_card(weights, result)
    _, js = weight_paths(weights)
    write_card(card, json.loads(js.read_text()), result)
    print(f"wrote {card}")
    overall = result["overall_liquid"]
    if overall:
        print(
            f"liquid test frames: model R^2 {overall['model_r2']:.4f} MAE {overall['model_mae']:.4f}; "
            + (
                f"with the Fourier correction R^2 {overall['corrected_r2']:.4f} MAE {overall['corrected_mae']:.4f}; "
                if "corrected_r2" in overall
                else ""
            )
            + f"promolecular R^2 {overall['promolecular_r2']:.3f}"
        )
    return 0


def render_stored_card(weights: Path, card: Path) -> int:
    """``--render-only``: the card from the weights JSON's stored metrics (``card.test``); 2 if there are none."""
    from ...model.training.card import write_card

    _, js = weight_paths(weights)
    meta = json.loads(js.read_text()) if js.is_file() else {}
    evaluation = meta.get("card", {}).get("test")
    if not evaluation:
        print(f"error: {js} holds no test metrics (card.test); run this program without --render-only to "
              "evaluate the weights first", file=sys.stderr)
        return 2
    write_card(card, meta, evaluation)
    print(f"wrote {card}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
