"""From memberships to phases: stable cluster order, hard labels, phase spectra.

Plain NumPy/dask functions, independent of HyperSpy. Pixels are rows in the
order of ``data.reshape(n_pixels, n_channels)`` (row-major over ``(ny, nx)``),
which is the order HyperSpy uses for its ``(n_clusters, n_pixels)`` results.
"""

import dask
import dask.array as da
import numpy as np

from hyperspy_cmeans._threads import single_threaded_blas

UNASSIGNED = -1


def stable_cluster_order(memberships, centroids):
    """Order clusters by total membership, largest first, ties broken stably.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_pixels, n_clusters)``; NaN rows (masked pixels) are ignored.
    centroids : numpy.ndarray
        ``(n_clusters, n_features)`` data-space centres, used to break ties
        (lexicographically, first feature first) so that equal results always
        come out in the same order.

    Returns
    -------
    numpy.ndarray
        Permutation ``order`` such that ``memberships[:, order]`` is sorted.
    """
    total = np.nansum(memberships, axis=0)
    # round so that totals equal to machine precision count as ties
    keys = [np.asarray(centroids)[:, k] for k in range(np.shape(centroids)[1])][::-1]
    return np.lexsort([*keys, -np.round(total, 8)])


def hard_labels(memberships, threshold=0.5):
    """Assign each pixel to its largest-membership cluster above a threshold.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_pixels, n_clusters)``; NaN rows are masked pixels.
    threshold : float
        A pixel is assigned when its largest membership is strictly greater
        than ``threshold`` (the study's ``> 0.5`` rule); ``0`` means plain
        argmax.

    Returns
    -------
    numpy.ndarray
        ``(n_pixels,)`` int labels ``0..n_clusters-1``, and ``-1`` for
        unassigned (mixed) and masked pixels.
    """
    memberships = np.asarray(memberships)
    valid = np.all(np.isfinite(memberships), axis=1)
    labels = np.full(len(memberships), UNASSIGNED, dtype=np.int64)
    if valid.any():
        u = memberships[valid]
        best = np.argmax(u, axis=1)
        top = u[np.arange(len(u)), best]
        lab = np.where(
            top > threshold if threshold > 0 else np.ones(len(u), bool), best, UNASSIGNED
        )
        labels[valid] = lab
    return labels


def one_hot(labels, n_clusters):
    """``(n_clusters, n_pixels)`` boolean rows from int labels (-1 is all False)."""
    return np.arange(n_clusters)[:, None] == np.asarray(labels)[None, :]


def cluster_sums(X, labels, weights):
    """Sum spectra over hard members and over membership weights, in one pass.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        The map, ``(*navigation_shape, n_channels)`` (``(n_pixels,
        n_channels)`` is a map with one navigation axis), processed block by
        block and never copied whole. Masked pixels are included (they carry
        label -1 and zero weight; NaN there is ignored).
    labels : numpy.ndarray
        ``(n_pixels,)`` int hard labels (row-major pixel order), -1 for none.
    weights : numpy.ndarray
        ``(n_pixels, n_clusters)`` non-negative weights (e.g. ``u**m``; NaN
        is treated as 0).

    Returns
    -------
    hard_sums, weighted_sums : numpy.ndarray
        Both ``(n_clusters, n_channels)`` float64: ``one_hot(labels) @ X``
        and ``weights.T @ X``.
    """
    from hyperspy_cmeans._features import as_blocks, coarsen_navigation_chunks

    n_clusters = weights.shape[1]
    w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0)
    stacked = np.concatenate([one_hot(labels, n_clusters).T.astype(np.float64), w], axis=1)
    X, scheduler = as_blocks(X)  # NumPy: the same block code, on local threads, no copy
    nav_ndim = X.ndim - 1
    X = coarsen_navigation_chunks(X)
    nav_chunks = X.chunks[:nav_ndim]
    stacked_da = da.from_array(
        stacked.reshape(X.shape[:-1] + (2 * n_clusters,)), chunks=(*nav_chunks, 2 * n_clusters)
    )

    def block_sums(xb, wb):
        rows = xb.reshape(-1, xb.shape[-1])
        wrows = wb.reshape(-1, wb.shape[-1])
        ok = wrows.any(axis=1)
        if not ok.all():  # skip masked / weightless pixels (they may hold NaN)
            rows, wrows = rows[ok], wrows[ok]
        with single_threaded_blas():  # one task per core already
            out = wrows.T @ rows.astype(np.float64)
        return out.reshape((1,) * nav_ndim + out.shape)

    per_block = da.map_blocks(
        block_sums,
        X,
        stacked_da,
        dtype=np.float64,
        chunks=(*(((1,) * len(c)) for c in nav_chunks), (2 * n_clusters,), (X.shape[-1],)),
        new_axis=nav_ndim + 1,
    )
    (total,) = dask.compute(per_block.sum(axis=tuple(range(nav_ndim))), scheduler=scheduler)
    return total[:n_clusters], total[n_clusters:]


def nearest_pixel_per_cluster(distances):
    """Index of the pixel closest to each cluster centre (NaN-safe).

    Parameters
    ----------
    distances : numpy.ndarray
        ``(n_pixels, n_clusters)`` distances, NaN for masked pixels.

    Returns
    -------
    numpy.ndarray
        ``(n_clusters,)`` pixel indices.
    """
    d = np.where(np.isfinite(distances), distances, np.inf)
    return np.argmin(d, axis=0)
