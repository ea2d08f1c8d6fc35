# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Resample multi-band cutouts onto another pixel grid with ``reproject``, conserving flux.

`align` puts a cutout (for instance a DES cutout at 0.263"/pix) onto the pixel
grid and WCS of another (for instance the SDSS cutout of the same galaxy at
0.396"/pix) so that the two can be compared pixel by pixel; `regrid` changes
the pixel scale of a cutout while keeping its centre, orientation and sky
area; `footprint_overlap` tells, without resampling, how much of a grid
another cutout covers.
"""


import astropy.units as u

from ..exceptions import InsufficientCoverageError, NoOverlapError
from ..io import Cutout, read_cutout
from ..utils._resample import band_meta as _band_meta  # noqa: F401 (used by regrid)
from ..utils._resample import resample_bands as _align_group
from ..utils._validation import check_bool, check_choice, check_number
from ..utils._wcs import (
    celestial_wcs,
    pixel_scale_arcsec,
    same_wcs,
)
from ._grid import (
    as_pixel_scale,
    covered_fraction,
    grid_centre,
    scaled_grid,
    target_grid,
)

__all__ = ["align", "regrid", "footprint_overlap"]

_METHODS = ("adaptive", "exact", "interp")


def _check_method(method):
    return check_choice(method.lower() if isinstance(method, str) else method, _METHODS, "method")


def _describe(coord):
    icrs = coord.icrs
    return f"(RA, Dec) = ({icrs.ra.deg:.6f}, {icrs.dec.deg:+.6f}) deg"


def _raise_no_overlap(wcs_in, shape_in, wcs_out, shape_out, band):
    centre_in = grid_centre(wcs_in, shape_in)
    centre_out = grid_centre(wcs_out, shape_out)
    separation = centre_in.icrs.separation(centre_out.icrs).to(u.arcsec)
    msg = (f"the cutout (band {band!r}, {shape_in[1]}x{shape_in[0]} pixels centred at "
           f"{_describe(centre_in)}) does not overlap the target grid ({shape_out[1]}x"
           f"{shape_out[0]} pixels centred at {_describe(centre_out)}): the centres are "
           f"{separation.value:.1f} arcsec apart")
    raise NoOverlapError(msg)


def _group_bands(cutout):
    """Bands sharing one WCS and shape, as ``[(wcs, shape, [band, ...]), ...]``."""
    groups = []
    for band in cutout.bands:
        wcs, shape = celestial_wcs(cutout[band].wcs, what=f"band {band!r}"), cutout[band].shape
        for group in groups:
            if group[1] == shape and same_wcs(group[0], wcs, shape=shape):
                group[2].append(band)
                break
        else:
            groups.append((wcs, shape, [band]))
    return groups


def _align(cutout, wcs_out, shape_out, *, method, conserve_flux, min_coverage, parallel):
    """`align` on an already parsed cutout and grid."""
    wcs_out = wcs_out.deepcopy()
    wcs_out.pixel_shape = shape_out[::-1]
    bands, coverage = {}, 1.0
    groups = _group_bands(cutout)
    for wcs_in, shape_in, names in groups:
        # quick check on a sub-grid; a small overlap it misses is caught after resampling
        if covered_fraction(wcs_in, shape_in, wcs_out, shape_out, samples=24) == 0:
            _raise_no_overlap(wcs_in, shape_in, wcs_out, shape_out, names[0])
    for wcs_in, shape_in, names in groups:
        aligned, covered = _align_group(cutout, names, wcs_in, wcs_out, shape_out, method,
                                        conserve_flux, parallel)
        if covered == 0:
            _raise_no_overlap(wcs_in, shape_in, wcs_out, shape_out, names[0])
        coverage = min(coverage, covered)
        bands.update(aligned)
    if coverage < min_coverage:
        msg = (f"the cutout covers only a fraction {coverage:.3f} of the {shape_out[1]}x"
               f"{shape_out[0]} output pixels, below min_coverage={min_coverage:g}")
        raise InsufficientCoverageError(msg)

    wcs_in, shape_in, _ = groups[0]
    meta = cutout.meta.copy()
    meta["ALIGNED"] = (True, "resampled onto another pixel grid")
    meta["ALIGNMTH"] = (method, "reproject method used to align")
    meta["ALIGNFLX"] = (bool(conserve_flux), "T: flux conserved, F: surface brightness")
    meta["COVERAGE"] = (round(coverage, 6), "fraction of output pixels covered")
    meta.add_history(
        f"survey2survey align: reproject_{method} from {shape_in[1]}x{shape_in[0]} pix at "
        f"{pixel_scale_arcsec(wcs_in):.4f} arcsec/pix onto {shape_out[1]}x{shape_out[0]} pix "
        f"at {pixel_scale_arcsec(wcs_out):.4f} arcsec/pix, conserve_flux={bool(conserve_flux)}, "
        f"coverage {coverage:.4f}")
    return Cutout({b: bands[b] for b in cutout.bands}, meta=meta)


def align(cutout, onto, *, method="adaptive", conserve_flux=True, min_coverage=0.9,
          parallel=False):
    """
    Resample every band of a cutout onto the pixel grid and WCS of another image.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout` or anything `~survey2survey.io.read_cutout` accepts
        The cutout to resample (e.g. the target-survey cutout). Its bands may
        sit on different grids; each is resampled from its own WCS.
    onto : `~survey2survey.io.Cutout`, `~astropy.nddata.NDData`, HDU, path, tuple or header
        The grid to resample onto: a cutout, `~astropy.nddata.CCDData` /
        `~astropy.nddata.NDData`, FITS HDU, `~astropy.io.fits.HDUList` or FITS
        path (the first band's WCS and shape are used; its data are not), a
        ``(WCS, (ny, nx))`` tuple, a `~astropy.io.fits.Header` with ``NAXIS1`` and
        ``NAXIS2``, or a `~astropy.wcs.WCS` with ``pixel_shape`` set.
    method : {'adaptive', 'exact', 'interp'}, optional
        ``'adaptive'``: `reproject.reproject_adaptive` (anti-aliased, the
        default); ``'exact'``: `reproject.reproject_exact` (spherical polygon
        intersection); ``'interp'``: `reproject.reproject_interp` (bilinear,
        fastest).
    conserve_flux : bool, optional
        If True (default) the output pixels hold flux (the sum over any large
        aperture is unchanged); if False they hold surface brightness (the value
        per *input* pixel area is unchanged).
    min_coverage : float, optional
        Smallest accepted fraction of output pixels covered by ``cutout``.
    parallel : bool or int, optional
        Passed to ``reproject``.

    Returns
    -------
    aligned : `~survey2survey.io.Cutout`
        A new cutout on the grid of ``onto``: same bands, units and band
        headers; mask, 1-sigma uncertainty (if ``cutout`` had one) and meta
        cards ``ALIGNED``, ``ALIGNMTH``, ``ALIGNFLX``, ``COVERAGE`` and a ``HISTORY``.
        Data are NaN-free: masked pixels hold 0.

    Raises
    ------
    survey2survey.exceptions.NoOverlapError
        If ``cutout`` covers no pixel of the grid; the message gives both sky
        centres and their separation.
    survey2survey.exceptions.InsufficientCoverageError
        If it covers a fraction of the output pixels below ``min_coverage``.
    survey2survey.exceptions.AlignmentError
        If ``method`` or ``min_coverage`` is invalid, or reproject fails.
    survey2survey.exceptions.InputError
        Subclasses (`~survey2survey.exceptions.MissingWCSError`, ...) if
        ``cutout`` or ``onto`` cannot be read.

    Notes
    -----
    - *Flux*. ``reproject_exact`` and ``reproject_interp`` conserve surface
      brightness; with ``conserve_flux=True`` their output is multiplied by the
      ratio of output to input pixel areas (from
      `astropy.wcs.utils.proj_plane_pixel_area`). ``reproject_adaptive`` is
      called with ``conserve_flux=True`` directly.
    - *Coverage*. An output pixel is covered when its footprint (the fraction of
      it that the input image covers, or whether ``reproject`` could compute
      it) is at least 0.5. Uncovered pixels are masked and set to 0.
      ``COVERAGE`` is the covered fraction (the smallest over bands).
    - *Masks and NaNs*. Masked and non-finite input pixels are replaced by 0
      before resampling (so they do not spread) and the mask is resampled as a
      float with the same method; output pixels where it exceeds 0.1 are
      masked and set to 0, the others are renormalised by ``1 / (1 - f)``.
    - *Uncertainty*. The variance is resampled with the same method and
      scaled so that the summed variance over a large aperture is unchanged
      when pixels are treated as independent. Resampling correlates the noise
      of neighbouring pixels; this approximate map ignores that correlation, so
      it is not the per-pixel scatter of the output (see :doc:`/alignment`).
    - Bands that share one WCS are resampled in one call to ``reproject``.

    Examples
    --------
    A flat DES-like image of 1 count per 0.263" pixel aligned onto a 0.396" grid
    holds (0.396 / 0.263)**2 counts per pixel:

    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import read_cutout
    >>> from survey2survey.alignment import align
    >>> def tan_wcs(scale, n):
    ...     wcs = WCS(naxis=2)
    ...     wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    ...     wcs.wcs.crval = [150.0, 2.0]
    ...     wcs.wcs.crpix = [(n + 1) / 2, (n + 1) / 2]
    ...     wcs.wcs.cdelt = [-scale / 3600, scale / 3600]
    ...     return wcs
    >>> des = read_cutout((np.ones((46, 46)), tan_wcs(0.263, 46)), bands='r', unit='ct')
    >>> aligned = align(des, (tan_wcs(0.396, 30), (30, 30)))
    >>> aligned
    <Cutout bands='r' shape=(30, 30) unit=ct>
    >>> print(f"{aligned['r'].data[15, 15]:.3f}", aligned.meta['COVERAGE'])
    2.267 1.0
    """
    method = _check_method(method)
    conserve_flux = check_bool(conserve_flux, "conserve_flux")
    min_coverage = check_number(min_coverage, "min_coverage", minimum=0, maximum=1)
    wcs_out, shape_out = target_grid(onto, what="onto")
    cutout = read_cutout(cutout, what="cutout")
    return _align(cutout, wcs_out, shape_out, method=method, conserve_flux=conserve_flux,
                  min_coverage=min_coverage, parallel=parallel)


def regrid(cutout, pixel_scale, *, method="adaptive", conserve_flux=True, parallel=False):
    """
    Resample a cutout onto a grid of another pixel scale covering the same sky area.

    The new grid keeps the centre, orientation, projection and reference value
    of the cutout's (first band's) WCS: its linear matrix is scaled by
    ``new_scale / old_scale`` and ``CRPIX`` shifted so that the new grid's
    centre is at the sky position of the old one. Its shape is
    ``round(old_shape * old_scale / new_scale)``.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout` or anything `~survey2survey.io.read_cutout` accepts
        The cutout to resample.
    pixel_scale : `~astropy.units.Quantity`, `~survey2survey.surveys.Survey` or str
        The new pixel scale (an angle per pixel), or a survey (or survey name)
        whose pixel scale to use.
    method : {'adaptive', 'exact', 'interp'}, optional
        As in `align`.
    conserve_flux : bool, optional
        As in `align`.
    parallel : bool or int, optional
        Passed to ``reproject``.

    Returns
    -------
    regridded : `~survey2survey.io.Cutout`
        A new cutout, with the `align` meta cards and ``PIXSCALE``. Pixels
        along the edge that the old grid does not cover are masked (0).

    Raises
    ------
    survey2survey.exceptions.UnitError
        If ``pixel_scale`` is not an angle (per pixel) or a survey.
    survey2survey.exceptions.InputError
        If ``pixel_scale`` is not positive and finite, or ``cutout`` cannot be read.
    survey2survey.exceptions.AlignmentError
        If ``method`` is invalid.

    Notes
    -----
    WCS distortion terms (SIP, lookup tables) are not carried into the new grid.

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import read_cutout
    >>> from survey2survey.alignment import regrid
    >>> wcs = WCS(naxis=2)
    >>> wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> wcs.wcs.crval = [150.0, 2.0]
    >>> wcs.wcs.cdelt = [-0.263 / 3600, 0.263 / 3600]
    >>> des = read_cutout((np.ones((46, 46)), wcs), bands='r', unit='ct')
    >>> sdss_like = regrid(des, 0.396 * u.arcsec / u.pix)
    >>> sdss_like.shape, sdss_like.meta['PIXSCALE']
    ((31, 31), 0.396)
    """
    method = _check_method(method)
    conserve_flux = check_bool(conserve_flux, "conserve_flux")
    parallel = check_bool(parallel, "parallel")
    scale = as_pixel_scale(pixel_scale)
    cutout = read_cutout(cutout, what="cutout")
    wcs_in, shape_in = target_grid(cutout, what="cutout")
    wcs_out, shape_out = scaled_grid(wcs_in, shape_in, scale)
    out = _align(cutout, wcs_out, shape_out, method=method, conserve_flux=conserve_flux,
                 min_coverage=0.0, parallel=parallel)
    out.meta["PIXSCALE"] = (scale, "pixel scale after regrid [arcsec/pix]")
    out.meta.add_history(f"survey2survey regrid: pixel scale {pixel_scale_arcsec(wcs_in):.4f} "
                         f"-> {scale:.4f} arcsec/pix")
    return out


def footprint_overlap(cutout, onto):
    """
    Fraction of the pixels of ``onto`` that ``cutout`` covers, without resampling.

    A cheap check (coordinate transforms of the output pixel centres only,
    a few milliseconds for a 150x150 grid) to reject pairs before `align`; it
    agrees with the ``COVERAGE`` that `align` records to within the pixels
    along the edge of the overlap.

    Parameters
    ----------
    cutout : `~survey2survey.io.Cutout`, `~astropy.nddata.NDData`, HDU, path, tuple or header
        The image to be resampled; anything `align` accepts as ``onto`` (its
        first band's WCS and shape are used).
    onto : `~survey2survey.io.Cutout`, `~astropy.nddata.NDData`, HDU, path, tuple or header
        The grid, as in `align`.

    Returns
    -------
    fraction : float
        Between 0 (no overlap) and 1 (every output pixel centre falls inside
        ``cutout``).

    Raises
    ------
    survey2survey.exceptions.InputError
        Subclasses, if either input has no usable WCS or shape.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> from survey2survey.alignment import footprint_overlap
    >>> wcs = WCS(naxis=2)
    >>> wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> wcs.wcs.crval = [150.0, 2.0]
    >>> wcs.wcs.crpix = [50.5, 50.5]
    >>> wcs.wcs.cdelt = [-0.396 / 3600, 0.396 / 3600]
    >>> shifted = wcs.deepcopy()
    >>> shifted.wcs.crpix = [0.5, 50.5]   # moved by half its width
    >>> footprint_overlap((wcs, (100, 100)), (shifted, (100, 100)))
    0.5
    """
    wcs_in, shape_in = target_grid(cutout, what="cutout")
    wcs_out, shape_out = target_grid(onto, what="onto")
    return covered_fraction(wcs_in, shape_in, wcs_out, shape_out)
