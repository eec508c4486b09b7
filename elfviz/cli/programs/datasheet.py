"""Command line of :mod:`elfviz.reference.datasheet`: ``python -m elfviz.cli.programs.datasheet``.

Tables that describe a dense-hydrogen ELF dataset (a FrameCollection built by ``elfviz dataset build``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from elfviz.io.store import atomic_write
from elfviz.reference.datasheet import dataset_summary, replace_generated_section, summary_markdown, summary_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.datasheet",
        description="Print the tables of the dataset's datasheet.",
    )
    parser.add_argument("root", nargs="?", default=None, help="dataset directory (default: the bundled one)")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables (for DATASHEET.md)")
    parser.add_argument("--json", action="store_true", help="timings, sizes and settings as JSON")
    parser.add_argument(
        "--update",
        metavar="DATASHEET",
        default=None,
        help="replace the generated section of this Markdown file (between the markers)",
    )
    args = parser.parse_args(argv)
    if args.root is None:
        from ...data import dataset_path

        args.root = dataset_path()
    summary = dataset_summary(args.root)
    if args.update:
        path = Path(args.update)
        text = replace_generated_section(path.read_text(), summary_markdown(summary))
        atomic_write(Path(path), lambda tmp: tmp.write_text(text))
        print(f"updated {path} ({summary.n_frames} frames)")
    elif args.json:
        print(
            json.dumps(
                {
                    "n_frames": summary.n_frames,
                    "timings": summary.timings,
                    "sizes": summary.sizes,
                    "label_settings": summary.label_settings,
                },
                indent=2,
                default=str,
            )
        )
    elif args.markdown:
        print(summary_markdown(summary))
    else:
        print(summary_text(summary))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
