"""Shared machinery of the c-means estimators: validation, initialisation, restarts, prediction.

A fit runs in named steps (:meth:`BaseCMeans.fit`):

1. draw the samples for the starts (all of them, or ``init_size`` drawn at random);
2. draw the initial centres of every start, in order, from the one generator;
3. run the starts to convergence, side by side in worker threads when ``n_jobs`` > 1
   (each start's passes run serially in its thread), and keep the lowest objective, the
   earliest start on ties; this is the same result whatever the number of threads;
4. if the starts ran on a subsample, refine the kept start on all samples, each pass
   spread over the threads by blocks of samples.

Ctrl-C during a fit raises ``KeyboardInterrupt`` and leaves the estimator as it was before
``fit`` (see :mod:`hyperspy_cmeans.cmeans._parallel`).
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import check_is_fitted, validate_data

from hyperspy_cmeans.cmeans._kernels import resolve_backend, sq_distances, sweep
from hyperspy_cmeans.cmeans._parallel import WorkerPool, resolve_n_jobs

_INIT_STRINGS = ("k-means++", "random")

#: ``init_size="auto"``: the starts use all samples up to this many, else this many drawn
#: at random (measured on 4-phase maps of 262k to 4M pixels: the refined best start is the
#: full-data best start, ARI 1.0; see benchmarks/RESULTS.md).
AUTO_INIT_SIZE = 50_000


class _Run:
    """Outcome of one c-means run from one start."""

    def __init__(self, centers, norm, history, n_iter, converged, last, U):
        self.centers = centers
        self.norm = norm
        self.history = np.asarray(history)
        self.objective = float(history[-1])
        self.n_iter = n_iter
        self.converged = converged
        self.last = last
        self.U = U


class _FitContext:
    """What the steps of one fit share: data, backend, worker pool, algorithm hooks."""

    def __init__(self, backend, pool, norm_factory, update, eta=None, exponential=False):
        self.backend = backend
        self.pool = pool
        self.norm_factory = norm_factory
        self.update = update
        self.eta = eta
        self.exponential = exponential


class BaseCMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """Common base of the c-means estimators (not public).

    Subclasses provide ``_fit_model`` (which sets the algorithm-specific fitted
    attributes) and, for non-Euclidean norms, ``_model_whiten``. ``transform`` returns
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
        init_size="auto",
        random_state=None,
        n_jobs=None,
        backend="auto",
    ):
        self.n_clusters = n_clusters
        self.m = m
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.init_size = init_size
        self.random_state = random_state
        self.n_jobs = n_jobs
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
        size = self.init_size
        if not (
            size is None
            or (isinstance(size, str) and size == "auto")
            or (isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= c)
        ):
            raise ValueError(
                f"init_size must be 'auto', None or an integer >= n_clusters={c}, got "
                f"init_size={size!r}."
            )
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
        resolve_n_jobs(self.n_jobs)
        return resolve_backend(self.backend)

    # ------------------------------------------------------------------ initialisation
    def _initial_centers(self, X, rng):
        if isinstance(self.init, str):
            if self.init == "random":
                idx = rng.choice(X.shape[0], self.n_clusters, replace=False)
                return X[idx].copy()
            # scikit-learn's greedy k-means++ (2 + log(c) local trials per centre).
            return kmeans_plusplus(X, self.n_clusters, random_state=rng)[0]
        return np.array(self.init, dtype=X.dtype)

    def _n_starts(self):
        return self.n_init if isinstance(self.init, str) else 1

    def _start_samples(self, X, rng):
        """Step 1: the samples the starts run on (a sorted random subset, or ``X``)."""
        n_samples = X.shape[0]
        size = AUTO_INIT_SIZE if self.init_size == "auto" else self.init_size
        if size is None or size >= n_samples or not isinstance(self.init, str):
            return X
        idx = np.sort(sample_without_replacement(n_samples, size, random_state=rng))
        return X[idx]

    # ------------------------------------------------------------------ iteration
    def _iterate(self, X, centers, norm, ctx, *, threaded, U=None):
        """Alternate memberships and centre (and norm) updates from ``centers``.

        ``norm`` is algorithm-specific state passed to ``ctx.update`` (the GK norm), or
        None. Stops when the largest membership change is <= ``tol`` or after
        ``max_iter`` updates. ``history[0]`` is the objective of the memberships of the
        initial centres, ``history[t]`` the objective after update ``t``. With
        ``threaded`` each pass is spread over the pool's threads (a run in the calling
        thread); otherwise this runs inside one worker (a start among others) and stops
        when the pool is cancelled.
        """
        m = float(self.m)
        scatter = norm is not None
        if U is None:
            U = np.empty((X.shape[0], self.n_clusters), dtype=X.dtype)
        kw = {
            "eta": ctx.eta,
            "exponential": ctx.exponential,
            "scatter": scatter,
            "backend": ctx.backend,
            "pool": ctx.pool if threaded else None,
        }
        whiten = None if norm is None else norm["whiten"]
        res = sweep(X, centers, m, U, whiten=whiten, **kw)
        history = [res.objective.sum()]
        converged = False
        n_iter = 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - n_iter is reported
            if not threaded:
                ctx.pool.check()
            centers, norm = ctx.update(centers, norm, res)
            whiten = None if norm is None else norm["whiten"]
            res = sweep(X, centers, m, U, whiten=whiten, compare=True, **kw)
            history.append(res.objective.sum())
            if res.max_change <= self.tol:
                converged = True
                break
        return _Run(centers, norm, history, n_iter, converged, res, U)

    def _best_of_starts(self, X, rng, ctx, stage=""):
        """Steps 2 and 3: draw every start, run them, keep the lowest objective."""
        inits = [self._initial_centers(X, rng) for _ in range(self._n_starts())]
        if len(inits) == 1:
            best = self._iterate(X, inits[0], ctx.norm_factory(), ctx, threaded=True)
            self._warn_unconverged(int(not best.converged), 1, stage)
            return best
        kept = {"run": None, "index": None, "unconverged": 0}

        def keep(index, run):  # lowest objective, earliest start on ties (NaN last)
            kept["unconverged"] += not run.converged
            key = (np.isnan(run.objective), run.objective, index)
            best = kept["run"]
            if best is None or key < (np.isnan(best.objective), best.objective, kept["index"]):
                kept["run"], kept["index"] = run, index

        tasks = [
            lambda c=c: self._iterate(X, c, ctx.norm_factory(), ctx, threaded=False) for c in inits
        ]
        ctx.pool.run(tasks, on_result=keep)
        self._warn_unconverged(kept["unconverged"], len(inits), stage)
        return kept["run"]

    def _fit_starts(self, X, rng, ctx, stage=""):
        """Steps 1 to 4: the best start, refined on all samples if it ran on a subset."""
        Xs = self._start_samples(X, rng)
        if Xs is X:
            return self._best_of_starts(X, rng, ctx, stage)
        sub = " (starts on init_size samples)" if not stage else stage + " on init_size samples"
        best = self._best_of_starts(Xs, rng, ctx, sub)
        run = self._iterate(X, best.centers, best.norm, ctx, threaded=True)
        self._warn_unconverged(int(not run.converged), 1, stage)
        return run

    def _warn_unconverged(self, n_unconverged, n_starts, stage=""):
        if n_unconverged:
            self._warn(
                f"{type(self).__name__}{stage}: {n_unconverged} of {n_starts} run(s) reached "
                f"max_iter={self.max_iter} before the largest membership change fell to "
                f"tol={self.tol}; increase max_iter or tol.",
                ConvergenceWarning,
            )

    def _warn(self, message, category):
        """Queue a warning; ``fit`` issues it (pointing at its caller) once it succeeded."""
        self._fit_warnings.append((message, category))

    def _euclidean_update(self, centers, norm, res):
        return self._update_centers(centers, res)[0], None

    def _store(self, run):
        self.cluster_centers_ = run.centers
        self.memberships_ = run.U
        self.labels_ = np.argmax(run.U, axis=1).astype(np.intp)
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

        If the fit is interrupted (Ctrl-C: ``KeyboardInterrupt``) or fails, the estimator
        is left as it was before the call.

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
        before = dict(self.__dict__)
        try:
            X = self._validate_X(X, reset=True)
            backend = self._check_params(X)
            extra = self._check_extra_params(X)
            rng = check_random_state(self.random_state)
            self._fit_warnings = []
            with WorkerPool(resolve_n_jobs(self.n_jobs)) as pool:
                self._fit_model(X, rng, backend, pool, extra)
            queued = self.__dict__.pop("_fit_warnings")
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        for message, category in queued:
            warnings.warn(message, category, stacklevel=2)
        return self

    def _check_extra_params(self, X):
        """Check algorithm-specific parameters; return what ``_fit_model`` needs."""
        return None

    # ------------------------------------------------------------------ prediction
    def _model_whiten(self):
        return None

    def _model_eta(self):
        return None

    def _model_exponential(self):
        return False

    def _backend(self):
        return resolve_backend(self.backend)

    def _new_memberships(self, X):
        U = np.empty((X.shape[0], self.cluster_centers_.shape[0]), dtype=X.dtype)
        with WorkerPool(resolve_n_jobs(self.n_jobs)) as pool:
            res = sweep(
                X,
                self.cluster_centers_,
                float(self.m),
                U,
                whiten=self._model_whiten(),
                eta=self._model_eta(),
                exponential=self._model_exponential(),
                accumulate=False,
                backend=self._backend(),
                pool=pool,
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
