# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Translate many cutouts (e.g. a directory of FITS files) in memory-bounded chunks."""

import os
from pathlib import Path

from ..exceptions import InputError
from ..io import write_cutout
from . import _inputs

__all__ = ["transform_many"]


def _stem(item, index):
    if isinstance(item, (str, os.PathLike)):
        name = Path(item).name
        for suffix in (".fits.fz", ".fits.gz", ".fits", ".fit", ".fts"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return Path(item).stem
    return f"cutout_{index:06d}"


def transform_many(estimator, inputs, *, output_dir=None, batch_size=64, overwrite=False,
                   progress=None, **transform_kwargs):
    """
    Translate many cutouts with a fitted estimator, ``batch_size`` at a time.

    Only one chunk of inputs is held in memory at once, so a directory of
    thousands of FITS files can be translated to another directory.

    Parameters
    ----------
    estimator : `~survey2survey.estimator.Survey2Survey`
        A fitted estimator.
    inputs : list or directory
        Anything `Survey2Survey.transform` accepts, as a list, or a directory of FITS files.
    output_dir : str or path, optional
        Write each result to ``output_dir/<input file stem>.fits`` (or
        ``cutout_<index>.fits`` for in-memory inputs) and return the paths
        instead of the cutouts.
    batch_size : int, optional
        Inputs read, translated (batched through the network) and written per chunk.
    overwrite : bool, optional
        Replace existing output files.
    progress : bool, optional
        Show a progress bar over the chunks (default `survey2survey.conf.show_progress`).
    **transform_kwargs
        Passed to `Survey2Survey.transform` (``uncertainty=True``...).

    Returns
    -------
    results : list
        The translated cutouts, or the paths written when ``output_dir`` is given.

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``inputs`` is empty or ``batch_size`` is not positive, or an output
        name would be written twice.
    """
    items = _inputs.as_list(inputs, "inputs")
    batch_size = int(batch_size)
    if batch_size < 1:
        msg = f"batch_size must be a positive integer, got {batch_size}"
        raise InputError(msg)
    paths = None
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        paths = [output_dir / f"{_stem(item, k)}.fits" for k, item in enumerate(items)]
        if len(set(paths)) != len(paths):
            msg = "two inputs share a file name: their outputs would overwrite each other"
            raise InputError(msg)
    from .estimator import _progress

    bar = _progress(len(items), progress, "transform_many")
    results = []
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        outputs = estimator.transform(list(chunk), progress=False, **transform_kwargs)
        if paths is None:
            results.extend(outputs)
        else:
            for out, path in zip(outputs, paths[start:start + batch_size], strict=False):
                cutout = out if hasattr(out, "bands") else None
                if cutout is None:
                    from ..io import read_cutout

                    cutout = read_cutout(out)
                write_cutout(cutout, path, overwrite=overwrite)
                results.append(path)
        bar.update(len(chunk))
    bar.close()
    return results
