"""The plain calibration module: line table, peaks, matching, tilt arithmetic."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special

import hyperspy_cmeans._calibration
from hyperspy_cmeans._calibration import (
    EnergyCalibrationError,
    analysis_lines,
    build_line_table,
    calibrate_spectrum,
    check_stage_tilt,
    checked_spectrum,
    estimate_noise_gain,
    find_spectrum_peaks,
    fit_line_template,
    fwhm_at_energy,
    implausible_tilt,
    pixel_size_from_field_width,
    split_line,
    tilt_corrected_pixel_size,
)
from hyperspy_cmeans._calibration.linefit import clip_lines, wls, wls_scatter


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
    with pytest.raises(ValueError, match="significant peaks"):
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


def test_implausible_tilts():
    assert implausible_tilt(0.5) and implausible_tilt(88.0)
    assert not implausible_tilt(5.0) and not implausible_tilt(52.0) and not implausible_tilt(85.0)


# ----------------------------------------------------------------------------- issue 10, 11


def test_the_calibration_modules_take_arrays_only():
    """No module of _calibration imports HyperSpy or pint (signals are the signal layer's)."""
    package = Path(hyperspy_cmeans._calibration.__file__).parent
    for path in package.glob("*.py"):
        # module-level imports (a result's convenience method may import the
        # signal layer lazily, inside the method)
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                assert root not in ("hyperspy", "pint"), (path.name, name)
                assert not name.startswith("hyperspy_cmeans.signals"), (path.name, name)


def test_line_fit_rejects_a_line_that_does_not_fit():
    x = np.array([50.0, 150.0, 250.0, 400.0, 600.0])
    y = -0.1 + 0.01 * x
    y[1] += 0.030  # 30 eV off: a peak of another element
    sigma = np.full(5, 0.0005)
    fwhm = np.full(5, 0.1)
    fit = clip_lines(x, y, sigma, fwhm, np.zeros(5, dtype=bool))
    assert fit.kept == [0, 2, 3, 4] and set(fit.rejected) == {1}
    miss, limit = fit.rejected[1]
    # the others agree perfectly: the limit is the floor, a tenth of the FWHM
    assert miss == pytest.approx(0.030, abs=1e-6) and limit == pytest.approx(0.010)
    assert fit.scale == pytest.approx(0.01) and fit.offset == pytest.approx(-0.1)
    # 8 eV off is kept for a strong line (line-shape shifts), rejected for a weak one
    y2 = -0.1 + 0.01 * x
    y2[1] += 0.008
    assert clip_lines(x, y2, sigma, fwhm, np.zeros(5, dtype=bool)).rejected == {}
    weak = np.array([False, True, False, False, False])
    assert set(clip_lines(x, y2, sigma, fwhm, weak).rejected) == {1}


def test_line_fit_with_a_known_scale_fits_the_offset():
    x = np.array([370.0, 402.0])
    y = -0.1 + 0.01 * x + 0.004
    fit = clip_lines(x, y, np.full(2, 0.001), np.full(2, 0.12), np.zeros(2, bool), False, 0.01)
    assert fit.scale == 0.01 and fit.offset == pytest.approx(-0.096)
    assert fit.cov[1, 1] == 0


def test_extra_scatter_makes_the_reduced_chi_square_one():
    rng = np.random.default_rng(0)
    x = np.linspace(10, 900, 12)
    y = 0.2 + 0.01 * x + rng.normal(0, 0.003, x.size)
    sigma = np.full(x.size, 0.0005)
    offset, scale, cov, tau = wls_scatter(x, y, sigma)
    assert 0.001 < tau < 0.006
    chi2 = wls(x, y, np.hypot(sigma, tau))[3]
    assert chi2 / (x.size - 2) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("factor", [-1.0, 0.0])
def test_negative_or_empty_spectra_are_refused(factor):
    y = _line_spectrum([(1.0, 2e4), (3.0, 5e4)], 0.01, -0.1) * factor
    with pytest.raises(ValueError, match="negative" if factor else "empty"):
        checked_spectrum(y)
    # a few negative channels (a reconstruction) are fine
    y = _line_spectrum([(1.0, 2e4), (3.0, 5e4)], 0.01, -0.1)
    y[:50] -= 60.0
    assert checked_spectrum(y).size == y.size


def test_prior_is_refined_and_one_family_moves_the_offset_only():
    energies = [0.5249, 1.7397, 3.6917, 4.0127, 6.4039, 7.058]
    y = _line_spectrum([(e, 5e4) for e in energies], 0.01, -0.1)
    table = build_line_table(["O", "Si", "Ca", "Fe"], beam_energy=15.0)
    result = calibrate_spectrum(y, table, prior=(0.01, -0.1))
    assert result.mode == "refine" and result.prior == (0.01, -0.1)
    assert result.scale == pytest.approx(0.01, rel=3e-4)
    searched = calibrate_spectrum(y, table)
    assert searched.mode == "search"
    assert searched.scale == pytest.approx(result.scale, rel=1e-4)
    # Ca K only: the scale is kept, the offset refined; without a prior, refused
    ca = build_line_table(["Ca"], beam_energy=15.0)
    shifted = calibrate_spectrum(y, ca, prior=(0.01, -0.1 + 0.002))
    assert shifted.mode == "offset" and shifted.scale == 0.01 and shifted.scale_std == 0
    assert shifted.offset == pytest.approx(-0.1, abs=0.001)
    with pytest.raises(ValueError):
        calibrate_spectrum(y, ca)


def test_two_lines_cannot_be_checked_without_a_prior():
    y = _line_spectrum([(1.7397, 5e4), (6.4039, 5e4)], 0.01, -0.1)
    table = build_line_table(lines=["Si_Ka", "Fe_Ka"], beam_energy=15.0)
    with pytest.raises(EnergyCalibrationError, match="at least 4 lines") as error:
        calibrate_spectrum(y, table)
    assert error.value.calibration.gate.n_lines == 2


def test_analysis_lines_follow_exspy():
    assert analysis_lines(["Fe", "Pt", "O"], beam_energy=15.0) == {
        "Fe_Ka": pytest.approx(6.4039),
        "Pt_Ma": pytest.approx(2.0505),  # La (9.44 keV) is above half the beam energy
        "O_Ka": pytest.approx(0.5249),
    }
    # below an overvoltage of 2: the L line
    assert list(analysis_lines(["Fe"], beam_energy=10.0)) == ["Fe_La"]
