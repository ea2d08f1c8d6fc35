# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The command line on files as surveys distribute them: per-band frames, compressed, any case."""

import os
import shutil
import subprocess
import sys

import pytest

from survey2survey.cli import EXIT_FAILED, EXIT_OK, main
from survey2survey.datasets import sample_sdss_frames
from survey2survey.exceptions import BandMismatchError, InvalidOptionError
from survey2survey.io import BandGroup, group_band_files, read_cutout, write_cutout

from .conftest import ROOT

MODEL = "sdss-des-aecnn"


def test_group_band_files_by_sdss_name_and_pattern():
    names = ["a/frame-r-002583-2-0136.fits.bz2", "a/frame-g-002583-2-0136.fits.bz2",
             "a/FRAME-I-002583-2-0136.FITS.BZ2", "a/frame-r-002583-2-0137.fits.bz2",
             "b/frame-g-002583-2-0136.fits", "other.fits"]
    items = group_band_files(names)
    assert items[0] == BandGroup({"g": names[1], "r": names[0], "i": names[2]},
                                 "frame-gri-002583-2-0136")
    assert isinstance(items[0], BandGroup) and items[0].stem == "frame-gri-002583-2-0136"
    assert list(items[0]) == ["g", "r", "i"]  # band order, not file order
    assert items[1:] == names[3:]  # one band of a field, another folder, another file
    grouped = group_band_files(["m51_z.fits.gz", "m51_g.fits.gz", "m51.fits"],
                               pattern="*_{band}.fits.gz")
    assert grouped == [BandGroup({"g": "m51_g.fits.gz", "z": "m51_z.fits.gz"}, "m51_gz"),
                       "m51.fits"]
    with pytest.raises(BandMismatchError, match="both band 'g'"):
        group_band_files(["x/frame-g-002583-2-0136.fits", "x/frame-g-002583-2-0136.fits.bz2"])
    with pytest.raises(InvalidOptionError, match="one '{band}' placeholder"):
        group_band_files(names, pattern="*.fits")


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    """The sample SDSS frame files as distributed (.fits.bz2), one with an upper-case name."""
    folder = tmp_path_factory.mktemp("frames")
    for path in sample_sdss_frames():
        name = path.name.upper() if "-i-" in path.name else path.name
        shutil.copy(path, folder / name)
    return folder


def test_transform_groups_sdss_frames_into_one_file(frames_dir, tmp_path):
    """A folder of frame-{band}-... .fits.bz2 files: one translated g, r, i file of the field."""
    out = tmp_path / "out"
    assert main(["transform", MODEL, str(frames_dir), "-o", str(out), "-q"]) == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == ["frame-gri-999999-3-0001.fits"]
    result = read_cutout(out / "frame-gri-999999-3-0001.fits")
    assert result.bands == ("g", "r", "i") and str(result.unit) == "ct"
    before = (out / "frame-gri-999999-3-0001.fits").stat().st_mtime_ns
    glob = str(frames_dir / "frame-*-999999-3-0001.fits.bz2")  # a quoted glob (not the I)
    assert main(["transform", MODEL, glob, str(frames_dir / "FRAME-I-999999-3-0001.FITS.BZ2"),
                 "-o", str(out), "--skip-existing", "-q"]) == EXIT_OK
    assert (out / "frame-gri-999999-3-0001.fits").stat().st_mtime_ns == before  # restartable


def test_transform_group_pattern_and_single_band_hint(tmp_path, capsys):
    """--group '*_{band}.fits' joins per-band cutouts; without it, the hint names --group."""
    frames = read_cutout(sample_sdss_frames())
    folder = tmp_path / "in"
    for band in frames.bands:
        write_cutout(frames.select([band]), folder / f"ngc4414_{band}.fits")
    out = tmp_path / "out"
    assert main(["transform", MODEL, str(folder), "-o", str(out), "--group", "*_{band}.fits",
                 "-q"]) == EXIT_OK
    assert read_cutout(out / "ngc4414_gri.fits").bands == ("g", "r", "i")
    assert main(["transform", MODEL, str(folder / "ngc4414_g.fits"), "-o",
                 str(tmp_path / "single")]) == EXIT_FAILED
    errors = capsys.readouterr().err
    assert "has no band(s) ['r', 'i']" in errors and "--group" in errors
    frame = sample_sdss_frames()[1]
    assert main(["transform", MODEL, str(frame), "-o", str(tmp_path / "frame"),
                 "--no-group"]) == EXIT_FAILED
    errors = capsys.readouterr().err
    assert "holds bands ['r']" in errors and "--group" in errors
    assert "read_cutout([" not in errors  # the Python hint does not apply here


def test_info_describes_files(frames_dir, capsys):
    """survey2survey info FILE: layout, survey, bands, unit, zero point, PSF, WCS, footprint."""
    from survey2survey.io.tests.test_real_headers import MAGPIS, UKIDSS_K

    path = frames_dir / "frame-r-999999-3-0001.fits.bz2"
    assert main(["info", str(path), UKIDSS_K]) == EXIT_OK
    text = capsys.readouterr().out
    assert "layout: sdss-frame; survey: SDSS; bands: r" in text
    assert "unit nmgy, zero point 22.5000 (AB)" in text
    assert "PSF FWHM: no PSF card" in text
    assert "WCS: RA---TAN/DEC--TAN, 0.3960 arcsec/pixel, centre (RA, Dec) = (20.000000" in text
    assert "footprint: 1.320 x 1.320 arcmin" in text
    assert "bands: K" in text and "zero point 28.4496 (AB)" in text and "RA---ZPN" in text
    assert main(["info", MAGPIS]) == EXIT_FAILED
    assert "cannot be read" in capsys.readouterr().out


def test_info_stops_quietly_on_a_closed_pipe(frames_dir):
    """'survey2survey info FILE | head -1': no traceback when the reader goes away."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "survey2survey", "info", str(frames_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.close()  # the reader is gone before the first line is written
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141, stderr  # as a process ended by SIGPIPE (cli.rst)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr


def test_group_by_sky_footprint(tmp_path):
    """--group sky: single-band files of one field, whatever their names, are one input."""
    frames = read_cutout(sample_sdss_frames())
    names = {"g": "blue.fits", "r": "red.fits", "i": "infrared.fits"}
    for band, name in names.items():
        write_cutout(frames.select([band]), tmp_path / name)
    elsewhere = frames.select(["r"]).copy()
    wcs = elsewhere["r"].wcs
    wcs.wcs.crval = wcs.wcs.crval + [1.0, 0.0]  # another field, one degree away
    write_cutout(elsewhere, tmp_path / "other.fits")
    paths = [tmp_path / n for n in ("red.fits", "other.fits", "blue.fits", "infrared.fits")]
    items = group_band_files(paths, pattern="sky")
    assert items[0] == BandGroup({"g": paths[2], "r": paths[0], "i": paths[3]}, "red_gri")
    assert items[0].stem == "red_gri"  # named after the group's first file
    assert items[1:] == [paths[1]]
    out = tmp_path / "out"
    assert main(["transform", MODEL, str(paths[0]), str(paths[2]), str(paths[3]), "-o",
                 str(out), "--group", "sky", "-q"]) == EXIT_OK
    assert read_cutout(out / "red_gri.fits").bands == ("g", "r", "i")
