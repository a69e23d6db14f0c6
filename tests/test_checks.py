"""One check per parameter (hyperspy_cmeans._checks): accepted values come back canonical,
bad ones raise a message that names the parameter and the value."""

import numpy as np
import pytest

from hyperspy_cmeans import _checks


@pytest.mark.parametrize("value", [2, 7, np.int64(3)])
def test_n_clusters_accepted(value):
    assert _checks.check_n_clusters(value) == int(value)


@pytest.mark.parametrize("value", [1, 0, -2, 2.0, 2.5, True, "3", None])
def test_n_clusters_refused(value):
    with pytest.raises(ValueError, match=r"n_clusters must be an integer >= 2"):
        _checks.check_n_clusters(value)


def test_n_clusters_against_available_pixels():
    assert _checks.check_n_clusters(5, n_samples=5) == 5
    with pytest.raises(ValueError, match=r"n_clusters=6 is larger than .* \(5\)"):
        _checks.check_n_clusters(6, n_samples=5)


@pytest.mark.parametrize("value", [1.0, 0.5, np.inf, np.nan, True, "2"])
def test_fuzzifier_refused(value):
    with pytest.raises(ValueError, match="fuzzifier"):
        _checks.check_fuzzifier(value)


def test_fuzzifier_accepted():
    assert _checks.check_fuzzifier(1.5) == 1.5
    assert isinstance(_checks.check_fuzzifier(2), float)


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 0.999])
def test_threshold_accepted(value):
    assert _checks.check_threshold(value) == value


@pytest.mark.parametrize("value", [1, 1.0, -0.1, np.nan, True, None])
def test_threshold_refused_with_its_name(value):
    with pytest.raises(ValueError, match=r"assignment_threshold must be a number in \[0, 1\)"):
        _checks.check_threshold(value, "assignment_threshold")


def test_preprocessing():
    allowed = ("standard", "poisson")
    assert _checks.check_preprocessing("poisson", allowed) == "poisson"
    with pytest.raises(ValueError, match=r"preprocessing='whiten' is not supported"):
        _checks.check_preprocessing("whiten", allowed)


def test_n_components():
    assert _checks.check_n_components(3) == 3
    assert _checks.check_n_components(None, allow_none=True) is None
    for bad in (0, 2.5, None):
        with pytest.raises(ValueError, match="n_components must be a positive integer"):
            _checks.check_n_components(bad)


def test_cluster_range_refuses_non_integers_instead_of_truncating():
    assert _checks.check_cluster_range(range(2, 5)) == [2, 3, 4]
    assert _checks.check_cluster_range([5, 3, 3]) == [3, 5]
    for bad in ([2.5, 3], [1, 2], [], 7, ["3"]):
        with pytest.raises(ValueError, match="cluster_range"):
            _checks.check_cluster_range(bad)


def test_random_seed_is_an_integer_that_reproduces_the_run():
    assert _checks.random_seed(None) is None
    assert _checks.random_seed(np.int64(7)) == 7
    a = _checks.random_seed(np.random.RandomState(3))
    b = _checks.random_seed(np.random.RandomState(3))
    assert isinstance(a, int) and a == b
    assert isinstance(_checks.random_seed(np.random.default_rng(1)), int)
    with pytest.raises(ValueError, match="random_state must be"):
        _checks.random_seed("seed")


def test_positive_integer():
    assert _checks.check_positive_integer(4, "per_row") == 4
    with pytest.raises(ValueError, match="per_row must be an integer >= 1, got 0"):
        _checks.check_positive_integer(0, "per_row")
