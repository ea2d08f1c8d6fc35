# Licensed under a 3-clause BSD style license - see LICENSE.rst
import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS
from matplotlib.figure import Figure
from numpy.testing import assert_allclose

from survey2survey.exceptions import (
    BandMismatchError,
    InvalidOptionError,
    MetricError,
    ShapeMismatchError,
)
from survey2survey.io import Cutout
from survey2survey.visualization import (
    lupton_rgb,
    plot_comparison_grid,
    plot_kde,
    plot_metric_kde,
    plot_radial_profiles,
    plot_rgb,
    signed_power_stretch,
)


def _wcs():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-1e-4, 1e-4]
    return wcs


def _render(figure, path):
    figure.savefig(path, format="png")
    assert path.stat().st_size > 1000


def test_metric_kde_renders(tmp_path):
    """KDE panels draw one curve per set and dataset, and save with Agg."""
    rng = np.random.default_rng(0)
    table = Table({"dataset": ["validation"] * 30 + ["external"] * 30,
                   "set": ["SDSS", "DES", "AECNN"] * 20, "mssim": rng.random(60)})
    figure = Figure()
    ax = plot_metric_kde(table, "mssim", ax=figure.add_subplot())
    assert len(ax.lines) == 6
    assert ax.lines[3].get_linestyle() == "--"
    _render(figure, tmp_path / "kde.png")
    with pytest.raises(MetricError, match="no metric column"):
        plot_metric_kde(table, "ssim")


def test_kde_degenerate_and_empty():
    """A constant sample is a vertical line; no finite values raises."""
    ax = plot_kde({"flat": [1.0, 1.0, 1.0], "ok": [0.0, 1.0, 2.0, np.nan]})
    assert len(ax.lines) == 2
    with pytest.raises(MetricError, match="no finite"):
        plot_kde({"bad": [np.nan, np.inf]})


def test_radial_profiles_render(tmp_path):
    """Profile panels draw medians with bands; mismatched radii raise."""
    r = np.arange(20) + 0.5
    profiles = {"DES": np.exp(-r / 4)[None] * np.linspace(1, 2, 5)[:, None],
                "SDSS": np.exp(-r / 5)[None].repeat(3, 0) - 0.01}
    figure = Figure()
    ax = plot_radial_profiles(r, profiles, ax=figure.add_subplot(), title="validation")
    assert len(ax.lines) == 2
    _render(figure, tmp_path / "profiles.png")
    with pytest.raises(MetricError, match="radii"):
        plot_radial_profiles(r[:5], profiles)
    # a set keeps its colour in a panel without the others
    ax = plot_radial_profiles(r, {"SDSS": profiles["SDSS"]}, ax=Figure().add_subplot(),
                              colors={"DES": "C0", "SDSS": "C3"})
    assert ax.lines[0].get_color() == "C3"


def test_comparison_grid(tmp_path):
    """Fig 3 layout with a target, Fig 4 layout without; shapes must agree."""
    rng = np.random.default_rng(1)
    sdss = rng.random((6, 24, 24))
    before = sdss.copy()
    recs = {"AECNN": 2 * sdss, "CycleGAN": 2.2 * sdss}
    fig3 = plot_comparison_grid(sdss, recs, target=2.1 * sdss, n_columns=4)
    assert len(fig3.axes) == 8 * 4
    _render(fig3, tmp_path / "grid.png")
    fig4 = plot_comparison_grid(sdss, recs, n_columns=3)
    assert len(fig4.axes) == 5 * 3
    np.testing.assert_array_equal(sdss, before)
    with pytest.raises(ShapeMismatchError, match="shape"):
        plot_comparison_grid(sdss, {"AECNN": sdss[:, :20]})


def test_comparison_grid_stretch_scale():
    """stretch_scale is the paper's (P / 255)^gamma: one fixed scale for the difference rows."""
    rng = np.random.default_rng(2)
    sdss = rng.random((2, 16, 16))
    des, aecnn = 2.1 * sdss, 2 * sdss
    fig = plot_comparison_grid(sdss, {"AECNN": aecnn}, target=des, n_columns=2,
                               stretch_scale=255.0)
    residual = fig.axes[3 * 2].images[0].get_array()  # row 4: AECNN - DES, gamma 0.3
    gain = fig.axes[4 * 2 + 1].images[0].get_array()  # row 5: AECNN - SDSS, gamma 0.5
    d = aecnn - des
    assert_allclose(residual, np.sign(d[0]) * (np.abs(d[0]) / 255) ** 0.3)
    assert_allclose(gain, ((aecnn - sdss)[1] / 255) ** 0.5)
    default = plot_comparison_grid(sdss, {"AECNN": aecnn}, target=des, n_columns=2)
    row = [np.abs(ax.images[0].get_array()).max() for ax in default.axes[6:8]]
    assert_allclose(max(row), 1.0)  # each row's largest |difference| by default
    for bad in (0, -1.0, "255"):
        with pytest.raises(InvalidOptionError, match="stretch_scale"):
            plot_comparison_grid(sdss, {"AECNN": aecnn}, stretch_scale=bad)


def test_signed_power_stretch():
    """The stretch maps |d| / max to its gamma power and keeps the sign."""
    d = np.array([-8.0, -1.0, 0.0, 2.0])
    assert_allclose(signed_power_stretch(d, gamma=0.3), np.sign(d) * (np.abs(d) / 8) ** 0.3)
    assert_allclose(signed_power_stretch(d, gamma=0.5, scale=2.0), [-1, -np.sqrt(0.5), 0, 1])


def test_lupton_rgb(tmp_path):
    """Lupton RGB puts the reddest band in red; needs three bands."""
    data = np.zeros((3, 16, 16))
    data[2] = 1.0  # i band only
    cutout = Cutout.from_arrays(data, _wcs(), "gri")
    rgb = lupton_rgb(cutout, stretch=1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (16, 16, 3)
    assert rgb[..., 0].mean() > 0 and rgb[..., 2].max() == 0
    ax = plot_rgb(cutout, title="gri")
    _render(ax.figure, tmp_path / "rgb.png")
    with pytest.raises(BandMismatchError, match="three bands"):
        lupton_rgb(cutout.select("gr"))
    with pytest.raises(BandMismatchError, match="no band"):
        lupton_rgb(cutout, bands="izy")


def test_lupton_rgb_of_dark_pixels_warns_nothing():
    """Zero-intensity pixels (empty sky) give black, without astropy's divide warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rgb = lupton_rgb(np.zeros((3, 8, 8)), stretch=0.5)
    assert rgb.shape == (8, 8, 3) and not rgb.any()
