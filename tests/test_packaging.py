"""Packaging: environment.yml mirrors pyproject.toml, `import elfviz` is light, CI runs the README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("core", "app", "ml", "dft", "dist", "teach", "dev")
ENV_LINE = re.compile(r"^\s*-\s+(?P<spec>[^\s#]+)\s*#\s*\[(?P<tag>[\w-]+)\]")
CONDA_NAMES = {"python-build": "build"}
"""conda-forge package names that differ from the PyPI name."""
NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?P<spec>.*)$")


def split_requirement(text: str) -> tuple[str, str]:
    """``"dask[distributed]>=2024.8"`` -> ``("dask", ">=2024.8")`` (normalised lower-case name)."""
    match = NAME.match(text.replace(" ", ""))
    assert match, f"cannot parse requirement {text!r}"
    return match["name"].lower().replace("_", "-"), match["spec"]


def pyproject_groups() -> dict[str, dict[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"core": project["dependencies"], **project["optional-dependencies"]}
    return {group: dict(split_requirement(r) for r in reqs) for group, reqs in groups.items()}


def environment_groups() -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = ENV_LINE.match(line)
        if match:
            name, spec = split_requirement(match["spec"]) if match["spec"] != "-e" else ("-e", "")
            name = CONDA_NAMES.get(name, name)
            groups.setdefault(match["tag"], {})[name] = spec
    return groups


def test_environment_yml_is_valid_yaml_for_conda_forge():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "elfviz" and env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "qe" in conda  # Quantum ESPRESSO on conda-forge
    assert "torch==2.13.0" in pip and "-e ." in pip


@pytest.mark.parametrize("group", GROUPS)
def test_environment_mirrors_pyproject(group):
    wanted = pyproject_groups()[group]
    have = environment_groups().get(group, {})
    assert sorted(have) == sorted(wanted), (
        f"[{group}] differs: only in pyproject.toml {sorted(set(wanted) - set(have))}, "
        "only in environment.yml "
        f"{sorted(set(have) - set(wanted))}"
    )
    from packaging.specifiers import SpecifierSet

    for name, spec in have.items():
        if spec.startswith("=="):  # a pin must satisfy pyproject's range
            assert spec[2:] in SpecifierSet(wanted[name]), (
                f"{name}{spec} is outside pyproject's {wanted[name]}"
            )
        else:
            assert spec == wanted[name], (
                f"{name}: environment.yml has {spec!r}, pyproject.toml {wanted[name]!r}"
            )


def test_all_extra_is_the_union_of_the_others():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (all_req,) = project["optional-dependencies"]["all"]
    extras = set(re.match(r"elfviz\[(.*)\]", all_req)[1].split(","))
    assert extras == {"app", "ml", "dft", "dist", "teach"}


def test_import_elfviz_is_light():
    heavy = ("torch", "panel", "holoviews", "pyvista", "vtk", "bokeh")
    code = (
        "import sys, elfviz, elfviz.io, elfviz.structures, elfviz.io.store, elfviz.grid\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing elfviz pulled in {result.stdout.strip()}"


def readme_commands() -> tuple[str, str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1 :]
    block = block[: block.index("```")]
    assert len(block) == 2, (
        "the README quick start must be exactly one set-up/main-job line and one test line"
    )
    return block[0], block[1]


def test_readme_quick_start_and_ci_agree():
    setup, test_line = readme_commands()
    assert setup.startswith("bash scripts/install-debian.sh && elfviz ")
    install = setup.split(" && elfviz ")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci
    assert install in ci.splitlines(), ".ci/run must install exactly as the README says"
    assert any(line.strip().startswith(test_line) for line in ci.splitlines()), (
        ".ci/run must run the README tests"
    )
    assert '"$status" -eq 5' in ci  # pytest's "no tests collected"
    script = (ROOT / "scripts" / "install-debian.sh").read_text()
    assert "set -euo pipefail" in script
    assert 'pip install torch==2.13.0 && pip install -e ".[all,dev]"' in script.splitlines()
    for package in ("quantum-espresso", "quantum-espresso-data", "chromium"):
        assert package in script
    for path in (ROOT / ".ci" / "run", ROOT / "scripts" / "install-debian.sh"):
        assert path.stat().st_mode & 0o111, f"{path.name} must be executable"
