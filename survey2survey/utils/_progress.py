# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The one progress-bar helper: tqdm, shown or not according to ``conf.show_progress``."""

import sys

__all__ = ["progress_bar"]


def _on_a_terminal(stream):
    """
    Whether a bar written to ``stream`` is seen live: a terminal, or a notebook (where
    tqdm draws a widget). Off a terminal (a log file, a pipe) a bar is a stream of
    carriage-return updates, so by default none is drawn (tqdm's ``disable=None``).
    """
    from tqdm.autonotebook import tqdm

    if tqdm.__module__ == "tqdm.notebook":
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress_bar(iterable=None, *, total=None, progress=None, desc=None, unit="it",
                 hide_single=False, **kwargs):
    """
    A tqdm bar, disabled when ``progress`` is False (None: ``conf.show_progress``).

    With ``progress=None`` the bar is also off when its stream (standard error)
    is not a terminal or a notebook, so that a redirected run does not fill its
    log with bar updates; ``progress=True`` shows it anyway. With
    ``hide_single``, a bar over a single item is disabled too (translating one
    cutout needs no bar).
    """
    from tqdm.auto import tqdm

    from .. import conf
    from ._validation import check_bool

    progress = check_bool(progress, "progress", allow_none=True)
    show = conf.show_progress if progress is None else progress
    if show and progress is None and not _on_a_terminal(kwargs.get("file", sys.stderr)):
        show = False
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if hide_single and total is not None and total <= 1:
        show = False
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not show, **kwargs)
