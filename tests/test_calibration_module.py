"""The plain calibration module: line table, peaks, matching, tilt arithmetic."""

import math

import numpy as np
import pytest
from scipy import special

from hyperspy_cmeans._calibration import (
    build_line_table,
    calibrate_spectrum,
    check_stage_tilt,
    estimate_noise_gain,
    find_spectrum_peaks,
    fit_line_template,
    fwhm_at_energy,
    pixel_size_from_field_width,
    split_line,
    tilt_corrected_pixel_size,
)


def _by_name(table):
    return {c.name: c for c in table}


def _line_spectrum(lines, scale, offset, n=1024, resolution=130.0, background=50.0, seed=0):
    """Poisson spectrum of channel-integrated Gaussians at ``lines`` (energy, counts)."""
    edges = offset + scale * (np.arange(n + 1) - 0.5)
    expected = np.full(n, background)
    for energy, counts in lines:
        sigma = fwhm_at_energy(energy, resolution) / (2 * np.sqrt(2 * np.log(2)))
        cdf = special.ndtr((edges - energy) / sigma)
        expected += counts * np.diff(cdf)
    return np.random.default_rng(seed).poisson(expected).astype(float)


# ----------------------------------------------------------------------------- lines


def test_fwhm_follows_the_detector_law():
    assert fwhm_at_energy(5.8987, 130.0) == pytest.approx(0.130)
    assert fwhm_at_energy(0.5249, 130.0) < fwhm_at_energy(1.7397, 130.0) < 0.130
    assert fwhm_at_energy(8.0, 130.0) > 0.130


def test_unresolved_lines_of_a_family_are_weight_averaged():
    table = _by_name(build_line_table(["Zr", "Al"], beam_energy=10.0))
    zr = table["Zr_La"]
    assert {"Zr_La", "Zr_Lb1"} <= set(zr.members)
    # weight-averaged between La (2.0423) and Lb1 (2.1243), nearer to La
    assert 2.0423 < zr.energy < 0.5 * (2.0423 + 2.1243)
    assert zr.spread > 0.02
    al = table["Al_Ka"]
    assert al.members == ("Al_Ka", "Al_Kb") and al.energy == pytest.approx(1.4874, abs=2e-4)
    # K lines above the beam energy are not excited
    assert "Zr_Ka" not in table


def test_weak_lines_are_model_only():
    table = _by_name(build_line_table(["Si"], beam_energy=15.0))
    assert not table["Si_Ka"].model_only
    assert table["Si_Kb"].model_only  # weight 0.028 < min_weight


def test_overlaps_between_elements_are_flagged_or_merged():
    table = _by_name(build_line_table(["Fe", "Mn", "O", "Ti"], beam_energy=15.0))
    # Mn Kb (6.490) sits 86 eV above Fe Ka (6.404): position depends on composition
    assert table["Fe_Ka"].ambiguous and "Mn_Kb" in table["Fe_Ka"].overlaps
    assert table["Mn_Kb"].ambiguous
    # Ti Lb3 (0.529) within a fifth of the FWHM of O Ka (0.525): one peak
    o = table["O_Ka+Ti_Lb3"]
    assert o.energy == pytest.approx(0.5249)
    assert not table["Mn_Ka"].ambiguous


def test_explicit_lines_and_exclusions():
    table = build_line_table(lines=["O_Ka", "Si_Ka", "Fe_Ka"], beam_energy=15.0)
    candidates = [c.name for c in table if not c.model_only]
    assert sorted(candidates) == ["Fe_Ka", "O_Ka", "Si_Ka"]
    table = _by_name(
        build_line_table(["Fe", "Si", "Pt", "Ga"], exclude=["Pt", "Ga", "Fe_La"], beam_energy=15)
    )
    assert table["Pt_Ma"].excluded and table["Ga_La"].excluded and table["Fe_La"].excluded
    assert not table["Fe_Ka"].excluded and not table["Si_Ka"].excluded


@pytest.mark.parametrize(
    "kwargs",
    [
        {"elements": ["Xx"]},
        {"elements": ["Fe"], "exclude": ["Qq"]},
        {"lines": ["Fe_Kz"]},
        {"lines": ["FeKa"]},
        {"elements": []},
        {"elements": ["Fe"], "exclude": ["Fe"]},
    ],
)
def test_invalid_line_requests_raise(kwargs):
    with pytest.raises(ValueError):
        build_line_table(**kwargs)


def test_split_line():
    assert split_line("Fe_Ka") == ("Fe", "Ka")
    with pytest.raises(ValueError):
        split_line("Fe_Kq")


# ----------------------------------------------------------------------------- peaks


def test_noise_gain_is_the_variance_to_mean_ratio():
    rng = np.random.default_rng(1)
    counts = rng.poisson(np.linspace(50, 5000, 2048)).astype(float)
    assert estimate_noise_gain(counts) == pytest.approx(1.0, rel=0.15)
    assert estimate_noise_gain(4.0 * counts) == pytest.approx(4.0, rel=0.15)


def test_peaks_are_found_at_sub_channel_positions():
    lines = [(1.0, 2e4), (3.0, 5e4), (6.0, 3e4)]
    y = _line_spectrum(lines, scale=0.01, offset=-0.1)
    peaks = find_spectrum_peaks(y)
    assert len(peaks) == 3
    expected = (np.array([e for e, _ in lines]) + 0.1) / 0.01
    np.testing.assert_allclose(peaks.position, expected, atol=0.1)
    assert np.all(peaks.position_std < 0.1)


def test_pure_noise_has_no_significant_peaks():
    y = np.random.default_rng(3).poisson(100.0, 1024).astype(float)
    assert len(find_spectrum_peaks(y)) == 0


def test_template_fit_recovers_the_shift_of_a_blend():
    # a 1 : 0.4 doublet 8 channels apart, moved by 1.3 channels
    pos, w, sig = np.array([300.0, 308.0]), np.array([1.0, 0.4]), np.array([4.0, 4.2])
    x = np.arange(600)
    y = 20.0 + sum(
        5e4 * wk * np.exp(-0.5 * ((x - p - 1.3) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        for p, wk, s in zip(pos, w, sig, strict=True)
    )
    shift, shift_std = fit_line_template(y, 280, 330, [(pos, w, sig)])
    assert shift == pytest.approx(1.3, abs=0.01)
    assert shift_std < 0.1


# ----------------------------------------------------------------------------- matching


@pytest.mark.parametrize("scale, offset", [(0.01, -0.1), (0.0045, -0.3), (0.035, -0.5)])
def test_calibrate_spectrum_recovers_a_known_axis(scale, offset):
    energies = {"O_Ka": 0.5249, "Si_Ka": 1.7397, "Ca_Ka": 3.6917, "Fe_Ka": 6.4039}
    spectrum = [(e, 5e4) for e in energies.values()]
    spectrum += [(4.0127, 5e3), (7.058, 6e3)]  # Ca Kb, Fe Kb
    y = _line_spectrum(spectrum, scale, offset)
    table = build_line_table(["O", "Si", "Ca", "Fe"], beam_energy=15.0)
    result = calibrate_spectrum(y, table)
    assert result.scale == pytest.approx(scale, rel=5e-4)
    assert result.offset == pytest.approx(offset, abs=0.5 * scale)
    assert result.rms < 5.0
    fitted = {name for m in result.matches if m.fitted for name in m.line.split("+")}
    assert {"O_Ka", "Si_Ka"} <= fitted
    assert result.scale_std > 0 and result.offset_std > 0


def test_weak_lines_are_not_forced_onto_noise():
    # Ka lines only: no Kb peaks, just noise where the Kb lines would be
    energies = [0.5249, 1.7397, 3.6917, 4.5109, 6.4039]
    y = _line_spectrum([(e, 4e4) for e in energies], 0.01, -0.1, background=200.0, seed=5)
    result = calibrate_spectrum(y, build_line_table(["O", "Si", "Ca", "Ti", "Fe"], beam_energy=15))
    matched = {name for m in result.matches for name in m.line.split("+")}
    assert not any(name.endswith("Kb") for name in matched)
    assert {"O_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka"} <= matched
    assert result.scale == pytest.approx(0.01, rel=5e-4)


def test_fewer_than_two_lines_raise():
    y = _line_spectrum([(6.4039, 5e4)], 0.01, -0.1)
    with pytest.raises(ValueError, match="two"):
        calibrate_spectrum(y, build_line_table(lines=["Fe_Ka"], beam_energy=15))
    flat = np.random.default_rng(0).poisson(100.0, 1024).astype(float)
    with pytest.raises(ValueError, match="two"):
        calibrate_spectrum(flat, build_line_table(["O", "Si", "Fe"], beam_energy=15))


@pytest.mark.parametrize(
    "kwargs",
    [{"scale_range": (40, 2)}, {"scale_range": (0, 5)}, {"offset_range": 1.0}, {"tolerance": -1}],
)
def test_invalid_search_parameters_raise(kwargs):
    y = _line_spectrum([(0.5249, 5e4), (1.7397, 5e4)], 0.01, -0.1)
    with pytest.raises(ValueError):
        calibrate_spectrum(y, build_line_table(["O", "Si"]), **kwargs)


# ----------------------------------------------------------------------------- tilt


def test_tilt_arithmetic_matches_the_study():
    x = pixel_size_from_field_width(17.6e3, 1024)
    assert x == pytest.approx(17.1875)
    assert tilt_corrected_pixel_size(x, 52.0) == pytest.approx(21.81, abs=0.01)
    # 1 / cos(90 - tilt) is the same factor
    assert tilt_corrected_pixel_size(x, 52.0) == pytest.approx(
        x / math.cos(math.radians(90 - 52.0))
    )
    assert tilt_corrected_pixel_size(x, 90.0) == pytest.approx(x)


@pytest.mark.parametrize("tilt", [0.0, -10.0, 90.5, float("nan"), "52", None, True])
def test_invalid_tilts_raise(tilt):
    with pytest.raises(ValueError):
        check_stage_tilt(tilt)


@pytest.mark.parametrize("width", [0.0, -17.6, float("inf"), "wide"])
def test_invalid_field_widths_raise(width):
    with pytest.raises(ValueError):
        pixel_size_from_field_width(width, 1024)
