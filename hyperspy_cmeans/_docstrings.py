"""Docstring fragments shared by several methods, substituted at import.

A method's docstring holds a token such as ``<<clustering_parameters>>`` on a
line of its own, at the indentation of its parameter entries;
:func:`fill_docstring` replaces the line with the fragment, indented to match
(docstrings are indented before Python 3.13 and dedented from 3.13 on, so
the indentation is read from the token's line). Fragments are plain numpydoc
entries: ``name : type`` at column 0, the description indented by 4.
"""

import textwrap

from hyperspy.ui_registry import DISPLAY_DT, TOOLKIT_DT


def _entry(text):
    """A numpydoc entry with its description indented by exactly 4 spaces."""
    first, _, rest = text.strip("\n").partition("\n")
    return first.strip() + "\n" + textwrap.indent(textwrap.dedent(rest), "    ")


#: HyperSpy's own ``display`` and ``toolkit`` entries.
GUI_PARAMETERS = _entry(DISPLAY_DT) + "\n" + _entry(TOOLKIT_DT)

CLUSTERING_PARAMETERS = """\
algorithm : str or estimator object, default "gustafson_kessel"
    ``"gustafson_kessel"`` (alias ``"gk"``, the study's choice),
    ``"probabilistic"`` (``"fcm"``) or ``"possibilistic"`` (``"pcm"``); or any
    estimator object with ``fit`` that afterwards exposes ``memberships_``
    (this package's and scikit-cmeans' estimators) or ``predict_proba`` (e.g.
    :class:`sklearn.mixture.GaussianMixture`); hard clusterers with only
    ``labels_`` give 0/1 memberships. ``fuzzy_cluster`` fits an object in
    place (it must be set up for ``n_clusters``); the scan fits a clone with
    its ``n_clusters`` (or ``n_components``) set for each number.
m : float, default 2.0
    Fuzzifier, > 1 (named algorithms only). Possibilistic c-means keeps EDS
    phases apart better with ``m=1.5`` (with 2 its typicalities are broad and
    close phases may merge; see ``benchmarks/RESULTS.md``).
source : {"pca", "decomposition", "bss"} or BaseSignal or list of BaseSignal, default "pca"
    The data space: ``"pca"`` scales the channels of this map with
    ``preprocessing`` and projects them on ``n_components`` principal
    components (out of core for lazy signals); ``"decomposition"`` /
    ``"bss"`` use the loadings of earlier HyperSpy results (HyperSpy's
    ``cluster_source``); a signal with this map's navigation shape, or a list
    of maps with one value per pixel (e.g. from ``get_lines_intensity()``),
    provides the variables, scaled with ``preprocessing`` (None: as they are)
    and projected on ``n_components`` components (None: all of them).
n_components : int or None, default 3
    Number of principal components of the data space (HyperSpy's
    ``number_of_components``).
preprocessing : {"composition", "poisson", "snv", "standard", "center"}, default "composition"
    How the spectra are scaled before PCA (see :doc:`/algorithms`):
    ``"composition"`` projects each pixel's composition (its spectrum divided
    by its total count) on the axes of the Keenan–Kotula Poisson-weighted map,
    so the data space holds what a pixel is made of, not how bright it is, and
    stays robust at low dose; ``"poisson"``: Keenan–Kotula weighting;
    ``"snv"``: the study's own per-pixel standardisation
    (``sklearn.preprocessing.scale(X, axis=1)``); ``"standard"``: z-score per
    channel; ``"center"``: centring only. The count weightings
    (``"composition"``, ``"poisson"``) refuse signed data such as loadings.
navigation_mask : numpy.ndarray or BaseSignal of bool, optional
    Pixels to leave out (True = excluded), of the navigation shape in NumPy
    order (``(ny, nx)`` for a map); they get NaN membership and no label.
signal_mask : numpy.ndarray or BaseSignal of bool, optional
    Channels to leave out of the data space (True = excluded), e.g. the
    zero-energy peak or FIB contaminant lines. Phase spectra keep every
    channel.
n_init : int, default 10
    Number of starts of a named estimator; the best objective is kept.
max_iter : int, default 300
    Iteration limit of each start.
tol : float, default 1e-4
    Convergence tolerance: the largest change of any membership.
random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default None
    Seed of the starts. A generator gives an integer seed, which the run
    uses and records in its parameters, so every run can be reproduced.
spatial : "auto", float or None, default "auto"
    Spatial regularisation of the data space (see :doc:`/algorithms`): each
    pixel's scores are averaged with those of the neighbours that are
    statistically indistinguishable from it (adaptive weights smoothing, in
    units of the noise), so interfaces and one-pixel rims stay sharp while a
    low-dose pixel borrows the counts of its phase. ``"auto"`` takes the
    strength from the data's signal-to-noise ratio: none on a high-count map,
    more at a few counts per pixel. A number sets the bandwidth in pixels;
    ``0`` or None switches it off. Masked pixels are nobody's neighbours; on
    line scans and stacks of maps the neighbours follow the navigation axes
    (and their pixel sizes). What was done is recorded in
    ``learning_results.fuzzy_cluster_parameters["spatial"]``.
subsample : "auto", int, float or None, default "auto"
    Learn the data space and the clusters from a sample of the pixels
    (scikit-learn's ``subsample``: the largest number of samples a model is
    fitted on): an int is a number of pixels, a float a share of them; the
    sample is made of tiles spread over the map (whole chunks of a lazy map),
    drawn with ``random_state``. One pass over the map then projects every
    pixel, predicts its memberships from the fitted model (closed form) and
    sums the phase spectra. The c-means model is then checked against a fit
    on every pixel of the same data space, warm-started from the sample's
    centres: when the pixels' memberships differ from it by more than 0.005
    on average, or more than 0.5 % of the pixels change label, that fit
    replaces it and a second pass sums the spectra (what happened is in
    ``fuzzy_cluster_parameters["full_fit_check"]``).
    ``"auto"`` fits maps of up to 512 x 512 pixels exactly and samples larger
    ones (1 % of the pixels, 65536 to 262144 of them, and at least 2**24
    counts; a map with so few counts per pixel that this is more than half
    of it is fitted exactly). None fits every pixel (the exact mode). Only
    ``source="pca"`` and estimators that predict memberships use a sample.
    On a lazy map the memberships, distances, labels and scores in
    ``learning_results`` then stay dask arrays (float32) until asked for.
    ``estimate_number_of_fuzzy_clusters`` always builds the exact data space
    and fits each number of clusters on that many randomly drawn pixels.
    The agreement with the exact fit is in ``benchmarks/RESULTS.md``."""

FRAGMENTS = {
    "gui_parameters": GUI_PARAMETERS,
    "clustering_parameters": CLUSTERING_PARAMETERS,
}


def fill_docstring(func):
    """Replace every ``<<name>>`` line of ``func.__doc__`` with fragment ``name``.

    Parameters
    ----------
    func : callable
        A function whose docstring may hold tokens of :data:`FRAGMENTS`.

    Returns
    -------
    callable
        ``func`` itself, its docstring filled (unchanged under ``python -OO``).

    Raises
    ------
    KeyError
        For a token that names no fragment.
    """
    if not func.__doc__:
        return func
    lines = []
    for line in func.__doc__.splitlines():
        stripped = line.strip()
        if stripped.startswith("<<") and stripped.endswith(">>"):
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(textwrap.indent(FRAGMENTS[stripped[2:-2]], indent))
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines)
    return func
