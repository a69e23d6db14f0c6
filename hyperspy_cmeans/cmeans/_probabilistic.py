"""Probabilistic fuzzy c-means (Bezdek 1981)."""

from hyperspy_cmeans.cmeans._base import BaseCMeans, _FitContext


class Probabilistic(BaseCMeans):
    r"""Probabilistic fuzzy c-means (Bezdek 1981), a scikit-learn estimator.

    Minimises :math:`J_m(U, V) = \sum_{i=1}^{c}\sum_{k=1}^{n} u_{ik}^m \|x_k - v_i\|^2`
    subject to :math:`\sum_i u_{ik} = 1` by alternating the two necessary conditions

    .. math::

        v_i = \frac{\sum_k u_{ik}^m x_k}{\sum_k u_{ik}^m}, \qquad
        u_{ik} = \Big[\sum_{j=1}^{c} \Big(\frac{\|x_k - v_i\|}{\|x_k - v_j\|}\Big)^{2/(m-1)}
        \Big]^{-1}.

    A sample lying exactly on one or more centres gets membership ``1 / (number of such
    centres)`` on them and 0 elsewhere. Each iteration is one pass over the samples in
    chunks (numba-fused when available), so apart from the memberships no array grows with
    ``n_samples x n_clusters x n_features``.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of clusters, >= 2 (3 is a typical number of phases in a map; scikit-learn's
        clustering checks also use 3).
    m : float, default=2.0
        Fuzzifier, > 1; larger is fuzzier.
    max_iter : int, default=300
        Maximum number of centre updates per start.
    tol : float, default=1e-4
        Convergence tolerance on the largest absolute change of any membership between two
        successive iterations (memberships are dimensionless, so ``tol`` does not depend on
        the scale of the data).
    n_init : int, default=10
        Number of starts; the run with the lowest objective is kept. All starts are drawn
        from one random generator, so they differ. Ignored (one start) when ``init`` is an
        array.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features), default="k-means++"
        Initial centres: greedy k-means++ seeding, distinct random samples, or given
        centres.
    init_size : int, "auto" or None, default="auto"
        Number of samples, drawn at random, on which the ``n_init`` starts run to
        convergence; the start with the lowest objective there is then refined on all
        samples (so ``n_iter_`` and ``objective_history_`` describe the refinement).
        ``"auto"`` uses 50,000 samples (all of them when there are fewer), None all
        samples. Ignored when ``init`` is an array.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the initialisation.
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
        Centres, in the dtype of the training data.
    memberships_ : ndarray of shape (n_samples, n_clusters)
        Memberships of the training samples (rows sum to 1).
    labels_ : ndarray of shape (n_samples,)
        Cluster of highest membership.
    objective_ : float
        Final value of :math:`J_m`.
    objective_history_ : ndarray of shape (n_iter\_ + 1,)
        :math:`J_m` of the final run (the best start, or its refinement on all samples
        when the starts ran on ``init_size`` samples): entry 0 for the memberships of its
        initial centres, entry ``t`` after the ``t``-th update. Non-increasing.
    n_iter_ : int
        Number of centre updates of the final run.
    converged_ : bool
        Whether the final run met ``tol`` before ``max_iter``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    GustafsonKessel : Adaptive (per-cluster Mahalanobis) norm.
    Possibilistic : Typicalities that need not sum to 1.

    References
    ----------
    J. C. Bezdek, *Pattern Recognition with Fuzzy Objective Function Algorithms*, Plenum,
    1981.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperspy_cmeans.cmeans import Probabilistic
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> fcm = Probabilistic(n_clusters=2, random_state=0).fit(X)
    >>> sorted(fcm.labels_[[0, 2]].tolist()) == [0, 1]
    True
    """

    def _fit_model(self, X, rng, backend, pool, extra):
        ctx = _FitContext(backend, pool, lambda: None, self._euclidean_update)
        self._store(self._fit_starts(X, rng, ctx))
