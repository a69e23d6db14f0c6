"""
3. Fuzzy clustering: memberships, phase map and phase spectra
=============================================================

With four phases chosen, the study clustered the pixels in its data space
with Gustafson–Kessel fuzzy c-means, mapped the membership of every pixel in
every cluster, assigned the pixels with a membership above 0.5 to a phase,
averaged the spectra of each phase and exported them as ``.msa`` files for
quantification. Here that is one call to
:meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.fuzzy_cluster` and a few
accessors, on the study's map.
"""

# %%
# Clustering
# ----------

# sphinx_gallery_thumbnail_number = 4
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans import evaluation
from hyperspy_cmeans.data import qv120_cross_section, qv120_published_result

s = qv120_cross_section()
gk = s.fuzzy_cluster(n_clusters=4, algorithm="gustafson_kessel", random_state=0, return_info=True)
gk

# %%
# ``fuzzy_cluster`` built the data space (three principal components),
# clustered the pixels there with the fuzzifier m = 2 of the study, keeping
# the best of 10 restarts, and stored the results in ``s.learning_results``;
# ``return_info=True`` returned the fitted estimator (without it the signal
# is returned, so calls chain). The parameters of the run are stored with
# the results:

params = s.learning_results.fuzzy_cluster_parameters
for key in ("algorithm", "n_clusters", "m", "source", "preprocessing", "n_components"):
    print(f"{key:>15}: {params[key]}")
print("explained variance:", np.round(params["explained_variance_ratio"], 4))
print("GK iterations:", gk.n_iter_, " converged:", gk.converged_)

# %%
# Clusters are ordered by total membership, largest first, so indices and
# colours are the same in every run with the same ``random_state`` (the study
# noted that its labels changed between runs). In Jupyter, with the
# ``gui-jupyter`` extra installed, ``s.fuzzy_cluster()`` without arguments
# opens a widget with these parameters, a Run button and a live preview.
#
# The data space
# --------------
# The scores of every pixel, plotted pairwise and coloured by phase (the
# colours of the maps below; grey: pixels too mixed to be assigned). As in the study's data space (page 1),
# the four minerals are elongated groups and the mixed pixels lie between
# two of them: linear mixtures of two spectra, at the grain boundaries. The
# elongated, tilted clusters are why the study chose Gustafson–Kessel, whose
# clusters each have their own covariance-shaped norm.

s.plot_data_space()

# %%
# For interactive 3-D exploration, as the study did, export the points for
# ParaView (open the CSV, then apply "Table To Points"):

out = Path(tempfile.mkdtemp())
csv = s.export_data_space(out / "data_space.csv")
print(csv.read_text().splitlines()[0])

# %%
# Membership maps
# ---------------
# One map per cluster, framed in the cluster's colour: memberships are close
# to 1 inside the grains and fall off across the interfaces.

s.plot_cluster_memberships()

# %%
# The maps are a HyperSpy image stack with the map's calibration, to save or
# process further:

memberships = s.get_cluster_memberships()
memberships

# %%
# Along one row of pixels, 1.75 µm from the top, across the rutile, the
# titanite and the chlorite: the rutile–titanite boundary is sharp (the
# memberships cross within about 100 nm), the titanite–chlorite one spreads
# over several hundred nanometres, and towards the right edge the chlorite
# mixes with the Fe-rich phase. Pixels at the interfaces belong partly to
# both neighbours.

row = 80
x = s.axes_manager["x"].axis / 1000  # µm
fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
for k, membership in enumerate(memberships.data[:, row]):
    ax.plot(x, membership, color=f"C{k}", label=f"cluster {k}")
ax.axhline(0.5, color="0.5", ls="--", lw=0.8, label="threshold 0.5")
ax.set(xlabel="x (µm)", ylabel="membership", ylim=(0, 1.02))
ax.set_title(f"memberships along y = {s.axes_manager['y'].axis[row] / 1000:.2f} µm")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))

# %%
# Phase map with unassigned pixels
# --------------------------------
# A pixel belongs to the cluster of its largest membership when that
# membership exceeds 0.5, the study's rule; the others are too mixed to
# belong to one phase and stay unassigned (grey; -1 in the label image,
# HyperSpy's numbering). They line the grain boundaries.

s.plot_phase_map()

phase_map = s.get_phase_map(threshold=0.5)
unassigned = phase_map.metadata.Phase_map.unassigned_fraction
print(f"unassigned: {100 * unassigned:.1f} % of the pixels")

# %%
# Phase spectra and their minerals
# --------------------------------
# The mean spectrum of the pixels of each phase (membership above 0.5) is an
# exspy ``EDSSEMSpectrum`` with the map's energy calibration, elements and
# microscope parameters:

phases = s.cluster_phase_spectra(threshold=0.5)
print(phases)
print("pixels per phase:", phases.metadata.Phase_spectra.number_of_pixels)

# %%
# The study named its clusters from the chemistry of their spectra. Our
# clusters are matched to the published ones (the largest total overlap of
# their memberships; page 4 compares them) and take their names:

published = qv120_published_result()
published_u = published.memberships.data.reshape(4, -1).T
match = evaluation.match_clusters(s.learning_results.cluster_membership.T, published_u)
names = [published.phase_names[j] for j in match]
print(names)

# %%
# The spectra, with the X-ray lines of ``metadata.Sample``, read as these
# minerals: titanite (CaTiSiO\ :sub:`5`) has the Ca, Ti and Si lines; chlorite
# Mg, Al, Si and Fe; rutile (TiO\ :sub:`2`) Ti, with some Fe; the Fe-rich
# phase mostly Fe. Pt (from the protective cap) and Ga (from the ion beam)
# are in every phase.

ax = s.plot_phase_spectra()
spectra = ax.lines[: len(names)]  # ax.lines[k] is cluster k's spectrum
labels = [f"cluster {k}: {name}" for k, name in enumerate(names)]
# the top curve is the last cluster: list the legend top-down, beside the spectra
ax.legend(spectra[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0))

# %%
# .msa export for quantification
# ------------------------------
# :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.export_phase_spectra` writes
# one EMSA/MSA file per phase, which quantification software reads (the
# study used Bruker Esprit). By default each file holds the counts summed
# over the phase's pixels, with the matching live time when the map has one.

paths = s.export_phase_spectra(out, phase_names=names)
print(*(p.name for p in paths), sep="\n")
print()
print(*paths[0].read_text().splitlines()[:22], sep="\n")

# %%
# HyperSpy's own cluster tools
# ----------------------------
# The results live in ``s.learning_results``, so HyperSpy's cluster methods
# work on them: ``get_cluster_labels``, ``get_cluster_signals``,
# ``get_cluster_distances``, ``export_cluster_results`` and
# ``plot_cluster_results``. The merged labels are the phase map (-1:
# unassigned); the cluster signals are the mean spectra of the members.

labels = s.get_cluster_labels(merged=True)
print(labels)
print("labels:", np.unique(labels.data))
print(s.get_cluster_signals())

# %%
# Maps larger than memory
# -----------------------
# A lazy signal (``hs.load(..., lazy=True)``; here
# ``qv120_cross_section(lazy=True)``) is clustered chunk by chunk: one pass
# over the chunks accumulates the channel covariance for the PCA, a second
# projects them on the components and a third sums the spectra of each
# phase, so only the scores (three numbers per pixel) and the memberships are
# held in memory. The results agree with those of the in-memory map to
# rounding.

lazy = qv120_cross_section(lazy=True)
lazy.fuzzy_cluster(n_clusters=4, algorithm="gustafson_kessel", random_state=0)
print(lazy)
difference = np.nanmax(
    np.abs(lazy.learning_results.cluster_membership - s.learning_results.cluster_membership)
)
print(f"largest membership difference from the in-memory result: {difference:.1e}")
