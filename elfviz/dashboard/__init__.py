"""The elfviz dashboard: Panel/param components wired to the library (no science in here).

Components (each a ``pn.viewable.Viewer`` that displays in JupyterLab and in ``panel serve``) share
one :class:`DashboardState`:

- :class:`StructurePanel`: built-in examples (bundled liquid frames per density, crystal phases) and upload;
- :class:`ModelPanel`: the bundled model on the selected structure (device, cache);
- :class:`View3D`: periodic isosurface coloured by component, atoms, cell, isovalue slider (drawn by
  :class:`~elfviz.dashboard.scene_view.SceneView`, three.js);
- :class:`NetworkPanel`: percolation at the isovalue, phi, phi*, Tc estimate, dimension-versus-isovalue plot;
- :class:`SlicePanel`: 2-D slices on lattice planes;
- :class:`ResidualPanel`: residuals, Fourier spectra versus pressure, Fourier correction;
- :class:`ExportPanel`: netCDF, cube, PNG downloads;
- :class:`TrajectoryPanel`: an MD trajectory played frame by frame (views follow), phi(t) and phi*(t), GIF.

:func:`build_app` assembles them into a ``FastListTemplate``.
"""

from .app import Dashboard, build_app
from .export_panel import ExportPanel
from .model_panel import ModelPanel
from .network_panel import NetworkPanel
from .residual_panel import ResidualPanel
from .slice_panel import SlicePanel
from .state import DashboardState
from .structure_panel import StructurePanel
from .trajectory_panel import TrajectoryPanel
from .view3d import View3D

__all__ = ["Dashboard", "DashboardState", "ExportPanel", "ModelPanel", "NetworkPanel", "ResidualPanel",
           "SlicePanel", "StructurePanel", "TrajectoryPanel", "View3D", "build_app"]
