"""Fuzzy c-means phase analysis of SEM EDS spectrum images, as a HyperSpy extension.

Load a map with ``signal_type="EDS_SEM_cmeans"`` (or convert a loaded EDS SEM
signal with ``s.set_signal_type("EDS_SEM_cmeans")``) to get
:class:`EDSSEMCmeansSpectrum`, whose methods calibrate the map, cluster it with
fuzzy c-means and return membership maps, phase maps and phase spectra.

The c-means engine, :mod:`hyperspy_cmeans.cmeans`, needs only NumPy, SciPy and
scikit-learn: the signal classes (and so HyperSpy) are imported on first use.
"""

from hyperspy_cmeans._version import __version__

__all__ = ["EDSSEMCmeansSpectrum", "LazyEDSSEMCmeansSpectrum", "__version__"]


def __getattr__(name):
    if name in ("EDSSEMCmeansSpectrum", "LazyEDSSEMCmeansSpectrum"):
        from hyperspy_cmeans import signals

        return getattr(signals, name)
    raise AttributeError(f"module 'hyperspy_cmeans' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
