"""The models shipped with elfviz, by version name.

``elfviz/model/weights/`` holds one ``STEM.pt`` + ``STEM.json`` pair per shipped model; the JSON names its
version. ``elfnet`` is the default model (elfnet-msg@2.1); the others load by their version, e.g.
``Predictor(weights="elfnet-fft@1.6")`` or ``elfviz predict X -o Y --weights elfnet-fft@1.6``.

>>> list(bundled_models())           # the default first
['elfnet-msg@2.1', 'elfnet-fft@1.6', 'elfnet-msg@2.0']
>>> resolve_weights("elfnet-fft@1.6").name
'elfnet-fft-1.6'
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
"""Folder of the shipped weights (and of ``corrections/``, the shipped Fourier corrections)."""

BUNDLED_WEIGHTS = WEIGHTS_DIR / "elfnet"
"""Stem of the default model's weights (``elfnet.pt`` + ``elfnet.json``)."""

WEIGHTS_HELP = (
    "a shipped model by version (e.g. elfnet-fft@1.6, the faster local model) or weights written by `elfviz "
    "train` (default: the bundled model, elfnet-msg@2.1)"
)
"""Help text of the command-line ``--weights`` options (they go through :func:`resolve_weights`)."""


@lru_cache(maxsize=1)
def bundled_models() -> dict[str, Path]:
    """``{version: weights stem}`` of every model shipped in :data:`WEIGHTS_DIR`, the default first."""
    found = {}
    for js in sorted(WEIGHTS_DIR.glob("*.json"), key=lambda js: (js.with_suffix("") != BUNDLED_WEIGHTS, js.name)):
        if js.with_suffix(".pt").is_file():
            version = json.loads(js.read_text()).get("version")
            if version:
                found[str(version)] = js.with_suffix("")
    return found


def resolve_weights(spec: str | Path | None) -> Path:
    """The weights stem or file for ``spec``: None -> the default model, a shipped version name -> its stem,
    anything else -> that path (checked when it is loaded)."""
    if spec is None or str(spec) in ("", "bundled"):
        return BUNDLED_WEIGHTS
    return bundled_models().get(str(spec), Path(spec))


def is_bundled(weights: str | Path) -> bool:
    """Whether ``weights`` (a stem or ``.pt``/``.json`` path) is one of the shipped models."""
    from .network import same_weights

    return any(same_weights(weights, stem) for stem in bundled_models().values())
