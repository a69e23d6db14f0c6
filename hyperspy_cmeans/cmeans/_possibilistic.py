"""Possibilistic c-means (Krishnapuram & Keller 1993, 1996)."""

import numpy as np
from scipy.special import logsumexp

from hyperspy_cmeans.cmeans._base import BaseCMeans, _FitContext
from hyperspy_cmeans.cmeans._kernels import sq_distances


class Possibilistic(BaseCMeans):
    r"""Possibilistic c-means (Krishnapuram & Keller 1993, 1996), a scikit-learn estimator.

    Typicalities :math:`t_{ik} \in (0, 1]` need not sum to 1 over the clusters: each
    cluster is fitted as if alone, with its own scale :math:`\eta_i`. Two objectives are
    available (``typicality``). The default, Krishnapuram & Keller's 1996 form,

    .. math::

        J(T, V) = \sum_{i=1}^{c}\sum_{k=1}^{n} t_{ik} \|x_k - v_i\|^2
                  + \sum_{i=1}^{c} \eta_i \sum_{k=1}^{n} (t_{ik} \log t_{ik} - t_{ik}),
        \qquad
        t_{ik} = \exp\Big(-\frac{\|x_k - v_i\|^2}{\eta_i}\Big),
        \qquad v_i = \frac{\sum_k t_{ik} x_k}{\sum_k t_{ik}},

    has Gaussian tails; the 1993 form (``typicality="power"``),

    .. math::

        J_m(T, V) = \sum_{i,k} t_{ik}^m \|x_k - v_i\|^2
                    + \sum_{i} \eta_i \sum_{k} (1 - t_{ik})^m,
        \qquad
        t_{ik} = \Big[1 + \Big(\frac{\|x_k - v_i\|^2}{\eta_i}\Big)^{1/(m-1)}\Big]^{-1},
        \qquad v_i = \frac{\sum_k t_{ik}^m x_k}{\sum_k t_{ik}^m},

    has heavy tails (:math:`t \sim d^{-2/(m-1)}`).

    As Krishnapuram & Keller recommend, the algorithm starts from a probabilistic c-means
    solution (:class:`Probabilistic` with the same ``m``, ``n_init``, ``init``,
    ``init_size`` and ``random_state``) and, unless ``eta`` is given, estimates each scale
    from it, then keeps the scales fixed. By default (``alpha=0.7``) :math:`\eta_i` is the
    mean squared distance to :math:`v_i` of the samples whose probabilistic membership in
    cluster :math:`i` exceeds :math:`\alpha` (the :math:`\alpha`-cut estimate of
    Krishnapuram & Keller); with ``alpha=None`` it is the membership-weighted mean
    (KK 1993, eq. 9)

    .. math::

        \eta_i = K \frac{\sum_k u_{ik}^m \|x_k - v_i\|^2}{\sum_k u_{ik}^m},

    :math:`K` = ``eta_scale`` multiplying either estimate.

    Why these defaults: on EDS data spaces, phases overlap and differ in density. With the
    1993 typicality at ``m = 2`` the heavy tails let a dense phase pull the centre of a
    sparser neighbour onto itself (coincident clusters) on every real map tried, whatever
    the scale estimate; the Gaussian tails of the 1996 typicality with the
    :math:`\alpha`-cut scales (which describe the cluster's core, not the mixed pixels
    between phases) keep the clusters apart on the study's data spaces and on synthetic
    maps (see ``tests/test_cmeans_possibilistic.py``). A ``UserWarning`` names clusters
    that still end within one scale of each other
    (:math:`\|v_i - v_j\|^2 < \min(\eta_i, \eta_j)`).

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
    typicality : {"exponential", "power"}, default="exponential"
        Krishnapuram & Keller's 1996 exponential typicality, or their 1993 one (which
        uses ``m``); see above.
    eta : float, array-like of shape (n_clusters,) or None, default=None
        Scale parameters :math:`\eta_i` (squared-distance units, > 0); None estimates them
        from the probabilistic stage (see ``alpha``).
    alpha : float or None, default=0.7
        :math:`\alpha`-cut in (0, 1) for estimating :math:`\eta_i`; None uses the
        membership-weighted formula above. A cluster with fewer than ``n_features + 1``
        samples above the cut uses the weighted formula.
    eta_scale : float, default=1.0
        :math:`K` (> 0), multiplying the estimated scales; ignored when ``eta`` is given.
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
        Final value of the possibilistic objective :math:`J`.
    objective_history_ : ndarray of shape (n_iter\_ + 1,)
        :math:`J` during the possibilistic stage (entry 0 at the probabilistic centres).
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

    Examples
    --------
    >>> import numpy as np
    >>> from hyperspy_cmeans.cmeans import Possibilistic
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(300, 2)), rng.normal(size=(60, 2)) + [5.0, 0.0]])
    >>> pcm = Possibilistic(n_clusters=2, random_state=0).fit(X)
    >>> np.sort(np.round(pcm.cluster_centers_[:, 0])).tolist() == [0.0, 5.0]
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
        typicality="exponential",
        eta=None,
        alpha=0.7,
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
        self.typicality = typicality
        self.eta = eta
        self.alpha = alpha
        self.eta_scale = eta_scale

    def _check_extra_params(self, X):
        if self.typicality not in ("exponential", "power"):
            raise ValueError(
                f"typicality must be 'exponential' or 'power', got {self.typicality!r}."
            )
        if not (np.isfinite(self.eta_scale) and self.eta_scale > 0):
            raise ValueError(f"eta_scale must be a positive number, got {self.eta_scale!r}.")
        if self.alpha is not None and not (0 < self.alpha < 1):
            raise ValueError(f"alpha must be None or lie in (0, 1), got alpha={self.alpha!r}.")
        if self.eta is None:
            return None
        eta = np.broadcast_to(np.asarray(self.eta, dtype=np.float64), (self.n_clusters,)).copy()
        if not np.all(np.isfinite(eta)) or np.any(eta <= 0):
            raise ValueError(f"eta must be positive and finite, got eta={self.eta!r}.")
        return eta

    def _estimate_eta(self, X, fcm):
        """Scales from the probabilistic stage: alpha-cut means, else weighted means."""
        weights = np.maximum(fcm.last.weight_sum, np.finfo(np.float64).tiny)
        eta = fcm.last.weighted_dist / weights
        if self.alpha is not None:
            d2 = sq_distances(X, fcm.centers)
            for i in range(self.n_clusters):
                core = fcm.U[:, i] > self.alpha
                if core.sum() > X.shape[1]:
                    eta[i] = d2[core, i].mean(dtype=np.float64)
        return self.eta_scale * eta

    def _fit_model(self, X, rng, backend, pool, eta):
        ctx = _FitContext(backend, pool, lambda: None, self._euclidean_update)
        fcm = self._fit_starts(X, rng, ctx, stage=" (probabilistic stage)")
        if eta is None:
            eta = self._estimate_eta(X, fcm)
        # A cluster with all its weight on samples at its centre would get eta = 0; keep
        # the typicality formula finite with a floor relative to the data spread.
        spread = float(np.var(X, axis=0, dtype=np.float64).sum())
        ctx.eta = np.maximum(eta, max(spread * 1e-12, np.finfo(np.float64).tiny))
        ctx.exponential = self.typicality == "exponential"
        run = self._iterate(X, fcm.centers, None, ctx, threaded=True, U=fcm.U)
        self._warn_unconverged(int(not run.converged), 1, " (possibilistic stage)")
        self._store(run)
        self.eta_ = ctx.eta
        self._warn_coincident()

    def _warn_coincident(self):
        """Warn when two centres ended within one scale: ``|v_i - v_j|^2 < min(eta)``."""
        V = self.cluster_centers_.astype(np.float64)
        d2 = ((V[:, None, :] - V[None, :, :]) ** 2).sum(-1)
        close = d2 < np.minimum.outer(self.eta_, self.eta_)
        np.fill_diagonal(close, False)
        if close.any():
            rows, cols = np.nonzero(np.triu(close))
            pairs = [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)]
            self._warn(
                f"Possibilistic: clusters {pairs} converged onto the same centre (coincident "
                f"clusters, within one scale sqrt(eta) of each other: the classic PCM failure "
                f"when clusters overlap). The defaults (typicality='exponential', alpha=0.7) "
                f"or a smaller eta_scale usually keep them apart.",
                UserWarning,
            )

    def _model_eta(self):
        return self.eta_

    def _model_exponential(self):
        return self.typicality == "exponential"

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
        d2 = d.astype(np.float64) ** 2
        if self.typicality == "exponential":
            log_t = -d2 / self.eta_
        else:
            with np.errstate(divide="ignore"):
                log_r = (np.log(d2) - np.log(self.eta_)) / (self.m - 1.0)
            log_t = -np.logaddexp(0.0, log_r)
        proba = np.exp(log_t - logsumexp(log_t, axis=1, keepdims=True))
        return proba.astype(d.dtype, copy=False)
