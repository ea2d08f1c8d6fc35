# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""WCS helpers shared by the I/O, alignment, simulation and estimator code."""

import re
import warnings

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from astropy.wcs.utils import proj_plane_pixel_area

from ..exceptions import InvalidWCSError, MissingWCSError

__all__ = ["celestial_wcs", "wcs_to_header", "strip_wcs_keywords", "is_wcs_keyword",
           "DSS_PLATE_CARDS", "same_wcs", "same_mapping", "is_plain_wcs", "wcs_cards",
           "pixel_area_arcsec2", "pixel_scale_arcsec"]

_LINEAR_KEY = re.compile(r"^(PC\d_\d|CD\d_\d|CDELT\d)$")

# Cards that describe a celestial WCS, matched exactly (a prefix match on "PS" or "CD" would
# also remove cards such as PSFFWHM or CDATE); stripped before a new WCS is written.
_WCS_CARD = re.compile(
    r"^(WCSAXES|CTYPE\d|CRPIX\d|CRVAL\d|CDELT\d|CUNIT\d|CROTA\d|(PC|CD)\d_\d|(PV|PS)\d_\d+"
    r"|LONPOLE|LATPOLE|RADESYS|EQUINOX|EPOCH|WCSNAME|(A|B|AP|BP)_(ORDER|DMAX|\d+_\d+))[A-Z]?$")


# Cards of other (legacy or non-linear) descriptions of the same sky mapping. Left beside a new
# standard WCS they compete with it: wcslib reads ``PC001001`` as ``PC1_1`` (a Pan-STARRS1 cutout
# written with both pointed 90 degrees away) and a DSS plate solution plus the TPD distortion
# astropy derives from it crashes wcslib. They are stripped with the standard cards.
_LEGACY_WCS_CARD = re.compile(
    r"^((PC|CD)\d{3}\d{3}|RADECSYS|PROJP\d+"  # AIPS/pre-standard cards
    r"|PLTRA[HMS]|PLTDEC(SN|D|M|S)|PLTSCALE|[XY]PIXELSZ|CNPIX\d|PPO\d+|AMD[XY]\d+"  # DSS plate
    r"|CPDIS\d|CQDIS\d|DP\d|DQ\d|CPERR\d|CQERR\d|DVERR|D2IM(DIS\d|ERR\d|EXT)"  # distortions
    r"|WAT\d_\d+|WAXMAP\d+|LTV\d|LTM\d_\d|DC-FLAG)[A-Z]?$")  # IRAF

#: Cards of a DSS plate solution (astropy/wcslib read them when a header has no CTYPE).
DSS_PLATE_CARDS = ("PLTRAH", "PLTDECD", "PPO3", "AMDX1", "AMDY1")


def is_wcs_keyword(key):
    """Whether header keyword ``key`` describes a celestial WCS (standard, legacy or plate)."""
    if not isinstance(key, str):
        return False
    key = key.upper().split(".", 1)[0]  # record-valued distortion cards: 'DQ1.NAXES'
    return bool(_WCS_CARD.match(key) or _LEGACY_WCS_CARD.match(key))


#: cards besides the WCS keywords that astropy's WCS reads (time and place of observation)
_WCS_CONTEXT = re.compile(r"^(DATE-(OBS|AVG|BEG|END)|MJD-(OBS|AVG|BEG|END)|DATEREF|MJDREF[IF]?"
                          r"|OBSGEO-[XYZBLH]|TIMESYS|TIMEUNIT|NAXIS[12]?)$")


def wcs_cards(header):
    """
    The cards of ``header`` that describe its WCS (and the observation's time and place).

    `~astropy.wcs.WCS` formats the whole header as text, which makes astropy
    parse and verify every card; the survey2survey layout's bands carry tens
    of other cards, so its reader parses only these.
    """
    return fits.Header([card for card in header.cards
                        if is_wcs_keyword(card.keyword) or _WCS_CONTEXT.match(card.keyword)])


def strip_wcs_keywords(header):
    """
    A copy of ``header`` (a `~astropy.io.fits.Header` or dict) without celestial WCS cards.

    Besides the standard cards, the ones that would compete with a newly written
    WCS go too: pre-standard ``PC001001``/``CD001001``, ``PROJPn`` and ``RADECSYS``, DSS plate
    solutions (``PLTRAH``..., ``AMDXn``, ``PPOn``, ``CNPIXn``), distortion cards
    (``CPDISn``/``DPn``, ``CQDISn``/``DQn``, ``D2IM*``) and IRAF ``WATn_nnn``/``LTV``/``LTM``.
    """
    header = header.copy()
    keys = [k for k in header if is_wcs_keyword(k)]
    for key in dict.fromkeys(keys):
        while key in header:
            del header[key]
    return header


def celestial_wcs(wcs_or_header, *, what="input", copy=True):
    """
    Return a 2-D celestial `~astropy.wcs.WCS` from a WCS or header, or raise.

    A WCS given is copied (its celestial part) unless ``copy`` is False and it is
    already a 2-D celestial WCS (longitude first): callers that only read it save
    the two WCS constructions of a copy. A WCS parsed from a header is new.

    Raises `~survey2survey.exceptions.MissingWCSError` when there is no WCS at
    all and `~survey2survey.exceptions.InvalidWCSError` when the WCS is not
    celestial, is singular or cannot be parsed.
    """
    if wcs_or_header is None:
        msg = f"{what} has no WCS; a celestial (RA/Dec) WCS is required"
        raise MissingWCSError(msg)
    if isinstance(wcs_or_header, (fits.Header, dict)):
        header = wcs_or_header
        # a DSS plate solution without CTYPE cards is a WCS astropy (wcslib) reads
        plate = all(key in header for key in DSS_PLATE_CARDS)
        if not plate and not any(str(k).startswith("CTYPE") for k in header):
            msg = (f"{what} has no WCS keywords (no CTYPE1/CTYPE2 in its header, and no DSS "
                   f"plate solution PLTRAH/AMDX1...)")
            raise MissingWCSError(msg)
        _refuse_iraf_projection([header.get(f"CTYPE{k}") for k in (1, 2)], what)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(header, naxis=2) if isinstance(header, fits.Header) else WCS(header)
        except Exception as exc:  # astropy raises many types for broken headers
            msg = f"{what} has a WCS that cannot be parsed: {exc}"
            raise InvalidWCSError(msg) from exc
    elif isinstance(wcs_or_header, WCS):
        wcs = wcs_or_header
    elif hasattr(wcs_or_header, "low_level_wcs"):  # APE-14 high-level WCS
        wcs = wcs_or_header.low_level_wcs
        if not isinstance(wcs, WCS):
            msg = f"{what} has a WCS of type {type(wcs).__name__}; a FITS WCS is required"
            raise InvalidWCSError(msg)
    else:
        msg = f"{what} has a WCS of unsupported type {type(wcs_or_header).__name__}"
        raise InvalidWCSError(msg)
    _refuse_iraf_projection(list(wcs.wcs.ctype), what)
    # already 2-D celestial (longitude, latitude) and new or not to be copied: used as it is
    own = (not copy or not isinstance(wcs_or_header, WCS)) and _celestial_2d(wcs)
    try:
        has_celestial = own or wcs.has_celestial
        if has_celestial:
            if not own:
                wcs = wcs.celestial
            matrix = wcs.pixel_scale_matrix
            wcs.wcs.set()
    except Exception as exc:  # wcslib raises SingularMatrixError, InvalidTransformError ...
        msg = f"{what} has a singular or invalid WCS: {exc}"
        raise InvalidWCSError(msg) from exc
    if not has_celestial:
        msg = f"{what} has a WCS with no celestial axes (CTYPE {list(wcs.wcs.ctype)})"
        raise InvalidWCSError(msg)
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) == 0:
        msg = f"{what} has a singular or non-finite WCS pixel matrix {matrix.tolist()}"
        raise InvalidWCSError(msg)
    if not np.all(np.isfinite(wcs.wcs.crval)):
        msg = f"{what} has a non-finite WCS reference value CRVAL {list(wcs.wcs.crval)}"
        raise InvalidWCSError(msg)
    return wcs


def _celestial_2d(wcs):
    """Whether ``wcs`` has exactly two axes, celestial longitude then latitude."""
    try:
        return wcs.naxis == 2 and wcs.wcs.lng == 0 and wcs.wcs.lat == 1
    except Exception:  # wcslib may refuse to set up a broken WCS: the full path says why
        return False


#: IRAF's polynomial projections, which wcslib reads but cannot evaluate
_IRAF_PROJECTIONS = ("TNX", "ZPX")


def _refuse_iraf_projection(ctypes, what):
    for ctype in ctypes:
        if isinstance(ctype, str) and ctype.strip().upper()[-3:] in _IRAF_PROJECTIONS:
            msg = (f"{what} has an IRAF {ctype.strip()[-3:]} WCS (CTYPE {ctype.strip()!r}), "
                   "whose WAT distortion polynomials astropy and wcslib cannot evaluate; "
                   "convert it to TPV or SIP first (e.g. with the survey's own tools, or "
                   "re-fit the WCS with astrometry.net)")
            raise InvalidWCSError(msg)


def _own_header(wcs, header):
    if header is not None:
        return header
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return wcs.to_header(relax=True)


def wcs_to_header(wcs):
    """
    Header cards of a celestial WCS, with an explicit CD matrix wherever that is exact.

    An explicit CD1_1..CD2_2 header is read identically by astropy, ds9 and
    GalSim (GalSim's ``GSFitsWCS`` fails on PC headers lacking zero terms), so
    the linear part is written as a CD matrix when the CD form describes the
    same mapping. It does not for every WCS: a TPV polynomial written with
    ``PC``/``CDELT`` applies to intermediate coordinates *before* the
    ``CDELT`` scaling, so folding ``CDELT`` into a CD matrix moves the sky by
    arcseconds at the corners. Every header is therefore checked: the CD form
    is kept only if it maps a grid of pixels over the image (or +-2048 pixels
    around the reference pixel) to the same sky positions as astropy's own
    header, to 1e-9 pixel; otherwise the WCS is written as astropy writes it
    (``PC``/``CDELT``), which round-trips exactly.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        header = wcs.to_header(relax=True)
    cd_header = header.copy()
    matrix = wcs.pixel_scale_matrix
    for key in list(cd_header.keys()):
        if _LINEAR_KEY.match(key):
            del cd_header[key]
    for i in range(2):
        for j in range(2):
            cd_header[f"CD{i + 1}_{j + 1}"] = (float(matrix[i, j]),
                                               "linear transformation [deg/pix]")
    if is_plain_wcs(wcs, header) or _same_mapping(wcs, header, cd_header):
        return cd_header
    return header


#: projections without projection parameters whose header form wcslib reads back exactly
_PLAIN_PROJECTIONS = ("TAN", "SIN", "ARC", "STG", "ZEA", "CAR")


_DISTORTION_CARD = re.compile(r"^(CPDIS|CQDIS|DP|DQ|PV|PS|A_|B_|AP_|BP_|D2IM|CPERR|CQERR)")


def is_plain_wcs(wcs, header=None):
    """
    Whether ``wcs`` is a plain linear celestial WCS whose header round-trips by construction.

    Plain: two celestial axes (longitude first) of one of the common zenithal or
    cylindrical projections (TAN, SIN, ARC, STG, ZEA, CAR), in degrees, without
    projection parameters (``PVi_m``), SIP polynomials, distortion tables or
    detector-to-image corrections (also those wcslib keeps to itself, such as
    the TPD polynomial it derives from a DSS plate solution: ``header``, the
    WCS's own ``to_header(relax=True)``, is read for them). Its header (as
    `wcs_to_header` writes it, CD matrix or PC/CDELT) maps pixels exactly as
    the WCS does, so the read-back
    checks of `wcs_to_header` and `~survey2survey.io.write_cutout` (two WCS
    parses and a grid of ``all_pix2world`` per band) can be skipped; any other
    WCS is checked.
    """
    try:
        core = wcs.wcs
        ctype = [str(c).upper() for c in core.ctype]
        return (wcs.naxis == 2 and core.lng == 0 and core.lat == 1
                and all(c[-4:] == f"-{ctype[0][-3:]}" for c in ctype)
                and ctype[0][-3:] in _PLAIN_PROJECTIONS
                and ctype[0][:4] in ("RA--", "GLON", "ELON")
                and all(str(unit).strip() in ("deg", "") for unit in core.cunit)
                and wcs.sip is None and wcs.cpdis1 is None and wcs.cpdis2 is None
                and wcs.det2im1 is None and wcs.det2im2 is None
                and not core.get_pv() and not core.get_ps()
                and not any(_DISTORTION_CARD.match(key) for key in _own_header(wcs, header)))
    except Exception:  # anything unusual: not plain, so checked the slow way
        return False


def same_mapping(wcs, header, *, shape=None, tolerance=1e-6):
    """
    Whether ``header``, parsed as astropy parses a file, maps pixels to the sky as ``wcs`` does.

    Checked on a 5x5 grid over ``shape`` (or +-2048 pixels around CRPIX), with
    distortions, to ``tolerance`` pixels of ``wcs``.
    """
    check = wcs.deepcopy()
    if shape is not None:
        check.pixel_shape = tuple(shape)[::-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = _check_points(check)
            ra1, dec1 = wcs.all_pix2world(x, y, 0)
            ra2, dec2 = WCS(header, naxis=2).all_pix2world(x, y, 0)
            scale = np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix)))
    except Exception:  # wcslib raises many types for headers it cannot use
        return False
    # pixels off the projection (the corners of a wide SIN or ZPN image) are off it in both
    on_sky = np.isfinite(ra1) & np.isfinite(dec1)
    if not np.array_equal(on_sky, np.isfinite(ra2) & np.isfinite(dec2)):
        return False
    separation = _separation(ra1[on_sky], dec1[on_sky], ra2[on_sky], dec2[on_sky])
    return bool(np.all(separation <= tolerance * scale))


def _check_points(wcs):
    """Pixel positions (0-based) spanning the image, or +-2048 pixels around CRPIX."""
    if wcs.pixel_shape is not None:
        nx, ny = wcs.pixel_shape
        xs, ys = np.linspace(-0.5, nx - 0.5, 5), np.linspace(-0.5, ny - 0.5, 5)
    else:
        x0, y0 = np.asarray(wcs.wcs.crpix, dtype=float) - 1
        xs, ys = np.linspace(x0 - 2048, x0 + 2048, 5), np.linspace(y0 - 2048, y0 + 2048, 5)
    x, y = np.meshgrid(xs, ys)
    return x.ravel(), y.ravel()


def _same_mapping(wcs, reference, candidate):
    """Whether headers ``candidate`` and ``reference`` map the same sky (1e-9 pixel of ``wcs``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = _check_points(wcs)
            ra1, dec1 = WCS(reference, naxis=2).all_pix2world(x, y, 0)
            ra2, dec2 = WCS(candidate, naxis=2).all_pix2world(x, y, 0)
            scale = np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix)))
    except Exception:  # wcslib raises many types for headers it cannot use
        return False
    separation = _separation(ra1, dec1, ra2, dec2)
    return bool(np.all(np.isfinite(separation)) and np.all(separation <= 1e-9 * scale))


def _separation(ra1, dec1, ra2, dec2):
    """Small angular separations (deg) between positions in degrees."""
    dra = (np.asarray(ra1) - np.asarray(ra2) + 180) % 360 - 180
    return np.hypot(dra * np.cos(np.radians(dec1)), np.asarray(dec1) - np.asarray(dec2))


def same_wcs(wcs1, wcs2, *, shape=None, tolerance=1e-8):
    """
    Whether two celestial WCSs put the corners and centre of ``shape`` at the same sky positions.

    ``tolerance`` is in pixels of ``wcs1``.
    """
    if wcs1 is wcs2:
        return True
    shape = shape or (2, 2)
    ny, nx = shape
    x = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    y = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    try:
        ra1, dec1 = wcs1.pixel_to_world_values(x, y)
        ra2, dec2 = wcs2.pixel_to_world_values(x, y)
        scale = np.sqrt(abs(np.linalg.det(wcs1.pixel_scale_matrix)))
    except Exception:
        return False
    return bool(np.all(_separation(ra1, dec1, ra2, dec2) <= tolerance * scale))


def pixel_area_arcsec2(wcs):
    """Area of one pixel of ``wcs`` at its reference point, in arcsec**2."""
    unit = u.Unit(wcs.wcs.cunit[0])
    if unit == u.dimensionless_unscaled:  # celestial axes default to degrees
        unit = u.deg
    return float((proj_plane_pixel_area(wcs) * unit ** 2).to_value(u.arcsec ** 2))


def pixel_scale_arcsec(wcs):
    """Geometric-mean pixel side of ``wcs`` in arcsec (the square root of the pixel area)."""
    return float(np.sqrt(pixel_area_arcsec2(wcs)))
