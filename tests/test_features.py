"""The block-wise PCA data space equals scikit-learn's PCA on the same data."""

import dask.array as da
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler, scale

from hyperspy_cmeans import _features as features
from hyperspy_cmeans import _phases as phases


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.05, 4.0, size=(1, 300))
    X = rng.poisson(base, size=(6000, 300)).astype(np.uint16)
    X[:2500, 20:30] += rng.poisson(4.0, size=(2500, 10)).astype(np.uint16)
    X[1500:4000, 150:160] += rng.poisson(3.0, size=(2500, 10)).astype(np.uint16)
    X[:, 0] = 0  # a dead channel: zero variance
    return X


def _aligned(a, b):
    """Flip the columns of ``a`` to the signs of ``b``."""
    return a * np.sign(np.sum(a * b, axis=0))


@pytest.mark.parametrize("with_std", [True, False])
def test_equals_sklearn(counts, with_std, monkeypatch):
    monkeypatch.setattr(features, "MIN_BLOCK_PIXELS", 700)  # several blocks
    preprocessing = "standard" if with_std else "center"
    ours = features.pca_scores(counts, 3, preprocessing)
    Z = StandardScaler(with_std=with_std).fit_transform(counts.astype(float))
    pca = PCA(3, svd_solver="full").fit(Z)
    ref = pca.transform(Z)
    np.testing.assert_allclose(_aligned(ours.scores, ref), ref, atol=1e-4 * np.abs(ref).max())
    np.testing.assert_allclose(
        ours.explained_variance_ratio, pca.explained_variance_ratio_, rtol=1e-5
    )
    # the sign convention: the largest channel weight of each component is positive
    idx = np.argmax(np.abs(ours.components), axis=1)
    assert np.all(ours.components[np.arange(3), idx] > 0)


def test_snv_equals_sklearn(counts, monkeypatch):
    """``"snv"`` is the study's data space: ``scale(X, axis=1)`` then PCA."""
    monkeypatch.setattr(features, "MIN_BLOCK_PIXELS", 700)
    ours = features.pca_scores(counts, 3, "snv")
    Z = scale(counts.astype(float), axis=1)
    pca = PCA(3, svd_solver="full").fit(Z)
    ref = pca.transform(Z)
    np.testing.assert_allclose(_aligned(ours.scores, ref), ref, atol=1e-4 * np.abs(ref).max())
    np.testing.assert_allclose(
        ours.explained_variance_ratio, pca.explained_variance_ratio_, rtol=1e-4
    )


def _poisson_reference(X):
    """Keenan–Kotula weighted, centred data and its principal axes (NumPy)."""
    X = X.astype(float)
    a, b = X.sum(1), X.mean(0)
    row_w = np.where(a > 0, 1 / np.sqrt(np.where(a > 0, a, 1)), 0)
    col_w = np.where(b > 0, 1 / np.sqrt(np.where(b > 0, b, 1)), 0)
    W = X * row_w[:, None] * col_w[None, :]
    W -= W.mean(0)
    _, _, vt = np.linalg.svd(W, full_matrices=False)
    return W, vt[:3], a, col_w


def test_poisson_and_composition_equal_numpy(counts, monkeypatch):
    monkeypatch.setattr(features, "MIN_BLOCK_PIXELS", 700)
    W, axes, a, col_w = _poisson_reference(counts)
    ref = W @ axes.T
    ours = features.pca_scores(counts, 3, "poisson")
    np.testing.assert_allclose(_aligned(ours.scores, ref), ref, atol=1e-4 * np.abs(ref).max())
    # "composition": the same axes, pixels projected as spectrum / expected total (times the
    # mean total); the expected total shrinks each total towards the mean by its Poisson
    # noise (empirical Bayes), unless it lies far outside it
    m, v = a.mean(), a.var()
    w = np.maximum(max(v - m, 0) / v, np.clip(1 - m / (a - m) ** 2, 0, 1))
    expected = m + w * (a - m)
    comp = (counts / expected[:, None] * m * col_w[None, :]) @ axes.T
    comp -= comp.mean(0)
    ours = features.pca_scores(counts, 3, "composition")
    np.testing.assert_allclose(_aligned(ours.scores, comp), comp, atol=1e-4 * np.abs(comp).max())


def test_composition_scores_do_not_depend_on_pixel_intensity(counts):
    """Pixels made 3x brighter keep their "composition" scores, not their "poisson" ones."""
    brighter = counts.astype(float)
    rows = np.arange(0, 6000, 600)  # 10 of 6000 pixels: the axes barely move
    brighter[rows] *= 3
    for preprocessing, moved in (("composition", False), ("poisson", True)):
        before = features.pca_scores(counts, 2, preprocessing).scores
        after = features.pca_scores(brighter, 2, preprocessing).scores
        after = _aligned(after, before)
        change = np.abs(after[rows] - before[rows]).max() / np.abs(before).max()
        # composition: only the mean total and the axes move a little
        assert (change > 0.2) if moved else (change < 0.03), (preprocessing, change)


@pytest.mark.parametrize("preprocessing", ["poisson", "composition", "snv"])
def test_numpy_and_dask_maps_agree(counts, preprocessing):
    a = features.pca_scores(counts, 3, preprocessing)
    cube = da.from_array(counts.reshape(60, 100, 300), chunks=(25, 40, 300))
    b = features.pca_scores(cube, 3, preprocessing)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6 * np.abs(a.scores).max())


@pytest.mark.parametrize("preprocessing", ["poisson", "composition", "snv"])
def test_masked_dask_pixels_equal_numpy_subset(counts, preprocessing):
    keep = np.ones((60, 100), dtype=bool)
    keep[10:20, 30:70] = False
    cube = counts.reshape(60, 100, 300).astype(float)
    cube[~keep] = np.nan  # masked pixels may hold NaN
    b = features.pca_scores(da.from_array(cube, chunks=(25, 40, 300)), 3, preprocessing, keep=keep)
    a = features.pca_scores(counts[keep.ravel()], 3, preprocessing)
    # float32 moments over differently composed blocks
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5 * np.abs(a.scores).max())


@pytest.mark.parametrize("preprocessing", features.PREPROCESSING)
def test_denoised_map_with_empty_and_negative_values_gives_finite_scores(counts, preprocessing):
    """A reconstructed map: small negative values, empty pixels and channels, a negative channel."""
    rng = np.random.default_rng(2)
    X = counts.astype(np.float32) + rng.normal(0, 0.3, size=counts.shape).astype(np.float32)
    X[:5] = 0  # pixels without counts
    X[5] = -0.01  # a pixel with a negative total
    X[:, 1] = 0  # an empty channel
    X[:, 2] = -0.02  # a channel with a negative mean
    space = features.pca_scores(X, 3, preprocessing)
    assert np.all(np.isfinite(space.scores)) and np.all(np.isfinite(space.components))
    assert np.all(np.isfinite(space.explained_variance_ratio))
    if preprocessing == "composition":
        np.testing.assert_array_equal(space.scores[:6], 0.0)  # no counts: at the mean composition


def test_cluster_sums_equal_matrix_products(counts):
    rng = np.random.default_rng(1)
    labels = rng.integers(-1, 3, size=len(counts))
    weights = rng.uniform(size=(len(counts), 3))
    hard, weighted = phases.cluster_sums(counts, labels, weights)
    X = counts.astype(float)
    np.testing.assert_allclose(hard, phases.one_hot(labels, 3).astype(float) @ X)
    np.testing.assert_allclose(weighted, weights.T @ X)
