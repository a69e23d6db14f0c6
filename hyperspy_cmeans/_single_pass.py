"""One pass over every pixel of a map with a model learned from a sample.

With the data space (:class:`hyperspy_cmeans._sampling.Projection`) and a
fitted clustering in hand, each block of the map is read once and yields
everything ``fuzzy_cluster`` stores: the data-space scores of its pixels,
their memberships and distances (closed form, for every c-means algorithm:
``predict_membership``), the hard labels, the per-cluster sums of the
spectra of the hard members and of the ``u**m``-weighted pixels, and the
pixel nearest each cluster centre. Blocks are processed independently on any
dask scheduler (local threads for an in-memory map, which is never copied:
:func:`hyperspy_cmeans._features.as_blocks`; a ``dask.distributed`` cluster
for a lazy one); a task holds one block of the map.

With the spatial regularisation active (low-dose maps), a pixel's
memberships depend on the scores of its neighbours within
:attr:`hyperspy_cmeans._spatial.RegularisationPlan.depth`: the scores of
each block are computed first, regularised with ``dask.array.map_overlap``
(exact across block borders), and the block's memberships and sums follow
in the same graph, so the map is still read once (the scheduler keeps a
block until its neighbours' scores are known).

Memberships, distances and labels of a lazy map can instead be left lazy
(:func:`lazy_predictions`): they are computed from the in-memory scores
(a few bytes per pixel) when asked for, without reading the map again.

Nothing here imports HyperSpy.
"""

from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np

from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans import _spatial
from hyperspy_cmeans._threads import single_threaded_blas


@dataclass
class PassResult:
    """What one pass over the map gives (row-major pixel order).

    Attributes
    ----------
    scores : numpy.ndarray
        ``(n_pixels, F)`` float32 features that were clustered (regularised
        where the plan is active), NaN where masked or empty.
    raw_scores : numpy.ndarray
        ``(n_pixels, F)`` float32 scores before the regularisation (the same
        array when it is off).
    memberships, distances : numpy.ndarray or None
        ``(n_pixels, c)`` float32, NaN where masked; None when not kept.
    hard_sums, weighted_sums : numpy.ndarray
        ``(c, n_channels)`` float64 sums of the spectra of the hard members and
        weighted by ``u**m``.
    weight_sums, membership_sums : numpy.ndarray
        ``(c,)`` sums of ``u**m`` and of ``u``.
    nearest : numpy.ndarray
        ``(c,)`` flat index of the pixel nearest each centre.
    empty : numpy.ndarray
        ``(n_pixels,)`` bool, kept pixels without counts (count weightings).
    """

    scores: np.ndarray
    raw_scores: np.ndarray
    memberships: np.ndarray | None
    distances: np.ndarray | None
    hard_sums: np.ndarray
    weighted_sums: np.ndarray
    weight_sums: np.ndarray
    membership_sums: np.ndarray
    nearest: np.ndarray
    empty: np.ndarray


def _predict(predictor, z, valid, n_clusters):
    """Memberships and distances (float64, NaN where not valid) of a block's scores."""
    u = np.full((len(z), n_clusters), np.nan)
    d = np.full((len(z), n_clusters), np.nan)
    if valid.any():
        u[valid], d[valid] = predictor(z[valid])
    return u, d


def _block_scores(block, keep, projection):
    """A block's raw scores on its grid, ``(*block_nav, F)`` float64 (NaN invalid)."""
    flat_keep = keep.reshape(-1)
    z, _ = projection.scores(projection.rows(block, flat_keep), flat_keep)
    return z.reshape(block.shape[:-1] + (z.shape[1],))


def _block_pass(block, keep, clustered, start, projection, predictor, constants):
    """Everything one block contributes; ``clustered`` None: cluster its raw scores."""
    n_clusters, m, threshold, keep_predictions, shape = constants
    flat_keep = keep.reshape(-1)
    rows = projection.rows(block, flat_keep)
    raw, valid = projection.scores(rows, flat_keep)
    z = raw if clustered is None else clustered.reshape(raw.shape)
    valid &= np.all(np.isfinite(z), axis=1)
    u, d = _predict(predictor, z, valid, n_clusters)
    labels = phases.hard_labels(u, threshold)
    w = np.nan_to_num(u**m, nan=0.0)
    # masked, empty and unassigned pixels have zero weights: no need to select rows (a copy)
    stacked = np.concatenate([phases.one_hot(labels, n_clusters).T, w], axis=1)
    with single_threaded_blas():
        sums = stacked.T.astype(np.float32) @ rows
    nearest_d = np.where(np.isfinite(d), d, np.inf)
    best = np.argmin(nearest_d, axis=0)
    flat_index = np.ravel_multi_index(
        tuple(i + s for i, s in zip(np.unravel_index(best, block.shape[:-1]), start, strict=True)),
        shape,
    )
    out = {
        "sums": sums.astype(np.float64),
        "weight_sums": w.sum(0),
        "membership_sums": np.nansum(u, axis=0),
        "nearest": (nearest_d[best, np.arange(n_clusters)], flat_index),
        "raw": raw.astype(np.float32),
        "empty": flat_keep & ~np.all(np.isfinite(raw), axis=1),
    }
    if clustered is not None:
        out["clustered"] = z.astype(np.float32)
    if keep_predictions:
        out["u"], out["d"] = u.astype(np.float32), d.astype(np.float32)
    return out


def _overlap_depth(plan, shape):
    depth = {a: min(d, shape[a] - 1) for a, d in enumerate(plan.depth)}
    depth[len(shape)] = 0
    return depth


def regularise_lazily(scores, plan):
    """``map_overlap`` of :func:`hyperspy_cmeans._spatial.apply_plan` over a dask grid of scores.

    Parameters
    ----------
    scores : dask.array.Array
        ``(*navigation_shape, F)`` float64, NaN where not valid, the feature
        axis in one chunk.
    plan : hyperspy_cmeans._spatial.RegularisationPlan
        An active plan.

    Returns
    -------
    dask.array.Array
        The regularised scores, same chunks.
    """

    def block(z):
        return _spatial.apply_plan(z, np.all(np.isfinite(z), axis=-1), plan)

    out = da.map_overlap(
        block,
        scores,
        depth=_overlap_depth(plan, scores.shape[:-1]),
        boundary="none",
        trim=True,
        dtype=float,
        meta=np.empty((0,) * scores.ndim),
    )
    return out.rechunk(scores.chunks)


def single_pass(X, keep, projection, predictor, *, plan, n_clusters, m, threshold,
                keep_predictions=True, scheduler=None):  # fmt: skip
    """Project, predict and sum every block of the map, reading it once.

    Parameters
    ----------
    X : dask.array.Array
        The map, ``(*navigation_shape, n_channels)``, navigation in blocks and
        channels in one chunk (see :func:`hyperspy_cmeans._features.as_blocks`).
    keep : numpy.ndarray
        ``navigation_shape`` bool, the pixels in use.
    projection : hyperspy_cmeans._sampling.Projection
        The data space.
    predictor : callable
        ``predictor(features) -> (memberships, distances)`` in the stable
        cluster order (:class:`hyperspy_cmeans._clustering.Predictor`).
    plan : hyperspy_cmeans._spatial.RegularisationPlan or None
        The spatial regularisation (None or inactive: none).
    n_clusters : int
        Number of clusters.
    m : float
        Exponent of the membership weights of the weighted sums.
    threshold : float
        Assignment threshold of the hard labels.
    keep_predictions : bool
        Return the memberships and distances of every pixel (else only the
        scores, from which :func:`lazy_predictions` gives them lazily).
    scheduler : str, optional
        Dask scheduler (None: the active one).

    Returns
    -------
    PassResult
    """
    nav_ndim = X.ndim - 1
    shape = X.shape[:-1]
    nav_chunks = X.chunks[:nav_ndim]
    starts = [np.cumsum((0, *c))[:-1] for c in nav_chunks]
    xd = X.to_delayed().reshape(tuple(len(c) for c in nav_chunks))
    projection_d = dask.delayed(projection)
    predictor_d = dask.delayed(predictor)
    constants = (n_clusters, float(m), float(threshold), bool(keep_predictions), shape)
    active = plan is not None and plan.active
    clustered_d = None
    if active:
        # one more nesting level than navigation axes: da.block joins the innermost
        # lists along the last axis, which must be the (single) feature chunk
        raw_blocks = np.empty(xd.shape + (1,), dtype=object)
        for index in np.ndindex(xd.shape):
            sl = tuple(
                slice(int(starts[a][i]), int(starts[a][i] + nav_chunks[a][i]))
                for a, i in enumerate(index)
            )
            raw_blocks[index + (0,)] = da.from_delayed(
                dask.delayed(_block_scores)(xd[index], keep[sl], projection_d),
                shape=tuple(s.stop - s.start for s in sl) + (len(projection.bias),),
                dtype=np.float64,
            )
        raw_grid = da.block(raw_blocks.tolist())
        clustered_d = regularise_lazily(raw_grid, plan).to_delayed().reshape(xd.shape)
    tasks = []
    for index in np.ndindex(xd.shape):
        start = tuple(int(starts[a][i]) for a, i in enumerate(index))
        sl = tuple(
            slice(s, s + nav_chunks[a][i])
            for a, (s, i) in enumerate(zip(start, index, strict=True))
        )
        tasks.append(
            dask.delayed(_block_pass)(
                xd[index],
                keep[sl],
                None if clustered_d is None else clustered_d[index],
                start,
                projection_d,
                predictor_d,
                constants,
            )
        )
    results = dask.compute(*tasks, scheduler=scheduler)
    return _assemble(results, X, nav_chunks, starts, n_clusters, active, keep_predictions)


def _assemble(results, X, nav_chunks, starts, n_clusters, active, keep_predictions):
    nav_shape = X.shape[:-1]
    n_features = results[0]["raw"].shape[1]
    raw = np.empty(nav_shape + (n_features,), np.float32)
    clustered = np.empty_like(raw) if active else raw
    u = np.empty(nav_shape + (n_clusters,), np.float32) if keep_predictions else None
    d = np.empty_like(u) if keep_predictions else None
    empty = np.zeros(nav_shape, dtype=bool)
    sums = np.zeros((2 * n_clusters, X.shape[-1]))
    weight_sums = np.zeros(n_clusters)
    membership_sums = np.zeros(n_clusters)
    best = np.full(n_clusters, np.inf)
    nearest = np.zeros(n_clusters, dtype=np.int64)
    grid_shape = tuple(len(c) for c in nav_chunks)
    for index, res in zip(np.ndindex(grid_shape), results, strict=True):
        sl = tuple(
            slice(int(starts[a][i]), int(starts[a][i] + nav_chunks[a][i]))
            for a, i in enumerate(index)
        )
        block_shape = tuple(s.stop - s.start for s in sl)
        raw[sl] = res["raw"].reshape(block_shape + (n_features,))
        if active:
            clustered[sl] = res["clustered"].reshape(block_shape + (n_features,))
        if keep_predictions:
            u[sl] = res["u"].reshape(block_shape + (n_clusters,))
            d[sl] = res["d"].reshape(block_shape + (n_clusters,))
        empty[sl] = res["empty"].reshape(block_shape)
        sums += res["sums"]
        weight_sums += res["weight_sums"]
        membership_sums += res["membership_sums"]
        value, where = res["nearest"]
        better = value < best
        best[better], nearest[better] = value[better], where[better]

    def flat(a):
        return None if a is None else a.reshape(-1, a.shape[-1])

    return PassResult(
        scores=flat(clustered),
        raw_scores=flat(raw),
        memberships=flat(u),
        distances=flat(d),
        hard_sums=sums[:n_clusters],
        weighted_sums=sums[n_clusters:],
        weight_sums=weight_sums,
        membership_sums=membership_sums,
        nearest=nearest,
        empty=empty.reshape(-1),
    )


def reorder(result, order):
    """Put the clusters of a :class:`PassResult` in ``order`` (in place); returns it."""
    for name in ("memberships", "distances"):
        value = getattr(result, name)
        if value is not None:
            setattr(result, name, value[:, order])
    for name in ("hard_sums", "weighted_sums", "weight_sums", "membership_sums", "nearest"):
        setattr(result, name, getattr(result, name)[order])
    return result


#: Pixels per block of the lazy memberships.
LAZY_BLOCK_PIXELS = 2**18


def lazy_predictions(scores, navigation_shape, predictor, n_clusters, plan=None):
    """Memberships and distances of every pixel as dask arrays, from in-memory scores.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_pixels, F)`` raw scores, NaN where not valid.
    navigation_shape : tuple of int
        NumPy order.
    predictor : callable
        As in :func:`single_pass`.
    n_clusters : int
        Number of clusters.
    plan : hyperspy_cmeans._spatial.RegularisationPlan, optional
        Regularised (with an overlap between blocks) before the prediction.

    Returns
    -------
    tuple of dask.array.Array
        ``(clustered, memberships, distances)``: ``(n_pixels, F)`` float32
        features as clustered, ``(n_pixels, c)`` float32 each; blocks of whole
        rows of the map (so flattening them is free).
    """
    grid = scores.reshape(tuple(navigation_shape) + (scores.shape[1],))
    row = int(np.prod(navigation_shape[1:], dtype=np.int64))
    rows = max(1, LAZY_BLOCK_PIXELS // max(row, 1))
    chunks = (rows, *navigation_shape[1:], scores.shape[1])
    z = da.from_array(grid, chunks=chunks)
    if plan is not None and plan.active:
        z = regularise_lazily(z.astype(np.float64), plan)
    flat = z.reshape(-1, scores.shape[1])

    def predict(block, what):
        block = block.astype(np.float64)
        valid = np.all(np.isfinite(block), axis=1)
        u, d = _predict(predictor, block, valid, n_clusters)
        return (u if what == 0 else d).astype(np.float32)

    kw = {"dtype": np.float32, "chunks": (flat.chunks[0], (n_clusters,))}
    u = flat.map_blocks(predict, 0, **kw)
    d = flat.map_blocks(predict, 1, **kw)
    return flat.astype(np.float32), u, d


def lazy_labels(memberships, threshold):
    """``(c, n_pixels)`` bool one-hot hard labels of lazy ``(n_pixels, c)`` memberships."""

    def block(u):
        return phases.one_hot(phases.hard_labels(u, threshold), u.shape[1]).T

    return memberships.map_blocks(block, dtype=bool).T
