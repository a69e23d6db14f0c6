"""Scores of a clustering against ground truth (synthetic maps, benchmarks).

Cluster indices are arbitrary, so each cluster is first matched to the true
phase it overlaps most (Hungarian assignment on the membership overlap).
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans._phases import hard_labels

__all__ = ["dominant_phase_ari", "hard_labels", "match_clusters", "membership_rmse"]


def match_clusters(memberships, fractions):
    """Match clusters to true phases by maximum total overlap.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_pixels, n_clusters)`` estimated memberships (NaN rows ignored).
    fractions : numpy.ndarray
        ``(n_pixels, n_phases)`` true phase fractions.

    Returns
    -------
    numpy.ndarray
        ``phase_of_cluster`` of length ``n_clusters``: the matched phase
        index, or -1 for clusters left over when there are more clusters
        than phases.
    """
    u = np.nan_to_num(np.asarray(memberships, dtype=float))
    overlap = u.T @ np.asarray(fractions, dtype=float)  # (c, p)
    rows, cols = linear_sum_assignment(-overlap)
    phase_of_cluster = np.full(u.shape[1], -1)
    phase_of_cluster[rows] = cols
    return phase_of_cluster


def membership_rmse(memberships, fractions, phase_of_cluster=None):
    """Root-mean-square error of matched memberships against true fractions.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_pixels, n_clusters)``; NaN rows (masked pixels) are ignored.
    fractions : numpy.ndarray
        ``(n_pixels, n_phases)`` true fractions.
    phase_of_cluster : numpy.ndarray, optional
        From :func:`match_clusters` (computed if not given).

    Returns
    -------
    float
        RMSE over pixels and matched clusters.
    """
    u = np.asarray(memberships, dtype=float)
    f = np.asarray(fractions, dtype=float)
    if phase_of_cluster is None:
        phase_of_cluster = match_clusters(u, f)
    ok = np.all(np.isfinite(u), axis=1)
    matched = phase_of_cluster >= 0
    diff = u[ok][:, matched] - f[ok][:, phase_of_cluster[matched]]
    return float(np.sqrt(np.mean(diff**2)))


def dominant_phase_ari(labels, fractions):
    """Adjusted Rand index of hard labels against the true dominant phase.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(n_pixels,)`` estimated labels; -1 (unassigned) pixels are scored
        as one more group, so leaving pixels unassigned is not rewarded.
    fractions : numpy.ndarray
        ``(n_pixels, n_phases)`` true fractions.

    Returns
    -------
    float
        The adjusted Rand index (1 = identical partitions).
    """
    return float(adjusted_rand_score(np.argmax(fractions, axis=1), np.asarray(labels)))
