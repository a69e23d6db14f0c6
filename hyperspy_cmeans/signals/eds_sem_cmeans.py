"""The ``EDS_SEM_cmeans`` signal class and its lazy twin.

The class is a thin layer over :class:`exspy.signals.EDSSEMSpectrum`: every
method validates its input and delegates the work to a plain module of this
package that works on NumPy/dask arrays.
"""

from exspy.signals import EDSSEMSpectrum, LazyEDSSEMSpectrum
from exspy.utils.eds import take_off_angle
from hyperspy.docstrings.signal import LAZYSIGNAL_DOC


class EDSSEMCmeansSpectrum(EDSSEMSpectrum):
    """EDS spectrum image from an SEM, with fuzzy c-means phase analysis.

    Everything :class:`exspy.signals.EDSSEMSpectrum` does works unchanged;
    this class adds energy calibration from peaks, stage-tilt correction of the
    pixel size, fuzzy c-means clustering and phase maps/spectra.
    """

    _signal_type = "EDS_SEM_cmeans"

    # exspy chooses the microscope branch of the metadata by comparing
    # ``metadata.Signal.signal_type`` with the string "EDS_SEM", which fails for
    # any subclass with its own signal type. The two methods that do so are
    # overridden here to read the SEM branch, as EDSSEMSpectrum does.

    def _get_line_energy(self, Xray_line, FWHM_MnKa=None):  # noqa: N803 (exspy's name)
        if isinstance(FWHM_MnKa, str) and FWHM_MnKa == "auto":
            FWHM_MnKa = self.metadata.Acquisition_instrument.SEM.Detector.EDS.energy_resolution_MnKa  # noqa: N806
        return super()._get_line_energy(Xray_line, FWHM_MnKa=FWHM_MnKa)

    def get_take_off_angle(self):
        """Calculate the take-off angle of the X-rays from the SEM metadata.

        Returns
        -------
        float
            The take-off angle in degrees, from
            ``metadata.Acquisition_instrument.SEM`` (stage tilts, detector
            azimuth and elevation), exactly as
            :meth:`exspy.signals.EDSSEMSpectrum.get_take_off_angle`.
        """
        mp = self.metadata.Acquisition_instrument.SEM
        return take_off_angle(
            mp.get_item("Stage.tilt_alpha", None),
            mp.get_item("Detector.EDS.azimuth_angle", None),
            mp.get_item("Detector.EDS.elevation_angle", None),
            mp.get_item("Stage.tilt_beta", 0.0),
        )


class LazyEDSSEMCmeansSpectrum(EDSSEMCmeansSpectrum, LazyEDSSEMSpectrum):
    """Lazy (dask-backed) EDS spectrum image with fuzzy c-means phase analysis."""

    __doc__ += LAZYSIGNAL_DOC.replace("__BASECLASS__", "EDSSEMCmeansSpectrum")
