"""
2. Exploration with HyperSpy's PCA and NMF
==========================================

Before clustering, the study looked at the map with HyperSpy's built-in
decompositions: a singular value decomposition (PCA) to see how many
components carry signal, and a non-negative matrix factorisation (NMF) for
components that look like spectra. Both are plain HyperSpy; this example shows
what they give on the synthetic map, and why the study went on to cluster.
"""

# %%
# The calibrated map
# ------------------
# :func:`~hyperspy_cmeans.data.synthetic_eds_map` returns the map with a
# calibrated energy axis and the instrument's pixel size (17.1875 nm in x and,
# uncorrected, in y); the first example showed how to get there from a raw
# file. Only the tilt correction is repeated here: without ``field_width``
# the x scale is kept and y is rescaled.

# sphinx_gallery_thumbnail_number = 4
import hyperspy.api as hs
import matplotlib.pyplot as plt

from hyperspy_cmeans.data import synthetic_eds_map

s = synthetic_eds_map(contaminants={"Pt": 0.03, "Ga": 0.02}, random_state=0)
s.metadata.General.title = "FIB cross-section"
s.tilt_correct_scale(stage_tilt=52)
s

# %%
# HyperSpy's ``decomposition`` needs floating-point data; an EDS map holds
# integer counts (``uint16`` here), so convert it first. (The fuzzy clustering
# of the next examples works on the counts directly.)

print(s.data.dtype)
s.change_dtype("float32")

# %%
# PCA (SVD)
# ---------
# Fifteen components are plenty for a mineral assemblage and keep the
# computation short. The scree plot falls steeply over the first three
# components and is flat after them: three components describe the map, the
# rest is Poisson noise.

s.decomposition(output_dimension=15, print_info=False)
s.plot_explained_variance_ratio(n=15)

# %%
# The first five loadings (maps) and factors (spectra). Loadings 0–2 show the
# phases, loadings 3 and 4 are noise. The factors have negative intensities
# and the loadings negative weights: PCA components are directions of
# variance, not phases.

loadings = s.get_decomposition_loadings().inav[:5]
factors = s.get_decomposition_factors().inav[:5]
tight = dict(wspace=0.05, hspace=0.05, left=0.01, right=0.9, top=0.9, bottom=0.02)

fig = plt.figure(figsize=(12, 3.2))
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
    padding=tight,
    fig=fig,
)

# %%
fig = plt.figure(figsize=(9, 5))
hs.plot.plot_spectra(
    factors.isig[0.1:8.0],
    style="cascade",
    fig=fig,
    legend=[f"factor {i}" for i in range(5)],
)

# %%
# NMF
# ---
# NMF constrains factors and loadings to be non-negative, so the factors look
# like spectra and the loadings are localised. The number of components must
# be chosen beforehand; the study settled on four by trial and error. NMF is
# iterative and slower than the SVD; for exploration, run it on the map binned
# 2 × 2 with ``rebin`` (a quarter of the pixels, four times the counts per
# pixel). ``max_iter`` is passed on to scikit-learn's ``NMF``.

binned = s.rebin(scale=(2, 2, 1))
binned.decomposition(algorithm="NMF", output_dimension=4, max_iter=500, print_info=False)

fig = plt.figure(figsize=(12, 3.2))
hs.plot.plot_images(
    binned.get_decomposition_loadings(),
    per_row=4,
    cmap="viridis",
    axes_decor="off",
    aspect="equal",
    colorbar="multi",
    scalebar=[0],
    label=[f"NMF loading {i}" for i in range(4)],
    padding=tight,
    fig=fig,
)

# %%
fig = plt.figure(figsize=(9, 5))
hs.plot.plot_spectra(
    binned.get_decomposition_factors().isig[0.1:8.0],
    style="cascade",
    fig=fig,
    legend=[f"NMF factor {i}" for i in range(4)],
)

# %%
# The NMF components are easier to read than the PCA ones, and each loading
# is brightest in one phase, but the factors are not the phase spectra: all
# the Ti is in one factor, whose loading is high in the rutile lens and about
# half as high in titanite, so the titanite factor has no Ti line; the Fe
# factor is shared between the Fe-rich silicate and chlorite in the same way.
# The loadings are weights without a statistical meaning, so cutting them
# into phases needs a threshold chosen by eye. Fuzzy clustering
# in the PCA data space (next examples) gives each pixel a membership in each
# phase instead, and the phase spectra are averaged from the raw counts.
#
# The decomposition results can also serve as the data space of the
# clustering: ``s.fuzzy_cluster(4, source="decomposition", n_components=3)``
# clusters the first three loadings of the last ``decomposition`` (run it
# with ``normalize_poissonian_noise=True`` for counting data); by default
# ``fuzzy_cluster`` computes its own PCA, as the study did with scikit-learn.
