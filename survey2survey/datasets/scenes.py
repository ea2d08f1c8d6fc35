# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Random galaxy scenes: what sits in the sky around one simulated cutout.

A scene is survey independent: it lists the objects (a central bulge + disk
galaxy with star-forming knots, a few neighbouring galaxies and stars) with
their sky positions, AB magnitudes per band, sizes and shapes. The renderer
(`survey2survey.datasets.render_scene`) then shows the same scene as each
survey sees it. This module needs numpy only.

Positions are offsets on the tangent plane at the scene centre, in arcsec,
``east`` (towards increasing RA) and ``north``; position angles are degrees
east of north; half-light radii are in arcsec.
"""

from dataclasses import dataclass, field

import numpy as np
from astropy.table import Table

from ..utils._validation import check_choice, check_number, parse_bands

__all__ = ["Scene", "draw_scene", "draw_seeing", "SPLITS", "component_magnitudes"]

#: bulge Sersic indices drawn from (GalSim caches one profile table per index)
SERSIC_INDICES = (2.5, 3.0, 3.5, 4.0, 4.5)

SPLITS = ("train", "external")
"""Scene populations: ``'train'`` (overlap-like) and ``'external'`` (fainter, worse seeing)."""

# Colours of each component relative to r (m_band - m_r) in a toy SED: red bulges, bluer
# disks, blue star-forming knots; u, z and Y extrapolate the g-r / r-i trend. Bands
# unknown to this table (custom surveys) get a flat spectrum (offset 0).
_COLOUR_CENTRE = {
    # component: (u-g, g-r, r-i, i-z, z-Y)
    "bulge": (1.75, 0.80, 0.40, 0.30, 0.15),
    "disk": (1.25, 0.45, 0.25, 0.15, 0.10),
    "knots": (0.80, 0.15, 0.05, 0.00, 0.00),
}
_COLOUR_SCATTER = (0.10, 0.05, 0.04, 0.04, 0.03)

# Train/external central-galaxy r magnitudes and the median seeing factor of each split.
_CENTRAL_MAG = {"train": (15.0, 18.5), "external": (16.5, 19.5)}
_SEEING_MEDIAN = {"train": 1.0, "external": 1.25}
SEEING_SIGMA = 0.10
"""Lognormal sigma of the per-cutout seeing factor."""


def _colour_offsets(colours):
    """Offsets m_band - m_r for the five colours (u-g, g-r, r-i, i-z, z-Y)."""
    ug, gr, ri, iz, zy = colours
    return {"u": ug + gr, "g": gr, "r": 0.0, "i": -ri, "z": -ri - iz, "Y": -ri - iz - zy,
            "y": -ri - iz - zy}


def component_magnitudes(mag_r, colours, bands):
    """
    AB magnitudes in ``bands`` of a component of r magnitude ``mag_r`` and ``colours``.

    Parameters
    ----------
    mag_r : float
        Magnitude in r.
    colours : sequence of 5 floats
        u-g, g-r, r-i, i-z and z-Y.
    bands : sequence of str
        Bands; names other than u, g, r, i, z, Y/y get the r magnitude.

    Returns
    -------
    mags : dict
        Band -> magnitude.

    Examples
    --------
    >>> from survey2survey.datasets import component_magnitudes
    >>> component_magnitudes(17.0, (1.2, 0.5, 0.2, 0.1, 0.1), 'gri')
    {'g': 17.5, 'r': 17.0, 'i': 16.8}
    """
    offsets = _colour_offsets(colours)
    return {b: float(mag_r + offsets.get(b, 0.0)) for b in bands}


def _total_magnitude(parts, bands):
    """Magnitude of the sum of components given as dicts band -> magnitude."""
    return {b: float(-2.5 * np.log10(sum(10 ** (-0.4 * p[b]) for p in parts))) for b in bands}


def _deproject(ra0, dec0, east, north):
    """Gnomonic (TAN) deprojection of tangent-plane offsets (arcsec) to RA, Dec (deg)."""
    xi = np.radians(np.asarray(east, dtype=float) / 3600.0)
    eta = np.radians(np.asarray(north, dtype=float) / 3600.0)
    ra0, dec0 = np.radians(ra0), np.radians(dec0)
    denom = np.cos(dec0) - eta * np.sin(dec0)
    ra = ra0 + np.arctan2(xi, denom)
    dec = np.arctan2(np.sin(dec0) + eta * np.cos(dec0), np.hypot(xi, denom))
    return np.degrees(ra) % 360.0, np.degrees(dec)


def _disk_axis_ratio(rng):
    """Projected axis ratio of a thin disk (intrinsic thickness 0.2) at random inclination."""
    cos_i = rng.uniform(0.0, 1.0)
    return float(np.sqrt((1 - 0.2**2) * cos_i**2 + 0.2**2))


def _galaxy(rng, mag_r, bands, *, knots_range, kind, east, north, red_fraction=None):
    """Parameters of a bulge + disk (+ knots) galaxy of total r magnitude ``mag_r``."""
    bt = float(rng.beta(1.2, 2.0))
    disk_hlr = float(2.2 * 10 ** (-0.2 * (mag_r - 17.0)) * rng.lognormal(0.0, 0.25))
    disk_hlr = max(disk_hlr, 0.4)
    bulge_hlr = max(disk_hlr * rng.uniform(0.2, 0.5), 0.25)
    pa = float(rng.uniform(0.0, 180.0))
    colours = {}
    for name, centre in _COLOUR_CENTRE.items():
        colours[name] = tuple(c + s * rng.standard_normal()
                              for c, s in zip(centre, _COLOUR_SCATTER, strict=True))
    n_knots = int(rng.integers(knots_range[0], knots_range[1] + 1))
    knot_frac = float(rng.uniform(0.0, 0.15)) if n_knots else 0.0
    # r-band light: bulge = B/T, disk = (1 - B/T)(1 - f_knots), knots = (1 - B/T) f_knots
    flux = 10 ** (-0.4 * mag_r)
    def mag(f):
        return -2.5 * np.log10(f) if f > 0 else np.inf
    bulge = dict(n=float(rng.choice(SERSIC_INDICES)), hlr=float(bulge_hlr),
                 q=float(rng.uniform(0.6, 1.0)), pa=float(pa + rng.normal(0.0, 10.0)),
                 mag=component_magnitudes(mag(flux * bt), colours["bulge"], bands))
    disk = dict(hlr=disk_hlr, q=_disk_axis_ratio(rng), pa=pa,
                mag=component_magnitudes(mag(flux * (1 - bt) * (1 - knot_frac)),
                                         colours["disk"], bands))
    # knots follow the disk's exponential profile: radius ~ Gamma(2, r_s), r_s = hlr / 1.678
    radius = rng.gamma(2.0, disk_hlr / 1.678, size=n_knots)
    angle = rng.uniform(0.0, 2 * np.pi, size=n_knots)
    weights = rng.dirichlet(np.ones(n_knots)) if n_knots else np.zeros(0)
    major, minor = radius * np.cos(angle), radius * np.sin(angle) * disk["q"]
    theta = np.radians(pa)  # major axis direction: east of north
    knots = dict(
        east=major * np.sin(theta) + minor * np.cos(theta),
        north=major * np.cos(theta) - minor * np.sin(theta),
        weight=weights, fwhm=0.25,
        mag=component_magnitudes(mag(flux * (1 - bt) * knot_frac), colours["knots"], bands),
    )
    parts = [bulge["mag"], disk["mag"]] + ([knots["mag"]] if n_knots else [])
    finite = [p for p in parts if np.isfinite(next(iter(p.values())))]
    return dict(kind=kind, east=float(east), north=float(north),
                mag=_total_magnitude(finite, bands), bulge=bulge, disk=disk, knots=knots,
                bt=bt, n_knots=n_knots, knot_frac=knot_frac)


def _star(rng, mag_r, bands, *, east, north):
    gr = float(rng.uniform(0.3, 1.4))
    ri = float(np.clip(0.5 * gr - 0.15 + rng.normal(0.0, 0.05), -0.1, None))
    colours = (1.0 + 0.8 * gr, gr, ri, 0.4 * ri, 0.2 * ri)
    return dict(kind="star", east=float(east), north=float(north),
                mag=component_magnitudes(mag_r, colours, bands))


def _offset_away_from_centre(rng, half_field, min_distance):
    for _ in range(100):
        east, north = rng.uniform(-half_field, half_field, size=2)
        if np.hypot(east, north) >= min_distance:
            break
    return float(east), float(north)


@dataclass
class Scene:
    """
    The objects around one cutout centre, as any survey would see them.

    Attributes
    ----------
    ra, dec : float
        Centre of the scene (and of the cutouts), degrees ICRS.
    bands : tuple of str
        Bands for which magnitudes are given.
    objects : list of dict
        One dict per object: ``kind`` (``'central'``, ``'neighbour'`` or ``'star'``),
        ``east``/``north`` offsets (arcsec), ``ra``/``dec``, ``mag`` (band -> AB
        magnitude); galaxies also ``bulge`` (Sersic ``n``, ``hlr``, ``q``, ``pa``,
        ``mag``), ``disk`` (``hlr``, ``q``, ``pa``, ``mag``), ``knots`` (offsets,
        flux weights, ``fwhm``, ``mag``), ``bt`` (r-band bulge-to-total),
        ``n_knots``, ``knot_frac``.
    split : str
        ``'train'`` or ``'external'``.
    """

    ra: float
    dec: float
    bands: tuple
    objects: list = field(default_factory=list)
    split: str = "train"

    def to_table(self):
        """
        The truth catalogue: one row per object, as an `~astropy.table.Table`.

        Columns: ``id``, ``kind``, ``ra``, ``dec`` (deg), ``east``, ``north`` (arcsec from
        the centre), ``mag_<band>`` (AB, total), ``bulge_n``, ``bulge_hlr``, ``disk_hlr``
        (arcsec), ``bulge_q``, ``disk_q``, ``pa`` (deg east of north), ``bt`` (r-band
        bulge-to-total), ``n_knots``, ``knot_frac``; galaxy columns are NaN for stars.
        """
        nan = np.nan
        rows = []
        for k, obj in enumerate(self.objects):
            galaxy = obj["kind"] != "star"
            row = dict(id=k, kind=obj["kind"], ra=obj["ra"], dec=obj["dec"], east=obj["east"],
                       north=obj["north"])
            row.update({f"mag_{b}": obj["mag"][b] for b in self.bands})
            row.update(
                bulge_n=obj["bulge"]["n"] if galaxy else nan,
                bulge_hlr=obj["bulge"]["hlr"] if galaxy else nan,
                disk_hlr=obj["disk"]["hlr"] if galaxy else nan,
                bulge_q=obj["bulge"]["q"] if galaxy else nan,
                disk_q=obj["disk"]["q"] if galaxy else nan,
                pa=obj["disk"]["pa"] % 180.0 if galaxy else nan,
                bt=obj["bt"] if galaxy else nan,
                n_knots=obj["n_knots"] if galaxy else 0,
                knot_frac=obj["knot_frac"] if galaxy else nan,
            )
            rows.append(row)
        names = (["id", "kind", "ra", "dec", "east", "north"] + [f"mag_{b}" for b in self.bands]
                 + ["bulge_n", "bulge_hlr", "disk_hlr", "bulge_q", "disk_q", "pa", "bt",
                    "n_knots", "knot_frac"])
        table = Table(rows=[[r[c] for c in names] for r in rows] or None, names=names,
                      dtype=[np.int32, "U9"] + [float] * (4 + len(self.bands))
                      + [float] * 7 + [np.int32, float])
        units = dict(ra="deg", dec="deg", east="arcsec", north="arcsec", bulge_hlr="arcsec",
                     disk_hlr="arcsec", pa="deg")
        for name, unit in units.items():
            table[name].unit = unit
        for b in self.bands:
            table[f"mag_{b}"].unit = "mag"
        table.meta.update(RA=self.ra, DEC=self.dec, SPLIT=self.split)
        return table


def draw_scene(rng, bands, *, split="train", field=60.0, central_mag=None):
    """
    Draw a random scene: a central galaxy, ~2 neighbours and ~1 star.

    Parameters
    ----------
    rng : `numpy.random.Generator`
        Source of randomness (the scene is a pure function of its state).
    bands : sequence of str
        Bands in which to give magnitudes.
    split : {'train', 'external'}, optional
        ``'external'`` centrals are fainter (r 16.5-19.5 instead of 15-18.5).
    field : float, optional
        Side of the field in arcsec, over which neighbours and stars are spread.
    central_mag : tuple of float, optional
        ``(faintest, brightest)`` swapped or not: the r-magnitude range of the
        central galaxy instead of the split's (e.g. ``(19.5, 22.5)`` for faint
        galaxies).

    Returns
    -------
    scene : `Scene`

    Raises
    ------
    survey2survey.exceptions.InvalidOptionError
        If ``split`` is not one of ``SPLITS`` or ``field`` is not positive.

    Notes
    -----
    Central galaxy: r uniform in 15-18.5 (train); Sersic bulge (n in 2.5-4.5, steps of
    0.5) plus exponential disk, B/T ~ Beta(1.2, 2), disk half-light radius
    2.2" x 10^(-0.2 (r - 17)) with 0.25 dex-e lognormal scatter, bulge radius 0.2-0.5 of
    the disk's, bulge redder than disk, 4-15 blue star-forming knots holding 0-15% of the
    disk light. Poisson(2) neighbours (r 18-22.5, 0-3 knots) and Poisson(1) stars
    (r 16-21.5), at least 4" from the centre.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.datasets import draw_scene
    >>> scene = draw_scene(np.random.default_rng(1), 'gri')
    >>> scene.objects[0]['kind']
    'central'
    >>> len(scene.to_table()) == len(scene.objects)
    True
    """
    check_choice(split, SPLITS, "split")
    check_number(field, "field", minimum=0, exclusive_minimum=True)
    bands = parse_bands(bands)
    # a random position on the sky, uniform in area, away from the poles
    ra = float(rng.uniform(0.0, 360.0))
    dec = float(np.degrees(np.arcsin(rng.uniform(-0.94, 0.94))))
    objects = []
    lo, hi = _CENTRAL_MAG[split] if central_mag is None else sorted(central_mag)
    east, north = rng.normal(0.0, 0.3, size=2)
    objects.append(_galaxy(rng, rng.uniform(lo, hi), bands, knots_range=(4, 15),
                           kind="central", east=east, north=north))
    half = field / 2
    for _ in range(int(rng.poisson(2.0))):
        east, north = _offset_away_from_centre(rng, half, 4.0)
        objects.append(_galaxy(rng, rng.uniform(18.0, 22.5), bands, knots_range=(0, 3),
                               kind="neighbour", east=east, north=north))
    for _ in range(int(rng.poisson(1.0))):
        east, north = _offset_away_from_centre(rng, half, 4.0)
        objects.append(_star(rng, rng.uniform(16.0, 21.5), bands, east=east, north=north))
    east = np.array([o["east"] for o in objects])
    north = np.array([o["north"] for o in objects])
    ras, decs = _deproject(ra, dec, east, north)
    for obj, r, d in zip(objects, ras, decs, strict=True):
        obj["ra"], obj["dec"] = float(r), float(d)
    return Scene(ra=ra, dec=dec, bands=bands, objects=objects, split=split)


def draw_seeing(rng, *, split="train", sigma=None):
    """A lognormal seeing factor (multiplies every band's PSF FWHM of one cutout).

    ``sigma`` is the lognormal spread (default ``SEEING_SIGMA``, 0.10).
    """
    return float(_SEEING_MEDIAN[split] * rng.lognormal(0.0, SEEING_SIGMA if sigma is None
                                                       else sigma))
