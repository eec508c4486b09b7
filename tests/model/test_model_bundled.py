"""Shipped models by version: ``Predictor("elfnet-fft@1.6")``, ``--weights elfnet-msg@2.0``; the default is 2.1."""

import json
import shutil
from pathlib import Path

import pytest

from elfviz import io
from elfviz.cli import main
from elfviz.data import examples_path
from elfviz.errors import ModelError
from elfviz.model import Predictor
from elfviz.model.bundled import BUNDLED_WEIGHTS, bundled_models, is_bundled, resolve_weights
from elfviz.model.network import load_model, weight_paths

FRAME = examples_path() / "frames" / "C2c-12-rs1.30.nc"


def test_every_shipped_model_is_found_by_its_version():
    shipped = bundled_models()
    assert list(shipped) == ["elfnet-msg@2.1", "elfnet-fft@1.6", "elfnet-msg@2.0"]  # the default first
    assert shipped["elfnet-msg@2.1"] == BUNDLED_WEIGHTS == resolve_weights(None) == resolve_weights("bundled")
    for version, stem in shipped.items():
        assert json.loads(weight_paths(stem)[1].read_text())["version"] == version and is_bundled(stem)
    assert resolve_weights("my/model") == Path("my/model")  # anything else is a path, checked when loaded


def test_an_unknown_model_names_the_shipped_ones():
    with pytest.raises(ModelError, match=r"name a shipped model \(elfnet-msg@2.1, elfnet-fft@1.6, elfnet-msg@2.0\)"):
        Predictor("elfnet-fft@9.9", device="cpu")


def test_a_dot_in_a_weights_name_is_kept(tmp_path):
    """``model-2.0`` is a stem, not ``model-2`` with suffix ``.0``: the files are ``model-2.0.pt`` / ``.json``."""
    assert [p.name for p in weight_paths(tmp_path / "model-2.0")] == ["model-2.0.pt", "model-2.0.json"]
    assert [p.name for p in weight_paths(tmp_path / "model-2.0.pt")] == ["model-2.0.pt", "model-2.0.json"]
    for path in weight_paths(resolve_weights("elfnet-msg@2.0")):
        shutil.copy(path, tmp_path / path.name)
    _, meta = load_model(tmp_path / "elfnet-msg-2.0")
    assert meta["version"] == "elfnet-msg@2.0"


def test_a_model_by_name_predicts_with_its_own_correction(tmp_path):
    other = Predictor("elfnet-msg@2.0", device="cpu", correction="bundled")
    assert other.version == "elfnet-msg@2.0" and other.n_members == 2
    assert other.correction.metadata["model_version"] == "elfnet-msg@2.0"
    assert Predictor(device="cpu", correction="bundled").correction.metadata["model_version"] == "elfnet-msg@2.1"
    assert Predictor("elfnet-fft@1.6", device="cpu", correction="bundled").correction.metadata[
        "model_version"] == "elfnet-fft@1.6"
    out = tmp_path / "pred.nc"
    assert main(["predict", str(FRAME), "-o", str(out), "--like", str(FRAME), "--weights", "elfnet-msg@2.0",
                 "--device", "cpu"]) == 0
    assert io.read(out).attrs["source"] == "model:elfnet-msg@2.0"
