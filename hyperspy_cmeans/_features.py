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
    """

    scores: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    preprocessing: str


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


#: Largest share of negative signal that count weighting accepts (denoised maps
#: have a little: the study's 15-component reconstruction has 0.1 %).
MAX_NEGATIVE_SHARE = 0.02


def _check_counts(preprocessing, negative, positive):
    """Refuse count weighting of data that are not counts (negated, signed, empty)."""
    if positive <= 0 and negative <= 0:
        raise ValueError(
            "The map has no variation to cluster: it holds no counts (every value is 0). "
            "Check the data, or mask the empty region with navigation_mask."
        )
    if positive <= 0 or negative > MAX_NEGATIVE_SHARE * positive:
        share = 1.0 if positive <= 0 else negative / (negative + positive)
        raise ValueError(
            f"preprocessing={preprocessing!r} weights pixels and channels by their counts, "
            f"but {100 * share:.3g} % of the signal is negative: these are not counts (a "
            "negated map, or signed values such as loadings). Use preprocessing='center' or "
            "'standard' for signed data."
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


def pca_scores(X, n_components=3, preprocessing="composition", keep=None):
    """Project the spectra of a map on their first principal components.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        A NumPy array ``(n_pixels, n_channels)`` of the pixels to use, or a
        dask array ``(*navigation_shape, n_channels)`` (the map itself, in
        NumPy order, channels last), which is processed block by block
        without reshaping its navigation chunks; a dask array is computed in
        passes over its blocks (on an active ``dask.distributed.Client`` if
        there is one).
    n_components : int
        Number of principal components to keep.
    preprocessing : {"standard", "center", "poisson", "composition", "snv"}
        How the spectra are weighted or scaled before PCA (see the module
        docstring).
    keep : numpy.ndarray of bool, optional
        For dask input: ``navigation_shape`` mask of the pixels to use
        (masked pixels may hold NaN). Default: all.

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
    if isinstance(X, da.Array):
        if keep is None:
            keep = np.ones(X.shape[:-1], dtype=bool)
        _validate((int(keep.sum()), X.shape[-1]), n_components, preprocessing)
        return _pca_scores_dask(X, np.asarray(keep, dtype=bool), n_components, preprocessing)
    X = np.asarray(X)
    _validate(X.shape, n_components, preprocessing)
    blocks = da.from_array(X, chunks=(MIN_BLOCK_PIXELS, -1))
    return _pca_scores_dask(
        blocks, np.ones(len(X), dtype=bool), n_components, preprocessing, scheduler="threads"
    )


def _poisson_weights(row_totals, column_sums, n_pixels):
    """Row and column weights of the Keenan–Kotula normalisation."""
    a = np.asarray(row_totals, dtype=float)
    b = np.asarray(column_sums, dtype=float) / n_pixels
    row_w = np.zeros_like(a)
    row_w[a > 0] = 1.0 / np.sqrt(a[a > 0])
    col_w = np.zeros_like(b)
    col_w[b > 0] = 1.0 / np.sqrt(b[b > 0])
    return row_w, col_w


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


def _scatter_moments(block, keep, row_w, col_w, snv=False):
    """Sum and second-moment matrix of one block's kept rows, ``(S + 1, S)`` float64.

    The expensive product is done in float32 on block-centred rows (no
    cancellation, twice the speed of float64 BLAS); the block mean's outer
    product is added back in float64, so the sum over blocks is the
    uncentred second moment ``sum x x^T`` to about 1e-6 relative accuracy of
    the covariance. BLAS runs single-threaded inside the task: dask already
    runs one task per core, and oversubscribed BLAS threads cost about 25 %.
    """
    n_channels = block.shape[-1]
    out = np.zeros((n_channels + 1, n_channels))
    n_kept = int(keep.sum())
    if n_kept == 0:
        return out
    with single_threaded_blas():
        rows = _block_rows(block, keep, row_w, col_w, np.float32, snv)
        total = rows.sum(0, dtype=np.float64)
        mean = total / n_kept
        rows -= mean.astype(np.float32)
        if n_kept < len(rows):
            rows[~keep] = 0
        out[0] = total
        out[1:] = rows.T @ rows
    out[1:] += n_kept * np.outer(mean, mean)
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


def _pca_scores_dask(X, keep, n_components, preprocessing, scheduler=None):
    nav_ndim = X.ndim - 1
    n_channels = X.shape[-1]
    X = coarsen_navigation_chunks(X)
    nav_chunks = X.chunks[:nav_ndim]
    keep_da = da.from_array(keep[..., None], chunks=(*nav_chunks, 1))
    n_used = int(keep.sum())
    block_grid = tuple((1,) * len(c) for c in nav_chunks)
    col_w = None
    row_w_da = da.ones(keep.shape + (1,), chunks=(*nav_chunks, 1))
    snv = preprocessing == "snv"
    if preprocessing in _POISSON_WEIGHTED:
        masked = da.where(keep_da, X, 0)
        totals, col_sums, negative = dask.compute(
            masked.sum(-1, dtype=np.float64),
            masked.sum(tuple(range(nav_ndim)), dtype=np.float64),
            da.minimum(masked, 0).sum(dtype=np.float64),
            scheduler=scheduler,
        )
        _check_counts(preprocessing, -float(negative), float(col_sums.sum()) - float(negative))
        row_w, col_w = _poisson_weights(totals, col_sums, n_used)
        row_w_da = da.from_array(row_w[..., None], chunks=(*nav_chunks, 1))
        if preprocessing == "composition":
            mean_total = max(float(totals[keep].mean()), 0.0)
            proj_w = np.zeros_like(totals, dtype=float)
            positive = totals > 0
            proj_w[positive] = mean_total / totals[positive]
            proj_w_da = da.from_array(proj_w[..., None], chunks=(*nav_chunks, 1))

    def block_moments(block, keep_block, rw):
        moments = _scatter_moments(block, keep_block.reshape(-1), rw, col_w, snv)
        return moments.reshape((1,) * nav_ndim + moments.shape)

    moments = da.map_blocks(
        block_moments,
        X,
        keep_da,
        row_w_da,
        dtype=np.float64,
        chunks=(*block_grid, (n_channels + 1,), (n_channels,)),
        new_axis=nav_ndim + 1,
    )
    moments_total = moments.sum(axis=tuple(range(nav_ndim))).compute(scheduler=scheduler)
    mean = moments_total[0] / n_used
    cov = moments_total[1:] / n_used - np.outer(mean, mean)
    if preprocessing == "standard":
        std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        # StandardScaler's rule: (near-)constant channels keep a scale of 1
        scale = np.where(std > 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mean)), std, 1.0)
        cov = cov / np.outer(scale, scale)
    else:
        scale = np.ones(n_channels)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval = np.clip(eigval[order], 0.0, None)
    components, _ = _fix_signs(eigvec[:, order[:n_components]].T)
    total_variance = eigval.sum()
    # a map without variation has no principal axes: NaN, which the caller refuses
    explained = (
        eigval[:n_components] / total_variance
        if total_variance > 0
        else np.full(n_components, np.nan)
    )

    # ((x * r * c) - mean) / scale @ C.T  ==  r * (x @ W) - b
    weights = components.T / scale[:, None]
    if col_w is not None:
        weights = weights * col_w[:, None]
    if preprocessing == "composition":
        # compositions x_i / a_i, times the mean total, on the Poisson-weighted
        # axes; centred below, on the mean of the pixels that have counts
        bias = np.zeros(n_components)
        row_factor = proj_w_da
    else:
        bias = (mean / scale) @ components.T
        row_factor = row_w_da

    def project(block, keep_block, rw):
        with single_threaded_blas():
            rows = _block_rows(block, keep_block.reshape(-1), None, None, np.float64, snv)
            scores = rows @ weights
        if col_w is not None:
            scores *= rw.reshape(-1)[:, None]
        scores -= bias
        return scores.reshape(block.shape[:-1] + (n_components,))

    scores = da.map_blocks(
        project, X, keep_da, row_factor, dtype=np.float64, chunks=(*nav_chunks, (n_components,))
    ).compute(scheduler=scheduler)
    scores = scores.reshape(-1, n_components)[keep.reshape(-1)]
    if preprocessing == "composition":
        # centre on the mean composition; pixels without counts sit at the centre
        counted = totals[keep] > 0
        if counted.any():
            scores -= scores[counted].mean(0)
        scores[~counted] = 0.0
    return DataSpace(
        scores=scores,
        components=components,
        explained_variance_ratio=explained,
        mean=mean,
        scale=scale,
        preprocessing=preprocessing,
    )
