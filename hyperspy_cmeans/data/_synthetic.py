"""Synthetic SEM EDS spectrum images with a known ground truth.

The model
---------
*Phase spectra.* For every element of a phase, every X-ray line listed in
exspy's element database (``exspy.material.elements``: energy and weight
relative to the principal line of its family) whose shell is ionised by the
beam contributes a Gaussian peak. The generated intensity of a line family
(K, L or M) is

    I = (C / A) * omega(Z) * (U ln U - U + 1) * w_line,   U = E0 / Ec,

with C the weight fraction, A the atomic weight, omega the fluorescence yield
(empirical fits of Bambynek et al., Rev. Mod. Phys. 44, 716 (1972) for K and
L shells, ``Z**4 / (1e9 + Z**4)`` for M shells), E0 the beam energy and Ec the
critical energy (the shell's binding energy from the database when present,
otherwise 1.1 times the family's principal-line energy). The U ln U - U + 1
factor is the Bethe cross-section integrated along a Thomson-Whiddington
path. The peak FWHM follows the detector law of Fiori and Newbury
(:func:`~hyperspy_cmeans._calibration.lines.fwhm_at_energy`, the relation of
exspy's ``get_FWHM_at_Energy``) from the FWHM at Mn Ka. The background is Kramers'
bremsstrahlung ``Zbar (E0 - E) / E`` (mass-weighted mean atomic number). Peaks
and background are multiplied by an effective low-energy efficiency
``exp(-k / E**3)`` (window, dead layer and self-absorption, which all scale
roughly as E**-3), which gives the detector's low-energy cut-off: no counts
below about 0.25 keV and none at negative energies. Peaks are integrated over
each channel's width, so the channel at ``offset + i * scale`` holds the counts
between ``offset + (i - 1/2) * scale`` and ``offset + (i + 1/2) * scale``.
Each phase spectrum is normalised to ``counts_per_pixel`` counts over the
recorded channels.

*Mixing.* The expected spectrum of a pixel is the fraction-weighted sum of the
pure phase spectra (linear mixing of the recorded signal), so "fraction"
means the fraction of the pixel's counts that comes from each phase. The
expected total counts of every pixel is exactly ``counts_per_pixel``.

*Contaminants* (e.g. Pt and Ga redeposited by the focused ion beam) add the
peaks of an element, with the given share of the counts, to every pixel;
they are included in the ground-truth phase spectra.

*Counts* are Poisson draws from the expected spectra. The random stream is tied
to fixed 16 x 16-pixel tiles of the map, each seeded with
``numpy.random.default_rng([random_state, tile_row, tile_column])``, so the
data depend only on the arguments and never on the dask chunking.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from exspy.material import elements as _ELEMENTS
from scipy import special

# the one detector-resolution law of the package (the calibration uses it too)
from hyperspy_cmeans._calibration.lines import fwhm_at_energy as _fwhm_at_energy

__all__ = ["GroundTruth", "default_phases", "ground_truth", "synthetic_eds_map"]

#: Edge of the square tiles (pixels) that carry the random streams.
SEED_TILE = 16
#: Default navigation chunk edge (pixels) of the dask array; a multiple of SEED_TILE.
DEFAULT_CHUNK = 64
#: Stage tilt of a FIB cross-section in a dual-beam microscope (degrees).
STAGE_TILT = 52.0

# Effective low-energy efficiency exp(-k / E**3), k in keV**3: 0.36 at O Ka,
# 0.1 % at C Ka, 0.4 % at 0.3 keV, nothing below ~0.25 keV.
_ABSORPTION_K = 0.15
# Kramers' constant relative to the characteristic-line model above; gives a
# peak-to-background of a few hundred for Si Ka in a silicate at 15 kV.
_KRAMERS = 6e-6
# Fractions below this are set to zero so that pixels away from interfaces
# are exactly pure (0.2 counts at the default dose: far below the noise).
_PURE_CUTOFF = 1e-3
# Bambynek (1972) fits (omega / (1 - omega))**(1/4) = a + b Z + c Z**3.
_YIELD_FIT = {"K": (0.015, 0.0327, -0.64e-6), "L": (-0.11107, 0.01368, -2.177e-7)}
_FAMILY_SHELL = {"K": "K", "L": "L3", "M": "M5"}


def _formula_to_weight_fractions(formula):
    """Weight fractions from atoms per formula unit, with exspy's atomic weights."""
    masses = {el: n * _ELEMENTS[el].General_properties.atomic_weight for el, n in formula.items()}
    total = sum(masses.values())
    return {el: m / total for el, m in masses.items()}


def default_phases():
    """Return the default phases, modelled on the FIB cross-section of the study.

    Returns
    -------
    dict
        Phase name -> {element: weight fraction} (each summing to 1), in the
        order used by :func:`synthetic_eds_map`:

        - ``"rutile"``: TiO2;
        - ``"titanite"``: CaTiSiO5;
        - ``"chlorite"``: (Mg3.5 Fe1.5) Al2 Si3 O10 (OH)8, the H omitted
          (it emits nothing an EDS detector records);
        - ``"Fe-rich silicate"``: fayalite-like (Fe1.8 Mg0.2) SiO4.

        Ti, Si, O, Mg and Fe are shared between phases, so they are
        distinguishable but not trivially.
    """
    formulas = {
        "rutile": {"Ti": 1, "O": 2},
        "titanite": {"Ca": 1, "Ti": 1, "Si": 1, "O": 5},
        "chlorite": {"Mg": 3.5, "Fe": 1.5, "Al": 2, "Si": 3, "O": 18},
        "Fe-rich silicate": {"Fe": 1.8, "Mg": 0.2, "Si": 1, "O": 4},
    }
    return {name: _formula_to_weight_fractions(f) for name, f in formulas.items()}


def _fluorescence_yield(family, z):
    if family in _YIELD_FIT:
        a, b, c = _YIELD_FIT[family]
        base = a + b * z + c * z**3
        if base <= 0:
            return 0.0
        r = base**4
        return r / (1.0 + r)
    return z**4 / (1e9 + z**4)


def _critical_energy(element, family, principal_energy):
    try:
        edge = _ELEMENTS[element].Atomic_properties.Binding_energies[_FAMILY_SHELL[family]]
        value = float(edge["onset_energy (eV)"]) / 1000.0
        if value > 0:
            return value
    except (AttributeError, KeyError, TypeError, ValueError):
        pass
    return 1.1 * principal_energy


def _element_lines(element, beam_energy):
    """Lines of ``element`` excited at ``beam_energy``.

    Returns a list of (line name, energy in keV, generated intensity per unit
    weight fraction, arbitrary units).
    """
    if element not in _ELEMENTS:
        raise ValueError(f"Unknown element {element!r}.")
    props = _ELEMENTS[element]
    z = props.General_properties.Z
    atomic_weight = props.General_properties.atomic_weight
    try:
        lines = props.Atomic_properties.Xray_lines
    except AttributeError:
        return []
    families = {}
    for name in lines.keys():
        line = lines[name]
        families.setdefault(name[0], []).append(
            (name, float(line["energy (keV)"]), float(line["weight"]))
        )
    out = []
    for family, members in families.items():
        principal = {n: e for n, e, _ in members}.get(
            family + "a", max(members, key=lambda m: m[2])[1]
        )
        overvoltage = beam_energy / _critical_energy(element, family, principal)
        if overvoltage <= 1.0:
            continue
        generated = overvoltage * np.log(overvoltage) - overvoltage + 1.0
        strength = _fluorescence_yield(family, z) * generated / atomic_weight
        for name, energy, weight in members:
            if weight > 0 and strength > 0:
                out.append((f"{element}_{name}", energy, strength * weight))
    return out


def _efficiency(energy):
    energy = np.asarray(energy, dtype=float)
    eff = np.zeros_like(energy)
    pos = energy > 0
    eff[pos] = np.exp(-_ABSORPTION_K / energy[pos] ** 3)
    return eff


def _peaks(lines, edges, energy_resolution_mnka):
    """Channel-integrated Gaussian peaks of ``lines`` (efficiency applied)."""
    out = np.zeros(edges.size - 1)
    for _, energy, intensity in lines:
        sigma = _fwhm_at_energy(energy, energy_resolution_mnka) / (2 * np.sqrt(2 * np.log(2)))
        cdf = special.erf((edges - energy) / (sigma * np.sqrt(2)))
        out += intensity * _efficiency(energy) * 0.5 * np.diff(cdf)
    return out


def _channel_axis(n_channels, scale, offset):
    centers = offset + scale * np.arange(n_channels)
    edges = offset + scale * (np.arange(n_channels + 1) - 0.5)
    return centers, edges


def _raw_phase_spectrum(
    composition, centers, edges, beam_energy, energy_resolution_mnka, background
):
    lines = []
    for element, fraction in composition.items():
        lines += [(n, e, fraction * i) for n, e, i in _element_lines(element, beam_energy)]
    spectrum = _peaks(lines, edges, energy_resolution_mnka)
    zbar = sum(f * _ELEMENTS[el].General_properties.Z for el, f in composition.items())
    inside = (centers > 0) & (centers < beam_energy)
    brems = np.zeros_like(centers)
    brems[inside] = (beam_energy - centers[inside]) / centers[inside]
    spectrum += background * _KRAMERS * zbar * brems * _efficiency(centers) * (edges[1] - edges[0])
    return spectrum


def _phase_spectra(
    compositions, contaminants, n_channels, scale, offset, beam_energy,
    energy_resolution_mnka, background, counts_per_pixel,
):  # fmt: skip
    centers, edges = _channel_axis(n_channels, scale, offset)
    contaminant_share = sum(contaminants.values())
    spectra = np.empty((len(compositions), n_channels))
    for k, (name, composition) in enumerate(compositions.items()):
        raw = _raw_phase_spectrum(
            composition, centers, edges, beam_energy, energy_resolution_mnka, background
        )
        if raw.sum() <= 0:
            raise ValueError(f"Phase {name!r} emits no counts in the recorded energy range.")
        spectra[k] = (1.0 - contaminant_share) * raw / raw.sum()
    for element, share in contaminants.items():
        peaks = _peaks(_element_lines(element, beam_energy), edges, energy_resolution_mnka)
        if peaks.sum() <= 0:
            raise ValueError(
                f"Contaminant {element!r} has no line excited at {beam_energy} keV "
                "in the recorded energy range."
            )
        spectra += share * peaks / peaks.sum()
    spectra *= counts_per_pixel
    # Drop negligible tails (< 1e-12 counts): they would be subnormal floats,
    # which slow the mixing products down a hundredfold.
    spectra[spectra < 1e-12] = 0.0
    return spectra


# ----------------------------------------------------------------------------- layout


def _signed_distance(field):
    """Approximate signed distance (pixels, positive inside) of ``field < 0``."""
    gy, gx = np.gradient(field)
    norm = np.maximum(np.hypot(gy, gx), 1e-12)
    return np.clip(-field / norm, -1e6, 1e6)


def _lens_field(yy, xx, ny, nx, center, semi_axes, angle, lobes, phase):
    """Implicit function of a rotated, lobed ellipse (pixel units, < 0 inside)."""
    dy, dx = yy - center[0] * ny, xx - center[1] * nx
    c, s = np.cos(angle), np.sin(angle)
    along, across = c * dx + s * dy, -s * dx + c * dy
    a, b = semi_axes[1] * nx, semi_axes[0] * ny
    theta = np.arctan2(across / b, along / a)
    radius = 1.0 + 0.08 * np.sin(lobes * theta + phase)
    return np.hypot(along / a, across / b) / radius - 1.0


def _cross_section_distances(ny, nx, n_phases, layout_seed=0):
    """Signed distances (n_phases, ny, nx) of a cross-section-like layout.

    With two phases or more, phases are stacked as horizontal bands with wavy
    interfaces; with three or more, the first phase is a lens in the top band
    and the last a lens in the bottom band (the default: a rutile lens in
    titanite above chlorite, which holds an Fe-rich silicate lens). The layout
    is fixed; ``layout_seed`` is not used.
    """
    yy, xx = np.meshgrid(np.arange(ny) + 0.5, np.arange(nx) + 0.5, indexing="ij")
    if n_phases == 1:
        return np.full((1, ny, nx), 1e6)
    if n_phases == 2:
        bands, lenses = [0, 1], []
    else:
        bands, lenses = list(range(1, n_phases - 1)), [0, n_phases - 1]
    nb = len(bands)
    dist = np.empty((n_phases, ny, nx))
    u = xx / nx
    boundaries = [None]
    for i in range(1, nb):
        wave = 0.05 * np.sin(2 * np.pi * (1.1 * u + 0.17 * i)) + 0.025 * np.sin(
            2 * np.pi * (2.7 * u + 0.41 * i)
        )
        boundaries.append(_signed_distance((i / nb + wave) * ny - yy))  # > 0 below
    boundaries.append(None)
    for i, k in enumerate(bands):
        d = np.full((ny, nx), 1e6)
        if boundaries[i] is not None:
            d = np.minimum(d, boundaries[i])
        if boundaries[i + 1] is not None:
            d = np.minimum(d, -boundaries[i + 1])
        dist[k] = d
    if lenses:
        semi_v = min(0.32 / nb, 0.18)
        specs = [
            (lenses[0], bands[0], (0.45 / nb if nb > 1 else 0.3, 0.3), (semi_v, 0.25), 0.25, 3, 0.4),
            (lenses[1], bands[-1], (1 - 0.45 / nb if nb > 1 else 0.7, 0.7), (semi_v, 0.24), -0.2, 4, 1.3),
        ]  # fmt: skip
        for lens, host, center, semi, angle, lobes, phase in specs:
            d_lens = _signed_distance(
                _lens_field(yy, xx, ny, nx, center, semi, angle, lobes, phase)
            )
            dist[lens] = d_lens
            dist[host] = np.minimum(dist[host], -d_lens)
    return dist


# Grain layout: equivalent radii (pixels) of the grain size classes and their
# shares of the grains; radii (pixels) of the small inclusions; rim widths.
_GRAIN_RADII = (26.0, 13.0, 6.5)
_GRAIN_SHARES = (0.25, 0.35, 0.4)
_INCLUSION_RADII = (1.0, 1.5, 2.5)
_INCLUSION_AREA = 900.0  # map area (pixels) per inclusion
_RIM_WIDTHS = (1.0, 2.0)


def _grain_seeds(ny, nx, rng):
    """Centres ``(n, 2)`` and radii ``(n,)`` of non-overlapping grain discs.

    Dart throwing: discs with radii drawn from the size classes are accepted
    where they overlap no accepted disc by more than 20 % of the radii, until
    300 darts in a row fail; centres may lie up to one radius outside the map.
    """
    centres = np.empty((0, 2))
    radii = np.empty(0)
    failures = 0
    while failures < 300:
        # darts in batches (one vectorised draw), each checked against the accepted discs
        batch_r = rng.choice(_GRAIN_RADII, size=64, p=_GRAIN_SHARES)
        span = np.array([ny, nx]) + batch_r[:, None]
        batch_c = rng.uniform(0, 1, (64, 2)) * span - 0.5 * batch_r[:, None]
        for c, r in zip(batch_c, batch_r, strict=True):
            gap = np.hypot(*(centres - c).T) - 0.8 * (radii + r)
            if gap.size and gap.min() < 0:
                failures += 1
                if failures >= 300:
                    break
                continue
            centres = np.vstack([centres, c])
            radii = np.append(radii, r)
            failures = 0
    return centres, radii


def _grain_labels(ny, nx, n_phases, layout_seed):
    """Phase label image ``(ny, nx)`` of a polycrystalline layout.

    Grains are the cells of the power diagram (Laguerre tessellation) of
    discs of three size classes (equivalent radii 26, 13 and 6.5 pixels), so
    grain sizes vary as in a real aggregate; phases are dealt to the grains in
    a shuffled, balanced order (neighbouring grains of one phase merge). With
    two phases or more, the grains of phase 0 larger than the smallest class
    get a rim of phase 1, one or two pixels wide (alternately); small
    inclusions (discs of radius 1, 1.5 or 2.5 pixels, one per 900 pixels of
    map area) of the last phase sit inside grains of the other phases, and of
    phase 0 inside grains of the last phase.
    """
    from scipy import ndimage

    if n_phases == 1:
        return np.zeros((ny, nx), dtype=int)
    rng = np.random.default_rng([layout_seed, ny, nx, n_phases])
    centres, radii = _grain_seeds(ny, nx, rng)
    yy, xx = np.meshgrid(np.arange(ny) + 0.5, np.arange(nx) + 0.5, indexing="ij")
    power = np.full((ny, nx), np.inf)
    grain = np.zeros((ny, nx), dtype=int)
    for g, ((cy, cx), r) in enumerate(zip(centres, radii, strict=True)):
        p = (yy - cy) ** 2 + (xx - cx) ** 2 - r**2
        closer = p < power
        power[closer] = p[closer]
        grain[closer] = g
    present = np.unique(grain)
    grain_phase = np.zeros(len(radii), dtype=int)
    grain_phase[present] = rng.permutation(np.arange(present.size) % n_phases)
    labels = grain_phase[grain]
    # distance of every pixel to the nearest pixel of another grain
    depth = np.zeros((ny, nx))
    for g, box in zip(range(len(radii)), ndimage.find_objects(grain + 1), strict=False):
        if box is None:
            continue
        # the bounding box grown by one pixel holds every pixel that bounds the grain
        box = tuple(slice(max(b.start - 1, 0), b.stop + 1) for b in box)
        inside = grain[box] == g
        depth[box][inside] = ndimage.distance_transform_edt(inside)[inside]
    rims = [g for g in present if grain_phase[g] == 0 and radii[g] > min(_GRAIN_RADII)]
    for i, g in enumerate(rims):
        labels[(grain == g) & (depth <= _RIM_WIDTHS[i % len(_RIM_WIDTHS)])] = 1
    last = n_phases - 1
    for i in range(int(ny * nx / _INCLUSION_AREA)):
        r = _INCLUSION_RADII[i % len(_INCLUSION_RADII)]
        room = depth >= r + 3.0  # well inside a grain, clear of its rim
        if not room.any():
            break
        flat = rng.choice(np.flatnonzero(room))
        cy, cx = yy.flat[flat], xx.flat[flat]
        host = labels.flat[flat]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        labels[disc] = 0 if host == last else last
        depth[(yy - cy) ** 2 + (xx - cx) ** 2 <= (r + 3.0) ** 2] = 0  # no touching inclusions
    return labels


def _label_distances(labels, n_phases):
    """Signed distances (n_phases, ny, nx) to the boundaries of a label image.

    Inside phase ``k`` the distance is that to the nearest pixel of another
    phase minus half a pixel (the boundary lies between pixel centres),
    outside it is minus the distance to the nearest pixel of ``k`` plus half
    a pixel; a phase that is absent is at -1e6 everywhere.
    """
    from scipy import ndimage

    dist = np.full((n_phases,) + labels.shape, -1e6)
    for k in range(n_phases):
        inside = labels == k
        if not inside.any():
            continue
        if inside.all():
            dist[k] = 1e6
            continue
        dist[k] = np.where(
            inside,
            ndimage.distance_transform_edt(inside) - 0.5,
            0.5 - ndimage.distance_transform_edt(~inside),
        )
    return dist


def _grain_distances(ny, nx, n_phases, layout_seed=0):
    """Signed distances (n_phases, ny, nx) of the grain layout (:func:`_grain_labels`)."""
    return _label_distances(_grain_labels(ny, nx, n_phases, layout_seed), n_phases)


#: Layouts of :func:`synthetic_eds_map`: name -> signed-distance function.
LAYOUTS = {"cross_section": _cross_section_distances, "grains": _grain_distances}


def _true_fractions(ny, nx, n_phases, interface_width, layout="cross_section", layout_seed=0):
    """Fractions (n_phases, ny, nx) summing to 1, logistic across interfaces."""
    dist = LAYOUTS[layout](ny, nx, n_phases, layout_seed)
    if interface_width == 0:
        fractions = np.zeros_like(dist)
        np.put_along_axis(fractions, dist.argmax(axis=0)[None], 1.0, axis=0)
        return fractions
    beta = np.log(9.0) / interface_width  # 10-90 % width across a two-phase interface
    logits = beta * (dist - dist.max(axis=0))
    fractions = np.exp(logits)
    fractions /= fractions.sum(axis=0)
    fractions[fractions < _PURE_CUTOFF] = 0.0
    fractions /= fractions.sum(axis=0)
    return fractions


# ----------------------------------------------------------------------------- counts


def _tile_counts(fractions, spectra, seed, row, col, dtype):
    ny, nx = fractions.shape[1:]
    y0, x0 = row * SEED_TILE, col * SEED_TILE
    tile = fractions[:, y0 : min(y0 + SEED_TILE, ny), x0 : min(x0 + SEED_TILE, nx)]
    # Explicit sum over the few phases present in the tile: much faster than
    # a BLAS product with an inner dimension of n_phases.
    lam = np.zeros(tile.shape[1:] + spectra.shape[1:])
    for k in np.flatnonzero(tile.any(axis=(1, 2))):
        lam += tile[k][:, :, None] * spectra[k]
    rng = np.random.default_rng([seed, row, col])
    return rng.poisson(lam).astype(dtype, copy=False)


def _block_counts(fractions, spectra, seed, dtype, y_range, x_range):
    """Counts of the block ``[y0:y1, x0:x1]``, assembled from its seed tiles."""
    (y0, y1), (x0, x1) = y_range, x_range
    out = np.empty((y1 - y0, x1 - x0, spectra.shape[1]), dtype=dtype)
    for row in range(y0 // SEED_TILE, (y1 - 1) // SEED_TILE + 1):
        for col in range(x0 // SEED_TILE, (x1 - 1) // SEED_TILE + 1):
            counts = _tile_counts(fractions, spectra, seed, row, col, dtype)
            ty, tx = row * SEED_TILE, col * SEED_TILE
            sy0, sy1 = max(ty, y0), min(ty + counts.shape[0], y1)
            sx0, sx1 = max(tx, x0), min(tx + counts.shape[1], x1)
            out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = counts[
                sy0 - ty : sy1 - ty, sx0 - tx : sx1 - tx
            ]
    return out


def _normalise_chunks(chunks, shape, n_channels):
    ny, nx = shape
    if chunks is None:
        chunks = (min(DEFAULT_CHUNK, ny), min(DEFAULT_CHUNK, nx))
    elif isinstance(chunks, numbers.Integral):
        chunks = (int(chunks), int(chunks))
    else:
        chunks = tuple(chunks)
        if len(chunks) == 3:
            if chunks[2] not in (-1, n_channels, None):
                raise ValueError("The energy axis must be a single chunk (use -1).")
            chunks = chunks[:2]
        if len(chunks) != 2:
            raise ValueError("chunks must be an int or a (ny, nx) or (ny, nx, -1) tuple.")
    out = []
    for c, n in zip(chunks, shape, strict=True):
        c = n if c in (-1, None) else int(c)
        if c < 1:
            raise ValueError("Chunk sizes must be positive.")
        c = min(c, n)
        out.append((c,) * (n // c) + ((n % c,) if n % c else ()))
    return tuple(out)


def _lazy_counts(fractions, spectra, seed, dtype, chunks):
    import dask.array as da
    from dask.base import tokenize

    def block(block_info=None):
        (y0, y1), (x0, x1), _ = block_info[None]["array-location"]
        return _block_counts(fractions, spectra, seed, dtype, (y0, y1), (x0, x1))

    return da.map_blocks(
        block,
        chunks=chunks + ((spectra.shape[1],),),
        dtype=dtype,
        meta=np.empty((0, 0, 0), dtype=dtype),
        # a unique key per content, so two maps never share graph keys
        name="synthetic-eds-" + tokenize(fractions, spectra, seed, dtype, chunks),
    )


# ----------------------------------------------------------------------------- API


def _check_compositions(phases):
    if phases is None:
        return default_phases()
    if not isinstance(phases, dict) or not phases:
        raise ValueError("phases must be a non-empty dict: name -> {element: weight fraction}.")
    out = {}
    for name, composition in phases.items():
        total = float(sum(composition.values())) if composition else 0.0
        if total <= 0 or any(v < 0 for v in composition.values()):
            raise ValueError(
                f"Phase {name!r} needs non-negative weight fractions with a positive sum."
            )
        for element in composition:
            if element not in _ELEMENTS:
                raise ValueError(f"Unknown element {element!r} in phase {name!r}.")
        out[str(name)] = {el: float(v) / total for el, v in composition.items()}
    return out


def synthetic_eds_map(
    shape=(156, 152),
    n_channels=1024,
    scale=0.01,
    offset=-0.1,
    phases=None,
    counts_per_pixel=200,
    interface_width=5.0,
    layout="cross_section",
    layout_seed=0,
    energy_resolution_MnKa=130.0,  # noqa: N803 (HyperSpy's metadata name)
    beam_energy=15.0,
    contaminants=None,
    background=1.0,
    pixel_size=17.1875,
    dtype="uint16",
    random_state=0,
    lazy=False,
    chunks=None,
):
    """Simulate an SEM EDS spectrum image of a mineral cross-section with known truth.

    The default map imitates the study of a FIB cross-section of a rutile -
    titanite - chlorite interface plus an Fe-rich silicate (156 x 152 pixels,
    1024 channels of 10 eV): a rutile lens in a titanite band above a chlorite
    band holding an Fe-rich silicate lens, with wavy, smooth interfaces. The
    physics of the spectra is described in the module docstring of
    ``hyperspy_cmeans.data._synthetic``.

    Parameters
    ----------
    shape : tuple of int
        Navigation shape in NumPy order ``(ny, nx)``.
    n_channels : int
        Number of energy channels.
    scale, offset : float
        Energy axis calibration in keV: channel ``i`` is centred on
        ``offset + i * scale``.
    phases : dict, optional
        Phase name -> {element symbol: weight fraction}; fractions are
        normalised to sum to 1. Elements that emit nothing recordable (H) may
        be included. Default :func:`default_phases` (rutile, titanite,
        chlorite, Fe-rich silicate). Their order sets their place in the
        layout (see ``layout``).
    counts_per_pixel : float
        Dose: expected total counts of every pixel over the recorded channels.
    interface_width : float
        Width in pixels over which the fraction of a phase goes from 10 % to
        90 % across a two-phase interface (logistic profile); 0 gives sharp
        interfaces. Fractions below 1e-3 are set to 0 (and the rest
        renormalised), so pixels farther than about 1.6 widths from any
        interface are exactly pure.
    layout : {"cross_section", "grains"}
        Where the phases are. ``"cross_section"`` (default): phases stacked
        as bands with wavy interfaces, the first and last phases (with three
        or more) as lenses in the top and bottom bands. ``"grains"``: a
        polycrystalline aggregate with grains of several sizes (power-diagram
        cells of discs with radii of 26, 13 and 6.5 pixels; neighbouring
        grains of one phase merge), rims one or two pixels wide of the second
        phase around the larger grains of the first phase (as titanite
        around rutile), and small inclusions (radius 1 to 2.5 pixels, one per
        900 pixels of map) of the last phase in grains of the others and of
        the first phase in grains of the last. Interfaces are blurred by
        ``interface_width`` in both layouts (a rim one pixel wide stays the
        dominant phase of its pixels up to ``interface_width`` of about 5).
    layout_seed : int
        Seed of the ``"grains"`` layout (with the shape and the number of
        phases); not used by ``"cross_section"``. Independent of the noise
        seed ``random_state``.
    energy_resolution_MnKa : float
        Detector FWHM at Mn Ka in eV, above the Fano limit (~121.4 eV); the
        FWHM at other energies follows the Fiori and Newbury relation
        (``hyperspy_cmeans._calibration.lines.fwhm_at_energy``).
    beam_energy : float
        Beam energy in keV; only shells with a critical energy below it emit.
    contaminants : dict, optional
        Element -> share of each pixel's counts given to the X-ray lines of that
        element in every pixel, e.g. ``{"Pt": 0.05, "Ga": 0.03}`` for Pt and Ga
        redeposited by the focused ion beam. Shares must sum to less than 1.
    background : float
        Multiplier of the bremsstrahlung level (1 gives a peak-to-background
        of a few hundred for Si Ka in a silicate).
    pixel_size : float
        Pixel size in nm on both navigation axes, as recorded by the
        instrument (the study: 17.1875 nm). The y size is *not* corrected for
        the 52 degree stage tilt, as in a raw acquisition.
    dtype : str or numpy.dtype
        Data type of the counts: ``"uint16"`` (default, like most EDS
        acquisitions; a ValueError is raised if a channel could overflow it),
        another integer type or a float type.
    random_state : int or None
        Seed of the Poisson noise; equal seeds give identical data. ``None``
        draws a fresh seed, stored in the metadata. The layout and the phase
        spectra do not depend on it.
    lazy : bool
        If True, return a :class:`~hyperspy_cmeans.LazyEDSSEMCmeansSpectrum`
        whose dask array is generated block by block on computation (only the
        fractions, ``n_phases * ny * nx`` floats, are held in memory), so maps
        larger than memory can be written to ``.zspy``.
    chunks : int or tuple, optional
        Navigation chunks ``(cy, cx)`` (or ``(cy, cx, -1)``) of the dask array;
        the energy axis is a single chunk. Default 64 x 64 pixels. The noise is
        seeded per 16 x 16-pixel tile, so the data never depend on ``chunks``
        and the eager result equals ``lazy=True`` computed, for any chunks;
        chunks that are multiples of 16 avoid generating tiles twice.

    Returns
    -------
    EDSSEMCmeansSpectrum or LazyEDSSEMCmeansSpectrum
        Data of shape ``(ny, nx, n_channels)``; navigation axes ``"x"`` and
        ``"y"`` in nm, signal axis ``"Energy"`` in keV. Metadata: the
        ``Sample`` elements and X-ray lines (phases and contaminants),
        ``Acquisition_instrument.SEM`` beam energy, a stage tilt of 52 degrees
        and ``Detector.EDS.energy_resolution_MnKa``. The ground truth is in
        ``metadata.Synthetic`` (read it with :func:`ground_truth`):
        ``phase_names``, ``fractions`` (n_phases, ny, nx), ``phase_spectra``
        (n_phases, n_channels; expected counts of a pure pixel, contaminants
        included), ``elements`` and ``compositions`` (n_phases, n_elements;
        weight fractions), ``contaminant_elements`` and
        ``contaminant_fractions`` and the generation parameters
        (``counts_per_pixel``, ``interface_width``, ``layout``,
        ``layout_seed``, ``random_state``,
        ``beam_energy``, ``energy_resolution_MnKa``, ``background``,
        ``seed_tile``, ``generator``). It is saved with the signal to .hspy and
        .zspy.

    Examples
    --------
    >>> from hyperspy_cmeans.data import synthetic_eds_map, ground_truth
    >>> s = synthetic_eds_map()
    >>> truth = ground_truth(s)
    >>> truth.phase_names
    ['rutile', 'titanite', 'chlorite', 'Fe-rich silicate']
    >>> s.data.shape
    (156, 152, 1024)
    """
    ny, nx = (int(v) for v in shape)
    n_channels = int(n_channels)
    _check_scalars(ny, nx, n_channels, scale, counts_per_pixel, interface_width, background,
                   beam_energy, energy_resolution_MnKa, layout, layout_seed)  # fmt: skip
    compositions = _check_compositions(phases)
    contaminants = _check_contaminants(contaminants)
    seed = _check_seed(random_state)
    dtype = np.dtype(dtype)

    spectra = _phase_spectra(
        compositions, contaminants, n_channels, float(scale), float(offset),
        float(beam_energy), float(energy_resolution_MnKa), float(background),
        float(counts_per_pixel),
    )  # fmt: skip
    _check_dtype(dtype, spectra)
    fractions = _true_fractions(
        ny, nx, len(compositions), float(interface_width), layout, int(layout_seed)
    )
    nav_chunks = _normalise_chunks(chunks, (ny, nx), n_channels)
    s = _make_signal(fractions, spectra, seed, dtype, nav_chunks, lazy, pixel_size, offset, scale)
    _set_instrument_metadata(s, compositions, contaminants, beam_energy, energy_resolution_MnKa)
    _store_ground_truth(
        s.metadata, compositions, contaminants, fractions, spectra,
        counts_per_pixel=float(counts_per_pixel), interface_width=float(interface_width),
        layout=layout, layout_seed=int(layout_seed), random_state=seed,
        beam_energy=float(beam_energy), energy_resolution_MnKa=float(energy_resolution_MnKa),
        background=float(background), seed_tile=SEED_TILE,
    )  # fmt: skip
    return s


def _check_scalars(ny, nx, n_channels, scale, counts_per_pixel, interface_width, background,
                   beam_energy, energy_resolution_MnKa, layout, layout_seed):  # noqa: N803  # fmt: skip
    """Validate the scalar arguments of :func:`synthetic_eds_map`."""
    if ny < 1 or nx < 1:
        raise ValueError("shape must hold two positive integers.")
    if n_channels < 2 or scale <= 0:
        raise ValueError("Need n_channels >= 2 and scale > 0.")
    if counts_per_pixel < 0 or interface_width < 0 or background < 0 or beam_energy <= 0:
        raise ValueError(
            "counts_per_pixel, interface_width and background must be >= 0, beam_energy > 0."
        )
    # The detector law FWHM**2 = FWHM_MnKa**2 + 2.5 (E - E_MnKa) (eV) has no
    # real solution at low energy below the Fano limit at Mn Ka (~121 eV).
    fano = np.sqrt(2.5 * 1000 * _ELEMENTS["Mn"].Atomic_properties.Xray_lines["Ka"]["energy (keV)"])
    if energy_resolution_MnKa <= fano:
        raise ValueError(
            f"energy_resolution_MnKa must exceed the Fano limit of {fano:.1f} eV at Mn Ka."
        )
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not known; use one of {sorted(LAYOUTS)}.")
    if not isinstance(layout_seed, numbers.Integral) or layout_seed < 0:
        raise ValueError("layout_seed must be a non-negative integer.")


def _check_contaminants(contaminants):
    contaminants = {str(k): float(v) for k, v in (contaminants or {}).items()}
    if any(v < 0 for v in contaminants.values()) or sum(contaminants.values()) >= 1:
        raise ValueError("Contaminant shares must be >= 0 and sum to less than 1.")
    return contaminants


def _check_seed(random_state):
    """The noise seed: ``random_state`` checked, or a fresh one for None."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**62))
    if not isinstance(random_state, numbers.Integral) or random_state < 0:
        raise ValueError("random_state must be a non-negative integer or None.")
    return int(random_state)


def _check_dtype(dtype, spectra):
    if np.issubdtype(dtype, np.integer):
        peak = spectra.max()
        if peak + 10 * np.sqrt(peak) + 10 > np.iinfo(dtype).max:
            raise ValueError(f"Counts could overflow {dtype}; use a larger dtype.")
    elif not np.issubdtype(dtype, np.floating):
        raise ValueError("dtype must be an integer or floating type.")


def _make_signal(fractions, spectra, seed, dtype, nav_chunks, lazy, pixel_size, offset, scale):
    """The (lazy) signal holding the Poisson counts, with calibrated axes."""
    import hyperspy_cmeans

    ny, nx = fractions.shape[1:]
    if lazy:
        data = _lazy_counts(fractions, spectra, seed, dtype, nav_chunks)
        cls = hyperspy_cmeans.LazyEDSSEMCmeansSpectrum
    else:
        data = _block_counts(fractions, spectra, seed, dtype, (0, ny), (0, nx))
        cls = hyperspy_cmeans.EDSSEMCmeansSpectrum
    n_channels = spectra.shape[1]
    axes = [
        {"name": "y", "size": ny, "offset": 0.0, "scale": float(pixel_size), "units": "nm", "navigate": True},
        {"name": "x", "size": nx, "offset": 0.0, "scale": float(pixel_size), "units": "nm", "navigate": True},
        {"name": "Energy", "size": n_channels, "offset": float(offset), "scale": float(scale), "units": "keV", "navigate": False},
    ]  # fmt: skip
    return cls(data, axes=axes)


def _set_instrument_metadata(s, compositions, contaminants, beam_energy, energy_resolution_MnKa):  # noqa: N803
    """Title, beam, stage tilt, detector resolution, elements and X-ray lines."""
    md = s.metadata
    md.General.title = "Synthetic EDS map (" + ", ".join(compositions) + ")"
    md.set_item("Acquisition_instrument.SEM.beam_energy", float(beam_energy))
    md.set_item("Acquisition_instrument.SEM.Stage.tilt_alpha", STAGE_TILT)
    md.set_item(
        "Acquisition_instrument.SEM.Detector.EDS.energy_resolution_MnKa",
        float(energy_resolution_MnKa),
    )
    all_elements = sorted({el for c in compositions.values() for el in c} | set(contaminants))
    emitting = [el for el in all_elements if _element_lines(el, beam_energy)]
    s.set_elements(emitting)
    s.add_lines()


def _store_ground_truth(md, compositions, contaminants, fractions, spectra, **parameters):
    """Write the truth and the generation parameters to ``metadata.Synthetic``."""
    names = list(compositions)
    element_list = sorted({el for c in compositions.values() for el in c})
    md.set_item("Synthetic.generator", "hyperspy_cmeans.data.synthetic_eds_map")
    md.set_item("Synthetic.phase_names", names)
    md.set_item("Synthetic.fractions", fractions)
    md.set_item("Synthetic.phase_spectra", spectra)
    md.set_item("Synthetic.elements", element_list)
    md.set_item(
        "Synthetic.compositions",
        np.array([[compositions[n].get(el, 0.0) for el in element_list] for n in names]),
    )
    md.set_item("Synthetic.contaminant_elements", list(contaminants))
    md.set_item("Synthetic.contaminant_fractions", np.array(list(contaminants.values()), float))
    for key, value in parameters.items():
        md.set_item(f"Synthetic.{key}", value)


class GroundTruth(NamedTuple):
    """Ground truth of a synthetic map, as returned by :func:`ground_truth`.

    Attributes
    ----------
    phase_names : list of str
        Names of the phases, in the order of the other fields.
    fractions : numpy.ndarray
        True fraction of each phase in each pixel, shape (n_phases, ny, nx),
        summing to 1 over phases.
    phase_spectra : numpy.ndarray
        Expected spectrum (counts per channel) of a pure pixel of each phase,
        shape (n_phases, n_channels).
    dominant_phase : numpy.ndarray
        Index of the phase with the largest fraction in each pixel, shape
        (ny, nx), int.
    """

    phase_names: list
    fractions: np.ndarray
    phase_spectra: np.ndarray
    dominant_phase: np.ndarray


def ground_truth(signal):
    """Read the ground truth that :func:`synthetic_eds_map` stored in a signal.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        A map made by :func:`synthetic_eds_map`, possibly saved and reloaded
        (the truth lives in ``signal.metadata.Synthetic``).

    Returns
    -------
    GroundTruth
        ``(phase_names, fractions, phase_spectra, dominant_phase)``.

    Raises
    ------
    ValueError
        If the signal has no ``metadata.Synthetic`` ground truth.

    Notes
    -----
    The truth is not sliced, rebinned or cropped with the signal: after
    ``inav``/``isig`` or ``rebin``, index the arrays the same way yourself.
    """
    md = signal.metadata
    if not md.has_item("Synthetic.fractions") or not md.has_item("Synthetic.phase_spectra"):
        raise ValueError("This signal carries no synthetic ground truth (metadata.Synthetic).")
    fractions = np.asarray(md.get_item("Synthetic.fractions"), dtype=float)
    spectra = np.asarray(md.get_item("Synthetic.phase_spectra"), dtype=float)
    names = [str(n) for n in md.get_item("Synthetic.phase_names")]
    return GroundTruth(names, fractions, spectra, fractions.argmax(axis=0).astype(int))
