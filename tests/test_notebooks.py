"""The notebooks in notebooks/ execute top to bottom (nbclient), so they never rot.

Each notebook runs in a fresh kernel in a temporary directory; a failing cell fails the test with the
cell's traceback. They are written to finish well under a minute each on a laptop CPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NEEDS_MODEL = {"quickstart", "residual_spectra", "trajectory_flicker"}  # run the bundled Predictor
CELL_TIMEOUT_S = 300  # generous: the CI machine is shared; the notebooks themselves take seconds per cell


def require_bundled_model() -> None:
    """Skip (with the reason) when the package's bundled model weights are not installed."""
    from elfviz.errors import ModelError
    from elfviz.model import Predictor

    try:
        Predictor(device="cpu")
    except ModelError as exc:
        pytest.skip(f"bundled model weights missing: {exc}")


def test_all_notebooks_are_present():
    assert {nb.name for nb in NOTEBOOKS} >= {"quickstart.ipynb", "residual_spectra.ipynb",
                                            "teaching_elf_percolation.ipynb", "trajectory_flicker.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    if path.stem in NEEDS_MODEL:
        require_bundled_model()
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors
    images = [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    if path.stem != "residual_spectra":
        assert images, "the notebook should show at least one rendered 3D view"
