"""Fuzzy c-means phase analysis of SEM EDS spectrum images, as a HyperSpy extension.

Load a map with ``signal_type="EDS_SEM_cmeans"`` (or convert a loaded EDS SEM
signal with ``s.set_signal_type("EDS_SEM_cmeans")``) to get
:class:`EDSSEMCmeansSpectrum`, whose methods calibrate the map, cluster it with
fuzzy c-means and return membership maps, phase maps and phase spectra.
"""

from hyperspy_cmeans._version import __version__
from hyperspy_cmeans.signals import EDSSEMCmeansSpectrum, LazyEDSSEMCmeansSpectrum

__all__ = ["EDSSEMCmeansSpectrum", "LazyEDSSEMCmeansSpectrum", "__version__"]
