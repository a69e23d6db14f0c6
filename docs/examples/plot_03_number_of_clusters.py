"""
3. How many phases? Choosing the number of clusters
===================================================

Fuzzy c-means needs the number of clusters. The study ran its "big loop":
cluster the map for several numbers of clusters, look at the membership maps
of each run and keep the number that splits the map into physically
meaningful phases without over-segmenting it (speckle).
:meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.estimate_number_of_fuzzy_clusters`
runs that loop, scores every run with a fuzzy validity index and fills
HyperSpy's ``plot_cluster_metric``.
"""

# %%
# The preprocessed map of the first example:

# sphinx_gallery_thumbnail_number = 2
import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans.cmeans import partition_coefficient, partition_entropy
from hyperspy_cmeans.data import synthetic_eds_map

s = synthetic_eds_map(contaminants={"Pt": 0.03, "Ga": 0.02}, random_state=0)
s.metadata.General.title = "FIB cross-section"
s.tilt_correct_scale(stage_tilt=52)

# %%
# The scan
# --------
# The data space (three principal components of the channel-standardised
# spectra, as in the study) is computed once; every number of clusters from 2
# to 6 is then clustered with Gustafson–Kessel fuzzy c-means and scored with
# the Xie–Beni index (the compactness of the clusters over the separation of
# the two closest centres; lower is better; :doc:`/algorithms` gives the
# definitions). ``n_init=1`` keeps this example fast; use the
# default of 10 restarts on real data. ``keep_memberships=True`` keeps the
# membership maps of every run.

scan = s.estimate_number_of_fuzzy_clusters(
    range(2, 7),
    metric="xie_beni",
    algorithm="gustafson_kessel",
    n_init=1,
    random_state=0,
    keep_memberships=True,
    return_info=True,
)
scan

# %%
# Without ``return_info`` the method returns the estimate itself. The scan is
# stored in ``s.learning_results``, so HyperSpy plots it:

s.plot_cluster_metric()

# %%
# The index falls to its minimum at four clusters and jumps by almost two
# orders of magnitude at five: a fifth cluster has to split one of the four
# phases, and two of the centres then lie close together.
#
# The membership maps of every run
# --------------------------------
# The estimate is a suggestion; the study's decision came from looking at
# the maps. Each row is one run, each map the membership of one cluster
# (colours as in every other plot of this package, ``*`` marks the estimate).
# With two and three clusters, phases are merged; with four, every map is one
# phase; from five on, the extra clusters cut phases into pieces.

scan.plot_memberships()

# %%
# Other indices
# -------------
# ``metric`` also accepts ``"fukuyama_sugeno"`` (lower is better),
# ``"partition_coefficient"`` and ``"fuzzy_silhouette"`` (higher is better)
# and ``"partition_entropy"`` (lower is better);
# :data:`hyperspy_cmeans.cmeans.VALIDITY_INDICES` lists them with their
# directions. The partition coefficient and entropy only need the
# memberships, so they can be computed from the kept maps directly. They
# measure how crisp the partition is, and a partition with fewer clusters is
# crisper: both favour two clusters here, which is why they are not the
# default.

n = scan.n_clusters
pc = [partition_coefficient(scan.memberships[k].reshape(k, -1).T) for k in n]
pe = [partition_entropy(scan.memberships[k].reshape(k, -1).T) for k in n]

fig, axs = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
axs[0].plot(n, scan.values, "o-")
axs[0].set(yscale="log", title="Xie–Beni (lower is better)")
axs[1].plot(n, pc, "o-", color="C1")
axs[1].set(title="partition coefficient (higher is better)")
axs[2].plot(n, pe, "o-", color="C2")
axs[2].set(title="partition entropy (lower is better)")
for ax in axs:
    ax.set_xlabel("number of clusters")
    ax.set_xticks(n)

print("partition coefficient:", np.round(pc, 3))
print("partition entropy:    ", np.round(pe, 3))
