"""Result types that the methods of :class:`~hyperspy_cmeans.EDSSEMCmeansSpectrum` return.

- :class:`ClusterNumberScan`: ``estimate_number_of_fuzzy_clusters(...,
  return_info=True)``.
- :class:`EnergyCalibration` (with its :class:`LineMatch` lines and its
  :class:`QualityGate`): ``calibrate_energy_from_peaks(..., return_info=True)``;
  :class:`EnergyCalibrationError`, the ``ValueError`` of a refused
  calibration, carries the refused result.
"""

from hyperspy_cmeans._calibration import (
    EnergyCalibration,
    EnergyCalibrationError,
    LineMatch,
    QualityGate,
)

__all__ = [
    "ClusterNumberScan",
    "EnergyCalibration",
    "EnergyCalibrationError",
    "LineMatch",
    "QualityGate",
]


class ClusterNumberScan:
    """Result of :meth:`EDSSEMCmeansSpectrum.estimate_number_of_fuzzy_clusters`.

    Parameters
    ----------
    estimate : int
        The number of clusters with the best index value.
    metric : str
        The validity index used.
    n_clusters : list of int
        The numbers of clusters tried.
    values : list of float
        The index for each number of clusters.
    memberships : dict or None
        ``{n: (n, *navigation_shape) memberships}`` of every run, in stable
        cluster order, or None if they were not kept.
    extent : list of float, optional
        ``imshow`` extent of the map, so plotted pixels keep their aspect.
    noise_splits : list of int, optional
        The numbers of clusters whose clustering split a phase by noise alone
        (the noise guard); none of them is the estimate.

    Attributes
    ----------
    estimate, metric, n_clusters, values, memberships, noise_splits
        As the parameters.
    """

    def __init__(
        self, estimate, metric, n_clusters, values, memberships, extent=None, noise_splits=None
    ):
        self.estimate = estimate
        self.metric = metric
        self.n_clusters = n_clusters
        self.values = values
        self.memberships = memberships
        self.noise_splits = list(noise_splits or [])
        self._extent = extent

    def __repr__(self):
        pairs = ", ".join(
            f"{n}: {v:.4g}" for n, v in zip(self.n_clusters, self.values, strict=True)
        )
        return f"<ClusterNumberScan {self.metric} {{{pairs}}} -> {self.estimate}>"

    def plot_memberships(self, fig=None):
        """Membership maps of every run, one row per number of clusters.

        Parameters
        ----------
        fig : matplotlib.figure.Figure, optional
            Figure to draw in (a new one by default).

        Returns
        -------
        numpy.ndarray of matplotlib.axes.Axes
            ``(rows, columns)`` axes: one row per number of clusters, cluster
            colours as in every other plot of the package.

        Raises
        ------
        ValueError
            If the memberships were not kept, or the map is not 2-D.
        """
        from hyperspy_cmeans import _drawing as drawing

        if not self.memberships:
            raise ValueError("run the scan with keep_memberships=True to plot its memberships.")
        return drawing.plot_memberships_per_n(
            self.memberships,
            dict(zip(self.n_clusters, self.values, strict=True)),
            self.estimate,
            self.metric,
            extent=self._extent,
            fig=fig,
        )
