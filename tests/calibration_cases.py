"""Spectra and checks shared by the calibration tests (not a test module)."""

import copy

import numpy as np
import traits.api as t
from scipy import special

from hyperspy_cmeans import EDSSEMCmeansSpectrum
from hyperspy_cmeans._calibration import fwhm_at_energy
from hyperspy_cmeans.data import synthetic_eds_map

STUDY_ELEMENTS = ["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"]
STUDY_LINES = ["O_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka"]


def axis_state(s):
    """Everything of the energy axis that a calibration may change."""
    ax = s.axes_manager.signal_axes[0]
    return (ax.scale, ax.offset, ax.units, ax.name, getattr(ax, "is_uniform", True))


def set_axis(s, scale=1.0, offset=0.0, units=t.Undefined, name="E"):
    """Set the energy axis (default: uncalibrated channels)."""
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units, ax.name = scale, offset, units, name
    return s


def snapshot(s):
    """The axis, metadata and data of a signal, to check that nothing changed."""
    data = s.data.compute() if hasattr(s.data, "compute") else s.data
    return axis_state(s), copy.deepcopy(s.metadata.as_dictionary()), np.array(data, copy=True)


def _same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def assert_unchanged(s, before):
    """Check that the axis, metadata and data are as in ``snapshot(s)``."""
    axis, metadata, data = before
    assert axis_state(s) == axis
    assert _same(s.metadata.as_dictionary(), metadata)
    now = s.data.compute() if hasattr(s.data, "compute") else s.data
    np.testing.assert_array_equal(now, data)


def summed_synthetic(scale, offset, random_state=0, rng=None, shape=(156, 152), **kwargs):
    """Summed spectrum of a synthetic map, calibrated with the truth.

    The sum of the map's independent Poisson counts is a Poisson draw of the
    summed expected spectrum, so it is drawn directly (the map is made lazy,
    which computes only the phase fractions and spectra, not the counts).
    """
    m = synthetic_eds_map(
        shape=shape, scale=scale, offset=offset, lazy=True, random_state=random_state, **kwargs
    )
    truth = m.metadata.Synthetic
    expected = truth.fractions.sum(axis=(1, 2)) @ truth.phase_spectra
    rng = np.random.default_rng(random_state) if rng is None else rng
    s = EDSSEMCmeansSpectrum(rng.poisson(expected).astype(float))
    s.metadata.Sample = m.metadata.Sample.deepcopy()
    s.metadata.Acquisition_instrument = m.metadata.Acquisition_instrument.deepcopy()
    return set_axis(s, scale, offset, "keV", "Energy")


def add_peak(s, energy, counts, resolution=130.0, seed=0):
    """Add Poisson counts of a detector-shaped peak at ``energy`` (keV) to a spectrum."""
    ax = s.axes_manager.signal_axes[0]
    edges = ax.offset + ax.scale * (np.arange(ax.size + 1) - 0.5)
    sigma = fwhm_at_energy(energy, resolution) / (2 * np.sqrt(2 * np.log(2)))
    expected = counts * np.diff(special.ndtr((edges - energy) / sigma))
    s.data = s.data + np.random.default_rng(seed).poisson(expected)
    return s


def recovered(s, scale, offset, scale_tol, offset_channels=0.5):
    """Whether the axis is within ``scale_tol`` (relative) and half a channel of the truth."""
    ax = s.axes_manager.signal_axes[0]
    return (
        abs(ax.scale / scale - 1) < scale_tol and abs(ax.offset - offset) < offset_channels * scale
    )
