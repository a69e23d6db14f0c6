"""Counting statistics of the count-weighted data spaces (hyperspy_cmeans._counts)."""

import numpy as np
import pytest

from hyperspy_cmeans import _counts as counts


def test_expected_totals_shrink_poisson_noise_but_keep_real_brightness():
    rng = np.random.default_rng(0)
    noise_only = rng.poisson(5.0, size=20000).astype(float) + 0.0
    noise_only = noise_only[noise_only > 0]
    est = counts.expected_totals(noise_only)
    # counts that are all noise: shrunk most of the way to the mean
    assert np.std(est) < 0.6 * np.std(noise_only)
    within = np.abs(noise_only - noise_only.mean()) < np.sqrt(noise_only.mean())
    np.testing.assert_allclose(est[within], noise_only.mean(), atol=0.1)
    bright = rng.poisson(rng.uniform(100, 1000, size=20000)).astype(float)
    est = counts.expected_totals(bright)
    # brightness varying far more than the counts: each pixel keeps its own total
    np.testing.assert_allclose(est, bright, rtol=0.05)
    # an outlier far outside the Poisson noise keeps its own total
    mixed = np.r_[noise_only, 80.0]
    assert counts.expected_totals(mixed)[-1] == pytest.approx(80.0, rel=0.01)


@pytest.mark.parametrize(("cpp", "side"), [(5, 4), (20, 2), (79, 2), (80, 1), (400, 1), (0, 1)])
def test_count_aware_bin_side(cpp, side):
    assert counts.count_aware_bin_side(cpp) == side


def test_binned_rows_sum_squares_of_neighbours_and_weight_them():
    raw = np.arange(5 * 4 * 3, dtype=np.float32).reshape(5, 4, 3) + 1
    keep = np.ones((5, 4), bool)
    keep[0, 0] = False
    raw[0, 0] = 0
    col_w = np.array([1.0, 0.5, 2.0])
    rows, used = counts.binned_weighted_rows(raw, keep, col_w, 2)
    assert rows.shape == (3 * 2, 3) and used.all()
    expected = raw[2:4, 0:2].reshape(-1, 3).sum(0)  # the bin at (1, 0)
    weight = 1 / np.sqrt(expected.sum())
    np.testing.assert_allclose(rows[2], expected * weight * col_w, rtol=1e-6)
    # a line scan bins side**2 pixels
    rows, used = counts.binned_weighted_rows(raw[:, 0], keep[:, 0], col_w, 2)
    assert rows.shape == (2, 3)


def test_score_noise_covariance_matches_poisson_draws():
    rng = np.random.default_rng(1)
    lam = rng.uniform(0.5, 5.0, size=40)
    W = rng.normal(size=(40, 3))
    draws = rng.poisson(lam, size=(200000, 40)) @ W
    predicted = counts.score_noise_covariance(W, lam)
    np.testing.assert_allclose(np.cov(draws.T), predicted, rtol=0.03, atol=0.03 * predicted.max())


def test_check_counts():
    counts.check_counts("poisson", 0.0, 10.0)
    counts.check_counts("poisson", 0.1, 10.0)  # a denoised map's residuals
    with pytest.raises(ValueError, match="not counts"):
        counts.check_counts("composition", 10.0, 0.0)
    with pytest.raises(ValueError, match="no counts"):
        counts.check_counts("poisson", 0.0, 0.0)
