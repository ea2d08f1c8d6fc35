# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""The one progress-bar helper: tqdm, shown or not according to ``conf.show_progress``."""

__all__ = ["progress_bar"]


def progress_bar(iterable=None, *, total=None, progress=None, desc=None, unit="it",
                 hide_single=False, **kwargs):
    """
    A tqdm bar, disabled when ``progress`` is False (None: ``conf.show_progress``).

    With ``hide_single``, a bar over a single item is disabled too (translating
    one cutout needs no bar).
    """
    from tqdm.auto import tqdm

    from .. import conf
    from ._validation import check_bool

    progress = check_bool(progress, "progress", allow_none=True)
    show = conf.show_progress if progress is None else progress
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if hide_single and total is not None and total <= 1:
        show = False
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not show, **kwargs)
