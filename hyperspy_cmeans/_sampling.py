"""The data space of a map learned from a sample of its pixels.

The exact data space (:func:`hyperspy_cmeans._features.pca_scores`) reads
the whole map two or three times (count statistics, channel moments,
projection) before the clustering starts, and the clustering then works on
every pixel. Its constants (mean spectrum, channel weights, principal axes,
noise covariance of the scores, the strength of the spatial regularisation)
are means over millions of pixels, which a sample of a few percent of them
estimates to a fraction of the spread between phases. So the model is
learned from a sample, and one pass over all pixels then projects them and
predicts their memberships (:mod:`hyperspy_cmeans._single_pass`).

The sample is made of whole tiles of the navigation grid, not of single
pixels: a compressed chunked file (.zspy, .hspy) decompresses a whole chunk
to give one pixel, so on a dask array the tiles are its chunks (split along
the last two navigation axes where chunks are much larger than a tile); an
in-memory map is cut into tiles of :data:`TILE_PIXELS` pixels. The tiles are
spread over the map by stratification: in raster order the grid of tiles is
cut into as many consecutive groups as there are tiles to draw and one tile
is drawn at random in each (with ``random_state``), so every band of the map
is represented. Tiles also keep neighbours together, which the spatial
regularisation, its noise estimate and the noise guard need.

Nothing here imports HyperSpy.
"""

import itertools
import math
import numbers
from dataclasses import dataclass, field

import dask
import dask.array as da
import numpy as np

from hyperspy_cmeans import _counts as counts
from hyperspy_cmeans import _features as features
from hyperspy_cmeans._threads import single_threaded_blas

#: Pixels of one tile of an in-memory map (16 x 16): many small tiles spread the sample
#: best (on a 300 x 300 grain map, 20k pixels in 16 x 16 tiles agree with the exact fit
#: to ARI 0.995, in 64 x 64 tiles to 0.990).
TILE_PIXELS = 256
#: Largest tile of a chunked map: chunks larger than this are cut (a tile costs a chunk read).
CHUNK_TILE_PIXELS = 65536
#: Fewest tiles drawn from a chunked map (when it has that many chunks), ...
MIN_CHUNK_TILES = 32
#: ... and at least this many times the square root of the number of tiles, i.e. two per
#: row of chunks: on a 4096 x 4096 map of 64 x 64 chunks, 41 chunks (1 %) gave a model that
#: moved the memberships by 0.012 on average (2.1 % of labels), 128 chunks by 0.0003.
TILES_PER_ROOT = 2
#: ``subsample="auto"``: smallest and largest sample, and the share of the map in between.
AUTO_MIN_PIXELS = 2**16
AUTO_MAX_PIXELS = 2**18
AUTO_FRACTION = 0.01
#: ``subsample="auto"`` learns from a sample only on maps with more pixels than this (512 x 512).
AUTO_EXACT_UP_TO = 2**18
#: ``subsample="auto"`` on count-weighted data spaces: the sample holds at least this many
#: counts (at 20 counts per pixel the principal axes of 23k pixels were 5-10 degrees from those
#: of 90k, and the phase maps agreed to ARI 0.97 only), ...
AUTO_SAMPLE_COUNTS = 2**24
#: ... and when that is more than this share of the map, the map is fitted exactly.
AUTO_EXACT_SHARE = 0.5


def resolve_subsample(subsample, n_pixels):
    """The number of pixels to learn the model from, or None for the exact fit.

    Parameters
    ----------
    subsample : "auto", int, float or None
        ``"auto"``: exact up to :data:`AUTO_EXACT_UP_TO` pixels, else
        :data:`AUTO_FRACTION` of the pixels, at least :data:`AUTO_MIN_PIXELS`
        and at most :data:`AUTO_MAX_PIXELS`; an int: that many pixels; a float
        in (0, 1): that share of the pixels; None: every pixel (exact).
    n_pixels : int
        Number of pixels of the map.

    Returns
    -------
    int or None
        None when every pixel is used (the sample would be the map).

    Raises
    ------
    ValueError
        For anything else.
    """
    if subsample is None:
        return None
    if isinstance(subsample, str):
        if subsample != "auto":
            raise ValueError(
                f"subsample={subsample!r}: use 'auto', a number of pixels, a share of the "
                "pixels in (0, 1), or None for the exact fit on every pixel."
            )
        if n_pixels <= AUTO_EXACT_UP_TO:
            return None
        n = int(np.clip(n_pixels * AUTO_FRACTION, AUTO_MIN_PIXELS, AUTO_MAX_PIXELS))
    elif isinstance(subsample, numbers.Integral) and not isinstance(subsample, bool):
        if subsample < 1:
            raise ValueError(f"subsample={subsample}: give a positive number of pixels.")
        n = int(subsample)
    elif isinstance(subsample, numbers.Real) and not isinstance(subsample, bool):
        if not 0 < subsample <= 1:
            raise ValueError(
                f"subsample={subsample}: a share of the pixels must be in (0, 1]; give an "
                "integer for a number of pixels."
            )
        n = int(math.ceil(subsample * n_pixels))
    else:
        raise ValueError(
            f"subsample={subsample!r}: use 'auto', a number of pixels, a share of the pixels "
            "in (0, 1), or None for the exact fit on every pixel."
        )
    return None if n >= n_pixels else n


def count_aware_sample_size(n_sample, counts_per_pixel, n_pixels):
    """Pixels an automatic sample needs to hold :data:`AUTO_SAMPLE_COUNTS` counts.

    Parameters
    ----------
    n_sample : int
        The sample drawn so far.
    counts_per_pixel : float
        Its mean counts per pixel (0: unknown, the sample is kept).
    n_pixels : int
        Pixels of the map.

    Returns
    -------
    int or None
        At least ``n_sample``; None when the sample would be more than
        :data:`AUTO_EXACT_SHARE` of the map (a low-dose map needs all its
        counts: the exact fit).
    """
    if not counts_per_pixel > 0:
        return n_sample
    wanted = max(n_sample, math.ceil(AUTO_SAMPLE_COUNTS / counts_per_pixel))
    return None if wanted > AUTO_EXACT_SHARE * n_pixels else wanted


def probe_counts_per_pixel(X, keep, bounds, random_state=None, scheduler=None, n_tiles=8):
    """Mean counts of the pixels with counts in ``n_tiles`` tiles drawn over the map.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        The map, ``(*navigation_shape, n_channels)``.
    keep : numpy.ndarray
        ``navigation_shape`` bool, pixels in use.
    bounds : list of list of tuple
        From :func:`tile_bounds`.
    random_state : int, optional
        Seed of the draw.
    scheduler : str, optional
        Dask scheduler for a dask array.
    n_tiles : int
        Tiles to read (chunks of a lazy map).

    Returns
    -------
    float
        0 when no probed pixel has counts.
    """
    tiles = choose_tiles(bounds, 1, random_state, min_tiles=n_tiles)
    totals = [
        block.reshape(-1, block.shape[-1])[keep[t].reshape(-1)].sum(1, dtype=np.float64)
        for block, t in zip(_read_tiles(X, tiles, scheduler), tiles, strict=True)
    ]
    totals = np.concatenate(totals)
    counted = totals[totals > 0]
    return float(counted.mean()) if len(counted) else 0.0


# ----------------------------------------------------------------------------- tiles


def _split(bounds, pieces):
    """Cut each ``(start, stop)`` into ``pieces`` nearly equal parts."""
    out = []
    for start, stop in bounds:
        edges = np.linspace(start, stop, min(pieces, stop - start) + 1).round().astype(int)
        out += [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]
    return out


def tile_bounds(navigation_shape, chunks=None, tile_pixels=None):
    """``(start, stop)`` boundaries of the tiles along each navigation axis.

    Parameters
    ----------
    navigation_shape : tuple of int
        NumPy order.
    chunks : tuple of tuple of int, optional
        The navigation chunks of a dask array: tiles are its chunks, those
        larger than :data:`CHUNK_TILE_PIXELS` cut along the last two axes. None: a regular grid
        of about ``tile_pixels`` pixels, whole along the leading axes of 3-D
        navigation (neighbours in z stay together).
    tile_pixels : int, optional
        Target size of a tile (default :data:`TILE_PIXELS`).

    Returns
    -------
    list of list of tuple
        One list of boundaries per navigation axis.
    """
    tile_pixels = TILE_PIXELS if tile_pixels is None else tile_pixels
    nav_ndim = len(navigation_shape)
    split_axes = list(range(max(nav_ndim - 2, 0), nav_ndim))
    if chunks is not None:
        bounds = [
            [(int(a), int(b)) for a, b in itertools.pairwise(np.cumsum((0, *c)))] for c in chunks
        ]
        largest = int(np.prod([max(c) for c in chunks]))
        if largest > CHUNK_TILE_PIXELS:
            pieces = math.ceil((largest / CHUNK_TILE_PIXELS) ** (1 / len(split_axes)))
            for a in split_axes:
                bounds[a] = _split(bounds[a], pieces)
        return bounds
    leading = int(np.prod(navigation_shape[: nav_ndim - len(split_axes)], dtype=np.int64))
    side = max(8, round((tile_pixels / max(leading, 1)) ** (1 / len(split_axes))))
    bounds = []
    for a, n in enumerate(navigation_shape):
        step = side if a in split_axes else n
        bounds.append([(s, min(s + step, n)) for s in range(0, n, step)])
    return bounds


def fewest_tiles(bounds, chunked):
    """The fewest tiles a sample is drawn in, so that it is spread over the whole map.

    Parameters
    ----------
    bounds : list of list of tuple
        From :func:`tile_bounds`.
    chunked : bool
        Tiles are the chunks of a dask array (at least :data:`MIN_CHUNK_TILES`).

    Returns
    -------
    int
        ``TILES_PER_ROOT * sqrt(number of tiles)``, and at least
        :data:`MIN_CHUNK_TILES` for a chunked map.
    """
    n_tiles = int(np.prod([len(b) for b in bounds]))
    fewest = math.ceil(TILES_PER_ROOT * math.sqrt(n_tiles))
    return max(fewest, MIN_CHUNK_TILES) if chunked else fewest


def choose_tiles(bounds, n_pixels, random_state=None, min_tiles=1):
    """Tiles spread over the map, together at least about ``n_pixels`` pixels.

    Parameters
    ----------
    bounds : list of list of tuple
        From :func:`tile_bounds`.
    n_pixels : int
        Pixels wanted.
    random_state : int, numpy.random.Generator or None
        Seed of the draw within each group of tiles.
    min_tiles : int
        Draw at least this many tiles (if there are).

    Returns
    -------
    list of tuple of slice
        Navigation slices of the chosen tiles, in raster order.
    """
    rng = np.random.default_rng(random_state)
    grid = list(itertools.product(*[range(len(b)) for b in bounds]))
    sizes = np.array(
        [np.prod([bounds[a][i][1] - bounds[a][i][0] for a, i in enumerate(g)]) for g in grid]
    )
    n_tiles = min(len(grid), max(min_tiles, math.ceil(n_pixels / sizes.mean())))
    picks = [
        int(group[rng.integers(len(group))])
        for group in np.array_split(np.arange(len(grid)), n_tiles)
    ]
    return [tuple(slice(*bounds[a][i]) for a, i in enumerate(grid[p])) for p in picks]


# ----------------------------------------------------------------------------- projection


@dataclass
class Projection:
    """What a block needs to compute the data-space scores of its pixels.

    Scores are ``f_i (x_i @ W) - b`` on the raw counts ``x_i`` of a pixel (all
    channels, ``W`` zero on the excluded ones), with ``f_i`` the Keenan–Kotula
    row factor of the count weightings (1 otherwise); ``"snv"`` standardises
    each pixel's used channels first. Pixels that are masked, or have no
    counts under a count weighting, get NaN.

    Attributes
    ----------
    weights : numpy.ndarray
        ``(n_channels, n_components)`` float32 ``W``.
    bias : numpy.ndarray
        ``(n_components,)`` ``b``.
    preprocessing : str
        The preprocessing.
    used : numpy.ndarray or None
        ``(n_channels,)`` bool used channels; None: all.
    mean_total, totals_mean, totals_variance : float
        For ``"composition"``: the mean total of the pixels with counts, and
        the mean and variance of the totals of the empirical-Bayes brightness
        (:func:`hyperspy_cmeans._counts.expected_totals`).
    """

    weights: np.ndarray
    bias: np.ndarray
    preprocessing: str
    used: np.ndarray | None = None
    mean_total: float = 0.0
    totals_mean: float = 0.0
    totals_variance: float = 0.0

    @property
    def weighted(self):
        """Whether the rows are weighted by their counts."""
        return self.preprocessing in features._POISSON_WEIGHTED

    def _weights_and_totals(self):
        """``W`` with a last column that sums the used channels (float32; tiny next to a block)."""
        ones = np.ones(self.weights.shape[0], np.float32) if self.used is None else self.used
        return np.column_stack([self.weights, ones]).astype(np.float32, copy=False)

    def rows(self, block, keep):
        """``(pixels, channels)`` float32 copy of a block's counts, masked rows zero."""
        flat = block.reshape(-1, block.shape[-1])
        if block.dtype.kind == "f":
            features._check_finite_block(flat[keep] if not keep.all() else flat, np.float32)
        rows = flat.astype(np.float32)
        if not keep.all():
            rows[~keep] = 0
        return rows

    def factors(self, totals):
        """Row factors ``f`` from the pixels' totals (0 for pixels without counts)."""
        counted = totals > 0
        f = np.zeros(len(totals))
        if self.preprocessing == "poisson":
            f[counted] = 1.0 / np.sqrt(totals[counted])
        elif counted.any():
            brightness = counts.expected_totals(
                totals[counted], self.totals_mean, self.totals_variance
            )
            f[counted] = self.mean_total / brightness
        return f

    def scores(self, rows, keep):
        """``(scores, valid)``: float64 scores, NaN where not ``valid``, of :meth:`rows`."""
        valid = keep.copy()
        with single_threaded_blas():
            if self.preprocessing == "snv":
                used = rows if self.used is None else rows[:, self.used]
                if used is rows:
                    used = rows.copy()
                features._standardise_rows(used)
                w = self.weights if self.used is None else self.weights[self.used]
                z = (used @ w).astype(np.float64)
            elif self.weighted:
                # one product gives the scores and the pixels' totals (the last column:
                # exact in float32 up to 2**24 counts per pixel), without a second read
                zt = rows @ self._weights_and_totals()
                z, totals = zt[:, :-1].astype(np.float64), zt[:, -1].astype(np.float64)
            else:
                z = (rows @ self.weights).astype(np.float64)
            if self.weighted:
                z *= self.factors(totals)[:, None]
                valid &= totals > 0
        z -= self.bias
        z[~valid] = np.nan
        return z, valid


# ----------------------------------------------------------------------------- sample


@dataclass
class SampleSpace:
    """The data space learned from a sample of tiles, and the sample's scores.

    Attributes
    ----------
    projection : Projection
        Scores of any pixel.
    components, explained_variance_ratio, mean, scale : numpy.ndarray
        As in :class:`hyperspy_cmeans._features.DataSpace`.
    noise_covariance : numpy.ndarray or None
        Poisson noise covariance of one pixel's scores (count weightings).
    axes_bin_side : int
        Binning of the principal axes at low dose.
    tiles : list of tuple of slice
        The sampled tiles.
    mosaic : numpy.ndarray
        The tiles' raw scores stacked along the first navigation axis,
        separated by one row of NaN (``(*mosaic_shape, n_components)``), so
        that pixels of different tiles are never neighbours.
    valid : numpy.ndarray
        ``mosaic_shape`` bool: pixels with scores.
    n_pixels : int
        Pixels in the tiles.
    """

    projection: Projection
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    noise_covariance: np.ndarray | None
    axes_bin_side: int
    tiles: list
    mosaic: np.ndarray
    valid: np.ndarray
    n_pixels: int
    offsets: list = field(default_factory=list)

    def interior(self, depth, navigation_shape):
        """``mosaic_shape`` bool: pixels at least ``depth`` away from a tile edge that
        is not the map's edge (their regularisation sees their whole neighbourhood)."""
        inside = np.zeros(self.valid.shape, dtype=bool)
        for tile, offset in zip(self.tiles, self.offsets, strict=True):
            shape = tuple(s.stop - s.start for s in tile)
            mask = np.ones(shape, dtype=bool)
            for a, (s, d) in enumerate(zip(tile, depth, strict=True)):
                lo = d if s.start > 0 else 0
                hi = d if s.stop < navigation_shape[a] else 0
                if lo + hi >= shape[a]:
                    continue  # a tile thinner than its context: keep it whole
                index = [slice(None)] * len(shape)
                index[a] = slice(0, lo)
                mask[tuple(index)] = False
                index[a] = slice(shape[a] - hi, shape[a])
                mask[tuple(index)] = False
            inside[self._place(offset, shape)] = mask
        return inside & self.valid

    @staticmethod
    def _place(offset, shape):
        return (slice(offset, offset + shape[0]), *(slice(0, n) for n in shape[1:]))


def _read_tiles(X, tiles, scheduler):
    """The tiles' data: views of an in-memory map, read once from a dask array."""
    if not isinstance(X, da.Array):
        return [X[t] for t in tiles]
    return list(dask.compute(*[X[t] for t in tiles], scheduler=scheduler))


def _count_statistics(blocks, keeps, used, preprocessing):
    """Keenan–Kotula constants of the sample: column weights, totals, bin side."""
    totals, col_sums, negative = [], 0.0, 0.0
    for block, keep in zip(blocks, keeps, strict=True):
        flat = block.reshape(-1, block.shape[-1])[keep.reshape(-1)]
        if used is not None:
            flat = flat[:, used]
        totals.append(flat.sum(1, dtype=np.float64))
        col_sums = col_sums + flat.sum(0, dtype=np.float64)
        negative += float(np.minimum(flat, 0).sum(dtype=np.float64))
    totals = np.concatenate(totals)
    counts.check_counts(preprocessing, -negative, float(np.sum(col_sums)) - negative)
    counted = totals[totals > 0]
    _, col_w = counts.poisson_weights(totals, col_sums, len(counted))
    mean = float(counted.mean()) if len(counted) else 0.0
    variance = float(counted.var()) if len(counted) else 0.0
    return col_w, mean, variance, counts.count_aware_bin_side(mean)


#: Rows of the tiles gathered into one product for the sample's moments (small tiles
#: one by one spent more time on per-call overhead than on the product).
MOMENT_BATCH_ROWS = 16384


def _sample_moments(blocks, keeps, used, col_w, preprocessing, bin_side, projection):
    """Moments of the tiles (the layout of :func:`hyperspy_cmeans._features.gram_moments`).

    The tiles' rows (weighted and, at low dose, binned within each tile) are
    gathered into batches of :data:`MOMENT_BATCH_ROWS` for the product, which
    runs in this thread with every BLAS thread.
    """
    n_used = blocks[0].shape[-1] if used is None else int(used.sum())
    weighted = col_w is not None
    moments = np.zeros((n_used + 3, n_used))
    batch, batch_used = [], []

    def flush():
        if batch:
            moments[:] += features.gram_moments(np.concatenate(batch), np.concatenate(batch_used))
            batch.clear()
            batch_used.clear()

    for block, keep_b in zip(blocks, keeps, strict=True):
        sub = block if used is None else block[..., used]
        flat_keep = keep_b.reshape(-1)
        if not flat_keep.any():
            continue
        row_w = noise_w = None
        if weighted:
            totals = sub.reshape(-1, n_used).sum(1, dtype=np.float64) * flat_keep
            row_w, _ = counts.poisson_weights(totals, np.ones(1), 1)
            noise_w = projection.factors(totals) ** 2
        rows, rows_used, noise_row = features._moment_rows(
            sub, flat_keep, row_w, col_w, preprocessing == "snv", bin_side, noise_w
        )
        if noise_row is not None:
            moments[n_used + 2] += noise_row
        batch.append(rows)
        batch_used.append(rows_used)
        if sum(len(r) for r in batch) >= MOMENT_BATCH_ROWS:
            flush()
    flush()
    return moments


def _moment_tiles(keeps, mean_total, moment_counts):
    """Indices of tiles spread over the sample holding about ``moment_counts`` counts."""
    if not moment_counts or not mean_total > 0:
        return slice(None)
    sizes = np.array([k.sum() for k in keeps], dtype=float)
    needed = moment_counts / mean_total
    if sizes.sum() <= 1.25 * needed:
        return slice(None)
    n_tiles = int(np.clip(math.ceil(needed / sizes.mean()), 1, len(keeps)))
    return sorted(set(np.linspace(0, len(keeps) - 1, n_tiles).round().astype(int).tolist()))


def sample_data_space(
    X, keep, tiles, n_components, preprocessing, channels=None, scheduler=None, moment_counts=None
):
    """Learn the data space from the tiles of a map.

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array
        The map, ``(*navigation_shape, n_channels)``.
    keep : numpy.ndarray
        ``navigation_shape`` bool, pixels in use.
    tiles : list of tuple of slice
        From :func:`choose_tiles`.
    n_components : int
        Components of the data space.
    preprocessing : str
        One of :data:`hyperspy_cmeans._features.PREPROCESSING`.
    channels : numpy.ndarray of int, optional
        Channels in use (default all).
    scheduler : str, optional
        Dask scheduler for reading the tiles of a dask array.
    moment_counts : float, optional
        With a count weighting: the channel covariance (the costly part, a
        channels x channels product per pixel) is accumulated from tiles
        spread over the sample that hold about this many counts, instead of
        all of them (the sample of a chunked map is at least
        :data:`MIN_CHUNK_TILES` chunks, often more than the counts need).

    Returns
    -------
    SampleSpace
    """
    n_channels = X.shape[-1]
    used = None
    if channels is not None:
        used = np.zeros(n_channels, dtype=bool)
        used[np.asarray(channels)] = True
    blocks = _read_tiles(X, tiles, scheduler)
    keeps = [keep[t] for t in tiles]
    n_used = n_channels if used is None else int(used.sum())
    n_kept = int(sum(k.sum() for k in keeps))
    features._validate((n_kept, n_used), n_components, preprocessing)
    weighted = preprocessing in features._POISSON_WEIGHTED
    col_w, bin_side, mean_total, variance = None, 1, 0.0, 0.0
    if weighted:
        col_w, mean_total, variance, bin_side = _count_statistics(
            blocks, keeps, used, preprocessing
        )
    projection = Projection(
        np.zeros((n_channels, n_components), np.float32),
        np.zeros(n_components),
        preprocessing,
        used,
        mean_total,
        mean_total,
        variance,
    )
    chosen = _moment_tiles(keeps, mean_total, moment_counts) if weighted else slice(None)
    moments = _sample_moments(
        [blocks[i] for i in chosen] if isinstance(chosen, list) else blocks,
        [keeps[i] for i in chosen] if isinstance(chosen, list) else keeps,
        used, col_w, preprocessing, bin_side, projection,
    )  # fmt: skip
    mean, scale, components, explained = features._principal_axes(
        moments, n_used, n_components, preprocessing
    )
    weights = components.T / scale[:, None]
    if weighted:
        weights = weights * col_w[:, None]
    full = np.zeros((n_channels, n_components))
    full[np.flatnonzero(used) if used is not None else slice(None)] = weights
    projection.weights = full.astype(np.float32)
    if not weighted:
        projection.bias = (mean / scale) @ components.T
    scores = []
    for block, keep_b in zip(blocks, keeps, strict=True):
        z, _ = projection.scores(projection.rows(block, keep_b.reshape(-1)), keep_b.reshape(-1))
        scores.append(z.reshape(keep_b.shape + (n_components,)))
    noise = None
    if weighted:
        stacked = np.concatenate([z.reshape(-1, n_components) for z in scores])
        ok = np.all(np.isfinite(stacked), axis=1)
        bias = stacked[ok].mean(0) if ok.any() else np.zeros(n_components)
        projection.bias = bias
        scores = [z - bias for z in scores]
        noise = counts.score_noise_covariance(weights, moments[n_used + 2] / max(int(ok.sum()), 1))
    mosaic, valid, offsets = _mosaic(scores)
    return SampleSpace(
        projection,
        components,
        explained,
        mean,
        scale,
        noise,
        bin_side,
        list(tiles),
        mosaic,
        valid,
        int(sum(k.size for k in keeps)),
        offsets,
    )


def _mosaic(grids):
    """Stack ``(*shape_k, F)`` grids along the first axis with one NaN row between them."""
    nav_ndim = grids[0].ndim - 1
    rest = [max(g.shape[a] for g in grids) for a in range(1, nav_ndim)]
    length = sum(g.shape[0] for g in grids) + len(grids) - 1
    mosaic = np.full((length, *rest, grids[0].shape[-1]), np.nan)
    offsets, start = [], 0
    for g in grids:
        mosaic[SampleSpace._place(start, g.shape[:-1])] = g
        offsets.append(start)
        start += g.shape[0] + 1
    return mosaic, np.all(np.isfinite(mosaic), axis=-1), offsets
