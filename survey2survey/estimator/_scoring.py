# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Per-pair scores of translations beside the untranslated source ("do nothing")."""

import numpy as np

from ..metrics import aperture_flux, mssim

__all__ = ["score_rows"]


def _flux(image, radius):
    return aperture_flux(np.nan_to_num(image).sum(axis=0), r_max=radius)


def score_rows(sources, targets, translated, *, codec, indices, truths=None, r_max=None):
    """
    One dict of scores per pair: the translation and the source against the target (and truth).

    Parameters
    ----------
    sources, targets, translated : list of `~survey2survey.io.Cutout`
        Source cutouts (source unit), targets on the source grids (target
        unit) and translations (output values).
    codec
        The estimator's codec (analysis layer, data range, mode).
    indices : list of int
        Each pair's position in the caller's input.
    truths : list of `~survey2survey.io.Cutout`, optional
        Noise-free targets on the source grids.
    r_max : float, optional
        Aperture radius in pixels (default: 0.4 of the smaller image side).

    Returns
    -------
    rows : list of dict
        ``index``, ``mssim``, ``mssim_baseline``, ``mse``, ``mse_baseline``; in
        flux mode also ``flux_error`` and ``flux_error_baseline`` (relative,
        band sum, against the target) and, with truths, ``flux_error_truth``
        and ``flux_error_truth_baseline``.
    """
    factors = np.array([codec.source.flux_conversion(b, codec.target) for b in codec.bands])
    rows = []
    for k, (src, tgt, out) in enumerate(zip(sources, targets, translated, strict=True)):
        baseline = src.data * factors[:, None, None]
        layers = [codec.analysis_layer(out.data, codec.target, translated=True),
                  codec.analysis_layer(tgt.data, codec.target),
                  codec.analysis_layer(baseline, codec.target)]
        row = {"index": indices[k],
               "mssim": float(mssim(layers[0], layers[1], data_range=codec.data_range)),
               "mssim_baseline": float(mssim(layers[2], layers[1], data_range=codec.data_range)),
               "mse": float(np.mean((layers[0] - layers[1]) ** 2)),
               "mse_baseline": float(np.mean((layers[2] - layers[1]) ** 2))}
        if codec.mode == "flux":
            radius = r_max if r_max is not None else 0.4 * min(out.shape)
            recon, base = _flux(out.data, radius), _flux(baseline, radius)
            target_flux = _flux(tgt.data, radius)
            row["flux_error"] = recon / target_flux - 1
            row["flux_error_baseline"] = base / target_flux - 1
            if truths is not None:
                true_flux = _flux(truths[k].data, radius)
                row["flux_error_truth"] = recon / true_flux - 1
                row["flux_error_truth_baseline"] = base / true_flux - 1
        rows.append(row)
    return rows
