"""Possibilistic c-means (Krishnapuram & Keller 1993, 1996)."""

import numpy as np
from scipy.special import logsumexp

from hyperspy_cmeans.cmeans._base import BaseCMeans, _FitContext


class Possibilistic(BaseCMeans):
    r"""Possibilistic c-means (Krishnapuram & Keller 1993), a scikit-learn estimator.

    Minimises

    .. math::

        J_m(T, V) = \sum_{i=1}^{c}\sum_{k=1}^{n} t_{ik}^m \|x_k - v_i\|^2
                    + \sum_{i=1}^{c} \eta_i \sum_{k=1}^{n} (1 - t_{ik})^m

    without the constraint that a sample's values sum to 1. The typicalities
    :math:`t_{ik} \in (0, 1]` and centres follow

    .. math::

        t_{ik} = \Big[1 + \Big(\frac{\|x_k - v_i\|^2}{\eta_i}\Big)^{1/(m-1)}\Big]^{-1},
        \qquad v_i = \frac{\sum_k t_{ik}^m x_k}{\sum_k t_{ik}^m}.

    As Krishnapuram & Keller (1993, 1996) recommend, the algorithm starts from a
    probabilistic c-means solution (:class:`Probabilistic` with the same ``m``,
    ``n_init``, ``init`` and ``random_state``) and, unless ``eta`` is given, estimates
    the scale parameters from it (KK 1993, eq. 9):

    .. math::

        \eta_i = K \frac{\sum_k u_{ik}^m \|x_k - v_i\|^2}{\sum_k u_{ik}^m},

    with :math:`u, v` the probabilistic memberships and centres and :math:`K` =
    ``eta_scale``. The :math:`\eta_i` then stay fixed. Starting from well-placed centres
    with these scales keeps well-separated clusters from collapsing onto one mode (the
    classic PCM failure when started from random centres). With strongly overlapping or
    very unequal clusters the heavy tails of the typicality at ``m = 2`` can still pull a
    centre onto a denser neighbour; a ``UserWarning`` then names the coincident clusters,
    and ``m = 1.5`` (typicalities falling off as :math:`d^{-4}`) or a smaller
    ``eta_scale`` usually keeps them apart.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters, >= 2.
    m : float, default=2.0
        Fuzzifier, > 1.
    max_iter : int, default=300
        Maximum number of updates (per start of the probabilistic stage, and for the
        possibilistic stage).
    tol : float, default=1e-4
        Convergence tolerance on the largest absolute change of any membership/typicality.
    n_init : int, default=10
        Number of starts of the probabilistic stage.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features), default="k-means++"
        Initial centres of the probabilistic stage.
    init_size : int, "auto" or None, default="auto"
        Number of samples, drawn at random, on which the ``n_init`` starts run to
        convergence; the start with the lowest objective there is then refined on all
        samples (so ``n_iter_`` and ``objective_history_`` describe the refinement).
        ``"auto"`` uses 50,000 samples (all of them when there are fewer), None all
        samples. Ignored when ``init`` is an array.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the initialisation.
    eta : float, array-like of shape (n_clusters,) or None, default=None
        Scale parameters :math:`\eta_i` (squared-distance units, > 0); None estimates them
        from the probabilistic stage with the formula above.
    eta_scale : float, default=1.0
        :math:`K` in the formula above (> 0); ignored when ``eta`` is given.
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
    memberships_ : ndarray of shape (n_samples, n_clusters)
        Typicalities of the training samples (rows need not sum to 1).
    labels_ : ndarray of shape (n_samples,)
        Cluster of highest typicality.
    eta_ : ndarray of shape (n_clusters,)
        Scale parameters used.
    objective_ : float
        Final value of :math:`J_m(T, V)`.
    objective_history_ : ndarray of shape (n_iter\_ + 1,)
        :math:`J_m` during the possibilistic stage (entry 0 at the probabilistic centres).
    n_iter_ : int
        Number of updates of the possibilistic stage.
    converged_ : bool
        Whether the possibilistic stage met ``tol`` before ``max_iter``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    References
    ----------
    R. Krishnapuram and J. M. Keller, "A possibilistic approach to clustering", IEEE Trans.
    Fuzzy Syst. 1(2), 98–110, 1993.

    R. Krishnapuram and J. M. Keller, "The possibilistic C-means algorithm: insights and
    recommendations", IEEE Trans. Fuzzy Syst. 4(3), 385–393, 1996.
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
        eta=None,
        eta_scale=1.0,
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
        self.eta = eta
        self.eta_scale = eta_scale

    def _check_extra_params(self, X):
        if not (np.isfinite(self.eta_scale) and self.eta_scale > 0):
            raise ValueError(f"eta_scale must be a positive number, got {self.eta_scale!r}.")
        if self.eta is None:
            return None
        eta = np.broadcast_to(np.asarray(self.eta, dtype=np.float64), (self.n_clusters,)).copy()
        if not np.all(np.isfinite(eta)) or np.any(eta <= 0):
            raise ValueError(f"eta must be positive and finite, got eta={self.eta!r}.")
        return eta

    def _fit_model(self, X, rng, backend, pool, eta):
        ctx = _FitContext(backend, pool, lambda: None, self._euclidean_update)
        fcm = self._fit_starts(X, rng, ctx, stage=" (probabilistic stage)")
        if eta is None:
            weights = np.maximum(fcm.last.weight_sum, np.finfo(np.float64).tiny)
            eta = self.eta_scale * fcm.last.weighted_dist / weights
        # A cluster with all its weight on samples at its centre would get eta = 0; keep
        # the typicality formula finite with a floor relative to the data spread.
        spread = float(np.var(X, axis=0, dtype=np.float64).sum())
        ctx.eta = np.maximum(eta, max(spread * 1e-12, np.finfo(np.float64).tiny))
        run = self._iterate(X, fcm.centers, None, ctx, threaded=True, U=fcm.U)
        self._warn_unconverged(int(not run.converged), 1, " (possibilistic stage)")
        self._store(run)
        self.eta_ = ctx.eta
        self._warn_coincident()

    def _warn_coincident(self):
        """Warn when two centres ended within ``0.1 sqrt(eta)`` of each other."""
        V = self.cluster_centers_.astype(np.float64)
        d2 = ((V[:, None, :] - V[None, :, :]) ** 2).sum(-1)
        close = d2 < 0.01 * np.minimum.outer(self.eta_, self.eta_)
        np.fill_diagonal(close, False)
        if close.any():
            rows, cols = np.nonzero(np.triu(close))
            pairs = [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)]
            self._warn(
                f"Possibilistic: clusters {pairs} converged onto the same centre (coincident "
                f"clusters, the classic PCM failure when clusters overlap). A smaller fuzzifier "
                f"(m=1.5, whose typicalities fall off faster) or a smaller eta_scale usually "
                f"keeps them apart.",
                UserWarning,
            )

    def _model_eta(self):
        return self.eta_

    def predict_proba(self, X):
        r"""Typicalities of new samples normalised so that each row sums to 1.

        :math:`p_{ik} = t_{ik} / \sum_j t_{jk}`, evaluated in log space so that samples far
        from every centre (all typicalities underflowing) still get finite values. These
        are not the possibilistic typicalities themselves (see
        :meth:`predict_membership`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New samples.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            Normalised typicalities.
        """
        d = self.transform(X)
        with np.errstate(divide="ignore"):
            log_r = (2.0 * np.log(d.astype(np.float64)) - np.log(self.eta_)) / (self.m - 1.0)
        log_t = -np.logaddexp(0.0, log_r)
        proba = np.exp(log_t - logsumexp(log_t, axis=1, keepdims=True))
        return proba.astype(d.dtype, copy=False)
