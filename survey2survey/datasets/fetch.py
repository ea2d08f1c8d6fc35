# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Real cutouts from survey archives: `fetch_cutout` and `fetch_pairs`.

Three services, each read with the matching `~survey2survey.io.read_cutout` layout:

=================  =====================================================================
service            what is downloaded
=================  =====================================================================
``sdss``           the SDSS frame files around the position (fields found with
                   `astroquery.sdss`), cut with `~survey2survey.io.extract_cutout`
                   at the frames' own pixel scale
``legacysurvey``   a cube from the Legacy Surveys viewer's ``fits-cutout`` service,
                   resampled by the service: the ``des-dr1`` layer for DES, ``ls-dr10``
                   for the Legacy Surveys, ``sdss`` for SDSS; nanomaggies, with the
                   inverse variance when the layer has one
``hips2fits``      one image per band from CDS hips2fits (`astroquery.hips2fits`),
                   resampled from HiPS tiles: fine for looking, to be validated before
                   photometry; the pixel unit must be given
=================  =====================================================================

Downloads go through `astropy.utils.data.download_file` with ``cache=True``: a
repeated call reads the cached files and does not touch the network (the SDSS
field search is cached by astroquery). The SDSS and hips2fits services need
astroquery (``pip install "survey2survey[data]"``).
"""

import contextlib
import math
import warnings
from urllib.parse import urlencode

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import (
    FetchError,
    InvalidOptionError,
    MissingDependencyError,
    NoOverlapError,
    Survey2SurveyError,
)
from ..io import Cutout, extract_cutout, read_cutout
from ..surveys import get_survey
from ..utils._progress import progress_bar
from ..utils._validation import check_bool, check_choice, check_number, parse_bands
from .pairs import SurveyPair, SurveyPairs
from .render import make_wcs

__all__ = ["fetch_cutout", "fetch_pairs", "FETCH_SURVEYS", "SERVICES",
           "LEGACY_SURVEY_CUTOUT_URL"]

SERVICES = ("sdss", "legacysurvey", "hips2fits")
LEGACY_SURVEY_CUTOUT_URL = "https://www.legacysurvey.org/viewer/fits-cutout"
_LEGACY_SURVEY_MAX_SIZE = 3000  # pixels, the viewer's limit

#: What each survey name fetches: default service, Legacy Surveys viewer layer, HiPS id
#: template, native pixel scale (arcsec) and the SURVEY card of the result.
FETCH_SURVEYS = {
    "sdss": dict(service="sdss", layer="sdss", hips="CDS/P/SDSS9/{band}",
                 pixel_scale=float(get_survey("sdss").pixel_scale.value), name="SDSS"),
    "des": dict(service="legacysurvey", layer="des-dr1", hips=None,
                pixel_scale=float(get_survey("des").pixel_scale.value), name="DES"),
    "legacysurvey": dict(service="legacysurvey", layer="ls-dr10", hips=None, pixel_scale=0.262,
                         name="LegacySurveys"),
}


def _import(module):
    """Import an astroquery module or raise MissingDependencyError with the pip command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = (f"fetching from this service needs astroquery ({module}), which is not "
               f'installed; install it with pip install "survey2survey[data]"')
        raise MissingDependencyError(msg) from exc


def _sky_position(position):
    if not isinstance(position, SkyCoord) or not position.isscalar:
        msg = f"position must be one SkyCoord; got {position!r}"
        raise InvalidOptionError(msg)
    return position.icrs


def _shape(size, pixel_scale):
    """``(ny, nx)`` pixels at ``pixel_scale`` (arcsec/pix) for a size in pixels or an angle."""
    values = size if isinstance(size, (tuple, list)) else (size, size)
    if isinstance(size, u.Quantity) and not size.isscalar:
        values = tuple(size)
    if len(values) != 2:
        msg = f"size must be one value or (ny, nx); got {size!r}"
        raise InvalidOptionError(msg)
    shape = []
    for value in values:
        if isinstance(value, u.Quantity):
            try:
                value = math.ceil(value.to_value(u.arcsec) / pixel_scale - 1e-9)
            except u.UnitConversionError:
                msg = f"size must be pixels or an angle; got {size!r}"
                raise InvalidOptionError(msg) from None
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            msg = f"size must be a positive number of pixels or an angle; got {size!r}"
            raise InvalidOptionError(msg)
        shape.append(int(value))
    return tuple(shape)


def _arcsec_per_pixel(value):
    """A pixel scale (number in arcsec, angle, or angle per pixel) in arcsec per pixel."""
    if isinstance(value, u.Quantity):
        try:
            value = value.to_value(u.arcsec, equivalencies=[(u.pix, None)]) \
                if value.unit.is_equivalent(u.arcsec) else value.to_value(u.arcsec / u.pix)
        except u.UnitConversionError:
            msg = f"pixel_scale must be an angle (per pixel); got {value!r}"
            raise InvalidOptionError(msg) from None
    return check_number(value, "pixel_scale", minimum=0, exclusive_minimum=True)


def _download(url, *, cache, timeout):
    """A local path of ``url``, through astropy's download cache."""
    from astropy.utils.data import download_file

    return download_file(url, cache=cache, timeout=timeout, show_progress=False)


# --- the three services ------------------------------------------------------------------------
def _legacysurvey_url(position, *, layer, pixel_scale, shape, bands):
    query = dict(ra=f"{position.ra.deg:.7f}", dec=f"{position.dec.deg:.7f}", layer=layer,
                 pixscale=f"{pixel_scale:g}", width=shape[1], height=shape[0],
                 bands="".join(bands), invvar="")
    return f"{LEGACY_SURVEY_CUTOUT_URL}?{urlencode(query)}"


def _hips2fits_url(hips, wcs):
    hips2fits = _import("astroquery.hips2fits").hips2fits
    payload = hips2fits.query_with_wcs(hips, wcs, format="fits", get_query_payload=True)
    return f"{hips2fits.server}?{urlencode(payload)}"


def _sdss_frames(run, rerun, camcol, field, bands, *, data_release, timeout, cache):
    """
    The frames of one SDSS field in ``bands`` (HDULists, in band order) and their file
    names, through astroquery's ``SDSS.get_images`` (which downloads
    them into astropy's cache).
    """
    sdss = _import("astroquery.sdss").SDSS
    matches = Table(rows=[(run, rerun, camcol, field)], names=("run", "rerun", "camcol", "field"))
    frames = sdss.get_images(matches=matches, band="".join(bands), data_release=data_release,
                             timeout=timeout, cache=cache, show_progress=False)
    names = [f"DR{data_release} frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2"
             for band in bands]  # the SDSS data model's file names
    return list(frames), names


def _sdss_fields(position, *, data_release, timeout, cache):
    """(run, rerun, camcol, field) of the SDSS fields around ``position``, nearest first."""
    sdss = _import("astroquery.sdss").SDSS
    table = sdss.query_region(position, radius=30 * u.arcsec,
                              fields=["ra", "dec", "run", "rerun", "camcol", "field"],
                              data_release=data_release, timeout=timeout, cache=cache)
    if table is None or len(table) == 0:
        return []
    found = SkyCoord(np.asarray(table["ra"], float), np.asarray(table["dec"], float), unit="deg")
    order = np.argsort(found.separation(position).arcsec)
    fields = []
    for k in order:
        row = table[int(k)]
        key = (int(row["run"]), int(row["rerun"]), int(row["camcol"]), int(row["field"]))
        if key not in fields:
            fields.append(key)
    return fields


def _fetch_sdss(position, bands, shape, *, data_release, sdss_uncertainty, cache, timeout):
    fields = _sdss_fields(position, data_release=data_release, timeout=timeout, cache=cache)
    if not fields:
        msg = (f"no SDSS imaging found within 30 arcsec of "
               f"{position.to_string('decimal', precision=6)} (DR{data_release})")
        raise NoOverlapError(msg)
    failures = []
    for run, rerun, camcol, field in fields:
        frames, names = _sdss_frames(run, rerun, camcol, field, bands,
                                     data_release=data_release, timeout=timeout, cache=cache)
        try:
            cutout = extract_cutout(frames, position, shape, format="sdss-frame",
                                    sdss_uncertainty=sdss_uncertainty)
        except NoOverlapError as exc:
            failures.append(str(exc))
            continue
        edge = sum(int(np.count_nonzero(np.isnan(cutout[b].data))) for b in cutout.bands)
        if edge:
            warnings.warn(f"the SDSS cutout at {position.to_string('decimal', precision=6)} "
                          f"extends beyond frame run {run} camcol {camcol} field {field}: "
                          f"{edge} pixel(s) are NaN and masked", AstropyUserWarning)
        return cutout, names
    msg = f"no SDSS frame near the position covers it: {'; '.join(failures)}"
    raise NoOverlapError(msg)


def _fetch_legacysurvey(position, bands, shape, *, layer, pixel_scale, cache, timeout):
    if max(shape) > _LEGACY_SURVEY_MAX_SIZE:
        msg = (f"the Legacy Surveys cutout service returns at most "
               f"{_LEGACY_SURVEY_MAX_SIZE} pixels a side; size gives {shape}")
        raise InvalidOptionError(msg)
    url = _legacysurvey_url(position, layer=layer, pixel_scale=pixel_scale, shape=shape,
                            bands=bands)
    path = _download(url, cache=cache, timeout=timeout)
    return read_cutout(path, bands, format="legacysurvey", what=f"the {layer} cutout"), [url]


def _fetch_hips2fits(position, bands, shape, *, hips, pixel_scale, unit, cache, timeout):
    if hips is None:
        msg = ("service='hips2fits' needs hips=, a HiPS id per band: a template such as "
               "'CDS/P/SDSS9/{band}' or a dict {band: id}")
        raise InvalidOptionError(msg)
    if unit is None:
        msg = ("service='hips2fits' needs unit=: hips2fits images carry no BUNIT card; take "
               "the pixel unit from the HiPS properties file (e.g. unit='nmgy')")
        raise InvalidOptionError(msg)
    wcs = make_wcs(position.ra.deg, position.dec.deg, pixel_scale, shape)
    parts, urls = {}, []
    for band in bands:
        hips_id = hips[band] if isinstance(hips, dict) else hips.format(band=band)
        url = _hips2fits_url(hips_id, wcs)
        path = _download(url, cache=cache, timeout=timeout)
        parts[band] = read_cutout(path, [band], unit=unit, format="hips2fits",
                                  what=f"hips2fits {hips_id}")[band]
        urls.append(url)
    return Cutout(parts), urls


def fetch_cutout(position, survey="sdss", *, size=64, bands="gri", service=None, layer=None,
                 hips=None, unit=None, pixel_scale=None, data_release=17,
                 sdss_uncertainty=False, cache=True, timeout=60):
    """
    Download a multi-band cutout of a survey at a sky position.

    Parameters
    ----------
    position : `~astropy.coordinates.SkyCoord`
        The cutout centre.
    survey : {'sdss', 'des', 'legacysurvey'}, optional
        The survey (see ``FETCH_SURVEYS``); it picks the default service, layer
        and pixel scale.
    size : int, `~astropy.units.Quantity` or tuple, optional
        Pixels (at ``pixel_scale``) or an angle; one value or ``(ny, nx)``.
    bands : str or sequence of str, optional
        The bands, e.g. ``'gri'``.
    service : {'sdss', 'legacysurvey', 'hips2fits'}, optional
        Where to download from (default: the survey's): SDSS frames (SDSS only),
        the Legacy Surveys cutout service, or CDS hips2fits.
    layer : str, optional
        Legacy Surveys viewer layer (default: ``'sdss'``, ``'des-dr1'`` or
        ``'ls-dr10'`` for the survey).
    hips : str or dict, optional
        For hips2fits: a HiPS id template with ``{band}`` or a dict
        ``{band: HiPS id}`` (default for SDSS: ``'CDS/P/SDSS9/{band}'``).
    unit : `~astropy.units.UnitBase` or str, optional
        For hips2fits (required there): the unit of the HiPS pixel values.
    pixel_scale : float or `~astropy.units.Quantity`, optional
        Arcsec per pixel of the resampled services (default: the survey's
        native scale); SDSS frames keep their own.
    data_release : int, optional
        SDSS data release for the frame search and files.
    sdss_uncertainty : bool, optional
        For SDSS frames: attach the per-pixel noise of the SDSS data model.
    cache : bool, optional
        Use astropy's download cache (a repeated call does not download again).
    timeout : float, optional
        Seconds to wait for the network.

    Returns
    -------
    cutout : `~survey2survey.io.Cutout`
        Every band with its WCS, unit (nanomaggies for SDSS and the Legacy
        Surveys service), mask and, where the service gives one, uncertainty;
        ``SURVEY`` and ``FETCHSVC`` cards and a ``HISTORY`` of the URLs.

    Raises
    ------
    survey2survey.exceptions.MissingDependencyError
        If astroquery is needed (SDSS, hips2fits) and not installed.
    survey2survey.exceptions.NoOverlapError
        If the survey has no image at the position.
    survey2survey.exceptions.InvalidOptionError
        For an unknown survey, service or size.
    survey2survey.exceptions.FetchError
        (a `ConnectionError`) If the service cannot be reached or fails
        (offline, refused, timed out, HTTP error); the message names the
        service and the position.

    Notes
    -----
    The Legacy Surveys and hips2fits services resample the survey images onto
    the requested grid; SDSS frames are cut from the frame files of the field
    and registered onto the r band's grid (or the middle band's; see
    `~survey2survey.alignment.register_bands`) by
    `~survey2survey.io.extract_cutout`.

    Examples
    --------
    .. doctest-remote-data::

        >>> from astropy.coordinates import SkyCoord
        >>> from survey2survey.datasets import fetch_cutout
        >>> position = SkyCoord(ra=20.3, dec=0.2, unit='deg')  # Stripe 82
        >>> des = fetch_cutout(position, 'des', size=64, bands='gri')  # doctest: +SKIP
    """
    position = _sky_position(position)
    check_choice(survey, tuple(FETCH_SURVEYS), "survey")
    defaults = FETCH_SURVEYS[survey]
    service = defaults["service"] if service is None else service
    check_choice(service, SERVICES, "service")
    if service == "sdss" and survey != "sdss":
        msg = f"service='sdss' serves SDSS frames; for survey={survey!r} use 'legacysurvey'"
        raise InvalidOptionError(msg)
    bands = parse_bands(bands)
    check_bool(sdss_uncertainty, "sdss_uncertainty")
    check_bool(cache, "cache")
    timeout = check_number(timeout, "timeout", minimum=0, exclusive_minimum=True)
    pixel_scale = _arcsec_per_pixel(defaults["pixel_scale"] if pixel_scale is None
                                    else pixel_scale)
    with _naming_the_service(service, position):
        cutout, urls = _fetch(service, position, bands, size, defaults, layer=layer, hips=hips,
                              unit=unit, pixel_scale=pixel_scale, data_release=data_release,
                              sdss_uncertainty=sdss_uncertainty, cache=cache,
                              timeout=timeout)
    meta = cutout.meta.copy()
    meta["SURVEY"] = (defaults["name"], "survey the cutout shows")
    meta["FETCHSVC"] = (service, "survey2survey.datasets.fetch_cutout service")
    for url in urls:
        meta.add_history(f"fetched {url}")
    return Cutout({b: cutout[b] for b in cutout.bands}, meta=meta)


#: How each service is named in errors: who it is and where it lives.
SERVICE_NAMES = {
    "sdss": "the SDSS Science Archive Server (field search with astroquery.sdss, frame files "
            "from data.sdss.org)",
    "legacysurvey": f"the Legacy Surveys viewer cutout service ({LEGACY_SURVEY_CUTOUT_URL})",
    "hips2fits": "the CDS hips2fits service (alasky.cds.unistra.fr, through "
                 "astroquery.hips2fits)",
}


@contextlib.contextmanager
def _naming_the_service(service, position):
    """Network failures (offline, refused, timed out, HTTP errors) as FetchError naming it."""
    try:
        yield
    except Survey2SurveyError:
        raise
    except Exception as exc:
        network = isinstance(exc, OSError) or type(exc).__module__.startswith(
            ("astroquery", "requests", "urllib3", "http"))
        if not network:
            raise
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        msg = (f"could not fetch the cutout at {position.to_string('decimal', precision=6)} "
               f"from {SERVICE_NAMES[service]}: {detail}. Check the network connection (files "
               f"fetched before are read from the astropy cache with cache=True) or retry "
               f"later")
        raise FetchError(msg) from exc


def _fetch(service, position, bands, size, defaults, *, layer, hips, unit, pixel_scale,
           data_release, sdss_uncertainty, cache, timeout):
    """The cutout and the URLs of one service."""
    if service == "sdss":
        shape = _shape(size, defaults["pixel_scale"])
        cutout, urls = _fetch_sdss(position, bands, shape, data_release=data_release,
                                   sdss_uncertainty=sdss_uncertainty, cache=cache,
                                   timeout=timeout)
    elif service == "legacysurvey":
        shape = _shape(size, pixel_scale)
        cutout, urls = _fetch_legacysurvey(position, bands, shape,
                                           layer=layer or defaults["layer"],
                                           pixel_scale=pixel_scale, cache=cache,
                                           timeout=timeout)
    else:
        shape = _shape(size, pixel_scale)
        cutout, urls = _fetch_hips2fits(position, bands, shape, hips=hips or defaults["hips"],
                                        pixel_scale=pixel_scale, unit=unit, cache=cache,
                                        timeout=timeout)
    return cutout, urls


def fetch_pairs(positions, source="sdss", target="des", *, size=64, bands="gri",
                on_error="raise", progress=None, **options):
    """
    Download pairs of cutouts of the same sky from two surveys, e.g. SDSS and DES in Stripe 82.

    This is how the paper built its training set: the same galaxies seen by
    the source survey (SDSS frames) and the target survey (DES, through the
    Legacy Surveys cutout service), each at its own pixel scale and covering
    the same sky area.

    Parameters
    ----------
    positions : `~astropy.coordinates.SkyCoord` or sequence of them
        The cutout centres.
    source, target : str, optional
        Surveys of ``FETCH_SURVEYS`` (default ``'sdss'`` and ``'des'``).
    size : int or `~astropy.units.Quantity`, optional
        Source cutout side in source pixels, or an angle; the target cutout
        covers the same angle at the target's pixel scale.
    bands : str or sequence of str, optional
        The bands of both.
    on_error : {'raise', 'skip'}, optional
        With ``'skip'``, positions that fail (outside a footprint, network
        errors) are left out, with one warning counting them.
    progress : bool, optional
        Show a progress bar (default: ``survey2survey.conf.show_progress``).
    **options
        Passed to `fetch_cutout` for both surveys (``cache``, ``timeout``...).

    Returns
    -------
    pairs : `~survey2survey.datasets.SurveyPairs`
        One `~survey2survey.datasets.SurveyPair` per position (named
        ``J{ra:.5f}{dec:+.5f}``), ready for
        `~survey2survey.estimator.Survey2Survey.fit`.

    Examples
    --------
    .. doctest-remote-data::

        >>> from astropy.coordinates import SkyCoord
        >>> from survey2survey.datasets import fetch_pairs
        >>> stripe82 = SkyCoord(ra=[20.3, 20.5], dec=[0.2, -0.4], unit='deg')
        >>> pairs = fetch_pairs(stripe82, 'sdss', 'des', size=64)  # doctest: +SKIP
    """
    check_choice(source, tuple(FETCH_SURVEYS), "source")
    check_choice(target, tuple(FETCH_SURVEYS), "target")
    check_choice(on_error, ("raise", "skip"), "on_error")
    if isinstance(positions, SkyCoord):
        positions = [positions] if positions.isscalar else list(positions)
    positions = list(positions)
    source_scale = FETCH_SURVEYS[source]["pixel_scale"]
    if isinstance(size, u.Quantity):
        angle = size
    else:
        angle = np.asarray(_shape(size, source_scale)) * source_scale * u.arcsec
        angle = tuple(angle) if angle[0] != angle[1] else angle[0]
    pairs, failed = [], []
    for position in progress_bar(positions, progress=progress, desc="fetching pairs"):
        position = _sky_position(position)
        name = f"J{position.ra.deg:.5f}{position.dec.deg:+.5f}"
        try:
            source_cutout = fetch_cutout(position, source, size=angle if isinstance(
                size, u.Quantity) else size, bands=bands, **options)
            target_cutout = fetch_cutout(position, target, size=angle, bands=bands, **options)
        except (Survey2SurveyError, OSError) as exc:
            if on_error == "raise":
                raise
            failed.append(f"{name}: {exc}")
            continue
        pairs.append(SurveyPair(name=name, source=source_cutout, target=target_cutout))
    if failed:
        warnings.warn(f"{len(failed)} of {len(positions)} position(s) skipped; first: "
                      f"{failed[0]}", AstropyUserWarning)
    return SurveyPairs(pairs, meta=dict(source=source, target=target, bands="".join(
        parse_bands(bands)), origin="fetched"))
