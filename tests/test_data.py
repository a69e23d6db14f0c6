"""Tests of the synthetic EDS map generator (hyperspy_cmeans.data)."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
from exspy.material import elements as db

import hyperspy_cmeans
from hyperspy_cmeans.data import (
    GroundTruth,
    _synthetic,
    default_phases,
    ground_truth,
    synthetic_eds_map,
)

try:
    from exspy.utils.eds import get_FWHM_at_Energy
except ImportError:
    from exspy._misc.eds.utils import get_FWHM_at_Energy


def _line_energy(line):
    element, name = line.split("_")
    return db[element].Atomic_properties.Xray_lines[name]["energy (keV)"]


@pytest.fixture(scope="module")
def default_map():
    return synthetic_eds_map()


@pytest.fixture(scope="module")
def high_dose_map():
    return synthetic_eds_map(
        shape=(48, 48), counts_per_pixel=20_000, interface_width=2.0, random_state=3
    )


def _energy(signal):
    return signal.axes_manager.signal_axes[0].axis


def _strong_ka_lines(phase, minimum=0.05):
    return [f"{el}_Ka" for el, w in default_phases()[phase].items() if w >= minimum]


# ------------------------------------------------------------------- signal and metadata


def test_signal_class_axes_and_metadata(default_map):
    s = default_map
    assert type(s) is hyperspy_cmeans.EDSSEMCmeansSpectrum
    assert not s._lazy
    assert s.metadata.Signal.signal_type == "EDS_SEM_cmeans"
    assert s.data.shape == (156, 152, 1024)
    assert s.data.dtype == np.uint16
    nav = s.axes_manager.navigation_axes
    assert [a.name for a in nav] == ["x", "y"]
    assert [a.size for a in nav] == [152, 156]
    assert all(a.units == "nm" and a.scale == pytest.approx(17.1875) for a in nav)
    energy = s.axes_manager.signal_axes[0]
    assert (energy.name, energy.units, energy.size) == ("Energy", "keV", 1024)
    assert energy.scale == pytest.approx(0.01)
    assert energy.offset == pytest.approx(-0.1)
    sem = s.metadata.Acquisition_instrument.SEM
    assert sem.beam_energy == 15.0
    assert sem.Stage.tilt_alpha == 52.0
    assert sem.Detector.EDS.energy_resolution_MnKa == 130.0
    assert s.metadata.Sample.elements == ["Al", "Ca", "Fe", "Mg", "O", "Si", "Ti"]
    assert "Ti_Ka" in s.metadata.Sample.xray_lines
    assert "rutile" in s.metadata.General.title
    synth = s.metadata.Synthetic
    assert synth.counts_per_pixel == 200
    assert synth.random_state == 0
    assert synth.interface_width == 5.0


def test_ground_truth_fields(default_map):
    truth = ground_truth(default_map)
    assert isinstance(truth, GroundTruth)
    assert truth.phase_names == ["rutile", "titanite", "chlorite", "Fe-rich silicate"]
    assert truth.fractions.shape == (4, 156, 152)
    assert truth.phase_spectra.shape == (4, 1024)
    assert truth.dominant_phase.shape == (156, 152)
    assert np.issubdtype(truth.dominant_phase.dtype, np.integer)
    np.testing.assert_array_equal(truth.dominant_phase, truth.fractions.argmax(axis=0))
    with pytest.raises(ValueError, match="ground truth"):
        ground_truth(hs.signals.Signal1D(np.zeros((2, 8))))


def test_default_phases_share_elements():
    phases = default_phases()
    assert list(phases) == ["rutile", "titanite", "chlorite", "Fe-rich silicate"]
    for composition in phases.values():
        assert sum(composition.values()) == pytest.approx(1.0)
    # O in all, Si in three, Ti in two, Fe in two: not trivially separable
    assert all("O" in c for c in phases.values())
    assert sum("Si" in c for c in phases.values()) == 3
    assert sum("Ti" in c for c in phases.values()) == 2
    assert sum("Fe" in c for c in phases.values()) == 2
    # TiO2: 59.9 wt% Ti
    assert phases["rutile"]["Ti"] == pytest.approx(0.599, abs=1e-3)


# ------------------------------------------------------------------------- fractions


def test_fractions_sum_to_one_with_pure_areas_and_mixtures(default_map):
    f = ground_truth(default_map).fractions
    assert f.min() >= 0.0 and f.max() <= 1.0
    np.testing.assert_allclose(f.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    n_pixels = f[0].size
    pure = (f == 1.0).sum(axis=(1, 2))
    assert np.all(pure >= 0.05 * n_pixels), pure
    mixed = ((f > 0.1) & (f < 0.9)).any(axis=0).sum()
    assert 0.02 * n_pixels < mixed < 0.3 * n_pixels


def test_interface_width_controls_mixing():
    def n_mixed(width):
        f = ground_truth(synthetic_eds_map(shape=(64, 64), interface_width=width)).fractions
        return ((f > 0.1) & (f < 0.9)).any(axis=0).sum()

    assert n_mixed(0.0) == 0
    assert 0 < n_mixed(3.0) < n_mixed(6.0) < n_mixed(12.0)


def test_interface_profile_has_requested_width():
    # Two phases: one wavy interface; the 10-90 % width across it, measured
    # along each column and projected on the interface normal, is the
    # requested width.
    width = 8.0
    two = {"a": {"Si": 0.5, "O": 0.5}, "b": {"Fe": 0.7, "O": 0.3}}
    f = ground_truth(synthetic_eds_map(shape=(120, 120), phases=two, interface_width=width))
    fa = f.fractions[0]
    assert np.all(np.diff(fa, axis=0) <= 1e-12)  # band "a" on top, decreasing downwards
    rows = np.arange(fa.shape[0])[::-1]

    def level(j, value):
        return np.interp(value, fa[::-1, j], rows)

    cols = range(fa.shape[1])
    vertical = np.array([level(j, 0.1) - level(j, 0.9) for j in cols])
    slope = np.gradient([level(j, 0.5) for j in cols])
    normal = vertical / np.sqrt(1 + slope**2)
    np.testing.assert_allclose(normal, width, rtol=0.1)
    assert np.ptp(slope) > 0.5  # the interface really is wavy


# ---------------------------------------------------------------------- counts


def test_total_counts_match_dose(default_map):
    truth = ground_truth(default_map)
    np.testing.assert_allclose(truth.phase_spectra.sum(axis=1), 200.0, rtol=1e-12)
    total = default_map.data.sum(dtype=np.int64)
    expected = 200.0 * default_map.data.shape[0] * default_map.data.shape[1]
    assert abs(total - expected) < 5 * np.sqrt(expected)
    assert default_map.data.sum(axis=-1).std() == pytest.approx(np.sqrt(200), rel=0.05)


def _chi2(observed, expected, min_expected=5.0):
    keep = expected >= min_expected
    return np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]), keep.sum()


@pytest.mark.parametrize("k", range(4))
def test_pure_pixel_mean_spectrum_matches_phase_spectrum(default_map, k):
    truth = ground_truth(default_map)
    pure = truth.fractions[k] == 1.0
    n = pure.sum()
    observed = default_map.data[pure].sum(axis=0, dtype=np.int64).astype(float)
    expected = n * truth.phase_spectra[k]
    chi2, dof = _chi2(observed, expected)
    assert dof > 200
    assert chi2 < dof + 5 * np.sqrt(2 * dof)
    keep = expected >= 5
    z = (observed[keep] - expected[keep]) / np.sqrt(expected[keep])
    assert np.abs(z).max() < 6
    # The same statistic rejects the spectrum of any other phase.
    for j in set(range(4)) - {k}:
        wrong, _ = _chi2(observed, n * truth.phase_spectra[j])
        assert wrong > 10 * (dof + 5 * np.sqrt(2 * dof))


def test_whole_map_follows_linear_mixing(default_map):
    truth = ground_truth(default_map)
    mixed = ((truth.fractions > 0.1) & (truth.fractions < 0.9)).any(axis=0)
    observed = default_map.data[mixed].sum(axis=0, dtype=np.int64).astype(float)
    expected = np.einsum("kp,kc->c", truth.fractions[:, mixed], truth.phase_spectra)
    chi2, dof = _chi2(observed, expected)
    assert chi2 < dof + 5 * np.sqrt(2 * dof)


def test_low_energy_cutoff(default_map):
    energy = _energy(default_map)
    spectra = ground_truth(default_map).phase_spectra
    assert np.all(spectra[:, energy <= 0] == 0)
    assert np.all(spectra[:, energy < 0.2] < 1e-3 * spectra.max(axis=1, keepdims=True))
    assert default_map.data[..., energy <= 0.15].sum() == 0
    assert np.all(spectra >= 0)


# ------------------------------------------------------------------------- peaks


def _peak_position(energy, spectrum, line_energy, fwhm):
    window = np.abs(energy - line_energy) <= 2 * fwhm
    return energy[window][np.argmax(spectrum[window])]


@pytest.mark.parametrize("offset", [-0.1, -0.096])
def test_noise_free_peaks_at_database_energies(offset):
    s = synthetic_eds_map(shape=(16, 16), offset=offset, contaminants={"Pt": 0.05, "Ga": 0.03})
    truth, energy = ground_truth(s), _energy(s)
    checked = 0
    for k, phase in enumerate(truth.phase_names):
        # Ga La (1.098 keV) is a shoulder of Mg Ka where Mg is major
        contaminant_lines = ["Pt_Ma"] + (["Ga_La"] if "Mg" not in default_phases()[phase] else [])
        for line in [*_strong_ka_lines(phase), *contaminant_lines]:
            e_line = _line_energy(line)
            fwhm = get_FWHM_at_Energy(130.0, e_line)
            found = _peak_position(energy, truth.phase_spectra[k], e_line, fwhm)
            assert abs(found - e_line) <= 0.01, (phase, line, found, e_line)
            checked += 1
    assert checked >= 16


def test_noisy_high_dose_peaks_at_database_energies(high_dose_map):
    truth, energy = ground_truth(high_dose_map), _energy(high_dose_map)
    for k, phase in enumerate(truth.phase_names):
        pure = truth.fractions[k] == 1.0
        assert pure.sum() >= 20
        mean = high_dose_map.data[pure].mean(axis=0)
        for line in _strong_ka_lines(phase):
            e_line = _line_energy(line)
            found = _peak_position(energy, mean, e_line, get_FWHM_at_Energy(130.0, e_line))
            assert abs(found - e_line) <= 0.01, (phase, line, found, e_line)


@pytest.mark.parametrize("resolution", [130.0, 160.0])
def test_peak_width_follows_detector_law(resolution):
    s = synthetic_eds_map(
        shape=(4, 4), phases={"Mn": {"Mn": 1.0}}, energy_resolution_MnKa=resolution, background=0
    )
    spectrum, energy = ground_truth(s).phase_spectra[0], _energy(s)
    e_ka = _line_energy("Mn_Ka")
    window = np.abs(energy - e_ka) < 0.25  # Mn Kb is 0.59 keV away
    w = spectrum[window]
    centre = np.sum(w * energy[window]) / w.sum()
    sigma = np.sqrt(np.sum(w * (energy[window] - centre) ** 2) / w.sum() - 0.01**2 / 12)
    assert centre == pytest.approx(e_ka, abs=1e-3)
    assert 2.3548 * sigma == pytest.approx(resolution / 1000, rel=0.02)


def test_contaminants_add_their_share_of_counts_everywhere():
    clean = ground_truth(synthetic_eds_map(shape=(8, 8))).phase_spectra
    s = synthetic_eds_map(shape=(8, 8), contaminants={"Pt": 0.05, "Ga": 0.03})
    dirty = ground_truth(s).phase_spectra
    extra = dirty - 0.92 * clean
    assert extra.min() > -1e-9
    np.testing.assert_allclose(extra.sum(axis=1), 0.08 * 200, rtol=1e-9)
    # the added spectrum is the same for every phase (it does not depend on the phase)
    np.testing.assert_allclose(extra, extra[:1].repeat(4, axis=0), atol=1e-9)
    assert {"Pt", "Ga"} <= set(s.metadata.Sample.elements)
    assert s.metadata.Synthetic.contaminant_elements == ["Pt", "Ga"]


# ---------------------------------------------------------------- determinism and lazy


def test_determinism_and_seed_dependence():
    a = synthetic_eds_map(shape=(24, 20), random_state=7)
    b = synthetic_eds_map(shape=(24, 20), random_state=7)
    c = synthetic_eds_map(shape=(24, 20), random_state=8)
    np.testing.assert_array_equal(a.data, b.data)
    assert np.mean(a.data != c.data) > 0.01
    np.testing.assert_array_equal(ground_truth(a).fractions, ground_truth(c).fractions)
    np.testing.assert_array_equal(ground_truth(a).phase_spectra, ground_truth(c).phase_spectra)
    # every 16 x 16 seed tile has its own stream: a uniform map does not repeat
    uniform = synthetic_eds_map(shape=(32, 32), phases={"q": {"Si": 0.47, "O": 0.53}}).data
    tiles = [uniform[:16, :16], uniform[:16, 16:], uniform[16:, :16], uniform[16:, 16:]]
    for i in range(4):
        for j in range(i):
            assert np.mean(tiles[i] != tiles[j]) > 0.05
    fresh = synthetic_eds_map(shape=(4, 4), random_state=None)
    again = synthetic_eds_map(shape=(4, 4), random_state=fresh.metadata.Synthetic.random_state)
    np.testing.assert_array_equal(fresh.data, again.data)


@pytest.mark.parametrize("chunks", [None, 16, (7, 20), (40, 37, -1)])
def test_lazy_equals_eager(chunks):
    kwargs = {"shape": (40, 37), "n_channels": 512, "contaminants": {"Pt": 0.05}, "random_state": 5}
    eager = synthetic_eds_map(**kwargs)
    lazy = synthetic_eds_map(lazy=True, chunks=chunks, **kwargs)
    assert type(lazy) is hyperspy_cmeans.LazyEDSSEMCmeansSpectrum
    assert lazy._lazy and isinstance(lazy.data, da.Array)
    assert lazy.data.chunks[2] == (512,)
    np.testing.assert_array_equal(lazy.data.compute(), eager.data)
    assert lazy.metadata.Signal.signal_type == "EDS_SEM_cmeans"
    np.testing.assert_array_equal(ground_truth(lazy).fractions, ground_truth(eager).fractions)


def test_lazy_maps_with_same_seed_do_not_share_graph_keys():
    low = synthetic_eds_map(shape=(20, 20), lazy=True)
    high = synthetic_eds_map(shape=(20, 20), lazy=True, counts_per_pixel=1000)
    totals = da.stack([low.data, high.data]).sum(axis=(1, 2, 3)).compute()
    assert totals[1] > 4 * totals[0]


def test_lazy_build_does_not_compute(monkeypatch):
    calls = []
    original = _synthetic._tile_counts

    def counting(*args, **kwargs):
        calls.append(args[3:5])
        return original(*args, **kwargs)

    monkeypatch.setattr(_synthetic, "_tile_counts", counting)
    s = synthetic_eds_map(shape=(1024, 1024), n_channels=2048, lazy=True)
    assert calls == []
    assert s.data.shape == (1024, 1024, 2048) and s.data.dtype == np.uint16
    assert s.data.chunksize == (64, 64, 2048)
    block = s.data.blocks[2, 3, 0].compute()
    assert len(calls) == 16  # only the 4 x 4 seed tiles of that block
    assert block.shape == (64, 64, 2048)
    assert abs(block.sum(axis=-1).mean() - 200) < 5 * np.sqrt(200 / block[..., 0].size)


def test_save_and_reload_keep_ground_truth(tmp_path):
    s = synthetic_eds_map(shape=(20, 18), contaminants={"Ga": 0.02}, random_state=11)
    truth = ground_truth(s)
    for ext, lazy in [("zspy", True), ("hspy", False)]:
        source = synthetic_eds_map(
            shape=(20, 18), contaminants={"Ga": 0.02}, random_state=11, lazy=lazy
        )
        path = tmp_path / f"map.{ext}"
        source.save(path)
        loaded = hs.load(path, lazy=lazy)
        assert isinstance(loaded, hyperspy_cmeans.EDSSEMCmeansSpectrum)
        assert loaded._lazy is lazy
        np.testing.assert_array_equal(np.asarray(loaded.data), s.data)
        back = ground_truth(loaded)
        assert back.phase_names == truth.phase_names
        np.testing.assert_array_equal(back.fractions, truth.fractions)
        np.testing.assert_array_equal(back.phase_spectra, truth.phase_spectra)
        np.testing.assert_array_equal(back.dominant_phase, truth.dominant_phase)
        assert loaded.metadata.Synthetic.random_state == 11
        assert loaded.metadata.Synthetic.contaminant_elements == ["Ga"]
        assert loaded.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0


# ------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contaminants": {"Pt": 0.6, "Ga": 0.5}},
        {"counts_per_pixel": 1e7},  # would overflow uint16
        {"random_state": -1},
        {"energy_resolution_MnKa": 110.0},  # below the Fano limit
        {"phases": {"x": {"Xx": 1.0}}},
        {"interface_width": -1},
        {"chunks": (8, 8, 100)},
    ],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        synthetic_eds_map(shape=(8, 8), **kwargs)


def test_float_and_wide_dtypes():
    s = synthetic_eds_map(shape=(8, 8), counts_per_pixel=1e7, dtype="uint32")
    assert s.data.dtype == np.uint32 and s.data.max() > np.iinfo(np.uint16).max
    f = synthetic_eds_map(shape=(8, 8), dtype="float32", random_state=1)
    u = synthetic_eds_map(shape=(8, 8), random_state=1)
    np.testing.assert_array_equal(f.data, u.data.astype(np.float32))
