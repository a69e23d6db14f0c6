"""Graphical user interfaces of the ``EDS_SEM_cmeans`` signal methods.

The methods :meth:`~hyperspy_cmeans.signals.EDSSEMCmeansSpectrum.fuzzy_cluster`,
:meth:`~hyperspy_cmeans.signals.EDSSEMCmeansSpectrum.calibrate_energy_from_peaks`
and :meth:`~hyperspy_cmeans.signals.EDSSEMCmeansSpectrum.tilt_correct_scale`
open a GUI through HyperSpy's GUI registry (``hyperspy.ui_registry``):

- :mod:`hyperspy_cmeans._gui.tools` holds one traits "tool" object per GUI,
  which carries the parameters and calls the signal method. It needs only
  ``traits`` and HyperSpy.
- :mod:`hyperspy_cmeans._gui.ipywidgets` holds the Jupyter widgets, registered
  in ``hyperspy_extension.yaml``; it needs the ``gui-jupyter`` extra
  (``pip install hyperspy_cmeans[gui-jupyter]``).

Nothing is imported here, so that the signal module imports nothing of the
GUIs until one is asked for.
"""
