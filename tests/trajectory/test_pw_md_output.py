"""A real pw.x MD run read as a trajectory: frames, positions and cells as pw.x wrote them, and an upload of it.

Runs Quantum ESPRESSO (marker ``dft``; skipped without pw.x): 4 atoms, Gamma point, 15 Ry, 4 steps (seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from elfviz.trajectory import read_trajectory, read_trajectory_bytes

pytestmark = pytest.mark.dft


@pytest.fixture(scope="module")
def pw_md_run(tmp_path_factory):
    from elfviz.reference import DFTSettings, qe
    from elfviz.reference.md import run_md

    if not qe.is_available():
        pytest.skip("pw.x not installed")
    cell = np.eye(3) * 3.2
    positions = np.array([[0.4, 0.5, 0.5], [1.15, 0.5, 0.5], [2.0, 2.0, 2.1], [2.0, 2.78, 2.1]])
    workdir = tmp_path_factory.mktemp("pw-md")
    run = run_md(cell, positions, temperature_k=1500, n_steps=4, dt_fs=0.5, workdir=workdir,
                 settings=DFTSettings(ecutwfc_ry=15, kmesh=(1, 1, 1), kshift=False), timeout=600)
    return workdir / "md.out", run


def test_a_pw_md_output_is_read_frame_by_frame(pw_md_run):
    out, run = pw_md_run
    pwo = out.with_suffix(".pwo")
    pwo.write_bytes(out.read_bytes())
    frames = list(read_trajectory(pwo))
    assert len(frames) >= 4 and all(f.sizes["atom"] == 4 for f in frames)
    assert set(np.concatenate([f["numbers"].values for f in frames]).tolist()) == {1}
    for frame in frames:
        np.testing.assert_allclose(frame["cell"].values, np.eye(3) * 3.2, atol=1e-4)
    # frame 0: the starting positions; frame k: those after MD step k (each with its SCF: the last step's
    # positions, which pw.x never computed, are not a frame); times from pw.x's "Entering Dynamics" lines
    assert len(frames) == 4
    for k in range(1, len(frames)):
        wrapped = (frames[k]["positions"].values - run.positions[k - 1] + 1.6) % 3.2 - 1.6
        assert np.abs(wrapped).max() < 1e-5, f"frame {k} is not the positions after MD step {k}"
    assert [f.attrs["md_step"] for f in frames] == [0, 1, 2, 3]
    np.testing.assert_allclose([f.attrs["md_time_fs"] for f in frames], [0.0, 0.5, 1.0, 1.5])
    moved = np.abs(frames[-1]["positions"].values - frames[0]["positions"].values).max()
    assert moved > 1e-3, "the atoms did not move between the first and the last frame"


def test_a_pw_md_output_uploaded_as_out_is_recognised_by_its_content(pw_md_run):
    out, _ = pw_md_run
    from_file = list(read_trajectory(out.with_suffix(".pwo")))
    uploaded = list(read_trajectory_bytes(out.read_bytes(), "md.out"))
    assert len(uploaded) == len(from_file)
    np.testing.assert_allclose(uploaded[-1]["positions"].values, from_file[-1]["positions"].values)
