# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Property tests of the one validation module: strict booleans and paths (#21)."""

import os

import numpy as np
import pytest

from survey2survey.exceptions import InputError, InvalidOptionError
from survey2survey.utils._files import atomic_write, temporary_prefix
from survey2survey.utils._validation import (
    check_bool,
    check_not_an_input,
    check_path,
    check_regular_file,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NOT_BOOLEANS = st.one_of(st.text(), st.binary(), st.integers(), st.floats(allow_nan=True),
                         st.none(), st.lists(st.booleans(), max_size=2))


@settings(max_examples=40, deadline=None)
@given(NOT_BOOLEANS)
def test_only_booleans_are_booleans(value):
    """Every non-boolean (strings such as 'False' and 'no', 0, 1, None) is refused."""
    with pytest.raises(InvalidOptionError, match="overwrite must be True or False"):
        check_bool(value, "overwrite")


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_booleans_pass(value):
    assert check_bool(value, "overwrite") is bool(value)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(), st.integers(), st.floats(), st.just(""), st.none()))
def test_paths_are_str_or_pathlike(value):
    """Bytes, numbers, None and the empty string are not file paths."""
    with pytest.raises(InvalidOptionError, match="output must be a file path"):
        check_path(value, "output")


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                      blacklist_characters="/\\"),
               min_size=1, max_size=120))
def test_temporary_names_fit_any_legal_name(stem):
    """The temporary name of any final name of <= 255 bytes is <= 255 bytes too."""
    name = stem
    while len(os.fsencode(name + "x")) <= 255:
        name += "x"
    if name in (".", ".."):
        return
    prefix = temporary_prefix(name)
    assert len(os.fsencode(prefix)) + 8 + len(".tmp") <= 255
    assert prefix.startswith(".")


def test_atomic_write_of_a_255_byte_name(tmp_path):
    """A 255-byte name, the usual limit, is written through its temporary name."""
    path = tmp_path / ("é" * 124 + "xx.fits")  # 2 bytes per é: 255 bytes
    assert len(os.fsencode(path.name)) == 255
    atomic_write(path, lambda tmp: open(tmp, "wb").close())
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_special_files_and_same_files(tmp_path):
    """FIFOs and folders are not regular files; an output is never its input."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO"):
        check_regular_file(fifo, "input")
    with pytest.raises(InputError, match="is a directory"):
        check_regular_file(tmp_path, "input")
    source = tmp_path / "in.fits"
    source.write_bytes(b"x")
    os.link(source, tmp_path / "hard.fits")
    for output in (source, tmp_path / "." / "in.fits", tmp_path / "hard.fits"):
        with pytest.raises(InvalidOptionError, match="never replaces its input"):
            check_not_an_input(output, [str(source)])
    check_not_an_input(tmp_path / "out.fits", [source, 3])
