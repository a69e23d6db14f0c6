"""One pass over the samples: distances, memberships, objective and the sums for the next update.

Every c-means iteration of this package is a single call of :func:`sweep`. Given the
current centres ``v_i`` (and, for Gustafson–Kessel, a whitening matrix ``W_i`` with
``A_i = W_i W_i^T``), it visits the samples in blocks and, for each sample ``x_k``,

1. computes the squared distances ``d2_ik = ||(x_k - v_i) W_i||^2`` (Euclidean when no
   whitening is given), always from the difference ``x_k - v_i`` so that a sample lying on
   a centre has a distance of exactly 0;
2. computes the memberships ``u_ik`` (probabilistic, Bezdek 1981, eq. 11.3; or possibilistic
   typicalities, Krishnapuram & Keller 1993, eq. 8) and writes them into the output array,
   recording the largest change with respect to the values that were there before;
3. adds ``w_ik = u_ik^m`` weighted sums to per-block accumulators: ``sum_k w_ik``,
   ``sum_k w_ik (x_k - v_i)``, ``sum_k w_ik d2_ik`` (the per-cluster objective) and, when
   asked, ``sum_k w_ik (x_k - v_i)(x_k - v_i)^T`` (Gustafson–Kessel).

The accumulators are centred on the current centres, so the next centre is
``v_i + S_i / W_i`` and the next fuzzy covariance is ``C_i / W_i - delta delta^T`` with
``delta = S_i / W_i`` (parallel-axis theorem), which avoids the cancellation of raw second
moments. Per-block partial sums are reduced in block order, so results do not depend on the
number of threads.

Two implementations give the same results up to rounding: vectorised NumPy over chunks of
samples (always available) and, when numba is installed, a fused, parallel loop that reads
each sample once. Neither builds an array larger than ``n_samples x n_clusters`` (the
memberships) plus a fixed-size chunk.
"""

import numpy as np

try:  # numba is optional: the NumPy path below gives the same results.
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None
    HAVE_NUMBA = False

#: Samples per chunk in the NumPy implementation (bounds its temporary memory).
NUMPY_CHUNK = 32768

#: Upper bound on the number of parallel blocks in the numba implementation.
MAX_BLOCKS = 256

#: Samples per tile inside a numba block (the tile is transposed for contiguous loops).
TILE = 128

#: Below this smallest squared distance a sample's memberships use the overflow-free ratio
#: form (and the exact one-hot rule at 0) instead of reciprocals.
SAFE_MIN_SQ_DISTANCE = 1e-280

#: Memory budget (bytes) for the numba per-block covariance accumulators.
BLOCK_COV_BUDGET = 16 * 2**20


class SweepResult:
    """Sums gathered by one :func:`sweep` over the samples.

    Attributes
    ----------
    objective : ndarray of shape (n_clusters,)
        Per-cluster objective: ``sum_k u_ik^m d2_ik`` (plus
        ``eta_i sum_k (1 - u_ik)^m`` for possibilistic memberships).
    weight_sum : ndarray of shape (n_clusters,)
        ``sum_k u_ik^m``.
    weighted_dist : ndarray of shape (n_clusters,)
        ``sum_k u_ik^m d2_ik`` (equal to ``objective`` for probabilistic memberships).
    shift_sum : ndarray of shape (n_clusters, n_features)
        ``sum_k u_ik^m (x_k - v_i)``.
    scatter_sum : ndarray of shape (n_clusters, n_features, n_features) or None
        ``sum_k u_ik^m (x_k - v_i)(x_k - v_i)^T`` when requested.
    max_change : float
        Largest absolute change of a membership with respect to the values the output
        array held before the sweep (``inf`` when not compared).
    """

    def __init__(self, objective, weight_sum, weighted_dist, shift_sum, scatter_sum, max_change):
        self.objective = objective
        self.weight_sum = weight_sum
        self.weighted_dist = weighted_dist
        self.shift_sum = shift_sum
        self.scatter_sum = scatter_sum
        self.max_change = max_change


def probabilistic_memberships(d2, m):
    """Probabilistic (Bezdek) memberships from squared distances, robust to zero distances.

    ``u_ik = 1 / sum_j (d2_ik / d2_jk)^(1/(m-1))``, evaluated as
    ``r_ik / sum_j r_jk`` with ``r_ik = (min_j d2_jk / d2_ik)^(1/(m-1))`` in [0, 1] so that
    nothing overflows. A sample at distance 0 from one or more centres gets membership
    ``1 / (number of such centres)`` there and 0 elsewhere.

    Parameters
    ----------
    d2 : ndarray of shape (n_samples, n_clusters)
        Squared distances (non-negative).
    m : float
        Fuzzifier, > 1.

    Returns
    -------
    ndarray of shape (n_samples, n_clusters)
        Memberships, each row summing to 1, in the dtype of ``d2``.
    """
    dmin = d2.min(axis=1, keepdims=True)
    on_centre = dmin[:, 0] <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = dmin / d2
    if m != 2.0:
        np.power(r, 1.0 / (m - 1.0), out=r)
    if on_centre.any():
        zero = d2[on_centre] <= 0
        r[on_centre] = zero / zero.sum(axis=1, keepdims=True)
    r /= r.sum(axis=1, keepdims=True)
    return r


def possibilistic_memberships(d2, m, eta):
    """Possibilistic typicalities (Krishnapuram & Keller 1993, eq. 8).

    ``t_ik = 1 / (1 + (d2_ik / eta_i)^(1/(m-1)))``; a sample on a centre has typicality 1
    there, and a very distant sample tends to 0 without overflow warnings.

    Parameters
    ----------
    d2 : ndarray of shape (n_samples, n_clusters)
        Squared distances.
    m : float
        Fuzzifier, > 1.
    eta : ndarray of shape (n_clusters,)
        Positive scale parameters (squared-distance units).

    Returns
    -------
    ndarray of shape (n_samples, n_clusters)
        Typicalities in [0, 1], in the dtype of ``d2``.
    """
    with np.errstate(over="ignore"):
        r = d2 / eta.astype(d2.dtype)
        if m != 2.0:
            np.power(r, 1.0 / (m - 1.0), out=r)
        r += 1.0
        np.reciprocal(r, out=r)
    return r


def _weights(u, m):
    return u * u if m == 2.0 else u**m


def _chunk_sq_distances(Xc, centers, whiten, keep_diffs):
    """Squared distances of a chunk to every centre (and the differences if asked)."""
    n_chunk = Xc.shape[0]
    n_clusters = centers.shape[0]
    d2 = np.empty((n_chunk, n_clusters), dtype=Xc.dtype)
    diffs = [] if keep_diffs else None
    for i in range(n_clusters):
        diff = Xc - centers[i]
        y = diff if whiten is None else diff @ whiten[i]
        d2[:, i] = np.einsum("ij,ij->i", y, y)
        if keep_diffs:
            diffs.append(diff)
    return d2, diffs


def _sweep_numpy(X, centers, whiten, m, eta, U, compare, accumulate, scatter):
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    objective = np.zeros(n_clusters)
    weight_sum = np.zeros(n_clusters)
    weighted_dist = np.zeros(n_clusters)
    shift_sum = np.zeros((n_clusters, n_features))
    scatter_sum = np.zeros((n_clusters, n_features, n_features)) if scatter else None
    max_change = 0.0 if compare else np.inf
    for start in range(0, n_samples, NUMPY_CHUNK):
        stop = min(start + NUMPY_CHUNK, n_samples)
        Xc = X[start:stop]
        d2, diffs = _chunk_sq_distances(Xc, centers, whiten, accumulate)
        if eta is None:
            u = probabilistic_memberships(d2, m)
        else:
            u = possibilistic_memberships(d2, m, eta)
        if compare:
            max_change = max(max_change, float(np.abs(u - U[start:stop]).max()))
        U[start:stop] = u
        w = _weights(u, m)
        wd = (w * d2).sum(axis=0, dtype=np.float64)
        weighted_dist += wd
        objective += wd
        if eta is not None:
            objective += eta * _weights(1.0 - u, m).sum(axis=0, dtype=np.float64)
        if accumulate:
            weight_sum += w.sum(axis=0, dtype=np.float64)
            for i in range(n_clusters):
                wi = w[:, i]
                shift_sum[i] += wi @ diffs[i]
                if scatter:
                    scatter_sum[i] += (diffs[i] * wi[:, None]).T @ diffs[i]
    return SweepResult(objective, weight_sum, weighted_dist, shift_sum, scatter_sum, max_change)


if HAVE_NUMBA:
    _FASTMATH = {"reassoc", "contract"}  # lets LLVM vectorise the sums over a tile

    # error_model="numpy": 1 / 0 gives inf instead of raising; such samples (distance 0)
    # are then handled by the exact one-hot rule.
    @numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
    def _sweep_block(
        X,
        centers,
        whiten,
        use_whiten,
        m,
        eta,
        possibilistic,
        U,
        compare,
        accumulate,
        scatter,
        start,
        stop,
        b,
        objective,
        weighted_dist,
        weight_sum,
        shift_sum,
        scatter_sum,
        max_change,
    ):  # pragma: no cover - compiled; covered through sweep(backend="numba")
        """Process samples ``start:stop`` and store their sums in row ``b`` of the partials.

        Samples are handled in tiles of ``TILE``: the tile is transposed into a small
        (n_features, TILE) buffer so that every inner loop runs over contiguous samples.
        """
        n_features = X.shape[1]
        n_clusters = centers.shape[0]
        m_is_2 = m == 2.0
        inv = 1.0 / (m - 1.0)
        xt = np.empty((n_features, TILE))
        dt = np.empty((n_features, TILE))
        yt = np.empty(TILE)
        acc = np.empty(TILE)
        d2 = np.empty((n_clusters, TILE))
        ut = np.empty((n_clusters, TILE))
        wt = np.empty((n_clusters, TILE))
        dmin = np.empty(TILE)
        tot = np.empty(TILE)
        obj = np.zeros(n_clusters)
        wdist = np.zeros(n_clusters)
        wsum = np.zeros(n_clusters)
        shift = np.zeros((n_clusters, n_features))
        scat = np.zeros((n_clusters, n_features, n_features))
        change = 0.0
        for k0 in range(start, stop, TILE):
            nt = min(TILE, stop - k0)
            for t in range(nt):
                for j in range(n_features):
                    xt[j, t] = X[k0 + t, j]
                dmin[t] = np.inf
            # squared distances ||(x - v_i) W_i||^2, always from the difference x - v_i
            for i in range(n_clusters):
                for j in range(n_features):
                    vij = centers[i, j]
                    for t in range(nt):
                        dt[j, t] = xt[j, t] - vij
                for t in range(nt):
                    acc[t] = 0.0
                if use_whiten:
                    for j in range(n_features):
                        for t in range(nt):
                            yt[t] = 0.0
                        for q in range(n_features):
                            wqj = whiten[i, q, j]
                            for t in range(nt):
                                yt[t] += dt[q, t] * wqj
                        for t in range(nt):
                            acc[t] += yt[t] * yt[t]
                else:
                    for j in range(n_features):
                        for t in range(nt):
                            acc[t] += dt[j, t] * dt[j, t]
                for t in range(nt):
                    d2[i, t] = acc[t]
                    if acc[t] < dmin[t]:
                        dmin[t] = acc[t]
            # memberships
            if possibilistic:
                for i in range(n_clusters):
                    inv_eta = 1.0 / eta[i]
                    if m_is_2:
                        for t in range(nt):
                            ut[i, t] = 1.0 / (1.0 + d2[i, t] * inv_eta)
                    else:
                        for t in range(nt):
                            ut[i, t] = 1.0 / (1.0 + (d2[i, t] * inv_eta) ** inv)
            else:
                for t in range(nt):
                    tot[t] = 0.0
                for i in range(n_clusters):
                    if m_is_2:
                        for t in range(nt):
                            r = 1.0 / d2[i, t]
                            ut[i, t] = r
                            tot[t] += r
                    else:
                        for t in range(nt):
                            r = (dmin[t] / d2[i, t]) ** inv
                            ut[i, t] = r
                            tot[t] += r
                for t in range(nt):
                    tot[t] = 1.0 / tot[t]
                for i in range(n_clusters):
                    for t in range(nt):
                        ut[i, t] *= tot[t]
                for t in range(nt):  # tiny or zero distances: ratio form, exact one-hot
                    if dmin[t] < SAFE_MIN_SQ_DISTANCE:
                        if dmin[t] <= 0.0:
                            n_zero = 0
                            for i in range(n_clusters):
                                if d2[i, t] <= 0.0:
                                    n_zero += 1
                            for i in range(n_clusters):
                                ut[i, t] = 1.0 / n_zero if d2[i, t] <= 0.0 else 0.0
                        else:
                            s = 0.0
                            for i in range(n_clusters):
                                r = (dmin[t] / d2[i, t]) ** inv
                                ut[i, t] = r
                                s += r
                            for i in range(n_clusters):
                                ut[i, t] /= s
            # store, compare, weights
            for t in range(nt):
                k = k0 + t
                for i in range(n_clusters):
                    previous = U[k, i]
                    U[k, i] = ut[i, t]
                    uf = float(U[k, i])  # the stored (possibly float32-rounded) value
                    if compare:
                        delta = abs(uf - float(previous))
                        if delta > change:
                            change = delta
                    ut[i, t] = uf
            for i in range(n_clusters):
                s_wd = 0.0
                s_w = 0.0
                if m_is_2:
                    for t in range(nt):
                        wt[i, t] = ut[i, t] * ut[i, t]
                else:
                    for t in range(nt):
                        wt[i, t] = ut[i, t] ** m
                for t in range(nt):
                    s_wd += wt[i, t] * d2[i, t]
                    s_w += wt[i, t]
                wdist[i] += s_wd
                obj[i] += s_wd
                wsum[i] += s_w
                if possibilistic:
                    s_p = 0.0
                    for t in range(nt):
                        c1 = 1.0 - ut[i, t]
                        s_p += c1 * c1 if m_is_2 else c1**m
                    obj[i] += eta[i] * s_p
            if accumulate:
                for i in range(n_clusters):
                    for j in range(n_features):
                        vij = centers[i, j]
                        s = 0.0
                        for t in range(nt):
                            e = xt[j, t] - vij
                            dt[j, t] = e
                            s += wt[i, t] * e
                        shift[i, j] += s
                    if scatter:
                        for j in range(n_features):
                            for q in range(j, n_features):
                                s = 0.0
                                for t in range(nt):
                                    s += wt[i, t] * dt[j, t] * dt[q, t]
                                scat[i, j, q] += s
        objective[b] = obj
        weighted_dist[b] = wdist
        if accumulate:
            weight_sum[b] = wsum
            shift_sum[b] = shift
        if scatter:
            scatter_sum[b] = scat
        max_change[b] = change

    def _make_driver(parallel):
        loop = numba.prange if parallel else range

        def driver(
            X,
            centers,
            whiten,
            use_whiten,
            m,
            eta,
            possibilistic,
            U,
            compare,
            accumulate,
            scatter,
            n_blocks,
        ):  # pragma: no cover - compiled
            n_samples, n_features = X.shape
            n_clusters = centers.shape[0]
            block = (n_samples + n_blocks - 1) // n_blocks
            objective = np.zeros((n_blocks, n_clusters))
            weighted_dist = np.zeros((n_blocks, n_clusters))
            weight_sum = np.zeros((n_blocks, n_clusters))
            shift_sum = np.zeros((n_blocks, n_clusters, n_features))
            n_scatter = n_blocks if scatter else 1
            scatter_sum = np.zeros((n_scatter, n_clusters, n_features, n_features))
            max_change = np.zeros(n_blocks)
            for b in loop(n_blocks):
                _sweep_block(
                    X,
                    centers,
                    whiten,
                    use_whiten,
                    m,
                    eta,
                    possibilistic,
                    U,
                    compare,
                    accumulate,
                    scatter,
                    b * block,
                    min((b + 1) * block, n_samples),
                    b,
                    objective,
                    weighted_dist,
                    weight_sum,
                    shift_sum,
                    scatter_sum,
                    max_change,
                )
            return objective, weighted_dist, weight_sum, shift_sum, scatter_sum, max_change

        # Distinct names give the two compiled drivers distinct on-disk cache entries.
        driver.__name__ = driver.__qualname__ = "_sweep_parallel" if parallel else "_sweep_serial"
        return driver

    # Two compiled drivers: a parallel one, and a serial one for small inputs where waking the thread pool costs more than it saves.
    _jit = {"cache": True, "nogil": True}
    _sweep_parallel = numba.njit(parallel=True, **_jit)(_make_driver(True))
    _sweep_serial = numba.njit(**_jit)(_make_driver(False))


def _n_blocks(n_samples, n_clusters, n_features, scatter):
    n_blocks = min(MAX_BLOCKS, max(1, n_samples // 2048))
    if scatter:
        per_block = n_clusters * n_features * n_features * 8
        n_blocks = max(1, min(n_blocks, BLOCK_COV_BUDGET // per_block))
    return n_blocks


def _sweep_numba(X, centers, whiten, m, eta, U, compare, accumulate, scatter, parallel):
    n_samples, n_features = X.shape
    n_clusters = centers.shape[0]
    n_blocks = _n_blocks(n_samples, n_clusters, n_features, scatter)
    use_whiten = whiten is not None
    if whiten is None:
        whiten = np.zeros((1, 1, 1), dtype=X.dtype)
    possibilistic = eta is not None
    eta_arr = np.ones(n_clusters) if eta is None else np.asarray(eta, dtype=np.float64)
    # Same blocks either way, so the serial and parallel loops give identical sums.
    kernel = _sweep_parallel if parallel and n_blocks > 1 else _sweep_serial
    # Always a read-only view (no copy): writable and read-only inputs (e.g. memmaps) then
    # share one compiled specialisation.
    X_read_only = X.view()
    X_read_only.flags.writeable = False
    objective, weighted_dist, weight_sum, shift_sum, scatter_sum, max_change = kernel(
        X_read_only,
        np.ascontiguousarray(centers, dtype=X.dtype),
        np.ascontiguousarray(whiten, dtype=X.dtype),
        use_whiten,
        float(m),
        eta_arr,
        possibilistic,
        U,
        compare,
        accumulate,
        scatter,
        n_blocks,
    )
    if scatter:
        scatter_total = scatter_sum.sum(axis=0)
        upper = np.triu(scatter_total)
        scatter_total = upper + np.triu(scatter_total, 1).transpose(0, 2, 1)
    else:
        scatter_total = None
    return SweepResult(
        objective.sum(axis=0),
        weight_sum.sum(axis=0),
        weighted_dist.sum(axis=0),
        shift_sum.sum(axis=0),
        scatter_total,
        float(max_change.max()) if compare else np.inf,
    )


#: Accepted values of the estimators' ``backend`` parameter.
BACKENDS = ("auto", "numba", "numba-parallel", "numpy")


def resolve_backend(backend):
    """Return the implementation that a ``backend`` parameter value selects.

    Parameters
    ----------
    backend : {"auto", "numba", "numba-parallel", "numpy"}
        ``"auto"`` is the single-threaded numba loop when numba is installed, else NumPy.
        ``"numba-parallel"`` spreads the blocks of samples over numba's threads (see
        ``numba.set_num_threads``); it pays off only on otherwise idle cores, and on
        shared or oversubscribed cores (other processes, dask worker threads) it can be
        much slower than the serial loop, hence not the default.

    Returns
    -------
    str
        ``"numba"``, ``"numba-parallel"`` or ``"numpy"``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend.startswith("numba") and not HAVE_NUMBA:
        raise ValueError(f"backend={backend!r} was requested but numba is not installed.")
    return backend


def sweep(
    X,
    centers,
    m,
    U,
    *,
    whiten=None,
    eta=None,
    compare=False,
    accumulate=True,
    scatter=False,
    backend="numpy",
):
    """Run one pass over the samples (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float32 or float64
        Samples.
    centers : ndarray of shape (n_clusters, n_features)
        Current centres.
    m : float
        Fuzzifier, > 1.
    U : ndarray of shape (n_samples, n_clusters), dtype of ``X``
        Output array for the memberships; its previous content is compared with the new
        memberships when ``compare`` is true.
    whiten : ndarray of shape (n_clusters, n_features, n_features) or None
        ``W_i`` with norm matrix ``A_i = W_i W_i^T``; None for the Euclidean norm.
    eta : ndarray of shape (n_clusters,) or None
        Possibilistic scale parameters; None for probabilistic memberships.
    compare : bool
        Whether to record the largest change of a membership.
    accumulate : bool
        Whether to gather the sums for the next centres.
    scatter : bool
        Whether to gather the weighted scatter matrices (Gustafson–Kessel).
    backend : {"numpy", "numba", "numba-parallel"}
        Implementation to use (see :func:`resolve_backend`).

    Returns
    -------
    SweepResult
        The gathered sums.
    """
    centers = np.asarray(centers, dtype=X.dtype)
    if whiten is not None:
        whiten = np.asarray(whiten, dtype=X.dtype)
    if eta is not None:
        eta = np.asarray(eta, dtype=np.float64)
    scatter = bool(scatter and accumulate)
    if backend.startswith("numba"):
        parallel = backend == "numba-parallel"
        return _sweep_numba(X, centers, whiten, m, eta, U, compare, accumulate, scatter, parallel)
    return _sweep_numpy(X, centers, whiten, m, eta, U, compare, accumulate, scatter)


def sq_distances(X, centers, whiten=None):
    """Squared distances of every sample to every centre, computed in chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Samples.
    centers : ndarray of shape (n_clusters, n_features)
        Centres.
    whiten : ndarray of shape (n_clusters, n_features, n_features) or None
        ``W_i`` with ``A_i = W_i W_i^T``; None for the Euclidean norm.

    Returns
    -------
    ndarray of shape (n_samples, n_clusters)
        ``||(x_k - v_i) W_i||^2`` in the dtype of ``X``.
    """
    centers = np.asarray(centers, dtype=X.dtype)
    if whiten is not None:
        whiten = np.asarray(whiten, dtype=X.dtype)
    out = np.empty((X.shape[0], centers.shape[0]), dtype=X.dtype)
    for start in range(0, X.shape[0], NUMPY_CHUNK):
        stop = min(start + NUMPY_CHUNK, X.shape[0])
        out[start:stop] = _chunk_sq_distances(X[start:stop], centers, whiten, False)[0]
    return out
