"""The 3-D view's browser component: shipped bundle, no network access, one view per component."""

from __future__ import annotations

import hashlib
import re

import pytest

pytest.importorskip("panel")

from elfviz.dashboard.scene_view import BUNDLE, SOURCE, SceneView  # noqa: E402


def test_the_bundle_is_built_from_the_current_source():
    first_line = BUNDLE.read_text(encoding="utf-8").splitlines()[0]
    recorded = re.search(r"sha256=([0-9a-f]{64})", first_line)
    assert recorded, "scene_view.bundle.js lacks its source stamp: run `npm run build` in elfviz/dashboard/js"
    assert recorded.group(1) == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), (
        "scene_view.js changed since the bundle was built: run `npm install && npm run build` in "
        "elfviz/dashboard/js and commit scene_view.bundle.js")


def test_the_bundle_fetches_nothing_from_the_internet():
    text = BUNDLE.read_text(encoding="utf-8")
    assert "import(" not in text and not re.search(r"""from\s*["']https?:""", text)
    assert "three" not in SceneView._importmap.get("imports", {})


def test_the_bundle_ships_with_the_package():
    from importlib.resources import files

    assert files("elfviz.dashboard").joinpath("js/scene_view.bundle.js").is_file()


def test_each_view_has_its_own_identity_and_sends_bytes():
    a, b = SceneView(), SceneView()
    assert a.uid and a.uid != b.uid
    model = a.get_root()
    a.payload = b"\x00\x01\x02\x03"
    assert model.data.payload == b"\x00\x01\x02\x03"
