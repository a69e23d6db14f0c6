"""The study's own map: the QV1.120 FIB cross-section (ROI 2) and its published result.

The workflow that ``hyperspy_cmeans`` automates was first applied to an SEM EDS
map of a focused-ion-beam (FIB) cross-section through a rutile - titanite -
chlorite interface (Tominaga et al., Geophysical Research Letters 2021,
doi:10.1029/2020GL088472). Its data are public under CC0 1.0 (repository
jeinsle/CROMO_EDS, folder ``open_data``, commit 13c646a); the files shipped in
``hyperspy_cmeans/data/qv120/`` are copied from there unchanged (see the
``README.md`` next to them for checksums and provenance):

``pca15_results.npz``
    HyperSpy's ``decomposition`` results of the study's cropped, calibrated
    map: SVD of the Poisson-normalised (Keenan–Kotula), not centred, data,
    15 components. ``loadings @ factors.T`` rebuilds the map in counts per
    channel (the raw map itself is not public). The rebuilt map keeps the
    map's pixel totals and channel sums (to 1e-4 counts) and holds small
    negative values (about 1 % of the values, down to -3 counts).
``published_cmeans_4.tiff``
    The study's result: Gustafson–Kessel fuzzy c-means memberships of 4
    clusters (4 x 156 x 152 float32).
``published_data_space.csv.gz``
    The data space the study clustered: 3 PCA scores per pixel (row-major
    ``(y, x)`` pixel order).

:func:`qv120_cross_section` returns the rebuilt map as an
:class:`~hyperspy_cmeans.EDSSEMCmeansSpectrum`, calibrated as in the study;
:func:`qv120_published_result` returns the published memberships and data
space for comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "QV120_CITATION",
    "QV120PublishedResult",
    "qv120_cross_section",
    "qv120_published_result",
]

_DIR = Path(__file__).resolve().parent / "qv120"
_DECOMPOSITION = _DIR / "pca15_results.npz"
_MEMBERSHIPS = _DIR / "published_cmeans_4.tiff"
_DATA_SPACE = _DIR / "published_data_space.csv.gz"

#: Navigation shape of the map in NumPy order ``(ny, nx)``.
SHAPE = (156, 152)
#: Number of energy channels.
N_CHANNELS = 1024
#: Pixel width (nm): a 17.6 um field of view over 1024 pixels, as in the study.
X_SCALE = 17.1875
#: Stage tilt (degrees) of the FIB cross-section; the study corrects the
#: pixel height by 1 / cos(90 - tilt).
STAGE_TILT = 52.0
#: Tilt-corrected pixel height (nm), the study's value (17.1875 / cos(38 deg)).
Y_SCALE = 21.81125057
#: Energy calibration of the study (keV): linear fit of the O, Mg, Al, Si, Ca,
#: Ti and Fe peak positions of the sum spectrum.
ENERGY_SCALE = 0.010005163218867979
ENERGY_OFFSET = -0.09554061669791919
#: Beam energy (keV).
BEAM_ENERGY = 10.0
#: Elements of the minerals, then the FIB contaminants Pt and Ga.
ELEMENTS = ("O", "Mg", "Al", "Si", "Ca", "Ti", "Fe", "Pt", "Ga")
#: X-ray lines recorded at 10 kV (Fe K is excited, Pt and Ga only emit M and L lines).
XRAY_LINES = ("O_Ka", "Mg_Ka", "Al_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka", "Pt_Ma", "Ga_La")
#: Detector parameters recorded in the study's files.
DETECTOR = {"elevation_angle": 35.0, "azimuth_angle": 0.0, "energy_resolution_MnKa": 130.0}
#: Mineral of each published cluster (index in ``published_cmeans_4.tiff``), from
#: the net X-ray line intensities of its mean spectrum (tests/test_qv120.py).
PUBLISHED_PHASES = ("chlorite", "rutile", "titanite", "Fe-rich phase")

QV120_CITATION = (
    "M. Tominaga et al., Geophysical Research Letters (2021), doi:10.1029/2020GL088472. "
    "Data: https://github.com/jeinsle/CROMO_EDS (open_data, commit 13c646a), CC0 1.0."
)

_TITLE = "QV1.120 FIB cross-section, ROI 2 (15-component PCA reconstruction)"
_NOTES = (
    "The study's SEM EDS map of a FIB cross-section through a rutile-titanite-chlorite "
    "interface, rebuilt in counts per channel from its 15-component Poisson-normalised SVD "
    "(loadings @ factors.T; the raw map is not public): pixel totals and channel sums are "
    "the map's, the noise beyond 15 components is removed and about 1 % of the values are "
    "small negative numbers. Cropped and calibrated as in the study (x 17.1875 nm; y "
    "21.81125 nm after correcting the 52 degree stage tilt; 10.005 eV per channel from "
    "-0.0955 keV). Cite: " + QV120_CITATION
)


class QV120PublishedResult(NamedTuple):
    """The study's published fuzzy clustering of its map.

    Attributes
    ----------
    memberships : hyperspy.signals.Signal2D
        Gustafson–Kessel memberships (c = 4, m = 2), a ``(4 | 152, 156)``
        stack of images (navigation axis ``"Cluster index"``) with the map's
        ``x`` and ``y`` axes; they sum to 1 in every pixel.
    data_space : numpy.ndarray
        ``(23712, 3)`` the study's data space, the 3 PCA scores of every
        pixel in row-major ``(y, x)`` order (the order of
        ``learning_results.fuzzy_cluster_scores``).
    phase_names : tuple of str
        The mineral of each published cluster.
    citation : str
        How to cite the data.
    """

    memberships: object
    data_space: np.ndarray
    phase_names: tuple
    citation: str


def _load_arrays(path, keys):
    """The arrays ``keys`` of an ``.npz`` file, never unpickling objects."""
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in keys}


def _navigation_axes():
    """HyperSpy axis dicts of the map's navigation axes, NumPy order ``(y, x)``."""
    ny, nx = SHAPE
    return [
        {"name": "y", "size": ny, "offset": 0.0, "scale": Y_SCALE, "units": "nm", "navigate": True},
        {"name": "x", "size": nx, "offset": 0.0, "scale": X_SCALE, "units": "nm", "navigate": True},
    ]


def qv120_cross_section(lazy=False):
    """Load the study's SEM EDS map of the QV1.120 FIB cross-section (ROI 2).

    The map is rebuilt from the study's 15-component PCA (the raw map is not
    public; see the module docstring) and calibrated as in the study. The
    files ship with the package, so this works offline.

    Parameters
    ----------
    lazy : bool
        If True, return a :class:`~hyperspy_cmeans.LazyEDSSEMCmeansSpectrum`
        whose dask array multiplies the loadings and factors block by block
        (64 x 64-pixel navigation chunks) when computed.

    Returns
    -------
    EDSSEMCmeansSpectrum or LazyEDSSEMCmeansSpectrum
        Float32 counts of shape ``(156, 152, 1024)`` (HyperSpy
        ``(152, 156 | 1024)``): navigation axes ``"x"`` (17.1875 nm) and
        ``"y"`` (21.81125 nm, tilt-corrected), signal axis ``"Energy"``
        (keV, 10.005 eV per channel from -0.0955 keV). Metadata: the title,
        ``General.doi``, ``General.authors`` and ``General.notes`` (what the
        map is, the citation, the licence), ``Acquisition_instrument.SEM``
        (beam energy 10 keV, stage tilt 52 degrees, detector elevation 35
        degrees, azimuth 0, 130 eV at Mn Ka), ``Sample.elements`` O, Mg, Al,
        Si, Ca, Ti, Fe and the FIB contaminants Pt, Ga, and their X-ray lines.
        ``learning_results`` holds the study's decomposition (SVD,
        ``poissonian_noise_normalized=True``, 15 components), so
        ``plot_explained_variance_ratio`` and ``plot_decomposition_results``
        show it.

    See Also
    --------
    qv120_published_result : The study's published memberships and data space.

    Examples
    --------
    >>> from hyperspy_cmeans.data import qv120_cross_section
    >>> s = qv120_cross_section()
    >>> s.data.shape
    (156, 152, 1024)
    >>> s.fuzzy_cluster(4, random_state=0)  # doctest: +SKIP
    """
    import hyperspy_cmeans

    arrays = _load_arrays(
        _DECOMPOSITION,
        (
            "loadings",
            "factors",
            "explained_variance",
            "explained_variance_ratio",
            "decomposition_algorithm",
            "poissonian_noise_normalized",
            "output_dimension",
            "number_significant_components",
        ),
    )
    loadings = arrays["loadings"].astype(np.float32, copy=False)
    factors = arrays["factors"].astype(np.float32, copy=False)
    ny, nx = SHAPE
    if loadings.shape[0] != ny * nx or factors.shape[0] != N_CHANNELS:
        raise OSError(f"{_DECOMPOSITION} does not hold the expected decomposition.")
    if lazy:
        import dask.array as da

        cube = da.from_array(loadings.reshape(ny, nx, -1), chunks=(64, 64, -1))
        data = da.matmul(cube, da.from_array(factors.T, chunks=-1))
        cls = hyperspy_cmeans.LazyEDSSEMCmeansSpectrum
    else:
        data = (loadings @ factors.T).reshape(ny, nx, N_CHANNELS)
        cls = hyperspy_cmeans.EDSSEMCmeansSpectrum
    energy = {
        "name": "Energy",
        "size": N_CHANNELS,
        "offset": ENERGY_OFFSET,
        "scale": ENERGY_SCALE,
        "units": "keV",
        "navigate": False,
    }
    s = cls(data, axes=[*_navigation_axes(), energy])
    md = s.metadata
    md.General.title = _TITLE
    md.set_item("General.authors", "M. Tominaga et al.")
    md.set_item("General.doi", "10.1029/2020GL088472")
    md.set_item("General.notes", _NOTES)
    md.set_item("Signal.quantity", "X-rays (Counts)")
    md.set_item("Acquisition_instrument.SEM.beam_energy", BEAM_ENERGY)
    md.set_item("Acquisition_instrument.SEM.Stage.tilt_alpha", STAGE_TILT)
    for key, value in DETECTOR.items():
        md.set_item(f"Acquisition_instrument.SEM.Detector.EDS.{key}", value)
    s.set_elements(list(ELEMENTS))
    s.set_lines(list(XRAY_LINES))

    lr = s.learning_results
    lr.loadings = loadings
    lr.factors = factors
    lr.explained_variance = arrays["explained_variance"]
    lr.explained_variance_ratio = arrays["explained_variance_ratio"]
    lr.decomposition_algorithm = str(arrays["decomposition_algorithm"])
    lr.poissonian_noise_normalized = bool(arrays["poissonian_noise_normalized"])
    lr.output_dimension = int(arrays["output_dimension"])
    lr.number_significant_components = int(arrays["number_significant_components"])
    lr.centre = None
    return s


def _read_memberships():
    """The published memberships, ``(4, 156, 152)`` float32, read with Pillow."""
    from PIL import Image

    frames = []
    with Image.open(_MEMBERSHIPS) as im:
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im, dtype=np.float32))
    out = np.stack(frames)
    if out.shape != (4, *SHAPE):
        raise OSError(f"{_MEMBERSHIPS} holds {out.shape}, expected (4, {SHAPE[0]}, {SHAPE[1]}).")
    return out


def qv120_published_result():
    """The study's published fuzzy clustering of :func:`qv120_cross_section`.

    Returns
    -------
    QV120PublishedResult
        ``memberships``: a ``Signal2D`` stack ``(4 | 152, 156)`` of the
        Gustafson–Kessel memberships (c = 4, m = 2) with the map's navigation
        axes; ``data_space``: the ``(23712, 3)`` PCA scores the study
        clustered, in row-major ``(y, x)`` pixel order; ``phase_names``: the
        mineral of each cluster (chlorite, rutile, titanite, Fe-rich phase);
        ``citation``.

    Notes
    -----
    The cluster order is the study's (arbitrary): match clusters (e.g. with
    :func:`hyperspy_cmeans.evaluation.match_clusters`) before comparing
    memberships. 1349 pixels (5.7 %) have no membership above 0.5 (the study
    reports 5.6 %). The data space is a centred PCA of the map after each
    pixel's spectrum was standardised across its channels
    (``preprocessing="snv"`` reproduces it, up to the counting noise of the
    raw map that the published scores contain); the Gustafson–Kessel
    estimator of this package reproduces the memberships from it (adjusted
    Rand index 1.000, membership RMSE < 0.001).

    Examples
    --------
    >>> from hyperspy_cmeans.data import qv120_published_result
    >>> published = qv120_published_result()
    >>> published.memberships.data.shape
    (4, 156, 152)
    >>> published.data_space.shape
    (23712, 3)
    """
    import hyperspy.api as hs

    u = _read_memberships()
    axes = [{"name": "Cluster index", "size": u.shape[0], "navigate": True}]
    axes += [dict(ax, navigate=False) for ax in _navigation_axes()]
    memberships = hs.signals.Signal2D(u, axes=axes)
    memberships.metadata.General.title = "Published memberships of " + _TITLE
    memberships.metadata.set_item("General.doi", "10.1029/2020GL088472")
    memberships.metadata.set_item(
        "General.notes", "Gustafson-Kessel fuzzy c-means, c = 4, m = 2. " + QV120_CITATION
    )
    data_space = np.loadtxt(_DATA_SPACE, delimiter=",", comments="#", dtype=np.float64)
    if data_space.shape != (SHAPE[0] * SHAPE[1], 3):
        raise OSError(
            f"{_DATA_SPACE} holds {data_space.shape}, expected ({SHAPE[0] * SHAPE[1]}, 3)."
        )
    return QV120PublishedResult(memberships, data_space, PUBLISHED_PHASES, QV120_CITATION)
