"""The block-wise PCA data space equals scikit-learn's PCA on the same data."""

import dask.array as da
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

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


def test_numpy_and_dask_maps_agree(counts):
    a = features.pca_scores(counts, 3, "poisson")
    cube = da.from_array(counts.reshape(60, 100, 300), chunks=(25, 40, 300))
    b = features.pca_scores(cube, 3, "poisson")
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def test_cluster_sums_equal_matrix_products(counts):
    rng = np.random.default_rng(1)
    labels = rng.integers(-1, 3, size=len(counts))
    weights = rng.uniform(size=(len(counts), 3))
    hard, weighted = phases.cluster_sums(counts, labels, weights)
    X = counts.astype(float)
    np.testing.assert_allclose(hard, phases.one_hot(labels, 3).astype(float) @ X)
    np.testing.assert_allclose(weighted, weights.T @ X)
