# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from numpy.testing import assert_allclose
from skimage.metrics import structural_similarity

from survey2survey.exceptions import MetricError, ShapeMismatchError
from survey2survey.metrics import mssim, resolve_data_range, ssim_components


def _pair(seed=0, shape=(2, 32, 40)):
    rng = np.random.default_rng(seed)
    a = rng.random(shape)
    b = 0.7 * a + 0.3 * rng.random(shape)
    return a, b


def test_identical_images_are_one():
    """l = c = s = MSSIM = 1 for identical images."""
    a, _ = _pair()
    result = ssim_components(a, a, data_range=1)
    for key in ("l", "c", "s", "mssim"):
        assert_allclose(result[key], 1.0, rtol=1e-12)
    assert result["ssim_map"].shape == a.shape


def test_matches_skimage():
    """MSSIM equals scikit-image's Gaussian-window SSIM to 1e-6, for several data ranges."""
    a, b = _pair(1, (3, 33, 41))
    for data_range in (1.0, 2.5, 255.0):
        ours = mssim(a * data_range, b * data_range, data_range=data_range)
        for k in range(3):
            ref = structural_similarity(a[k] * data_range, b[k] * data_range,
                                        gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=data_range)
            assert_allclose(ours[k], ref, atol=1e-6)


def test_product_of_components_is_ssim():
    """ssim_map = l c s, and 'paper' and 'wang' structure terms agree."""
    a, b = _pair(2)
    paper = ssim_components(a, b, data_range=1, structure_constant="paper")
    wang = ssim_components(a, b, data_range=1, structure_constant="wang")
    assert_allclose(paper["ssim_map"], paper["l_map"] * paper["c_map"] * paper["s_map"])
    assert_allclose(paper["s_map"], wang["s_map"], rtol=1e-10)
    _, full = structural_similarity(a[0], b[0], gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, data_range=1, full=True)
    assert_allclose(paper["ssim_map"][0], full, atol=1e-10)
    explicit = ssim_components(a, b, data_range=1, structure_constant=(0.03**2), maps=False)
    assert np.all(explicit["s"] >= paper["s"] - 1e-12)


def test_negation():
    """An image against its negation: c = 1, s near -1, l follows its formula."""
    rng = np.random.default_rng(3)
    a = rng.normal(5.0, 1.0, (32, 32))
    result = ssim_components(a, -a, data_range=0.01)
    assert_allclose(result["c"], 1.0, rtol=1e-12)
    assert result["s"] < -0.99
    assert result["l"] < -0.99
    assert result["mssim"] > 0.98  # (-1) x 1 x (-1)


def test_single_and_batch_broadcast():
    """One image against a batch broadcasts; single pairs return floats."""
    a, b = _pair(4)
    batch = mssim(a[0], b, data_range=1)
    assert batch.shape == (2,)
    assert isinstance(mssim(a[0], b[1], data_range=1), float)
    assert_allclose(batch[1], mssim(a[0], b[1], data_range=1))


def test_data_range_rules():
    """Float data need data_range; integer dtypes infer it; never 255 silently."""
    a, b = _pair()
    with pytest.raises(MetricError, match="data_range is required"):
        mssim(a, b)
    with pytest.raises(MetricError, match="positive"):
        mssim(a, b, data_range=0)
    x = (a[0] * 255).astype(np.uint8)
    y = (b[0] * 255).astype(np.uint8)
    assert resolve_data_range(None, x, y) == 255.0
    assert_allclose(mssim(x, y), mssim(x.astype(float), y.astype(float), data_range=255))


def test_bad_inputs():
    """Mismatched shapes, NaN pixels and unknown constants raise."""
    a, b = _pair()
    with pytest.raises(ShapeMismatchError, match="same shape"):
        mssim(a, b[:, :30], data_range=1)
    bad = a.copy()
    bad[0, 3, 3] = np.nan
    with pytest.raises(MetricError, match="non-finite"):
        mssim(bad, b, data_range=1)
    with pytest.raises(MetricError, match="structure_constant"):
        ssim_components(a, b, data_range=1, structure_constant="other")
    assert np.isnan(bad[0, 3, 3]) and np.isfinite(a[0, 3, 3])


def test_images_smaller_than_the_window_are_refused():
    """Images under 11x11 pixels have no SSIM window inside them: MetricError, not a number."""
    from survey2survey.exceptions import MetricError

    tiny = np.random.default_rng(0).random((10, 40))
    with pytest.raises(MetricError, match="at least 11x11"):
        mssim(tiny, tiny, data_range=1)
    assert mssim(np.ones((11, 11)), np.ones((11, 11)), data_range=1) == pytest.approx(1.0)
