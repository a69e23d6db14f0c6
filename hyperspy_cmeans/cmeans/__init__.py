"""Fuzzy c-means engine: probabilistic, possibilistic and Gustafson–Kessel estimators.

Needs NumPy, SciPy, scikit-learn and numba (which compiles the pass over the samples; without
it a vectorised NumPy pass gives the same results 5-6x slower); nothing here imports
HyperSpy. The fits use every available core by default (``n_jobs``) and run their ``n_init``
starts on a random subsample, refining the best on all samples (``init_size``).

Estimators (scikit-learn API: ``fit``, ``predict``, ``predict_membership``,
``predict_proba``, ``transform``, ``score``):

- :class:`Probabilistic` — Bezdek's fuzzy c-means.
- :class:`Possibilistic` — Krishnapuram–Keller possibilistic c-means.
- :class:`GustafsonKessel` — fuzzy c-means with an adaptive per-cluster norm.

Validity indices (for choosing the number of clusters): :func:`partition_coefficient`,
:func:`partition_entropy`, :func:`xie_beni`, :func:`fukuyama_sugeno`,
:func:`fuzzy_silhouette`; :data:`VALIDITY_INDICES` maps each name to the function and to
``"max"`` or ``"min"`` (which direction is better), and :func:`best_n_clusters` picks
the best number from a set of scores.
"""

from hyperspy_cmeans.cmeans._gustafson_kessel import GustafsonKessel
from hyperspy_cmeans.cmeans._kernels import HAVE_NUMBA
from hyperspy_cmeans.cmeans._possibilistic import Possibilistic
from hyperspy_cmeans.cmeans._probabilistic import Probabilistic
from hyperspy_cmeans.cmeans._validity import (
    VALIDITY_INDICES,
    best_n_clusters,
    fukuyama_sugeno,
    fuzzy_silhouette,
    partition_coefficient,
    partition_entropy,
    xie_beni,
)

__all__ = [
    "HAVE_NUMBA",
    "VALIDITY_INDICES",
    "GustafsonKessel",
    "Possibilistic",
    "Probabilistic",
    "best_n_clusters",
    "fukuyama_sugeno",
    "fuzzy_silhouette",
    "partition_coefficient",
    "partition_entropy",
    "xie_beni",
]
