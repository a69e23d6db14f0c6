"""The plot methods on maps as real instruments record them (hyperspy_cmeans.signals._plots):
an energy range worth showing, a scale not set by the zero peak, readable line labels and
lengths, markers in the axis units."""

import numpy as np
import pytest

from hyperspy_cmeans import _drawing as drawing
from hyperspy_cmeans.data import synthetic_eds_map


@pytest.fixture(scope="module")
def wide_map():
    """A 20 keV-range map (2048 channels of 10 eV) with a strong zero-energy peak."""
    s = synthetic_eds_map(shape=(30, 28), n_channels=2048, scale=0.01, random_state=4)
    s.change_dtype("float64")
    s.data[..., :12] += 5e3  # the detector's noise peak at 0 keV
    s.fuzzy_cluster(4, "fcm", n_init=2, random_state=0)
    return s


def _text_positions(ax):
    return {t.get_text(): t.get_position() for t in ax.texts}


def test_energy_range_ends_after_the_highest_line_of_interest(wide_map):
    ax = wide_map.plot_phase_spectra()
    lines = {t.get_text() for t in ax.texts}
    assert "Fe Ka" in lines
    low, high = ax.get_xlim()
    assert 7.0 < high < 8.0  # Fe Ka 6.40 keV + 1 keV, not the 20 keV axis end
    assert high < wide_map.metadata.Acquisition_instrument.SEM.beam_energy


def test_zero_energy_peak_does_not_set_the_scale(wide_map):
    ax = wide_map.plot_phase_spectra()
    spectra = wide_map.cluster_phase_spectra().data
    energy = wide_map.axes_manager.signal_axes[0].axis
    above = spectra[:, energy > 0.2]
    assert ax.get_ylim()[1] < 4 * above.max() * len(spectra)  # not ~5000 counts
    assert spectra[:, :12].max() > 10 * ax.get_ylim()[1] / len(spectra)


def test_extra_lines_can_be_labelled_and_labels_do_not_overlap(wide_map):
    ax = wide_map.plot_phase_spectra(xray_lines=["C_Ka", "Pt", "Ga_La"])
    positions = _text_positions(ax)
    assert {"C Ka", "Pt Ma", "Ga La"} <= set(positions)
    width = np.diff(ax.get_xlim())[0]
    items = sorted(positions.values())
    for (x1, y1), (x2, y2) in zip(items, items[1:], strict=False):
        if x2 - x1 < 0.018 * width:  # too close side by side: staggered vertically
            assert y1 != y2
    with pytest.raises(ValueError, match="unknown element"):
        wide_map.plot_phase_spectra(xray_lines=["Xx"])


def test_line_markers_follow_an_ev_axis(wide_map):
    s = wide_map.deepcopy()
    s.axes_manager.signal_axes[0].convert_to_units("eV")
    ax = s.plot_phase_spectra()
    x, _ = _text_positions(ax)["Fe Ka"]
    assert x == pytest.approx(6403.8, abs=1.0)
    assert ax.get_xlabel() == "Energy (eV)"
    assert 7000 < ax.get_xlim()[1] < 8000


def test_lengths_in_readable_units(wide_map):
    s = wide_map.deepcopy()
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.units = 30000.0, "nm"  # 30 µm pixels: an 840 µm field
    ax = s.plot_phase_map()
    assert ax.get_xlabel() == "x (µm)"
    assert ax.images[0].get_extent()[1] == pytest.approx(27.5 * 30.0)
    grid = s.plot_cluster_memberships()
    assert grid.flat[0].get_ylabel() == "y (µm)"


def test_readable_extent():
    assert drawing.readable_extent([0, 800000, 0, 1000], "nm") == ([0, 800.0, 0, 1.0], "µm")
    assert drawing.readable_extent([0, 50, 0, 50], "nm") == ([0, 50, 0, 50], "nm")
    assert drawing.readable_extent([0, 5, 0, 5], "px") == ([0, 5, 0, 5], "px")


def test_three_dimensional_navigation_plot_says_what_to_do():
    s = synthetic_eds_map(shape=(12, 10), n_channels=128, scale=0.08, random_state=0)
    import hyperspy.api as hs

    stack = hs.stack([s, s], axis=None)  # serial sections: (z, y, x | E)
    stack.set_signal_type("EDS_SEM_cmeans")
    stack.fuzzy_cluster(2, "fcm", n_init=1, random_state=0)
    with pytest.raises(ValueError, match="two navigation axes; this signal has 3"):
        stack.plot_phase_map()
    assert stack.get_phase_map().data.shape == (2, 12, 10)


def test_plot_methods_do_not_return_figures(wide_map):
    """Jupyter renders a returned Figure a second time: the methods return their axes."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    for drawn in (
        wide_map.plot_cluster_memberships(),
        wide_map.plot_phase_map(),
        wide_map.plot_phase_spectra(),
        wide_map.plot_data_space(),
    ):
        assert not isinstance(drawn, Figure)
        assert all(isinstance(ax, Axes) for ax in np.ravel(drawn))
