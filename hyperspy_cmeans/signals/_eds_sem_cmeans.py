"""The ``EDS_SEM_cmeans`` signal class and its lazy twin.

The class is a thin layer over :class:`exspy.signals.EDSSEMSpectrum`: every
method validates its input and delegates the work to a plain module of this
package that works on NumPy/dask arrays.
"""

import dask.array as da
from exspy.signals import EDSSEMSpectrum, LazyEDSSEMSpectrum
from exspy.utils.eds import take_off_angle

from hyperspy_cmeans._docstrings import fill_docstring


class EDSSEMCmeansSpectrum(EDSSEMSpectrum):
    """EDS spectrum image from an SEM, with fuzzy c-means phase analysis.

    Everything :class:`exspy.signals.EDSSEMSpectrum` does works unchanged;
    this class adds energy calibration from peaks, stage-tilt correction of the
    pixel size, fuzzy c-means clustering and phase maps/spectra.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`exspy.signals.EDSSEMSpectrum` (the data, axes,
        metadata ...). Usually the class is not called directly: load a map
        with ``hs.load(..., signal_type="EDS_SEM_cmeans")`` or convert a
        signal with ``s.set_signal_type("EDS_SEM_cmeans")``.
    """

    _signal_type = "EDS_SEM_cmeans"

    def __init__(self, *args, **kwargs):
        # exspy's signature reads ``**kwards``; this one documents the real name
        super().__init__(*args, **kwargs)

    # exspy chooses the microscope branch of the metadata by comparing
    # ``metadata.Signal.signal_type`` with the string "EDS_SEM", which fails for
    # any subclass with its own signal type. The two methods that do so are
    # overridden here to read the SEM branch, as EDSSEMSpectrum does.

    def _get_line_energy(self, Xray_line, FWHM_MnKa=None):  # noqa: N803 (exspy's name)
        if isinstance(FWHM_MnKa, str) and FWHM_MnKa == "auto":
            FWHM_MnKa = self.metadata.Acquisition_instrument.SEM.Detector.EDS.energy_resolution_MnKa  # noqa: N806
        return super()._get_line_energy(Xray_line, FWHM_MnKa=FWHM_MnKa)

    def get_take_off_angle(self):
        """Calculate the take-off angle of the X-rays from the SEM metadata.

        Returns
        -------
        float
            The take-off angle in degrees, from
            ``metadata.Acquisition_instrument.SEM`` (stage tilts, detector
            azimuth and elevation), exactly as
            :meth:`exspy.signals.EDSSEMSpectrum.get_take_off_angle`.
        """
        mp = self.metadata.Acquisition_instrument.SEM
        return take_off_angle(
            mp.get_item("Stage.tilt_alpha", None),
            mp.get_item("Detector.EDS.azimuth_angle", None),
            mp.get_item("Detector.EDS.elevation_angle", None),
            mp.get_item("Stage.tilt_beta", 0.0),
        )

    def crop(self, axis, start=None, end=None, convert_units=False):
        """Crop an axis in place; fuzzy cluster results follow the new axes.

        HyperSpy's :meth:`~hyperspy.signal.BaseSignal.crop` (and so
        ``crop_signal``), after which stored fuzzy cluster results are made to
        match: a navigation crop keeps the memberships, labels, distances and
        scores of the remaining pixels and recomputes the cluster spectra from
        the cropped data; a signal crop cuts the cluster spectra to the kept
        channels.

        Parameters
        ----------
        axis : int, str or DataAxis
            The axis to crop (index, name or axis object).
        start, end : int, float or None
            The range to keep, as indices (int) or axis values (float).
        convert_units : bool
            As for HyperSpy's ``crop``.
        """
        from hyperspy_cmeans import _learning_results as lrio
        from hyperspy_cmeans.signals import _state

        am = self.axes_manager
        position = [*am.navigation_axes, *am.signal_axes].index(am[axis])
        before = _state.axes_fingerprint(self)
        super().crop(axis, start=start, end=end, convert_units=convert_units)
        if lrio.has_cluster_results(self):
            _state.follow_crop(self, position, before)

    # ------------------------------------------------------------------
    # Calibration (glue in hyperspy_cmeans._calibration)
    # ------------------------------------------------------------------

    @fill_docstring
    def calibrate_energy_from_peaks(  # noqa: D417 (<<gui_parameters>>)
        self,
        elements=None,
        lines=None,
        exclude=None,
        scale_range=None,
        tolerance=None,
        inplace=True,
        return_info=False,
        offset_range=None,
        min_significance=6.0,
        display=None,
        toolkit=None,
    ):
        """Calibrate the energy axis from the X-ray peaks of the summed spectrum.

        The map is summed over its navigation axes (chunk by chunk for lazy
        signals), its significant peaks are found and matched to the X-ray
        lines of exspy's database, and a weighted least-squares line through
        the matched peaks gives the calibration. The rule is: the right
        answer, or a ``ValueError`` with the signal untouched.

        * The search covers real detectors without widening anything (2 to
          40 eV per channel, first channel at -2.5 to +0.5 keV, any number of
          channels), and works from an uncalibrated axis (scale 1, offset 0,
          no units).
        * An axis already in energy units is used: when it places the lines
          nearly as well as the best solution of the search, it is refined
          (``mode="refine"``) instead of replaced; when the lines cannot fix
          the scale (a single element or line family), only its offset is
          refined and its scale kept (``mode="offset"``).
        * A quality gate is passed before anything is written: enough
          independent lines (with a fitted scale, three lines of two elements
          or families, fixing the scale to 0.1 %), residuals consistent with
          the detector resolution (lines that do not fit are rejected, weak
          ones more strictly), and a clear margin over the next-best distinct
          calibration unless the axis already agreed. Otherwise a
          ``ValueError`` says why and what to change.
        * Negative (negated, difference) spectra are refused.
        * The energy range the fitted lines constrain is reported, and a
          warning names the lines of ``metadata.Sample`` far outside it.

        Lines of one element and family closer than the detector resolution
        are merged into one weight-averaged line and fitted with their
        combined shape; lines overlapping a line of another element are used
        for matching only; weak lines (Kb, L satellites) are matched only when
        their main line is, and never to insignificant peaks.

        With ``display`` or ``toolkit`` the method opens its GUI instead
        (element, line and exclusion fields pre-filled from the arguments or
        ``metadata.Sample.elements``, the summed spectrum with the found peaks
        and matched lines, Apply and Reset; Jupyter needs
        ``pip install hyperspy_cmeans[gui-jupyter]``) and returns None, or the
        widgets with ``display=False``.

        Parameters
        ----------
        elements : list of str, optional
            Elements whose lines are candidates. Default:
            ``metadata.Sample.elements``, unless ``lines`` is given. Give all
            the elements present (coatings and contaminants too, in
            ``exclude`` if they should not be fitted).
        lines : list of str, optional
            Explicit candidate lines, e.g. ``["O_Ka", "Si_Ka", "Ca_Ka",
            "Ti_Ka", "Fe_Ka"]`` (combined with ``elements`` if both given).
        exclude : list of str, optional
            Elements or lines never to fit, e.g. the FIB contaminants and an
            unreliable line: ``["Pt", "Ga", "Fe_La"]``; their peaks are still
            recognised as theirs.
        scale_range : tuple of float, optional
            Plausible energy scale in eV per channel; default (2, 40).
        tolerance : float, optional
            Largest peak-to-line distance for a match, in eV. Default: 0.4
            times the detector FWHM at the line (plus the spread of merged
            lines).
        inplace : bool, default True
            Calibrate this signal; if False, calibrate and return a copy and
            leave this signal untouched.
        return_info : bool, default False
            Return the :class:`~hyperspy_cmeans._calibration.EnergyCalibration`
            result instead of the signal. The signal is still calibrated when
            ``inplace`` is True; with ``inplace=False`` nothing is changed and
            no copy is made (a dry run: use ``result.apply(signal)`` later).
        offset_range : tuple of float, optional
            Plausible energy of the first channel in keV; default (-2.5, 0.5).
        min_significance : float, default 6.0
            Peaks whose net counts are below this many noise standard
            deviations are ignored; a finite number >= 0.
        <<gui_parameters>>

        Returns
        -------
        EDSSEMCmeansSpectrum or EnergyCalibration
            The calibrated signal (``self`` or the copy), or the result
            (scale, offset, their standard errors, ``mode``, the matched lines
            with residuals and the reasons of those not fitted, the rms
            residual, ``energy_range``, the quality ``gate``'s numbers,
            ``plot()`` and ``apply()``) when ``return_info`` is True.

        Raises
        ------
        ValueError
            If the energy axis is not uniform, an element or line is unknown,
            no elements are given or in the metadata, a parameter is invalid,
            the spectrum is negative, too few lines can be matched, or the
            result fails the quality gate (an
            :class:`~hyperspy_cmeans._calibration.EnergyCalibrationError`,
            whose ``calibration`` holds the refused result). The signal is
            then left exactly as it was.

        Warns
        -----
        UserWarning
            When lines of ``metadata.Sample`` lie far outside the energy range
            constrained by the fitted lines (the calibration is extrapolated
            there).

        Notes
        -----
        The signal axis gets the fitted ``scale`` and ``offset``,
        ``units="keV"`` and ``name="Energy"``; the calibration (scale,
        offset, ``scale_std``, ``offset_std``, ``mode``,
        ``energy_range_keV``, fitted ``lines`` with their
        ``line_energies_keV``, ``channels`` and ``residuals_eV``,
        ``rms_residual_eV``, the unfitted matches with their reasons, the
        extrapolated lines and the previous axis scale/offset/units) is
        recorded in ``metadata.Signal.Energy_calibration`` as plain numbers,
        strings and lists, so it is saved with the signal.

        Examples
        --------
        >>> from hyperspy_cmeans.data import synthetic_eds_map
        >>> s = synthetic_eds_map(shape=(24, 20), random_state=0)
        >>> s.axes_manager[-1].scale, s.axes_manager[-1].offset = 1.0, 0.0  # uncalibrated
        >>> info = s.calibrate_energy_from_peaks(
        ...     exclude=["Pt", "Ga"], inplace=False, return_info=True
        ... )
        >>> round(info.scale * 1000, 2), round(info.offset, 3)  # eV/channel, keV
        (10.0, -0.1)
        >>> info.apply(s).axes_manager[-1].units
        'keV'
        >>> ax = info.plot()
        """
        if display is not None or toolkit is not None:
            from hyperspy_cmeans._gui.tools import EnergyCalibrationTool, open_tool

            return open_tool(EnergyCalibrationTool, self, locals(), display, toolkit)
        from hyperspy_cmeans.signals._calibration import calibrate_energy

        return calibrate_energy(
            self,
            elements=elements,
            lines=lines,
            exclude=exclude,
            scale_range=scale_range,
            offset_range=offset_range,
            tolerance=tolerance,
            min_significance=min_significance,
            inplace=inplace,
            return_info=return_info,
        )

    @fill_docstring
    def tilt_correct_scale(  # noqa: D417 (<<gui_parameters>>)
        self,
        stage_tilt=None,
        field_width=None,
        units="nm",
        inplace=True,
        display=None,
        toolkit=None,
    ):
        """Set the x/y pixel sizes of a cross-section map viewed at a stage tilt.

        The horizontal pixel size is ``field_width`` divided by the number
        of x pixels when given (the study: 17.6 um over 1024 pixels =
        17.1875 nm), else the current x scale converted to ``units``. The
        vertical pixel size is the horizontal one divided by
        ``sin(stage_tilt)``, i.e. multiplied by ``1 / cos(90 - stage_tilt)``
        (17.1875 nm at 52 degrees gives 21.81 nm).

        With ``display`` or ``toolkit`` the method opens its GUI instead
        (stage tilt from the arguments or the metadata, field width, units,
        Apply and Reset; Jupyter needs ``pip install
        hyperspy_cmeans[gui-jupyter]``) and returns None, or the widgets with
        ``display=False``.

        Parameters
        ----------
        stage_tilt : float, optional
            Stage tilt in degrees, in (0, 90]. Default:
            ``metadata.Acquisition_instrument.SEM.Stage.tilt_alpha``.
        field_width : float or str, optional
            Width of the field of view, as a number in ``units`` (the study:
            ``field_width=17.6e3`` with ``units="nm"``) or a string with its
            own units (``"17.6 um"``).
        units : str, default "nm"
            Length units of both axes after the correction.
        inplace : bool, default True
            Correct this signal; if False, correct and return a copy and leave
            this signal untouched.
        <<gui_parameters>>

        Returns
        -------
        EDSSEMCmeansSpectrum
            The corrected signal (``self`` or the copy).

        Raises
        ------
        ValueError
            If the tilt is missing or outside (0, 90] (the message says
            whether it came from the argument or the metadata), the field
            width is not positive, ``units`` is not a length, the map has
            fewer than two navigation axes, or no field width is given and
            the x axis has no length units. Nothing is changed then.

        Warns
        -----
        UserWarning
            If the tilt is outside 5 to 85 degrees, implausible for a
            cross-section (the message says where it came from and the factor
            applied to y); or if the signal was already tilt-corrected
            (recorded in the metadata). The correction is not compounded: the
            y size is always recomputed from the x size, so applying it again
            gives the same axes (with the new arguments); only the record is
            replaced.

        Notes
        -----
        ``axes_manager.navigation_axes[0]`` is x (columns) and ``[1]`` is y
        (rows); they are named ``"x"`` and ``"y"``, and their offsets keep
        their position in pixels. The tilt used is written to
        ``metadata.Acquisition_instrument.SEM.Stage.tilt_alpha`` (where the
        take-off angle and the .msa export read it), and what was done (tilt
        and its source, factor, x and y sizes, units, source of the x size,
        the previous scales and tilt) is recorded in
        ``metadata.Signal.Tilt_correction``. Only axes and metadata change, so
        lazy signals stay lazy.
        """
        if display is not None or toolkit is not None:
            from hyperspy_cmeans._gui.tools import TiltCorrectionTool, open_tool

            return open_tool(TiltCorrectionTool, self, locals(), display, toolkit)
        from hyperspy_cmeans.signals._calibration import tilt_correct

        return tilt_correct(
            self, stage_tilt=stage_tilt, field_width=field_width, units=units, inplace=inplace
        )

    # ------------------------------------------------------------------
    # Fuzzy clustering (hyperspy_cmeans.signals._clustering, _scan, _results, _plots)
    # ------------------------------------------------------------------

    @fill_docstring
    def fuzzy_cluster(  # noqa: D417 (parameters come from <<fragments>>)
        self,
        n_clusters=None,
        algorithm="gustafson_kessel",
        m=2.0,
        source="pca",
        n_components=3,
        preprocessing="composition",
        navigation_mask=None,
        signal_mask=None,
        n_init=10,
        max_iter=300,
        tol=1e-4,
        random_state=None,
        spatial="auto",
        subsample="auto",
        assignment_threshold=0.5,
        return_info=False,
        show_progressbar=None,
        display=None,
        toolkit=None,
        **kwargs,
    ):
        """Fuzzy c-means clustering of the map into phases.

        The study's workflow in one call: unfold the map, scale each channel,
        project on ``n_components`` principal components (the data space),
        cluster the pixels there with fuzzy c-means, order the clusters
        stably and store memberships, hard labels and cluster spectra in
        ``s.learning_results`` so that HyperSpy's own cluster tools
        (``get_cluster_labels``, ``get_cluster_signals``,
        ``plot_cluster_results``, ``export_cluster_results`` ...) work on them.

        Parameters
        ----------
        n_clusters : int, optional
            Number of clusters (phases), at least 2. Called without it and
            without any other value argument, or with ``display`` or
            ``toolkit``, the method opens its GUI (parameters, a Run button
            and a live preview of the membership and phase maps; Jupyter
            needs ``pip install hyperspy_cmeans[gui-jupyter]``), pre-filled
            with the arguments given. Missing while other value arguments are
            given, it raises ValueError.
        <<clustering_parameters>>
        assignment_threshold : float
            A pixel belongs to the cluster of its largest membership when that
            membership exceeds this value (the study's 0.5); others are
            unassigned (label -1 in ``get_cluster_labels(merged=True)``).
            ``0`` means plain argmax.
        return_info : bool
            Return the fitted estimator instead of the signal.
        show_progressbar : bool or None
            Show a progress bar for passes over lazy data; None uses HyperSpy's
            preference.
        <<gui_parameters>>
        **kwargs
            Extra parameters of the named estimator (e.g. ``rho`` for
            Gustafson–Kessel).

        Returns
        -------
        EDSSEMCmeansSpectrum or estimator or dict or None
            The signal itself (so calls chain), or the fitted estimator if
            ``return_info=True``. When the GUI opens: None, or the widgets
            ``{toolkit: {"widget": ..., "wdict": ...}}`` with ``display=False``.

        Raises
        ------
        ValueError
            For a bad parameter; the signal and its ``learning_results`` are
            left exactly as they were.

        Notes
        -----
        Clusters are ordered by total membership, largest first (ties broken
        by the data-space centre coordinates), so indices and colours are the
        same in every run with the same ``random_state``.
        """
        if n_clusters is None or display is not None or toolkit is not None:
            from hyperspy_cmeans._gui.tools import FuzzyClusterTool, open_tool

            return open_tool(
                FuzzyClusterTool, self, locals(), display, toolkit, required="n_clusters"
            )
        from hyperspy_cmeans.signals._clustering import ClusteringSetup, run_fuzzy_cluster

        setup = ClusteringSetup.from_arguments(locals())
        estimator = run_fuzzy_cluster(
            self, n_clusters, setup, assignment_threshold, show_progressbar
        )
        return estimator if return_info else self

    @fill_docstring
    def estimate_number_of_fuzzy_clusters(  # noqa: D417 (<<clustering_parameters>>)
        self,
        cluster_range=range(2, 9),
        metric="xie_beni",
        algorithm="gustafson_kessel",
        m=2.0,
        source="pca",
        n_components=3,
        preprocessing="composition",
        navigation_mask=None,
        signal_mask=None,
        n_init=10,
        max_iter=300,
        tol=1e-4,
        random_state=None,
        spatial="auto",
        subsample="auto",
        keep_memberships=False,
        return_info=False,
        show_progressbar=None,
        **kwargs,
    ):
        """Choose the number of clusters with a fuzzy validity index.

        The study's "big loop": the data space is computed once, then every
        number of clusters in ``cluster_range`` is clustered and scored. The
        scan is stored so that HyperSpy's ``plot_cluster_metric()`` shows it;
        the cluster results of ``fuzzy_cluster`` are not changed.

        Parameters
        ----------
        cluster_range : iterable of int
            Numbers of clusters to try (each >= 2).
        metric : str
            ``"xie_beni"`` (default, lower is better), ``"fukuyama_sugeno"``
            (lower), ``"partition_coefficient"`` (higher),
            ``"partition_entropy"`` (lower) or ``"fuzzy_silhouette"``
            (higher). Xie–Beni and Fukuyama–Sugeno measure compactness in
            each algorithm's own norm (GK distances for Gustafson–Kessel) and
            the separation of the centres in the data space's Euclidean norm.
        <<clustering_parameters>>
        keep_memberships : bool
            Keep every run's membership maps (for
            ``ClusterNumberScan.plot_memberships()``, side by side).
        return_info : bool
            Return the whole :class:`~hyperspy_cmeans.results.ClusterNumberScan`
            instead of the estimate.
        show_progressbar : bool or None
            Progress bar for passes over lazy data.
        **kwargs
            Extra parameters of the named estimator.

        Returns
        -------
        int or ClusterNumberScan
            The estimated number of clusters, or the scan with
            ``return_info=True``.
        """
        from hyperspy_cmeans.signals._clustering import ClusteringSetup
        from hyperspy_cmeans.signals._scan import scan_cluster_numbers

        setup = ClusteringSetup.from_arguments(locals())
        scan = scan_cluster_numbers(
            self, cluster_range, metric, setup, keep_memberships or return_info, show_progressbar
        )
        return scan if return_info else scan.estimate

    def get_cluster_memberships(self):
        """Membership maps of the fuzzy clusters as an image stack.

        Returns
        -------
        hyperspy.signals.Signal2D
            ``(n_clusters | ny, nx)`` memberships with this map's navigation
            calibration (a ``Signal1D`` stack for line scans); NaN where masked.
        """
        from hyperspy_cmeans.signals import _results

        return _results.membership_stack(self)

    def get_phase_map(self, threshold=0.5):
        """Label image of the phases, with -1 for mixed (unassigned) or masked pixels.

        The numbering is HyperSpy's (``get_cluster_labels(merged=True)``):
        cluster ``k`` is phase ``k`` everywhere (maps, legends, titles, .msa
        files and CSV exports), and -1 means no phase.

        Parameters
        ----------
        threshold : float
            A pixel belongs to cluster ``k`` when its largest membership, in
            cluster ``k``, exceeds ``threshold`` (the study's 0.5); ``0``
            gives every unmasked pixel its argmax.

        Returns
        -------
        hyperspy.signals.Signal2D
            Integer image ``-1..n_clusters - 1``; the fraction of unassigned
            (mixed) pixels among unmasked ones is in
            ``metadata.Phase_map.unassigned_fraction``.
        """
        from hyperspy_cmeans.signals import _results

        return _results.phase_map(self, threshold)

    def cluster_phase_spectra(
        self,
        threshold=0.5,
        weighting="threshold",
        statistic="mean",
        phase_names=None,
        split=False,
        show_progressbar=None,
    ):
        """Spectrum of each phase, as plain EDS SEM signals ready for quantification.

        Parameters
        ----------
        threshold : float
            With ``weighting="threshold"``, the members of a cluster are the
            pixels whose largest membership, in that cluster, exceeds
            ``threshold`` (the study's rule with 0.5).
        weighting : {"threshold", "membership"}
            ``"threshold"``: the hard members; ``"membership"``: every pixel,
            weighted by ``u**m``.
        statistic : {"mean", "sum"}
            ``"mean"``: the mean spectrum per pixel; ``"sum"``: the sum over
            the members, in counts (what quantification software expects,
            with the matching live time).
        phase_names : list of str, optional
            One name per cluster (e.g. ``["rutile", "titanite", ...]``), used
            in the titles and the metadata.
        split : bool
            Return a list with one signal per phase, each with its own title
            (``"Phase k (name) of <map>"``) and detector times, instead of a
            stack. Save each as .msa for other software.
        show_progressbar : bool or None
            Progress bar for the pass over lazy data.

        Returns
        -------
        exspy.signals.EDSSEMSpectrum or list of exspy.signals.EDSSEMSpectrum
            ``(n_clusters | channels)``, or one spectrum per phase with
            ``split=True``: this map's energy axis, elements, X-ray lines and
            microscope metadata (beam energy, stage tilt, detector angles),
            signal type ``EDS_SEM`` so that .msa export and other software
            read it as EDS. A cluster with no member gives a warning and a
            NaN spectrum.

        Notes
        -----
        Detector times follow exspy's convention that a map's live and real
        times are per pixel (``EDSSpectrum.sum`` multiplies them by the number
        of pixels summed): a mean spectrum keeps them, a phase's sum gets
        them times its number of members (its weight sum with
        ``weighting="membership"``). A stack of sums cannot hold one time per
        phase, so its times are listed in ``metadata.Phase_spectra`` instead;
        use ``split=True`` to export.
        """
        from hyperspy_cmeans.signals import _results

        return _results.phase_spectra(
            self, threshold, weighting, statistic, phase_names, split, show_progressbar
        )

    def export_phase_spectra(
        self, folder, threshold=0.5, statistic="sum", phase_names=None, extension="msa"
    ):
        """Write one file per phase (EMSA/MSA by default) for quantification elsewhere.

        Parameters
        ----------
        folder : str or pathlib.Path
            Output folder (created if needed).
        threshold : float
            Membership threshold of the members.
        statistic : {"sum", "mean"}
            Counts summed over the members (default, with the matching live
            and real times) or the mean spectrum per pixel.
        phase_names : list of str, optional
            One name per cluster, used in titles and file names.
        extension : str
            File format, by extension (any RosettaSciIO writer of 1-D
            spectra: ``"msa"``, ``"hspy"`` ...).

        Returns
        -------
        list of pathlib.Path
            The files, ``phase_<k>[_<name>].<extension>``.
        """
        from hyperspy_cmeans.signals import _results

        return _results.export_phase_spectra(
            self, folder, threshold, statistic, phase_names, extension
        )

    def plot_cluster_memberships(self, per_row=4, fig=None):
        """Plot the membership map of every cluster, framed in its cluster colour.

        Parameters
        ----------
        per_row : int
            Maps per row.
        fig : matplotlib.figure.Figure, optional
            Figure to draw in (a new one by default).

        Returns
        -------
        numpy.ndarray of matplotlib.axes.Axes
            The axes of the maps (2-D maps only).
        """
        from hyperspy_cmeans.signals import _plots

        return _plots.cluster_memberships(self, per_row, fig)

    def plot_phase_map(self, threshold=0.5, ax=None):
        """Plot the phase map: cluster colours, unassigned pixels grey.

        Parameters
        ----------
        threshold : float
            Membership a pixel needs in its best cluster to be assigned.
        ax : matplotlib.axes.Axes, optional
            Where to draw (a new figure by default).

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn in (2-D maps only).
        """
        from hyperspy_cmeans.signals import _plots

        return _plots.phase_map(self, threshold, ax)

    def plot_phase_spectra(
        self, threshold=0.5, weighting="threshold", xray_lines=True, log=False, ax=None
    ):
        """Plot the phase spectra in cascade, coloured as the phase map.

        Parameters
        ----------
        threshold : float
            Membership threshold of the hard members, as in
            :meth:`cluster_phase_spectra`.
        weighting : {"threshold", "membership"}
            As in :meth:`cluster_phase_spectra`.
        xray_lines : bool or list of str
            True: mark the X-ray lines of ``metadata.Sample``; a list of lines
            or elements (``["C_Ka", "Pt"]``) marks those too, e.g. lines found
            in the spectrum but missing from the metadata; False: none.
        log : bool
            Logarithmic intensity axis instead of a cascade.
        ax : matplotlib.axes.Axes, optional
            Where to draw (a new figure by default).

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn in; ``ax.lines[k]`` is cluster ``k``'s spectrum.
        """
        from hyperspy_cmeans.signals import _plots

        return _plots.phase_spectra(self, threshold, weighting, xray_lines, log, ax)

    def plot_data_space(self, color_by="label", max_points=50000, fig=None):
        """Pairwise scatter plots of the data-space scores of the clustering.

        Parameters
        ----------
        color_by : {"label", "membership"}
            Colour by hard label (unassigned grey) or by the
            membership-weighted blend of the cluster colours.
        max_points : int
            Random subsample size for large maps.
        fig : matplotlib.figure.Figure, optional
            Figure to draw in (a new one by default).

        Returns
        -------
        numpy.ndarray of matplotlib.axes.Axes
            One panel per pair of scores.
        """
        from hyperspy_cmeans.signals import _plots

        return _plots.data_space(self, color_by, max_points, fig)

    def export_data_space(self, path):
        """Write the data-space scores, memberships and labels to a CSV file.

        One row per unmasked pixel with its navigation coordinates, scores,
        memberships and hard label (-1 = unassigned): ParaView opens it as
        points ("Table To Points"), as the study did for 3-D exploration.

        Parameters
        ----------
        path : str or pathlib.Path
            Output file name.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        from hyperspy_cmeans.signals import _results

        return _results.export_data_space(self, path)


class LazyEDSSEMCmeansSpectrum(EDSSEMCmeansSpectrum, LazyEDSSEMSpectrum):
    """Lazy (dask-backed) EDS spectrum image with fuzzy c-means phase analysis.

    The same methods as :class:`EDSSEMCmeansSpectrum`, computed block by block
    on the dask array: the map is never loaded into memory whole.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`exspy.signals.LazyEDSSEMSpectrum`; usually obtained with
        ``hs.load(..., signal_type="EDS_SEM_cmeans", lazy=True)`` or
        ``s.as_lazy()``.
    """

    def _get_loadings(self, loadings):
        # HyperSpy's cluster tools (get_cluster_labels, plot_cluster_results, ...) wrap
        # learning_results arrays in plain signals; the sampled fit of a lazy map keeps its
        # memberships and labels as dask arrays, whose signals must then be lazy too.
        signal = super()._get_loadings(loadings)
        if isinstance(signal.data, da.Array) and not signal._lazy:
            signal._lazy = True
            signal._assign_subclass()
        return signal
