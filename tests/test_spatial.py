"""Spatially regularised data spaces for low-dose maps (issue 13), and the grain layout.

Outcome tests: phase maps of synthetic grain maps and of Poisson draws of the study's map
at low doses, sharp interfaces and one-pixel rims kept at high counts, masks, 1-D and 3-D
navigation, exact equality of the block-wise (dask) and in-memory results, masking of
pixels without counts and the noise guard.
"""

import warnings
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans import _spatial as spatial
from hyperspy_cmeans._features import pca_scores
from hyperspy_cmeans.cmeans import GustafsonKessel, Possibilistic, Probabilistic
from hyperspy_cmeans.data import _synthetic as synthetic
from hyperspy_cmeans.data import default_phases, ground_truth, synthetic_eds_map
from hyperspy_cmeans.evaluation import match_clusters, membership_rmse

QV120 = Path(synthetic.__file__).resolve().parent / "qv120"  # shipped with the package

# ----------------------------------------------------------------------------- helpers


def _noise(X, space):
    """Poisson noise covariance of the scores of ``pca_scores(X, ..)`` (mean over pixels)."""
    W = space.components.T / space.scale[:, None]
    if space.preprocessing == "poisson":
        totals, mean = X.sum(1), X.mean(0)
        W = W * np.where(mean > 0, 1 / np.sqrt(np.where(mean > 0, mean, 1)), 0)[:, None]
        r2 = np.where(totals > 0, 1 / np.where(totals > 0, totals, 1), 0)
        return spatial.poisson_noise_covariance(W, (X * r2[:, None]).mean(0))
    return spatial.poisson_noise_covariance(W, X.mean(0))


def _count_aware_scores(X, shape, dose, n_components=3):
    """Keenan-Kotula scores on principal axes estimated from k x k binned spectra.

    A prototype of the count-aware data space proposed for ``_features`` (k from the dose,
    about 80 counts per bin; k = 1 above 80 counts per pixel): at 5 counts per pixel the
    axes of single pixels are dominated by rare-channel noise.
    """
    ny, nx = shape
    k = max(1, int(np.ceil(np.sqrt(80.0 / dose))))
    cy, cx = ny // k * k, nx // k * k
    cube = X.reshape(ny, nx, -1)[:cy, :cx]
    binned = cube.reshape(cy // k, k, cx // k, k, -1).sum((1, 3)).reshape(-1, X.shape[1])
    components = pca_scores(binned, n_components, "poisson").components
    totals, mean = X.sum(1), X.mean(0)
    r = np.where(totals > 0, 1 / np.sqrt(np.where(totals > 0, totals, 1)), 0)
    W = components.T * np.where(mean > 0, 1 / np.sqrt(np.where(mean > 0, mean, 1)), 0)[:, None]
    Y = r[:, None] * (X @ W)
    noise = spatial.poisson_noise_covariance(W, (X * (r**2)[:, None]).mean(0))
    return Y - Y[totals > 0].mean(0), noise


def _standard_space(X):
    space = pca_scores(X, 3, "standard")
    return space.scores, _noise(X, space)


def _gk(features, n_clusters=4):
    return GustafsonKessel(n_clusters=n_clusters, random_state=0).fit(features).memberships_


def _ari(memberships, fractions):
    """Adjusted Rand index of the largest-membership labels against the dominant phase."""
    ok = np.all(np.isfinite(memberships), axis=1)
    labels = np.where(ok, np.argmax(np.nan_to_num(memberships, nan=-1), axis=1), -1)
    return adjusted_rand_score(np.argmax(fractions, axis=1), labels)


def _grain_map(dose, shape=(128, 128), width=2.0, seed=0):
    s = synthetic_eds_map(
        shape=shape,
        layout="grains",
        interface_width=width,
        counts_per_pixel=dose,
        random_state=seed,
    )
    X = s.data.reshape(-1, s.data.shape[-1]).astype(float)
    return X, ground_truth(s).fractions.reshape(len(ground_truth(s).phase_names), -1).T


@pytest.fixture(scope="module")
def grain_maps():
    return {dose: _grain_map(dose) for dose in (5, 20, 50, 200)}


@pytest.fixture(scope="module")
def grain_spaces(grain_maps):
    """Keenan-Kotula PCA scores of the grain maps and their Poisson noise covariance."""
    out = {}
    for dose, (X, _) in grain_maps.items():
        space = pca_scores(X, 3, "poisson")
        out[dose] = (space.scores, _noise(X, space))
    return out


# ----------------------------------------------------------------------------- layout


def test_grain_layout_has_grains_of_several_sizes_rims_and_inclusions():
    from scipy import ndimage

    labels = synthetic._grain_labels(200, 200, 4, 0)
    assert set(np.unique(labels)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(labels, synthetic._grain_labels(200, 200, 4, 0))
    assert not np.array_equal(labels, synthetic._grain_labels(200, 200, 4, 1))
    sizes = []
    for k in range(4):
        regions, n = ndimage.label(labels == k)
        sizes += list(np.bincount(regions.ravel())[1:])
    sizes = np.array(sizes)
    assert (sizes <= 25).sum() >= 10  # inclusions
    assert ((sizes > 60) & (sizes < 400)).sum() >= 5  # small grains
    assert (sizes > 1500).sum() >= 3  # large grains
    # rims of phase 1 one pixel wide: phase-1 pixels between phase 0 and another phase
    rim = labels == 1
    across = (np.roll(labels, 1, 1) == 0) & np.isin(np.roll(labels, -1, 1), (2, 3))
    assert (rim & across).sum() >= 20
    # a 3 x 3 opening removes thin or small structures: they exist and are a minority
    thin = np.zeros(labels.shape, bool)
    for k in range(4):
        m = labels == k
        thin |= m & ~ndimage.binary_opening(m, structure=np.ones((3, 3)))
    assert 0.005 < thin.mean() < 0.05


def test_grain_layout_in_synthetic_maps():
    sharp = synthetic_eds_map(
        shape=(48, 40), layout="grains", interface_width=0, counts_per_pixel=5
    )
    truth = ground_truth(sharp)
    np.testing.assert_array_equal(truth.dominant_phase, synthetic._grain_labels(48, 40, 4, 0))
    assert set(np.unique(truth.fractions)) == {0.0, 1.0}
    assert sharp.metadata.Synthetic.layout == "grains"
    assert sharp.metadata.Synthetic.layout_seed == 0
    soft = ground_truth(synthetic_eds_map(shape=(48, 40), layout="grains", interface_width=2.0))
    np.testing.assert_allclose(soft.fractions.sum(0), 1.0)
    assert 0.1 < (soft.fractions.max(0) < 0.9).mean() < 0.5
    other = ground_truth(synthetic_eds_map(shape=(48, 40), layout="grains", layout_seed=3))
    assert not np.array_equal(other.dominant_phase, soft.dominant_phase)
    # the default layout is unchanged
    default = ground_truth(synthetic_eds_map(shape=(48, 40))).fractions
    np.testing.assert_array_equal(default, synthetic._true_fractions(48, 40, 4, 5.0))


@pytest.mark.parametrize("kwargs", [{"layout": "blobs"}, {"layout_seed": -1}, {"layout_seed": 1.5}])
def test_grain_layout_invalid_arguments(kwargs):
    with pytest.raises(ValueError, match="layout"):
        synthetic_eds_map(shape=(8, 8), **kwargs)


# ----------------------------------------------------------------------------- strength


def test_equivalent_pixels_and_bandwidths():
    assert spatial.equivalent_pixels(1.0, (1.0, 1.0)) == 1.0
    assert spatial.bandwidth_for(1.0, (1.0, 1.0)) == 0.0
    for n in (2.0, 5.0, 12.0, 40.0):
        h = spatial.bandwidth_for(n, (1.0, 1.0))
        assert spatial.equivalent_pixels(h, (1.0, 1.0)) == pytest.approx(n, rel=1e-6)
    # a line averages fewer pixels than a map, a stack more
    assert spatial.equivalent_pixels(3.0, (1.0,)) < spatial.equivalent_pixels(3.0, (1.0, 1.0))
    assert spatial.equivalent_pixels(3.0, (1.0, 1.0, 1.0)) > spatial.equivalent_pixels(
        3.0, (1.0, 1.0)
    )
    # sections 10 pixels apart are not neighbours at this bandwidth
    assert spatial.equivalent_pixels(3.0, (10.0, 1.0, 1.0)) == pytest.approx(
        spatial.equivalent_pixels(3.0, (1.0, 1.0))
    )


def test_automatic_strength_follows_the_dose(grain_spaces):
    bandwidths = []
    for dose in (5, 20, 50, 200):
        scores, noise = grain_spaces[dose]
        _, info = spatial.regularise_features(scores, (128, 128), noise=noise)
        bandwidths.append(info["bandwidth"])
        if dose >= 20:  # at 5 counts per pixel the axes follow single rare counts
            # Keenan-Kotula scores: the noise variance per component is 1 / counts per pixel
            np.testing.assert_allclose(np.diag(info["noise_covariance"]), 1 / dose, rtol=0.05)
    assert bandwidths[0] > bandwidths[1] > bandwidths[2] > 1.0
    assert bandwidths[3] == 0.0  # a high-count map is not smoothed


def test_strength_options():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(30, 40, 3))
    out, info = spatial.regularise_scores(z, noise=1.0, strength=2.5)
    assert info["bandwidth"] == 2.5 and info["strength"] == 2.5
    assert info["method"] == "adaptive_weights_smoothing"
    assert np.var(out) < 0.2 * np.var(z)  # pure noise: everything averaged
    for off in (0, None):
        same, info = spatial.regularise_scores(z, noise=1.0, strength=off)
        np.testing.assert_array_equal(same, z)
        assert info["method"] == "none" and info["bandwidths"] == []
    for bad in ("strong", -1, True, 1e3):
        with pytest.raises(ValueError, match="strength"):
            spatial.regularise_scores(z, noise=1.0, strength=bad)
    with pytest.raises(ValueError, match="noise"):
        spatial.regularise_scores(z, noise=np.ones((2, 2)))
    with pytest.raises(ValueError, match="mask"):
        spatial.regularise_scores(z, mask=np.zeros(7, bool), noise=1.0)


# ----------------------------------------------------------------------------- outcomes


@pytest.mark.parametrize("dose, plain_max, auto_min", [(20, 0.85, 0.90), (50, 0.97, 0.95)])
def test_grain_maps_with_todays_data_space(grain_maps, grain_spaces, dose, plain_max, auto_min):
    fractions = grain_maps[dose][1]
    scores, noise = grain_spaces[dose]
    regularised, _ = spatial.regularise_features(scores, (128, 128), noise=noise)
    plain = _ari(_gk(scores), fractions)
    auto = _ari(_gk(regularised), fractions)
    assert plain < plain_max
    assert auto >= auto_min
    assert auto > plain + 0.005


def test_grain_map_at_5_counts_per_pixel_with_count_aware_axes(grain_maps):
    X, fractions = grain_maps[5]
    z, noise = _count_aware_scores(X, (128, 128), 5)
    keep = X.sum(1) > 0
    regularised, info = spatial.regularise_features(z[keep], (128, 128), ~keep, noise=noise)
    u = np.full((len(X), 4), np.nan)
    u[keep] = _gk(regularised)
    u_plain = np.full((len(X), 4), np.nan)
    u_plain[keep] = _gk(z[keep])
    assert info["equivalent_pixels"] > 20
    assert _ari(u_plain, fractions) < 0.45
    assert _ari(u, fractions) >= 0.80
    assert membership_rmse(u, fractions) < 0.13


def test_high_counts_are_not_regularised(grain_maps, grain_spaces):
    X, fractions = grain_maps[200]
    scores, noise = grain_spaces[200]
    for scores, noise in (grain_spaces[200], _standard_space(X)):
        out, info = spatial.regularise_features(scores, (128, 128), noise=noise)
        assert info["bandwidth"] == 0.0 and info["snr"] > spatial.SNR_TARGET
        np.testing.assert_array_equal(out, scores)
    assert _ari(_gk(out), fractions) >= 0.99


@pytest.mark.parametrize("algorithm", [Probabilistic, Possibilistic])
def test_other_algorithms_gain_too(grain_maps, grain_spaces, algorithm):
    fractions = grain_maps[20][1]
    scores, noise = grain_spaces[20]
    regularised, _ = spatial.regularise_features(scores, (128, 128), noise=noise)
    kwargs = {"m": 1.5} if algorithm is Possibilistic else {}
    plain = algorithm(n_clusters=4, random_state=0, **kwargs).fit(scores).memberships_
    auto = algorithm(n_clusters=4, random_state=0, **kwargs).fit(regularised).memberships_
    assert _ari(auto, fractions) > _ari(plain, fractions) + 0.05
    assert _ari(auto, fractions) >= 0.88


def test_sharp_interfaces_and_one_pixel_rims_survive_a_strong_setting():
    """Rutile | a 1-pixel rim of titanite | chlorite, sharp interfaces, 200 counts per pixel:
    a fixed strength of 3 pixels (about 24 equivalent pixels) leaves every pixel's phase
    as it is, where an isotropic average (the Gaussian of the issue) erases the rim."""
    from scipy import ndimage

    phases = default_phases()
    pure = [
        synthetic_eds_map(
            shape=(40, 40), phases={name: phases[name]}, counts_per_pixel=200, random_state=seed
        ).data
        for seed, name in enumerate(("rutile", "titanite", "chlorite"))
    ]
    truth = np.zeros((40, 40), dtype=int)
    truth[:, 20] = 1
    truth[:, 21:] = 2
    data = np.choose(truth[..., None], pure)
    X = data.reshape(-1, data.shape[-1]).astype(float)
    space = pca_scores(X, 3, "poisson")
    out, info = spatial.regularise_features(
        space.scores, (40, 40), noise=_noise(X, space), strength=3
    )
    assert info["equivalent_pixels"] > 20
    labels = np.argmax(_gk(out, 3), axis=1)
    assert adjusted_rand_score(truth.ravel(), labels) == 1.0
    # the scores of the rim and of its neighbours are still those of their phases
    for k in range(3):
        raw = space.scores[truth.ravel() == k]
        smooth = out[truth.ravel() == k]
        assert np.abs(smooth.mean(0) - raw.mean(0)).max() < 0.1 * raw.std(0).max() + 1e-3
        assert smooth.std(0).max() < raw.std(0).max()
    blurred = np.stack(
        [ndimage.gaussian_filter(c.reshape(40, 40), 1.0).ravel() for c in space.scores.T], 1
    )
    assert adjusted_rand_score(truth.ravel(), np.argmax(_gk(blurred, 3), axis=1)) < 0.99


# ----------------------------------------------------------------------------- the study's map


@pytest.fixture(scope="module")
def qv_reconstruction():
    """The study's map in counts per channel: the 15-component reconstruction, clipped at 0."""
    if not (QV120 / "pca15_results.npz").exists():
        pytest.skip("the study's data are not available")
    with np.load(QV120 / "pca15_results.npz", allow_pickle=False) as npz:
        recon = npz["loadings"].astype(float) @ npz["factors"].astype(float).T
    return np.clip(recon, 0, None)


def _qv_counts(recon, dose, seed=0):
    """Poisson counts drawn from the study's map scaled to ``dose`` counts per pixel."""
    lam = recon * (dose / recon.sum(1).mean())
    return np.random.default_rng([seed, dose]).poisson(lam).astype(float)


@pytest.fixture(scope="module")
def published():
    if not (QV120 / "published_data_space.csv.gz").exists():
        pytest.skip("the study's data are not available")
    space = np.loadtxt(QV120 / "published_data_space.csv.gz", delimiter=",", skiprows=1)
    return space, _gk(space)  # reproduces published_cmeans_4.tiff (README)


def test_published_data_space_is_reproduced_with_the_automatic_strength(published):
    """No regression at high counts: the study's own data space (336 counts per pixel, noise
    estimated from neighbouring pixels) is not smoothed, so GK reproduces its result."""
    space, reference = published
    out, info = spatial.regularise_features(space, (156, 152))
    assert info["noise_source"] == "neighbour_differences"
    assert info["bandwidth"] == 0.0 and info["snr"] > spatial.SNR_TARGET
    u = _gk(out)
    assert _ari(u, reference) > 0.999
    assert membership_rmse(u, reference) < 0.001


@pytest.mark.parametrize("dose, target", [(20, 0.80), (50, 0.85)])
def test_study_map_poisson_draws_against_published_memberships(
    published, qv_reconstruction, dose, target
):
    _, reference = published
    X = _qv_counts(qv_reconstruction, dose)
    space = pca_scores(X, 3, "poisson")
    out, _ = spatial.regularise_features(space.scores, (156, 152), noise=_noise(X, space))
    plain, auto = _gk(space.scores), _gk(out)
    assert _ari(auto, reference) >= target
    assert _ari(auto, reference) > _ari(plain, reference) + 0.05
    assert membership_rmse(auto, reference, match_clusters(auto, reference)) < 0.10


def test_study_map_at_5_counts_per_pixel(published, qv_reconstruction):
    _, reference = published
    X = _qv_counts(qv_reconstruction, 5)
    z, noise = _count_aware_scores(X, (156, 152), 5)
    keep = X.sum(1) > 0
    out, _ = spatial.regularise_features(z[keep], (156, 152), ~keep, noise=noise)
    u = np.full((len(X), 4), np.nan)
    u[keep] = _gk(out)
    assert _ari(u, reference) >= 0.75  # target 0.50


# ----------------------------------------------------------------------------- geometry


def test_masked_pixels_are_nobodys_neighbours():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(40, 50, 3))
    z[:, 25:] += 3.0
    mask = np.zeros((40, 50), bool)
    mask[10:30, 10:20] = True
    out, _ = spatial.regularise_scores(z, mask, noise=1.0, strength=3)
    assert np.all(np.isnan(out[mask])) and np.all(np.isfinite(out[~mask]))
    changed = z.copy()
    changed[mask] = 1e6  # garbage (or NaN) under the mask changes nothing
    again, _ = spatial.regularise_scores(changed, mask, noise=1.0, strength=3)
    np.testing.assert_array_equal(again, out)
    changed[mask] = np.nan
    again, _ = spatial.regularise_scores(changed, None, noise=1.0, strength=3)
    np.testing.assert_array_equal(again, out)
    # a masked column cuts the map in two: the left half ignores the right one
    cut = np.zeros((40, 50), bool)
    cut[:, 24] = True
    left, _ = spatial.regularise_scores(z[:, :24], noise=1.0, strength=3)
    both, _ = spatial.regularise_scores(z, cut, noise=1.0, strength=3)
    np.testing.assert_array_equal(both[:, :24], left)


def test_line_scan():
    rng = np.random.default_rng(2)
    truth = (np.arange(400) % 100 >= 50).astype(float)
    z = truth[:, None] * [1.0, 0.5] + rng.normal(scale=0.7, size=(400, 2))
    out, info = spatial.regularise_scores(z, noise=0.49)
    assert info["bandwidth"] > 1.0
    err_before = np.mean((z[:, 0] > 0.5) != truth)
    err_after = np.mean((out[:, 0] > 0.5) != truth)
    assert err_after < 0.3 * err_before


def test_serial_sections_use_neighbours_in_z():
    """3-D navigation: identical sections help each other; sections farther apart than the
    bandwidth (spacing) are independent."""
    rng = np.random.default_rng(3)
    phase = np.zeros((30, 30))
    phase[:, 15:] = 1
    stack = np.broadcast_to(phase, (6, 30, 30))
    z = stack[..., None] * [1.0, 0.0, 0.5] + rng.normal(scale=0.8, size=(6, 30, 30, 3))
    out3, info3 = spatial.regularise_scores(z, noise=0.64, strength=2.0)
    per_slice = np.stack([spatial.regularise_scores(s, noise=0.64, strength=2.0)[0] for s in z])
    far, _ = spatial.regularise_scores(z, noise=0.64, strength=2.0, spacing=(10.0, 1.0, 1.0))
    np.testing.assert_array_equal(far, per_slice)
    err3 = np.mean((out3[..., 0] > 0.5) != stack)
    err2 = np.mean((per_slice[..., 0] > 0.5) != stack)
    assert err3 < 0.6 * err2
    assert info3["equivalent_pixels"] > spatial.equivalent_pixels(2.0, (1.0, 1.0))


@pytest.mark.parametrize("noise", ["given", None])
@pytest.mark.parametrize("shape, chunks", [((90, 70), (32, 25)), ((5, 40, 36), (2, 16, 20))])
def test_lazy_equals_eager_across_chunk_borders(noise, shape, chunks):
    rng = np.random.default_rng(4)
    z = rng.normal(size=shape + (3,))
    z[..., : shape[-1] // 2, 0] += 1.5  # an interface
    mask = rng.uniform(size=shape) < 0.05
    noise = 1.0 if noise == "given" else None
    eager, info = spatial.regularise_scores(z, mask, noise=noise)
    assert info["bandwidth"] > 2  # context of several pixels on every side
    lazy, lazy_info = spatial.regularise_scores_dask(
        da.from_array(z, chunks=chunks + (3,)), da.from_array(mask, chunks=chunks), noise=noise
    )
    assert lazy.chunks[:-1] == da.from_array(mask, chunks=chunks).chunks
    np.testing.assert_array_equal(lazy.compute(), eager)
    assert lazy_info["bandwidths"] == info["bandwidths"]


# ----------------------------------------------------------------------------- noise


def test_poisson_noise_covariance_matches_a_uniform_map():
    """On a map of one phase, scores on fixed axes (those of a four-phase map) vary by noise
    only: their covariance is the Poisson noise covariance. The robust estimate from
    neighbouring pixels is close to it, lower for the heavy-tailed Keenan-Kotula scores of
    a low dose (trimming is conservative: less smoothing)."""
    X = synthetic_eds_map(
        shape=(64, 64), phases={"q": {"Si": 0.47, "O": 0.53}}, counts_per_pixel=30
    ).data.reshape(-1, 1024)
    X = X.astype(float)
    other = synthetic_eds_map(shape=(48, 48), counts_per_pixel=200).data.reshape(-1, 1024)
    totals, mean = X.sum(1), X.mean(0)
    for kk, low in ((True, 0.65), (False, 0.95)):
        axes = pca_scores(other.astype(float), 3, "poisson" if kk else "center").components
        r = 1 / np.sqrt(totals) if kk else np.ones(len(X))
        inv_sqrt_mean = np.where(mean > 0, 1 / np.sqrt(np.where(mean > 0, mean, 1)), 0)
        W = axes.T * inv_sqrt_mean[:, None] if kk else axes.T
        z = r[:, None] * (X @ W)
        noise = spatial.poisson_noise_covariance(W, (X * (r**2)[:, None]).mean(0))
        np.testing.assert_allclose(np.cov(z.T), noise, atol=0.05 * np.trace(noise) / 3)
        empirical = spatial.empirical_noise_covariance(z.reshape(64, 64, 3))
        assert low < np.trace(empirical) / np.trace(noise) < 1.05


def test_empty_pixels_are_masked_with_a_warning():
    totals = np.array([[3, 0, 5], [0, 7, 1]], dtype=float)
    given = np.array([[False, True, False], [False, False, False]])
    with pytest.warns(UserWarning, match="1 pixel"):
        mask, n = spatial.empty_pixel_mask(totals, given)
    assert n == 1
    np.testing.assert_array_equal(mask, totals == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask, n = spatial.empty_pixel_mask(np.ones(4))
    assert n == 0 and not mask.any()


def test_empty_pixels_of_a_5_count_map_are_masked_not_clustered(grain_maps):
    X, fractions = grain_maps[5]
    totals = X.sum(1)
    with pytest.warns(UserWarning, match="no counts"):
        mask, n_empty = spatial.empty_pixel_mask(totals)
    assert n_empty == (totals == 0).sum() > 50  # exp(-5) of the pixels
    z, noise = _count_aware_scores(X, (128, 128), 5)
    out, _ = spatial.regularise_features(z[~mask], (128, 128), mask, noise=noise)
    assert out.shape == (len(X) - n_empty, 3) and np.all(np.isfinite(out))


# ----------------------------------------------------------------------------- noise guard


def test_noise_guard_fires_on_pure_noise_and_is_silent_on_phases(grain_spaces):
    pure = synthetic_eds_map(
        shape=(80, 80), phases={"titanite": default_phases()["titanite"]}, counts_per_pixel=20
    )
    X = pure.data.reshape(-1, pure.data.shape[-1]).astype(float)
    space = pca_scores(X, 3, "poisson")
    z = space.scores.reshape(80, 80, 3)
    for strength in (0, "auto"):
        out, _ = spatial.regularise_scores(z, noise=_noise(X, space), strength=strength)
        u = _gk(out.reshape(-1, 3), 2).reshape(80, 80, 2)
        result = spatial.cluster_distinguishability(z, u)
        assert result.pairs == [(0, 1)]
        with pytest.warns(UserWarning, match="not distinguishable"):
            assert spatial.warn_indistinguishable(result)
    scores, noise = grain_spaces[20]
    z = scores.reshape(128, 128, 3)
    out, _ = spatial.regularise_scores(z, noise=noise)
    u = _gk(out.reshape(-1, 3)).reshape(128, 128, 4)
    result = spatial.cluster_distinguishability(z, u)
    assert result.distinguishable
    assert np.nanmin(result.ratio) > 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not spatial.warn_indistinguishable(result)
    # one cluster too many splits a phase by noise: the guard names that pair
    u5 = _gk(out.reshape(-1, 3), 5).reshape(128, 128, 5)
    assert len(spatial.cluster_distinguishability(z, u5).pairs) >= 1
