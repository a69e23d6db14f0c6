"""Figures (hyperspy_cmeans._drawing) show what their labels say: each labelled image or
curve holds the data it names, in its cluster's colour, with the map's physical aspect."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

from hyperspy_cmeans import _drawing as drawing


@pytest.fixture
def maps():
    rng = np.random.default_rng(0)
    u = rng.dirichlet(np.ones(3), size=(6, 5)).transpose(2, 0, 1)  # (3, ny, nx)
    labels = np.where(u.max(0) > 0.5, u.argmax(0), -1)
    return u, labels


def test_image_extent_keeps_pixel_centres_on_the_axes():
    extent = drawing.image_extent([(10.0, 2.0, 5), (0.0, 3.0, 4)])
    assert extent == [9.0, 19.0, 10.5, -1.5]  # y grows downwards as in the map


def test_membership_maps_hold_each_cluster(maps, tmp_path):
    u, _ = maps
    grid = drawing.plot_membership_maps(u, [-0.5, 4.5, 5.5, -0.5], "nm", per_row=2)
    assert grid.shape == (2, 2)
    drawn = [ax for ax in grid.flat if ax.figure is not None and ax.images]
    colors = drawing.cluster_colors(3)
    for k, ax in enumerate(drawn):
        np.testing.assert_array_equal(ax.images[0].get_array(), u[k])
        assert ax.get_title() == f"cluster {k}"
        assert to_rgba(ax.title.get_color()) == colors[k]
        assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    assert len(drawn) == 3
    grid.flat[0].figure.savefig(tmp_path / "m.png")


def test_phase_map_colours_each_phase_as_its_cluster(maps):
    _, labels = maps
    ax = drawing.plot_phase_map(labels, 3, unassigned_fraction=0.25)
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), labels)
    rgba = image.to_rgba(image.get_array())
    colors = drawing.cluster_colors(3)
    for value in np.unique(labels):
        expected = drawing.UNASSIGNED_COLOR if value == -1 else colors[value]
        got = rgba[labels == value][0]
        np.testing.assert_allclose(got, np.asarray(expected) * 255 if got.max() > 1 else expected)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["unassigned (25.0 %)", "cluster 0", "cluster 1", "cluster 2"]


def test_phase_spectra_label_the_right_curves():
    """Regression: the legend named spectrum n-1-k 'cluster k'."""
    energy = np.linspace(0, 10, 200)
    spectra = np.stack([np.exp(-((energy - c) ** 2)) * (k + 1) for k, c in enumerate((2, 5, 8))])
    ax = drawing.plot_phase_spectra(energy, spectra, {"Fe_Ka": 6.4, "Zz_Ka": 42.0})
    colors = drawing.cluster_colors(3)
    for k in range(3):
        (curve,) = [line for line in ax.lines if line.get_label() == f"cluster {k}"]
        offset = curve.get_ydata() - spectra[k]
        np.testing.assert_allclose(offset, offset[0])  # the curve is spectrum k, shifted
        assert to_rgba(curve.get_color()) == colors[k]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["cluster 2", "cluster 1", "cluster 0"]  # top curve first
    assert [t.get_text() for t in ax.texts] == ["Fe Ka"]  # lines outside the range are skipped


def test_data_space_colours_by_label_and_membership():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(40, 3))
    scores[0] = np.nan  # a masked pixel is skipped
    labels = np.r_[-1, np.arange(39) % 2]
    grid = drawing.plot_data_space(scores, labels=labels)
    offsets = grid.flat[0].collections[0].get_offsets()
    assert len(offsets) == 39
    colors = grid.flat[0].collections[0].get_facecolors()
    expected = np.asarray(drawing.cluster_colors(2))[labels[1:]]
    np.testing.assert_allclose(colors, expected)
    u = np.zeros((40, 2))
    u[:, 0] = 1.0
    grid = drawing.plot_data_space(scores, memberships=u)
    got = grid.flat[0].collections[0].get_facecolors()[:, :3]
    np.testing.assert_allclose(got, np.tile(drawing.cluster_colors(2)[0][:3], (39, 1)))


def test_memberships_per_n(maps):
    u, _ = maps
    memberships = {2: u[:2], 3: u}
    grid = drawing.plot_memberships_per_n(memberships, {2: 0.5, 3: 0.25}, 3, "xie_beni")
    assert grid.shape == (2, 3)
    np.testing.assert_array_equal(grid[1, 2].images[0].get_array(), u[2])
    assert grid[1, 0].get_ylabel() == "n = 3 *\nxie_beni 0.25"
    assert not grid[0, 2].images  # no third cluster for n = 2
    with pytest.raises(ValueError, match="2-D maps"):
        drawing.plot_memberships_per_n({2: u[:2, 0]}, {2: 0.5}, 2, "xie_beni")


def test_cluster_overview_with_spectra(maps):
    u, labels = maps
    energy = np.linspace(0, 5, 50)
    spectra = np.ones((3, 50)) * np.arange(1, 4)[:, None]
    drawn = drawing.plot_cluster_overview(
        u, labels, energy=energy, spectra=spectra, title="overview"
    )
    assert len(drawn) == 3 + 1 + 1
    for k in range(3):
        np.testing.assert_array_equal(drawn[k].images[0].get_array(), u[k])
    np.testing.assert_array_equal(drawn[3].images[0].get_array(), labels)
    assert len([line for line in drawn[4].lines if line.get_label().startswith("cluster")]) == 3


def test_drawing_into_a_given_axes():
    fig, ax = plt.subplots()
    assert drawing.plot_phase_map(np.zeros((2, 2), int), 2, ax=ax, legend=False) is ax
    ax2 = drawing.plot_membership_profiles(np.arange(4), np.full((2, 4), 0.5), 0.5, ax)
    assert ax2 is ax
