"""Spatial regularisation of the data space, for fuzzy clustering of low-dose maps.

Neighbouring pixels of a spectrum image usually belong to the same phase; a
pixel with 5 counts cannot be classified on its own, but it can borrow the
counts of the neighbours that are statistically indistinguishable from it.
This module smooths the data-space scores (the PCA coordinates that the
c-means estimators cluster) with weights that adapt to the noise, so that

- at low counts a pixel is averaged with its neighbourhood, up to the point
  where the data space reaches a signal-to-noise ratio at which per-pixel
  clustering is reliable;
- at high counts nothing changes (the strength is zero above that ratio);
- neighbours whose scores differ by more than the noise allows are never
  averaged, so sharp interfaces stay sharp and thin phases (rims one or two
  pixels wide, small inclusions) stay visible.

Every c-means algorithm then clusters the regularised scores unchanged. The
approach is the fuzzy clustering of a locally filtered image (EnFCM,
Szilagyi et al. 2003; FGFCM, Cai, Chen & Zhang 2007; FCM_S1 and FCM_S2 of
Chen & Zhang 2004 give the same labels as clustering a mean- or
median-filtered image), with the filter replaced by the propagation-separation
approach of adaptive weights smoothing (Polzehl & Spokoiny 2000, 2006), in
which the similarity of two pixels is a test statistic in units of the noise.

Method
------
Let ``z_i`` be the ``F`` scores of pixel ``i`` and ``S`` the covariance of
their noise (from the Poisson statistics of the counts, or estimated from
differences between neighbouring pixels). Adaptive weights smoothing
iterates over growing bandwidths ``h_1 < h_2 < ... < h_K``; at step ``k``

.. math::

    s_{ij} = \\frac{(\\theta_i - \\theta_j)^T S^{-1} (\\theta_i - \\theta_j)}{\\nu_i + \\nu_j},
    \\qquad
    w_{ij} = K_{loc}(|i - j|^2 / h_k^2)\\, K_{st}(s_{ij}),

    \\theta_i \\leftarrow \\frac{\\sum_j w_{ij} z_j}{\\sum_j w_{ij}}, \\qquad
    \\nu_i \\leftarrow \\frac{\\sum_j w_{ij}^2}{(\\sum_j w_{ij})^2},

starting from ``theta = z`` and ``nu = 1``: ``nu_i S`` is the noise
covariance of the current estimate ``theta_i``, so ``s_ij`` is the
chi-squared statistic (``F`` degrees of freedom) of the hypothesis that
pixels ``i`` and ``j`` have the same expected scores. ``K_loc(u) = (1 - u)+``
is the location kernel of Polzehl & Spokoiny; the statistical kernel
``K_st`` is 1 up to the 90 % quantile of the chi-squared distribution and
falls linearly to 0 at its 99.9 % quantile. Weights are always computed
from the estimates of the previous step and applied to the raw scores ``z``.
Distances are in units of the smallest pixel spacing (``spacing``), so
anisotropic pixels and serial sections (3-D navigation: neighbours in z)
are handled; masked pixels are nobody's neighbours.

Automatic strength
------------------
In a homogeneous region the final weights are those of ``K_loc`` at the
largest bandwidth ``h_K``, which averages ``N(h_K) = (sum K)^2 / sum K^2``
pixels and divides the noise variance by ``N``. With ``S`` the noise
covariance and ``T`` the covariance of the scores over the map, the
signal-to-noise ratio of the data space is ``snr = tr(T) / tr(S) - 1``; the
automatic strength averages ``N = snr_target / snr`` pixels (1, i.e. no
smoothing, when ``snr >= snr_target``; at most :data:`MAX_EQUIVALENT_PIXELS`)
with ``snr_target = 20`` (:data:`SNR_TARGET`), the value at which the
clustering of both the synthetic grain maps and Poisson draws of the study's
map stopped improving (``benchmarks/RESULTS.md``). For Keenan-Kotula
weighted scores the noise variance is about ``1 / counts per pixel``, so the
strength falls as the dose rises and vanishes above a few hundred counts per
pixel.

Chunked maps
------------
The result at a pixel depends only on the pixels within
:func:`RegularisationPlan.depth` of it, and every operation is elementwise
with a fixed order of the neighbour offsets, so applying
:func:`apply_plan` to overlapping blocks (:func:`regularise_scores_dask`,
with ``dask.array.map_overlap``) gives exactly, bit for bit, the result of
the whole map. The global quantities (noise covariance, strength) are
computed once, rounded to 10 significant digits and passed to every block in
a :class:`RegularisationPlan`.

Also here: the per-pixel noise of Poisson data-space scores
(:func:`poisson_noise_covariance`), a robust estimate of the noise from
neighbouring pixels (:func:`empirical_noise_covariance`), the masking of
pixels without counts (:func:`empty_pixel_mask`) and a guard against
clusters that are noise splits of one phase (:func:`cluster_distinguishability`).

Nothing here imports HyperSpy.
"""

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

#: Signal-to-noise ratio of the data space above which the automatic strength is zero.
SNR_TARGET = 20.0
#: Largest number of equivalent pixels averaged by the automatic strength.
MAX_EQUIVALENT_PIXELS = 100.0
#: Chi-squared quantiles where the statistical kernel starts falling and reaches zero.
STATISTICAL_QUANTILES = (0.9, 0.999)
#: Ratio of the equivalent numbers of pixels of successive bandwidths.
STEP_RATIO = 2.0
#: Significant digits of the plan's constants (identical for eager and block-wise runs).
PLAN_DIGITS = 10
#: Largest bandwidth (in pixels) accepted as a strength.
MAX_BANDWIDTH = 25.0


def _round_significant(x, digits=PLAN_DIGITS):
    """Round to ``digits`` significant digits (element-wise), so that two
    computations of a global constant that differ by rounding agree exactly."""
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    nz = np.isfinite(x) & (x != 0)
    exponent = np.floor(np.log10(np.abs(x[nz])))
    scale = 10.0 ** (digits - 1 - exponent)
    out[nz] = np.round(x[nz] * scale) / scale
    out[~np.isfinite(x)] = x[~np.isfinite(x)]
    return out if out.ndim else float(out)


# ----------------------------------------------------------------------------- geometry


def _check_spacing(spacing, ndim):
    if spacing is None:
        return (1.0,) * ndim
    spacing = tuple(float(s) for s in np.broadcast_to(np.asarray(spacing, dtype=float), (ndim,)))
    if not all(np.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f"spacing must hold positive numbers, got {spacing!r}.")
    return spacing


def _offsets(bandwidth, spacing):
    """Integer neighbour offsets strictly closer than ``bandwidth`` and their squared distances.

    Distances are measured in units of the smallest spacing. The order
    (lexicographic in the offsets) is fixed: it is the order of summation.
    """
    unit = min(spacing)
    rel = [s / unit for s in spacing]
    reach = [int(math.floor(bandwidth / r)) for r in rel]
    grids = np.meshgrid(*[np.arange(-n, n + 1) for n in reach], indexing="ij")
    offs = np.stack([g.ravel() for g in grids], axis=1)
    d2 = sum((offs[:, a] * rel[a]) ** 2 for a in range(len(rel)))
    keep = d2 < bandwidth**2
    return [tuple(int(v) for v in o) for o in offs[keep]], d2[keep].astype(float)


def equivalent_pixels(bandwidth, spacing):
    """Number of pixels averaged by the location kernel in a homogeneous region.

    Parameters
    ----------
    bandwidth : float
        Bandwidth ``h`` in units of the smallest pixel spacing.
    spacing : sequence of float
        Pixel spacing along each navigation axis (NumPy order).

    Returns
    -------
    float
        ``(sum_j K_j)^2 / sum_j K_j^2`` with ``K_j = 1 - |j|^2 / h^2``: the factor by
        which the kernel's weighted mean divides the noise variance.
    """
    if bandwidth <= 1.0:
        return 1.0
    _, d2 = _offsets(bandwidth, spacing)
    k = 1.0 - d2 / bandwidth**2
    return float(k.sum() ** 2 / (k**2).sum())


def bandwidth_for(n_pixels, spacing):
    """Smallest bandwidth whose location kernel averages ``n_pixels`` pixels (bisection).

    Returns 0 for ``n_pixels <= 1`` (no smoothing).
    """
    if n_pixels <= 1.0:
        return 0.0
    lo, hi = 1.0, 1.5
    while equivalent_pixels(hi, spacing) < n_pixels:
        lo, hi = hi, hi * 1.5
        if hi > 4 * MAX_BANDWIDTH:
            return float(hi)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if equivalent_pixels(mid, spacing) < n_pixels:
            lo = mid
        else:
            hi = mid
    return float(hi)


def _bandwidth_steps(bandwidth, spacing):
    """Growing bandwidths ending at ``bandwidth``: each averages :data:`STEP_RATIO` times
    fewer pixels than the next, the first at least two."""
    if bandwidth <= 1.0:
        return []
    steps = [float(bandwidth)]
    n = equivalent_pixels(bandwidth, spacing)
    while n / STEP_RATIO >= 2.0:
        n /= STEP_RATIO
        steps.append(_round_significant(bandwidth_for(n, spacing), 6))
    return steps[::-1]


def _pair_slices(shape, offset):
    """``(target, source)`` slices: ``source`` pixel = ``target`` pixel + ``offset``."""
    tgt, src = [], []
    for n, o in zip(shape, offset, strict=True):
        if o >= 0:
            tgt.append(slice(0, max(n - o, 0)))
            src.append(slice(o, n))
        else:
            tgt.append(slice(-o, n))
            src.append(slice(0, max(n + o, 0)))
    return tuple(tgt), tuple(src)


# ----------------------------------------------------------------------------- noise


def poisson_noise_covariance(projection, mean_weighted_counts):
    """Noise covariance of linear data-space scores of Poisson counts, averaged over pixels.

    Scores of the form ``z_i = r_i (x_i @ W) - b`` (PCA scores with any channel
    scaling and Keenan-Kotula row weights ``r_i = 1 / sqrt(total_i)``, or ``r_i = 1``)
    of counts ``x_ij ~ Poisson(lambda_ij)`` have the noise covariance
    ``r_i^2 W^T diag(lambda_i) W``; its average over the pixels is
    ``W^T diag(m) W`` with ``m_j = mean_i(r_i^2 x_ij)``, an unbiased estimate
    because ``E[x_ij] = lambda_ij``.

    Parameters
    ----------
    projection : numpy.ndarray
        ``W``, ``(n_channels, n_features)``: the channel weights of each score
        (principal axes divided by the channel scale, times the Poisson column
        weights if any).
    mean_weighted_counts : numpy.ndarray
        ``m``, ``(n_channels,)``: mean over the used pixels of ``r_i^2 x_ij``
        (the mean spectrum without row weights; the mean of the spectra divided
        by their totals with Keenan-Kotula weights).

    Returns
    -------
    numpy.ndarray
        ``(n_features, n_features)`` noise covariance.
    """
    W = np.asarray(projection, dtype=float)
    m = np.asarray(mean_weighted_counts, dtype=float)
    if W.ndim != 2 or m.shape != (W.shape[0],):
        raise ValueError(
            "projection must be (n_channels, n_features) and the counts (n_channels,)."
        )
    return (W * m[:, None]).T @ W


def _neighbour_differences(scores, valid):
    """Differences between first neighbours along each axis, both pixels valid."""
    out = []
    nav_ndim = scores.ndim - 1
    for axis in range(nav_ndim):
        n = scores.shape[axis]
        if n < 2:
            continue
        a = [slice(None)] * nav_ndim
        b = [slice(None)] * nav_ndim
        a[axis], b[axis] = slice(1, n), slice(0, n - 1)
        a, b = tuple(a), tuple(b)
        ok = valid[a] & valid[b]
        out.append((scores[a] - scores[b])[ok])
    return np.concatenate(out) if out else np.empty((0, scores.shape[-1]))


def empirical_noise_covariance(scores, mask=None, trim=0.999, n_iter=10):
    """Robust estimate of the noise covariance from neighbouring pixels.

    Half the covariance of the differences between first neighbours (as in the
    minimum noise fraction transform, Green et al. 1988): noise that is
    independent from pixel to pixel doubles in a difference, whereas the signal
    of two pixels of one phase cancels. Differences across interfaces are
    outliers; they are trimmed by iterating a covariance of the differences
    whose squared Mahalanobis norm is below the ``trim`` quantile of the
    chi-squared distribution, with the consistency factor of a trimmed normal
    distribution (a simple minimum covariance determinant, Rousseeuw 1984).
    The noise of Poisson scores differs between phases, so a stronger trim
    underestimates it: on the synthetic maps this estimate is 0.86-1.0 times
    the Poisson noise with ``trim=0.999`` but 0.63-0.68 times with 0.9.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(*navigation_shape, n_features)``.
    mask : numpy.ndarray of bool, optional
        ``navigation_shape``, True for excluded pixels.
    trim : float
        Chi-squared quantile at which differences are trimmed.
    n_iter : int
        Iterations of the trimmed covariance.

    Returns
    -------
    numpy.ndarray
        ``(n_features, n_features)`` noise covariance of one pixel's scores.

    Raises
    ------
    ValueError
        If no two valid pixels are neighbours.
    """
    scores = np.asarray(scores, dtype=float)
    valid = _valid_pixels(scores, mask)
    diff = _neighbour_differences(scores, valid)
    n_features = scores.shape[-1]
    if len(diff) <= n_features:
        raise ValueError("too few neighbouring pixels to estimate the noise from the data.")
    cov = diff.T @ diff / len(diff)
    cut = stats.chi2.ppf(trim, n_features)
    consistency = trim / stats.chi2.cdf(cut, n_features + 2)
    for _ in range(n_iter):
        try:
            inv = np.linalg.inv(cov)
        except np.linalg.LinAlgError:
            break
        d2 = np.einsum("ni,ij,nj->n", diff, inv, diff)
        keep = d2 <= cut
        if keep.sum() <= n_features:
            break
        new = consistency * (diff[keep].T @ diff[keep]) / keep.sum()
        if np.allclose(new, cov, rtol=1e-6, atol=0):
            cov = new
            break
        cov = new
    cov = 0.5 * (cov + cov.T)
    # features without measurable noise (a denoised decomposition, maps of a model) give
    # a singular estimate: a floor far below any signal keeps it usable (and "auto" off)
    floor = 1e-9 * max(float(np.trace(cov)), np.finfo(float).tiny) / n_features
    return 0.5 * cov + floor * np.eye(n_features)


# ----------------------------------------------------------------------------- plan


@dataclass
class RegularisationPlan:
    """Everything a block needs to regularise its scores identically to the whole map.

    Attributes
    ----------
    bandwidths : list of float
        The growing bandwidths of the propagation-separation steps (pixels, in
        units of the smallest spacing); empty when the strength is zero.
    whitening : numpy.ndarray
        ``(n_features, n_features)`` matrix ``L`` with ``L^T L = S^{-1}`` for
        the noise covariance ``S``.
    spacing : tuple of float
        Pixel spacing along each navigation axis.
    thresholds : tuple of float
        The chi-squared values where the statistical kernel starts falling and
        where it reaches zero.
    info : dict
        Plain-typed description for ``learning_results`` (see
        :func:`regularise_scores`).
    """

    bandwidths: list
    whitening: np.ndarray
    spacing: tuple
    thresholds: tuple
    info: dict = field(default_factory=dict)

    @property
    def depth(self):
        """Pixels of context needed on each side of a block, per navigation axis."""
        unit = min(self.spacing)
        return tuple(
            int(sum(math.floor(h * unit / s) for h in self.bandwidths)) for s in self.spacing
        )

    @property
    def active(self):
        """Whether the plan changes the scores at all."""
        return bool(self.bandwidths)


def _valid_pixels(scores, mask):
    nav_shape = scores.shape[:-1]
    valid = np.all(np.isfinite(scores), axis=-1)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != nav_shape:
            if mask.size != int(np.prod(nav_shape)):
                raise ValueError(
                    f"mask has shape {mask.shape}; it must match the navigation shape {nav_shape}."
                )
            mask = mask.reshape(nav_shape)
        valid &= ~mask
    return valid


def _check_noise(noise, n_features):
    noise = np.asarray(noise, dtype=float)
    if noise.ndim == 0:
        noise = noise * np.eye(n_features)
    elif noise.ndim == 1 and noise.shape == (n_features,):
        noise = np.diag(noise)
    if noise.shape != (n_features, n_features):
        raise ValueError(
            f"noise must be a variance, {n_features} variances or a "
            f"({n_features}, {n_features}) covariance; got shape {noise.shape}."
        )
    noise = 0.5 * (noise + noise.T)
    if not np.all(np.isfinite(noise)) or np.linalg.eigvalsh(noise).min() <= 0:
        raise ValueError("the noise covariance must be finite and positive definite.")
    return noise


def _moments(scores, valid):
    """Mean and covariance of the valid pixels' scores (float64)."""
    x = scores[valid]
    mean = x.mean(axis=0)
    d = x - mean
    return mean, d.T @ d / max(len(x) - 1, 1)


def make_plan(
    score_covariance, noise, strength="auto", spacing=None, ndim=2, snr_target=None, source=None
):
    """Decide the bandwidths of the regularisation from global statistics.

    Parameters
    ----------
    score_covariance : numpy.ndarray
        ``(F, F)`` covariance of the scores over the used pixels.
    noise : numpy.ndarray
        ``(F, F)`` noise covariance of one pixel's scores.
    strength : "auto", float, 0 or None
        ``"auto"``: from the signal-to-noise ratio (module docstring); a number:
        the largest bandwidth in pixels; 0 or None: no regularisation.
    spacing : sequence of float, optional
        Pixel spacing per navigation axis (default 1).
    ndim : int
        Number of navigation axes.
    snr_target : float, optional
        Signal-to-noise ratio the automatic strength aims at (default
        :data:`SNR_TARGET`).
    source : str, optional
        Where the noise covariance came from (recorded in ``info``).

    Returns
    -------
    RegularisationPlan
    """
    spacing = _check_spacing(spacing, ndim)
    n_features = np.shape(score_covariance)[0]
    noise = _round_significant(_check_noise(noise, n_features))
    total = np.asarray(score_covariance, dtype=float)
    snr = float(np.trace(total) / np.trace(noise) - 1.0)
    snr_target = SNR_TARGET if snr_target is None else float(snr_target)
    if isinstance(strength, str):
        if strength != "auto":
            raise ValueError(f"strength={strength!r}; use 'auto', a number >= 0, 0 or None.")
        target = min(max(snr_target / max(snr, 1e-12), 1.0), MAX_EQUIVALENT_PIXELS)
        bandwidth = bandwidth_for(target, spacing) if target > 1.0 else 0.0
    elif strength is None or (isinstance(strength, numbers.Real) and strength == 0):
        target, bandwidth = 1.0, 0.0
    elif isinstance(strength, numbers.Real) and not isinstance(strength, bool) and strength > 0:
        if strength > MAX_BANDWIDTH:
            raise ValueError(f"strength={strength} pixels is larger than {MAX_BANDWIDTH}.")
        bandwidth = float(strength)
        target = equivalent_pixels(bandwidth, spacing)
    else:
        raise ValueError(f"strength={strength!r}; use 'auto', a number >= 0, 0 or None.")
    bandwidth = _round_significant(bandwidth, 6) if bandwidth > 1.0 else 0.0
    steps = _bandwidth_steps(bandwidth, spacing)
    chol = np.linalg.cholesky(noise)
    whitening = _round_significant(np.linalg.inv(chol))  # L S L^T = I
    thresholds = tuple(float(stats.chi2.ppf(q, n_features)) for q in STATISTICAL_QUANTILES)
    info = {
        "method": "adaptive_weights_smoothing" if steps else "none",
        "strength": "auto" if isinstance(strength, str) else (float(strength) if strength else 0.0),
        "bandwidth": float(steps[-1]) if steps else 0.0,
        "bandwidths": [float(h) for h in steps],
        "equivalent_pixels": float(equivalent_pixels(steps[-1], spacing)) if steps else 1.0,
        "snr": snr,
        "snr_target": snr_target,
        "noise_covariance": noise,
        "noise_source": source,
        "spacing": list(spacing),
        "statistical_quantiles": list(STATISTICAL_QUANTILES),
    }
    return RegularisationPlan(steps, whitening, spacing, thresholds, info)


def plan_regularisation(
    scores, mask=None, noise=None, strength="auto", spacing=None, snr_target=None
):
    """The :class:`RegularisationPlan` of an in-memory map of scores.

    Parameters are those of :func:`regularise_scores`.

    Returns
    -------
    RegularisationPlan
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim < 2:
        raise ValueError("scores must be (*navigation_shape, n_features).")
    valid = _valid_pixels(scores, mask)
    if valid.sum() < 2:
        raise ValueError("fewer than two valid pixels.")
    _, total = _moments(scores, valid)
    if noise is None:
        noise, source = empirical_noise_covariance(scores, ~valid), "neighbour_differences"
    else:
        source = "given"
    return make_plan(total, noise, strength, spacing, scores.ndim - 1, snr_target, source)


# ----------------------------------------------------------------------------- smoothing


def apply_plan(scores, valid, plan):
    """Regularise the scores of a map or of a block (with its context) by ``plan``.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(*shape, F)`` float64 scores; invalid pixels may hold anything.
    valid : numpy.ndarray of bool
        ``shape``: pixels that take part (True) or are masked (False).
    plan : RegularisationPlan
        From :func:`plan_regularisation` or :func:`make_plan`.

    Returns
    -------
    numpy.ndarray
        ``(*shape, F)`` regularised scores, NaN at invalid pixels.

    Notes
    -----
    Every operation is elementwise over pixels, with the neighbour offsets in a
    fixed order, so a pixel's result depends only on the pixels within
    ``plan.depth`` of it and is bitwise identical whichever block it is
    computed in.
    """
    z = np.asarray(scores, dtype=np.float64)
    shape = z.shape[:-1]
    n_features = z.shape[-1]
    valid = np.asarray(valid, dtype=bool)
    out = np.full(z.shape, np.nan)
    if not plan.active:
        out[valid] = z[valid]
        return out
    zc = np.where(valid[..., None], z, 0.0)
    # whitened scores: unit noise covariance
    L = plan.whitening
    y = [sum(L[a, b] * zc[..., b] for b in range(n_features)) for a in range(n_features)]
    theta = [ya.copy() for ya in y]
    nu = np.ones(shape)
    t0, t1 = plan.thresholds
    inv_span = 1.0 / (t1 - t0)
    for h in plan.bandwidths:
        offsets, d2 = _offsets(h, plan.spacing)
        num = [np.zeros(shape) for _ in range(n_features)]
        den = np.zeros(shape)
        den2 = np.zeros(shape)
        for off, dist2 in zip(offsets, d2, strict=True):
            tgt, src = _pair_slices(shape, off)
            k_loc = 1.0 - dist2 / (h * h)
            s = np.zeros(den[tgt].shape)
            for a in range(n_features):
                diff = theta[a][src] - theta[a][tgt]
                s += diff * diff
            s /= nu[src] + nu[tgt]
            w = np.clip((t1 - s) * inv_span, 0.0, 1.0) * k_loc
            w *= valid[src] & valid[tgt]
            for a in range(n_features):
                num[a][tgt] += w * y[a][src]
            den[tgt] += w
            den2[tgt] += w * w
        safe = np.where(den > 0, den, 1.0)
        theta = [na / safe for na in num]
        nu = np.where(den > 0, den2 / (safe * safe), 1.0)
    # back from whitened units: z = L^{-1} y (L is lower triangular)
    Linv = np.linalg.inv(L)
    for a in range(n_features):
        comp = sum(Linv[a, b] * theta[b] for b in range(n_features))
        out[..., a] = np.where(valid, comp, np.nan)
    return out


def regularise_scores(
    scores, mask=None, noise=None, strength="auto", spacing=None, snr_target=None
):
    """Spatially regularise data-space scores with noise-adaptive weights.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(*navigation_shape, n_features)`` scores of every pixel of a line
        scan, map or stack of maps (NumPy order, features last); masked pixels
        may hold NaN.
    mask : numpy.ndarray of bool, optional
        ``navigation_shape`` (or flat), True for pixels to exclude: they are
        nobody's neighbours and come back as NaN.
    noise : float or numpy.ndarray, optional
        Noise covariance of one pixel's scores: a ``(F, F)`` matrix, ``F``
        variances or one variance. From the counts with
        :func:`poisson_noise_covariance`; by default estimated from
        differences between neighbouring pixels
        (:func:`empirical_noise_covariance`).
    strength : "auto", float, 0 or None
        ``"auto"`` (default): as much smoothing as brings the data space to
        a signal-to-noise ratio of ``snr_target`` (none for high-count maps);
        a number: the largest bandwidth in pixels (``1.5`` averages about 3
        pixels in a homogeneous 2-D region, ``2`` about 6, ``4`` about 24;
        up to 1 averages nothing); ``0`` or ``None``: off. Large fixed
        strengths on high-count maps make the clusters nearly point-like,
        which Gustafson-Kessel's equal-volume clusters fit badly (the
        automatic strength stops at a signal-to-noise ratio of 20).
    spacing : sequence of float, optional
        Pixel size along each navigation axis (NumPy order), e.g. the slice
        spacing and the pixel size of serial sections; distances are in units
        of the smallest. Default: 1 for every axis.
    snr_target : float, optional
        Default :data:`SNR_TARGET`.

    Returns
    -------
    regularised : numpy.ndarray
        Same shape as ``scores``, NaN at masked pixels; the scores themselves
        (at valid pixels) when the strength is zero.
    info : dict
        Plain-typed description to record in ``learning_results``:
        ``method`` ("adaptive_weights_smoothing" or "none"), ``strength``
        (as asked), ``bandwidth`` and ``bandwidths`` (pixels),
        ``equivalent_pixels`` (noise-variance reduction in homogeneous
        regions), ``snr`` (of the input scores), ``snr_target``,
        ``noise_covariance``, ``noise_source`` ("given" or
        "neighbour_differences"), ``spacing``, ``statistical_quantiles``.

    Raises
    ------
    ValueError
        For a bad shape, mask, noise or strength.

    Notes
    -----
    See the module docstring for the method, its references and the automatic
    strength.
    """
    scores = np.asarray(scores, dtype=float)
    plan = plan_regularisation(scores, mask, noise, strength, spacing, snr_target)
    valid = _valid_pixels(scores, mask)
    return apply_plan(scores, valid, plan), plan.info


def regularise_features(
    features, navigation_shape, mask=None, noise=None, strength="auto", spacing=None,
    snr_target=None,
):  # fmt: skip
    """:func:`regularise_scores` for the pipeline's flat features of the unmasked pixels.

    Parameters
    ----------
    features : numpy.ndarray
        ``(n_used_pixels, n_features)``: the features of the pixels that are not
        masked, in row-major pixel order (as ``fuzzy_cluster`` builds them).
    navigation_shape : tuple of int
        The map's navigation shape in NumPy order.
    mask : numpy.ndarray of bool, optional
        Flat or ``navigation_shape`` mask, True for excluded pixels (the
        package's ``navigation_mask`` convention); ``n_used_pixels`` must equal
        the number of False values.
    noise, strength, spacing, snr_target
        As in :func:`regularise_scores`.

    Returns
    -------
    regularised : numpy.ndarray
        ``(n_used_pixels, n_features)`` in the same order.
    info : dict
        As in :func:`regularise_scores`.
    """
    features = np.asarray(features, dtype=float)
    navigation_shape = tuple(int(n) for n in navigation_shape)
    size = int(np.prod(navigation_shape))
    keep = np.ones(size, dtype=bool) if mask is None else ~np.asarray(mask, dtype=bool).ravel()
    if keep.size != size or features.shape[0] != int(keep.sum()):
        raise ValueError(
            f"features has {features.shape[0]} rows but the mask leaves {int(keep.sum())} of "
            f"{size} pixels."
        )
    grid = np.full((size, features.shape[1]), np.nan)
    grid[keep] = features
    grid = grid.reshape(navigation_shape + (features.shape[1],))
    out, info = regularise_scores(
        grid, ~keep.reshape(navigation_shape), noise, strength, spacing, snr_target
    )
    return out.reshape(size, -1)[keep], info


def regularise_scores_dask(
    scores, mask=None, noise=None, strength="auto", spacing=None, snr_target=None
):
    """Block-wise :func:`regularise_scores` of a dask array of scores.

    The global statistics are reduced over the blocks first (into a
    :class:`RegularisationPlan`), then every block is regularised with
    ``dask.array.map_overlap`` and a context of ``plan.depth`` pixels, so
    the result equals the in-memory one exactly, across chunk borders.

    Parameters
    ----------
    scores : dask.array.Array
        ``(*navigation_shape, n_features)``, any navigation chunks; the feature
        axis is made a single chunk.
    mask, noise, strength, spacing, snr_target
        As in :func:`regularise_scores` (``mask`` a NumPy or dask array).

    Returns
    -------
    regularised : dask.array.Array
        Lazy, same shape and chunks as ``scores``.
    info : dict
        As in :func:`regularise_scores`.
    """
    import dask.array as da

    scores = da.asarray(scores).astype(float)
    nav_ndim = scores.ndim - 1
    scores = scores.rechunk({nav_ndim: -1})
    nav_chunks = scores.chunks[:nav_ndim]
    finite = da.all(da.isfinite(scores), axis=-1)
    if mask is None:
        valid = finite
    else:
        mask = da.asarray(mask).astype(bool).reshape(scores.shape[:-1]).rechunk(nav_chunks)
        valid = finite & ~mask
    zeroed = da.where(valid[..., None], scores, 0.0)
    n = valid.sum()
    s1 = zeroed.sum(axis=tuple(range(nav_ndim)))
    s2 = da.einsum("...i,...j->ij", zeroed, zeroed)
    if noise is None:
        # small: bring the scores and the validity into memory for the robust estimate
        arr, ok = da.compute(scores, valid)
        noise, source = empirical_noise_covariance(arr, ~ok), "neighbour_differences"
    else:
        source = "given"
    n, s1, s2 = da.compute(n, s1, s2)
    n = int(n)
    if n < 2:
        raise ValueError("fewer than two valid pixels.")
    mean = s1 / n
    total = (s2 - n * np.outer(mean, mean)) / (n - 1)
    plan = make_plan(total, noise, strength, spacing, nav_ndim, snr_target, source)
    if not plan.active:
        return da.where(valid[..., None], scores, np.nan), plan.info
    # a context as large as the axis already holds all of it
    depth = {a: min(d, scores.shape[a] - 1) for a, d in enumerate(plan.depth)}
    depth[nav_ndim] = 0

    def block(z, ok):
        return apply_plan(z, ok[..., 0], plan)

    out = da.map_overlap(
        block,
        scores,
        valid[..., None],
        depth=depth,
        boundary="none",
        trim=True,
        dtype=float,
        meta=np.empty((0,) * scores.ndim),
    )
    # map_overlap merges chunks smaller than the context; give back the input's chunks
    return out.rechunk(scores.chunks), plan.info


# ----------------------------------------------------------------------------- empty pixels


def empty_pixel_mask(totals, mask=None, warn=True):
    """Mask the pixels that recorded no counts.

    A pixel without counts carries no information about its phase; with
    Poisson weighting its scores would be the negative mean, a spurious point
    of the data space that a cluster absorbs. It must be masked instead (NaN
    membership, no label).

    Parameters
    ----------
    totals : numpy.ndarray
        Total counts of every pixel (any shape).
    mask : numpy.ndarray of bool, optional
        Pixels already excluded (True), same size.
    warn : bool
        Issue a ``UserWarning`` naming the number of newly masked pixels.

    Returns
    -------
    mask : numpy.ndarray of bool
        Shape of ``totals``: the given mask or-ed with ``totals <= 0``.
    n_empty : int
        Number of pixels masked because they have no counts (and were not
        masked already).
    """
    totals = np.asarray(totals)
    empty = ~(totals > 0)  # NaN totals count as empty as well
    if mask is None:
        mask = np.zeros(totals.shape, dtype=bool)
    mask = np.asarray(mask, dtype=bool).reshape(totals.shape)
    new = empty & ~mask
    n_empty = int(new.sum())
    if n_empty and warn:
        warnings.warn(
            f"{n_empty} pixel(s) recorded no counts; they are masked (NaN membership, no label). "
            "Pass them in navigation_mask to silence this warning.",
            UserWarning,
            stacklevel=2,
        )
    return mask | empty, n_empty


# ----------------------------------------------------------------------------- noise guard


#: Smallest excess of the variance ratio (over 1) for two clusters to count as distinct.
DISTINCT_EXCESS = 0.2


@dataclass
class Distinguishability:
    """Result of :func:`cluster_distinguishability`.

    Attributes
    ----------
    ratio : numpy.ndarray
        ``(c, c)`` symmetric: for each pair of clusters, the variance of the
        raw scores of their pixels along the line joining their centres,
        divided by the variance that the noise alone gives (half the mean
        squared difference between neighbouring pixels); NaN on the diagonal
        and for pairs with too few pixels.
    threshold : numpy.ndarray
        ``(c, c)`` the value below which a ratio means "not distinguishable".
    pairs : list of tuple
        ``(k, l)`` pairs of clusters (``k < l``) that are not distinguishable
        from a noise split of one phase.
    """

    ratio: np.ndarray
    threshold: np.ndarray
    pairs: list

    @property
    def distinguishable(self):
        """True when every pair of clusters is distinguishable."""
        return not self.pairs


def _core_pixels(member, valid):
    """Pixels of ``member`` whose axis neighbours (inside the map) are all members."""
    core = member & valid
    nav_ndim = member.ndim
    for axis in range(nav_ndim):
        n = member.shape[axis]
        for step in (1, -1):
            neighbour = np.ones(member.shape, dtype=bool)
            tgt = [slice(None)] * nav_ndim
            src = [slice(None)] * nav_ndim
            if step == 1:
                tgt[axis], src[axis] = slice(0, n - 1), slice(1, n)
            else:
                tgt[axis], src[axis] = slice(1, n), slice(0, n - 1)
            neighbour[tuple(tgt)] = member[tuple(src)] & valid[tuple(src)]
            core &= neighbour
    return core


def cluster_distinguishability(scores, memberships, mask=None, min_pixels=50, excess=None):
    """Test every pair of clusters against a split of one phase by noise.

    Noise is independent from pixel to pixel, a phase is not: the variance
    of two clusters' pixels along the line joining their centres is, for two
    real phases, the noise variance plus the spread of the phases' means,
    whereas for one phase cut in two by the noise it is the noise variance
    alone, which half the mean squared difference between neighbouring
    pixels measures without any noise model (the ratio is the inverse of
    Geary's (1954) contiguity ratio). So for each pair ``(k, l)``, on the
    pixels whose largest membership is ``k`` or ``l`` and whose neighbours
    along every axis are too (the interfaces with other clusters excluded),
    with ``y = z . (m_k - m_l)`` the raw scores projected on the line joining
    the two clusters' mean scores,

    ``R_kl = var(y) / (mean over neighbour pairs of (y_i - y_j)^2 / 2)``.

    ``R`` is about 1 for a noise split and larger for two phases; a pair is
    not distinguishable when ``R < 1 + max(excess, 4 SE)`` with ``SE`` the
    standard error of ``R`` under white noise (``sqrt(2/n + 3/n_pairs)``).
    The default ``excess`` of :data:`DISTINCT_EXCESS` covers the bias that
    spatial regularisation of the clustered scores gives a noise split (its
    regions are selected on smoothed noise).

    Parameters
    ----------
    scores : numpy.ndarray
        ``(*navigation_shape, n_features)`` raw (not regularised) scores.
    memberships : numpy.ndarray
        ``(*navigation_shape, n_clusters)``; NaN at masked pixels.
    mask : numpy.ndarray of bool, optional
        Excluded pixels (True).
    min_pixels : int
        Pairs with fewer core pixels in either cluster are not tested (NaN).
    excess : float, optional
        Default :data:`DISTINCT_EXCESS`.

    Returns
    -------
    Distinguishability
    """
    z = np.asarray(scores, dtype=float)
    u = np.asarray(memberships, dtype=float)
    nav_shape = z.shape[:-1]
    if u.shape[:-1] != nav_shape:
        u = u.reshape(nav_shape + (u.shape[-1],))
    excess = DISTINCT_EXCESS if excess is None else float(excess)
    valid = _valid_pixels(z, mask) & np.all(np.isfinite(u), axis=-1)
    labels = np.where(valid, np.argmax(np.nan_to_num(u, nan=-1.0), axis=-1), -1)
    c = u.shape[-1]
    ratio = np.full((c, c), np.nan)
    threshold = np.full((c, c), np.nan)
    pairs = []
    nav_ndim = len(nav_shape)
    for k in range(c):
        for j in range(k + 1, c):
            core = _core_pixels((labels == k) | (labels == j), valid)
            in_k, in_j = core & (labels == k), core & (labels == j)
            if in_k.sum() < min_pixels or in_j.sum() < min_pixels:
                continue
            e = z[in_k].mean(0) - z[in_j].mean(0)
            norm = np.linalg.norm(e)
            if norm == 0:
                ratio[k, j] = ratio[j, k] = 1.0
                threshold[k, j] = threshold[j, k] = 1.0 + excess
                pairs.append((k, j))
                continue
            y = z @ (e / norm)
            total = float(np.var(y[core]))
            sq, n_pairs = 0.0, 0
            for axis in range(nav_ndim):
                n = nav_shape[axis]
                if n < 2:
                    continue
                a = [slice(None)] * nav_ndim
                b = [slice(None)] * nav_ndim
                a[axis], b[axis] = slice(1, n), slice(0, n - 1)
                ok = core[tuple(a)] & core[tuple(b)]
                d = (y[tuple(a)] - y[tuple(b)])[ok]
                sq += float((d * d).sum())
                n_pairs += int(ok.sum())
            if n_pairs < min_pixels:
                continue
            r = total / (0.5 * sq / n_pairs)
            se = math.sqrt(2.0 / core.sum() + 3.0 / n_pairs)
            thr = 1.0 + max(excess, 4.0 * se)
            ratio[k, j] = ratio[j, k] = r
            threshold[k, j] = threshold[j, k] = thr
            if r < thr:
                pairs.append((k, j))
    return Distinguishability(ratio, threshold, pairs)


def warn_indistinguishable(result, stacklevel=2):
    """Warn (``UserWarning``) about the pairs of :func:`cluster_distinguishability`.

    Returns
    -------
    bool
        True when a warning was issued.
    """
    if not result.pairs:
        return False
    listed = ", ".join(
        f"{k} and {j} (ratio {result.ratio[k, j]:.3g} < {result.threshold[k, j]:.3g})"
        for k, j in result.pairs
    )
    warnings.warn(
        f"clusters {listed} are not distinguishable from one phase split by noise at this "
        "dose: their pixels vary no more than the noise between neighbouring pixels. Use "
        "fewer clusters, or a longer acquisition.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
    return True
