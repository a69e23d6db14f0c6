"""One check per parameter shared by the signal methods and the array modules.

Each function validates one parameter and returns it in canonical form, or
raises a ``ValueError``/``TypeError`` whose message names the parameter, the
value given and what to give instead. No HyperSpy import: the array modules
use these checks too.
"""

import numbers

import numpy as np


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_n_clusters(n_clusters, n_samples=None):
    """An integer number of clusters >= 2 (and at most ``n_samples``).

    Parameters
    ----------
    n_clusters : int
        The number of clusters.
    n_samples : int, optional
        Number of samples (unmasked pixels) available.

    Returns
    -------
    int
        ``n_clusters``.

    Raises
    ------
    ValueError
        If it is not an integer >= 2, or larger than ``n_samples``.
    """
    if not _is_integer(n_clusters) or n_clusters < 2:
        raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}.")
    if n_samples is not None and n_clusters > n_samples:
        raise ValueError(
            f"n_clusters={n_clusters} is larger than the number of unmasked pixels "
            f"({n_samples}); use fewer clusters or mask fewer pixels."
        )
    return int(n_clusters)


def check_fuzzifier(m):
    """A finite fuzzifier ``m > 1``.

    Parameters
    ----------
    m : float
        The fuzzifier.

    Returns
    -------
    float
        ``m``.

    Raises
    ------
    ValueError
        If ``m`` is not a finite number > 1.
    """
    if isinstance(m, bool) or not isinstance(m, numbers.Real) or not np.isfinite(m) or m <= 1:
        raise ValueError(f"m (the fuzzifier) must be a finite number > 1, got {m!r}.")
    return float(m)


def check_threshold(threshold, name="threshold"):
    """A membership threshold in ``[0, 1)``.

    Parameters
    ----------
    threshold : float
        A pixel is assigned to its best cluster when its membership there
        exceeds this value; 0 means plain argmax.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    float
        ``threshold``.

    Raises
    ------
    ValueError
        If ``threshold`` is not a number in ``[0, 1)``.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0 <= threshold < 1
    ):
        raise ValueError(f"{name} must be a number in [0, 1), got {threshold!r}.")
    return float(threshold)


def check_preprocessing(preprocessing, allowed):
    """One of the supported channel preprocessings.

    Parameters
    ----------
    preprocessing : str
        The preprocessing name.
    allowed : tuple of str
        The supported names (``hyperspy_cmeans._features.PREPROCESSING``).

    Returns
    -------
    str
        ``preprocessing``.

    Raises
    ------
    ValueError
        If it is not one of ``allowed``.
    """
    if not isinstance(preprocessing, str) or preprocessing not in allowed:
        raise ValueError(f"preprocessing={preprocessing!r} is not supported; use one of {allowed}.")
    return preprocessing


def check_n_components(n_components, allow_none=False):
    """A positive integer number of components (or None where allowed).

    Parameters
    ----------
    n_components : int or None
        The number of data-space components.
    allow_none : bool
        Whether None (no projection) is allowed.

    Returns
    -------
    int or None
        ``n_components``.

    Raises
    ------
    ValueError
        If it is not a positive integer (or None where allowed).
    """
    if n_components is None and allow_none:
        return None
    if not _is_integer(n_components) or n_components < 1:
        what = "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"n_components must be {what}, got {n_components!r}.")
    return int(n_components)


def check_cluster_range(cluster_range):
    """Sorted distinct integers >= 2 from an iterable of cluster numbers.

    Parameters
    ----------
    cluster_range : iterable of int
        The numbers of clusters to try, e.g. ``range(2, 9)``.

    Returns
    -------
    list of int
        The sorted distinct numbers.

    Raises
    ------
    ValueError
        If the iterable is empty or holds anything but integers >= 2
        (``2.5`` is refused, not truncated).
    """
    try:
        values = list(cluster_range)
    except TypeError:
        raise ValueError(
            f"cluster_range must be an iterable of integers >= 2, got {cluster_range!r}."
        ) from None
    if not values or not all(_is_integer(v) and v >= 2 for v in values):
        raise ValueError(
            f"cluster_range must hold integers >= 2 (e.g. range(2, 9)), got {values!r}."
        )
    return sorted({int(v) for v in values})


def random_seed(random_state):
    """An integer seed that reproduces a run, from any ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        The seed or generator given by the user.

    Returns
    -------
    int or None
        ``random_state`` itself for None and integers; for a generator, an
        integer drawn from it, which is what the run then uses and records,
        so the stored parameters reproduce the run.

    Raises
    ------
    ValueError
        For anything else.
    """
    if random_state is None or _is_integer(random_state):
        return None if random_state is None else int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    raise ValueError(
        f"random_state must be None, an integer, a numpy RandomState or Generator, "
        f"got {random_state!r}."
    )


def check_positive_integer(value, name):
    """An integer >= 1.

    Parameters
    ----------
    value : int
        The value.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    ValueError
        If ``value`` is not an integer >= 1.
    """
    if not _is_integer(value) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)
