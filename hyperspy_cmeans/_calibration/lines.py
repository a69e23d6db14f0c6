"""Candidate X-ray lines for energy calibration, from exspy's element database.

Lines of one element and one family (K, L, M, ...) that lie closer together
than the detector resolution appear as a single peak; they are merged into one
candidate at their weight-averaged energy (exspy's weights are relative within
a family). Weak groups (summed weight below ``min_weight``) are never matched,
so they are never forced onto noise; they only help model the shape of
overlapping peaks. Groups of different elements or families within a fifth of
the resolution are merged (their position is known whatever their ratio);
groups that overlap more loosely are kept apart but flagged ``ambiguous``:
their peak position depends on the unknown composition, so they can explain a
peak during matching but are not used in the fit. Excluded lines (e.g. FIB
contaminants) likewise explain peaks but are never fitted.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
from exspy.material import elements as elements_db

__all__ = [
    "MN_KA",
    "CandidateLine",
    "analysis_lines",
    "build_line_table",
    "fwhm_at_energy",
    "line_energies",
    "split_line",
]

#: Mn Ka energy (keV), the reference of the detector-resolution convention.
MN_KA = 5.8987


def fwhm_at_energy(energy, energy_resolution_MnKa=130.0):  # noqa: N803 (exspy's name)
    """Detector FWHM at an X-ray energy, from the FWHM at Mn Ka.

    Uses the Fiori & Newbury relation ``FWHM(E)**2 = FWHM(MnKa)**2 +
    2.5 * (E - E(MnKa))`` with energies and widths in eV (the relation exspy
    uses for its peak widths).

    Parameters
    ----------
    energy : float or array_like
        X-ray energy in keV.
    energy_resolution_MnKa : float, default 130.0
        FWHM at Mn Ka in eV.

    Returns
    -------
    float or numpy.ndarray
        FWHM in keV (never less than 10 eV, where the relation breaks down
        far below Mn Ka for very good detectors).
    """
    energy = np.asarray(energy, dtype=float)
    fwhm2 = energy_resolution_MnKa**2 + 2.5 * (energy - MN_KA) * 1000.0
    fwhm = np.sqrt(np.maximum(fwhm2, 100.0)) / 1000.0
    return float(fwhm) if fwhm.ndim == 0 else fwhm


@dataclass(frozen=True)
class CandidateLine:
    """One candidate peak position: a line or a group of unresolved lines.

    Attributes
    ----------
    name : str
        Name of the strongest member line, e.g. ``"Zr_La"``; for lines of
        several elements/families at nearly the same energy, the names of the
        strongest line of each joined by ``"+"``, e.g. ``"O_Ka+Ti_Lb3"``.
    energy : float
        Weight-averaged energy of the members of the first (strongest)
        element/family, keV.
    weight : float
        Sum of the members' relative weights (exspy's weights, relative to
        the strongest line of the family, so 1 for Ka, La, Ma).
    members : tuple of str
        All database lines merged into this candidate.
    fwhm : float
        Detector FWHM at ``energy``, keV.
    spread : float
        Weighted standard deviation of the member energies, keV (0 for a
        single line), or half the distance to the other element/family
        merged in if larger: the uncertainty of ``energy`` as a peak position.
    member_energies, member_weights, member_fwhm : tuple of float
        Energy (keV), relative weight and detector FWHM (keV) of each member,
        the shape of the group's peak.
    member_groups : tuple of int
        Index of each member's element/family within the candidate (0 for
        the first, strongest one).
    ambiguous : bool
        True when another candidate (of another element or family) lies
        within the resolution: the peak position then depends on the unknown
        composition, and the candidate is not used in the fit.
    overlaps : tuple of str
        Names of those overlapping candidates.
    excluded : bool
        True for lines the user excluded: they may explain a peak during
        matching (they are present, e.g. FIB contaminants) but are never
        used in the fit.
    model_only : bool
        True for lines that are never matched to a peak (too weak or, when
        only ``lines`` are given, not requested) but are kept to model the
        peaks that overlap the candidates.
    secondary : bool
        True for a lower-energy family of an element whose higher-energy
        family is excited too (e.g. Ca L when Ca K is): such lines are
        weaker, absorbed or shifted, and are treated like weak lines.
    """

    name: str
    energy: float
    weight: float
    members: tuple
    fwhm: float
    spread: float
    member_energies: tuple = ()
    member_weights: tuple = ()
    member_fwhm: tuple = ()
    member_groups: tuple = ()
    ambiguous: bool = False
    overlaps: tuple = ()
    excluded: bool = False
    model_only: bool = False
    secondary: bool = False


def split_line(line):
    """Split an X-ray line name such as ``"Fe_Ka"`` into element and line.

    Parameters
    ----------
    line : str
        Line name, ``"<element>_<line>"``.

    Returns
    -------
    tuple of str
        ``(element, line)``.

    Raises
    ------
    ValueError
        If the name is malformed or the line is not in exspy's database.
    """
    if not isinstance(line, str) or line.count("_") != 1:
        raise ValueError(f"{line!r} is not an X-ray line name such as 'Fe_Ka'.")
    element, name = line.split("_")
    if name not in _element_lines(element):
        raise ValueError(
            f"Unknown X-ray line {line!r}; {element} has {sorted(_element_lines(element))}."
        )
    return element, name


def _element_lines(element):
    """The lines of an element, ``{name: (energy keV, weight)}``, or raise ValueError."""
    if not isinstance(element, str) or element not in elements_db:
        raise ValueError(f"Unknown element {element!r}.")
    return _database_lines(element)


@functools.cache
def _database_lines(element):
    # exspy's metadata tree is slow to read; its values never change
    try:
        table = elements_db[element].Atomic_properties.Xray_lines.as_dictionary()
    except AttributeError:
        raise ValueError(f"Element {element!r} has no X-ray lines in exspy's database.") from None
    return MappingProxyType(
        {
            name: (float(props["energy (keV)"]), float(props["weight"]))
            for name, props in table.items()
        }
    )


def _family(line_name):
    """Family of a line ('K', 'L', 'M', 'N') from its name ('Ka', 'M2N4', ...)."""
    return line_name[0]


def build_line_table(
    elements=None,
    lines=None,
    exclude=None,
    beam_energy=None,
    energy_resolution_MnKa=130.0,  # noqa: N803 (exspy's name)
    min_weight=0.1,
    merge_factor=1.0,
):
    """Build the table of candidate lines for energy calibration.

    Parameters
    ----------
    elements : list of str, optional
        Element symbols; all their lines are candidates.
    lines : list of str, optional
        Explicit line names such as ``"Fe_Ka"``; each becomes a candidate
        (merged with the unresolved lines of the same element and family).
        Lines and elements may be combined; at least one must be given.
    exclude : list of str, optional
        Element symbols (all their lines) or line names (that line) not to
        use in the fit, e.g. ``["Pt", "Ga", "Fe_La"]``; those of them that
        are among ``elements``/``lines`` are kept as ``excluded`` entries,
        which can explain peaks during matching.
    beam_energy : float, optional
        Beam energy in keV; lines at or above it are not excited and dropped.
    energy_resolution_MnKa : float, default 130.0
        Detector FWHM at Mn Ka in eV, which sets which lines are unresolved.
    min_weight : float, default 0.1
        Groups whose summed relative weight is below this are weak lines,
        never matched (``model_only``) unless named in ``lines``. Lines of
        weight below 0.01 are ignored.
    merge_factor : float, default 1.0
        Lines closer than ``merge_factor`` times the FWHM are merged.

    Returns
    -------
    list of CandidateLine
        Sorted by energy; entries with ``model_only=True`` are not candidates,
        and those with ``excluded`` or ``ambiguous`` set are matched but not
        fitted.

    Raises
    ------
    ValueError
        If an element or line is unknown, or nothing is left to match.
    """
    elements = [] if elements is None else _as_list(elements)
    lines = [] if lines is None else _as_list(lines)
    exclude = [] if exclude is None else _as_list(exclude)
    if not elements and not lines:
        raise ValueError("No elements or lines given to calibrate against.")
    if energy_resolution_MnKa is None or not energy_resolution_MnKa > 0:
        raise ValueError("energy_resolution_MnKa must be a positive number (eV).")
    resolution = float(energy_resolution_MnKa)
    requested = {split_line(line) for line in lines}
    excluded_elements, excluded_lines = _parse_exclusions(exclude)
    members, excluded = _collect_members(
        elements, requested, excluded_elements, excluded_lines, beam_energy
    )
    groups, explainers, model_only = _family_groups(
        members, excluded, requested, not elements, resolution, min_weight, merge_factor
    )
    members.update(excluded)
    merged = _merge_coincident(groups, members, resolution)
    if not merged:
        raise ValueError("No candidate X-ray lines left (check elements, lines, exclude).")
    table = [_make_candidate(group, members, resolution) for group in merged]
    table += [replace(_make_candidate(g, members, resolution), excluded=True) for g in explainers]
    table = _flag_overlaps(table, resolution, merge_factor)
    table += [replace(_make_candidate(g, members, resolution), model_only=True) for g in model_only]
    return sorted(_flag_secondary(table, beam_energy), key=lambda c: c.energy)


def analysis_lines(elements, beam_energy=None):
    """The line used to analyse each element, chosen as exspy does.

    Of the element's Ka, La and Ma lines (in that order), the first below
    half the beam energy (an overvoltage of 2), else the last one.

    Parameters
    ----------
    elements : list of str
        Element symbols (unknown ones are skipped).
    beam_energy : float, optional
        Beam energy in keV; without it the first of Ka, La, Ma is taken.

    Returns
    -------
    dict
        Line name (``"Fe_Ka"``) -> energy (keV).
    """
    out = {}
    for element in _as_list(elements):
        try:
            table = _element_lines(element)
        except ValueError:
            continue
        names = [name for name in ("Ka", "La", "Ma") if name in table]
        if not names:
            continue
        below = [n for n in names if beam_energy is None or table[n][0] < beam_energy / 2]
        name = below[0] if below else names[-1]
        out[f"{element}_{name}"] = table[name][0]
    return out


def line_energies(lines):
    """Energies of X-ray lines.

    Parameters
    ----------
    lines : list of str
        Line names such as ``"Fe_Ka"``; malformed or unknown ones are skipped.

    Returns
    -------
    dict
        Name -> energy (keV).
    """
    out = {}
    for line in _as_list(lines):
        try:
            element, name = split_line(line)
        except ValueError:
            continue
        out[line] = _element_lines(element)[name][0]
    return out


def _flag_secondary(table, beam_energy):
    """Flag the candidates of an element's lower families when a higher one is excited."""
    order = {"K": 0, "L": 1, "M": 2, "N": 3}
    top = {}
    for el in {c.members[0].split("_")[0] for c in table}:
        lines = _element_lines(el)
        excited = [
            _family(name)
            for name, (energy, weight) in lines.items()
            if weight > 0 and (beam_energy is None or energy < beam_energy)
        ]
        if excited:
            top[el] = min(excited, key=order.get)
    out = []
    for cand in table:
        el, name = cand.members[0].split("_")
        out.append(replace(cand, secondary=el in top and _family(name) != top[el]))
    return out


def _parse_exclusions(exclude):
    """Split ``exclude`` into element symbols and (element, line) pairs, validated."""
    excluded_elements, excluded_lines = set(), set()
    for item in exclude:
        if isinstance(item, str) and "_" in item:
            excluded_lines.add(split_line(item))
        else:
            _element_lines(item)
            excluded_elements.add(item)
    return excluded_elements, excluded_lines


def _collect_members(elements, requested, excluded_elements, excluded_lines, beam_energy):
    """Every excited database line that may be a member of a candidate.

    Returns two dicts ``(element, line) -> (energy, weight)``: the lines to
    match and fit, and the excluded ones.
    """
    families = {(el, None) for el in elements}
    families |= {(el, _family(name)) for el, name in requested}
    members, excluded = {}, {}
    for el, fam in families:
        for name, props in _element_lines(el).items():
            if fam is not None and _family(name) != fam:
                continue
            energy, weight = props
            if beam_energy is not None and energy >= beam_energy:
                continue
            if weight < 0.01 and (el, name) not in requested:
                continue
            if el in excluded_elements or (el, name) in excluded_lines:
                excluded[(el, name)] = (energy, weight)
            else:
                members[(el, name)] = (energy, weight)
    return members, excluded


def _family_groups(members, excluded, requested, explicit_only, resolution, min_weight, merge):
    """Unresolved lines of one element and family, grouped into one peak each.

    Returns the groups to match and fit, the excluded groups (which only
    explain peaks) and the model-only groups (too weak, or not requested when
    only ``lines`` were given).
    """
    groups, explainers, model_only = [], [], []
    for pool in (members, excluded):
        sets = {}
        for key in pool:
            sets.setdefault((key[0], _family(key[1])), []).append(key)
        for keys in sets.values():
            for group in _cluster(keys, pool, resolution, merge):
                named = any(key in requested for key in group)
                weak = sum(pool[k][1] for k in group) < min_weight
                if (weak and not named) or (explicit_only and not named and pool is members):
                    model_only.append(group)
                elif pool is excluded:
                    explainers.append(group)
                else:
                    groups.append(group)
    return groups, explainers, model_only


def _merge_coincident(groups, members, resolution):
    """Join groups of different elements/families within a fifth of the FWHM.

    Such groups make one peak whatever their intensity ratio, so the peak
    position is known.
    """
    centroid = {id(g): _centroid(g, members) for g in groups}
    merged = []
    for group in sorted(groups, key=lambda g: centroid[id(g)]):
        if merged:
            e_prev, e = _centroid(merged[-1], members), centroid[id(group)]
            if e - e_prev <= 0.2 * fwhm_at_energy(e, resolution):
                merged[-1] = merged[-1] + group
                continue
        merged.append(list(group))
    return merged


def _flag_overlaps(table, resolution, merge_factor):
    """Flag candidates that overlap another element's or family's candidate.

    Their peak position depends on the unknown composition, so they are
    matched but not fitted.
    """
    flagged = []
    for cand in table:
        overlaps = tuple(
            other.name
            for other in table
            if other is not cand
            and abs(other.energy - cand.energy)
            < merge_factor * fwhm_at_energy(0.5 * (cand.energy + other.energy), resolution)
        )
        flagged.append(replace(cand, ambiguous=bool(overlaps), overlaps=overlaps))
    return flagged


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


def _cluster(keys, members, energy_resolution_MnKa, merge_factor):  # noqa: N803
    """Single-linkage groups of lines closer than merge_factor * FWHM."""
    keys = sorted(keys, key=lambda k: members[k][0])
    groups, current = [], []
    for key in keys:
        if current:
            e_prev, e = members[current[-1]][0], members[key][0]
            limit = merge_factor * fwhm_at_energy(0.5 * (e_prev + e), energy_resolution_MnKa)
            if e - e_prev >= limit:
                groups.append(current)
                current = []
        current.append(key)
    if current:
        groups.append(current)
    return groups


def _centroid(group, members):
    return float(np.average([members[k][0] for k in group], weights=[members[k][1] for k in group]))


def _make_candidate(group, members, energy_resolution_MnKa):  # noqa: N803
    sets = {}
    for key in group:
        sets.setdefault((key[0], _family(key[1])), []).append(key)
    # the strongest element/family first; its lines define the energy, since
    # weights of different elements are not comparable (they depend on the
    # composition), and the others only widen the uncertainty
    ordered = sorted(sets.values(), key=lambda keys: -sum(members[k][1] for k in keys))
    main = ordered[0]
    energies = np.array([members[k][0] for k in main])
    weights = np.array([members[k][1] for k in main])
    energy = float(np.average(energies, weights=weights))
    spread = float(math.sqrt(np.average((energies - energy) ** 2, weights=weights)))
    centroids = [_centroid(keys, members) for keys in ordered]
    span = max(centroids) - min(centroids)
    keys = [k for keys in ordered for k in keys]
    all_e = np.array([members[k][0] for k in keys])
    return CandidateLine(
        name="+".join("{}_{}".format(*max(ks, key=lambda k: members[k][1])) for ks in ordered),
        energy=energy,
        weight=float(sum(members[k][1] for k in group)),
        members=tuple(f"{el}_{name}" for el, name in keys),
        fwhm=fwhm_at_energy(energy, energy_resolution_MnKa),
        spread=max(spread, 0.5 * span),
        member_energies=tuple(float(e) for e in all_e),
        member_weights=tuple(float(members[k][1]) for k in keys),
        member_fwhm=tuple(float(f) for f in fwhm_at_energy(all_e, energy_resolution_MnKa)),
        member_groups=tuple(g for g, ks in enumerate(ordered) for _ in ks),
    )
