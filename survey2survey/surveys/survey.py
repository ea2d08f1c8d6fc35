# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The `Survey` description and the built-in SDSS and DES surveys."""

from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from ..exceptions import BandMismatchError, UnitError

__all__ = ["Survey", "SDSS", "DES"]

_ARCSEC_PER_PIX = u.arcsec / u.pix


#: maggies <-> spectral flux density: 1 maggy is the flux of AB magnitude 0 (3630.8 Jy)
_AB_MAGGIES = u.zero_point_flux((0 * u.ABmag).to(u.Jy))


def _maggies_in(unit):
    """Maggies in one ``unit`` for maggy- or jansky-like units, else `None`."""
    if unit.is_equivalent(u.mgy) or unit.is_equivalent(u.Jy):
        return float(unit.to(u.mgy, equivalencies=_AB_MAGGIES))
    return None


def _per_band(values, bands, name, unit=None):
    """Check that ``values`` maps every band to a number (or Quantity in ``unit``)."""
    values = dict(values)
    missing = [band for band in bands if band not in values]
    if missing:
        msg = f"{name} is missing band(s) {missing}; it has {sorted(values)}"
        raise BandMismatchError(msg)
    if unit is None:
        return {band: float(values[band]) for band in bands}
    out = {}
    for band in bands:
        value = values[band]
        if not isinstance(value, u.Quantity):
            value = value * unit
        try:
            out[band] = value.to(unit)
        except u.UnitConversionError as exc:
            msg = f"{name}[{band!r}] must be in units of {unit}, got {value.unit}"
            raise UnitError(msg) from exc
    return out


@dataclass(frozen=True, eq=False)
class Survey:
    """
    What survey2survey needs to know about an imaging survey.

    Define your own survey (HSC, LSST, Legacy Surveys, ...) by creating an
    instance and, optionally, registering it with
    `~survey2survey.surveys.register_survey`; no library code needs to change.

    Parameters
    ----------
    name : str
        Survey name, e.g. ``'SDSS'``.
    pixel_scale : `~astropy.units.Quantity`
        Pixel scale in angle per pixel (e.g. ``0.396 * u.arcsec / u.pix``).
    bands : sequence of str
        Band names, e.g. ``('g', 'r', 'i')``.
    zero_point : dict
        AB magnitude of one ``flux_unit`` per band: ``m = zp - 2.5 log10(flux)``.
    flux_unit : `~astropy.units.UnitBase` or str
        Unit of the calibrated pixel values (``BUNIT``), e.g. ``nmgy`` for SDSS frames.
    psf_fwhm : dict
        Median PSF full width at half maximum per band (angle).
    sky_brightness : dict
        Median sky surface brightness per band, in AB mag / arcsec^2.
    noise_sigma : dict
        Median per-pixel background noise standard deviation per band, in ``flux_unit``.
    depth : dict
        Limiting AB magnitude per band (see ``depth_definition``).
    psf_model : {'moffat', 'kolmogorov', 'gaussian'}
        PSF profile used by the simulator.
    psf_beta : float
        Moffat beta, when ``psf_model='moffat'``.
    cutout_size : int
        Typical cutout side in pixels.
    depth_definition : str
        What ``depth`` means, e.g. ``'10-sigma, 1.95 arcsec aperture'``.
    references : str
        Where the numbers come from.

    Examples
    --------
    >>> import astropy.units as u
    >>> from survey2survey.surveys import DES, Survey
    >>> hsc = Survey(name='HSC', pixel_scale=0.168 * u.arcsec / u.pix, bands='gri',
    ...              zero_point={'g': 27.0, 'r': 27.0, 'i': 27.0}, flux_unit='count',
    ...              psf_fwhm={'g': 0.77, 'r': 0.76, 'i': 0.58},
    ...              sky_brightness={'g': 22.1, 'r': 21.1, 'i': 20.3},
    ...              noise_sigma={'g': 0.03, 'r': 0.04, 'i': 0.05},
    ...              depth={'g': 26.5, 'r': 26.5, 'i': 26.2}, cutout_size=354)
    >>> hsc.pixel_scale
    <Quantity 0.168 arcsec / pix>
    >>> round(hsc.flux_conversion('r', DES), 4)  # one HSC count in DES counts
    15.8489
    """

    name: str
    pixel_scale: u.Quantity
    bands: tuple
    zero_point: dict
    flux_unit: u.UnitBase
    psf_fwhm: dict
    sky_brightness: dict
    noise_sigma: dict
    depth: dict
    psf_model: str = "moffat"
    psf_beta: float = 3.0
    cutout_size: int = 150
    depth_definition: str = ""
    references: str = ""
    _extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        setter = object.__setattr__
        bands = tuple(self.bands)
        if not bands or not all(isinstance(b, str) and b for b in bands):
            msg = f"bands must be a non-empty sequence of band names, got {self.bands!r}"
            raise BandMismatchError(msg)
        setter(self, "bands", bands)
        scale = self.pixel_scale
        if not isinstance(scale, u.Quantity):
            scale = scale * _ARCSEC_PER_PIX
        try:
            scale = scale.to(_ARCSEC_PER_PIX, equivalencies=[(u.pix, None)])
        except u.UnitConversionError:
            try:
                scale = scale.to(u.arcsec) / u.pix
            except u.UnitConversionError as exc:
                msg = f"pixel_scale must be an angle per pixel, got {self.pixel_scale!r}"
                raise UnitError(msg) from exc
        if not np.isfinite(scale.value) or scale.value <= 0:
            msg = f"pixel_scale must be positive, got {scale}"
            raise UnitError(msg)
        setter(self, "pixel_scale", scale)
        try:
            setter(self, "flux_unit", u.Unit(self.flux_unit))
        except ValueError as exc:
            msg = f"flux_unit {self.flux_unit!r} is not a unit astropy understands"
            raise UnitError(msg) from exc
        setter(self, "zero_point", _per_band(self.zero_point, bands, "zero_point"))
        setter(self, "psf_fwhm", _per_band(self.psf_fwhm, bands, "psf_fwhm", u.arcsec))
        setter(self, "sky_brightness", _per_band(self.sky_brightness, bands, "sky_brightness"))
        setter(self, "noise_sigma", _per_band(self.noise_sigma, bands, "noise_sigma"))
        setter(self, "depth", _per_band(self.depth, bands, "depth"))
        if self.psf_model not in ("moffat", "kolmogorov", "gaussian"):
            msg = f"psf_model must be 'moffat', 'kolmogorov' or 'gaussian', got {self.psf_model!r}"
            raise ValueError(msg)

    def __repr__(self):
        return (f"<Survey {self.name}: {self.pixel_scale:.4g}, bands {''.join(self.bands)}, "
                f"{self.flux_unit}>")

    def check_bands(self, bands):
        """
        Return ``bands`` as a tuple, raising if any is not a band of this survey.

        Parameters
        ----------
        bands : str or sequence of str
            ``'gri'`` or ``['g', 'r', 'i']``; `None` means all the survey's bands.
        """
        if bands is None:
            return self.bands
        bands = tuple(bands)
        unknown = [b for b in bands if b not in self.bands]
        if unknown:
            msg = f"{self.name} has no band(s) {unknown}; its bands are {list(self.bands)}"
            raise BandMismatchError(msg)
        return bands

    @property
    def pixel_area(self):
        """Solid angle of one pixel, in arcsec^2."""
        return (self.pixel_scale * u.pix) ** 2

    def magnitude_to_flux(self, magnitude, band):
        """AB magnitude to calibrated flux in ``flux_unit`` (per object or per pixel)."""
        self.check_bands([band])
        return 10 ** (-0.4 * (np.asarray(magnitude) - self.zero_point[band])) * self.flux_unit

    def flux_to_magnitude(self, flux, band):
        """Calibrated flux (Quantity or number in ``flux_unit``) to AB magnitude."""
        self.check_bands([band])
        if isinstance(flux, u.Quantity):
            flux = flux.to_value(self.flux_unit)
        return self.zero_point[band] - 2.5 * np.log10(flux)

    def sky_level(self, band):
        """Median sky level per pixel in ``flux_unit`` (from ``sky_brightness``)."""
        per_arcsec2 = self.magnitude_to_flux(self.sky_brightness[band], band)
        return per_arcsec2 * self.pixel_area.to_value(u.arcsec**2)

    def effective_gain(self, band):
        """
        Electrons per ``flux_unit`` that make the sky shot noise equal ``noise_sigma``.

        Used by the simulator to add source Poisson noise consistent with the
        survey's measured background noise (sigma^2 = sky / gain).
        """
        sky = self.sky_level(band).value
        return sky / self.noise_sigma[band] ** 2

    def maggies_per_unit(self, band):
        """
        Maggies in one ``flux_unit`` in ``band``.

        Taken from the unit when it is maggy- or jansky-like (1 maggy = AB magnitude 0),
        otherwise from the AB zero point: ``10**(-0.4 zp)`` (DES counts: 1e-12).
        """
        self.check_bands([band])
        from_unit = _maggies_in(self.flux_unit)
        return from_unit if from_unit is not None else 10 ** (-0.4 * self.zero_point[band])

    def unit_factor(self, unit, band, *, zero_point=None):
        """
        Factor taking pixel values in ``unit`` to this survey's ``flux_unit`` in ``band``.

        This is the one conversion of calibrated pixel values in the package:
        reading a cutout into a survey's unit, translating and evaluating all
        go through it.

        Parameters
        ----------
        unit : `~astropy.units.UnitBase` or str
            The unit of the values (``nmgy``, ``uJy``, ``ct``...).
        band : str
            The band (its zero point is used).
        zero_point : float, optional
            The AB zero point of the values, ``m = zero_point - 2.5 log10(value)``
            (a file's ``MAGZERO``). When given it defines the calibration and
            ``unit`` is not needed; otherwise the unit must be convertible to
            ``flux_unit`` or be maggy- or jansky-like.

        Returns
        -------
        factor : float

        Raises
        ------
        survey2survey.exceptions.UnitError
            If the values cannot be converted.

        Examples
        --------
        >>> import astropy.units as u
        >>> from survey2survey.surveys import DES, SDSS
        >>> round(SDSS.unit_factor(u.uJy, 'r'), 6)  # 1 uJy = 10**(-6) / 3630.8 maggies
        0.275423
        >>> round(DES.unit_factor('ct', 'r', zero_point=27.5), 9)  # a count at ZP 27.5
        10.0
        """
        self.check_bands([band])
        if zero_point is not None:
            zero_point = float(zero_point)
            if not np.isfinite(zero_point):
                msg = f"zero_point must be a finite AB magnitude, got {zero_point!r}"
                raise UnitError(msg)
            return 10 ** (-0.4 * zero_point) / self.maggies_per_unit(band)
        try:
            unit = u.Unit(unit)
        except (TypeError, ValueError) as exc:
            msg = f"{unit!r} is not a unit astropy understands"
            raise UnitError(msg) from exc
        if unit == self.flux_unit:
            return 1.0
        try:
            return float(unit.to(self.flux_unit))
        except u.UnitConversionError:
            pass
        have = _maggies_in(unit)
        if have is not None:
            return have / self.maggies_per_unit(band)
        msg = (f"values in {unit!s} cannot be converted to the {self.name} flux unit "
               f"{self.flux_unit!s} in band {band!r} without a zero point")
        raise UnitError(msg)

    def flux_conversion(self, band, other, other_band=None):
        """
        Factor that converts this survey's flux unit into ``other``'s in ``band``.

        Both zero points are AB, so ``f_other = f_self * 10**(0.4 (zp_other - zp_self))``.
        """
        other_band = band if other_band is None else other_band
        self.check_bands([band])
        other.check_bands([other_band])
        return 10 ** (0.4 * (other.zero_point[other_band] - self.zero_point[band]))


SDSS = Survey(
    name="SDSS",
    pixel_scale=0.396 * _ARCSEC_PER_PIX,
    bands=("u", "g", "r", "i", "z"),
    zero_point={b: 22.5 for b in "ugriz"},
    flux_unit=u.nmgy,
    psf_fwhm={"u": 1.53, "g": 1.45, "r": 1.35, "i": 1.30, "z": 1.30},
    sky_brightness={"u": 22.1, "g": 21.8, "r": 20.9, "i": 20.2, "z": 19.0},
    noise_sigma={"u": 0.052, "g": 0.018, "r": 0.028, "i": 0.044, "z": 0.12},
    depth={"u": 22.0, "g": 22.2, "r": 22.2, "i": 21.3, "z": 20.5},
    psf_model="moffat",
    psf_beta=3.0,
    cutout_size=150,
    depth_definition="95% completeness for point sources",
    references=(
        "Pixel scale: SDSS CAS SDSSConstants (0.39598 arcsec/pix). Flux unit and zero point: "
        "SDSS 'measures of flux and magnitude' (nanomaggies, m = 22.5 - 2.5 log10 f). "
        "PSF FWHM and sky: SDSS DR7 'seeing and sky brightness' (median r FWHM 1.43 arcsec, "
        "r sky 20.86 mag/arcsec^2). Depths: Abazajian et al. 2004, AJ 128, 502. Per-band "
        "g/r/i PSF, sky and noise as in the survey2survey simulator calibration."
    ),
)
"""The Sloan Digital Sky Survey imaging (DR7-DR17 corrected frames)."""

DES = Survey(
    name="DES",
    pixel_scale=0.263 * _ARCSEC_PER_PIX,
    bands=("g", "r", "i", "z", "Y"),
    zero_point={b: 30.0 for b in "grizY"},
    flux_unit=u.ct,
    psf_fwhm={"g": 1.11, "r": 0.95, "i": 0.88, "z": 0.83, "Y": 0.90},
    sky_brightness={"g": 22.0, "r": 21.2, "i": 20.5, "z": 19.8, "Y": 18.9},
    noise_sigma={"g": 2.0, "r": 2.6, "i": 4.6, "z": 7.9, "Y": 22.0},
    depth={"g": 24.7, "r": 24.4, "i": 23.8, "z": 23.1, "Y": 21.7},
    psf_model="kolmogorov",
    cutout_size=228,
    depth_definition="10-sigma, 1.95 arcsec aperture (DR2)",
    references=(
        "Pixel scale and DR1 values: Abbott et al. 2018, ApJS 239, 18. PSF FWHM and 10-sigma "
        "depths: DES DR2, Abbott et al. 2021, ApJS 255, 20. Zero point 30 for coadd images: "
        "DES DR1 processing documentation (1 count = 1e-3 nanomaggy). Pixel noise derived "
        "from the DR2 10-sigma depths."
    ),
)
"""The Dark Energy Survey DR2 coadd images."""
