# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Render a `~survey2survey.datasets.Scene` as one survey sees it, with GalSim.

GalSim is an optional dependency (``pip install "survey2survey[sim]"``); it is
imported only when something is rendered.
"""

import functools

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from ..exceptions import InputError, MissingDependencyError
from ..utils._wcs import wcs_to_header

__all__ = ["make_wcs", "render_scene", "RenderedBand"]


def import_galsim():
    """
    Import and return GalSim, or raise `~survey2survey.exceptions.MissingDependencyError`.

    Examples
    --------
    >>> from survey2survey.datasets.render import import_galsim
    >>> import_galsim().__name__
    'galsim'
    """
    try:
        import galsim
    except ImportError as exc:
        msg = ('simulating survey images needs GalSim, which is not installed; install it with '
               'pip install "survey2survey[sim]"')
        raise MissingDependencyError(msg) from exc
    return galsim


@functools.lru_cache(maxsize=1)
def _gsparams():
    galsim = import_galsim()
    # 1% folding and 0.2% maxk thresholds: stamp and FFT sizes 2-3x smaller than GalSim's
    # defaults, with flux errors far below the pixel noise of either survey.
    return galsim.GSParams(folding_threshold=1e-2, maxk_threshold=2e-3)


def make_wcs(ra, dec, pixel_scale, shape, *, rotation=0.0):
    """
    A TAN `~astropy.wcs.WCS` centred on (``ra``, ``dec``) with an explicit CD matrix.

    Parameters
    ----------
    ra, dec : float
        Sky position of the image centre, degrees (ICRS).
    pixel_scale : float or `~astropy.units.Quantity`
        Arcsec per pixel.
    shape : tuple of int
        ``(ny, nx)``.
    rotation : float, optional
        Angle of North from the +y axis, degrees, counter-clockwise (0: North up,
        East left, as on the sky).

    Returns
    -------
    wcs : `~astropy.wcs.WCS`

    Examples
    --------
    >>> from survey2survey.datasets import make_wcs
    >>> wcs = make_wcs(150.0, 2.0, 0.396, (150, 150))
    >>> wcs.wcs.crpix, wcs.pixel_shape
    (array([75.5, 75.5]), (150, 150))
    """
    if isinstance(pixel_scale, u.Quantity):
        pixel_scale = pixel_scale.to_value(u.arcsec / u.pix,
                                           equivalencies=u.dimensionless_angles())
    scale = float(pixel_scale) / 3600.0
    rho = np.radians(rotation)
    ny, nx = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.crval = [float(ra), float(dec)]
    wcs.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    wcs.wcs.cd = [[-scale * np.cos(rho), -scale * np.sin(rho)],
                  [-scale * np.sin(rho), scale * np.cos(rho)]]
    wcs.pixel_shape = (nx, ny)
    return wcs


class RenderedBand:
    """
    One band of a rendered scene.

    Attributes
    ----------
    image : `numpy.ndarray`
        The noisy, sky-subtracted image (float32, survey flux units per pixel).
    truth : `numpy.ndarray`
        The noise-free image (float32).
    sigma : `numpy.ndarray`
        Per-pixel 1-sigma noise (sky + source Poisson), or `None` without noise.
    header : `~astropy.io.fits.Header`
        SURVEY, FILTER, MAGZERO, PSFMODEL, PSFFWHM, PSFBETA, SEEING, PIXSCALE, SKYLEVEL,
        SKYSIG, GAIN, SEED, GALSIMV (no WCS: it is the grid's).
    """

    __slots__ = ("image", "truth", "sigma", "header")

    def __init__(self, image, truth, sigma, header):
        self.image, self.truth, self.sigma, self.header = image, truth, sigma, header


def _psf(galsim, survey, band, seeing, beta=None, shear=None):
    fwhm = survey.psf_fwhm[band].to_value(u.arcsec) * seeing
    gsparams = _gsparams()
    if survey.psf_model == "moffat":
        psf = galsim.Moffat(beta=survey.psf_beta if beta is None else beta, fwhm=fwhm,
                            gsparams=gsparams)
    elif survey.psf_model == "kolmogorov":
        psf = galsim.Kolmogorov(fwhm=fwhm, gsparams=gsparams)
    else:
        psf = galsim.Gaussian(fwhm=fwhm, gsparams=gsparams)
    if shear is not None and any(shear):
        psf = psf.shear(g1=float(shear[0]), g2=float(shear[1]))
    return psf, fwhm


def _flux(survey, band, mag):
    return float(10 ** (-0.4 * (mag - survey.zero_point[band]))) if np.isfinite(mag) else 0.0


def _galaxy_profile(galsim, obj, survey, band):
    """Intrinsic bulge + disk + knots profile, in GalSim's (u = West, v = North) frame."""
    gsparams = _gsparams()
    parts = []
    bulge, disk, knots = obj["bulge"], obj["disk"], obj["knots"]
    # GalSim's beta is measured from +u (West) towards +v (North); PA from North to East
    flux = _flux(survey, band, bulge["mag"][band])
    if flux > 0:
        parts.append(galsim.Sersic(n=bulge["n"], half_light_radius=bulge["hlr"], flux=flux,
                                   gsparams=gsparams)
                     .shear(q=bulge["q"], beta=(bulge["pa"] - 90.0) * galsim.degrees))
    flux = _flux(survey, band, disk["mag"][band])
    if flux > 0:
        parts.append(galsim.Exponential(half_light_radius=disk["hlr"], flux=flux,
                                        gsparams=gsparams)
                     .shear(q=disk["q"], beta=(disk["pa"] - 90.0) * galsim.degrees))
    flux = _flux(survey, band, knots["mag"][band])
    if flux > 0 and len(knots["weight"]):
        knot = galsim.Gaussian(fwhm=knots["fwhm"], gsparams=gsparams)
        for east, north, weight in zip(knots["east"], knots["north"], knots["weight"], strict=True):
            parts.append(knot.withFlux(flux * weight).shift(-east, north))
    return galsim.Sum(parts) if len(parts) > 1 else parts[0]


def render_scene(scene, survey, wcs, shape, *, bands=None, seeing=1.0, seeds=None,
                 noise=True, psf_beta=None, psf_shear=None):
    """
    Render ``scene`` as ``survey`` sees it, on the grid of ``wcs`` and ``shape``.

    Every object is convolved with the survey PSF (``survey.psf_model`` with the
    band's FWHM times ``seeing``), drawn in the survey's calibrated flux unit
    (magnitudes through the survey zero point), and, with ``noise``, sky and
    source Poisson noise are added with `galsim.CCDNoise` (sky level from the
    survey's sky brightness and this grid's pixel area, gain from
    `~survey2survey.surveys.Survey.effective_gain`) and the sky subtracted.

    Parameters
    ----------
    scene : `~survey2survey.datasets.Scene`
        What to render.
    survey : `~survey2survey.surveys.Survey`
        Whose PSF, zero point and noise to use.
    wcs : `~astropy.wcs.WCS`
        Celestial TAN WCS of the grid (any pixel scale and orientation).
    shape : tuple of int
        ``(ny, nx)``.
    bands : sequence of str, optional
        Bands to render (default: the scene's).
    seeing : float, optional
        Factor applied to every band's PSF FWHM.
    seeds : sequence of int, optional
        One GalSim noise seed per band (default: 0, 1, ...).
    noise : bool, optional
        Add noise; if False, ``image`` is the truth and ``sigma`` is `None`.
    psf_beta : float, optional
        Moffat index of this rendering (default: the survey's).
    psf_shear : tuple of float, optional
        ``(g1, g2)`` shear of the PSF (default: round).

    Returns
    -------
    bands : dict
        Band -> `RenderedBand`.

    Raises
    ------
    survey2survey.exceptions.BandMismatchError
        If a band is not one of the survey's or the scene's.
    survey2survey.exceptions.MissingDependencyError
        If GalSim is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.datasets import draw_scene, make_wcs, render_scene
    >>> from survey2survey.surveys import SDSS
    >>> scene = draw_scene(np.random.default_rng(0), 'r', field=12.0)
    >>> wcs = make_wcs(scene.ra, scene.dec, SDSS.pixel_scale, (32, 32))
    >>> out = render_scene(scene, SDSS, wcs, (32, 32), seeds=[7])
    >>> out['r'].image.shape, out['r'].header['PSFMODEL']
    ((32, 32), 'moffat')
    """
    galsim = import_galsim()
    bands = survey.check_bands(scene.bands if bands is None else bands)
    missing = [b for b in bands if b not in scene.bands]
    if missing:
        from ..exceptions import BandMismatchError

        msg = f"the scene has no magnitudes in band(s) {missing}; it has {list(scene.bands)}"
        raise BandMismatchError(msg)
    ny, nx = (int(s) for s in shape)
    if ny < 1 or nx < 1:
        msg = f"shape must be two positive sizes, got {shape!r}"
        raise InputError(msg)
    seeds = list(range(len(bands))) if seeds is None else [int(s) for s in seeds]
    header = wcs_to_header(wcs)
    header["NAXIS"], header["NAXIS1"], header["NAXIS2"] = 2, nx, ny
    gs_wcs = galsim.GSFitsWCS(header=galsim.FitsHeader(header=header))
    # pixel positions (GalSim's are 1-based, like FITS) of every object, from the same header
    ras = np.array([o["ra"] for o in scene.objects])
    decs = np.array([o["dec"] for o in scene.objects])
    xs, ys = wcs.all_world2pix(ras, decs, 1) if len(ras) else ([], [])
    positions = [galsim.PositionD(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    locals_ = [gs_wcs.local(p) for p in positions]
    area = abs(np.linalg.det(wcs.pixel_scale_matrix)) * 3600.0**2  # arcsec^2 per pixel
    cap = 2 * max(nx, ny) + 2
    out = {}
    for band, seed in zip(bands, seeds, strict=True):
        psf, fwhm = _psf(galsim, survey, band, seeing, psf_beta, psf_shear)
        image = galsim.ImageF(nx, ny, wcs=gs_wcs)
        for obj, pos, local in zip(scene.objects, positions, locals_, strict=True):
            if obj["kind"] == "star":
                flux = _flux(survey, band, obj["mag"][band])
                profile = psf.withFlux(flux)
            else:
                profile = galsim.Convolve(_galaxy_profile(galsim, obj, survey, band), psf)
            size = min(profile.getGoodImageSize(local.minLinearScale()), cap)
            # skip objects whose stamp cannot touch the image
            if (pos.x + size / 2 < 0.5 or pos.x - size / 2 > nx + 0.5
                    or pos.y + size / 2 < 0.5 or pos.y - size / 2 > ny + 0.5):
                continue
            stamp = profile.drawImage(nx=size, ny=size, center=pos, wcs=local)
            overlap = stamp.bounds & image.bounds
            if overlap.isDefined():
                image[overlap] += stamp[overlap]
        truth = image.array.astype(np.float32, copy=True)
        sky = float(10 ** (-0.4 * (survey.sky_brightness[band] - survey.zero_point[band]))
                    * area)
        gain = float(survey.effective_gain(band))
        sigma = None
        if noise:
            image.addNoise(galsim.CCDNoise(galsim.BaseDeviate(seed), sky_level=sky, gain=gain))
            sigma = np.sqrt((np.clip(truth, 0, None) + sky) / gain).astype(np.float32)
        band_header = fits.Header()
        band_header["SURVEY"] = (survey.name, "survey whose look is simulated")
        band_header["FILTER"] = (band, "band")
        band_header["MAGZERO"] = (survey.zero_point[band], "AB mag of one BUNIT")
        band_header["PSFMODEL"] = (survey.psf_model, "PSF profile")
        band_header["PSFFWHM"] = (round(fwhm, 5), "[arcsec] PSF FWHM")
        if survey.psf_model == "moffat":
            band_header["PSFBETA"] = (survey.psf_beta if psf_beta is None else float(psf_beta),
                                      "Moffat beta")
        if psf_shear is not None and any(psf_shear):
            band_header["PSFG1"] = (float(psf_shear[0]), "PSF shear g1 (simulation)")
            band_header["PSFG2"] = (float(psf_shear[1]), "PSF shear g2 (simulation)")
        band_header["SEEING"] = (round(float(seeing), 5), "seeing factor applied to FWHM")
        band_header["PIXSCALE"] = (round(float(np.sqrt(area)), 6), "[arcsec/pix] pixel scale")
        band_header["SKYLEVEL"] = (sky, "[BUNIT/pix] sky level subtracted")
        band_header["SKYSIG"] = (float(np.sqrt(sky / gain)) if noise else 0.0,
                                 "[BUNIT] background noise sigma")
        band_header["GAIN"] = (gain, "[e-/BUNIT] effective gain for Poisson noise")
        band_header["SEED"] = (seed if noise else -1, "GalSim noise seed (-1: noise-free)")
        band_header["GALSIMV"] = (galsim.__version__, "GalSim version")
        out[band] = RenderedBand(image.array.astype(np.float32, copy=True) if noise else truth,
                                 truth, sigma, band_header)
    return out
