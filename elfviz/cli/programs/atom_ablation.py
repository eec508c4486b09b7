"""Command line of :mod:`elfviz.model.training.atom_ablation`: ``python -m elfviz.cli.programs.atom_ablation``.

The atom-channel family against the 1.6 network, side by side (same frames, points, seeds, budget); the choice
by validation frames only; ``--test`` then scores the chosen variant and the 1.6 baseline once on the held-out
test frames and the crystals.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from elfviz.model.training import atom_ablation as _library


def format_validation(result: dict) -> str:
    """Markdown table: one row per variant, validation frames only."""
    variants = result["variants"]
    densities = list(next(iter(variants.values()))["validation"]["per_rs"])
    head = ["variant", "val R²", *[f"R² rs {rs}" for rs in densities], "val MAE", "midpoint MAE", "train s"]
    rows = [head, ["---"] * len(head)]
    for name, v in variants.items():
        val = v["validation"]
        seconds = sum(r["seconds"] for r in v["runs"])
        rows.append([name + (" (chosen)" if name == result["chosen"] else ""), f"{val['r2']:.4f}",
                     *[f"{val['per_rs'][rs]:.4f}" for rs in densities], f"{val['mae']:.4f}",
                     f"{val['midpoint_mae']:.4f}", f"{seconds:.0f}"])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m elfviz.cli.programs.atom_ablation",
                                     description=_library.__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="dataset folder (default: the repository's data/dataset)")
    parser.add_argument("--out", default=None, help="folder for the networks and ablation.json (a new one)")
    parser.add_argument("--from-run", default=None, metavar="DIR",
                        help="no training: score the networks of an earlier run in DIR (its ablation.json)")
    parser.add_argument("--validation-grids", action="store_true",
                        help="score 1.6 and the chosen variant on whole validation frames (R², low-k residual "
                             "fraction), written to validation_grids.json")
    parser.add_argument("--export", default=None, metavar="STEM",
                        help="with --from-run: join the chosen variant's networks (of that run and of --join runs) "
                             "into weights STEM.pt + STEM.json that Predictor / elfviz predict --weights load")
    parser.add_argument("--join", nargs="+", default=[], metavar="DIR",
                        help="with --export: further runs (other seeds, the same budget) whose networks join")
    parser.add_argument("--export-variant", default=None, metavar="NAME", choices=_library.variant_names(),
                        help="with --export: the variant whose networks join (default: the one the run chose)")
    parser.add_argument("--version", default="elfnet-msg@candidate",
                        help="with --export: the model's name and version (default elfnet-msg@candidate)")
    parser.add_argument("--bundled", action="store_true",
                        help="also score the shipped model (the bundled weights, as Predictor() gives them) on the "
                             "same whole frames of each split asked for, to validation_grids-bundled.json / "
                             "test-bundled.json")
    parser.add_argument("--variants", nargs="+", default=list(_library.VARIANTS), choices=_library.variant_names())
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--points-per-frame", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=4, help="learned atom channels C (default 4)")
    parser.add_argument("--max-frames", type=int, default=None, help="training frames (an even stride)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA when present)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 beside a running pw.x)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a stopped run in --out (same options): its pools are built again, each "
                             "network continues after its last finished epoch")
    parser.add_argument("--test", action="store_true",
                        help="after the choice: score it and 1.6 once on the test frames and crystals")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from elfviz.data import dataset_path
    from elfviz.errors import ElfvizError

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if (args.out is None) == (args.from_run is None):
            raise ValueError("give either --out (a new run) or --from-run DIR (the networks of an earlier run)")
        if (args.export or args.join) and args.from_run is None:
            raise ValueError("--export joins the networks of earlier runs: give --from-run DIR (and --join DIR ...)")
        if args.join and not args.export:
            raise ValueError("--join names runs to join into a model: add --export STEM")
        if args.from_run is not None:
            return score_earlier_run(Path(args.from_run), args)
        out = Path(args.out)
        _check_out_folder(out, args.resume)
        data = Path(args.data) if args.data else dataset_path()
        budget = _library.AblationBudget(points_per_frame=args.points_per_frame, epochs=args.epochs,
                                         seeds=tuple(args.seeds), max_frames=args.max_frames,
                                         device=args.device, channels=args.channels)
        result = _library.run(data, budget, args.variants, out=args.out)
        print(format_validation(result))
        _score_asked(out, data, result, budget, args)
    except (ElfvizError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _check_out_folder(out: Path, resume: bool) -> None:
    """A new run needs a folder without an ablation; ``--resume`` needs a stopped one (its budget.json)."""
    finished = sorted(p.name for p in (*out.glob("ablation.json"), *out.glob("test.json")))
    if finished:
        raise ValueError(f"{out} already holds a finished ablation ({', '.join(finished)}); give --out a new folder "
                         "or move those away")
    stopped = sorted(p.name for p in (*out.glob("budget.json"), *out.glob("*.pt")))
    if stopped and not resume:
        raise ValueError(f"{out} holds a stopped run ({', '.join(stopped[:3])}{', ...' if len(stopped) > 3 else ''}); "
                         "continue it with --resume and the same options, or give --out a new folder")
    if resume and not (out / "budget.json").is_file():
        raise ValueError(f"nothing to resume in {out} (no budget.json); start a new run without --resume")


def _score_split(out: Path, data: Path, result: dict, budget, split: str, name: str) -> None:
    """Score 1.6 and the chosen variant (seed of the first run) on whole frames of ``split``; write OUT/name."""
    _refuse_existing(out / name)
    chosen, seed = result["chosen"], budget.seeds[0]
    names = ["1.6", chosen] if chosen != "1.6" and "1.6" in result["variants"] else [chosen]
    nets = {n: _library.load_variant(out / f"{n}-s{seed}.pt", n, budget) for n in names}
    _write_scores(out / name, data, nets, budget, split, f"{split} frames, whole grids:")


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise ValueError(f"{path} exists; move it away to score again")


def _write_scores(path: Path, data: Path, nets: dict, budget, split: str, title: str) -> None:
    """Whole-frame scores of ``nets`` on ``split`` written to ``path``; their summary printed under ``title``."""
    from elfviz.io.store import atomic_write

    report = _library.score_test_split(data, nets, budget, split=split)
    text = json.dumps(report, indent=1)
    atomic_write(path, lambda tmp: tmp.write_text(text))
    print(title)
    print(json.dumps(_library.summarise_test_split(report), indent=1))


def score_earlier_run(folder: Path, args) -> int:
    """``--from-run``: score the networks an earlier run saved (its budget and choice from ablation.json)."""
    from elfviz.data import dataset_path

    record_path = folder / "ablation.json"
    if not record_path.is_file():
        raise ValueError(f"{record_path} not found: --from-run needs the folder of an earlier run")
    if not (args.validation_grids or args.test or args.export):
        raise ValueError("--from-run scores or exports an earlier run: add --validation-grids, --test or --export")
    record = json.loads(record_path.read_text())
    budget = _library.budget_from_record(record)
    data = Path(args.data) if args.data else dataset_path()
    if args.export:
        from elfviz.model.network import weight_paths
        from elfviz.model.training.join_runs import export_model

        pt = export_model([folder, *map(Path, args.join)], args.export, data, version=args.version,
                          variant=args.export_variant)
        print(f"wrote {pt} and {weight_paths(pt)[1]}: elfviz predict STRUCTURE --weights {args.export} ...")
        if not (args.validation_grids or args.test):
            return 0
    if args.bundled:  # the run's own scores may be on record already; the shipped model's go to their own files
        for split, name in _asked_splits(args):
            _score_bundled(folder, data, budget, split, name)
        return 0
    _score_asked(folder, data, record, budget, args)
    return 0


def _asked_splits(args) -> list[tuple[str, str]]:
    """(split, file name) of the whole-frame scores asked for: ``--validation-grids``, ``--test``."""
    return ([("validation", "validation_grids.json")] if args.validation_grids else []) + (
        [("test", "test.json")] if args.test else [])


def _score_asked(out: Path, data: Path, result: dict, budget, args) -> None:
    for split, name in _asked_splits(args):
        _score_split(out, data, result, budget, split, name)
        if args.bundled:
            _score_bundled(out, data, budget, split, name)


def _score_bundled(out: Path, data: Path, budget, split: str, name: str) -> None:
    """The shipped model on the whole frames of ``split``, the same scores: OUT/<name stem>-bundled.json."""
    from elfviz.model import Predictor

    path = out / name.replace(".json", "-bundled.json")
    _refuse_existing(path)
    predictor = Predictor(device=budget.device)
    _write_scores(path, data, {f"bundled {predictor.version}": predictor}, budget, split,
                  f"{split} frames, whole grids, the shipped model:")


if __name__ == "__main__":
    raise SystemExit(main())
