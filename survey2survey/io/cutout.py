# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""`Cutout`: a multi-band image cutout that keeps each band's WCS, unit, mask and uncertainty."""

from collections.abc import Mapping

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.nddata import CCDData, StdDevUncertainty

from ..exceptions import BandMismatchError, InvalidDataError, ShapeMismatchError

__all__ = ["Cutout"]


class Cutout(Mapping):
    """
    A multi-band image cutout: an ordered mapping of band name to `~astropy.nddata.CCDData`.

    Every band keeps its own celestial WCS, unit, boolean mask and uncertainty,
    so bands taken on different grids (or from different files) can be held
    together; the stacked views (`data`, `mask`, `uncertainty_array`) need the
    bands to share one shape. `Cutout` objects are treated as immutable by the
    whole package: operations return new ones.

    Parameters
    ----------
    bands : mapping or sequence of (str, `~astropy.nddata.CCDData`)
        The bands, in order.
    meta : `~astropy.io.fits.Header` or dict, optional
        Metadata of the cutout as a whole (survey, seed, provenance ...).

    Examples
    --------
    >>> import numpy as np
    >>> import astropy.units as u
    >>> from astropy.nddata import CCDData
    >>> from astropy.wcs import WCS
    >>> from survey2survey.io import Cutout
    >>> wcs = WCS(naxis=2)
    >>> wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
    >>> wcs.wcs.cdelt = [-0.11e-3, 0.11e-3]
    >>> cutout = Cutout({b: CCDData(np.ones((4, 5)), unit='nmgy', wcs=wcs) for b in 'gri'})
    >>> cutout.bands, cutout.shape, cutout.data.shape
    (('g', 'r', 'i'), (4, 5), (3, 4, 5))
    """

    def __init__(self, bands, meta=None):
        items = list(bands.items()) if isinstance(bands, Mapping) else list(bands)
        if not items:
            msg = "a Cutout needs at least one band"
            raise BandMismatchError(msg)
        self._bands = {}
        for band, image in items:
            band = str(band)
            if band in self._bands:
                msg = f"band {band!r} appears twice"
                raise BandMismatchError(msg)
            if not isinstance(image, CCDData):
                msg = f"band {band!r} must be a CCDData, got {type(image).__name__}"
                raise TypeError(msg)
            if image.data.ndim != 2:
                msg = f"band {band!r} must be a 2-D image, got shape {image.data.shape}"
                raise InvalidDataError(msg)
            self._bands[band] = image
        self.meta = fits.Header(meta) if meta is not None else fits.Header()

    # Mapping interface -------------------------------------------------------------
    def __getitem__(self, band):
        try:
            return self._bands[band]
        except KeyError:
            msg = f"cutout has no band {band!r}; its bands are {list(self._bands)}"
            raise BandMismatchError(msg) from None

    def __iter__(self):
        return iter(self._bands)

    def __len__(self):
        return len(self._bands)

    def __repr__(self):
        shapes = {b: im.shape for b, im in self._bands.items()}
        unique = set(shapes.values())
        shape = unique.pop() if len(unique) == 1 else shapes
        survey = self.meta.get("SURVEY")
        survey = f" {survey}" if survey else ""
        unit = self.unit
        if isinstance(unit, u.UnitBase) and not unit.to_string():
            unit = "dimensionless"  # printed as '', "unit=" said nothing
        return f"<Cutout{survey} bands={''.join(self.bands)!r} shape={shape} unit={unit}>"

    # Derived views -----------------------------------------------------------------
    @property
    def bands(self):
        """Band names, in order."""
        return tuple(self._bands)

    @property
    def shape(self):
        """Common ``(ny, nx)`` shape of the bands; raises if the bands differ."""
        shapes = {im.shape for im in self._bands.values()}
        if len(shapes) != 1:
            per_band = {b: im.shape for b, im in self._bands.items()}
            msg = f"the bands of this cutout have different shapes: {per_band}"
            raise ShapeMismatchError(msg)
        return shapes.pop()

    @property
    def wcs(self):
        """Celestial WCS of the first band (all bands share it when the cutout is aligned)."""
        return next(iter(self._bands.values())).wcs

    @property
    def unit(self):
        """The common unit of the bands, or a dict of units when they differ."""
        units = {b: im.unit for b, im in self._bands.items()}
        if len(set(units.values())) == 1:
            return next(iter(units.values()))
        return units

    @property
    def data(self):
        """Stacked pixel values, shape ``(n_bands, ny, nx)``, float64; masked pixels as stored."""
        self.shape  # noqa: B018 - raises on ragged bands
        return np.stack([np.asarray(im.data, dtype=float) for im in self._bands.values()])

    @property
    def mask(self):
        """Stacked boolean mask (True = bad), including every non-finite pixel."""
        self.shape  # noqa: B018
        masks = []
        for im in self._bands.values():
            mask = ~np.isfinite(im.data)
            if im.mask is not None:
                mask |= np.asarray(im.mask, dtype=bool)
            masks.append(mask)
        return np.stack(masks)

    @property
    def uncertainty_array(self):
        """Stacked 1-sigma uncertainties, or `None` if any band has none."""
        self.shape  # noqa: B018
        sigmas = []
        for im in self._bands.values():
            if im.uncertainty is None:
                return None
            sigmas.append(np.asarray(im.uncertainty.represent_as(StdDevUncertainty).array,
                                     dtype=float))
        return np.stack(sigmas)

    # Construction helpers -----------------------------------------------------------
    def copy(self):
        """A deep copy."""
        return Cutout({b: im.copy() for b, im in self._bands.items()}, meta=self.meta.copy())

    def select(self, bands):
        """
        A new cutout with only ``bands``, in that order.

        Raises `~survey2survey.exceptions.BandMismatchError` naming any band missing.
        """
        bands = tuple(bands)
        missing = [b for b in bands if b not in self._bands]
        if missing:
            msg = f"cutout has no band(s) {missing}; its bands are {list(self.bands)}"
            raise BandMismatchError(msg)
        return Cutout({b: self._bands[b] for b in bands}, meta=self.meta.copy())

    def with_data(self, data, *, unit=None, mask=None, uncertainty=None, meta=None, wcs=None):
        """
        A new cutout with new pixel values on the same bands (and, by default, the same WCS).

        Parameters
        ----------
        data : array-like, shape ``(n_bands, ny, nx)``
            The new pixel values.
        unit : `~astropy.units.UnitBase`, str or dict, optional
            New unit (one for all bands, or per band); default: keep each band's unit.
        mask : array-like of bool, optional
            New mask; default: the current mask when shapes match, else none.
        uncertainty : array-like, optional
            New 1-sigma uncertainties (`~astropy.nddata.StdDevUncertainty`).
        meta : `~astropy.io.fits.Header` or dict, optional
            Cards added to (a copy of) the cutout-level metadata.
        wcs : `~astropy.wcs.WCS`, optional
            New WCS for every band (default: keep each band's).
        """
        data = np.asarray(data)
        if data.ndim != 3 or data.shape[0] != len(self):
            msg = (f"data must have shape (n_bands={len(self)}, ny, nx), got {data.shape}")
            raise ShapeMismatchError(msg)
        if mask is None and all(im.shape == data.shape[1:] for im in self._bands.values()):
            mask = self.mask
        bands = {}
        for k, (band, image) in enumerate(self._bands.items()):
            band_unit = unit.get(band, image.unit) if isinstance(unit, dict) else unit
            bands[band] = CCDData(
                data[k].copy(),
                unit=image.unit if band_unit is None else band_unit,
                wcs=image.wcs.deepcopy() if wcs is None else wcs.deepcopy(),
                mask=None if mask is None else np.asarray(mask[k], dtype=bool).copy(),
                uncertainty=(None if uncertainty is None
                             else StdDevUncertainty(np.asarray(uncertainty[k]).copy())),
                meta=image.meta.copy(),
            )
        new_meta = self.meta.copy()
        if meta is not None:
            new_meta.update(meta)
        return Cutout(bands, meta=new_meta)

    @classmethod
    def from_arrays(cls, data, wcs, bands, *, unit=u.dimensionless_unscaled, mask=None,
                    uncertainty=None, meta=None):
        """
        Build a cutout from a ``(n_bands, ny, nx)`` array sharing one WCS.

        Examples
        --------
        >>> import numpy as np
        >>> from astropy.wcs import WCS
        >>> from survey2survey.io import Cutout
        >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ['RA---TAN', 'DEC--TAN']
        >>> Cutout.from_arrays(np.zeros((2, 3, 3)), wcs, 'gr', unit='nmgy').bands
        ('g', 'r')
        """
        data = np.asarray(data)
        bands = tuple(bands)
        if data.ndim == 2:
            data = data[np.newaxis]
        if data.ndim != 3 or data.shape[0] != len(bands):
            msg = f"data of shape {data.shape} does not hold {len(bands)} band(s) {list(bands)}"
            raise BandMismatchError(msg)
        images = {}
        for k, band in enumerate(bands):
            header = fits.Header()
            header["FILTER"] = band
            images[band] = CCDData(
                data[k].copy(), unit=unit, wcs=wcs.deepcopy(),
                mask=None if mask is None else np.asarray(mask[k], dtype=bool).copy(),
                uncertainty=(None if uncertainty is None
                             else StdDevUncertainty(np.asarray(uncertainty[k]).copy())),
                meta=header,
            )
        return cls(images, meta=meta)
