"""The fused pass over a range of sample blocks, compiled by numba when it is installed.

:func:`sweep_blocks` does, for blocks ``b_lo:b_hi`` of the samples, what the vectorised
NumPy pass of :mod:`hyperspy_cmeans.cmeans._kernels` does chunk by chunk (see its module
docstring for the equations), reading each sample once. Samples are handled in tiles of
:data:`TILE`, transposed into a small ``(n_features, TILE)`` buffer so that every inner loop
runs over contiguous samples; each step of a tile is a function of its own.

Every function here is plain Python that numba compiles (``nogil``, so worker threads run
it in parallel); without numba they stay plain Python (correct, but far too slow for real
data, so the estimators then use the NumPy pass). The compiled functions keep the Python
original as ``py_func``; the tests run :func:`sweep_blocks` with every step replaced by its
``py_func`` and compare it with the NumPy pass. The kernels write into arrays they are given
and return nothing: a numba function that returns a tuple of arrays while a Ctrl-C is
pending raises ``SystemError`` instead of ``KeyboardInterrupt`` (the signal is handled while
the tuple is boxed).
"""

import numpy as np

try:  # numba is a dependency, but the NumPy pass must work without it.
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised in a subprocess with numba blocked
    numba = None
    HAVE_NUMBA = False

#: Membership modes of the pass: probabilistic (Bezdek), possibilistic with the
#: Krishnapuram–Keller 1993 typicality, possibilistic with their 1996 exponential one.
PROBABILISTIC, POWER, EXPONENTIAL = 0, 1, 2

#: Samples per tile inside a block (the tile is transposed for contiguous loops).
TILE = 128

#: Below this smallest squared distance a sample's memberships use the overflow-free ratio
#: form (and the exact one-hot rule at 0) instead of reciprocals.
SAFE_MIN_SQ_DISTANCE = 1e-280


def _jit(fn):
    """Compile ``fn`` with numba (GIL released, on-disk cache) when numba is installed."""
    if not HAVE_NUMBA:  # pragma: no cover - numba missing
        return fn
    # fastmath "reassoc" and "contract" let LLVM vectorise the sums over a tile;
    # error_model="numpy": 1 / 0 gives inf instead of raising (such samples, at distance 0,
    # then follow the exact one-hot rule).
    return numba.njit(
        cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy"
    )(fn)


@_jit
def tile_load(X, k0, nt, xt):
    """Copy samples ``k0:k0+nt`` transposed into ``xt`` (n_features, TILE)."""
    for t in range(nt):
        for j in range(X.shape[1]):
            xt[j, t] = X[k0 + t, j]


@_jit
def tile_sq_distances(xt, nt, centers, whiten, use_whiten, dt, yt, acc, d2, dmin):
    """``d2[i, t] = ||(x_t - v_i) W_i||^2`` from the difference ``x - v``; row minima."""
    n_features = xt.shape[0]
    for t in range(nt):
        dmin[t] = np.inf
    for i in range(centers.shape[0]):
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


@_jit
def tile_typicalities(d2, nt, m, eta, mode, ut):
    """Possibilistic typicalities: ``mode`` 1 ``1 / (1 + (d2 / eta)^(1/(m-1)))``, 2 ``exp(-d2 / eta)``."""
    inv = 1.0 / (m - 1.0)
    for i in range(d2.shape[0]):
        inv_eta = 1.0 / eta[i]
        if mode == EXPONENTIAL:
            for t in range(nt):
                ut[i, t] = np.exp(-d2[i, t] * inv_eta)
        elif m == 2.0:
            for t in range(nt):
                ut[i, t] = 1.0 / (1.0 + d2[i, t] * inv_eta)
        else:
            for t in range(nt):
                ut[i, t] = 1.0 / (1.0 + (d2[i, t] * inv_eta) ** inv)


@_jit
def tile_memberships(d2, dmin, nt, m, ut, tot):
    """Probabilistic memberships; tiny or zero distances use the ratio form / one-hot rule."""
    n_clusters = d2.shape[0]
    inv = 1.0 / (m - 1.0)
    for t in range(nt):
        tot[t] = 0.0
    for i in range(n_clusters):
        if m == 2.0:
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
    for t in range(nt):
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


@_jit
def tile_store(U, k0, nt, ut, compare):
    """Write the memberships into ``U``; return the largest change if ``compare``.

    ``ut`` is replaced by the stored (possibly float32-rounded) values, so that the sums
    use exactly what ``U`` holds.
    """
    change = 0.0
    for t in range(nt):
        for i in range(ut.shape[0]):
            previous = U[k0 + t, i]
            U[k0 + t, i] = ut[i, t]
            uf = float(U[k0 + t, i])
            if compare:
                delta = abs(uf - float(previous))
                if delta > change:
                    change = delta
            ut[i, t] = uf
    return change


@_jit
def tile_objective(ut, d2, nt, m, eta, mode, wt, obj, wdist, wsum):
    """Weights ``w`` into ``wt``; add ``sum w``, ``sum w d2`` and the objective.

    ``w = u^m``, except for exponential typicalities (``mode`` 2), whose weights are
    ``u``; the possibilistic penalty is ``eta sum (1 - u)^m`` (mode 1) or
    ``eta sum (u log u - u)`` (mode 2).
    """
    for i in range(ut.shape[0]):
        s_wd = 0.0
        s_w = 0.0
        if mode == EXPONENTIAL:
            for t in range(nt):
                wt[i, t] = ut[i, t]
        elif m == 2.0:
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
        if mode == POWER:
            s_p = 0.0
            for t in range(nt):
                c1 = 1.0 - ut[i, t]
                s_p += c1 * c1 if m == 2.0 else c1**m
            obj[i] += eta[i] * s_p
        elif mode == EXPONENTIAL:
            s_p = 0.0
            for t in range(nt):
                u = ut[i, t]
                s_p -= u
                if u > 0.0:
                    s_p += u * np.log(u)
            obj[i] += eta[i] * s_p


@_jit
def tile_moments(xt, nt, centers, wt, scatter, dt, shift, scat):
    """Add ``sum w (x - v)`` and, if ``scatter``, the upper triangle of ``sum w (x-v)(x-v)^T``."""
    n_features = xt.shape[0]
    for i in range(centers.shape[0]):
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


@_jit
def sweep_block(X, centers, whiten, use_whiten, m, eta, mode, U, flags, start, stop, out):
    """Process samples ``start:stop``; return their sums and largest membership change.

    ``mode`` is :data:`PROBABILISTIC`, :data:`POWER` or :data:`EXPONENTIAL`; ``flags`` is
    ``(compare, accumulate, scatter)``; ``out`` is the tuple of per-cluster
    accumulators ``(objective, weighted_dist, weight_sum, shift_sum, scatter_sum)`` of
    this block, zeroed by the caller (``scatter_sum`` holds the upper triangle only).
    """
    compare, accumulate, scatter = flags
    obj, wdist, wsum, shift, scat = out
    n_features = X.shape[1]
    n_clusters = centers.shape[0]
    xt = np.empty((n_features, TILE))
    dt = np.empty((n_features, TILE))
    yt = np.empty(TILE)
    acc = np.empty(TILE)
    d2 = np.empty((n_clusters, TILE))
    ut = np.empty((n_clusters, TILE))
    wt = np.empty((n_clusters, TILE))
    dmin = np.empty(TILE)
    tot = np.empty(TILE)
    change = 0.0
    for k0 in range(start, stop, TILE):
        nt = min(TILE, stop - k0)
        tile_load(X, k0, nt, xt)
        tile_sq_distances(xt, nt, centers, whiten, use_whiten, dt, yt, acc, d2, dmin)
        if mode == PROBABILISTIC:
            tile_memberships(d2, dmin, nt, m, ut, tot)
        else:
            tile_typicalities(d2, nt, m, eta, mode, ut)
        change = max(change, tile_store(U, k0, nt, ut, compare))
        tile_objective(ut, d2, nt, m, eta, mode, wt, obj, wdist, wsum)
        if accumulate:
            tile_moments(xt, nt, centers, wt, scatter, dt, shift, scat)
    return change


@_jit
def sweep_blocks(
    X,
    centers,
    whiten,
    use_whiten,
    m,
    eta,
    mode,
    U,
    flags,
    bounds,
    b_lo,
    b_hi,
    objective,
    weighted_dist,
    weight_sum,
    shift_sum,
    scatter_sum,
    max_change,
):
    """Run :func:`sweep_block` on blocks ``b_lo:b_hi`` (samples ``bounds[b]:bounds[b+1]``).

    Block ``b`` writes row ``b`` of the partial-sum arrays (``scatter_sum`` only when
    ``flags[2]``, the scatter flag, is set). Returns nothing (see the module docstring).
    """
    for b in range(b_lo, b_hi):
        scat = scatter_sum[b] if flags[2] else scatter_sum[0]
        out = (objective[b], weighted_dist[b], weight_sum[b], shift_sum[b], scat)
        max_change[b] = sweep_block(
            X,
            centers,
            whiten,
            use_whiten,
            m,
            eta,
            mode,
            U,
            flags,
            bounds[b],
            bounds[b + 1],
            out,
        )


#: The compiled steps, in the order :func:`sweep_blocks` calls them (for the tests).
STEPS = (
    "tile_load",
    "tile_sq_distances",
    "tile_typicalities",
    "tile_memberships",
    "tile_store",
    "tile_objective",
    "tile_moments",
    "sweep_block",
    "sweep_blocks",
)
