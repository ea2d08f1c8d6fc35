# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Resampling bands onto another pixel grid with ``reproject``: the shared machinery of
`survey2survey.alignment` (``align``, ``regrid``, ``register_bands``) and of
`survey2survey.io.extract_cutout`'s band registration.

It works on `~astropy.nddata.CCDData` bands (a mapping band -> CCDData), so that the
I/O code can use it without importing the alignment subpackage.
"""

import copy
import warnings

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty, VarianceUncertainty
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS, FITSFixedWarning
from reproject import reproject_adaptive, reproject_exact, reproject_interp

from ..exceptions import (
    AlignmentError,
    BandMismatchError,
    InsufficientCoverageError,
    NoOverlapError,
    UnitError,
)
from ._wcs import (
    celestial_wcs,
    pixel_area_arcsec2,
    pixel_scale_arcsec,
    same_wcs,
    strip_wcs_keywords,
    wcs_to_header,
)

__all__ = ["FOOTPRINT_THRESHOLD", "MASK_THRESHOLD", "has_distortion", "parity", "flip_x",
           "variance_of", "band_meta", "reproject_stack", "resample_bands",
           "REGISTER_TOLERANCE", "reference_band_name", "images_registered", "register_images"]

#: output pixels whose footprint (covered fraction) is below this are masked
FOOTPRINT_THRESHOLD = 0.5
#: output pixels fed by more than this fraction of masked input are masked
MASK_THRESHOLD = 0.1
_FOOTPRINT_THRESHOLD, _MASK_THRESHOLD = FOOTPRINT_THRESHOLD, MASK_THRESHOLD


def has_distortion(wcs):
    """Whether ``wcs`` carries distortion terms (SIP or lookup tables)."""
    return any(getattr(wcs, name, None) is not None
               for name in ("sip", "cpdis1", "cpdis2", "det2im1", "det2im2"))


def parity(wcs):
    """+1 or -1: the handedness of the pixel-to-sky mapping (sky seen from inside, RA first)."""
    sign = np.sign(np.linalg.det(wcs.pixel_scale_matrix))
    return int(sign if wcs.wcs.lng in (0, -1) else -sign)


def flip_x(wcs, nx):
    """The WCS of an image of width ``nx`` after reversing its x axis (``data[..., ::-1]``)."""
    header = wcs_to_header(wcs)
    header["CD1_1"] = -header["CD1_1"]
    header["CD2_1"] = -header["CD2_1"]
    header["CRPIX1"] = nx + 1 - header["CRPIX1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        flipped = WCS(header)
    flipped.pixel_shape = wcs.pixel_shape
    return flipped


def variance_of(image, band):
    """The variance of a band in its data unit squared, or None when it cannot be had."""
    uncertainty = image.uncertainty
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = uncertainty.represent_as(VarianceUncertainty)
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        warnings.warn(f"band {band!r}: uncertainty of type {type(uncertainty).__name__} cannot "
                      f"be converted to a variance and is not propagated", AstropyUserWarning)
        return None
    array = np.asarray(variance.array, dtype=float)
    if variance.unit is not None and image.unit is not None:
        try:
            array = (array * variance.unit).to_value(image.unit ** 2)
        except u.UnitConversionError:
            msg = (f"band {band!r}: uncertainty unit {variance.unit} is not the square of the "
                   f"data unit {image.unit}")
            raise UnitError(msg) from None
    return array


def band_meta(meta):
    """A copy of a band's header (a FITS header when possible) without its stale WCS cards."""
    if not isinstance(meta, fits.Header):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                meta = fits.Header(meta or {})
        except Exception:  # values or keys FITS cannot hold: keep a plain copy
            meta = copy.deepcopy(meta)
    return strip_wcs_keywords(meta)


def reproject_stack(method, stack, wcs_in, wcs_out, shape_out, conserve_flux, parallel,
               roundtrip=True):
    """
    Resample a ``(n, ny, nx)`` stack sharing ``wcs_in``; return (array, footprint).

    ``roundtrip=False`` skips reproject's check that output pixels map back onto
    themselves (a third of the time of ``interp``), for grids known to be close.
    """
    kwargs = dict(shape_out=(len(stack), *shape_out), parallel=parallel)
    if not roundtrip and method in ("interp", "adaptive"):
        kwargs["roundtrip_coords"] = False
    try:
        if method == "adaptive":
            return reproject_adaptive((stack, wcs_in), wcs_out, conserve_flux=conserve_flux,
                                      boundary_mode="ignore_threshold",
                                      boundary_ignore_threshold=_FOOTPRINT_THRESHOLD, **kwargs)
        if method == "exact":
            return reproject_exact((stack, wcs_in), wcs_out, **kwargs)
        return reproject_interp((stack, wcs_in), wcs_out, order="bilinear", **kwargs)
    except (ValueError, TypeError, NotImplementedError) as exc:
        msg = f"reproject_{method} could not resample the cutout onto the target grid: {exc}"
        raise AlignmentError(msg) from exc


def resample_bands(cutout, bands, wcs_in, wcs_out, shape_out, method, conserve_flux, parallel,
                 roundtrip=True):
    """
    Resample the bands of one WCS group; return ({band: CCDData}, covered fraction).

    ``cutout`` is any mapping band -> `~astropy.nddata.CCDData` (a Cutout, a dict).
    """
    planes, variances, masks = [], {}, {}
    for band in bands:
        image = cutout[band]
        data = np.asarray(image.data, dtype=float)
        bad = ~np.isfinite(data)
        if image.mask is not None:
            bad |= np.asarray(image.mask, dtype=bool)
        variance = variance_of(image, band) if image.uncertainty is not None else None
        if variance is not None:
            bad |= ~np.isfinite(variance)
            variances[band] = np.where(bad, 0.0, variance)
        if bad.any():
            masks[band] = bad
        # fill bad pixels with 0 so they do not spread NaNs; they are masked where they land
        planes.append(np.where(bad, 0.0, data))
    var_index = {b: len(planes) + k for k, b in enumerate(variances)}
    planes.extend(variances.values())
    mask_index = {}
    for band, bad in masks.items():  # bands sharing one mask (often all) resample it once
        same = next((b for b in mask_index if np.array_equal(masks[b], bad)), None)
        if same is None:
            planes.append(bad.astype(float))
        mask_index[band] = mask_index[same] if same is not None else len(planes) - 1

    stack = np.stack(planes)
    if method == "adaptive" and parity(wcs_in) != parity(wcs_out) and not has_distortion(wcs_in):
        # reproject_adaptive loses up to a few per cent of the flux of compact sources when
        # the two grids have opposite handedness (a flip); flipping the input first avoids it
        stack, wcs_in = stack[..., ::-1], flip_x(wcs_in, stack.shape[-1])
    result, footprint = reproject_stack(method, stack, wcs_in, wcs_out, shape_out, conserve_flux,
                                   parallel, roundtrip=roundtrip)
    nb = len(bands)
    covered = (np.nan_to_num(footprint[0]) >= _FOOTPRINT_THRESHOLD)
    covered &= np.isfinite(result[:nb]).all(axis=0)

    # reproject_adaptive(conserve_flux=True) multiplies every plane by the pixel-area ratio;
    # the other methods return surface brightness. Put every plane on a common footing.
    area_ratio = pixel_area_arcsec2(wcs_out) / pixel_area_arcsec2(wcs_in)
    applied = area_ratio if (method == "adaptive" and conserve_flux) else 1.0
    wanted = area_ratio if conserve_flux else 1.0

    out = {}
    with np.errstate(invalid="ignore"):
        for k, band in enumerate(bands):
            image = cutout[band]
            data = result[k] * (wanted / applied)
            if band in mask_index:
                fraction = np.clip(np.nan_to_num(result[mask_index[band]]) / applied, 0, 1)
            else:
                fraction = np.zeros(shape_out)
            good = covered & np.isfinite(data) & (fraction <= _MASK_THRESHOLD)
            # renormalise pixels fed partly by masked (zero-filled) input
            norm = np.where(good, 1.0 - fraction, 1.0)
            dtype = np.float32 if image.data.dtype == np.float32 else float
            data = np.where(good, data / norm, 0.0).astype(dtype)
            uncertainty = None
            if band in var_index:
                variance = result[var_index[band]] * (wanted ** 2 / area_ratio / applied)
                variance = np.where(good, np.clip(np.nan_to_num(variance), 0, None) / norm, 0.0)
                uncertainty = StdDevUncertainty(np.sqrt(variance).astype(dtype))
            out[band] = CCDData(data, unit=image.unit, wcs=wcs_out.deepcopy(), mask=~good,
                                uncertainty=uncertainty, meta=band_meta(image.meta))
    return out, float(covered.mean())


# --- registration of the bands of one cutout -----------------------------------------------
#: Bands whose grids agree to this many pixels (at the corners and centre) are registered.
REGISTER_TOLERANCE = 1e-3


def reference_band_name(bands):
    """``'r'`` when present, else the middle band."""
    bands = list(bands)
    if not bands:
        msg = "reference_band needs at least one band"
        raise BandMismatchError(msg)
    return "r" if "r" in bands else bands[len(bands) // 2]


def images_registered(images, *, tolerance=REGISTER_TOLERANCE):
    """Whether every band of ``images`` (band -> CCDData) has the first's shape and WCS."""
    bands = list(images)
    first = images[bands[0]]
    return all(images[b].shape == first.shape
               and same_wcs(first.wcs, images[b].wcs, shape=first.shape, tolerance=tolerance)
               for b in bands[1:])


def _largest_shift(wcs_in, shape_in, wcs_out):
    """Largest distance (pixels of ``wcs_out``) between a pixel of ``wcs_in`` and the same index."""
    ny, nx = shape_in
    x = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    y = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    xo, yo = wcs_out.world_to_pixel_values(*wcs_in.pixel_to_world_values(x, y))
    scale = pixel_scale_arcsec(wcs_in) / pixel_scale_arcsec(wcs_out)
    return float(np.max(np.hypot(xo - x * scale, yo - y * scale)))


def register_images(images, reference, *, method="auto", min_coverage=0.5,
                    tolerance=REGISTER_TOLERANCE):
    """
    Every band of ``images`` (band -> CCDData) on the grid of band ``reference``.

    Returns ``(images, largest_shift)``: a new dict (the reference and bands already
    on its grid as they are, the others resampled with flux conserved) and the
    largest shift in pixels, or ``(images, None)`` when nothing needed resampling.
    ``method='auto'``: ``'interp'`` when a band's pixel scale is the reference's to 1%,
    else ``'adaptive'``.
    """
    if reference not in list(images):  # (a Cutout raises for a missing band)
        msg = f"reference={reference!r} is not a band of the cutout (bands {list(images)})"
        raise BandMismatchError(msg)
    ref = images[reference]
    wcs_out = celestial_wcs(ref.wcs, what=f"band {reference!r}").deepcopy()
    shape_out = ref.shape
    wcs_out.pixel_shape = shape_out[::-1]
    moved = [b for b in images if b != reference and not (
        images[b].shape == shape_out
        and same_wcs(wcs_out, images[b].wcs, shape=shape_out, tolerance=tolerance))]
    if not moved:
        return dict(images), None
    out, shifts = dict(images), []
    for band in moved:
        image = images[band]
        wcs_in = celestial_wcs(image.wcs, what=f"band {band!r}")
        shifts.append(_largest_shift(wcs_in, image.shape, wcs_out))
        band_method = method
        if method == "auto":
            same_scale = abs(pixel_scale_arcsec(wcs_in) / pixel_scale_arcsec(wcs_out) - 1) <= 0.01
            band_method = "interp" if same_scale else "adaptive"
        # the grids of one field's bands are close: no round-trip check of the mapping
        resampled, covered = resample_bands(images, [band], wcs_in, wcs_out, shape_out,
                                            band_method, True, False,
                                            roundtrip=shifts[-1] > 100)
        if covered == 0:
            msg = (f"band {band!r} does not overlap the grid of the reference band "
                   f"{reference!r} (the bands do not show the same field)")
            raise NoOverlapError(msg)
        if covered < min_coverage:
            msg = (f"band {band!r} covers only a fraction {covered:.3f} of the grid of the "
                   f"reference band {reference!r}, below min_coverage={min_coverage:g}: the "
                   f"bands do not show the same field")
            raise InsufficientCoverageError(msg)
        new = resampled[band]
        new.meta.add_history(
            f"survey2survey register_bands: reproject_{band_method} (flux-conserving) onto "
            f"the grid of band {reference!r}, shift up to {shifts[-1]:.3f} pix")
        out[band] = new
    return out, float(max(shifts))
