"""The import rules of docs/design.md, read from the source (function-local imports included).

1. No cycle between elfviz's top-level parts (``grid``, ``io``, ``model``, ``analysis`` ...).
2. Inference (``elfviz.model`` outside ``elfviz.model.training``) imports only ``elfviz.grid``, ``elfviz.errors``,
   ``elfviz.resources`` and its own modules.
3. ``argparse`` only in ``elfviz.cli``.
4. No module over 600 lines, except the numba kernels.

Deprecated aliases (a module whose docstring starts with "Deprecated alias") are not part of the layout.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "elfviz"
INFERENCE_MAY_IMPORT = ("elfviz.grid", "elfviz.errors", "elfviz.resources")
KERNELS = {"elfviz.topology._kernels"}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        doc = ast.get_docstring(tree) or ""
        if doc.startswith("Deprecated alias"):
            continue
        found[module_name(path)] = (path, tree)
    return found


def imports(name: str, path: Path, tree: ast.Module) -> set[str]:
    """Every elfviz module (or name in one) this module imports, at any depth of the code."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("elfviz"):
                out.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.startswith("elfviz"))
    return out


def part(name: str) -> str:
    pieces = name.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


@pytest.fixture(scope="module")
def graph():
    return {name: imports(name, path, tree) for name, (path, tree) in modules().items()}


def test_no_cycle_between_top_level_parts(graph):
    edges: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for name, targets in graph.items():
        for target in targets:
            a, b = part(name), part(target)
            if a != b and b not in ("__version__",):
                edges.setdefault(a, set()).add(b)
                why.setdefault((a, b), f"{name} imports {target}")
    # depth-first search for a cycle; report it with one import per edge
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = visit(start)
            assert cycle is None, "cycle between parts: " + " -> ".join(cycle) + "\n" + "\n".join(
                why[(a, b)] for a, b in zip(cycle, cycle[1:], strict=False))


def test_inference_imports_only_the_grid_the_errors_and_itself(graph):
    inference = [n for n in graph if n.startswith("elfviz.model") and not n.startswith("elfviz.model.training")]
    assert {"elfviz.model.predictor", "elfviz.model.descriptors", "elfviz.model.network",
            "elfviz.model.correction"} <= set(inference)
    offending = sorted(
        f"{name} imports {target}" for name in inference for target in graph[name]
        if not (target.startswith(INFERENCE_MAY_IMPORT)
                or (target.startswith("elfviz.model") and not target.startswith("elfviz.model.training")))
    )
    assert not offending, "\n".join(offending)


def test_argparse_only_in_the_cli():
    offending = []
    for name, (_path, tree) in modules().items():
        if name.startswith("elfviz.cli") or name == "elfviz.__main__":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names) or \
                    isinstance(node, ast.ImportFrom) and node.module == "argparse":
                offending.append(name)
    assert not offending, f"argparse outside elfviz.cli: {sorted(set(offending))}"


def test_no_module_over_600_lines_except_kernels():
    long = {name: len(path.read_text().splitlines()) for name, (path, _) in modules().items()
            if name not in KERNELS}
    over = {name: n for name, n in long.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines: {over}"


def test_the_rules_see_function_local_imports():
    tree = ast.parse("def f():\n    from ..model import Predictor\n")
    assert imports("elfviz.analysis.x", PACKAGE / "analysis" / "x.py", tree) == {"elfviz.model.Predictor"}


@pytest.mark.parametrize("old,new,name", [
    ("elfviz.structures_fit", "elfviz.reference.crystal_fit", "i41amd_cell"),
    ("elfviz.model.evaluate", "elfviz.model.training.evaluate", "evaluate"),
    ("elfviz.analysis.learned_correction", "elfviz.model.correction", "FourierCorrection"),
    ("elfviz.analysis.bond_midpoints", "elfviz.model.training.bond_midpoints", "bond_midpoint_values"),
])
def test_moved_modules_still_import_for_one_release_with_a_warning(old, new, name):
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_the_learned_correction_is_still_reachable_from_analysis_with_a_warning():
    import elfviz.analysis
    from elfviz.model.correction import FourierCorrection

    with pytest.warns(DeprecationWarning, match="moved to elfviz.model.correction.FourierCorrection"):
        assert elfviz.analysis.FourierCorrection is FourierCorrection


def test_old_program_paths_still_run(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "elfviz.model.evaluate", "--help"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "usage:" in done.stdout
    assert "is now `python -m elfviz.cli.programs.evaluate`" in done.stderr
