"""Shared machinery of the c-means estimators: validation, initialisation, restarts, prediction."""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from hyperspy_cmeans.cmeans._kernels import NUMPY_CHUNK, resolve_backend, sq_distances, sweep

_INIT_STRINGS = ("k-means++", "random")


def kmeans_plusplus_centers(X, n_clusters, random_state, n_local_trials=None):
    """Choose initial centres by greedy k-means++ seeding, in chunks of samples.

    The first centre is a uniformly drawn sample; every further centre is the best (lowest
    resulting potential ``sum_k min_i ||x_k - v_i||^2``) of ``n_local_trials`` candidates
    drawn with probability proportional to the squared distance to the nearest chosen
    centre (Arthur & Vassilvitskii 2007, with greedy local trials). Only two float64
    arrays of length ``n_samples`` are allocated.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Samples.
    n_clusters : int
        Number of centres.
    random_state : numpy.random.RandomState
        Generator; successive calls draw different seeds.
    n_local_trials : int or None
        Candidates per centre; default ``2 + int(log(n_clusters))``.

    Returns
    -------
    ndarray of shape (n_clusters, n_features)
        Initial centres, in the dtype of ``X``.
    """
    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    centers[0] = X[random_state.randint(n_samples)]
    closest = sq_distances(X, centers[:1])[:, 0].astype(np.float64)
    for c in range(1, n_clusters):
        cumulative = np.cumsum(closest)
        potential = cumulative[-1]
        if not potential > 0:  # every sample coincides with a chosen centre
            centers[c] = X[random_state.randint(n_samples)]
            continue
        draws = random_state.uniform(size=n_local_trials) * potential
        candidates = np.minimum(np.searchsorted(cumulative, draws), n_samples - 1)
        del cumulative
        cand_pts = X[candidates]
        pots = np.zeros(n_local_trials)
        for start in range(0, n_samples, NUMPY_CHUNK):
            stop = min(start + NUMPY_CHUNK, n_samples)
            d2 = sq_distances(X[start:stop], cand_pts)
            pots += np.minimum(d2, closest[start:stop, None]).sum(axis=0)
        best = int(np.argmin(pots))
        centers[c] = cand_pts[best]
        np.minimum(closest, sq_distances(X, cand_pts[best : best + 1])[:, 0], out=closest)
    return centers


class _Run:
    """Outcome of one c-means run from one start."""

    def __init__(self, centers, norm, history, n_iter, converged, last):
        self.centers = centers
        self.norm = norm
        self.history = np.asarray(history)
        self.objective = float(history[-1])
        self.n_iter = n_iter
        self.converged = converged
        self.last = last


class BaseCMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """Common base of the c-means estimators (not public).

    Subclasses provide ``_fit_model`` (which sets the algorithm-specific fitted
    attributes) and, for non-Euclidean norms, ``_whiten_`` handling. ``transform`` returns
    distances, so the estimators are also transformers (as scikit-learn's ``KMeans``).
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
        random_state=None,
        backend="auto",
    ):
        self.n_clusters = n_clusters
        self.m = m
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.random_state = random_state
        self.backend = backend

    # ------------------------------------------------------------------ validation
    def __sklearn_tags__(self):
        """Declare that float32 input is kept as float32 by ``transform``."""
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate_X(self, X, reset):
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            order="C",
            ensure_2d=True,
            ensure_all_finite=True,
        )

    def _check_params(self, X):
        n_samples, n_features = X.shape
        c = self.n_clusters
        if not isinstance(c, numbers.Integral) or isinstance(c, bool) or c < 2:
            raise ValueError(f"n_clusters must be an integer >= 2, got n_clusters={c!r}.")
        if n_samples < c:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={c}.")
        if not isinstance(self.m, numbers.Real) or not np.isfinite(self.m) or self.m <= 1:
            raise ValueError(f"The fuzzifier m must be a finite number > 1, got m={self.m!r}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got max_iter={self.max_iter!r}.")
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got tol={self.tol!r}.")
        if not isinstance(self.n_init, numbers.Integral) or self.n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1, got n_init={self.n_init!r}.")
        if isinstance(self.init, str):
            if self.init not in _INIT_STRINGS:
                raise ValueError(
                    f"init must be 'k-means++', 'random' or an array of shape "
                    f"(n_clusters, n_features), got init={self.init!r}."
                )
        else:
            init = np.asarray(self.init, dtype=np.float64)
            if init.shape != (c, n_features):
                raise ValueError(
                    f"An init array must have shape (n_clusters, n_features) = "
                    f"({c}, {n_features}), got shape {init.shape}."
                )
            if not np.all(np.isfinite(init)):
                raise ValueError("The init array contains NaN or infinity.")
        return resolve_backend(self.backend)

    def _initial_centers(self, X, rng):
        if isinstance(self.init, str):
            if self.init == "random":
                idx = rng.choice(X.shape[0], self.n_clusters, replace=False)
                return X[idx].copy()
            return kmeans_plusplus_centers(X, self.n_clusters, rng)
        return np.array(self.init, dtype=X.dtype)

    def _n_starts(self):
        return self.n_init if isinstance(self.init, str) else 1

    # ------------------------------------------------------------------ iteration
    def _iterate(self, X, centers, norm, U, backend, *, eta=None, update):
        """Alternate memberships and centre (and norm) updates from ``centers``.

        ``norm`` is algorithm-specific state passed to ``update`` (the GK norm), or None.
        Stops when the largest membership change is <= ``tol`` or after ``max_iter``
        updates. ``history[0]`` is the objective of the memberships of the initial centres,
        ``history[t]`` the objective after update ``t``.
        """
        m = float(self.m)
        scatter = norm is not None
        whiten = None if norm is None else norm["whiten"]
        res = sweep(X, centers, m, U, whiten=whiten, eta=eta, scatter=scatter, backend=backend)
        history = [res.objective.sum()]
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - n_iter is reported
            centers, norm = update(centers, norm, res)
            whiten = None if norm is None else norm["whiten"]
            res = sweep(
                X,
                centers,
                m,
                U,
                whiten=whiten,
                eta=eta,
                compare=True,
                scatter=scatter,
                backend=backend,
            )
            history.append(res.objective.sum())
            if res.max_change <= self.tol:
                converged = True
                break
        return _Run(centers, norm, history, n_iter, converged, res)

    def _best_of_starts(self, X, rng, backend, *, norm_factory, update, stage=""):
        """Run ``n_starts`` starts drawn from one generator, keep the lowest objective."""
        n_starts = self._n_starts()
        U = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        U_best = None
        best = None
        n_unconverged = 0
        for _ in range(n_starts):
            centers = self._initial_centers(X, rng)
            run = self._iterate(X, centers, norm_factory(), U, backend, update=update)
            n_unconverged += not run.converged
            if best is None or run.objective < best.objective:
                best = run
                U, U_best = U_best, U
                if U is None and n_starts > 1:
                    U = np.empty_like(U_best)
        self._warn_unconverged(n_unconverged, n_starts, stage)
        return best, U_best

    def _warn_unconverged(self, n_unconverged, n_starts, stage="", stacklevel=5):
        if n_unconverged:
            warnings.warn(
                f"{type(self).__name__}{stage}: {n_unconverged} of {n_starts} run(s) reached "
                f"max_iter={self.max_iter} before the largest membership change fell to "
                f"tol={self.tol}; increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=stacklevel,  # the caller of fit
            )

    def _store(self, run, U):
        self.cluster_centers_ = run.centers
        self.memberships_ = U
        self.labels_ = np.argmax(U, axis=1).astype(np.intp)
        self.objective_ = run.objective
        self.objective_history_ = run.history
        self.n_iter_ = run.n_iter
        self.converged_ = run.converged

    @staticmethod
    def _update_centers(centers, res):
        """Weighted means ``v_i = sum_k u_ik^m x_k / sum_k u_ik^m`` (centred sums).

        A cluster whose weights all vanished keeps its centre.
        """
        new = centers.astype(np.float64, copy=True)
        ok = res.weight_sum > 0
        new[ok] += res.shift_sum[ok] / res.weight_sum[ok, None]
        return new.astype(centers.dtype), ok

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Fit the c-means model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples; float32 input is computed in float32, anything else in
            float64.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self
            The fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        backend = self._check_params(X)
        extra = self._check_extra_params(X)
        rng = check_random_state(self.random_state)
        self._fit_model(X, rng, backend, extra)
        return self

    def _check_extra_params(self, X):
        """Check algorithm-specific parameters; return what ``_fit_model`` needs."""
        return None

    # ------------------------------------------------------------------ prediction
    def _model_whiten(self):
        return None

    def _model_eta(self):
        return None

    def _backend(self):
        return resolve_backend(self.backend)

    def _new_memberships(self, X):
        U = np.empty((X.shape[0], self.cluster_centers_.shape[0]), dtype=X.dtype)
        res = sweep(
            X,
            self.cluster_centers_,
            float(self.m),
            U,
            whiten=self._model_whiten(),
            eta=self._model_eta(),
            accumulate=False,
            backend=self._backend(),
        )
        return U, res

    def predict_membership(self, X):
        """Memberships of new samples with the fitted centres (and norms).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New samples.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            Memberships (typicalities for :class:`Possibilistic`).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._new_memberships(X)[0]

    def predict_proba(self, X):
        """Memberships of new samples, rows summing to 1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New samples.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            Probabilistic memberships.
        """
        return self.predict_membership(X)

    def predict(self, X):
        """Index of the cluster of highest membership for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            New samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Cluster labels.
        """
        return np.argmax(self.predict_membership(X), axis=1).astype(np.intp)

    def transform(self, X):
        """Distances (not squared) of the samples to the centres, in the algorithm's norm.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_clusters)
            ``sqrt((x - v_i)^T A_i (x - v_i))`` with ``A_i`` the identity (Euclidean) or the
            Gustafson–Kessel norm matrix of cluster ``i``.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        d2 = sq_distances(X, self.cluster_centers_, self._model_whiten())
        return np.sqrt(d2, out=d2)

    def score(self, X, y=None):
        """Negative objective of the samples with the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : None
            Ignored.

        Returns
        -------
        float
            ``-J``, with ``J`` the algorithm's objective evaluated at the memberships of
            ``X`` (equal to ``-objective_`` for the training samples).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return -float(self._new_memberships(X)[1].objective.sum())
