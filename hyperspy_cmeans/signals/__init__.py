"""HyperSpy signal classes registered by hyperspy_cmeans."""

from hyperspy_cmeans.signals._eds_sem_cmeans import (
    EDSSEMCmeansSpectrum,
    LazyEDSSEMCmeansSpectrum,
)

__all__ = ["EDSSEMCmeansSpectrum", "LazyEDSSEMCmeansSpectrum"]
