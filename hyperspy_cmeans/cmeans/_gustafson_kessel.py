"""Gustafson–Kessel fuzzy c-means with Babuška et al. (2002) covariance conditioning."""

import numpy as np

from hyperspy_cmeans.cmeans._base import BaseCMeans, _FitContext
from hyperspy_cmeans.cmeans._kernels import NUMPY_CHUNK


def data_covariance(X):
    """Biased covariance of the samples, accumulated in float64 over chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Samples.

    Returns
    -------
    ndarray of shape (n_features, n_features)
        ``(1/n) sum_k (x_k - mean)(x_k - mean)^T``.
    """
    n_samples, n_features = X.shape
    mean = X.mean(axis=0, dtype=np.float64)
    cov = np.zeros((n_features, n_features))
    for start in range(0, n_samples, NUMPY_CHUNK):
        diff = X[start : start + NUMPY_CHUNK].astype(np.float64) - mean
        cov += diff.T @ diff
    return cov / n_samples


def covariance_scale(cov, max_condition):
    """``det(F0)^(1/n_features)`` of a covariance whose eigenvalue ratio is capped.

    Parameters
    ----------
    cov : ndarray of shape (n_features, n_features)
        Covariance ``F0`` (e.g. of the whole data set).
    max_condition : float
        Largest allowed ratio ``lambda_max / lambda_j``; smaller eigenvalues are raised to
        ``lambda_max / max_condition`` first, so collinear data still give a positive
        scale.

    Returns
    -------
    float
        Geometric mean of the capped eigenvalues; 1.0 when the covariance is zero.
    """
    lam = np.linalg.eigvalsh(cov)
    lam_max = lam[-1]
    if not lam_max > 0:
        return 1.0
    lam = np.maximum(lam, lam_max / max_condition)
    return float(np.exp(np.mean(np.log(lam))))


def condition_covariances(covariances, rho, *, scale, gamma, max_condition):
    r"""Condition fuzzy covariances and derive the Gustafson–Kessel norm matrices.

    Following Babuška, van der Veen & Kaymak (2002), each fuzzy covariance :math:`F_i` is

    1. blended with a multiple of the identity,
       :math:`F_i \leftarrow (1-\gamma) F_i + \gamma\,\det(F_0)^{1/d} I`, with :math:`F_0`
       the covariance of the whole data set (``scale``), then
    2. eigen-decomposed, :math:`F_i = \Phi \Lambda \Phi^T`, and every eigenvalue below
       :math:`\lambda_{max} / \beta` (:math:`\beta` = ``max_condition``) is raised to that
       value; a zero covariance is replaced by ``scale * I``.

    The norm matrix is :math:`A_i = (\rho_i \det F_i)^{1/d} F_i^{-1}` (Gustafson & Kessel
    1979), so :math:`\det A_i = \rho_i`, and the whitening matrix
    :math:`W_i = \sqrt{k_i}\,\Phi\Lambda^{-1/2}` with :math:`k_i = (\rho_i\det F_i)^{1/d}`
    satisfies :math:`W_i W_i^T = A_i`.

    Parameters
    ----------
    covariances : ndarray of shape (n_clusters, n_features, n_features)
        Fuzzy covariances.
    rho : ndarray of shape (n_clusters,)
        Cluster volumes (determinants of the norm matrices), > 0.
    scale : float
        :math:`\det(F_0)^{1/d}` of the data covariance, > 0.
    gamma : float
        Blending weight in [0, 1]; 0 leaves the covariances unchanged.
    max_condition : float
        Largest allowed eigenvalue ratio :math:`\beta` (>= 1).

    Returns
    -------
    conditioned : ndarray of shape (n_clusters, n_features, n_features)
        Conditioned covariances.
    norm_matrices : ndarray of shape (n_clusters, n_features, n_features)
        :math:`A_i`.
    whitening : ndarray of shape (n_clusters, n_features, n_features)
        :math:`W_i`.
    """
    n_features = covariances.shape[-1]
    eye = np.eye(n_features)
    F = 0.5 * (covariances + covariances.transpose(0, 2, 1))
    if gamma:
        F = (1.0 - gamma) * F + gamma * scale * eye
    lam, phi = np.linalg.eigh(F)
    lam_max = lam[:, -1]
    zero = ~(lam_max > 0)
    lam[zero] = scale
    phi[zero] = eye
    lam = np.maximum(lam, lam[:, -1:] / max_condition)
    log_k = (np.log(rho) + np.log(lam).sum(axis=1)) / n_features
    k = np.exp(log_k)
    conditioned = np.einsum("cij,cj,ckj->cik", phi, lam, phi)
    norm_matrices = np.einsum("cij,cj,ckj->cik", phi, k[:, None] / lam, phi)
    whitening = phi * (np.sqrt(k)[:, None] / np.sqrt(lam))[:, None, :]
    return conditioned, norm_matrices, whitening


class GustafsonKessel(BaseCMeans):
    r"""Gustafson–Kessel fuzzy c-means: probabilistic memberships, adaptive per-cluster norm.

    Each cluster :math:`i` has its own norm
    :math:`d_{ik}^2 = (x_k - v_i)^T A_i (x_k - v_i)` with
    :math:`A_i = (\rho_i \det F_i)^{1/d} F_i^{-1}` built from the fuzzy covariance

    .. math::

        F_i = \frac{\sum_k u_{ik}^m (x_k - v_i)(x_k - v_i)^T}{\sum_k u_{ik}^m},

    so that :math:`\det A_i = \rho_i` (fixed cluster volume) while its shape follows the
    cluster (Gustafson & Kessel 1979). Centres and memberships follow the probabilistic
    c-means updates (see :class:`Probabilistic`) with these distances. The first
    memberships of each start use the Euclidean norm scaled to :math:`\det A_i = \rho_i`.

    Singular or near-singular covariances (few samples, collinear data) are conditioned as
    Babuška, van der Veen & Kaymak (2002) propose: blend with
    :math:`\gamma \det(F_0)^{1/d} I` (:math:`F_0` the covariance of all samples) and cap
    the eigenvalue ratio at ``max_condition``; see :func:`condition_covariances`. With
    ``gamma=0`` and no cap active this is the original algorithm and the objective never
    increases.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters, >= 2.
    m : float, default=2.0
        Fuzzifier, > 1.
    max_iter : int, default=300
        Maximum number of updates per start.
    tol : float, default=1e-4
        Convergence tolerance on the largest absolute change of any membership.
    n_init : int, default=10
        Number of starts (one generator); the lowest objective is kept. Ignored when
        ``init`` is an array.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features), default="k-means++"
        Initial centres.
    init_size : int, "auto" or None, default="auto"
        Number of samples, drawn at random, on which the ``n_init`` starts run to
        convergence; the start with the lowest objective there is then refined on all
        samples (so ``n_iter_`` and ``objective_history_`` describe the refinement).
        ``"auto"`` uses 50,000 samples (all of them when there are fewer), None all
        samples. Ignored when ``init`` is an array.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the initialisation.
    rho : float, array-like of shape (n_clusters,) or None, default=None
        Cluster volumes :math:`\rho_i = \det A_i` (> 0); None means all 1.
    gamma : float, default=0.0
        Weight in [0, 1] of the identity blended into every fuzzy covariance (Babuška et
        al. 2002 use small values such as 0.1 when clusters have few samples); 0 keeps the
        classical algorithm.
    max_condition : float, default=1e10
        Largest allowed ratio of the largest to the smallest eigenvalue of a fuzzy
        covariance (:math:`\beta`; Babuška et al. use 1e15 in double precision; 1e10 keeps
        the whitened distances accurate to about 1e-6 relative).
    n_jobs : int or None, default=None
        Number of worker threads: the starts run side by side, and each pass over all
        samples is split into blocks of samples. None or -1 use every CPU available to
        the process (as scikit-learn's ``KMeans`` does); pass 1 when the caller already
        runs one task per core (e.g. dask worker threads). The result does not depend on
        it.
    backend : {"auto", "numba", "numpy"}, default="auto"
        Implementation of the pass over the samples: the fused numba loop (``"auto"``
        when numba is installed) or vectorised NumPy; both give the same results up to
        rounding.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres.
    covariances_ : ndarray of shape (n_clusters, n_features, n_features)
        Conditioned fuzzy covariances :math:`F_i` that define the final norms (equal to the
        raw fuzzy covariances when no conditioning was active).
    norm_matrices_ : ndarray of shape (n_clusters, n_features, n_features)
        :math:`A_i`, with :math:`\det A_i = \rho_i`.
    whitening_matrices_ : ndarray of shape (n_clusters, n_features, n_features)
        :math:`W_i` with :math:`W_i W_i^T = A_i`; distances are
        :math:`\|(x - v_i) W_i\|`.
    rho_ : ndarray of shape (n_clusters,)
        Cluster volumes used.
    memberships_ : ndarray of shape (n_samples, n_clusters)
        Memberships of the training samples (rows sum to 1).
    labels_ : ndarray of shape (n_samples,)
        Cluster of highest membership.
    objective_ : float
        Final objective :math:`\sum_{ik} u_{ik}^m d_{ik}^2` in the GK norms.
    objective_history_ : ndarray of shape (n_iter\_ + 1,)
        Objective of the final run (the best start, or its refinement on all samples when
        the starts ran on ``init_size`` samples); entry 0 for its initial memberships
        (Euclidean norm for a start, the kept start's norms for a refinement).
    n_iter_ : int
        Number of updates of the final run.
    converged_ : bool
        Whether the final run met ``tol`` before ``max_iter``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    D. E. Gustafson and W. C. Kessel, "Fuzzy clustering with a fuzzy covariance matrix",
    IEEE CDC 1978 (published 1979), pp. 761–766.

    R. Babuška, P. J. van der Veen and U. Kaymak, "Improved covariance estimation for
    Gustafson–Kessel clustering", FUZZ-IEEE 2002, pp. 1081–1085.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperspy_cmeans.cmeans import GustafsonKessel
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)) * [5, 0.25] + [0, y] for y in (-1, 1)])
    >>> gk = GustafsonKessel(n_clusters=2, random_state=0).fit(X)
    >>> np.allclose(np.linalg.det(gk.norm_matrices_), 1.0)
    True
    """

    def __init__(
        self,
        n_clusters=3,
        *,
        m=2.0,
        max_iter=300,
        tol=1e-4,
        n_init=10,
        init="k-means++",
        init_size="auto",
        random_state=None,
        rho=None,
        gamma=0.0,
        max_condition=1e10,
        n_jobs=None,
        backend="auto",
    ):
        super().__init__(
            n_clusters=n_clusters,
            m=m,
            max_iter=max_iter,
            tol=tol,
            n_init=n_init,
            init=init,
            init_size=init_size,
            random_state=random_state,
            n_jobs=n_jobs,
            backend=backend,
        )
        self.rho = rho
        self.gamma = gamma
        self.max_condition = max_condition

    def _check_extra_params(self, X):
        rho = 1.0 if self.rho is None else self.rho
        rho = np.broadcast_to(np.asarray(rho, dtype=np.float64), (self.n_clusters,)).copy()
        if not np.all(np.isfinite(rho)) or np.any(rho <= 0):
            raise ValueError(f"rho must be positive and finite, got rho={self.rho!r}.")
        if not (0.0 <= self.gamma <= 1.0):
            raise ValueError(f"gamma must lie in [0, 1], got gamma={self.gamma!r}.")
        if not (self.max_condition >= 1.0) or not np.isfinite(self.max_condition):
            raise ValueError(
                f"max_condition must be a finite number >= 1, got {self.max_condition!r}."
            )
        return rho

    def _fit_model(self, X, rng, backend, pool, rho):
        n_features = X.shape[1]
        scale = covariance_scale(data_covariance(X), self.max_condition)
        eye = np.eye(n_features)

        def initial_norm():
            k = rho ** (1.0 / n_features)
            return {
                "cov": np.broadcast_to(
                    scale * eye, (self.n_clusters, n_features, n_features)
                ).copy(),
                "A": k[:, None, None] * eye,
                "whiten": np.sqrt(k)[:, None, None] * eye,
            }

        def update(centers, norm, res):
            new_centers, ok = self._update_centers(centers, res)
            cov = norm["cov"].copy()
            W = res.weight_sum[ok, None, None]
            delta = res.shift_sum[ok] / W[:, :, 0]
            cov[ok] = res.scatter_sum[ok] / W - delta[:, :, None] * delta[:, None, :]
            conditioned, A, whiten = condition_covariances(
                cov,
                rho,
                scale=scale,
                gamma=float(self.gamma),
                max_condition=float(self.max_condition),
            )
            new = {
                "cov": norm["cov"].copy(),
                "A": norm["A"].copy(),
                "whiten": norm["whiten"].copy(),
            }
            new["cov"][ok] = conditioned[ok]
            new["A"][ok] = A[ok]
            new["whiten"][ok] = whiten[ok]
            return new_centers, new

        best = self._fit_starts(X, rng, _FitContext(backend, pool, initial_norm, update))
        self._store(best)
        self.covariances_ = best.norm["cov"]
        self.norm_matrices_ = best.norm["A"]
        self.whitening_matrices_ = best.norm["whiten"].astype(X.dtype)
        self.rho_ = rho

    def _model_whiten(self):
        return self.whitening_matrices_
