# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The `PSF` of one image band: a FWHM and a radial profile, with its transfer function.

Three profiles cover the surveys the package knows: ``'moffat'`` (SDSS, with its
``beta``), ``'kolmogorov'`` (DES: long-exposure atmospheric turbulence) and
``'gaussian'``. Their optical transfer functions (the Fourier transforms of the
normalised PSF) are analytic, so PSF matching needs no PSF image:

* Gaussian: ``exp(-(pi u)**2 / (4 ln 2))``;
* Kolmogorov: ``exp(-3.44 (u / 0.975865)**(5/3))`` (Fried 1966; GalSim's FWHM
  convention);
* Moffat: ``2**(2 - beta) / Gamma(beta - 1) z**(beta - 1) K_{beta-1}(z)`` with
  ``z = 2 pi u alpha / FWHM`` (the Hankel transform of ``(1 + r**2/alpha**2)**-beta``);

where ``u`` is the spatial frequency times the FWHM (cycles per FWHM).
"""

import math
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from ..exceptions import InvalidOptionError

__all__ = ["PSF", "PROFILES", "psf_from_header", "otf", "PSF_CARDS"]

#: the profiles a `PSF` can have, in the order of their numeric codes
PROFILES = ("gaussian", "moffat", "kolmogorov")
#: header cards read as the PSF FWHM in arcsec, in order of preference
PSF_CARDS = ("PSFFWHM", "PSF_FWHM", "FWHM", "SEEING")
#: cards whose value is only taken as arcsec when their comment says so
_AMBIGUOUS_CARDS = ("FWHM", "SEEING")
_KOLMOGOROV_FWHM = 0.975865  # FWHM in units of lambda / r0
_FWHM_RANGE = (0.05, 30.0)  # plausible seeing FWHM in arcsec
_BETA_RANGE = (1.2, 20.0)


def _moffat_otf(freq_fwhm, beta):
    from scipy.special import gamma, kv

    alpha_over_fwhm = 1.0 / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    z = 2.0 * np.pi * np.abs(freq_fwhm) * alpha_over_fwhm
    nu = beta - 1.0
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        value = 2.0 ** (1.0 - nu) / gamma(nu) * z ** nu * kv(nu, z)
    return np.where(z > 1e-8, np.nan_to_num(value, nan=0.0), 1.0)


def otf(profile, freq_fwhm, beta=3.0):
    """
    The optical transfer function of a normalised PSF profile (real: profiles are symmetric).

    Parameters
    ----------
    profile : {'gaussian', 'moffat', 'kolmogorov'}
        The profile.
    freq_fwhm : array-like
        Spatial frequency times the FWHM (cycles per FWHM), any shape.
    beta : float, optional
        Moffat index (``'moffat'`` only).

    Returns
    -------
    `numpy.ndarray`
        The transfer function, 1 at zero frequency.

    Examples
    --------
    >>> from survey2survey.psf import otf
    >>> otf('gaussian', [0.0, 0.5]).round(3).tolist()
    [1.0, 0.411]
    """
    freq = np.asarray(freq_fwhm, dtype=float)
    if profile == "gaussian":
        return np.exp(-((np.pi * freq) ** 2) / (4.0 * np.log(2.0)))
    if profile == "kolmogorov":
        return np.exp(-3.44 * (np.abs(freq) / _KOLMOGOROV_FWHM) ** (5.0 / 3.0))
    if profile == "moffat":
        return _moffat_otf(freq, float(beta))
    msg = f"profile must be one of {PROFILES}, got {profile!r}"
    raise InvalidOptionError(msg)


@dataclass(frozen=True)
class PSF:
    """
    A circular point-spread function: a FWHM and a profile.

    Parameters
    ----------
    fwhm : `~astropy.units.Quantity` or float
        Full width at half maximum (an angle; a float is in arcsec).
    profile : {'moffat', 'kolmogorov', 'gaussian'}, optional
        The radial profile.
    beta : float, optional
        Moffat index (``'moffat'`` only; 3 by default, SDSS's typical value).
    exact : bool, optional
        Whether the profile is known exactly (a PSF model fitted to the data, a
        simulation) rather than approximately (a seeing estimate in a header,
        the default). PSF-aware translators trust an exact PSF fully and
        correct an approximate one from the image.

    Examples
    --------
    >>> from survey2survey.psf import PSF
    >>> psf = PSF(1.4, 'moffat', beta=3.0)
    >>> psf.fwhm
    <Quantity 1.4 arcsec>
    >>> round(float(psf.image((15, 15), 0.396).sum()), 2)  # the wings beyond 3" are left out
    0.98
    """

    fwhm: u.Quantity
    profile: str = "moffat"
    beta: float = 3.0
    exact: bool = False

    def __post_init__(self):
        fwhm = self.fwhm
        if not isinstance(fwhm, u.Quantity):
            try:
                fwhm = float(fwhm) * u.arcsec
            except (TypeError, ValueError):
                msg = f"PSF fwhm must be an angle or a number of arcsec, got {self.fwhm!r}"
                raise InvalidOptionError(msg) from None
        if fwhm.unit.physical_type != "angle" or not fwhm.isscalar:
            msg = f"PSF fwhm must be one angle, got {self.fwhm!r}"
            raise InvalidOptionError(msg)
        fwhm = fwhm.to(u.arcsec)
        if not (np.isfinite(fwhm.value) and _FWHM_RANGE[0] <= fwhm.value <= _FWHM_RANGE[1]):
            msg = (f"PSF fwhm must be between {_FWHM_RANGE[0]} and {_FWHM_RANGE[1]} arcsec, "
                   f"got {fwhm}")
            raise InvalidOptionError(msg)
        if self.profile not in PROFILES:
            msg = f"PSF profile must be one of {PROFILES}, got {self.profile!r}"
            raise InvalidOptionError(msg)
        beta = float(self.beta)
        if self.profile == "moffat" and not _BETA_RANGE[0] <= beta <= _BETA_RANGE[1]:
            msg = f"Moffat beta must be between {_BETA_RANGE[0]} and {_BETA_RANGE[1]}, got {beta}"
            raise InvalidOptionError(msg)
        if not isinstance(self.exact, (bool, np.bool_)):
            msg = f"PSF exact must be True or False, got {self.exact!r}"
            raise InvalidOptionError(msg)
        object.__setattr__(self, "fwhm", fwhm)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "exact", bool(self.exact))

    @property
    def code(self):
        """The profile's index in ``PROFILES`` (how networks and heads receive it)."""
        return PROFILES.index(self.profile)

    def fwhm_pixels(self, pixel_scale):
        """The FWHM in pixels of ``pixel_scale`` (arcsec/pix, a Quantity or float)."""
        scale = u.Quantity(pixel_scale, u.arcsec / u.pix).value
        return float(self.fwhm.to_value(u.arcsec) / scale)

    def transfer(self, shape, pixel_scale):
        """The transfer function on the ``numpy.fft.rfft2`` grid of an image of ``shape``."""
        fwhm = self.fwhm_pixels(pixel_scale)
        fy = np.fft.fftfreq(int(shape[0]))[:, None]
        fx = np.fft.rfftfreq(int(shape[1]))[None, :]
        return otf(self.profile, np.hypot(fy, fx) * fwhm, self.beta)

    def image(self, shape, pixel_scale):
        """
        The PSF drawn on a centred grid of ``shape`` (sum 1 over the whole plane; pixel-sampled).

        Computed from the transfer function, so it is the band-limited profile
        sampled at the pixel centres (the sum over a finite grid is below 1 by
        the flux in the wings outside it).
        """
        ny, nx = (int(s) for s in shape)
        big = (4 * ny, 4 * nx)
        image = np.fft.irfft2(self.transfer(big, pixel_scale), s=big)
        image = np.fft.fftshift(image)
        cy, cx = big[0] // 2, big[1] // 2
        return image[cy - ny // 2:cy - ny // 2 + ny, cx - nx // 2:cx - nx // 2 + nx]

    def to_cards(self):
        """Header cards ``PSFFWHM``, ``PSFMODEL`` (and ``PSFBETA`` for Moffat) of this PSF."""
        cards = {"PSFFWHM": (round(float(self.fwhm.to_value(u.arcsec)), 5), "[arcsec] PSF FWHM"),
                 "PSFMODEL": (self.profile, "PSF profile")}
        if self.profile == "moffat":
            cards["PSFBETA"] = (round(self.beta, 5), "Moffat beta")
        if self.exact:
            cards["PSFEXACT"] = (True, "PSF profile known exactly")
        return cards

    def scaled(self, factor):
        """The same profile with the FWHM times ``factor``."""
        return PSF(self.fwhm * float(factor), self.profile, self.beta, self.exact)


def _card_fwhm(header, key):
    value = header.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if key in _AMBIGUOUS_CARDS:
        comment = str(header.comments[key]).lower() if key in header else ""
        if "arcsec" not in comment and '"' not in comment:
            return None
    value = float(value)
    return value if np.isfinite(value) and _FWHM_RANGE[0] <= value <= _FWHM_RANGE[1] else None


def psf_from_header(header, survey=None, band=None):
    """
    The `PSF` that a band's header describes, or None where it gives no width.

    The FWHM is the first of ``PSFFWHM``, ``PSF_FWHM`` (arcsec), ``FWHM`` and
    ``SEEING`` (these two only where their comment says arcsec: they are often
    in pixels, or a factor) that holds a plausible angle (0.05"-30"). The profile
    is ``PSFMODEL`` where given, else ``survey``'s (else Moffat); the Moffat
    index is ``PSFBETA`` where given, else ``survey``'s. ``PSFEXACT = T`` marks
    the profile as exactly known (see `PSF`).

    Parameters
    ----------
    header : `~astropy.io.fits.Header` or dict-like
        The band's header (or NDData ``meta``).
    survey : `~survey2survey.surveys.Survey`, optional
        Supplies the profile and Moffat index the header does not state.
    band : str, optional
        Unused; for symmetry with the survey-default PSF.

    Returns
    -------
    `PSF` or None

    Examples
    --------
    >>> from astropy.io import fits
    >>> from survey2survey.psf import psf_from_header
    >>> psf_from_header(fits.Header({'PSFFWHM': 1.2}))
    PSF(fwhm=<Quantity 1.2 arcsec>, profile='moffat', beta=3.0, exact=False)
    >>> psf_from_header(fits.Header({'FWHM': 3.1})) is None  # pixels or arcsec? not said
    True
    """
    if header is None:
        return None
    if not hasattr(header, "comments"):
        from astropy.io import fits

        header = fits.Header({k: v for k, v in dict(header).items()
                              if isinstance(k, str) and len(k) <= 8})
    fwhm = next((v for v in (_card_fwhm(header, k) for k in PSF_CARDS) if v is not None), None)
    if fwhm is None:
        return None
    profile = str(header.get("PSFMODEL", "")).strip().lower()
    if profile not in PROFILES:
        profile = getattr(survey, "psf_model", "moffat")
    beta = header.get("PSFBETA")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (
            _BETA_RANGE[0] <= float(beta) <= _BETA_RANGE[1]):
        beta = getattr(survey, "psf_beta", 3.0)
    return PSF(fwhm, profile, float(beta), header.get("PSFEXACT") is True)
