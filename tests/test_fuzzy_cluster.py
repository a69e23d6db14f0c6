"""fuzzy_cluster, phase maps and phase spectra on synthetic maps with ground truth."""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from exspy.signals import EDSSEMSpectrum
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from hyperspy_cmeans import EDSSEMCmeansSpectrum, evaluation
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans.cmeans import GustafsonKessel
from hyperspy_cmeans.data import ground_truth, synthetic_eds_map

N_PHASES = 4


@pytest.fixture(scope="module")
def study_map():
    """The default synthetic map (the study's size and dose)."""
    return synthetic_eds_map(random_state=0)


@pytest.fixture(scope="module")
def clustered(study_map):
    """The default map after the study's Gustafson–Kessel clustering."""
    s = study_map.deepcopy()
    est = s.fuzzy_cluster(N_PHASES, "gustafson_kessel", random_state=0, return_info=True)
    return s, est


@pytest.fixture
def small_map():
    """A small map for fast argument and failure tests."""
    return synthetic_eds_map(shape=(40, 36), n_channels=256, scale=0.04, random_state=3)


def _truth(s):
    gt = ground_truth(s)
    return gt.fractions.reshape(len(gt.phase_names), -1).T


def _memberships(s):
    return s.learning_results.cluster_membership.T


def _snapshot(s):
    """Everything a failed call must leave unchanged."""
    lr = {
        k: (v.copy() if isinstance(v, np.ndarray) else v)
        for k, v in s.learning_results.__dict__.items()
    }
    axes = [(a.name, a.scale, a.offset, a.units, a.size) for a in s.axes_manager._axes]
    return np.asarray(s.data).copy(), axes, s.metadata.as_dictionary(), lr


def _assert_unchanged(s, snap):
    data, axes, md, lr = snap
    np.testing.assert_array_equal(np.asarray(s.data), data)
    assert [(a.name, a.scale, a.offset, a.units, a.size) for a in s.axes_manager._axes] == axes
    assert set(s.learning_results.__dict__) == set(lr)
    for k, v in lr.items():
        now = s.learning_results.__dict__[k]
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(now, v)
        else:
            assert now == v, k
    assert s.metadata.as_dictionary().keys() == md.keys()


# ----------------------------------------------------------------------------
# accuracy against ground truth (the acceptance numbers)
# ----------------------------------------------------------------------------


def test_gustafson_kessel_recovers_phases(clustered):
    s, _ = clustered
    truth = _truth(s)
    u = _memberships(s)
    labels = phases.hard_labels(u, 0.0)
    assert evaluation.dominant_phase_ari(labels, truth) >= 0.95
    assert evaluation.membership_rmse(u, truth) <= 0.10
    np.testing.assert_allclose(u.sum(1), 1.0, atol=1e-9)


def test_phase_spectra_match_true_phase_spectra(clustered):
    s, _ = clustered
    gt = ground_truth(s)
    match = evaluation.match_clusters(_memberships(s), _truth(s))
    spectra = s.cluster_phase_spectra()
    for k, phase in enumerate(match):
        true = gt.phase_spectra[phase]
        got = spectra.data[k]
        # mean of hundreds of pure-ish pixels: within a few % of the total counts
        assert np.abs(got - true).sum() / true.sum() < 0.08, (k, phase)


def test_unassigned_fraction_grows_with_fuzzier_interfaces():
    fractions = []
    for width in (1.5, 8.0):
        s = synthetic_eds_map(shape=(80, 76), interface_width=width, random_state=1)
        s.fuzzy_cluster(N_PHASES, "probabilistic", random_state=0, n_init=3)
        fractions.append(s.get_phase_map(0.5).metadata.Phase_map.unassigned_fraction)
    assert fractions[1] > fractions[0] + 0.01


# ----------------------------------------------------------------------------
# what is stored, and HyperSpy's own cluster tools
# ----------------------------------------------------------------------------


def test_learning_results_layout(clustered):
    s, est = clustered
    lr = s.learning_results
    n, S = s.axes_manager.navigation_size, s.axes_manager.signal_size
    assert lr.cluster_membership.shape == (N_PHASES, n)
    assert lr.cluster_labels.shape == (N_PHASES, n) and lr.cluster_labels.dtype == bool
    assert lr.cluster_labels.sum(0).max() == 1  # at most one cluster per pixel
    for name in ("cluster_sum_signals", "cluster_centroid_signals", "cluster_centers"):
        assert getattr(lr, name).shape == (N_PHASES, S)
    assert lr.cluster_distances.shape == (N_PHASES, n)
    assert lr.cluster_centroids.shape == (N_PHASES, 3)
    assert lr.number_of_clusters == N_PHASES
    assert lr.cluster_algorithm == "gustafson_kessel(m=2.0)"
    params = lr.fuzzy_cluster_parameters
    assert params["source"] == "pca" and params["n_components"] == 3
    assert params["preprocessing"] == "composition"
    assert len(params["explained_variance_ratio"]) == 3
    assert lr.fuzzy_cluster_scores.shape == (n, 3)
    # labels: largest membership above 0.5, otherwise unassigned
    u = lr.cluster_membership
    assigned = lr.cluster_labels.any(0)
    np.testing.assert_array_equal(assigned, u.max(0) > 0.5)
    np.testing.assert_array_equal(
        np.argmax(lr.cluster_labels[:, assigned], 0), np.argmax(u[:, assigned], 0)
    )
    # distances in GK's own norm: those of the fitted estimator, in stable order
    order = np.argsort(-est.memberships_.sum(0), kind="stable")
    np.testing.assert_allclose(
        lr.cluster_distances.T, est.transform(lr.fuzzy_cluster_scores)[:, order], rtol=1e-6
    )
    # stable order: total membership descending
    assert np.all(np.diff(u.sum(1)) <= 1e-9)


def test_hyperspy_cluster_tools_work_and_agree(clustered):
    s, _ = clustered
    lr = s.learning_results
    merged = s.get_cluster_labels(merged=True)
    assert merged.data.shape == s.axes_manager.navigation_shape[::-1]
    unassigned = ~lr.cluster_labels.any(0)
    np.testing.assert_array_equal(merged.data.ravel() == -1, unassigned)
    mean = s.get_cluster_signals(signal="mean")
    X = s.data.reshape(-1, s.axes_manager.signal_size).astype(float)
    for k in range(N_PHASES):
        np.testing.assert_allclose(mean.data[k], X[lr.cluster_labels[k]].mean(0), rtol=1e-10)
    np.testing.assert_allclose(s.cluster_phase_spectra().data, mean.data, rtol=1e-10)
    sums = s.get_cluster_signals(signal="sum")
    np.testing.assert_allclose(sums.data.sum(), X[~unassigned].sum(), rtol=1e-10)
    assert s.get_cluster_distances().data.shape[0] == N_PHASES
    s.plot_cluster_results()
    s.plot_cluster_labels(with_centers=True)
    s.plot_cluster_signals()
    s.plot_cluster_distances(with_centers=True)


def test_export_cluster_results(clustered, tmp_path):
    s, _ = clustered
    s.export_cluster_results(folder=tmp_path, multiple_files=False)
    centers = hs.load(tmp_path / "cluster_centers.hspy")
    np.testing.assert_allclose(centers.data, s.learning_results.cluster_centers)


def test_membership_maps_phase_map_and_spectra_signals(clustered):
    s, _ = clustered
    stack = s.get_cluster_memberships()
    assert isinstance(stack, hs.signals.Signal2D)
    assert stack.axes_manager.navigation_shape == (N_PHASES,)
    assert stack.axes_manager.signal_shape == s.axes_manager.navigation_shape
    for a, b in zip(stack.axes_manager.signal_axes, s.axes_manager.navigation_axes, strict=True):
        assert (a.scale, a.offset, a.units, a.name) == (b.scale, b.offset, b.units, b.name)
    pm = s.get_phase_map(0.5)
    labels = phases.hard_labels(_memberships(s), 0.5)
    np.testing.assert_array_equal(pm.data.ravel(), labels)
    # HyperSpy's numbering: the phase map is get_cluster_labels(merged=True)
    np.testing.assert_array_equal(pm.data, s.get_cluster_labels(merged=True).data)
    assert pm.metadata.Phase_map.unassigned_fraction == pytest.approx((labels < 0).mean())
    argmax_map = s.get_phase_map(0)
    assert argmax_map.data.min() == 0
    spectra = s.cluster_phase_spectra()
    assert type(spectra) is EDSSEMSpectrum
    assert spectra.metadata.Signal.signal_type == "EDS_SEM"
    assert spectra.axes_manager.navigation_shape == (N_PHASES,)
    e1, e2 = spectra.axes_manager.signal_axes[0], s.axes_manager.signal_axes[0]
    assert (e1.scale, e1.offset, e1.units) == (e2.scale, e2.offset, e2.units)
    assert spectra.metadata.Sample.elements == s.metadata.Sample.elements
    assert (
        spectra.metadata.Acquisition_instrument.SEM.beam_energy
        == s.metadata.Acquisition_instrument.SEM.beam_energy
    )
    weighted = s.cluster_phase_spectra(weighting="membership")
    np.testing.assert_allclose(weighted.data, s.learning_results.cluster_centers)
    strict = s.cluster_phase_spectra(threshold=0.9)
    assert np.all(
        np.asarray(strict.metadata.Phase_spectra.number_of_pixels)
        <= np.asarray(spectra.metadata.Phase_spectra.number_of_pixels)
    )


def test_phase_spectra_export_as_eds_msa(clustered, tmp_path):
    s, _ = clustered
    spectra = s.cluster_phase_spectra()
    spectra.inav[0].save(tmp_path / "phase0.msa", encoding="utf8")
    back = hs.load(tmp_path / "phase0.msa")
    assert back.metadata.Signal.signal_type == "EDS_SEM"
    # .msa stores about four significant digits
    np.testing.assert_allclose(back.data, spectra.data[0], rtol=2e-3, atol=1e-6)
    spectra.inav[0].plot(xray_lines=True)


def test_empty_cluster_gives_warning_and_nan(clustered):
    s, _ = clustered
    with pytest.warns(UserWarning, match="no pixel with membership above"):
        spectra = s.cluster_phase_spectra(threshold=0.999999)
    empty = np.asarray(spectra.metadata.Phase_spectra.number_of_pixels) == 0
    assert empty.any()
    assert np.all(np.isnan(spectra.data[empty]))


def test_plots_show_the_stored_results(clustered, tmp_path):
    """Each plot method draws the stored results it names, and saves as PNG."""
    import matplotlib.pyplot as plt

    s, _ = clustered
    u = s.get_cluster_memberships().data
    grid = s.plot_cluster_memberships()
    drawn = [ax for ax in grid.flat if ax.images]
    assert [ax.get_title() for ax in drawn] == [f"cluster {k}" for k in range(N_PHASES)]
    for k, ax in enumerate(drawn):
        np.testing.assert_array_equal(ax.images[0].get_array(), u[k])
    ax = s.plot_phase_map()
    np.testing.assert_array_equal(ax.images[0].get_array(), s.get_phase_map().data)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("unassigned") and len(legend) == N_PHASES + 1
    spectra = s.cluster_phase_spectra().data
    ax = s.plot_phase_spectra()
    curves = {line.get_label(): line for line in ax.lines if line.get_label().startswith("cluster")}
    offsets = [curves[f"cluster {k}"].get_ydata() - spectra[k] for k in range(N_PHASES)]
    for k, offset in enumerate(offsets):  # each labelled curve is its own cluster's spectrum
        np.testing.assert_allclose(offset, offset[0])
        assert curves[f"cluster {k}"].get_color() is not None
    for name, drawn_axes in {
        "scatter": s.plot_data_space(),
        "scatter_u": s.plot_data_space(color_by="membership"),
    }.items():
        assert [a.get_xlabel() for a in drawn_axes.flat] == ["score 0", "score 0", "score 1"]
        drawn_axes.flat[0].figure.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
    plt.close("all")


def test_export_data_space_csv(clustered, tmp_path):
    s, _ = clustered
    path = s.export_data_space(tmp_path / "points.csv")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    header = open(path).readline().strip().split(",")
    assert header[:2] == ["y", "x"] and header[-1] == "label"
    assert table.shape == (s.axes_manager.navigation_size, 2 + 3 + N_PHASES + 1)
    np.testing.assert_allclose(
        table[:, 2:5], s.learning_results.fuzzy_cluster_scores, rtol=1e-5, atol=1e-6
    )


# ----------------------------------------------------------------------------
# determinism, persistence, sources, algorithms
# ----------------------------------------------------------------------------


def test_order_is_stable_across_runs_and_seeds(small_map):
    a, b, c = small_map.deepcopy(), small_map.deepcopy(), small_map.deepcopy()
    a.fuzzy_cluster(3, "probabilistic", random_state=1)
    b.fuzzy_cluster(3, "probabilistic", random_state=1)
    c.fuzzy_cluster(3, "probabilistic", random_state=7)
    np.testing.assert_array_equal(
        a.learning_results.cluster_membership, b.learning_results.cluster_membership
    )
    # another seed finds the same clusters, and the stable order gives them the same index
    np.testing.assert_allclose(
        a.learning_results.cluster_membership, c.learning_results.cluster_membership, atol=1e-3
    )


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_results_persist(clustered, tmp_path, ext):
    s, _ = clustered
    s.save(tmp_path / f"c.{ext}")
    r = hs.load(tmp_path / f"c.{ext}")
    assert type(r) is EDSSEMCmeansSpectrum
    np.testing.assert_array_equal(
        r.learning_results.cluster_membership, s.learning_results.cluster_membership
    )
    np.testing.assert_array_equal(
        r.learning_results.cluster_labels, s.learning_results.cluster_labels
    )
    np.testing.assert_array_equal(r.get_phase_map().data, s.get_phase_map().data)
    np.testing.assert_allclose(r.cluster_phase_spectra().data, s.cluster_phase_spectra().data)
    r.plot_cluster_results()


def test_chaining_returns_the_signal(small_map):
    out = small_map.fuzzy_cluster(3, "fcm", random_state=0, n_init=2).cluster_phase_spectra()
    assert isinstance(out, EDSSEMSpectrum)
    assert small_map.fuzzy_cluster(3, "pcm", random_state=0, n_init=2) is small_map


def test_rerun_replaces_results(small_map):
    s = small_map
    s.fuzzy_cluster(4, "gk", random_state=0, n_init=2)
    s.fuzzy_cluster(3, "fcm", random_state=0, n_init=2, preprocessing="poisson")
    lr = s.learning_results
    assert lr.cluster_membership.shape[0] == 3 == lr.number_of_clusters
    assert lr.cluster_algorithm == "probabilistic(m=2.0)"
    assert lr.fuzzy_cluster_parameters["preprocessing"] == "poisson"


def test_estimator_objects(small_map):
    s = small_map
    gmm = GaussianMixture(3, random_state=0)
    assert s.fuzzy_cluster(3, gmm, return_info=True) is gmm
    np.testing.assert_allclose(s.learning_results.cluster_membership.sum(0), 1.0)
    assert s.learning_results.cluster_algorithm == "GaussianMixture"
    gk = GustafsonKessel(n_clusters=3, n_init=2, random_state=0)
    s.fuzzy_cluster(3, gk)
    assert hasattr(gk, "memberships_")
    s.fuzzy_cluster(3, KMeans(3, n_init=2, random_state=0))
    u = s.learning_results.cluster_membership
    assert set(np.unique(u)) <= {0.0, 1.0}

    class SkcmeansLike:
        """Exposes memberships_ only, as scikit-cmeans does."""

        def fit(self, X):
            self.memberships_ = GaussianMixture(3, random_state=0).fit(X).predict_proba(X)
            return self

    s.fuzzy_cluster(3, SkcmeansLike())
    np.testing.assert_allclose(s.learning_results.cluster_membership.sum(0), 1.0)
    with pytest.raises(ValueError, match="set up for 2 clusters"):
        s.fuzzy_cluster(3, GaussianMixture(2))


def test_sources(small_map):
    s = small_map
    s.change_dtype("float64")
    s.decomposition(output_dimension=5)
    s.fuzzy_cluster(3, "fcm", source="decomposition", n_components=3, random_state=0, n_init=2)
    assert s.learning_results.fuzzy_cluster_parameters["source"] == "decomposition"
    s.add_lines()
    maps = s.get_lines_intensity()
    s.fuzzy_cluster(N_PHASES, "fcm", source=maps, n_components=None, random_state=0, n_init=3)
    assert s.learning_results.fuzzy_cluster_scores.shape == (
        s.axes_manager.navigation_size,
        len(maps),
    )
    truth = _truth(s)
    labels = phases.hard_labels(_memberships(s), 0)
    assert evaluation.dominant_phase_ari(labels, truth) > 0.8
    stacked = hs.stack(maps, new_axis_name="line").transpose(signal_axes=["line"])
    s.fuzzy_cluster(3, "fcm", source=stacked, n_components=2, random_state=0, n_init=2)
    assert s.learning_results.fuzzy_cluster_scores.shape[1] == 2


def test_masks(small_map):
    s = small_map
    nav_mask = np.zeros(s.axes_manager.navigation_shape[::-1], dtype=bool)
    nav_mask[:5] = True
    sig_mask = s.axes_manager.signal_axes[0].axis < 0.2
    s.fuzzy_cluster(
        3, "fcm", navigation_mask=nav_mask, signal_mask=sig_mask, random_state=0, n_init=2
    )
    lr = s.learning_results
    flat = nav_mask.ravel()
    assert np.all(np.isnan(lr.cluster_membership[:, flat]))
    assert np.all(np.isnan(lr.cluster_distances[:, flat]))
    assert not lr.cluster_labels[:, flat].any()
    np.testing.assert_allclose(lr.cluster_membership[:, ~flat].sum(0), 1.0)
    assert np.all(s.get_cluster_labels(merged=True).data[:5] == -1)
    assert np.all(s.get_phase_map().data[:5] == -1)
    np.testing.assert_array_equal(lr.fuzzy_cluster_parameters["signal_mask"], sig_mask)
    # signal masks given as signals work too
    mask_signal = hs.signals.BaseSignal(nav_mask).T
    s.fuzzy_cluster(3, "fcm", navigation_mask=mask_signal, random_state=0, n_init=2)
    assert np.all(np.isnan(s.learning_results.cluster_membership[:, flat]))


def test_estimate_number_of_fuzzy_clusters(study_map):
    s = study_map.deepcopy()
    scan = s.estimate_number_of_fuzzy_clusters(
        range(2, 7), metric="xie_beni", algorithm="fcm", random_state=0, n_init=3, return_info=True
    )
    assert scan.estimate == N_PHASES
    lr = s.learning_results
    assert lr.estimated_number_of_clusters == N_PHASES
    assert lr.cluster_metric_index == [2, 3, 4, 5, 6]
    assert len(lr.cluster_metric_data) == 5 and lr.cluster_metric == "xie_beni"
    assert lr.cluster_membership is None  # the scan does not pretend to be a clustering
    s.plot_cluster_metric()
    grid = scan.plot_memberships()
    assert grid.shape == (5, 6)
    np.testing.assert_array_equal(grid[2, 3].images[0].get_array(), scan.memberships[4][3])
    assert scan.memberships[4].shape == (4,) + s.axes_manager.navigation_shape[::-1]
    assert s.estimate_number_of_fuzzy_clusters(
        [2, 3], metric="partition_coefficient", algorithm="fcm", n_init=2, random_state=0
    ) in (2, 3)


# ----------------------------------------------------------------------------
# bad input: a clear ValueError, nothing changed
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_clusters": 1}, "n_clusters"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"n_clusters": 5000}, "unmasked pixels"),
        ({"n_clusters": 3, "n_components": 1000}, "n_components"),
        ({"n_clusters": 3, "algorithm": "kmeans++"}, "algorithm"),
        ({"n_clusters": 3, "m": 1.0}, "m"),
        ({"n_clusters": 3, "preprocessing": "whiten"}, "preprocessing"),
        ({"n_clusters": 3, "source": "nmf"}, "source"),
        ({"n_clusters": 3, "source": "decomposition"}, "decomposition"),
        ({"n_clusters": 3, "assignment_threshold": 1.0}, "assignment_threshold"),
        ({"n_clusters": 3, "navigation_mask": np.zeros(7, bool)}, "navigation_mask"),
        ({"n_clusters": 3, "signal_mask": np.ones(256, bool)}, "signal_mask"),
    ],
)
def test_bad_input_raises_and_changes_nothing(small_map, kwargs, match):
    s = small_map
    s.fuzzy_cluster(3, "fcm", random_state=0, n_init=2)
    snap = _snapshot(s)
    with pytest.raises(ValueError, match=match):
        s.fuzzy_cluster(**kwargs)
    _assert_unchanged(s, snap)


def test_bad_source_signal_and_nan_data(small_map):
    s = small_map
    snap = _snapshot(s)
    wrong = hs.signals.Signal1D(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="navigation shape"):
        s.fuzzy_cluster(3, source=wrong)
    _assert_unchanged(s, snap)
    bad = s.deepcopy()
    bad.change_dtype("float64")
    bad.data[2, 3, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bad.fuzzy_cluster(3, "fcm")
    assert bad.learning_results.cluster_membership is None
    mask = np.zeros(bad.axes_manager.navigation_shape[::-1], bool)
    mask[2, 3] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        bad.fuzzy_cluster(3, "fcm", navigation_mask=mask, n_init=2, random_state=0)
    assert np.isnan(bad.learning_results.cluster_membership[0, 2 * 36 + 3])


def test_generator_seed_is_recorded_so_the_run_can_be_reproduced(small_map):
    a, b = small_map.deepcopy(), small_map.deepcopy()
    a.fuzzy_cluster(3, "fcm", n_init=2, random_state=np.random.RandomState(5))
    seed = a.learning_results.fuzzy_cluster_parameters["random_state"]
    assert isinstance(seed, int)
    b.fuzzy_cluster(3, "fcm", n_init=2, random_state=seed)
    np.testing.assert_array_equal(
        a.learning_results.cluster_membership, b.learning_results.cluster_membership
    )


# ----------------------------------------------------------------------------
# results follow the axes, or go; never stale
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("lazy", [False, True])
def test_navigation_crop_keeps_the_results_of_the_remaining_pixels(small_map, lazy):
    s = small_map.as_lazy() if lazy else small_map.deepcopy()
    s.fuzzy_cluster(3, "fcm", n_init=2, random_state=0)
    u = s.get_cluster_memberships().data  # (3, ny, nx)
    s.crop(0, 5, 25)  # x
    s.crop(1, 3, 30)  # y
    assert s.axes_manager.navigation_shape == (20, 27)
    np.testing.assert_array_equal(s.get_cluster_memberships().data, u[:, 3:30, 5:25])
    # the phase spectra are the mean of the remaining hard members, from the cropped data
    labels = s.get_phase_map().data
    data = np.asarray(s.data)
    spectra = s.cluster_phase_spectra().data
    for k in range(3):
        np.testing.assert_allclose(spectra[k], data[labels == k].mean(0), rtol=1e-6)
    # HyperSpy's own tools see the same partition and sums
    np.testing.assert_array_equal(s.get_cluster_labels(merged=True).data, labels)
    np.testing.assert_allclose(s.get_cluster_signals("mean").data, spectra, rtol=1e-6)


def test_signal_crop_cuts_the_cluster_spectra(small_map):
    s = small_map.deepcopy()
    s.fuzzy_cluster(3, "fcm", n_init=2, random_state=0)
    full = s.cluster_phase_spectra().data
    axis = s.axes_manager.signal_axes[0]
    old_offset = axis.offset
    s.crop_signal(1.0, 6.0)
    start = int(round((axis.offset - old_offset) / axis.scale))
    cropped = s.cluster_phase_spectra()
    assert cropped.axes_manager.signal_shape == s.axes_manager.signal_shape
    np.testing.assert_allclose(cropped.data, full[:, start : start + cropped.data.shape[1]])
    assert cropped.axes_manager.signal_axes[0].offset == pytest.approx(axis.offset)
    # and the spectra equal the mean of the members' cropped spectra
    labels = s.get_phase_map().data
    np.testing.assert_allclose(cropped.data[0], s.data[labels == 0].mean(0), rtol=1e-6)


def test_results_of_other_axes_are_dropped_with_a_warning(small_map):
    s = small_map.deepcopy()
    s.fuzzy_cluster(3, "fcm", n_init=2, random_state=0)
    s.data = np.asarray(s.data)[:, :-2]  # another shape under the stored results
    s.get_dimensions_from_data()
    with pytest.warns(UserWarning, match=r"dropped.*Run fuzzy_cluster\(\) again"):
        with pytest.raises(RuntimeError, match="No fuzzy cluster results"):
            s.cluster_phase_spectra()
    assert s.learning_results.cluster_membership is None


# ----------------------------------------------------------------------------
# exports for quantification
# ----------------------------------------------------------------------------


def test_phase_sums_carry_the_live_time_of_their_members(clustered, tmp_path):
    s, _ = clustered
    eds = "Acquisition_instrument.SEM.Detector.EDS."
    s = s.deepcopy()
    s.metadata.set_item(eds + "live_time", 0.002)  # per pixel (exspy's convention)
    s.metadata.set_item(eds + "real_time", 0.0025)
    labels = s.get_phase_map().data
    names = ["a", "b", "c", "d"]
    sums = s.cluster_phase_spectra(statistic="sum", phase_names=names, split=True)
    means = s.cluster_phase_spectra()
    assert means.metadata.get_item(eds + "live_time") == pytest.approx(0.002)
    for k, spectrum in enumerate(sums):
        members = int((labels == k).sum())
        np.testing.assert_allclose(spectrum.data, np.asarray(s.data)[labels == k].sum(0))
        np.testing.assert_allclose(spectrum.data / members, means.data[k], rtol=1e-9)
        assert spectrum.metadata.get_item(eds + "live_time") == pytest.approx(0.002 * members)
        assert spectrum.metadata.get_item(eds + "real_time") == pytest.approx(0.0025 * members)
        assert spectrum.metadata.General.title.startswith(f"Phase {k} ({names[k]}) of ")
    stack = s.cluster_phase_spectra(statistic="sum")
    assert not stack.metadata.has_item(eds + "live_time")  # no single time fits every phase
    assert stack.metadata.Phase_spectra.live_time[0] == pytest.approx(0.002 * (labels == 0).sum())
    with pytest.raises(ValueError, match="one per cluster"):
        s.cluster_phase_spectra(phase_names=["x"])


def test_exported_msa_files_carry_title_times_and_geometry(clustered, tmp_path):
    s, _ = clustered
    s = s.deepcopy()
    s.set_microscope_parameters(live_time=0.001, tilt_stage=52.0, elevation_angle=35.0)
    paths = s.export_phase_spectra(tmp_path, phase_names=["chl", "ttn", "rt", "fe"])
    assert [p.name for p in paths] == [
        "phase_0_chl.msa",
        "phase_1_ttn.msa",
        "phase_2_rt.msa",
        "phase_3_fe.msa",
    ]
    text = paths[2].read_text()
    members = int((s.get_phase_map().data == 2).sum())
    header = {}  # first value of each keyword (the format wraps a long TITLE)
    for line in text.splitlines():
        if line.startswith("#") and ":" in line:
            key, value = line[1:].split(":", 1)
            header.setdefault(key.strip(), value.strip())
    assert header["TITLE"].startswith("Phase 2 (rt) of ")
    assert float(header["LIVETIME"]) == pytest.approx(0.001 * members)
    assert float(header["BEAMKV"]) == s.metadata.Acquisition_instrument.SEM.beam_energy
    assert float(header["XTILTSTGE"]) == 52.0 and float(header["ELEVANGLE"]) == 35.0
    back = hs.load(paths[2])
    assert back.metadata.Signal.signal_type == "EDS_SEM"
    np.testing.assert_allclose(back.data, s.cluster_phase_spectra(statistic="sum").data[2])


def test_recalibrated_axes_keep_the_results(small_map):
    """Units or calibration changes keep pixels and channels: results stay."""
    s = small_map.deepcopy()
    s.fuzzy_cluster(3, "fcm", n_init=2, random_state=0)
    before = s.cluster_phase_spectra().data
    s.axes_manager.signal_axes[0].convert_to_units("eV")
    s.tilt_correct_scale(stage_tilt=52)
    np.testing.assert_array_equal(s.cluster_phase_spectra().data, before)


@pytest.mark.parametrize("value", [0.0, 3.0])
@pytest.mark.parametrize("lazy", [False, True])
def test_constant_map_is_refused(value, lazy):
    s = EDSSEMCmeansSpectrum(np.full((12, 10, 64), value))
    s = s.as_lazy() if lazy else s
    snap = _snapshot(s)
    with pytest.raises(ValueError, match="no variation to cluster"):
        s.fuzzy_cluster(2, "fcm", n_init=1, random_state=0)
    with pytest.raises(ValueError, match="no variation to cluster"):
        s.estimate_number_of_fuzzy_clusters([2, 3], algorithm="fcm", n_init=1)
    _assert_unchanged(s, snap)


@pytest.mark.parametrize("preprocessing", ["composition", "poisson"])
def test_count_weighting_refuses_data_that_are_not_counts(small_map, preprocessing):
    negated = small_map.deepcopy()
    negated.data = -np.asarray(negated.data, dtype=float)
    snap = _snapshot(negated)
    with pytest.raises(ValueError, match=r"100 % of the signal is negative: these are not counts"):
        negated.fuzzy_cluster(3, "fcm", preprocessing=preprocessing, n_init=1)
    _assert_unchanged(negated, snap)
    # signed data are fine with a preprocessing meant for them
    negated.fuzzy_cluster(3, "fcm", preprocessing="center", n_init=1, random_state=0)


def test_values_beyond_float32_have_their_own_message(small_map):
    s = small_map.deepcopy()
    s.change_dtype("float64")
    s.data[0, 0, 5] = 1e39
    with pytest.raises(ValueError, match=r"values above 3.4e\+38, beyond the float32 range"):
        s.fuzzy_cluster(3, "fcm", preprocessing="center", n_init=1)
