"""The browser side of the 3-D view: a Panel component drawing a scene payload with three.js.

:class:`SceneView` keeps one three.js scene, one canvas and one WebGL context for the life of the page
(also in JupyterLab: the bundle ships inside the package, nothing is fetched from the internet). The
server sets :attr:`SceneView.payload` (from :func:`elfviz.viz.payload.scene_payload`); the browser swaps the
meshes in place and reports the camera the user chose back in :attr:`SceneView.camera`.

The JavaScript source is ``js/scene_view.js``; ``npm run build`` in that folder bundles it with three.js
into ``js/scene_view.bundle.js`` (committed; its first line records the source's SHA-256).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import param
from panel.custom import JSComponent

JS_DIR = Path(__file__).parent / "js"
BUNDLE = JS_DIR / "scene_view.bundle.js"
SOURCE = JS_DIR / "scene_view.js"


class SceneView(JSComponent):
    """One WebGL view of a scene payload (see :mod:`elfviz.viz.payload`).

    Parameters
    ----------
    payload : bytes
        The scene; a new value replaces the meshes (the camera resets when its ``view_key`` changes).
    camera : dict
        Set by the browser: ``position``, ``focalPoint``, ``viewUp`` (Å) and ``viewAngle`` (degrees).
    """

    payload = param.Bytes(default=b"", doc="Scene payload from elfviz.viz.payload.")
    camera = param.Dict(default={}, doc="Camera reported by the browser (vtk-style keys).")
    uid = param.String(default="", doc="Identity of this view in the page (keeps its WebGL context).")

    _bundle = BUNDLE
    _esm = BUNDLE

    _stylesheets = [":host { display: block; } canvas.elfviz-scene-canvas { outline: none; }"]

    def __init__(self, **params):
        params.setdefault("uid", uuid.uuid4().hex)
        super().__init__(**params)
