"""reference_elf: engine dispatch and accepted structure types."""

import numpy as np
import pytest
from ase import Atoms

from elfviz import grid
from elfviz.errors import EngineError, SpeciesError, StructureError
from elfviz.reference import reference_elf


def test_unknown_engine_is_refused():
    atoms = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=np.eye(3) * 4, pbc=True)
    with pytest.raises(EngineError, match="unknown engine"):
        reference_elf(atoms, engine="vasp")


def test_non_structure_is_refused():
    with pytest.raises(EngineError, match="ase.Atoms"):
        reference_elf([[0, 0, 0]])


def test_atoms_without_periodicity_are_refused_before_any_run():
    atoms = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=np.eye(3) * 4, pbc=False)
    with pytest.raises(StructureError, match="periodic"):
        reference_elf(atoms)


def test_atoms_reach_the_engine_as_a_structure_without_grid(monkeypatch):
    from elfviz.reference import qe

    seen = {}

    def fake_qe_elf(structure, settings, *, spacing, shape, **kwargs):
        seen.update(structure=structure, spacing=spacing, shape=shape)
        return "done"

    monkeypatch.setattr(qe, "qe_elf", fake_qe_elf)
    atoms = Atoms("H2", positions=[[1.63, 2, 2], [2.37, 2, 2]], cell=np.eye(3) * 4, pbc=True)
    assert reference_elf(atoms, spacing=0.2) == "done"
    structure = seen["structure"]
    assert not grid.has_grid(structure) and structure.sizes["atom"] == 2  # no grid made up: the engine chooses
    assert seen["spacing"] == 0.2 and seen["shape"] is None


def test_engines_accept_a_structure_without_grid():
    from elfviz.reference.pyscf_engine import pyscf_elf
    from elfviz.reference.qe import qe_elf

    # the structure passes the engines' checks; the species check (before any run) is what refuses it
    water_ish = grid.make_structure(np.eye(3) * 4.0, [[0, 0, 0], [0.96, 0, 0]], [8, 1])
    for engine in (qe_elf, pyscf_elf):
        with pytest.raises(SpeciesError, match="hydrogen only"):
            engine(water_ish)
    with pytest.raises(StructureError, match="'cell'"):
        qe_elf(water_ish.drop_vars("cell"))


def test_build_and_study_structures_have_no_grid():
    from elfviz.reference import convergence
    from elfviz.reference.dataset import DatasetConfig, _crystal_jobs, _liquid_structure
    from elfviz.reference.md import MDTrajectory

    positions = np.array([[0.5, 0.5, 0.5], [1.24, 0.5, 0.5], [2.5, 2.5, 2.5], [3.24, 2.5, 2.5]])
    traj = MDTrajectory(np.eye(3) * 4.0, positions[None], np.array([1000.0]), np.array([-1.0]), 0.5)
    liquid = _liquid_structure(traj, {"name": "rs1.5-t0"}, 0, positions, "rs1.5-t0-f000")
    assert not grid.has_grid(liquid) and liquid.attrs["frame_id"] == "rs1.5-t0-f000"
    assert liquid.attrs["source"] == "md" and liquid.attrs["md_time_fs"] == 0.5
    config = DatasetConfig(md={}, labels={}, trajectories=[], crystals=[{"phase": "C2c-12", "rs": [1.38]}])
    ((crystal, frame_id, *_),) = _crystal_jobs(config, labelled=set())
    assert frame_id == "C2c-12-rs1.38" and crystal.attrs["phase"] == "C2c-12"
    for structure in (crystal, convergence.proxy_structure(), convergence.crosscheck_structure(),
                      convergence.crystal_structure()):
        assert not grid.has_grid(structure) and grid.validate_structure(structure) is structure


@pytest.mark.dft
def test_atoms_are_accepted_like_a_dataset():
    from elfviz.reference import qe

    if not qe.is_available():
        pytest.skip("pw.x not installed")
    from elfviz.reference import DFTSettings

    atoms = Atoms("H2", positions=[[1.63, 2, 2], [2.37, 2, 2]], cell=np.eye(3) * 4, pbc=True)
    ref = reference_elf(atoms, settings=DFTSettings(ecutwfc_ry=25, kmesh=(1, 1, 1), kshift=False))
    assert ref.sizes["atom"] == 2 and ref.sizes["a"] > 4  # the engine's grid, not the placeholder
    assert 0.0 <= float(ref["elf"].min()) and float(ref["elf"].max()) <= 1.0
