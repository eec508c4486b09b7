"""Research programs that are not ``elfviz`` subcommands: ``python -m elfviz.cli.programs.NAME``.

Each is the argparse front end of one library module (which holds the work and no argparse):

- ``examples``: :mod:`elfviz.data.examples`
- ``ablation``: :mod:`elfviz.model.training.ablation`
- ``atom_ablation``: :mod:`elfviz.model.training.atom_ablation`
- ``bond_midpoints``: :mod:`elfviz.model.training.bond_midpoints`
- ``evaluate``: :mod:`elfviz.model.training.evaluate`
- ``report``: :mod:`elfviz.model.training.report`
- ``convergence``: :mod:`elfviz.reference.convergence`
- ``crystal_fit``: :mod:`elfviz.reference.crystal_fit`
- ``datasheet``: :mod:`elfviz.reference.datasheet`
"""
