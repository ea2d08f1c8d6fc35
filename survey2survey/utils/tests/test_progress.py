# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The progress bar: shown on a terminal, quiet in a log unless asked for."""

import io

from survey2survey import conf
from survey2survey.utils import _progress
from survey2survey.utils._progress import progress_bar


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _drawn(stream, **kwargs):
    with conf.set_temp("show_progress", True):
        for _ in progress_bar(range(5), file=stream, desc="work", **kwargs):
            pass
    return stream.getvalue()


def test_bar_off_a_terminal_is_quiet_by_default():
    """Written to a file or pipe, the default bar draws nothing; progress=True draws it."""
    assert _drawn(io.StringIO()) == ""
    assert "5/5" in _drawn(io.StringIO(), progress=True)


def test_bar_on_a_terminal_is_shown():
    """On a terminal the bar is drawn, unless conf.show_progress or progress=False say no."""
    assert "5/5" in _drawn(_Terminal())
    assert _drawn(_Terminal(), progress=False) == ""
    with conf.set_temp("show_progress", False):
        assert list(progress_bar(range(2), file=_Terminal())) == [0, 1]


def test_closed_stream_counts_as_no_terminal():
    """A closed stream (its isatty raises) is not a terminal."""
    stream = io.StringIO()
    stream.close()
    assert not _progress._on_a_terminal(stream)
