"""reference_elf: engine dispatch and accepted structure types."""

import numpy as np
import pytest
from ase import Atoms

from elfviz.errors import EngineError, StructureError
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
