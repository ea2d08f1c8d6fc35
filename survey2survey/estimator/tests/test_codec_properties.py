# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Property tests of the flux encoding (`FluxCodec`, `PaperCodec`): encode/decode
round trips, the JSON round trip of a fitted codec, linearity of the encoding and
flux conservation through the output head, over random bands, noise levels,
flux scales and image sizes.
"""

import json

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from survey2survey.estimator._codec import FluxCodec, PaperCodec, codec_from_dict
from survey2survey.surveys import DES, SDSS

pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None, database=None)


@st.composite
def fitted_codecs(draw):
    """A FluxCodec (SDSS -> DES or back) fitted on random noisy images of random scale."""
    bands = draw(st.sampled_from(["r", "gr", "gri", "ri"]))
    source, target = draw(st.sampled_from([(SDSS, DES), (DES, SDSS)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    n, size = draw(st.integers(2, 5)), draw(st.integers(8, 24))
    shape = (n, len(bands), size, size)
    sigma = 10.0 ** draw(st.floats(-3, 2))  # source noise, in the source unit
    tau = 10.0 ** draw(st.floats(-3, 2))
    source_flux = rng.normal(0, sigma, shape)
    source_flux[:, :, size // 2, size // 2] += 50 * sigma  # a source in each image
    target_flux = rng.normal(0, tau, shape)
    mask = np.zeros(shape, bool)
    codec = FluxCodec(source, target, tuple(bands)).fit(source_flux, mask, target_flux, mask)
    return codec, rng, shape


@SETTINGS
@given(fitted_codecs(), st.floats(-3, 6))
def test_target_encode_decode_round_trip(fitted, log_scale):
    """decode(encode_target(y)) == y to float32 precision, for fluxes of any scale."""
    codec, rng, shape = fitted
    flux = rng.normal(0, 10.0 ** log_scale, shape)
    encoded = codec.encode_target(flux)
    assert encoded.dtype == np.float32 and encoded.shape == shape
    assert_allclose(codec.decode(encoded), flux, rtol=2e-7, atol=0)
    assert_allclose(codec.decode(encoded[0]), flux[0], rtol=2e-7, atol=0)  # one image


@SETTINGS  # (factors near 1e-40 would test float32 subnormals, not the codec)
@given(fitted_codecs(), st.one_of(st.just(0.0), st.floats(1e-3, 10), st.floats(-10, -1e-3)))
def test_source_encoding_is_linear_and_ranged(fitted, factor):
    """encode_source(a x) = a encode_source(x); out_of_range flags exactly what leaves [lo, hi]."""
    codec, rng, shape = fitted
    flux = rng.normal(0, 1, shape) * codec.sigma[:, None, None]
    encoded = codec.encode_source(flux)
    assert encoded.dtype == np.float32 and encoded.shape == shape
    assert_allclose(codec.encode_source(factor * flux), factor * encoded, rtol=1e-6,
                    atol=1e-6 * abs(factor))
    assert_allclose(encoded.astype(float) * codec.sigma[:, None, None], flux, rtol=2e-7)
    scaled = codec.encode_source(factor * flux)
    outside = codec.out_of_range(scaled[0])
    expected = ((scaled[0] < codec.lo[:, None, None]) | (scaled[0] > codec.hi[:, None, None]))
    assert_array_equal(outside, expected)
    assert not codec.out_of_range(np.zeros(shape[1:], np.float32)).any()  # 0 is in range


@SETTINGS
@given(fitted_codecs())
def test_fitted_codec_json_round_trip(fitted):
    """A fitted codec written to JSON and read back encodes and decodes identically."""
    codec, rng, shape = fitted
    state = json.loads(json.dumps(codec.to_dict()))
    again = codec_from_dict(state, source=codec.source, target=codec.target, bands=codec.bands)
    assert again.to_dict() == codec.to_dict()
    flux = rng.normal(0, 1, shape)
    assert_array_equal(again.encode_source(flux), codec.encode_source(flux))
    assert_array_equal(again.encode_target(flux), codec.encode_target(flux))
    assert_array_equal(again.decode(flux), codec.decode(flux))
    assert_array_equal(again.out_of_range(flux[0]), codec.out_of_range(flux[0]))


@SETTINGS
@given(fitted_codecs(), st.floats(0, 5))
def test_head_then_decode_conserves_flux(fitted, strength):
    """Whatever the network outputs, the decoded image holds the input's flux (target unit)."""
    codec, rng, shape = fitted
    flux = np.abs(rng.normal(0, 1, shape)) * 10 * codec.sigma[:, None, None]
    encoded = torch.from_numpy(codec.encode_source(flux))
    raw = torch.from_numpy(rng.normal(0, strength, (shape[0], 2 * shape[1]) + shape[2:]))
    decoded = codec.decode(codec.head()(raw.float(), encoded).numpy())
    expected = (flux * codec.factor[:, None, None]).sum(axis=(-2, -1))
    assert_allclose(decoded.sum(axis=(-2, -1)), expected, rtol=1e-4)
    nothing = codec.decode(codec.head()(torch.zeros_like(raw).float(), encoded).numpy())
    assert_allclose(nothing, flux * codec.factor[:, None, None], rtol=1e-5,
                    atol=1e-6 * np.abs(flux * codec.factor[:, None, None]).max())


@SETTINGS
@given(st.integers(0, 255), st.integers(1, 16), st.floats(0.5, 50), st.floats(1, 20))
def test_paper_codec_8bit_round_trip(level, size, stretch, q):
    """8-bit levels survive decode(level / 255); composites encode into [0, 1] floats."""
    codec = PaperCodec(SDSS, DES, ("g", "r", "i"), stretch, q)
    values = np.full((3, size, size), level / 255.0, dtype=np.float32)
    assert_array_equal(np.round(codec.decode(values)), level)
    band, _, _ = codec.output_band("r", codec.decode(values)[1])
    assert band.dtype == np.uint8 and np.all(band == level)
    rng = np.random.default_rng(level)
    flux = np.abs(rng.normal(0, 10, (3, 16, 16)))
    encoded = codec.encode_target(flux)
    assert encoded.dtype == np.float32 and encoded.min() >= 0 and encoded.max() <= 1
    state = json.loads(json.dumps(codec.to_dict()))
    again = codec_from_dict(state, source=SDSS, target=DES, bands=("g", "r", "i"))
    assert_array_equal(again.encode_target(flux), encoded)
