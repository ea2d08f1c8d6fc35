# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""bf16 inference stays within the 1e-3 aperture-flux budget of fp32 (shipped models)."""

import numpy as np
import pytest

from survey2survey import Survey2Survey
from survey2survey.datasets import make_survey_pairs
from survey2survey.metrics import aperture_flux
from survey2survey.surveys import SDSS


@pytest.fixture(scope="module")
def heldout():
    """Four held-out simulated SDSS cutouts (seed of the precision benchmark)."""
    pairs = make_survey_pairs(4, seed=910001, target_grid="source", processes=1,
                              progress=False)
    return list(pairs.sources)


@pytest.mark.parametrize("name", ["sdss-des-aecnn", "sdss-des"])
def test_bf16_fluxes_within_budget(name, heldout):
    """1", 2" and 8" aperture fluxes (band sum) in bf16 move by less than 1e-3 from fp32."""
    model = Survey2Survey.from_pretrained(name)
    fp32, bf16 = ([o.data.sum(axis=0) for o in model.transform(heldout, precision=p,
                                                                progress=False)]
                  for p in ("fp32", "bf16"))
    pixel = SDSS.pixel_scale.to_value("arcsec / pix")
    for arcsec in (1.0, 2.0, 8.0):
        ref = aperture_flux(np.stack(fp32), r_max=arcsec / pixel)
        low = aperture_flux(np.stack(bf16), r_max=arcsec / pixel)
        assert np.max(np.abs(low / ref - 1)) < 1e-3, arcsec
