# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Small files laid out exactly as real survey products are (test helpers).

Each builder follows its product's data model: extensions and their order,
EXTNAMEs, header keywords, units, dtypes and compression. SDSS frames are built
with `survey2survey.datasets.sdss_frame_hdulist`.
"""

import io

import numpy as np
from astropy.io import fits

from survey2survey.utils._wcs import wcs_to_header

__all__ = ["des_hdulist", "legacysurvey_hdulist", "hips2fits_hdulist", "dss_plate_bytes",
           "DES_FILTER"]

#: The FILTER card of a DES coadd band: 'g DECam SDSS c0001 4720.0 1520.0'.
DES_FILTER = {"g": "g DECam SDSS c0001 4720.0 1520.0", "r": "r DECam SDSS c0002 6415.0 1480.0",
              "i": "i DECam SDSS c0003 7835.0 1470.0", "z": "z DECam SDSS c0004 9260.0 1520.0",
              "Y": "Y DECam c0005 10095.0 1130.0"}


def des_hdulist(band, science, weight, mask, wcs, *, fpack=True, tilename="DES0123-0041"):
    """
    A DES DR1/DR2 coadd tile (or cutout) of one band: SCI, MSK and WGT extensions.

    An empty primary HDU, then ``SCI`` (float32, counts at ``MAGZERO`` = 30),
    ``MSK`` (int16 bit mask) and ``WGT`` (float32 inverse variance), each with
    its own WCS and its ``BAND``/``FILTER``/``DES_EXT`` cards; with ``fpack``
    the three are tile-compressed (RICE_1) as in the ``.fits.fz`` tiles.
    """
    hdus = [fits.PrimaryHDU()]
    for name, data, kind in (("SCI", np.asarray(science, np.float32), "IMAGE"),
                             ("MSK", np.asarray(mask, np.int16), "MASK"),
                             ("WGT", np.asarray(weight, np.float32), "WEIGHT")):
        header = wcs_to_header(wcs)
        header["RADESYS"] = "ICRS"
        header["TILENAME"] = (tilename, "DES coadd tile name")
        header["BAND"] = (band, "band of the coadd")
        header["FILTER"] = (DES_FILTER[band], "filter name(s)")
        header["DES_EXT"] = (kind, "Image extension type")
        if name == "SCI":
            header["MAGZERO"] = (30.0, "Mag Zero-point in magnitudes/s")
        if fpack:
            hdus.append(fits.CompImageHDU(data, header=header, name=name,
                                          compression_type="RICE_1"))
        else:
            hdus.append(fits.ImageHDU(data, header=header, name=name))
    return fits.HDUList(hdus)


def legacysurvey_hdulist(cube, wcs, bands, *, invvar=None, survey="LegacySurvey",
                         version="DR10"):
    """
    A Legacy Surveys viewer ``fits-cutout`` file: a (band, y, x) cube in nanomaggies.

    As the viewer writes it: a primary HDU with ``SURVEY``, ``VERSION``,
    ``IMAGETYP = 'IMAGE'``, ``BANDS = 'grz'`` and ``BAND0``, ``BAND1``... and a
    TAN WCS with a CD matrix, no ``BUNIT``; with ``invvar`` a second HDU with
    the same header and ``IMAGETYP = 'INVVAR'``.
    """
    header = fits.Header()
    header["SURVEY"] = survey
    header["VERSION"] = version
    header["IMAGETYP"] = "IMAGE"
    header["BANDS"] = "".join(bands)
    for k, band in enumerate(bands):
        header[f"BAND{k}"] = band
    header.update(wcs_to_header(wcs))
    header["IMAGEW"] = cube.shape[-1]
    header["IMAGEH"] = cube.shape[-2]
    data = np.asarray(cube, np.float32)
    hdus = [fits.PrimaryHDU(data if len(bands) > 1 else data[0], header=header)]
    if invvar is not None:
        ivheader = header.copy()
        ivheader["IMAGETYP"] = "INVVAR"
        iv = np.asarray(invvar, np.float32)
        hdus.append(fits.ImageHDU(iv if len(bands) > 1 else iv[0], header=ivheader))
    return fits.HDUList(hdus)


def hips2fits_hdulist(image, wcs):
    """A CDS hips2fits FITS image: one float32 plane with its WCS, no band or unit cards."""
    return fits.HDUList([fits.PrimaryHDU(np.asarray(image, np.float32), header=wcs.to_header())])


def dss_plate_bytes(image, wcs, *, skew_card="SKEW      0.000000E+00"):
    """
    A DSS plate scan (16-bit photographic densities) whose header has a non-standard card.

    ``skew_card`` is written verbatim among the plate-solution cards; the
    default (no value indicator) is the kind astropy reads with a
    `~astropy.io.fits.verify.VerifyWarning` and can fix.
    """
    header = wcs.to_header()
    header["PLTLABEL"] = ("SJ01467", "Observatory plate label")
    header["PLATEID"] = ("0140", "GSSS Plate ID")
    header["REGION"] = ("S588", "GSSS Region Name")
    header["DATE-OBS"] = ("1978-01-09T19:11:00", "UT date of Observation")
    header["BANDPASS"] = (18, "GSSS Bandpass code")
    header["PLTSCALE"] = (67.2, "[arcsec/mm] plate scale")
    hdu = fits.PrimaryHDU(np.asarray(image, np.int16), header=header)
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    raw = buffer.getvalue()
    cards = [raw[i:i + 80] for i in range(0, raw.index(b"END" + b" " * 77) + 80, 80)]
    cards.insert(len(cards) - 1, skew_card.ljust(80).encode("ascii"))
    text = b"".join(cards)
    text = text.ljust(-(-len(text) // 2880) * 2880, b" ")
    header_end = -(-(raw.index(b"END" + b" " * 77) + 80) // 2880) * 2880
    return text + raw[header_end:]
