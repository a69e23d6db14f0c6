"""
1. The study's map: loading, exploration and the data space
===========================================================

The workflow this package automates was first applied to an SEM EDS map of a
focused-ion-beam (FIB) cross-section through a rutile–titanite–chlorite
interface, sample QV1.120 (Tominaga et al., *Geophysical Research Letters*
2021). The study's map and its published fuzzy clustering are public (CC0) and
ship with the package, so these pages follow the study on its own data.

This page loads the map, looks at it with HyperSpy's PCA and NMF, as the study
did before clustering, and shows the data space the study clustered.
"""

# %%
# Loading the map
# ---------------
# :func:`~hyperspy_cmeans.data.qv120_cross_section` returns the map as an
# :class:`~hyperspy_cmeans.EDSSEMCmeansSpectrum`, cropped to the minerals and
# calibrated as in the study: 152 × 156 pixels of 17.19 nm in x and 21.81 nm in
# y (the height of a pixel corrected for the 52° stage tilt), 1024 channels of
# 10.005 eV.

# sphinx_gallery_thumbnail_number = 4
import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans.data import qv120_cross_section, qv120_published_result

s = qv120_cross_section()
s

# %%
print(s.axes_manager)

# %%
# A map of your own is loaded with ``signal_type="EDS_SEM_cmeans"``, which
# adds this package's methods to everything exspy's ``EDSSEMSpectrum`` does::
#
#     s = hs.load("map.hspy", signal_type="EDS_SEM_cmeans")
#
# (page 6 starts from a raw map: crop, tilt correction, energy calibration).
#
# The metadata hold the beam energy, the stage tilt, the detector, the
# elements of the minerals (O, Mg, Al, Si, Ca, Ti, Fe) and of the FIB (Pt from
# the protective cap, Ga from the ion beam), and where the data come from:

print(s.metadata)

# %%
# The raw map of the study is not public; what is, and what the package
# ships, is the study's 15-component decomposition of it. The map is rebuilt
# from it in counts per channel: pixel totals and channel sums are the raw
# map's, the counting noise beyond 15 components is gone, and about 1 % of
# the values are small negative numbers.

print(s.metadata.General.notes)
print(f"{s.data.sum(-1).mean():.0f} counts per pixel on average")
print(f"negative values: {np.mean(s.data < 0):.1%}, down to {s.data.min():.1f} counts")

# %%
# The summed spectrum with HyperSpy's X-ray line markers (from
# ``metadata.Sample``), and the total counts per pixel: the rutile grain on
# the left gives the most X-rays (about 420 counts per pixel), the Fe-rich
# phase at the bottom right the fewest (about 170).

s.sum().isig[0.1:8.0].plot(xray_lines=True)
plt.gca().set_ylim(top=1.12 * plt.gca().get_ylim()[1])  # room for the line labels

# %%
# The pixels are taller than wide (21.81 × 17.19 nm); ``aspect="equal"``
# draws the map with its true proportions, 2.61 µm wide and 3.40 µm high.

total = s.sum("Energy").T  # .T: the navigation axes become the image axes
hs.plot.plot_images(
    total, cmap="gray", aspect="equal", label=["counts per pixel"], axes_decor="all"
)

# %%
# PCA: how many components carry signal?
# --------------------------------------
# The study first ran HyperSpy's ``decomposition`` (an SVD of the
# Poisson-normalised map, 15 components). Its results come with the map, in
# ``s.learning_results``, so HyperSpy's decomposition plots work without
# recomputing it. The scree plot falls steeply over the first three
# components; the next two stand a little above the flat floor that the
# counting noise makes from the sixth on. The study kept three. (A new
# decomposition of the rebuilt map would find exactly 15 components and no
# noise floor; these are the study's values, from the raw map.)

s.plot_explained_variance_ratio(n=15)

# %%
# The first five loadings (maps) and factors (spectra). Loadings 0–2 show the
# mineral grains; loadings 3 and 4 are weak (a faint gradient, and the right
# edge of the map). Factors have negative intensities and loadings negative
# weights: PCA components are directions of variance, not phases.

loadings = s.get_decomposition_loadings().inav[:5]
factors = s.get_decomposition_factors().inav[:5]
padding = dict(wspace=0.08, hspace=0.05, left=0.01, right=0.88, top=0.88, bottom=0.02)

fig = plt.figure(figsize=(12, 3.6))
hs.plot.plot_images(
    loadings,
    per_row=5,
    cmap="RdBu_r",
    centre_colormap=True,
    axes_decor="off",
    aspect="equal",
    colorbar="single",
    scalebar=[0],
    label=[f"loading {i}" for i in range(5)],
    padding=padding,
    fig=fig,
)

# %%
fig = plt.figure(figsize=(9, 5), layout="constrained")
ax = hs.plot.plot_spectra(
    factors.isig[0.1:8.0],
    style="cascade",
    fig=fig,
    legend=[f"factor {i}" for i in range(5)],
    legend_loc="upper left",
)
ax.get_legend().set_bbox_to_anchor((1.0, 1.0))  # beside the spectra

# %%
# NMF: components that look like spectra
# --------------------------------------
# Non-negative matrix factorisation constrains factors and loadings to be
# non-negative, so the factors look like spectra and the loadings are
# localised. Its number of components is chosen beforehand; the study found
# four the most interpretable. NMF needs non-negative data, so the small
# negative values of the rebuilt map are set to zero, and it runs on the map
# binned 2 × 2 to be quick (``max_iter`` is passed on to scikit-learn's
# ``NMF``).

binned = s.rebin(scale=(2, 2, 1))
np.clip(binned.data, 0, None, out=binned.data)
binned.decomposition(algorithm="NMF", output_dimension=4, max_iter=500, print_info=False)

fig = plt.figure(figsize=(11, 3.6))
hs.plot.plot_images(
    binned.get_decomposition_loadings(),
    per_row=4,
    cmap="viridis",
    axes_decor="off",
    aspect="equal",
    colorbar=None,
    scalebar=[0],
    label=[f"NMF loading {i}" for i in range(4)],
    padding=dict(padding, right=0.99),
    fig=fig,
)

# %%
fig = plt.figure(figsize=(9, 5), layout="constrained")
ax = hs.plot.plot_spectra(
    binned.get_decomposition_factors().isig[0.1:8.0],
    style="cascade",
    fig=fig,
    legend=[f"NMF factor {i}" for i in range(4)],
    legend_loc="upper left",
)
ax.get_legend().set_bbox_to_anchor((1.0, 1.0))

# %%
# The NMF maps are easier to read than the PCA ones, but, as the study noted,
# they do not give the phases. The factors are not phase spectra: one factor
# holds nearly all the oxygen (with Mg, Al and Si), so the Ti-rich factor of
# the rutile has no O line, and Fe has a factor of its own whose loading is
# high in both the chlorite and the Fe-rich phase. And the loadings are
# weights without a statistical meaning, so cutting them into phases needs a
# threshold chosen by eye. So the study went on to cluster.
#
# The data space
# --------------
# The study projected every pixel's spectrum on the first three principal
# components (with scikit-learn, after standardising each spectrum across
# its channels) and clustered the pixels in that three-dimensional *data
# space*. Its scores are published with the result; plotted pairwise, as the
# study did (and explored in 3-D in ParaView), they form elongated arms that
# meet where the minerals mix at their interfaces: four groups, not
# spherical, which is why the study used Gustafson–Kessel fuzzy c-means.

published = qv120_published_result()
scores = published.data_space  # (23712 pixels, 3 scores)

fig, axs = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
for ax, (i, j) in zip(axs, [(0, 1), (0, 2), (1, 2)], strict=True):
    ax.scatter(scores[:, i], scores[:, j], s=1, c="k", alpha=0.3, edgecolors="none")
    ax.set(xlabel=f"score {i}", ylabel=f"score {j}")
fig.suptitle("The study's data space (3 PCA scores per pixel)")

# %%
# :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.fuzzy_cluster` builds its data
# space itself. By default (``preprocessing="composition"``) the channels are
# weighted for Poisson noise and each pixel is projected as a composition
# (its spectrum divided by its total), which separates the minerals better
# on maps with few counts per pixel; ``preprocessing="snv"`` is the study's
# own choice. Page 3 plots the data space of the clustering with
# :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.plot_data_space`, coloured by
# phase.
