"""One pass over the samples: distances, memberships, objective and the sums for the next update.

Every c-means iteration of this package is a single call of :func:`sweep`. Given the
current centres ``v_i`` (and, for Gustafson–Kessel, a whitening matrix ``W_i`` with
``A_i = W_i W_i^T``), it visits the samples in blocks and, for each sample ``x_k``,

1. computes the squared distances ``d2_ik = ||(x_k - v_i) W_i||^2`` (Euclidean when no
   whitening is given), always from the difference ``x_k - v_i`` so that a sample lying on
   a centre has a distance of exactly 0;
2. computes the memberships ``u_ik`` (probabilistic, Bezdek 1981, eq. 11.3; or possibilistic
   typicalities, Krishnapuram & Keller 1993, eq. 8, or their 1996 exponential form
   ``exp(-d2_ik / eta_i)``) and writes them into the output array, recording the largest
   change with respect to the values that were there before;
3. adds ``w_ik = u_ik^m`` (``u_ik`` for exponential typicalities) weighted sums to per-block accumulators: ``sum_k w_ik``,
   ``sum_k w_ik (x_k - v_i)``, ``sum_k w_ik d2_ik`` (the per-cluster objective) and, when
   asked, ``sum_k w_ik (x_k - v_i)(x_k - v_i)^T`` (Gustafson–Kessel).

The accumulators are centred on the current centres, so the next centre is
``v_i + S_i / W_i`` and the next fuzzy covariance is ``C_i / W_i - delta delta^T`` with
``delta = S_i / W_i`` (parallel-axis theorem), which avoids the cancellation of raw second
moments. Per-block partial sums are reduced in block order, so results do not depend on the
number of threads.

Two implementations give the same results up to rounding: vectorised NumPy over chunks of
samples (always available) and, when numba is installed, the fused loop of
:mod:`hyperspy_cmeans.cmeans._fused` that reads each sample once. Both release the GIL, so
the blocks can be spread over the threads of a :class:`~._parallel.WorkerPool`. Neither
builds an array larger than ``n_samples x n_clusters`` (the memberships) plus a fixed-size
chunk.
"""

import numpy as np

from hyperspy_cmeans.cmeans import _fused
from hyperspy_cmeans.cmeans._fused import HAVE_NUMBA

#: Samples per chunk in the NumPy implementation (bounds its temporary memory).
NUMPY_CHUNK = 32768

#: Upper bound on the number of blocks (units of work for the threads) in the numba
#: implementation.
MAX_BLOCKS = 256

#: Smallest number of samples per block in the numba implementation.
MIN_BLOCK = 2048

#: Memory budget (bytes) for the numba per-block covariance accumulators.
BLOCK_COV_BUDGET = 16 * 2**20


class SweepResult:
    """Sums gathered by one :func:`sweep` over the samples.

    Attributes
    ----------
    objective : ndarray of shape (n_clusters,)
        Per-cluster objective: ``sum_k w_ik d2_ik`` plus, for possibilistic memberships,
        ``eta_i sum_k (1 - u_ik)^m`` (1993) or ``eta_i sum_k (u_ik log u_ik - u_ik)``
        (1996, exponential).
    weight_sum : ndarray of shape (n_clusters,)
        ``sum_k w_ik``.
    weighted_dist : ndarray of shape (n_clusters,)
        ``sum_k w_ik d2_ik`` (equal to ``objective`` for probabilistic memberships).
    shift_sum : ndarray of shape (n_clusters, n_features)
        ``sum_k w_ik (x_k - v_i)``.
    scatter_sum : ndarray of shape (n_clusters, n_features, n_features) or None
        ``sum_k w_ik (x_k - v_i)(x_k - v_i)^T`` when requested.
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


def possibilistic_memberships(d2, m, eta, exponential=False):
    """Possibilistic typicalities (Krishnapuram & Keller 1993, eq. 8, or 1996).

    ``t_ik = 1 / (1 + (d2_ik / eta_i)^(1/(m-1)))`` or, if ``exponential``,
    ``t_ik = exp(-d2_ik / eta_i)``; a sample on a centre has typicality 1 there, and a very
    distant sample tends to 0 without overflow warnings.

    Parameters
    ----------
    d2 : ndarray of shape (n_samples, n_clusters)
        Squared distances.
    m : float
        Fuzzifier, > 1 (not used by the exponential form).
    eta : ndarray of shape (n_clusters,)
        Positive scale parameters (squared-distance units).
    exponential : bool
        Whether to use the exponential (1996) typicality.

    Returns
    -------
    ndarray of shape (n_samples, n_clusters)
        Typicalities in [0, 1], in the dtype of ``d2``.
    """
    r = d2 / eta.astype(d2.dtype)
    if exponential:
        np.negative(r, out=r)
        return np.exp(r, out=r)
    with np.errstate(over="ignore"):
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


class _Partials:
    """Per-block partial sums of one pass (row ``b`` for block ``b``)."""

    def __init__(self, n_blocks, n_clusters, n_features, scatter):
        self.objective = np.zeros((n_blocks, n_clusters))
        self.weighted_dist = np.zeros((n_blocks, n_clusters))
        self.weight_sum = np.zeros((n_blocks, n_clusters))
        self.shift_sum = np.zeros((n_blocks, n_clusters, n_features))
        shape = (n_blocks if scatter else 1, n_clusters, n_features, n_features)
        self.scatter_sum = np.zeros(shape)
        self.max_change = np.zeros(n_blocks)

    def arrays(self):
        return (
            self.objective,
            self.weighted_dist,
            self.weight_sum,
            self.shift_sum,
            self.scatter_sum,
            self.max_change,
        )

    def reduce(self, compare, scatter, upper_only):
        """Sum the blocks in block order (the same whatever thread computed them)."""
        if scatter:
            total = self.scatter_sum.sum(axis=0)
            if upper_only:  # the fused pass fills the upper triangle
                total = np.triu(total) + np.triu(total, 1).transpose(0, 2, 1)
        else:
            total = None
        return SweepResult(
            self.objective.sum(axis=0),
            self.weight_sum.sum(axis=0),
            self.weighted_dist.sum(axis=0),
            self.shift_sum.sum(axis=0),
            total,
            float(self.max_change.max()) if compare else np.inf,
        )


def _penalty(u, m, exponential):
    """Per-cluster possibilistic penalty sums (without the factor eta)."""
    if not exponential:
        return _weights(1.0 - u, m).sum(axis=0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ulogu = np.where(u > 0, u * np.log(u), 0.0)
    return (ulogu - u).sum(axis=0, dtype=np.float64)


def _numpy_blocks(X, centers, whiten, m, eta, mode, U, flags, bounds, b_lo, b_hi, partials):
    """The NumPy pass over blocks ``b_lo:b_hi`` (each a chunk of samples)."""
    compare, accumulate, scatter = flags
    exponential = mode == _fused.EXPONENTIAL
    p = partials
    for b in range(b_lo, b_hi):
        start, stop = bounds[b], bounds[b + 1]
        Xc = X[start:stop]
        d2, diffs = _chunk_sq_distances(Xc, centers, whiten, accumulate)
        if eta is None:
            u = probabilistic_memberships(d2, m)
        else:
            u = possibilistic_memberships(d2, m, eta, exponential)
        if compare:
            p.max_change[b] = float(np.abs(u - U[start:stop]).max())
        U[start:stop] = u
        w = u if exponential else _weights(u, m)
        wd = (w * d2).sum(axis=0, dtype=np.float64)
        p.weighted_dist[b] = wd
        p.objective[b] = wd
        p.weight_sum[b] = w.sum(axis=0, dtype=np.float64)
        if eta is not None:
            p.objective[b] += eta * _penalty(u, m, exponential)
        if accumulate:
            for i in range(centers.shape[0]):
                wi = w[:, i]
                p.shift_sum[b, i] = wi @ diffs[i]
                if scatter:
                    p.scatter_sum[b, i] = (diffs[i] * wi[:, None]).T @ diffs[i]


def _n_blocks_numba(n_samples, n_clusters, n_features, scatter):
    n_blocks = min(MAX_BLOCKS, max(1, n_samples // MIN_BLOCK))
    if scatter:
        per_block = n_clusters * n_features * n_features * 8
        n_blocks = max(1, min(n_blocks, BLOCK_COV_BUDGET // per_block))
    return n_blocks


def block_bounds(n_samples, n_clusters, n_features, scatter, backend):
    """Sample index at which each block starts, and ``n_samples`` at the end.

    The blocks depend only on the data shape and the backend (never on the number of
    threads), so the block-ordered sums are the same for any number of threads.
    """
    if backend == "numpy":
        n_blocks = max(1, -(-n_samples // NUMPY_CHUNK))
    else:
        n_blocks = _n_blocks_numba(n_samples, n_clusters, n_features, scatter)
    block = -(-n_samples // n_blocks)
    bounds = np.minimum(np.arange(n_blocks + 1, dtype=np.int64) * block, n_samples)
    return bounds


def _groups(n_blocks, n_threads):
    """Split blocks ``0:n_blocks`` into at most ``n_threads`` contiguous ranges."""
    n_groups = max(1, min(n_threads, n_blocks))
    edges = np.linspace(0, n_blocks, n_groups + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _run_groups(pool, n_blocks, task):
    """Run ``task(b_lo, b_hi)`` over the block ranges, in the pool's threads if given."""
    n_threads = 1 if pool is None else pool.n_threads
    groups = _groups(n_blocks, n_threads)
    if len(groups) == 1:  # small input, or one thread: no hand-over to a worker
        task(*groups[0])
        return
    pool.run([lambda lo=lo, hi=hi: task(lo, hi) for lo, hi in groups])


#: Accepted values of the estimators' ``backend`` parameter.
BACKENDS = ("auto", "numba", "numpy")


def resolve_backend(backend):
    """Return the implementation that a ``backend`` parameter value selects.

    Parameters
    ----------
    backend : {"auto", "numba", "numpy"}
        ``"auto"`` is the fused numba pass when numba is installed, else NumPy.

    Returns
    -------
    str
        ``"numba"`` or ``"numpy"``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend == "numba" and not HAVE_NUMBA:
        raise ValueError("backend='numba' was requested but numba is not installed.")
    return backend


def sweep(
    X,
    centers,
    m,
    U,
    *,
    whiten=None,
    eta=None,
    exponential=False,
    compare=False,
    accumulate=True,
    scatter=False,
    backend="numpy",
    pool=None,
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
    exponential : bool
        With ``eta``: exponential (1996) instead of 1993 typicalities.
    compare : bool
        Whether to record the largest change of a membership.
    accumulate : bool
        Whether to gather the sums for the next centres.
    scatter : bool
        Whether to gather the weighted scatter matrices (Gustafson–Kessel).
    backend : {"numpy", "numba"}
        Implementation to use (see :func:`resolve_backend`).
    pool : WorkerPool or None
        Threads over which the blocks of samples are spread; None runs the pass in the
        calling thread. The result does not depend on it.

    Returns
    -------
    SweepResult
        The gathered sums.
    """
    n_samples, n_features = X.shape
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    n_clusters = centers.shape[0]
    if whiten is not None:
        whiten = np.ascontiguousarray(whiten, dtype=X.dtype)
    if eta is not None:
        eta = np.asarray(eta, dtype=np.float64)
    scatter = bool(scatter and accumulate)
    flags = (bool(compare), bool(accumulate), scatter)
    if eta is None:
        mode = _fused.PROBABILISTIC
    else:
        mode = _fused.EXPONENTIAL if exponential else _fused.POWER
    bounds = block_bounds(n_samples, n_clusters, n_features, scatter, backend)
    partials = _Partials(len(bounds) - 1, n_clusters, n_features, scatter)
    if backend == "numba":
        use_whiten = whiten is not None
        whiten_arg = whiten if use_whiten else np.zeros((1, 1, 1), dtype=X.dtype)
        eta_arg = np.ones(n_clusters) if eta is None else eta
        # A read-only view (no copy): writable and read-only inputs (e.g. memmaps) then
        # share one compiled specialisation.
        X_read_only = X.view()
        X_read_only.flags.writeable = False
        args = (X_read_only, centers, whiten_arg, use_whiten, float(m), eta_arg, mode)
        arrays = partials.arrays()

        def task(lo, hi):
            _fused.sweep_blocks(*args, U, flags, bounds, lo, hi, *arrays)

    else:

        def task(lo, hi):
            _numpy_blocks(X, centers, whiten, m, eta, mode, U, flags, bounds, lo, hi, partials)

    _run_groups(pool, len(bounds) - 1, task)
    return partials.reduce(compare, scatter, upper_only=backend == "numba")


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
