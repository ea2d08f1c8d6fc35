# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Translate many cutouts (e.g. a directory of FITS files) at batch scale with dask.

The inputs are split into partitions of ``batch_size``. Within a partition the
inputs are read, translated in one batched network call and (optionally)
written out, so memory is bounded by the partitions in flight, not by the
number of inputs. Partitions run one after the other by default (torch already
spreads each batch over every core), or on a dask cluster through a
``dask.distributed.Client``.
"""

import os
import threading
import warnings
from pathlib import Path

from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import InputError, InvalidOptionError, Survey2SurveyError
from ..io import read_cutout, write_cutout
from ..utils._progress import progress_bar
from ..utils._validation import check_choice, check_int
from . import _inputs

__all__ = ["transform_many"]

_SCHEDULERS = ("threads", "synchronous")
_ON_ERROR = ("raise", "skip")


def _stem(item, index):
    if isinstance(item, (str, os.PathLike)):
        name = Path(item).name
        for suffix in _inputs.FITS_SUFFIXES:
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return Path(item).stem
    return f"cutout_{index:06d}"


def _describe(item, index):
    if isinstance(item, (str, os.PathLike)):
        return f"input {index} ({str(item)!r})"
    return f"input {index} ({type(item).__name__})"


def _named_error(exc, item, index):
    """The same kind of error, its message prefixed with which input caused it."""
    try:
        return type(exc)(f"{_describe(item, index)}: {exc}")
    except TypeError:  # an exception class with another signature: keep the original
        return exc


def _check_options(batch_size, scheduler, on_error):
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if scheduler == "processes":
        msg = ("scheduler='processes' would copy the fitted model into every worker process; "
               "use 'synchronous' (the default: torch uses every core for each batch), "
               "'threads', or a dask distributed Client")
        raise InvalidOptionError(msg)
    if isinstance(scheduler, str):
        check_choice(scheduler, _SCHEDULERS, "scheduler")
    check_choice(on_error, _ON_ERROR, "on_error")
    return batch_size


class _PartitionWorker:
    """Reads, translates and writes one partition; shared by every dask task of a run."""

    def __init__(self, estimator, paths, *, overwrite, on_error, bar, transform_kwargs):
        self.estimator = estimator
        self.paths = paths
        self.overwrite = overwrite
        self.on_error = on_error
        self.bar = bar
        self.transform_kwargs = transform_kwargs
        self.model_lock = threading.Lock()
        self.bar_lock = threading.Lock()

    def _fail(self, exc, item, index):
        if self.on_error == "raise":
            raise _named_error(exc, item, index) from exc
        return (index, None, f"{_describe(item, index)}: {exc}")

    def _translate(self, items):
        with self.model_lock:
            return self.estimator.transform(list(items), progress=False,
                                            **self.transform_kwargs)

    def __call__(self, partition):
        partition = list(partition)
        results, ready = [], []
        for index, item in partition:
            # Files are read here, in parallel threads; in-memory objects go as they are so
            # that transform returns the same kind (CCDData in -> CCDData out).
            if self.paths is not None and isinstance(item, (str, os.PathLike)):
                try:
                    item = read_cutout(item, self.estimator.bands_, what=repr(str(item)))
                except Survey2SurveyError as exc:
                    results.append(self._fail(exc, item, index))
                    continue
            ready.append((index, item))
        try:
            outputs = self._translate([item for _, item in ready]) if ready else []
            translated = list(zip(ready, outputs, strict=True))
        except Survey2SurveyError:
            # one bad input fails the batch: retry one by one to name (or skip) it
            translated = []
            for index, item in ready:
                try:
                    translated.append(((index, item), self._translate([item])[0]))
                except Survey2SurveyError as exc:
                    results.append(self._fail(exc, item, index))
        for (index, _), out in translated:
            if self.paths is not None:
                cutout = out if hasattr(out, "bands") else read_cutout(out)
                out = write_cutout(cutout, self.paths[index], overwrite=self.overwrite)
            results.append((index, out, None))
        with self.bar_lock:
            self.bar.update(len(partition))
        return results


def transform_many(estimator, inputs, *, output_dir=None, batch_size=64, overwrite=False,
                   progress=None, scheduler="synchronous", num_workers=None, on_error="raise",
                   **transform_kwargs):
    """
    Translate many cutouts with a fitted estimator, in dask partitions of ``batch_size``.

    Memory is bounded by the partitions in flight (about ``num_workers`` x
    ``batch_size`` cutouts), so a directory of millions of FITS files can be
    translated into another directory.

    Parameters
    ----------
    estimator : `~survey2survey.estimator.Survey2Survey`
        A fitted estimator.
    inputs : list or directory
        Anything ``Survey2Survey.transform`` accepts, as a list, or a directory of FITS files.
    output_dir : str or path, optional
        Write each result to ``output_dir/<input file stem>.fits`` (or
        ``cutout_<index>.fits`` for in-memory inputs), atomically, and return
        the paths instead of the cutouts.
    batch_size : int, optional
        Inputs per partition: read, translated in one batched network call and written.
    overwrite : bool, optional
        Replace existing output files.
    progress : bool, optional
        Show a progress bar (default ``survey2survey.conf.show_progress``).
    scheduler : {'synchronous', 'threads'} or dask client, optional
        Passed to `dask.compute`. ``'synchronous'`` (default) runs the
        partitions in the calling thread, each network call using every core;
        a ``dask.distributed.Client`` spreads partitions over a cluster's
        workers (each holding its own copy of the model). ``'threads'``
        overlaps FITS reading and writing across partitions, but before Python
        3.14 warning filters are process-global and not thread-safe, so
        warnings raised while threads read files can be lost or misrouted:
        use it for throughput once inputs are known to be clean.
        ``'processes'`` is refused: it would copy the model into every process.
    num_workers : int, optional
        Threads for the ``'threads'`` scheduler (dask's default: the CPU count).
    on_error : {'raise', 'skip'}, optional
        ``'raise'`` (default): the first unreadable or untranslatable input
        raises its specific error, its message naming the input. ``'skip'``:
        such inputs are left out of the result and listed, with their
        reasons, in one `~astropy.utils.exceptions.AstropyUserWarning`.
    **transform_kwargs
        Passed to ``Survey2Survey.transform`` (``uncertainty=True``...).

    Returns
    -------
    results : list
        The translated cutouts, or the paths written when ``output_dir`` is
        given, in input order.

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``inputs`` is empty, an option is invalid, or two outputs would
        share a file name.
    survey2survey.exceptions.Survey2SurveyError
        With ``on_error='raise'``, the error of the first failing input.
    """
    import dask
    import dask.bag

    items = _inputs.as_list(inputs, "inputs")
    batch_size = _check_options(batch_size, scheduler, on_error)
    paths = None
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        paths = [output_dir / f"{_stem(item, k)}.fits" for k, item in enumerate(items)]
        if len(set(paths)) != len(paths):
            msg = "two inputs share a file name: their outputs would overwrite each other"
            raise InputError(msg)
    bar = progress_bar(total=len(items), progress=progress, desc="transform_many",
                       unit="cutout", hide_single=True)
    worker = _PartitionWorker(estimator, paths, overwrite=overwrite, on_error=on_error,
                              bar=bar, transform_kwargs=transform_kwargs)
    bag = dask.bag.from_sequence(list(enumerate(items)), partition_size=batch_size)
    compute_kwargs = {"scheduler": scheduler}
    if num_workers is not None:
        compute_kwargs["num_workers"] = int(num_workers)
    try:
        # Before Python 3.14 catch_warnings (used while reading FITS) is not thread-safe:
        # worker threads exiting out of order can leave their filters installed. Restore
        # the caller's filters once every partition is done.
        with warnings.catch_warnings():
            (rows,) = dask.compute(bag.map_partitions(worker), **compute_kwargs)
    finally:
        bar.close()
    rows = sorted(rows, key=lambda row: row[0])
    skipped = [reason for _, _, reason in rows if reason is not None]
    if skipped:
        warnings.warn(f"transform_many skipped {len(skipped)} of {len(items)} input(s): "
                      + "; ".join(skipped), AstropyUserWarning)
    return [out for _, out, reason in rows if reason is None]
