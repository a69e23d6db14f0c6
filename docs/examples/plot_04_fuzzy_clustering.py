"""
4. Fuzzy clustering: memberships, phase map and phase spectra
=============================================================

With four phases chosen, the study clustered the pixels in the PCA data space
with Gustafson–Kessel fuzzy c-means, mapped the membership of every pixel in
every cluster, assigned the pixels with a membership above 0.5 to a phase,
and averaged the raw spectra of each phase for quantification. Here that is
one call to :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.fuzzy_cluster` and a
few accessors.
"""

# %%
# Clustering
# ----------

# sphinx_gallery_thumbnail_number = 3
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans import evaluation
from hyperspy_cmeans.cmeans import GustafsonKessel, Probabilistic
from hyperspy_cmeans.data import ground_truth, synthetic_eds_map

s = synthetic_eds_map(contaminants={"Pt": 0.03, "Ga": 0.02}, random_state=0)
s.metadata.General.title = "FIB cross-section"
s.tilt_correct_scale(stage_tilt=52)

gk = s.fuzzy_cluster(
    n_clusters=4,
    algorithm="gustafson_kessel",
    n_init=3,
    random_state=0,
    return_info=True,
)
gk

# %%
# ``fuzzy_cluster`` standardised every channel, projected the spectra on three
# principal components (the data space), clustered the pixels there and
# stored the results in ``s.learning_results``; ``return_info=True`` returned
# the fitted estimator (without it the signal is returned, so calls chain).
# The parameters of the run are stored with it:

params = s.learning_results.fuzzy_cluster_parameters
for key in ("algorithm", "n_clusters", "m", "source", "preprocessing", "n_components"):
    print(f"{key:>15}: {params[key]}")
print("explained variance:", np.round(params["explained_variance_ratio"], 4))
print("GK iterations:", gk.n_iter_, " converged:", gk.converged_)

# %%
# Clusters are ordered by their total membership, largest first, so the
# indices and colours below are the same in every run with the same
# ``random_state`` (the study noted that its labels changed between runs).
#
# In Jupyter, with the ``gui-jupyter`` extra installed, ``s.fuzzy_cluster()``
# without arguments opens a widget instead: the parameters above, a Run
# button and a live preview of the membership and phase maps after each run.
#
# The data space
# --------------
# Pairwise scatter plots of the pixels' scores, coloured by their phase
# (grey: mixed pixels). The clusters are elongated and tilted, which is why the
# study chose Gustafson–Kessel: its clusters have their own covariance-shaped
# norm instead of spheres. The mixed pixels lie on the lines between two
# phases: linear mixtures of two spectra.

s.plot_data_space()

# %%
# For interactive 3-D exploration, as in the study, export the points for
# ParaView (open the CSV and apply "Table To Points"):

out = Path(tempfile.mkdtemp())
csv = s.export_data_space(out / "data_space.csv")
print(csv.read_text().splitlines()[0])

# %%
# Membership maps
# ---------------
# One map per cluster, framed in the cluster's colour. Memberships are close
# to 1 inside the phases and fall off smoothly across the interfaces.

s.plot_cluster_memberships()

# %%
# The maps are a HyperSpy image stack with the map's calibration, to save or
# process further:

memberships = s.get_cluster_memberships()
memberships

# %%
# Phase map with unassigned pixels
# --------------------------------
# A pixel is assigned to the cluster of its largest membership if that
# membership exceeds 0.5 (the study's rule); the others are too mixed to
# belong to one phase and stay unassigned (grey, value 0 in the label image).

s.plot_phase_map()

phase_map = s.get_phase_map(threshold=0.5)
unassigned = phase_map.metadata.Phase_map.unassigned_fraction
print(f"unassigned: {100 * unassigned:.1f} % of the pixels")

# %%
# Phase spectra and .msa export
# -----------------------------
# The mean raw spectrum of the pixels assigned to each phase, an exspy
# ``EDSSEMSpectrum`` with the map's energy calibration, elements and
# microscope parameters:

phases = s.cluster_phase_spectra(threshold=0.5)
print(phases)
print("pixels per phase:", phases.metadata.Phase_spectra.number_of_pixels)
ax = s.plot_phase_spectra()
ax.set_xlim(0, 8)

# %%
# Each spectrum saved as EMSA/MSA, which quantification software (the study
# used Bruker Esprit) reads:

for k in range(len(phases)):
    phases.inav[k].save(out / f"phase_{k}.msa", overwrite=True)
print(*(out / "phase_0.msa").read_text().splitlines()[:14], sep="\n")

# %%
# HyperSpy's own cluster tools
# ----------------------------
# Because the results live in ``s.learning_results``, HyperSpy's cluster
# methods work on them: ``get_cluster_labels``, ``get_cluster_signals``,
# ``get_cluster_distances``, ``export_cluster_results`` and
# ``plot_cluster_results``, which shows the labels (``-1`` for unassigned
# pixels), the distances to the cluster centres in the algorithm's norm and
# the cluster signals (the titles are HyperSpy's).

s.plot_cluster_results()

# %%
# How good is it?
# ---------------
# The synthetic map knows its true phase fractions, so the clustering can be
# scored: clusters are matched to the true phases, the hard labels compared
# with the dominant phase of every pixel (adjusted Rand index, 1 is perfect;
# the unassigned pixels count as one more group, so leaving mixed pixels out
# is not rewarded), and the memberships with the true fractions.

truth = ground_truth(s)
fractions = truth.fractions.reshape(len(truth.phase_names), -1).T
u = s.learning_results.cluster_membership.T
match = evaluation.match_clusters(u, fractions)
labels = s.get_cluster_labels(merged=True).data.ravel()
print("clusters are:", [truth.phase_names[p] for p in match])
print(f"adjusted Rand index: {evaluation.dominant_phase_ari(labels, fractions):.3f}")
print(f"membership RMSE:     {evaluation.membership_rmse(u, fractions, match):.3f}")

# %%
# A profile down column 40, through the rutile lens, titanite and chlorite:
# the memberships (lines) follow the true fractions (dots) across the
# interfaces, with the Poisson noise of 200 counts per pixel.

column = 40
y = s.axes_manager["y"].axis
maps = memberships.data
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for k, p in enumerate(match):
    color = f"C{k}"
    label = f"cluster {k} ({truth.phase_names[p]})"
    ax.plot(y, maps[k, :, column], color=color, lw=1.2, label=label)
    ax.plot(y, truth.fractions[p, :, column], ".", color=color, ms=3)
ax.set(xlabel="y (nm)", ylabel="membership / true fraction", ylim=(-0.05, 1.05))
ax.legend(fontsize=8, loc="center right")

# %%
# Gustafson–Kessel or plain fuzzy c-means?
# ----------------------------------------
# The c-means estimators are scikit-learn estimators and work on any array.
# Fitted to the stored data-space scores (one row per pixel), the
# probabilistic algorithm with its Euclidean norm can be scored the same way:

scores = s.learning_results.fuzzy_cluster_scores  # (pixels, 3)
for estimator in (
    GustafsonKessel(n_clusters=4, n_init=3, random_state=0),
    Probabilistic(n_clusters=4, n_init=3, random_state=0),
):
    u_k = estimator.fit(scores).memberships_
    labels_k = evaluation.hard_labels(u_k, 0.5)
    ari = evaluation.dominant_phase_ari(labels_k, fractions)
    rmse = evaluation.membership_rmse(u_k, fractions)
    mixed = np.mean(labels_k < 0)
    name = type(estimator).__name__
    print(f"{name:16} ARI {ari:.3f}  RMSE {rmse:.3f}  unassigned {100 * mixed:.1f} %")

# %%
# On this synthetic map the four phases form compact clusters in the data
# space, and the simpler probabilistic algorithm scores slightly better:
# Gustafson–Kessel's extra freedom (a covariance per cluster) fits some of the
# noise. Which one suits a map depends on the shapes of its clusters; with
# ``s.fuzzy_cluster(4, algorithm="fcm")`` both are one argument apart, so
# compare them on your data.
#
# Maps larger than memory
# -----------------------
# A lazy signal (``hs.load(..., lazy=True)``, or here ``lazy=True``) is
# clustered chunk by chunk: one pass over the chunks accumulates the channel
# covariance for the PCA, a second projects them on the components and a
# third sums the spectra of each phase, so only the data-space scores (three
# numbers per pixel) and the memberships are held in memory. The results
# agree with those of the in-memory map to about one part in a million.

lazy = synthetic_eds_map(contaminants={"Pt": 0.03, "Ga": 0.02}, random_state=0, lazy=True)
lazy.tilt_correct_scale(stage_tilt=52)
lazy.fuzzy_cluster(n_clusters=4, algorithm="gustafson_kessel", n_init=3, random_state=0)
print(lazy)
difference = np.nanmax(np.abs(lazy.learning_results.cluster_membership - u.T))
print(f"largest membership difference from the in-memory result: {difference:.1e}")
