# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""What a FITS file is, as `~survey2survey.io.read_cutout` recognises it."""

from ._layouts import detect_format
from ._open import open_fits

__all__ = ["file_layout"]


def file_layout(path, *, what=None):
    """
    The layout `~survey2survey.io.read_cutout` recognises in a FITS file.

    Parameters
    ----------
    path : str or path
        The file (``.fits``, ``.fits.gz``, ``.fits.bz2``, ``.fits.fz``...).
    what : str, optional
        How to name the file in error messages.

    Returns
    -------
    layout : str
        ``'sdss-frame'``, ``'des'``, ``'legacysurvey'``, ``'survey2survey'`` or
        ``'image'`` (one of ``survey2survey.io.FORMATS``; hips2fits images carry
        nothing to recognise them by).

    Raises
    ------
    survey2survey.exceptions.CorruptFileError
        If the file is not a complete, readable FITS file.

    Examples
    --------
    >>> from survey2survey.datasets import sample_sdss_frames
    >>> from survey2survey.io import file_layout
    >>> file_layout(sample_sdss_frames()[0])
    'sdss-frame'
    """
    what = repr(str(path)) if what is None else what
    with open_fits(path, what) as hdul:
        return detect_format(hdul)
