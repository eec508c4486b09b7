"""Visualisation of ELF fields: pyvista meshes (periodic isosurfaces, atoms, cell) and holoviews plots.

This package imports pyvista/vtk and holoviews inside its modules, never here, so that
``import elfviz.viz.plots`` does not pull in VTK and ``import elfviz`` stays light.

Modules
-------
isosurface
    Pure functions that turn a periodic field on a (possibly skewed) cell into pyvista meshes:
    the isosurface closed across periodic boundaries and coloured by connected component, atoms as
    spheres, the cell box.
scene
    Assembles those meshes into a ``pyvista.Plotter`` (used by the dashboard's 3D view, the notebooks
    and PNG export).
slices
    2-D slices of a field on a lattice plane, with Cartesian in-plane coordinates (Å).
"""
