# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Atomic exclusive writes, the umask of written files and safe file stems."""

import os
import stat

import pytest

from survey2survey.exceptions import InputError, OutputExistsError
from survey2survey.utils._files import atomic_write, check_file_stem, current_umask


def _write(text):
    def write(path):
        with open(path, "w") as handle:
            handle.write(text)
    return write


@pytest.fixture
def umask():
    """Set a umask for one test and restore the previous one after it."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_umask(mask):
        os.umask(mask)
        return mask

    yield set_umask
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077, 0o027])
def test_written_files_respect_the_umask(tmp_path, umask, mask):
    """A published file has the mode any new file gets under the umask, not mkstemp's 0600."""
    umask(mask)
    assert current_umask() == mask
    for overwrite in (False, True):
        path = atomic_write(tmp_path / "out.txt", _write("x"), overwrite=overwrite)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    plain = tmp_path / "plain.txt"
    plain.write_text("y")
    assert stat.S_IMODE(plain.stat().st_mode) == stat.S_IMODE(path.stat().st_mode)


def test_publication_is_exclusive(tmp_path):
    """A file created by someone else while we write is kept, and we are told."""
    path = tmp_path / "out.txt"

    def write_racing(tmp):
        _write("mine")(tmp)
        path.write_text("theirs")  # another process publishes first

    with pytest.raises(OutputExistsError, match="written by another process meanwhile"):
        atomic_write(path, write_racing)
    assert path.read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left
    with pytest.raises(OutputExistsError, match="pass overwrite=True"):
        atomic_write(path, _write("mine"))
    atomic_write(path, _write("mine"), overwrite=True)
    assert path.read_text() == "mine"


def test_a_failed_write_leaves_nothing(tmp_path):
    """If writing fails, neither the final name nor a temporary file is left."""
    def fail(tmp):
        _write("half")(tmp)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(tmp_path / "out.txt", fail)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", "a\\b", "..", ".", "", "C:x",
                                  "nul\0", 3, None])
def test_file_stems_that_leave_their_folder_are_refused(name):
    """Names with separators, '..', drives, NUL or of other types are refused."""
    with pytest.raises(InputError, match="pair name"):
        check_file_stem(name, "pair name")


@pytest.mark.parametrize("name", ["gal_001", "s2_train_000000", "a.b", "..x", "x..",
                                  "name with space"])
def test_plain_file_stems_are_accepted(name):
    """Ordinary names, dots included, are returned unchanged."""
    assert check_file_stem(name, "pair name") == name
