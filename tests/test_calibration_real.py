"""Issue 11 targets on real, calibrated spectra kept outside the repository.

Set ``HYPERSPY_CMEANS_CALIBRATION_DATA`` to a folder of calibrated EDS spectra
or maps (``.hspy``, ``.zspy``, ``.msa``, ``.emsa``, ``.bcf``, ...; their
``metadata.Sample.elements`` set). Each file's axis is the reference; from
the file's axis, from an uncalibrated axis (scale 1, offset 0) and from rough
starts (scale +-1 %, offset +-50 eV), ``calibrate_energy_from_peaks()`` must
give the reference within 0.3 % in scale and 25 eV in offset, or raise a
``ValueError`` with the signal unchanged. Without the variable these tests
are skipped.
"""

import os
import warnings
from pathlib import Path

import hyperspy.api as hs
import pytest
from calibration_cases import assert_unchanged, set_axis, snapshot

from hyperspy_cmeans.signals._calibration import axis_energy_calibration

_FOLDER = os.environ.get("HYPERSPY_CMEANS_CALIBRATION_DATA")
_SUFFIXES = {".hspy", ".zspy", ".msa", ".emsa", ".bcf", ".spx", ".rpl"}
FILES = (
    sorted(p for p in Path(_FOLDER).iterdir() if p.suffix.lower() in _SUFFIXES) if _FOLDER else []
)
STARTS = {
    "file axis": (1.0, 0.0),
    "uncalibrated": None,
    "rough +1% +50 eV": (1.01, 0.05),
    "rough +1% -50 eV": (1.01, -0.05),
    "rough -1% +50 eV": (0.99, 0.05),
    "rough -1% -50 eV": (0.99, -0.05),
}


def _load_eds(path):
    loaded = hs.load(path)
    for s in loaded if isinstance(loaded, list) else [loaded]:
        if str(s.metadata.Signal.signal_type).startswith("EDS"):
            s.set_signal_type("EDS_SEM_cmeans")
            return s
    pytest.skip(f"{path.name} holds no EDS signal")


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_real_spectrum_is_recovered_or_refused(path, start):
    s = _load_eds(path)
    reference = axis_energy_calibration(s.axes_manager.signal_axes[0])
    assert reference is not None, "the file's energy axis must be calibrated in eV or keV"
    scale, offset = reference
    factors = STARTS[start]
    if factors is None:
        set_axis(s)
    else:
        set_axis(s, scale * factors[0], offset + factors[1], "keV", "Energy")
    before = snapshot(s)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # extrapolation, offset only
            info = s.calibrate_energy_from_peaks(return_info=True)
    except ValueError:
        assert_unchanged(s, before)
        return
    assert info.scale == pytest.approx(scale, rel=3e-3)
    assert info.offset == pytest.approx(offset, abs=0.025)
