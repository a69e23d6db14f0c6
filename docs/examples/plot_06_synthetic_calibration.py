"""
6. From the raw map: crop, tilt correction, energy calibration (synthetic map)
==============================================================================

The study's map ships cropped and calibrated (page 1), but the study started
from the map as the instrument exported it: pixel indices instead of lengths,
channel numbers instead of energies, and the protective platinum cap of the
FIB cross-section along the top of the field of view. Before any statistics
the map was cropped to the minerals, the pixel size corrected for the 52°
stage tilt, and the energy axis calibrated from the X-ray peaks.

The raw file of the study is not public, so this page builds a raw map from
the package's synthetic data, whose true calibration is known, and measures
the error of each step. At the end, the energy calibration is also run on
the study's map and compared with the study's own.

A real acquisition is loaded with ``signal_type="EDS_SEM_cmeans"``, which gives
the signal the methods of this package on top of everything exspy's
``EDSSEMSpectrum`` does::

    import hyperspy.api as hs
    raw = hs.load("xsect_start.rpl", signal_type="EDS_SEM_cmeans")

(``raw.set_signal_type("EDS_SEM_cmeans")`` converts a signal that is already
loaded.)
"""

# %%
# A raw map, as exported
# ----------------------
# :func:`~hyperspy_cmeans.data.synthetic_eds_map` simulates the study's
# cross-section: a rutile lens in titanite above chlorite holding a lens of an
# Fe-rich silicate, 156 × 152 pixels of 1024 channels, with Pt and Ga
# redeposited by the ion beam in every pixel. We put a 12-pixel Pt cap on top
# and keep only the counts and the metadata (beam energy, detector, elements):
# the axes of the new signal are in pixels and channels, as in the study's raw
# ``.rpl`` file. We only name them.

# sphinx_gallery_thumbnail_number = 3
import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans import EDSSEMCmeansSpectrum
from hyperspy_cmeans.data import qv120_cross_section, synthetic_eds_map

sample = synthetic_eds_map(contaminants={"Pt": 0.03, "Ga": 0.02}, random_state=0)
cap = synthetic_eds_map(
    shape=(12, 152),
    phases={"Pt cap": {"Pt": 0.8, "C": 0.2}},
    counts_per_pixel=320,
    random_state=1,
)
raw = EDSSEMCmeansSpectrum(
    np.concatenate([cap.data, sample.data]), metadata=sample.metadata.as_dictionary()
)
raw.metadata.General.title = "FIB cross-section"
x_axis, y_axis = raw.axes_manager.navigation_axes
energy_axis = raw.axes_manager.signal_axes[0]
x_axis.name, y_axis.name, energy_axis.name = "x", "y", "Energy"
x_axis.units = y_axis.units = "px"
energy_axis.units = "channel"
raw

# %%
print(raw.axes_manager)

# %%
# The total counts per pixel show the cap (more counts) above the minerals.
# Navigation indices are ``(x, y)`` in HyperSpy, the reverse of the NumPy
# ``(row, column)`` order of ``raw.data``.

total = raw.sum("Energy")
total.plot(cmap="gray", scalebar=False)

# %%
# Crop to the minerals
# --------------------
# ``inav`` slices the navigation axes (integers are pixel indices, floats are
# calibrated positions), ``isig`` the signal axis. Rows 12 onwards hold the
# minerals; every column is kept.

s = raw.inav[:, 12:]
s

# %%
# Correct the pixel size for the stage tilt
# -----------------------------------------
# The horizontal pixel size is the field width divided by the number of
# columns (here 2.6125 µm over 152 pixels = 17.1875 nm, the study's pixel
# size); a cross-section face viewed at a stage tilt of 52° is foreshortened
# vertically, so the vertical size is the horizontal one times
# :math:`1/\cos(90° - 52°) = 1/\sin 52° = 1.269`:
# 21.81 nm. :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.tilt_correct_scale`
# sets both axes (in ``units``, nm by default) and records what it did in
# ``metadata.Signal.Tilt_correction``. Give the width of the map being
# corrected: after a crop in x, the width of the cropped map. The y offset
# keeps the crop's position: row 12 of the raw map.

s.tilt_correct_scale(stage_tilt=52, field_width="2.6125 um")
for axis in s.axes_manager.navigation_axes:
    print(f"{axis.name}: {axis.scale:.4f} {axis.units}")

# %%
# Calibrate the energy axis from the peaks
# ----------------------------------------
# The study summed the map, fitted the peak positions in channels, paired them
# by hand with the energies of O, Mg, Al, Si, Ca, Ti and Fe lines and fitted a
# straight line.
# :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.calibrate_energy_from_peaks`
# does this automatically: it finds the significant peaks of the summed
# spectrum, matches them to the X-ray lines of the given elements by consensus
# over plausible (scale, offset) pairs, and fits a weighted straight line
# through the matched peaks. The current axis calibration is not used, so
# channel numbers are fine. As in the study, the FIB contaminants Pt and Ga
# are excluded from the match. ``return_info=True`` returns the details (the
# signal is calibrated all the same).

summed = s.sum()  # the spectrum being calibrated, kept on the channel axis
calibration = s.calibrate_energy_from_peaks(
    elements=["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"],
    exclude=["Pt", "Ga"],
    return_info=True,
)
print(calibration)

# %%
# The synthetic map was generated with 10 eV channels and -0.1 keV at channel
# 0, so the error of the calibration is known:

print(f"scale error  {1e3 * (calibration.scale - 0.01):+.4f} eV/channel")
print(f"offset error {1e3 * (calibration.offset + 0.1):+.2f} eV")

# %%
# The matched lines, labelled with their residuals, on the summed spectrum:

calibration.plot()
plt.xlim(0, 8)
plt.tight_layout()

# %%
# The summed spectrum before (channels) and after (keV) the calibration, with
# HyperSpy's X-ray line markers from ``metadata.Sample``. ``isig`` with floats
# crops in calibrated units.

summed.plot()
s.sum().isig[0.1:8.0].plot(xray_lines=True)
plt.gca().set_ylim(top=1.12 * plt.gca().get_ylim()[1])  # room for the line labels

# %%
# The calibrated map
# ------------------
# Both calibrations are recorded in the metadata and saved with the map, e.g.
# ``s.save("QV120_crop_cal.hspy")``. Methods that change the signal return
# it, so the three steps also chain::
#
#     s = (
#         raw.inav[:, 12:]
#         .tilt_correct_scale(stage_tilt=52, field_width="2.6125 um")
#         .calibrate_energy_from_peaks(
#             elements=["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"], exclude=["Pt", "Ga"]
#         )
#     )
#
# In Jupyter, with the ``gui-jupyter`` extra installed,
# ``s.calibrate_energy_from_peaks(display=True)`` opens a widget for the same
# step (element and exclusion fields, the summed spectrum with the found peaks
# and matched lines, Apply and Reset), and ``s.tilt_correct_scale(display=True)``
# one for the tilt correction.

print(s.axes_manager)
print(s.metadata.Signal.Energy_calibration.lines)

# %%
# On the study's map
# ------------------
# The study calibrated its map by hand: it fitted the peaks of the summed
# spectrum, paired seven of them with the O, Mg, Al, Si, Ca, Ti and Fe lines
# and fitted a straight line (10.0052 eV per channel, -95.5 eV at channel
# 0). The shipped map carries that calibration. Set its energy axis back to
# channel numbers and calibrate it again, automatically:

study = qv120_cross_section()
energy = study.axes_manager.signal_axes[0]
study_scale, study_offset = energy.scale, energy.offset
energy.scale, energy.offset, energy.units = 1.0, 0.0, "channel"
ours = study.calibrate_energy_from_peaks(
    elements=["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"], exclude=["Pt", "Ga"], return_info=True
)
print(ours)

# %%
# The two calibrations side by side: the energy each gives to the fitted
# peaks, next to the database energy of the line, and their largest
# difference over the whole axis (both are straight lines, so it is at one
# end).

print(f"study's scale {1e3 * study_scale:.4f} eV/channel, offset {1e3 * study_offset:.1f} eV")
print(f"ours          {1e3 * ours.scale:.4f} eV/channel, offset {1e3 * ours.offset:.1f} eV")
print()
print(f"{'line':>12} {'channel':>8} {'database':>9} {'study':>7} {'ours':>7}  (keV)")
residuals = {"study": [], "ours": []}
for m in ours.matches:
    if m.fitted:
        by_study = study_offset + study_scale * m.channel
        by_ours = ours.offset + ours.scale * m.channel
        print(f"{m.line:>12} {m.channel:8.2f} {m.energy:9.4f} {by_study:7.4f} {by_ours:7.4f}")
        residuals["study"].append(m.energy - by_study)
        residuals["ours"].append(m.energy - by_ours)
for name, r in residuals.items():
    rms = 1e3 * np.sqrt(np.mean(np.square(r)))
    print(f"rms distance to the database energies, {name}: {rms:.1f} eV")
ends = np.array([0, energy.size - 1])
difference = (ours.offset + ours.scale * ends) - (study_offset + study_scale * ends)
print(f"largest difference over the axis: {1e3 * np.abs(difference).max():.1f} eV")

# %%
# The automatic calibration puts these peaks closer to their database
# energies than the hand fit, and the two calibrations differ by less than a
# channel (10 eV) everywhere: well below the width of an X-ray peak (about
# 60 eV at O Kα to 140 eV at Fe Kα here), so the phase spectra and their
# quantification would not change. The clustering does not use the energy
# axis at all.
