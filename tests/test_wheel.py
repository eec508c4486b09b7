"""The wheel people install: built from this checkout, small, and working in a fresh virtual environment.

The venv sees the already installed dependencies (``--system-site-packages``: torch, panel, ... are not
downloaded again) but installs elfviz itself only from the built wheel, so the test catches package data
missing from the wheel (weights, examples, the 3-D view's JavaScript) and an entry point that does not run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_WHEEL_BYTES = 15e6
NEEDED = ("elfviz/model/weights/elfnet.pt", "elfviz/model/weights/elfnet.json", "elfviz/model/MODEL_CARD.md",
          "elfviz/model/weights/elfnet-msg-2.0.pt", "elfviz/model/weights/elfnet-msg-2.0.json",
          "elfviz/model/weights/elfnet-msg-2.0_CARD.md", "elfviz/model/weights/corrections/elfnet-msg-2.0.json",
          "elfviz/dashboard/js/scene_view.bundle.js", "elfviz/data/examples/index.csv",
          "elfviz/data/examples/frames/C2c-24-rs1.30.nc", "elfviz/model/weights/corrections/elfnet-fft-1.6.json",
          "elfviz/model/weights/elfnet-fft-1.6.pt", "elfviz/model/weights/elfnet-fft-1.6.json",
          "elfviz/model/weights/elfnet-fft-1.6_CARD.md", "elfviz/model/weights/corrections/elfnet-msg-2.1.json")

pytest.importorskip("build")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--sdist", "--no-isolation", "-o", str(out), str(ROOT)],
                   check=True, capture_output=True, cwd=out)
    wheel = next(out.glob("elfviz-*.whl"))
    sdist = next(out.glob("elfviz-*.tar.gz"))
    return wheel, sdist


def test_wheel_and_sdist_carry_the_main_job_and_not_the_training_data(dist):
    wheel, sdist = dist
    assert wheel.stat().st_size < MAX_WHEEL_BYTES, f"wheel is {wheel.stat().st_size / 1e6:.1f} MB"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert all(name in names for name in NEEDED), sorted(set(NEEDED) - names)
    assert not any("/md/" in n or "train-f" in n for n in names)  # MD trajectories and training frames stay out
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert not any("/data/dataset/" in m for m in members) and sdist.stat().st_size < MAX_WHEEL_BYTES
    assert any(m.endswith("/LICENSE") for m in members)


def test_a_fresh_venv_installs_the_wheel_and_predicts_a_bundled_example(dist, tmp_path):
    wheel, _ = dist
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ELFVIZ_DATASET")}
    run = dict(cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)  # away from the checkout
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-index", "--quiet", str(wheel)], **run)
    assert done.returncode == 0, done.stderr
    where = subprocess.run([str(python), "-c", "import elfviz.data as d; print(d.examples_path())"], **run)
    examples = Path(where.stdout.strip())
    assert examples.is_relative_to(env_dir), f"elfviz came from {examples}, not from the wheel"
    out = tmp_path / "pred.nc"
    done = subprocess.run([str(env_dir / "bin" / "elfviz"), "predict", str(examples / "frames" / "I41amd-rs1.30.nc"),
                           "-o", str(out)], **run)
    assert done.returncode == 0 and out.stat().st_size > 0, done.stderr
    done = subprocess.run([str(env_dir / "bin" / "elfviz"), "percolate", str(out)], **run)
    assert done.returncode == 0 and "phi  =" in done.stdout and "Tc ~" in done.stdout, done.stderr
    # the training data is not in the wheel: training says where to get it, exit 2, no traceback
    done = subprocess.run([str(env_dir / "bin" / "elfviz"), "train", "bundled", "-o", str(tmp_path / "m")], **run)
    assert done.returncode == 2 and "clone the repository" in done.stderr and "Traceback" not in done.stderr
