"""Every exspy EDS SEM method works on EDS_SEM_cmeans exactly as on EDS_SEM.

exspy picks the SEM metadata branch by comparing ``metadata.Signal.signal_type``
with "EDS_SEM"; these tests run each public EDS method on an ``EDSSEMSpectrum``
and on the same data as ``EDSSEMCmeansSpectrum`` and compare the results.
"""

import exspy
import numpy as np
import pytest
from exspy.signals import EDSSEMSpectrum

from hyperspy_cmeans import EDSSEMCmeansSpectrum


@pytest.fixture(params=[False, True], ids=["eager", "lazy"])
def pair(request):
    """The reference spectrum as EDS_SEM and as EDS_SEM_cmeans, on a 2x3 map."""
    ref = exspy.data.EDS_SEM_TM002()
    rng = np.random.default_rng(1)
    data = rng.poisson(ref.data[None, None, :] * rng.uniform(0.5, 1.5, (2, 3, 1)))
    base = EDSSEMSpectrum(data.astype(float), metadata=ref.metadata.as_dictionary())
    base.axes_manager.signal_axes[0].update_from(
        ref.axes_manager.signal_axes[0], ("scale", "offset", "units", "name")
    )
    base.set_microscope_parameters(tilt_stage=10.0)
    ours = base.deepcopy()
    ours.set_signal_type("EDS_SEM_cmeans")
    assert type(base) is EDSSEMSpectrum and type(ours) is EDSSEMCmeansSpectrum
    if request.param:
        base, ours = base.as_lazy(), ours.as_lazy()
    return base, ours


def test_take_off_angle(pair):
    base, ours = pair
    assert ours.get_take_off_angle() == pytest.approx(base.get_take_off_angle())
    assert ours.get_take_off_angle() == pytest.approx(47.0)


def test_integration_and_background_windows(pair):
    base, ours = pair
    for s in pair:
        s.add_lines()
    np.testing.assert_allclose(
        ours.estimate_integration_windows(windows_width=3),
        base.estimate_integration_windows(windows_width=3),
    )
    np.testing.assert_allclose(
        ours.estimate_background_windows(line_width=[4, 2]),
        base.estimate_background_windows(line_width=[4, 2]),
    )


def test_lines_intensity(pair):
    base, ours = pair
    for s in pair:
        s.set_lines(["Al_Ka", "Cu_La", "Mn_Ka", "Zr_La"])
    bw = base.estimate_background_windows()
    iw = base.estimate_integration_windows()
    ref = base.get_lines_intensity(background_windows=bw, integration_windows=iw)
    got = ours.get_lines_intensity(background_windows=bw, integration_windows=iw)
    assert [r.metadata.Sample.xray_lines for r in ref] == [
        g.metadata.Sample.xray_lines for g in got
    ]
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(np.asarray(g.data), np.asarray(r.data))
    # the default windows (which need the SEM energy resolution) work too
    auto = ours.get_lines_intensity()
    assert all(np.all(np.asarray(a.data) > 0) for a in auto)


def test_create_model_fit_matches():
    ref = exspy.data.EDS_SEM_TM002()
    ours = ref.deepcopy()
    ours.set_signal_type("EDS_SEM_cmeans")
    results = []
    for s in (ref, ours):
        m = s.create_model(auto_background=True)
        m.fit()
        results.append(
            (float(m.red_chisq.data.squeeze()), {c.name: c.A.value for c in m.xray_lines})
        )
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-9)
    assert results[1][1].keys() == results[0][1].keys()
    for k, v in results[0][1].items():
        assert results[1][1][k] == pytest.approx(v, rel=1e-9)


def test_metadata_methods(pair):
    base, ours = pair
    for s in pair:
        s.set_microscope_parameters(beam_energy=12.0, live_time=2.0, azimuth_angle=5.0)
        s.add_elements(["Fe"])
        s.set_lines(["Fe_La"])
        s.add_lines(["Zr_Ka"])
    assert ours.metadata.Sample.as_dictionary() == base.metadata.Sample.as_dictionary()
    a = ours.metadata.Acquisition_instrument.SEM.as_dictionary()
    assert a == base.metadata.Acquisition_instrument.SEM.as_dictionary()


def test_sum_rebin_and_calibration_from(pair):
    base, ours = pair
    s_sum, o_sum = base.sum(), ours.sum()
    assert isinstance(o_sum, EDSSEMCmeansSpectrum)
    np.testing.assert_allclose(np.asarray(o_sum.data), np.asarray(s_sum.data))
    assert o_sum.metadata.Acquisition_instrument.SEM.Detector.EDS.live_time == pytest.approx(
        s_sum.metadata.Acquisition_instrument.SEM.Detector.EDS.live_time
    )
    s_r, o_r = base.rebin(scale=(1, 1, 2)), ours.rebin(scale=(1, 1, 2))
    np.testing.assert_allclose(np.asarray(o_r.data), np.asarray(s_r.data))
    target = ours.deepcopy()
    target.axes_manager.signal_axes[0].scale = 1.0
    target.get_calibration_from(exspy.data.EDS_SEM_TM002())
    assert target.axes_manager.signal_axes[0].scale == pytest.approx(0.01)


def test_plot_with_xray_lines(pair):
    base, ours = pair
    ours.add_lines()
    ours.plot(xray_lines=True)
    assert set(ours._xray_markers["names"]) == set(ours.metadata.Sample.xray_lines)
    ours.remove_xray_lines_markers(["Al_Ka"])
    assert "Al_Ka" not in set(ours._xray_markers["names"])
    ours._plot.close()
