# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Group per-band files into multi-band inputs: the bands of one field, from their file names.

Surveys distribute one file per band (SDSS ``frame-g-002583-2-0136.fits.bz2``,
``frame-r-...``); a translator needs the bands of a field together.
`group_band_files` finds them: by the SDSS naming scheme
``frame-{band}-{run}-{camcol}-{field}`` (always), or by a file-name pattern
with a ``{band}`` placeholder (``'{name}_{band}.fits'`` style) that the
caller gives.
"""

import os
import re
from pathlib import Path

from ..exceptions import BandMismatchError, InvalidOptionError

__all__ = ["BandGroup", "group_band_files", "SDSS_FRAME_NAME", "FITS_SUFFIXES"]

#: File-name endings read as FITS (case-insensitive), longest first.
FITS_SUFFIXES = (".fits.bz2", ".fits.gz", ".fits.fz", ".fit.bz2", ".fit.gz", ".fits", ".fit",
                 ".fts", ".fz")

#: SDSS frame file names: ``frame-{band}-{run:06d}-{camcol}-{field:04d}.fits[.bz2]``.
SDSS_FRAME_NAME = re.compile(
    r"^frame-(?P<band>[ugriz])-(?P<run>\d{6})-(?P<camcol>[1-6])-(?P<field>\d{4})"
    r"\.fits(\.bz2|\.gz)?$", re.IGNORECASE)


class BandGroup(dict):
    """
    The per-band files of one field: a dict ``{band: path}`` with the name of its output.

    `~survey2survey.io.read_cutout` reads it as one multi-band cutout;
    `~survey2survey.estimator.transform_many` names its output ``<stem>.fits``.

    Parameters
    ----------
    files : dict
        ``{band: path}``, in band order.
    stem : str
        Output file name without suffix (``frame-gri-002583-2-0136``).
    """

    def __init__(self, files, stem):
        super().__init__(files)
        self.stem = str(stem)

    def __repr__(self):
        return f"BandGroup({self.stem!r}, {dict(self)!r})"

    def __reduce__(self):  # picklable for dask workers
        return (BandGroup, (dict(self), self.stem))


def fits_stem(name):
    """``name`` without its FITS suffix (``.fits.bz2``, ``.FITS``...)."""
    name = Path(name).name
    for suffix in FITS_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def _band_order(bands, order):
    """``bands`` sorted by ``order`` (e.g. 'ugrizy'), unknown ones after, alphabetically."""
    return sorted(bands, key=lambda b: (order.index(b) if b in order else len(order), b))


def _pattern_regex(pattern):
    """The regular expression of a ``{band}`` file-name pattern (``*`` and ``?`` wildcards)."""
    if pattern.count("{band}") != 1:
        msg = (f"group pattern must hold one '{{band}}' placeholder, e.g. "
               f"'{{band}}-cutout.fits' or 'NGC4414_{{band}}.fits'; got {pattern!r}")
        raise InvalidOptionError(msg)
    before, after = pattern.split("{band}")

    def convert(text):
        return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)

    return re.compile(f"^{convert(before)}(?P<band>[A-Za-z0-9]{{1,8}}?){convert(after)}$")


def _sky_circle(path):
    """(band, centre SkyCoord, radius in deg) of a single-band file, or None."""
    from astropy.coordinates import SkyCoord

    from ..exceptions import Survey2SurveyError
    from .fits import read_cutout

    try:
        cutout = read_cutout(path)
    except (Survey2SurveyError, OSError):
        return None  # reported when the file is read for translation
    if len(cutout) != 1:
        return None
    band = cutout.bands[0]
    image = cutout[band]
    ny, nx = image.shape
    centre = image.wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
    corner = image.wcs.pixel_to_world(-0.5, -0.5)
    if not isinstance(centre, SkyCoord) or not isinstance(corner, SkyCoord):
        return None
    return band, centre, float(centre.separation(corner).deg)


def _group_by_sky(paths, order):
    """Single-band files of different bands whose image centres agree to 10% of their size."""
    circles = {k: _sky_circle(path) for k, path in enumerate(paths)}
    groups = []  # lists of indices
    for k in range(len(paths)):
        if circles[k] is None:
            groups.append([k])
            continue
        band, centre, radius = circles[k]
        for group in groups:
            first = circles[group[0]]
            if first is None or band in {circles[j][0] for j in group}:
                continue
            if centre.separation(first[1]).deg <= 0.1 * min(radius, first[2]):
                group.append(k)
                break
        else:
            groups.append([k])
    out = []
    for group in groups:
        if len(group) == 1:
            out.append(paths[group[0]])
            continue
        files = {circles[j][0]: paths[j] for j in group}
        bands = _band_order(files, order)
        stems = [fits_stem(os.fspath(files[b])) for b in bands]
        prefix = os.path.commonprefix(stems).rstrip("_-. ")
        first = fits_stem(os.fspath(paths[group[0]]))  # the group's first file, in order
        stem = f"{prefix or first}_{''.join(bands)}"
        out.append(BandGroup({b: files[b] for b in bands}, stem))
    return out


def group_band_files(paths, *, pattern=None, order="ugrizyJHK"):
    """
    Gather per-band files of one field into `BandGroup` objects; other files stay as they are.

    Parameters
    ----------
    paths : sequence of str or path
        The files.
    pattern : str, optional
        A file-name pattern with one ``{band}`` placeholder (and optional ``*``/``?``
        wildcards), e.g. ``'{band}-cutout.fits'`` or ``'*_{band}.fits.gz'``:
        files whose names match it and differ only in the band are one
        group. ``'sky'``: single-band files of different bands whose image
        centres agree to a tenth of their half-diagonal are one group (each
        file is read to find its band and footprint). Without it only SDSS
        frame files (``frame-{band}-{run}-{camcol}-{field}``) are grouped, by
        run, camcol and field.
    order : str, optional
        Band order inside a group (other bands follow, alphabetically).

    Returns
    -------
    items : list
        In the order of the first file of each: a `BandGroup` per field with
        two bands or more, the path itself for every other file.

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        If two files of one group are the same band.
    survey2survey.exceptions.InvalidOptionError
        If ``pattern`` has no single ``{band}`` placeholder.

    Examples
    --------
    >>> from survey2survey.io import group_band_files
    >>> group_band_files(['frame-i-002583-2-0136.fits.bz2', 'frame-g-002583-2-0136.fits.bz2',
    ...                   'other.fits'])  # doctest: +NORMALIZE_WHITESPACE
    [BandGroup('frame-gi-002583-2-0136', {'g': 'frame-g-002583-2-0136.fits.bz2',
                                          'i': 'frame-i-002583-2-0136.fits.bz2'}),
     'other.fits']
    >>> group_band_files(['m51_r.fits', 'm51_g.fits'], pattern='*_{band}.fits')
    [BandGroup('m51_gr', {'g': 'm51_g.fits', 'r': 'm51_r.fits'})]
    """
    if pattern == "sky":
        items = group_band_files(paths, order=order)  # SDSS frames by name first
        singles = [item for item in items if not isinstance(item, BandGroup)]
        group_of = {}  # each single file -> the item (file or BandGroup) holding it
        for item in _group_by_sky(singles, order):
            for member in (item.values() if isinstance(item, BandGroup) else [item]):
                group_of[id(member)] = item
        result, seen = [], set()
        for item in items:  # in the order of the first file of each
            item = item if isinstance(item, BandGroup) else group_of.get(id(item), item)
            if id(item) not in seen:
                seen.add(id(item))
                result.append(item)
        return result
    regex = None if pattern is None else _pattern_regex(pattern)
    keyed, items = {}, []
    for path in paths:
        name = os.path.basename(os.fspath(path))
        key = band = None
        if regex is not None:
            match = regex.match(name)
            if match:
                band = match.group("band")
                start, end = match.span("band")
                folder = os.path.dirname(os.fspath(path))
                key = (folder, name[:start], name[end:])
        else:
            match = SDSS_FRAME_NAME.match(name)
            if match:
                band = match.group("band").lower()
                key = (os.path.dirname(os.fspath(path)), "frame",
                       match.group("run"), match.group("camcol"), match.group("field"))
        if key is None:
            items.append(path)
            continue
        if key not in keyed:
            keyed[key] = {}
            items.append(key)
        files = keyed[key]
        if band in files:
            msg = (f"{os.fspath(files[band])!r} and {os.fspath(path)!r} are both band "
                   f"{band!r} of one field; give each band once")
            raise BandMismatchError(msg)
        files[band] = path
    out = []
    for item in items:
        if not isinstance(item, tuple):
            out.append(item)
            continue
        files = keyed[item]
        if len(files) == 1:
            out.append(next(iter(files.values())))
            continue
        bands = _band_order(files, order)
        joined = "".join(bands)
        if item[1] == "frame":
            stem = f"frame-{joined}-{item[2]}-{item[3]}-{item[4]}"
        else:
            stem = fits_stem(f"{item[1]}{joined}{item[2]}")
        out.append(BandGroup({b: files[b] for b in bands}, stem))
    return out
