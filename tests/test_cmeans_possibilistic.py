"""Possibilistic c-means with its defaults on the study's real data (issue 13).

The study's data (QV1.120, ROI 2) ship with the package (``hyperspy_cmeans/data/qv120``,
see its README). The reference
partition is Gustafson–Kessel (c = 4) on the published data space, which reproduces the
published memberships (README: ARI 1.000), so no TIFF reader is needed.

Measured (2026-11-30): adjusted Rand index of the possibilistic argmax against that
reference 0.79 on the published data space and 0.83 on the Poisson-normalised scores; the
probabilistic c-means it starts from reaches 0.82 and 0.86 (both use Euclidean distances,
while the phases' clusters are elongated, which Gustafson–Kessel follows).
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans.cmeans import GustafsonKessel, Possibilistic
from hyperspy_cmeans.data import _qv120

STUDY = Path(_qv120.__file__).resolve().parent / "qv120"


@pytest.fixture(scope="module")
def data_space():
    """The published 3-D data space (23712 pixels), after checking its header."""
    import gzip

    path = STUDY / "published_data_space.csv.gz"
    with gzip.open(path, "rt") as f:
        header = f.readline()
    assert header.startswith("#") and "PCA 1" in header
    X = np.loadtxt(path, delimiter=",", skiprows=1)
    assert X.shape == (23712, 3)
    return X


@pytest.fixture(scope="module")
def reference_labels(data_space):
    """Gustafson–Kessel (c = 4) on the published data space: the published partition."""
    return GustafsonKessel(4, random_state=0).fit(data_space).labels_


@pytest.fixture(scope="module")
def poisson_scores():
    """PCA(3) scores of the Poisson-normalised, centred map rebuilt as loadings @ factors.T.

    The map ``M = L F^T`` has rank 15, so the normalised, centred map
    ``D_r M D_c - 1 mean^T = A_c B^T`` (``A = D_r L``, ``B = D_c F``) is decomposed through
    15 x 15 matrices instead of the 23712 x 1024 map.
    """
    with np.load(STUDY / "pca15_results.npz") as npz:
        L = npz["loadings"].astype(np.float64)
        F = npz["factors"].astype(np.float64)
    row = np.sqrt(np.clip(L @ F.sum(axis=0), 1e-12, None))  # sqrt of pixel totals
    col = np.sqrt(np.clip(F @ L.sum(axis=0), 1e-12, None))  # sqrt of channel totals
    A = L / row[:, None]
    A -= A.mean(axis=0)
    _, R = np.linalg.qr(F / col[:, None])
    U, s, _ = np.linalg.svd(A @ R.T, full_matrices=False)
    return U[:, :3] * s[:3]


def _check_no_collapse(pcm):
    V = pcm.cluster_centers_
    sep2 = ((V[:, None] - V[None]) ** 2).sum(-1)[np.triu_indices(4, 1)]
    # every pair of centres at least 3 scales apart (coincident: < 1 scale)
    assert np.sqrt(sep2.min() / pcm.eta_.max()) > 3.0


def _fit_quiet(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a coincident-cluster warning fails
        return est.fit(X)


def test_defaults_keep_the_study_clusters_apart(data_space, reference_labels):
    """Defaults on the published data space: 4 distinct clusters, ARI >= 0.75 vs GK."""
    pcm = _fit_quiet(Possibilistic(4, random_state=0), data_space)
    _check_no_collapse(pcm)
    assert adjusted_rand_score(reference_labels, pcm.labels_) >= 0.75


def test_defaults_keep_the_poisson_scores_clusters_apart(poisson_scores, reference_labels):
    """Defaults on the Poisson-normalised scores of the map: distinct, ARI >= 0.8 vs GK."""
    pcm = _fit_quiet(Possibilistic(4, random_state=0), poisson_scores)
    _check_no_collapse(pcm)
    assert adjusted_rand_score(reference_labels, pcm.labels_) >= 0.8


def test_the_1993_typicality_at_m2_collapses_and_warns(data_space):
    """Why the defaults changed: the heavy-tailed 1993 form merges two clusters, and says so."""
    with pytest.warns(UserWarning, match="converged onto the same centre"):
        Possibilistic(4, typicality="power", alpha=None, random_state=0).fit(data_space)
