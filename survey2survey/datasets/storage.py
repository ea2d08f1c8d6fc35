# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Save and load `~survey2survey.datasets.SurveyPairs` as a plain folder of FITS files.

Layout (one file per cutout, all written by `~survey2survey.io.write_cutout`'s
layout, plus a ``TRUTH`` binary table of the objects rendered when known)::

    directory/source/<name>.fits        source-survey cutouts (required)
    directory/target/<name>.fits        target-survey cutouts (optional: external sets)
    directory/source_truth/<name>.fits  noise-free source cutouts (optional)
    directory/target_truth/<name>.fits  noise-free target cutouts (optional)

Real survey cutouts can fill ``source/`` and ``target/``: any FITS file that
`~survey2survey.io.read_cutout` reads (bands named by ``FILTER``/``BAND``
headers, celestial WCS), paired by file name.
"""

import warnings
from pathlib import Path

from astropy.io import fits
from astropy.table import Table
from astropy.units import UnitsWarning
from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import CorruptFileError, InputError
from ..io import read_cutout, write_cutout
from ..utils._files import check_file_stem
from ..utils._validation import check_bool
from .pairs import SurveyPair, SurveyPairs

__all__ = ["save_pairs", "load_pairs"]

#: sub-folders of a pairs directory, one per `~survey2survey.datasets.SurveyPair` cutout
FOLDERS = ("source", "target", "source_truth", "target_truth")

_TRUTH = "TRUTH"


def _truth_hdu(catalog):
    hdu = fits.table_to_hdu(catalog)
    hdu.name = _TRUTH
    return hdu


def save_pairs(pairs, directory, *, overwrite=False):
    """
    Write pairs to ``directory`` as one FITS file per cutout.

    Parameters
    ----------
    pairs : `~survey2survey.datasets.SurveyPairs` or list
        What to write (a list holds `~survey2survey.datasets.SurveyPair` objects).
        Missing cutouts (``None``) are skipped.
    directory : str or path
        Destination; ``source/``, ``target/``, ``source_truth/`` and
        ``target_truth/`` are created as needed.
    overwrite : bool, optional
        Replace existing files (otherwise `~survey2survey.exceptions.OutputExistsError`).

    Returns
    -------
    directory : `pathlib.Path`

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``pairs`` holds something other than pairs, two pairs share a name,
        or a name is not a plain file name (it holds a folder separator, is
        ``..`` or absolute: its files would land outside ``directory``).
        Nothing is written then.

    Notes
    -----
    Each file holds the cutout (`~survey2survey.io.write_cutout` layout) and,
    when the pair has a catalogue, a ``TRUTH`` binary table extension. Files are
    written atomically.

    Examples
    --------
    >>> import tempfile
    >>> from survey2survey.datasets import load_pairs, make_survey_pairs, save_pairs
    >>> pairs = make_survey_pairs(2, bands='r', source_size=16, processes=1, progress=False)
    >>> path = save_pairs(pairs, tempfile.mkdtemp())
    >>> sorted(p.name for p in path.iterdir())
    ['source', 'source_truth', 'target', 'target_truth']
    >>> len(load_pairs(path))
    2
    """
    overwrite = check_bool(overwrite, "overwrite")
    pairs = list(pairs)
    for pair in pairs:
        if not isinstance(pair, SurveyPair):
            msg = f"save_pairs expects SurveyPair objects, got {type(pair).__name__}"
            raise InputError(msg)
    names = [check_file_stem(p.name, "pair name") for p in pairs]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        msg = f"pairs must have unique names to be saved; repeated: {dupes[:5]}"
        raise InputError(msg)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        msg = f"{str(directory)!r} exists and is not a directory"
        raise InputError(msg)
    for pair in pairs:
        for folder in FOLDERS:
            cutout = getattr(pair, folder)
            if cutout is None:
                continue
            extra = () if pair.catalog is None else (_truth_hdu(pair.catalog),)
            write_cutout(cutout, directory / folder / f"{pair.name}.fits", overwrite=overwrite,
                         extra_hdus=extra)
    return directory


def _read(path, with_catalog):
    """
    Read one cutout file, and its TRUTH table when asked and present.

    The cutout goes through `~survey2survey.io.read_cutout`, which reads every
    extension in full and reports a truncated or corrupt file as a
    `~survey2survey.exceptions.CorruptFileError` naming it.
    """
    what = repr(str(path))
    cutout = read_cutout(path, what=what)
    catalog = None
    if with_catalog:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AstropyUserWarning)
                warnings.simplefilter("ignore", UnitsWarning)
                with fits.open(path, memmap=False) as hdul:
                    if _TRUTH in hdul:
                        catalog = Table.read(hdul, hdu=_TRUTH)
        except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
            msg = f"{what}: its {_TRUTH} table could not be read: {exc}"
            raise CorruptFileError(msg) from exc
    return cutout, catalog


def load_pairs(directory):
    """
    Read pairs written by `save_pairs`, or real cutouts in the same layout.

    Parameters
    ----------
    directory : str or path
        A folder with ``source/`` and optionally ``target/``, ``source_truth/``
        and ``target_truth/`` sub-folders of ``*.fits`` files. Files are paired
        by name; truth files are optional per pair.

    Returns
    -------
    pairs : `~survey2survey.datasets.SurveyPairs`
        In file-name order. ``target`` is `None` for every pair when there is no
        ``target/`` folder; the catalogue comes from the first file holding a
        ``TRUTH`` table.

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``directory`` or its ``source/`` folder is missing or empty, or if
        ``source/`` and ``target/`` do not hold the same file names.
    survey2survey.exceptions.CorruptFileError
        If a file is not readable FITS (other `~survey2survey.io.read_cutout`
        errors name bad WCS, data or units).

    Examples
    --------
    >>> from survey2survey.datasets import load_pairs
    >>> load_pairs('no/such/folder')
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InputError: pairs directory 'no/such/folder' does not exist
    """
    directory = Path(directory)
    if not directory.is_dir():
        msg = f"pairs directory {str(directory)!r} does not exist"
        raise InputError(msg)
    source_dir = directory / "source"
    if not source_dir.is_dir():
        msg = f"pairs directory {str(directory)!r} has no 'source' folder"
        raise InputError(msg)
    files = {f: {p.stem: p for p in (directory / f).glob("*.fits")}
             for f in FOLDERS if (directory / f).is_dir()}
    names = sorted(files["source"])
    if not names:
        msg = f"{str(source_dir)!r} holds no .fits files"
        raise InputError(msg)
    if "target" in files:
        unmatched_source = sorted(set(names) - set(files["target"]))
        unmatched_target = sorted(set(files["target"]) - set(names))
        if unmatched_source or unmatched_target:
            msg = (f"source/ and target/ in {str(directory)!r} must hold the same file names; "
                   f"without target: {unmatched_source[:5]}, without source: "
                   f"{unmatched_target[:5]}")
            raise InputError(msg)
    pairs = []
    for name in names:
        parts = {}
        catalog = None
        for folder in FOLDERS:
            path = files.get(folder, {}).get(name)
            if path is None:
                parts[folder] = None
                continue
            parts[folder], found = _read(path, catalog is None)
            catalog = found if catalog is None else catalog
        pairs.append(SurveyPair(name=name, catalog=catalog, **parts))
    first = pairs[0]
    meta = dict(source=first.source.meta.get("SURVEY"),
                target=None if first.target is None else first.target.meta.get("SURVEY"),
                bands="".join(first.source.bands), directory=str(directory))
    return SurveyPairs(pairs, meta=meta)
