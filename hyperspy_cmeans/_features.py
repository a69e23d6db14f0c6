"""The data space that fuzzy clustering works in: preprocessing and PCA scores.

Works on the spectra of a map, channels last: a NumPy array ``(n_pixels,
n_channels)`` or a dask array ``(*navigation_shape, n_channels)``. Either way
the PCA is computed block by block with dask: the channel covariance of the
preprocessed data is accumulated in one pass over the blocks, its leading
eigenvectors are the principal axes (the same as scikit-learn's
``PCA(svd_solver="covariance_eigh")`` after ``StandardScaler``; a test checks
it), and a second pass projects the pixels; the ``"poisson"`` weighting needs
one more pass for the pixel totals. NumPy input runs on the local threaded
scheduler; dask input on whatever scheduler is active (a
``dask.distributed.Client`` included). The sign of each component is fixed
(its largest-magnitude channel weight is positive). On a 512 x 512 x 1024 map
this takes a fraction of the time and memory of scikit-learn on the
unfolded float64 array (see ``benchmarks/RESULTS.md``).

Preprocessing (each channel is a variable, each pixel an observation):

``"composition"``
    the principal axes of ``"poisson"`` (the Keenan–Kotula weighted, centred
    map), but each pixel is projected as its composition, the spectrum divided
    by its total count ``a_i`` (times the mean total, so that a pixel of mean
    total gets its ``"poisson"`` score), then the scores are centred. The data
    space then depends on what a pixel is made of, not on how many counts it
    has (topography, shadowing of the detector, beam-current drift), as in the
    study, whose per-pixel standardisation (``"snv"``) also removes the
    intensity; the axes keep the Poisson weighting, which gives low-count
    pixels little weight, so they stay robust at low dose. Pixels with no
    counts are put at the mean composition (score 0).
``"poisson"``
    Keenan & Kotula (2004) Poisson weighting for counting data: divide pixel
    ``i``, channel ``j`` by ``sqrt(a_i * b_j)`` where ``a`` is the total count of
    each pixel and ``b`` the mean spectrum, then centre. Pixels with a total
    ``<= 0`` and channels with a mean ``<= 0`` (possible in a denoised,
    reconstructed map) get a weight of 0.
``"snv"``
    the study's preprocessing: each pixel's spectrum is standardised across
    its channels (``sklearn.preprocessing.scale(X, axis=1)``, the "standard
    normal variate" of spectroscopy: subtract the spectrum's mean, divide by
    its standard deviation; a flat spectrum is only centred), then centred
    PCA. On the study's own map it reproduces the published data space
    (see ``hyperspy_cmeans.data.qv120_published_result``).
``"standard"``
    centre each channel and divide by its standard deviation (scikit-learn's
    ``StandardScaler``, a z-score per channel); channels with zero variance are
    left at 1. It gives every channel, even one holding only noise or only the
    residual of a denoised map, unit variance.
``"center"``
    centre each channel only (plain PCA).
"""

from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np

from hyperspy_cmeans import _checks
from hyperspy_cmeans import _counts as counts
from hyperspy_cmeans._threads import single_threaded_blas

PREPROCESSING = ("standard", "center", "poisson", "composition", "snv")
#: Preprocessings that weight pixels and channels by the counts (Keenan–Kotula).
_POISSON_WEIGHTED = ("poisson", "composition")


@dataclass
class DataSpace:
    """PCA scores of a spectrum image and everything needed to reproduce them.

    Attributes
    ----------
    scores : numpy.ndarray
        ``(n_pixels, n_components)`` coordinates of every used pixel.
    components : numpy.ndarray
        ``(n_components, n_used_channels)`` principal axes in the preprocessed
        channel space.
    explained_variance_ratio : numpy.ndarray
        Fraction of the preprocessed data's total variance per component.
    mean : numpy.ndarray
        Mean of each used channel after the preprocessing (Poisson weighting
        or per-pixel standardisation), before centring.
    scale : numpy.ndarray
        Divisor of each used channel (standard deviation or 1).
    preprocessing : str
        One of :data:`PREPROCESSING`.
    empty : numpy.ndarray or None
        ``(n_pixels,)`` bool, True for used pixels that recorded no counts
        (count-weighted preprocessings only; their scores are 0 and meaningless).
    noise_covariance : numpy.ndarray or None
        ``(n_components, n_components)`` covariance of the Poisson noise of one
        pixel's scores (count-weighted preprocessings only).
    axes_bin_side : int
        Side of the squares of neighbouring pixels summed for the principal
        axes (1: none; see :func:`hyperspy_cmeans._counts.count_aware_bin_side`).
    """

    scores: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    preprocessing: str
    empty: np.ndarray | None = None
    noise_covariance: np.ndarray | None = None
    axes_bin_side: int = 1


def _fix_signs(components):
    """Flip each component so that its largest-magnitude weight is positive."""
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), idx])
    signs[signs == 0] = 1.0
    return components * signs[:, None], signs


def _check_finite_block(block, dtype):
    """Refuse NaN/inf, and finite values that ``dtype`` cannot hold, with what to do."""
    if block.dtype.kind != "f":
        return
    if not np.all(np.isfinite(block)):
        raise ValueError(
            "The data contain NaN or inf values; exclude those pixels with "
            "`navigation_mask` (or those channels with `signal_mask`)."
        )
    limit = np.finfo(dtype).max
    if np.finfo(block.dtype).max > limit and np.abs(block).max() > limit:
        raise ValueError(
            f"The data hold values above {limit:.3g}, beyond the {np.dtype(dtype).name} "
            "range of the computation; rescale the data (e.g. s.data /= s.data.max())."
        )


def _validate(shape, n_components, preprocessing):
    _checks.check_preprocessing(preprocessing, PREPROCESSING)
    _checks.check_n_components(n_components)
    n_pixels, n_channels = shape
    if n_components > min(n_pixels, n_channels):
        raise ValueError(
            f"n_components={n_components} is larger than the number of used channels "
            f"({n_channels}) or pixels ({n_pixels}); choose at most {min(n_pixels, n_channels)}."
        )


def pca_scores(X, n_components=3, preprocessing="composition", keep=None, channels=None):
    """Project the spectra of a map on their first principal components.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        The map, ``(*navigation_shape, n_channels)`` in NumPy order, channels
        last (``(n_pixels, n_channels)`` is a map with one navigation axis).
        It is processed block by block, never reshaped across navigation
        blocks and never copied whole: an in-memory array on local threads, a
        dask array in passes over its blocks (on an active
        ``dask.distributed.Client`` if there is one).
    n_components : int
        Number of principal components to keep.
    preprocessing : {"standard", "center", "poisson", "composition", "snv"}
        How the spectra are weighted or scaled before PCA (see the module
        docstring).
    keep : numpy.ndarray of bool, optional
        ``navigation_shape`` mask of the pixels to use (masked pixels may hold
        NaN). Default: all.
    channels : numpy.ndarray of int, optional
        The channels to use (the others are left out of the data space,
        block by block). Default: all.

    Returns
    -------
    DataSpace
        Scores of the used pixels (in row-major pixel order), components and
        the preprocessing constants.

    Raises
    ------
    ValueError
        For an unknown preprocessing, too many components, or NaN/inf data.
    """
    blocks, scheduler = as_blocks(X)
    keep = np.ones(blocks.shape[:-1], dtype=bool) if keep is None else np.asarray(keep, bool)
    if keep.shape != blocks.shape[:-1]:
        keep = keep.reshape(blocks.shape[:-1])
    if channels is not None:
        channels = np.asarray(channels)
        blocks = blocks[..., channels]
    _validate((int(keep.sum()), blocks.shape[-1]), n_components, preprocessing)
    return _pca_scores_dask(blocks, keep, n_components, preprocessing, scheduler=scheduler)


class _ArrayWindow:
    """Read-only view of an in-memory array that dask does not copy.

    ``dask.array.from_array`` copies any array-like that has a ``copy``
    method (a whole map, e.g. 1 GiB more for a 1 GiB map); this window has
    only what dask needs to slice blocks out of the array.
    """

    def __init__(self, array):
        self._array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, key):
        return self._array[key]


def as_blocks(X):
    """The map as a dask array of whole-spectrum blocks, and the scheduler to use.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        ``(*navigation_shape, n_channels)``.

    Returns
    -------
    tuple
        ``(blocks, scheduler)``: a dask array as given (``scheduler`` None:
        the active one), or an in-memory array wrapped without a copy in
        blocks of at least :data:`MIN_BLOCK_PIXELS` pixels along its first
        axis (``scheduler`` ``"threads"``).
    """
    if isinstance(X, da.Array):
        return X, None
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"expected (*navigation_shape, n_channels), got shape {X.shape}.")
    per_row = int(np.prod(X.shape[1:-1], dtype=np.int64))
    rows = max(1, -(-MIN_BLOCK_PIXELS // max(per_row, 1)))
    chunks = (rows,) + X.shape[1:]
    return da.from_array(_ArrayWindow(X), chunks=chunks, name=False, asarray=True), "threads"


def _standardise_rows(rows):
    """Standard normal variate of each row, in place: ``(x - mean(x)) / std(x)``.

    The mean and (population) standard deviation are taken over the row's
    channels in float64, as ``sklearn.preprocessing.scale(rows, axis=1)``; a
    row with zero spread is only centred.
    """
    mean = rows.mean(1, dtype=np.float64)
    sq = np.einsum("ij,ij->i", rows, rows, dtype=np.float64) / rows.shape[1]
    std = np.sqrt(np.clip(sq - mean**2, 0.0, None))
    std = np.where(std > 10 * np.finfo(rows.dtype).eps * np.maximum(1.0, np.abs(mean)), std, 1.0)
    rows -= mean.astype(rows.dtype)[:, None]
    rows /= std.astype(rows.dtype)[:, None]
    return rows


def _block_rows(block, keep, row_w, col_w, dtype, snv=False):
    """``(pixels, channels)`` rows of a block in ``dtype``, masked rows zeroed, weighted.

    One conversion copy; the NaN/inf check and the masking only happen when
    they can matter (float data, masked pixels). ``snv`` standardises each row
    across its channels (:func:`_standardise_rows`) before the masking.
    """
    flat = block.reshape(-1, block.shape[-1])
    masked = not keep.all()
    if block.dtype.kind == "f":
        _check_finite_block(flat[keep] if masked else flat, dtype)
    rows = flat.astype(dtype)
    if masked:
        rows[~keep] = 0
    if snv:
        _standardise_rows(rows)  # a zeroed (masked) row stays zero
    if col_w is not None:
        rows *= (row_w.reshape(-1)[:, None] * col_w[None, :]).astype(dtype, copy=False)
    return rows


def _moment_rows(block, keep, row_w, col_w, snv, bin_side, noise_w):
    """The float32 rows a block adds to the covariance, their mask, and the noise sums.

    Count-weighted preprocessings with ``bin_side > 1`` sum squares of
    neighbouring pixels first (:func:`hyperspy_cmeans._counts.binned_weighted_rows`).
    ``noise_w`` (count weightings): returns ``sum_i noise_w_i * x_ij`` over the
    raw counts, before they are weighted (no extra copy of the block).
    """
    flat = block.reshape(-1, block.shape[-1])
    if block.dtype.kind == "f":
        _check_finite_block(flat[keep] if not keep.all() else flat, np.float32)
    rows = flat.astype(np.float32)
    rows[~keep] = 0
    noise_row = None
    if noise_w is not None:  # a float32 product: no float64 copy of the block
        noise_row = (noise_w.reshape(-1).astype(np.float32) @ rows).astype(np.float64)
    if bin_side > 1:
        nav_shape = block.shape[:-1]
        rows, used = counts.binned_weighted_rows(
            rows.reshape(block.shape), keep.reshape(nav_shape), col_w, bin_side
        )
        return rows, used, noise_row
    if snv:
        _standardise_rows(rows)  # a zeroed (masked) row stays zero
    if col_w is not None:
        rows *= (row_w.reshape(-1)[:, None] * col_w[None, :]).astype(np.float32, copy=False)
    return rows, keep, noise_row


def _scatter_moments(block, keep, row_w, col_w, snv=False, bin_side=1, noise_w=None):
    """Sums of one block for the covariance, ``(S + 3, S)`` float64.

    Rows: 0, the sum of the block's used rows; 1 to S, their uncentred second
    moment ``sum x x^T``; S + 1, the number of used rows (first column); S + 2,
    ``sum_i noise_w_i * x_ij`` over the raw counts of the kept pixels (for the
    noise covariance of the scores). The expensive product is done in
    float32 on block-centred rows (no cancellation, twice the speed of
    float64 BLAS); the block mean's outer product is added back in float64,
    so the sums are accurate to about 1e-6 relative. BLAS runs
    single-threaded inside the task: dask already runs one task per core.
    """
    n_channels = block.shape[-1]
    if not keep.any():
        return np.zeros((n_channels + 3, n_channels))
    with single_threaded_blas():
        rows, used, noise_row = _moment_rows(block, keep, row_w, col_w, snv, bin_side, noise_w)
        out = gram_moments(rows, used)
    if noise_row is not None:
        out[n_channels + 2] = noise_row
    return out


def gram_moments(rows, used):
    """Sum, second moment and count of the ``used`` float32 ``rows``, ``(S + 3, S)`` float64.

    The layout of :func:`_scatter_moments` (row S + 2 left zero). ``rows`` is
    centred in place on its mean before the float32 product; the mean's outer
    product is added back in float64.
    """
    n_channels = rows.shape[-1]
    out = np.zeros((n_channels + 3, n_channels))
    n_used = int(used.sum())
    if n_used == 0:
        return out
    if n_used < len(rows):
        rows[~used] = 0
    total = rows.sum(0, dtype=np.float64)
    mean = total / n_used
    rows -= mean.astype(np.float32)
    if n_used < len(rows):
        rows[~used] = 0
    out[0] = total
    out[1 : n_channels + 1] = rows.T @ rows
    out[1 : n_channels + 1] += n_used * np.outer(mean, mean)
    out[n_channels + 1, 0] = n_used
    return out


#: Smallest number of pixels per block in the passes over lazy data.
MIN_BLOCK_PIXELS = 16384


def coarsen_navigation_chunks(X, min_pixels=None):
    """Rechunk a ``(*navigation, channels)`` dask array to whole-spectrum blocks of
    at least ``min_pixels`` pixels (default :data:`MIN_BLOCK_PIXELS`), by merging
    neighbouring navigation chunks.

    Every block of a moment pass returns a channels x channels matrix that the
    reduction must add up: fewer, larger blocks make that cheaper (measured on
    a 1024 x 1024 x 2048 map: 44 s with 64 x 64 blocks, 24 s with 128 x 128).
    """
    if min_pixels is None:
        min_pixels = MIN_BLOCK_PIXELS
    nav_ndim = X.ndim - 1
    X = X.rechunk({nav_ndim: -1})
    pixels = int(np.prod([max(c) for c in X.chunks[:nav_ndim]]))
    if pixels >= min_pixels:
        return X
    factor = int(np.ceil((min_pixels / pixels) ** (1 / min(nav_ndim, 2))))
    new = {i: min(X.shape[i], max(X.chunks[i]) * factor) for i in range(min(nav_ndim, 2))}
    return X.rechunk(new)


def _count_statistics(X, keep_da, keep, preprocessing, nav_ndim, scheduler):
    """One pass for the count weightings: pixel totals, channel sums, negative signal.

    Returns ``(row_w, col_w, projection_factor, counted, bin_side)``: the
    Keenan–Kotula weights, each pixel's factor in the projection (``1/sqrt(a)``
    for ``"poisson"``, the mean total over the pixel's expected total for
    ``"composition"`` (see :func:`hyperspy_cmeans._counts.expected_totals`),
    0 for pixels without counts), the used pixels with counts, and the
    binning of the principal axes at low dose.
    """
    masked = da.where(keep_da, X, 0)
    totals, col_sums, negative = dask.compute(
        masked.sum(-1, dtype=np.float64),
        masked.sum(tuple(range(nav_ndim)), dtype=np.float64),
        da.minimum(masked, 0).sum(dtype=np.float64),
        scheduler=scheduler,
    )
    counts.check_counts(preprocessing, -float(negative), float(col_sums.sum()) - float(negative))
    counted = keep & (totals > 0)
    row_w, col_w = counts.poisson_weights(totals, col_sums, int(counted.sum()))
    mean_total = float(totals[counted].mean()) if counted.any() else 0.0
    if preprocessing == "composition":
        factor = np.zeros_like(totals, dtype=float)
        brightness = counts.expected_totals(totals[counted])
        factor[counted] = mean_total / brightness
    else:
        factor = np.where(counted, row_w, 0.0)
    return row_w, col_w, factor, counted, counts.count_aware_bin_side(mean_total)


def _principal_axes(moments_total, n_channels, n_components, preprocessing):
    """Mean, scale, components and explained variance from the summed moments."""
    n_rows = max(moments_total[n_channels + 1, 0], 1.0)
    mean = moments_total[0] / n_rows
    cov = moments_total[1 : n_channels + 1] / n_rows - np.outer(mean, mean)
    if preprocessing == "standard":
        std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        # StandardScaler's rule: (near-)constant channels keep a scale of 1
        scale = np.where(std > 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mean)), std, 1.0)
        cov = cov / np.outer(scale, scale)
    else:
        scale = np.ones(n_channels)
    from scipy.linalg import eigh

    k = min(n_components, n_channels)
    with single_threaded_blas():  # OpenBLAS's threaded eigh was 20x slower on a shared 2-core host
        # only the largest k eigenpairs (MRRR): 2.5x faster than all of them at 2048 channels
        eigval, eigvec = eigh(cov, subset_by_index=[n_channels - k, n_channels - 1], driver="evr")
    order = np.argsort(eigval)[::-1]
    eigval = np.clip(eigval[order], 0.0, None)
    components, _ = _fix_signs(eigvec[:, order].T)
    total_variance = max(float(np.trace(cov)), 0.0)  # the sum of all eigenvalues
    # a map without variation has no principal axes: NaN, which the caller refuses
    explained = (
        eigval[:n_components] / total_variance
        if total_variance > 0
        else np.full(n_components, np.nan)
    )
    return mean, scale, components, explained


def _pca_scores_dask(X, keep, n_components, preprocessing, scheduler=None):
    nav_ndim = X.ndim - 1
    n_channels = X.shape[-1]
    X = coarsen_navigation_chunks(X)
    nav_chunks = X.chunks[:nav_ndim]

    def per_pixel(values):
        return da.from_array(np.asarray(values)[..., None], chunks=(*nav_chunks, 1))

    keep_da = per_pixel(keep)
    block_grid = tuple((1,) * len(c) for c in nav_chunks)
    weighted = preprocessing in _POISSON_WEIGHTED
    snv = preprocessing == "snv"
    col_w, bin_side, counted = None, 1, keep
    row_w_da = factor_da = noise_w_da = da.ones(keep.shape + (1,), chunks=(*nav_chunks, 1))
    if weighted:
        row_w, col_w, factor, counted, bin_side = _count_statistics(
            X, keep_da, keep, preprocessing, nav_ndim, scheduler
        )
        row_w_da, factor_da, noise_w_da = per_pixel(row_w), per_pixel(factor), per_pixel(factor**2)
    used_da = per_pixel(counted)

    def block_moments(block, keep_block, rw, nw):
        moments = _scatter_moments(
            block, keep_block.reshape(-1), rw, col_w, snv, bin_side, nw if weighted else None
        )
        return moments.reshape((1,) * nav_ndim + moments.shape)

    moments = da.map_blocks(
        block_moments,
        X,
        used_da,
        row_w_da,
        noise_w_da,
        dtype=np.float64,
        chunks=(*block_grid, (n_channels + 3,), (n_channels,)),
        new_axis=nav_ndim + 1,
    )
    moments_total = moments.sum(axis=tuple(range(nav_ndim))).compute(scheduler=scheduler)
    mean, scale, components, explained = _principal_axes(
        moments_total, n_channels, n_components, preprocessing
    )
    # ((x * r * c) - mean) / scale @ C.T  ==  r * (x @ W) - b; count weightings are
    # centred after the projection instead (on the pixels that have counts), which is
    # the same for unbinned axes and right for binned ones
    weights = components.T / scale[:, None]
    if col_w is not None:
        weights = weights * col_w[:, None]
    bias = np.zeros(n_components) if weighted else (mean / scale) @ components.T

    def project(block, keep_block, f):
        with single_threaded_blas():
            rows = _block_rows(block, keep_block.reshape(-1), None, None, np.float64, snv)
            scores = rows @ weights
        if weighted:
            scores *= f.reshape(-1)[:, None]
        scores -= bias
        return scores.reshape(block.shape[:-1] + (n_components,))

    scores = da.map_blocks(
        project, X, keep_da, factor_da, dtype=np.float64, chunks=(*nav_chunks, (n_components,))
    ).compute(scheduler=scheduler)
    scores = scores.reshape(-1, n_components)[keep.reshape(-1)]
    empty = noise = None
    if weighted:
        empty = ~counted.reshape(-1)[keep.reshape(-1)]
        if (~empty).any():
            scores -= scores[~empty].mean(0)
        scores[empty] = 0.0
        n_counted = max(int((~empty).sum()), 1)
        noise = counts.score_noise_covariance(weights, moments_total[n_channels + 2] / n_counted)
    return DataSpace(
        scores=scores,
        components=components,
        explained_variance_ratio=explained,
        mean=mean,
        scale=scale,
        preprocessing=preprocessing,
        empty=empty,
        noise_covariance=noise,
        axes_bin_side=bin_side,
    )
