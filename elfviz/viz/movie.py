"""Movies of the ELF isosurface through a trajectory: one captioned 3-D picture per frame, GIF or MP4.

Each frame is :func:`elfviz.viz.scene.scene_png` of the trajectory's stored ELF (rendered off screen by
pyvista) with the time, φ and the percolation state in its caption, all frames on one camera. GIF needs
nothing more (Pillow); MP4 is encoded by ``ffmpeg`` (found on ``PATH``: ``apt install ffmpeg``).
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import EngineError, FileFormatError, GridError
from ..grid import keys

MOVIE_FORMATS = (".gif", ".mp4")


def movie_format(path: str | os.PathLike) -> str:
    """``"gif"`` or ``"mp4"`` from the file name.

    Examples
    --------
    >>> movie_format("network.GIF"), movie_format("run/network.mp4")
    ('gif', 'mp4')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in MOVIE_FORMATS:
        raise FileFormatError(f"{Path(path).name}: a movie is written as .gif or .mp4, "
                              f"got {suffix or 'no extension'!r}")
    return suffix[1:]


def frame_caption(time_fs: float | None, phi: float, isovalue: float, dimension: int, n_components: int) -> str:
    """The caption of one movie frame (plain "phi": the caption font has no Greek letters).

    Examples
    --------
    >>> frame_caption(120.0, 0.512, 0.6, 0, 12)
    't = 120 fs  ·  phi = 0.512  ·  ELF = 0.60: 12 components, does not percolate'
    >>> frame_caption(None, 0.6, 0.5, 3, 1)
    'phi = 0.600  ·  ELF = 0.50: 1 component, percolates in 3-D'
    """
    state = f"percolates in {dimension}-D" if dimension else "does not percolate"
    when = "" if time_fs is None or not math.isfinite(time_fs) else f"t = {time_fs:g} fs  ·  "
    plural = "" if n_components == 1 else "s"
    return f"{when}phi = {phi:.3f}  ·  ELF = {isovalue:.2f}: {n_components} component{plural}, {state}"


def movie_frames(trajectory: xr.Dataset, isovalue: float, *, images: Any = (1, 1, 1),
                 window_size: tuple[int, int] = (480, 420)) -> Iterable[bytes]:
    """PNG bytes of each frame's isosurface at ``isovalue`` (one frame in memory at a time).

    Parameters
    ----------
    trajectory : xarray.Dataset
        Written by ``elfviz trajectory`` with fields (``elf`` over ``frame``).
    isovalue : float
        ELF value of the surface.
    images : (int, int, int)
        Periodic copies along a, b, c.
    window_size : (int, int)
        Picture size in pixels (before the caption and key bands).
    """
    from ..topology import components_at
    from ..trajectory import frame_dataset
    from .scene import scene_png

    if keys.ELF not in trajectory:
        raise GridError("the trajectory holds no ELF fields (it was written with --no-fields); run "
                        "`elfviz trajectory` again without --no-fields to make a movie")
    for frame in trajectory["frame"].values.tolist():
        ds = frame_dataset(trajectory, frame)
        report = components_at(ds, isovalue)
        time = float(ds.attrs.get("md_time_fs", float("nan")))
        phi = float(trajectory["phi"].sel(frame=frame)) if "phi" in trajectory else float("nan")
        caption = frame_caption(time, phi, isovalue, int(report.dimension), int(report.n_components))
        yield scene_png(ds, isovalue, images=images, components=report, window_size=window_size, caption=caption)


def write_movie(trajectory: xr.Dataset | str | os.PathLike, path: str | os.PathLike, *, isovalue: float = 0.6,
                fps: float = 4.0, images: Any = (1, 1, 1), window_size: tuple[int, int] = (480, 420),
                force: bool = False, progress: Callable[[int], None] | None = None) -> Path:
    """Write a GIF or MP4 of the isosurface through a trajectory file of ``elfviz trajectory``.

    The movie is assembled under a temporary name and renamed, so an interrupted run leaves no partial file.

    Parameters
    ----------
    trajectory : xarray.Dataset or path
        The trajectory netCDF (with fields).
    path : path-like
        ``.gif`` or ``.mp4``.
    isovalue : float
        ELF value of the isosurface.
    fps : float
        Frames per second (0.5-60).
    images, window_size
        As for :func:`movie_frames`.
    force : bool
        Overwrite an existing movie.
    progress : callable, optional
        Called with the number of frames rendered so far.

    Returns
    -------
    pathlib.Path
    """
    from ..io.store import ENGINE, atomic_write, check_writable

    fmt = movie_format(path)
    if not 0.5 <= float(fps) <= 60.0:
        raise GridError(f"fps must be between 0.5 and 60, got {fps}")
    if not 0.0 < float(isovalue) < 1.0:
        raise GridError(f"the isovalue must be an ELF value between 0 and 1, got {isovalue}")
    encoder = shutil.which("ffmpeg") if fmt == "mp4" else None
    if fmt == "mp4" and encoder is None:
        raise EngineError("writing MP4 needs ffmpeg on PATH (apt install ffmpeg, or conda-forge's ffmpeg); "
                          "write a .gif instead")
    path = check_writable(path, force)
    if not isinstance(trajectory, xr.Dataset):
        with xr.open_dataset(trajectory, engine=ENGINE) as handle:
            return write_movie(handle.load(), path, isovalue=isovalue, fps=fps, images=images,
                               window_size=window_size, force=True, progress=progress)
    pngs = []
    for k, png in enumerate(movie_frames(trajectory, isovalue, images=images, window_size=window_size)):
        pngs.append(png)  # compressed PNGs: a few hundred kB per frame
        if progress is not None:
            progress(k + 1)
    if not pngs:
        raise GridError("the trajectory has no frames")
    if fmt == "gif":
        atomic_write(path, lambda tmp: _write_gif(pngs, tmp, fps))
    else:
        atomic_write(path, lambda tmp: _write_mp4(pngs, tmp, fps, encoder))
    return path


def _write_gif(pngs: list[bytes], out: Path, fps: float) -> None:
    from PIL import Image

    frames = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    frames = [_on_canvas(f, size) for f in frames]
    palette = [f.convert("P", palette=Image.Palette.ADAPTIVE, colors=255) for f in frames]
    palette[0].save(out, format="GIF", save_all=True, append_images=palette[1:], duration=int(round(1000 / fps)),
                    loop=0, optimize=False)


def _write_mp4(pngs: list[bytes], out: Path, fps: float, encoder: str) -> None:
    from PIL import Image

    frames = [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs]
    width = max(f.width for f in frames) // 2 * 2 + 2  # even sizes for yuv420p
    height = max(f.height for f in frames) // 2 * 2 + 2
    command = [encoder, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
               f"{width}x{height}", "-r", f"{fps:g}", "-i", "-", "-pix_fmt", "yuv420p", "-c:v", "libx264",
               "-f", "mp4", str(out)]
    raw = b"".join(np.asarray(_on_canvas(f, (width, height))).tobytes() for f in frames)
    done = subprocess.run(command, input=raw, capture_output=True, check=False)
    if done.returncode != 0:
        raise EngineError(f"ffmpeg could not encode the movie: {done.stderr.decode(errors='replace')[-500:]}")


def _on_canvas(image, size: tuple[int, int]):
    from PIL import Image

    if image.size == size:
        return image
    canvas = Image.new("RGB", size, "white")
    canvas.paste(image, (0, 0))
    return canvas
