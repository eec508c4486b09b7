"""``elfviz movie TRAJ.nc -o MOVIE.gif``: the ELF isosurface through a trajectory written by ``elfviz trajectory``."""

from __future__ import annotations

import argparse

NAME = "movie"
HELP = "movie (GIF or MP4) of the ELF isosurface through a trajectory written by `elfviz trajectory`"
DESCRIPTION = """\
Render the isosurface of every frame of a trajectory netCDF (written by `elfviz trajectory` with its fields)
off screen, each with the time, phi and the percolation state in its caption, and write an animated GIF
(or an MP4 when ffmpeg is on PATH). The movie is written under a temporary name and renamed.

examples:
  elfviz movie md-elf.nc -o network.gif --isovalue 0.6
  elfviz movie md-elf.nc -o network.mp4 --fps 8 --images 2,2,2 --size 640x560
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trajectory", metavar="TRAJ.nc", help="netCDF written by `elfviz trajectory` (with fields)")
    parser.add_argument("-o", "--output", required=True, metavar="MOVIE", help="movie file: .gif or .mp4")
    parser.add_argument("--isovalue", type=float, default=0.6, metavar="T", help="ELF of the surface (default 0.6)")
    parser.add_argument("--fps", type=float, default=4.0, help="frames per second (default 4)")
    parser.add_argument("--images", default="1,1,1", metavar="NA,NB,NC", help="periodic copies (default 1,1,1)")
    parser.add_argument("--size", default="480x420", metavar="WxH", help="picture size in pixels (default 480x420)")
    parser.add_argument("--force", action="store_true", help="overwrite the movie")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import FileFormatError, GridError
    from ..viz.movie import movie_format, write_movie
    from .reference import parse_triple

    movie_format(args.output)
    if not Path(args.trajectory).is_file():
        raise FileFormatError(f"{args.trajectory}: no such file")
    images = parse_triple(args.images, "--images")
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise GridError(f"--size must look like 480x420 (pixels), got {args.size!r}") from None
    if not (64 <= width <= 4096 and 64 <= height <= 4096):
        raise GridError(f"--size must be between 64 and 4096 pixels each way, got {args.size}")
    movie = write_movie(args.trajectory, args.output, isovalue=args.isovalue, fps=args.fps, images=images,
                        window_size=(width, height), force=args.force)
    print(f"wrote {movie}")
    return 0
