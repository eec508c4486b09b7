"""Movies of a trajectory's isosurface: one captioned frame per MD frame, GIF (and MP4 with ffmpeg)."""

from __future__ import annotations

import io
import shutil

import ase.io
import numpy as np
import pytest
import xarray as xr
from PIL import Image

from elfviz.cli import main
from elfviz.viz.movie import frame_caption, movie_frames, write_movie
from tests.trajectory.helpers import BONDS, StandInPredictor, install, stretched_frames


@pytest.fixture
def trajectory_nc(tmp_path, monkeypatch, capsys):
    """The stretched-H2 trajectory through ``elfviz trajectory --movie`` (stand-in model): netCDF and GIF."""
    install(monkeypatch, StandInPredictor())
    md = tmp_path / "md.xyz"
    ase.io.write(str(md), stretched_frames(), format="extxyz")
    out, gif = tmp_path / "elf.nc", tmp_path / "network.gif"
    code = main(["trajectory", str(md), "-o", str(out), "--spacing", "0.2", "--isovalue", "0.6", "--no-progress",
                 "--movie", str(gif)])
    text = capsys.readouterr().out
    assert code == 0 and f"{gif}: {len(BONDS)} frames" in text
    return out, gif


def test_the_gif_has_one_frame_per_md_frame_and_shows_the_molecule_breaking(trajectory_nc):
    out, gif = trajectory_nc
    movie = Image.open(gif)
    assert movie.n_frames == len(BONDS) and movie.info["duration"] == 250 and movie.info["loop"] == 0
    frames = []
    for k in range(movie.n_frames):
        movie.seek(k)
        frames.append(np.asarray(movie.convert("RGB"), dtype=int))
    assert np.abs(frames[0] - frames[1]).mean() > 0.05  # the picture moves with the atoms
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        pngs = list(movie_frames(ds.load(), 0.6))
    # each frame's caption band is the one elfviz draws for that frame: time, phi and the components
    from elfviz.viz.scene import annotate

    first = Image.open(io.BytesIO(pngs[0]))
    assert first.size == (frames[0].shape[1], frames[0].shape[0])
    band = annotate(Image.new("RGB", (first.width, 10), "white"),
                    frame_caption(0.0, float(ds["phi"][0]), 0.6, 0, 2)).crop((0, 0, first.width, 20))
    assert np.array_equal(np.asarray(band), np.asarray(first.convert("RGB").crop((0, 0, first.width, 20))))


def test_movie_cli_and_refusals(trajectory_nc, tmp_path, capsys):
    out, _ = trajectory_nc
    assert main(["movie", str(out), "-o", str(tmp_path / "m.gif"), "--fps", "2", "--size", "200x160"]) == 0
    assert Image.open(tmp_path / "m.gif").info["duration"] == 500
    for argv, words in ((["-o", str(tmp_path / "m.gif")], "already exists"),
                        (["-o", str(tmp_path / "m.avi")], ".gif or .mp4"),
                        (["-o", str(tmp_path / "n.gif"), "--fps", "0"], "fps"),
                        (["-o", str(tmp_path / "n.gif"), "--size", "big"], "--size")):
        capsys.readouterr()
        assert main(["movie", str(out), *argv]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "n.gif").exists()


def test_no_fields_no_movie(tmp_path):
    ds = xr.Dataset({"phi": ("frame", [0.5])}, coords={"frame": [0]})
    with pytest.raises(Exception, match="no ELF fields"):
        write_movie(ds, tmp_path / "x.gif")
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_mp4(trajectory_nc, tmp_path):
    out, _ = trajectory_nc
    movie = write_movie(out, tmp_path / "m.mp4", isovalue=0.6)
    assert movie.read_bytes()[4:8] == b"ftyp"
