# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Translate many cutouts (a folder of FITS files, say) at batch scale.

The inputs are cut into partitions of ``batch_size``. A partition is read
(each FITS file parsed once, into the source survey's flux unit), translated
in one call of the estimator's network and written out, atomically, so memory
is bounded by the partitions in flight and a killed run leaves no partial file.

By default the partitions flow through a pipeline in this process: the
network runs in a background thread while the calling thread reads the next
partitions and writes the previous ones, so FITS input and output hide behind
the computation. Only the network (torch and numpy) leaves the calling thread:
before Python 3.14 warning filters are process-global and not thread-safe,
and FITS and WCS parsing use them.

With a dask scheduler the inputs go out as tasks, each a chunk of a few
partitions run through the same pipeline. On a ``dask.distributed`` cluster,
given a model file, every worker process loads the model once (not once per
task) and, on a machine with GPUs, pins one of them.
"""

import collections
import logging
import multiprocessing
import os
import threading
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import (
    InputError,
    InvalidOptionError,
    MissingDependencyError,
    OutputExistsError,
    OutputWriteError,
    Survey2SurveyError,
    WeightsFileError,
)
from ..io import write_cutout
from ..io.groups import BandGroup
from ..utils._progress import progress_bar
from ..utils._validation import (
    check_bool,
    check_choice,
    check_int,
    check_path,
    check_regular_file,
)
from . import _inputs
from .estimator import _warn_out_of_range, returned_kind

__all__ = ["transform_many"]

log = logging.getLogger(__name__)

_DASK_SCHEDULERS = ("synchronous", "threads")
_ADDRESS_PREFIXES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
_ON_ERROR = ("raise", "skip")
_TRANSFORM_OPTIONS = ("uncertainty", "n_samples", "resample", "input_psf", "target_psf",
                      "precision")
#: partitions per dask task: enough for the pipeline to overlap reading and computing
PARTITIONS_PER_TASK = 4
#: dask tasks per worker at least (when there are enough inputs): every worker gets work, and
#: one that finishes early takes another task rather than idling behind a long one
TASKS_PER_WORKER = 2
#: torch threads of each dask worker process; None: its host's cores shared by the workers there
WORKER_TORCH_THREADS = None
#: estimators loaded from model files in this process (a dask worker), most recent last
_MODELS = collections.OrderedDict()
_MODELS_LOCK = threading.Lock()
_MODELS_KEPT = 2
#: how many times each model file was loaded in this process (read by the tests)
LOADS = collections.Counter()
_LOCKS = weakref.WeakKeyDictionary()


# --- names and checks ---------------------------------------------------------------------------

def _stem(item, index):
    if isinstance(item, BandGroup):  # the per-band files of one field
        return item.stem
    if isinstance(item, (str, os.PathLike)):
        name = Path(item).name
        for suffix in _inputs.FITS_SUFFIXES:
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return Path(item).stem
    return f"cutout_{index:06d}"


def _describe(item, index):
    if isinstance(item, BandGroup):
        return f"input {index} ({item.stem!r}: {', '.join(map(os.fspath, item.values()))})"
    if isinstance(item, (str, os.PathLike)):
        return f"input {index} ({str(item)!r})"
    return f"input {index} ({type(item).__name__})"


def _reason(exc, item, index):
    """The message of ``exc``, naming the input that caused it (unless it does already)."""
    if isinstance(item, (str, os.PathLike)) and os.fspath(item) in str(exc):
        return str(exc)
    return f"{_describe(item, index)}: {exc}"


def _named_error(exc, item, index):
    """The same kind of error, its message saying which input caused it."""
    try:
        return type(exc)(_reason(exc, item, index))
    except TypeError:  # an exception class with another signature: keep the original
        return exc


def _is_address(scheduler):
    return isinstance(scheduler, str) and scheduler.startswith(_ADDRESS_PREFIXES)


def _check_options(batch_size, scheduler, on_error, prefetch, transform_kwargs):
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    prefetch = check_int(prefetch, "prefetch", minimum=0)
    if scheduler == "processes":
        msg = ("scheduler='processes' would copy the fitted model into every task; use the "
               "default pipeline (scheduler=None), 'synchronous', 'threads', or a dask "
               "distributed Client or scheduler address")
        raise InvalidOptionError(msg)
    if isinstance(scheduler, str) and not _is_address(scheduler):
        check_choice(scheduler, _DASK_SCHEDULERS, "scheduler")
    if not callable(on_error):
        check_choice(on_error, _ON_ERROR, "on_error")
    for key in transform_kwargs:
        if key not in _TRANSFORM_OPTIONS:
            msg = (f"transform_many passes only {', '.join(_TRANSFORM_OPTIONS)} on to "
                   f"Survey2Survey.transform; got {key}=")
            raise InvalidOptionError(msg)
        if key in ("input_psf", "target_psf") and isinstance(transform_kwargs[key], list):
            msg = (f"transform_many takes one {key} for all inputs (a FWHM, a PSF, a dict per "
                   "band or a file), not a list per input")
            raise InvalidOptionError(msg)
    return batch_size, prefetch


def _complete_output_problem(path, estimator):
    """
    None if ``path`` reads back as a complete output of ``estimator``, else what is wrong.

    Complete: a readable, untruncated cutout with the model's bands whose every
    band carries this model's provenance (``S2SHASH``, ``S2STRANS``).
    """
    from ..io import read_cutout
    from ._provenance import params_hash

    if os.path.islink(path) and not os.path.exists(path):
        return "it is a dangling symbolic link"
    if not os.path.isfile(path):
        return "it is not a regular file"
    try:
        cutout = read_cutout(path, assign_bands=False)
    except Survey2SurveyError as exc:
        return f"it does not read back as a cutout ({exc})"
    expected = params_hash(estimator._identity())
    if tuple(cutout.bands) != tuple(estimator.bands_):
        return f"it holds bands {list(cutout.bands)}, not the model's {list(estimator.bands_)}"
    for band in cutout.bands:
        found = cutout[band].meta.get("S2SHASH")
        if found != expected:
            what = "no S2SHASH card" if found is None else f"S2SHASH {found!r}"
            return (f"band {band!r} has {what}, not this model's {expected!r} (an output of "
                    "another model or run, or not an output)")
    return None


def _check_existing(paths, existing, estimator):
    """Split existing outputs into complete outputs of ``estimator`` and failed rows."""
    kept, rows = set(), []
    for k in sorted(existing):
        problem = _complete_output_problem(paths[k], estimator)
        if problem is None:
            kept.add(k)
        else:
            rows.append((k, problem))
    return kept, rows


def _output_paths(items, output_dir, *, overwrite, skip_existing):
    """Output path of every input; refuses inputs as outputs and (unasked) existing outputs."""
    if output_dir is None:
        if skip_existing:
            msg = "skip_existing=True needs an output_dir whose existing files are skipped"
            raise InvalidOptionError(msg)
        return None, set()
    output_dir = check_path(output_dir, "output_dir")
    if output_dir.exists() and not output_dir.is_dir():
        msg = f"output_dir {str(output_dir)!r} exists and is not a folder"
        raise InvalidOptionError(msg)
    paths = [output_dir / f"{_stem(item, k)}.fits" for k, item in enumerate(items)]
    first_input = {}
    for k, path in enumerate(paths):
        if path in first_input:
            j = first_input[path]
            msg = (f"inputs {_describe(items[j], j)} and {_describe(items[k], k)} would both "
                   f"be written to {path.name!r} in output_dir: their outputs would overwrite "
                   "each other; rename one or translate them into different folders")
            raise InputError(msg)
        first_input[path] = k
    inputs = {Path(item).resolve() for item in items if isinstance(item, (str, os.PathLike))}
    clashes = [p for p in paths if p.resolve() in inputs]
    if clashes:
        msg = (f"output_dir {str(output_dir)!r} would write {str(clashes[0])!r} over an "
               f"input file ({len(clashes)} such output(s)); choose another output folder")
        raise InvalidOptionError(msg)
    existing = {k for k, path in enumerate(paths)
                if os.path.lexists(path) and not os.path.isdir(path)}  # a folder fails its input
    if existing and not (overwrite or skip_existing):
        first = paths[min(existing)]
        msg = (f"{len(existing)} of the {len(paths)} output file(s) exist already (e.g. "
               f"{str(first)!r}); pass skip_existing=True (survey2survey transform "
               "--skip-existing) to continue an interrupted run, or overwrite=True "
               "(--overwrite) to replace them")
        raise OutputExistsError(msg)
    if overwrite:
        existing = set()
    return paths, existing


# --- the work on one partition ------------------------------------------------------------------

class _Runner:
    """
    Reads, translates and writes partitions of ``(index, item, output path or None)``.

    `prepare` and `finish` run in the calling thread (FITS, WCS, warnings);
    `compute` runs only the network and may run in another thread.
    """

    def __init__(self, estimator, *, overwrite, skip_existing, on_error, options, lock=None,
                 torch_threads=None):
        self.estimator = estimator
        self.torch_threads = torch_threads
        self.overwrite = overwrite
        self.skip_existing = skip_existing
        self.on_error = on_error
        options = dict(options)
        self.resample = options.pop("resample", False)
        # the out-of-range warning of every partition is gathered into one (from S2SOOD)
        self.options = dict(options, batch_size=None, progress=False,
                            to_target_grid=estimator.output_grid == "target",
                            warn_out_of_range=False)
        self.lock = lock if lock is not None else threading.Lock()

    def _fail(self, exc, item, index):
        if self.on_error == "raise":
            raise _named_error(exc, item, index) from exc
        return (index, None, _reason(exc, item, index), None)

    def _read(self, item, index):
        # Parsed once here (bands, pixel scale, unit: as transform does); the network stage
        # takes the cutout without checking it again. One name for every input, so that a
        # unit warning is shown once, not once per file.
        (cutout,) = _inputs.read_in_survey_unit(
            [item], self.estimator.bands_, self.estimator.source_, "input", pixel_scale=True,
            resample=self.resample)
        return cutout

    def _stages(self, cutouts):
        return self.estimator._translation_stages(cutouts, "input", **self.options)

    def prepare(self, partition):
        """Read, check and encode a partition: ``(ready, rows, network, finish)``."""
        rows, ready = [], []
        for index, item, path in partition:
            try:
                ready.append((index, item, path, self._read(item, index)))
            except Survey2SurveyError as exc:
                rows.append(self._fail(exc, item, index))
        network = finish = None
        if ready:
            try:
                network, finish = self._stages([entry[-1] for entry in ready])
            except Survey2SurveyError:
                pass  # one bad input: `finish_partition` retries one by one to name it
        return ready, rows, network, finish

    def compute(self, prepared):
        """Run the network of a prepared partition (any thread); an error is returned."""
        network = prepared[2]
        if network is None:
            return None
        if self.torch_threads is not None:  # OpenMP threads are set per calling thread
            _set_torch_threads(self.torch_threads)
        try:
            with self.lock:
                return network()
        except Survey2SurveyError as exc:
            return exc

    def _one(self, cutout):
        network, finish = self._stages([cutout])
        with self.lock:
            result = network()
        return finish(result)[0]

    def finish_partition(self, prepared, result):
        """Build and write the outputs of a partition: its rows ``(index, output, reason)``."""
        ready, rows, _, finish = prepared
        if ready and (result is None or isinstance(result, Exception)):
            for index, item, path, cutout in ready:  # name (or skip) the input that failed
                try:
                    rows.append(self._deliver(index, item, path, self._one(cutout)))
                except Survey2SurveyError as exc:
                    rows.append(self._fail(exc, item, index))
            return rows
        if ready:
            outputs = finish(result)
            for (index, item, path, _), output in zip(ready, outputs, strict=True):
                rows.append(self._deliver(index, item, path, output))
        return rows

    def _deliver(self, index, item, path, output):
        outside = float(output.meta.get("S2SOOD", 0.0))
        if path is None:
            return (index, returned_kind(output, item, self.estimator.bands_), None, outside)
        try:
            write_cutout(output, path, overwrite=self.overwrite)
        except FileExistsError as exc:
            if os.path.isdir(path):  # a folder where the output goes: this input fails
                return self._fail(exc, item, index)
            if self.skip_existing:
                log.debug("%s appeared while translating (another run wrote it); kept", path)
                return (index, path, None, None)
            msg = f"{str(path)!r} was created by another process meanwhile; not replaced"
            return self._fail(OutputExistsError(msg), item, index)
        except OSError as exc:  # this output cannot be written (name too long, no space...)
            msg = f"output {str(path)!r} could not be written: {exc.strerror or exc}"
            return self._fail(OutputWriteError(msg), item, index)
        return (index, path, None, outside)


def _run_pipeline(runner, partitions, *, prefetch, done=None):
    """
    Rows of every partition; the network of one partition runs while others are read/written.

    With ``prefetch`` 0 everything runs in the calling thread, one partition at a time.
    """
    rows = []

    def drain(entry):
        partition, prepared, result = entry
        if hasattr(result, "result"):
            result = result.result()
        rows.extend(runner.finish_partition(prepared, result))
        if done is not None:
            done(len(partition))

    if prefetch == 0:
        for partition in partitions:
            prepared = runner.prepare(partition)
            drain((partition, prepared, runner.compute(prepared)))
        return rows
    pending = collections.deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="survey2survey-network") as pool:
        try:
            for partition in partitions:
                prepared = runner.prepare(partition)
                pending.append((partition, prepared, pool.submit(runner.compute, prepared)))
                while len(pending) > prefetch:
                    drain(pending.popleft())
            while pending:
                drain(pending.popleft())
        finally:
            for _, _, future in pending:
                future.cancel()
    return rows


def _partitions(entries, size):
    return [entries[k:k + size] for k in range(0, len(entries), size)]


# --- models in dask workers ---------------------------------------------------------------------

def _worker_device(device):
    """The device of this dask worker: ``device``, else one GPU per worker when there are GPUs."""
    if device is not None:
        return device
    import torch

    if not torch.cuda.is_available():
        return None
    index = os.getpid()
    try:
        from distributed import get_worker

        name = get_worker().name
        index = int(name) if str(name).lstrip("-").isdigit() else sum(map(ord, str(name)))
    except (ImportError, ValueError):
        pass  # not in a distributed worker: any stable number spreads the processes
    return f"cuda:{index % torch.cuda.device_count()}"


def _lock_for(estimator):
    with _MODELS_LOCK:
        return _LOCKS.setdefault(estimator, threading.Lock())


def _load_model(model, device):
    """``(estimator, lock)`` for a model file, loaded once per process and device."""
    from .estimator import Survey2Survey

    path = Path(model).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        msg = f"model file {str(model)!r} cannot be read: {exc.strerror or exc}"
        raise InputError(msg) from None
    check_regular_file(path, "model file", error=WeightsFileError)
    key = (str(path), stat.st_mtime_ns, stat.st_size, None if device is None else str(device))
    with _MODELS_LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
    estimator = Survey2Survey.load(path, device=device)
    with _MODELS_LOCK:
        if key not in _MODELS:  # another thread of this worker may have loaded it meanwhile
            LOADS[str(path)] += 1
            log.debug("loaded %s on %s", path, device or "the default device")
            _MODELS[key] = (estimator, threading.Lock())
            while len(_MODELS) > _MODELS_KEPT:
                _MODELS.popitem(last=False)
        return _MODELS[key]


def _task_size(n_inputs, batch_size, n_workers):
    """
    Inputs per dask task: ``PARTITIONS_PER_TASK`` partitions, fewer when that would leave
    some of ``n_workers`` without a task (128 files in partitions of 64 were one task).
    """
    size = batch_size * PARTITIONS_PER_TASK
    if n_workers:
        size = min(size, max(1, -(-n_inputs // (n_workers * TASKS_PER_WORKER))))
    return size


def _host(address):
    """The host part of a dask worker address ('tcp://10.0.0.5:4321' -> '10.0.0.5')."""
    return str(address).split("://", 1)[-1].rsplit(":", 1)[0]


def _cluster_layout(client):
    """``(number of workers, {host: workers on it})`` of a distributed cluster."""
    workers = client.scheduler_info().get("workers", {})
    hosts = collections.Counter(_host(address) for address in workers)
    return len(workers), dict(hosts)


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def worker_torch_threads(workers_per_host, fixed=None):
    """
    Torch threads for this dask worker: its host's cores shared by the workers on it.

    dask starts workers with ``OMP_NUM_THREADS=1``, so torch would use one core
    per worker however many the machine has; with one worker per machine it
    gets them all, with two per machine half each (``fixed``, from
    `WORKER_TORCH_THREADS`, overrides). None outside a distributed worker
    process, or where the layout is unknown (nothing is changed then).
    """
    if "Dask Worker process" not in multiprocessing.current_process().name:
        return None  # an in-process (threads) worker: torch's threads are the caller's
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    if fixed is not None:
        return int(fixed)
    count = (workers_per_host or {}).get(_host(worker.address))
    if not count:
        return None
    return max(1, _usable_cores() // int(count))


def _set_torch_threads(threads):
    """
    Torch's threads in the calling thread: OpenMP keeps the count per thread, so the
    pipeline's network thread of a dask worker (started with ``OMP_NUM_THREADS=1``) would
    otherwise stay at one whatever the task's thread was given.
    """
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _run_task(model, entries, settings):
    """One dask task: a chunk of ``(index, item, output path)`` through the pipeline."""
    threads = worker_torch_threads(settings.get("workers_per_host"),
                                   settings.get("torch_threads"))
    if threads is not None:
        _set_torch_threads(threads)
    if isinstance(model, (str, os.PathLike)):
        estimator, lock = _load_model(model, _worker_device(settings["device"]))
    else:
        estimator, lock = model, _lock_for(model)
    runner = _Runner(estimator, overwrite=settings["overwrite"],
                     skip_existing=settings["skip_existing"], on_error=settings["on_error"],
                     options=settings["options"], lock=lock, torch_threads=threads)
    # warnings filters are process-global before Python 3.14: restore the task's caller's
    with warnings.catch_warnings():
        return _run_pipeline(runner, _partitions(entries, settings["batch_size"]),
                             prefetch=settings["prefetch"])


def _run_dask(model, todo, settings, *, scheduler, num_workers, bar):
    import dask

    batch_size = settings["batch_size"]

    if _is_address(scheduler):
        try:
            from distributed import Client
        except ImportError:
            msg = ('a dask scheduler address needs dask.distributed: '
                   'pip install "survey2survey[distributed]"')
            raise MissingDependencyError(msg) from None
        with Client(scheduler) as client:
            return _run_dask(model, todo, settings, scheduler=client, num_workers=None,
                             bar=bar)
    if hasattr(scheduler, "submit") and hasattr(scheduler, "scatter"):  # a distributed Client
        from distributed import as_completed

        n_workers, hosts = _cluster_layout(scheduler)
        settings = dict(settings, workers_per_host=hosts, torch_threads=WORKER_TORCH_THREADS)
        chunks = _partitions(todo, _task_size(len(todo), batch_size, n_workers))

        if not isinstance(model, (str, os.PathLike)):
            # one copy per worker, deserialised once there, rather than one per task
            model = scheduler.scatter(model, broadcast=True, hash=False)
        futures = [scheduler.submit(_run_task, model, chunk, settings, pure=False)
                   for chunk in chunks]
        sizes = {future.key: len(chunk) for future, chunk in zip(futures, chunks, strict=True)}
        rows = []
        try:
            for future in as_completed(futures):
                rows.extend(future.result())
                bar.update(sizes[future.key])
        finally:
            for future in futures:
                future.cancel()
        return rows
    from dask.callbacks import Callback

    class _Progress(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if isinstance(result, list):
                bar.update(len(result))

    if not isinstance(model, (str, os.PathLike)):
        model = dask.delayed(model, pure=False)
    kwargs = {"scheduler": scheduler}
    if num_workers is not None:
        kwargs["num_workers"] = check_int(num_workers, "num_workers", minimum=1)
    local_workers = kwargs.get("num_workers") or (
        1 if scheduler == "synchronous" else _usable_cores())
    chunks = _partitions(todo, _task_size(len(todo), batch_size, local_workers))
    tasks = [dask.delayed(_run_task, pure=False)(model, chunk, settings) for chunk in chunks]
    with _Progress():
        results = dask.compute(*tasks, **kwargs)
    return [row for rows in results for row in rows]


# --- the public function ------------------------------------------------------------------------

def transform_many(estimator, inputs, *, output_dir=None, batch_size=64, overwrite=False,
                   skip_existing=False, progress=None, scheduler=None, num_workers=None,
                   on_error="raise", prefetch=2, device=None, **transform_kwargs):
    """
    Translate many cutouts with a fitted estimator, in partitions of ``batch_size``.

    Memory is bounded by the partitions in flight, so a folder of millions of
    FITS files can be translated into another folder. FITS reading and writing
    overlap with the network (see Notes). A run into ``output_dir`` can be
    killed and continued with ``skip_existing=True``: every output is
    published atomically, so an existing output is always complete.

    Parameters
    ----------
    estimator : `~survey2survey.estimator.Survey2Survey` or str or path
        A fitted estimator, or the file it was saved to
        (`~survey2survey.estimator.Survey2Survey.save`). With a
        ``dask.distributed`` scheduler, a file is loaded once by each worker.
    inputs : list or directory
        Anything ``Survey2Survey.transform`` accepts, as a list, or a directory
        of FITS files.
    output_dir : str or path, optional
        Write each result to ``output_dir/<input file stem>.fits`` (or
        ``cutout_<index>.fits`` for in-memory inputs), atomically, and return
        the paths instead of the cutouts. An output never replaces an input
        file.
    batch_size : int, optional
        Inputs per partition: read, translated in one network call and written.
    overwrite : bool, optional
        Replace existing output files.
    skip_existing : bool, optional
        Leave inputs whose output file exists (from an earlier, interrupted
        run, or written meanwhile by a concurrent one) untranslated; their
        paths are returned all the same. An existing file is kept only if it
        reads back as a complete output of this model (the model's bands, and
        its ``S2SHASH`` provenance card in every band); anything else under an
        output's name (a text file, a dangling link, another model's output)
        is never replaced, and its input fails as ``on_error`` says, with the
        reason. Without ``skip_existing`` (or ``overwrite``), any existing
        output is refused before any work.
    progress : bool, optional
        Show a progress bar (rate and time left), updated per partition
        (default ``survey2survey.conf.show_progress``).
    scheduler : None, {'synchronous', 'threads'}, dask scheduler, Client or address, optional
        None (default): the pipeline in this process (see Notes). Anything
        else runs tasks of a few partitions on dask: ``'synchronous'`` or
        ``'threads'`` (dask's local schedulers; with ``'threads'`` several
        tasks read FITS at once, and before Python 3.14 warnings raised while
        threads read files can be lost or misrouted), a dask ``get``
        function, a ``dask.distributed.Client``, or a scheduler address such
        as ``'tcp://10.0.0.1:8786'``. ``'processes'`` is refused: it would
        copy the model into every task.
    num_workers : int, optional
        Threads of the ``'threads'`` scheduler (dask's default: the CPU count).
    on_error : {'raise', 'skip'} or callable, optional
        ``'raise'`` (default): the first unreadable or untranslatable input
        raises its specific error, its message naming the input. ``'skip'``:
        such inputs are left out of the result and listed, with their
        reasons, in one `~astropy.utils.exceptions.AstropyUserWarning`. A
        callable is called as ``on_error(index, reason)`` for each of them
        (in input order, after the run) instead of the warning.
    prefetch : int, optional
        Partitions read ahead while the network works on one; 0 runs
        everything in the calling thread, one partition after the other.
    device : str, optional
        Torch device for a model given as a file (default: on a dask worker
        with GPUs, one GPU per worker; otherwise
        ``survey2survey.conf.default_device``).
    **transform_kwargs
        ``uncertainty``, ``n_samples`` and ``resample``, as for ``Survey2Survey.transform``.

    Returns
    -------
    results : list
        The translated cutouts, or the paths of the output files when
        ``output_dir`` is given, in input order (inputs that failed with
        ``on_error='skip'`` or a callable left out).

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``inputs`` is empty or two outputs would share a file name.
    survey2survey.exceptions.InvalidOptionError
        If an option is invalid or an output would replace an input file.
    survey2survey.exceptions.OutputExistsError
        If output files exist and neither ``overwrite`` nor ``skip_existing``
        is given (raised before any work); with ``on_error='raise'``, if
        another process creates an output while this one runs.
    survey2survey.exceptions.Survey2SurveyError
        With ``on_error='raise'``, the error of the first failing input.

    Notes
    -----
    The default pipeline runs the network of one partition in a background
    thread while the calling thread reads and checks the next ``prefetch``
    partitions and builds and writes the outputs of the previous one. Each
    FITS file is parsed once (`~survey2survey.io.read_cutout` and the unit
    conversion) and handed to the network without being checked again.
    Results do not depend on the scheduler: the partitions, hence the network
    batches, are the same.

    Examples
    --------
    >>> from survey2survey import transform_many
    >>> transform_many(None, [], output_dir='out')
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InvalidDataError: inputs is an empty list
    """
    if isinstance(estimator, (bytes, bytearray)):
        msg = (f"a model file must be named by a str or os.PathLike path; got {estimator!r} "
               f"({type(estimator).__name__})")
        raise WeightsFileError(msg)
    items = _inputs.as_list(inputs, "inputs")
    batch_size, prefetch = _check_options(batch_size, scheduler, on_error, prefetch,
                                          transform_kwargs)
    overwrite = check_bool(overwrite, "overwrite")
    skip_existing = check_bool(skip_existing, "skip_existing")
    progress = check_bool(progress, "progress", allow_none=True)
    for key in ("uncertainty", "resample"):
        if key in transform_kwargs:
            transform_kwargs[key] = check_bool(transform_kwargs[key], key)
    if overwrite and skip_existing:
        msg = "overwrite=True and skip_existing=True contradict each other; choose one"
        raise InvalidOptionError(msg)
    paths, existing = _output_paths(items, output_dir, overwrite=overwrite,
                                    skip_existing=skip_existing)
    local = scheduler is None
    if isinstance(estimator, (str, os.PathLike)) and local:
        estimator, _ = _load_model(estimator, device)
    if not isinstance(estimator, (str, os.PathLike)):
        estimator._require_fitted()
        checked = {"uncertainty": False, "n_samples": 16, **transform_kwargs}
        checked.pop("resample", None)
        estimator._translation_stages([], "input", batch_size=None, progress=False,
                                      to_target_grid=False, **checked)
    if paths is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    refused = []
    if existing:  # keep only complete outputs of this model; never replace anything else
        model = estimator if not isinstance(estimator, (str, os.PathLike)) \
            else _load_model(estimator, None)[0]
        existing, problems = _check_existing(paths, existing, model)
        for k, problem in problems:
            msg = (f"output {str(paths[k])!r} exists but is not a complete output of this "
                   f"model: {problem}; not replaced (remove it, or pass overwrite=True)")
            if on_error == "raise":
                raise OutputExistsError(_reason(OutputExistsError(msg), items[k], k))
            refused.append((k, None, _reason(OutputExistsError(msg), items[k], k), None))
    todo = [(k, item, None if paths is None else paths[k]) for k, item in enumerate(items)
            if k not in existing and k not in {row[0] for row in refused}]
    if existing:
        log.info("transform_many: %d of %d output(s) exist already, are complete outputs of "
                 "this model and are skipped (e.g. %s)", len(existing), len(items),
                 str(paths[min(existing)]))
    settings = {"overwrite": overwrite, "skip_existing": skip_existing,
                "on_error": "skip" if callable(on_error) else on_error,
                "options": {"uncertainty": False, "n_samples": 16, **transform_kwargs},
                "batch_size": batch_size, "prefetch": prefetch, "device": device}
    bar = progress_bar(total=len(todo), progress=progress, desc="transform_many",
                       unit="cutout", hide_single=True, dynamic_ncols=True)
    try:
        # Before Python 3.14 catch_warnings is not thread-safe: threads exiting out of order
        # can leave their filters installed. Restore the caller's once every partition is done.
        with warnings.catch_warnings():
            if local:
                runner = _Runner(estimator, overwrite=overwrite,
                                 skip_existing=skip_existing, on_error=settings["on_error"],
                                 options=settings["options"], lock=_lock_for(estimator))
                rows = _run_pipeline(runner, _partitions(todo, batch_size), prefetch=prefetch,
                                     done=bar.update)
            else:
                rows = _run_dask(estimator, todo, settings, scheduler=scheduler,
                                 num_workers=num_workers, bar=bar)
    finally:
        bar.close()
    rows += [(k, paths[k], None, None) for k in existing] + refused
    rows.sort(key=lambda row: row[0])
    failed = [(index, reason) for index, _, reason, _ in rows if reason is not None]
    if failed:
        if callable(on_error):
            for index, reason in failed:
                on_error(index, reason)
        else:
            warnings.warn(f"transform_many skipped {len(failed)} of {len(items)} input(s): "
                          + "; ".join(reason for _, reason in failed), AstropyUserWarning)
    _warn_out_of_range([f for *_, f in rows if f is not None], "input")
    log.info("transform_many: %d translated, %d already present, %d failed",
             len(rows) - len(existing) - len(failed), len(existing), len(failed))
    return [out for _, out, reason, _ in rows if reason is None]
