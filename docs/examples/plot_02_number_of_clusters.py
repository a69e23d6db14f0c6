"""
2. How many phases? The study's loop over the number of clusters
================================================================

Fuzzy c-means needs the number of clusters. The study ran a "big loop":
cluster the map for several numbers of clusters, save the membership maps of
every run, and keep the number that "breaks up the data in the most
physically interpretable manner and does not result in over-segmentation
(speckle)". It kept four.
:meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.estimate_number_of_fuzzy_clusters`
runs that loop on one data space, scores every run with a fuzzy validity
index, keeps the membership maps, and fills HyperSpy's
``plot_cluster_metric``.
"""

# %%
# The scan
# --------
# The data space is computed once (three principal components, as in the
# study; page 1 describes it); every number of clusters from 2 to 6 is then
# clustered with Gustafson–Kessel fuzzy c-means and scored with the Xie–Beni
# index: the compactness of the clusters over the separation of the two
# closest centres, lower is better (:doc:`/algorithms` gives the
# definitions). ``n_init=2`` restarts per number keep this page quick; the
# default is 10. ``keep_memberships=True`` keeps the membership maps of every
# run, and ``return_info=True`` returns the whole scan instead of the
# estimate alone.

# sphinx_gallery_thumbnail_number = 2
import matplotlib.pyplot as plt
import numpy as np

from hyperspy_cmeans.cmeans import partition_coefficient, partition_entropy
from hyperspy_cmeans.data import qv120_cross_section

s = qv120_cross_section()
scan = s.estimate_number_of_fuzzy_clusters(
    range(2, 7),
    metric="xie_beni",
    algorithm="gustafson_kessel",
    n_init=2,
    random_state=0,
    keep_memberships=True,
    return_info=True,
)
scan

# %%
# The scan is stored in ``s.learning_results``, so HyperSpy plots it (the
# dashed line marks the estimate):

s.plot_cluster_metric()

# %%
# The membership maps of every run
# --------------------------------
# The index is a suggestion; the study decided by looking at the maps. Each
# row is one run, each map the membership of one cluster (colours as in
# every plot of this package; ``*`` marks the estimate).

scan.plot_memberships()

# %%
# Two clusters split the map into its Ti-rich left part (rutile and
# titanite) and the rest; three separate the rutile but keep the chlorite and
# the Fe-rich phase together. Four give the four minerals, each map one
# grain. From five on, the new clusters take the pixels along the interfaces
# (titanite–chlorite with five, rutile–titanite as well with six): mixtures
# of two minerals, not more phases. The Xie–Beni index agrees with the
# study: four.
#
# Other indices
# -------------
# ``metric`` also accepts ``"fukuyama_sugeno"`` (lower is better),
# ``"partition_coefficient"`` and ``"fuzzy_silhouette"`` (higher is better)
# and ``"partition_entropy"`` (lower is better);
# :data:`hyperspy_cmeans.cmeans.VALIDITY_INDICES` lists them with their
# directions. The partition coefficient and entropy only need the
# memberships, so they can be computed from the kept maps directly. They
# measure how crisp the partition is, and fewer clusters make a crisper
# partition, so they lean towards two clusters; that is why they are not the
# default.

n = scan.n_clusters
pc = [partition_coefficient(scan.memberships[k].reshape(k, -1).T) for k in n]
pe = [partition_entropy(scan.memberships[k].reshape(k, -1).T) for k in n]

fig, axs = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
axs[0].plot(n, scan.values, "o-")
axs[0].set(title="Xie–Beni (lower is better)")
axs[1].plot(n, pc, "o-", color="C1")
axs[1].set(title="partition coefficient (higher is better)")
axs[2].plot(n, pe, "o-", color="C2")
axs[2].set(title="partition entropy (lower is better)")
for ax in axs:
    ax.set_xlabel("number of clusters")
    ax.set_xticks(n)

print("partition coefficient:", np.round(pc, 3))
print("partition entropy:    ", np.round(pe, 3))
