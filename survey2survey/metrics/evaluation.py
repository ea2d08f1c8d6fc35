# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The evaluation report of the paper (Sec. 4): every metric on every image of
every image set (SDSS, DES, reconstructions ...) and image pair (recon/DES,
recon/SDSS, DES/SDSS, AECNN/CycleGAN ...), per dataset (validation, external),
as astropy Tables with a median / 16th / 84th percentile summary.
"""

import itertools
from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from ..exceptions import MetricError, ShapeMismatchError
from ._inputs import as_stack
from .photometry import pseudo_flux_magnitude, radial_profile, signal_to_noise
from .ssim import resolve_data_range, ssim_components
from .truth import flux_error, magnitude_error, residual_rms, truth_signal_to_noise

__all__ = ["evaluate", "EvaluationReport", "IMAGE_METRICS", "PAIR_METRICS", "summarize"]

#: Columns of `EvaluationReport.images`, one row per image and set.
IMAGE_METRICS = ("pseudo_flux_magnitude", "signal_to_noise", "flux_error", "magnitude_error",
                 "residual_rms", "truth_snr", "snr_gain")
#: Columns of `EvaluationReport.pairs`, one row per image and pair of sets.
PAIR_METRICS = ("l", "c", "s", "mssim")

_BATCH = 256


class EvaluationReport:
    """
    The result of `evaluate`.

    Attributes
    ----------
    images : `~astropy.table.Table`
        One row per dataset, image and set: ``dataset``, ``name``, ``set`` and the
        ``IMAGE_METRICS`` (NaN where a score does not apply, e.g. truth-based scores
        of a set without truth).
    pairs : `~astropy.table.Table`
        One row per dataset, image and pair: ``dataset``, ``name``, ``pair``
        (``'a/b'``) and the ``PAIR_METRICS``.
    summary : `~astropy.table.Table`
        One row per dataset, set or pair, and metric with finite values: ``n``
        finite values, their ``median``, ``p16`` and ``p84``.
    radius : `~numpy.ndarray`
        Radii (bin centres, pix) of the profiles.
    profiles : dict
        ``{dataset: {set: (N, n_radii) array}}`` pseudo-luminosity profiles (Eq. 8).
    """

    def __init__(self, images, pairs, summary, radius, profiles):
        self.images = images
        self.pairs = pairs
        self.summary = summary
        self.radius = radius
        self.profiles = profiles

    def __repr__(self):
        return (f"<EvaluationReport datasets={sorted(set(map(str, self.images['dataset'])))} "
                f"images={len(self.images)} rows pairs={len(self.pairs)} rows>")

    def write(self, directory, *, overwrite=False):
        """
        Write ``images.ecsv``, ``pairs.ecsv``, ``summary.ecsv`` and ``profiles.ecsv``.

        Each file is written atomically and exclusively.

        Returns
        -------
        paths : list of `~pathlib.Path`
        """
        from ..utils._files import atomic_write
        from ..utils._validation import check_bool, check_path

        overwrite = check_bool(overwrite, "overwrite")
        directory = check_path(directory, "directory")
        profile_rows = []
        for dataset, sets in self.profiles.items():
            for name, values in sets.items():
                median = np.nanmedian(values, axis=0) if len(values) else values
                profile_rows.append((dataset, name, median))
        profiles = Table(rows=profile_rows or None,
                         names=("dataset", "set", "median_profile") if profile_rows else None)
        profiles.meta["radius"] = [float(r) for r in self.radius]
        paths = []
        for stem, table in (("images", self.images), ("pairs", self.pairs),
                            ("summary", self.summary), ("profiles", profiles)):
            path = directory / f"{stem}.ecsv"
            atomic_write(path,
                         lambda tmp, t=table: t.write(tmp, format="ascii.ecsv", overwrite=True),
                         overwrite=overwrite)
            paths.append(path)
        return paths


def _as_datasets(datasets):
    if not isinstance(datasets, Mapping) or not datasets:
        msg = ("datasets must be a non-empty mapping {dataset: {set: images}} "
               f"(or {{set: images}}), got {type(datasets).__name__}")
        raise MetricError(msg)
    if not all(isinstance(v, Mapping) for v in datasets.values()):
        if any(isinstance(v, Mapping) for v in datasets.values()):
            msg = "datasets mixes image sets and datasets; give {dataset: {set: images}}"
            raise MetricError(msg)
        datasets = {"data": datasets}
    return {str(k): {str(s): v for s, v in sets.items()} for k, sets in datasets.items()}


def _default_truth(set_names):
    truth = {}
    if "source_truth" in set_names and "source" in set_names:
        truth["source"] = "source_truth"
    if "target_truth" in set_names:
        for name in set_names:
            if name != "source" and not name.endswith("_truth"):
                truth[name] = "target_truth"
    return truth


def _parse_pair(pair):
    if isinstance(pair, str):
        parts = pair.split("/")
    else:
        parts = list(pair)
    if len(parts) != 2 or not all(parts):
        msg = f"a pair must be 'a/b' or (a, b), got {pair!r}"
        raise MetricError(msg)
    return str(parts[0]), str(parts[1])


def _default_pairs(names, reference):
    order = list(names)
    if reference in order:
        order.remove(reference)
        order.insert(0, reference)
    return [(b, a) for a, b in itertools.combinations(order, 2)]


def _chunks(n, size=_BATCH):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _pair_range(data_range, x, y, raw):
    """Per-image data range: a number, dtype-inferred, or 'joint' (per pair max - min)."""
    if isinstance(data_range, str):
        if data_range != "joint":
            msg = f"data_range must be a number, None or 'joint', got {data_range!r}"
            raise MetricError(msg)
        both = np.concatenate([x.reshape(len(x), -1), y.reshape(len(y), -1)], axis=1)
        rng = np.nanmax(both, axis=1) - np.nanmin(both, axis=1)
        return np.where(rng > 0, rng, 1.0)
    return np.full(len(x), resolve_data_range(data_range, *raw))


def summarize(table, *, by, metrics):
    """
    Median, 16th and 84th percentile of each metric per dataset and group.

    Parameters
    ----------
    table : `~astropy.table.Table`
        With a ``dataset`` column, the ``by`` column and the metric columns.
    by : str
        Group column (``'set'`` or ``'pair'``).
    metrics : sequence of str
        Metric columns; non-finite values are ignored.

    Returns
    -------
    summary : `~astropy.table.Table`
        Columns ``dataset``, ``subject``, ``metric``, ``n``, ``median``, ``p16``, ``p84``;
        the statistics are shown with 4 significant digits (their column format) and
        kept in full precision.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from survey2survey.metrics import summarize
    >>> t = Table({'dataset': ['v'] * 3, 'set': ['a'] * 3, 'x': [1.0, 2.0, 3.0]})
    >>> float(summarize(t, by='set', metrics=['x'])['median'][0])
    2.0
    """
    rows = []
    if len(table):
        keys = list(dict.fromkeys(zip(table["dataset"], table[by], strict=True)))
        for dataset, subject in keys:
            sel = (table["dataset"] == dataset) & (table[by] == subject)
            for metric in metrics:
                values = np.asarray(table[metric][sel], dtype=float)
                values = values[np.isfinite(values)]
                if not values.size:
                    continue
                p16, med, p84 = np.percentile(values, [16, 50, 84])
                rows.append((dataset, subject, metric, values.size, med, p16, p84))
    names = ("dataset", "subject", "metric", "n", "median", "p16", "p84")
    dtypes = ("U32", "U64", "U32", int, float, float, float)
    summary = Table(rows=rows or None, names=names, dtype=dtypes)
    for name in ("median", "p16", "p84"):  # printed with 4 significant digits; stored in full
        summary[name].info.format = ".4g"
    return summary


def evaluate(datasets, *, pairs=None, truth=None, reference="target", gain_reference="source",
             names=None, r_max=75, center=None, zero_point=30, data_range=None,
             structure_constant="paper", profiles=True):
    """
    Every metric of the paper on every image set and pair of sets, per dataset.

    Parameters
    ----------
    datasets : mapping
        ``{dataset: {set: images}}`` (e.g. ``{'validation': {...}, 'external': {...}}``)
        or one ``{set: images}``. ``images`` is anything a metric accepts (an
        ``(N, ny, nx)`` array, a list of Cutouts ...); the sets of one dataset
        hold the same N images in the same order, on one pixel grid and flux scale.
        Sets named ``*_truth`` are noise-free truths (see ``truth``).
    pairs : sequence of str or (str, str), optional
        Pairs ``'a/b'`` to compare with SSIM; pairs whose sets a dataset lacks are
        skipped there. Default: every pair of non-truth sets, ``reference`` second.
    truth : mapping, optional
        ``{set: truth_set}`` for the truth-based scores. Default: ``source`` ->
        ``source_truth`` and every other set -> ``target_truth`` when present.
    reference : str, optional
        The set named second in the default pairs (default ``'target'``, e.g. DES).
    gain_reference : str, optional
        The set whose truth-based S/N divides every other set's in ``snr_gain``.
    names : mapping, optional
        ``{dataset: sequence of N image names}`` (default: ``'0'``, ``'1'`` ...).
    r_max : float, optional
        Aperture / profile radius in pixels (paper: 75).
    center : (x, y), optional
        Aperture centre (default: the image centre).
    zero_point : float, optional
        Zero point of the pseudo-flux magnitude (paper: 30).
    data_range : float, None or 'joint', optional
        SSIM data range: a number (e.g. 1 or 255), `None` to infer it from an
        integer dtype (required otherwise), or ``'joint'`` for the range of the two
        images of each pair (for calibrated float images with no fixed range).
    structure_constant : {'paper', 'wang'} or float, optional
        See `~survey2survey.metrics.ssim_components`.
    profiles : bool, optional
        Also compute the radial profiles (default True).

    Returns
    -------
    report : `EvaluationReport`

    Raises
    ------
    survey2survey.exceptions.ShapeMismatchError
        If the sets of a dataset differ in number or shape of images.
    survey2survey.exceptions.MetricError
        On a bad pair or truth specification, or a missing data range.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.metrics import evaluate
    >>> rng = np.random.default_rng(0)
    >>> truth = np.exp(-np.hypot(*np.mgrid[-16:16, -16:16]) / 4)[None].repeat(3, 0)
    >>> sets = {'source': truth + rng.normal(0, 0.05, truth.shape),
    ...         'target': truth + rng.normal(0, 0.01, truth.shape),
    ...         'source_truth': truth, 'target_truth': truth}
    >>> report = evaluate({'validation': sets}, r_max=15, data_range=1)
    >>> str(report.pairs['pair'][0])
    'source/target'
    >>> sorted(set(map(str, report.summary['subject'])))
    ['source', 'source/target', 'source_truth', 'target', 'target_truth']
    """
    datasets = _as_datasets(datasets)
    pair_specs = None if pairs is None else [_parse_pair(p) for p in pairs]
    image_rows, pair_rows, all_profiles, radius = [], [], {}, np.array([])
    for dataset, sets in datasets.items():
        stacks = {}
        raw = {}
        for set_name, images in sets.items():
            stacks[set_name], _ = as_stack(images, what=f"{dataset}/{set_name}")
            raw[set_name] = images
        counts = {k: len(v) for k, v in stacks.items()}
        shapes = {k: v.shape[1:] for k, v in stacks.items()}
        if len(set(counts.values())) != 1 or len(set(shapes.values())) != 1:
            msg = (f"the sets of dataset {dataset!r} must hold the same number of images "
                   f"of one shape; got counts {counts} and shapes {shapes}")
            raise ShapeMismatchError(msg)
        n = next(iter(counts.values()))
        image_names = [str(k) for k in range(n)]
        if names is not None and dataset in names:
            image_names = [str(x) for x in names[dataset]]
            if len(image_names) != n:
                msg = f"names[{dataset!r}] has {len(image_names)} names for {n} images"
                raise MetricError(msg)
        truth_map = _default_truth(stacks) if truth is None else dict(truth)
        for set_name, truth_name in truth_map.items():
            if set_name in stacks and truth_name not in stacks and truth is not None:
                msg = f"truth set {truth_name!r} of {set_name!r} is not in dataset {dataset!r}"
                raise MetricError(msg)
        truth_sets = {name for name in stacks if name.endswith("_truth")}
        truth_sets |= {t for t in truth_map.values() if t in stacks}

        kw = {"r_max": r_max, "center": center}
        truth_snr = {}
        columns = {}
        for set_name, stack in stacks.items():
            col = {"pseudo_flux_magnitude": pseudo_flux_magnitude(stack, zero_point=zero_point,
                                                                  **kw),
                   "signal_to_noise": signal_to_noise(stack, **kw)}
            t_name = truth_map.get(set_name)
            if t_name in stacks and set_name not in truth_sets:
                t = stacks[t_name]
                col["flux_error"] = flux_error(stack, t, **kw)
                col["magnitude_error"] = magnitude_error(stack, t, **kw)
                col["residual_rms"] = residual_rms(stack, t, **kw)
                col["truth_snr"] = truth_snr[set_name] = truth_signal_to_noise(stack, t, **kw)
            columns[set_name] = col
        for set_name, col in columns.items():
            if set_name in truth_snr and gain_reference in truth_snr:
                with np.errstate(divide="ignore", invalid="ignore"):
                    col["snr_gain"] = truth_snr[set_name] / truth_snr[gain_reference]
            for k in range(n):
                image_rows.append((dataset, image_names[k], set_name)
                                  + tuple(float(col[m][k]) if m in col else np.nan
                                          for m in IMAGE_METRICS))
        if profiles:
            all_profiles[dataset] = {}
            for set_name, stack in stacks.items():
                result = radial_profile(stack, **kw)
                radius = result.radius
                all_profiles[dataset][set_name] = result.profile

        plain = [s for s in stacks if s not in truth_sets]
        specs = _default_pairs(plain, reference) if pair_specs is None else pair_specs
        for a, b in specs:
            if a not in stacks or b not in stacks:
                continue
            x, y = stacks[a], stacks[b]
            ranges = _pair_range(data_range, x, y, [raw[a], raw[b]]
                                 if all(isinstance(raw[s], np.ndarray) for s in (a, b))
                                 else [x, y])
            values = {m: np.empty(n) for m in PAIR_METRICS}
            for chunk in _chunks(n):
                for value_range in np.unique(ranges[chunk]):
                    sel = np.flatnonzero(ranges[chunk] == value_range) + chunk.start
                    result = ssim_components(x[sel], y[sel], data_range=value_range,
                                             structure_constant=structure_constant,
                                             maps=False)
                    for m in PAIR_METRICS:
                        values[m][sel] = result[m]
            for k in range(n):
                pair_rows.append((dataset, image_names[k], f"{a}/{b}")
                                 + tuple(float(values[m][k]) for m in PAIR_METRICS))

    images = Table(rows=image_rows or None, names=("dataset", "name", "set") + IMAGE_METRICS,
                   dtype=("U32", "U128", "U64") + (float,) * len(IMAGE_METRICS))
    pairs_table = Table(rows=pair_rows or None, names=("dataset", "name", "pair") + PAIR_METRICS,
                        dtype=("U32", "U128", "U64") + (float,) * len(PAIR_METRICS))
    summary = summarize(images, by="set", metrics=IMAGE_METRICS)
    summary = _vstack(summary, summarize(pairs_table, by="pair", metrics=PAIR_METRICS))
    return EvaluationReport(images, pairs_table, summary, radius, all_profiles)


def _vstack(a, b):
    from astropy.table import vstack

    return vstack([a, b]) if len(b) else a
