# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Atomic, exclusive file writes.

A file is written to a temporary name in its destination folder and then
published in one step: with ``os.link`` (which fails if the name exists, so two
processes writing one folder never overwrite each other's files) or, when
overwriting was asked for, with ``os.replace``. A crash mid-write never leaves
a partial file under the final name.
"""

import contextlib
import os
import tempfile
from pathlib import PurePosixPath, PureWindowsPath

from ..exceptions import InputError, OutputExistsError
from ._validation import check_bool, check_path

__all__ = ["atomic_write", "current_umask", "check_file_stem", "temporary_prefix"]


def current_umask():
    """
    The process umask.

    Read from ``/proc/self/status`` where the kernel reports it, so that the
    umask is never changed, even for a moment, while other threads create
    files; elsewhere it is set and restored at once (``os.umask`` is the only
    portable way to read it).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_file_stem(name, what):
    """
    ``name`` if it is a plain file name that stays inside the folder it is joined to.

    Parameters
    ----------
    name : str
        A name that becomes part of a file name (e.g. ``f"{name}.fits"``).
    what : str
        How to call it in the error message.

    Raises
    ------
    survey2survey.exceptions.InputError
        If ``name`` is not a string, is empty, ``.`` or ``..``, holds a path
        separator (``/`` or ``\\``) or a NUL character, or is absolute or
        drive-relative: joined to a folder it would name a file outside it.

    Examples
    --------
    >>> from survey2survey.utils._files import check_file_stem
    >>> check_file_stem("gal_001", "pair name")
    'gal_001'
    >>> check_file_stem("../x", "pair name")
    Traceback (most recent call last):
    ...
    survey2survey.exceptions.InputError: pair name '../x' is not a plain file name: ...
    """
    if not isinstance(name, str):
        msg = f"{what} must be a string to name a file, got {type(name).__name__} {name!r}"
        raise InputError(msg)
    if (name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name
            or PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive):
        msg = (f"{what} {name!r} is not a plain file name: it must be non-empty, not '.' or "
               "'..', and hold no folder separator ('/', '\\'), drive or NUL character, so "
               "that its file stays inside its folder")
        raise InputError(msg)
    return name


def atomic_write(path, write, *, overwrite=False):
    """
    Call ``write(tmp_path)``, then publish ``tmp_path`` as ``path`` in one step.

    Parameters
    ----------
    path : str or path-like
        Destination.
    write : callable
        Writes the complete file to the path it is given.
    overwrite : bool, optional
        Replace an existing ``path``. Without it the publication is exclusive:
        if ``path`` exists, or another process creates it while ``write`` runs,
        `~survey2survey.exceptions.OutputExistsError` (a `FileExistsError`) is
        raised and the existing file is left untouched.

    Returns
    -------
    path : `pathlib.Path`

    Raises
    ------
    survey2survey.exceptions.OutputExistsError
        If ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    The file gets the permissions a newly created file gets under the
    process umask (``mkstemp``'s 0600 would hide outputs from a group).
    """
    path = check_path(path, "path")
    overwrite = check_bool(overwrite, "overwrite")
    if os.path.isdir(path):
        msg = (f"{str(path)!r} is a directory: an output file cannot replace a folder "
               "(not even with overwrite=True); choose a file name")
        raise OutputExistsError(msg)
    if not overwrite and os.path.lexists(path):
        msg = f"{str(path)!r} exists; pass overwrite=True to replace it"
        raise OutputExistsError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path.name), suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails atomically if another writer got there first
            except FileExistsError:
                msg = f"{str(path)!r} exists (written by another process meanwhile); not replaced"
                raise OutputExistsError(msg) from None
            except OSError:  # a file system without hard links: exclusive create, then rename
                _exclusive_rename(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    return path


#: bytes of the final name kept in a temporary name: with the dot, the 8 random
#: characters of ``mkstemp`` and ``.tmp`` it stays within the usual 255-byte limit
TEMP_NAME_BYTES = 200


def temporary_prefix(name):
    """
    The ``mkstemp`` prefix of a temporary file for ``name``: ``.NAME.``, NAME cut to 200 bytes.

    A legal final name of up to 255 bytes thus never makes the temporary name
    too long (``ENAMETOOLONG``).

    Examples
    --------
    >>> from survey2survey.utils._files import temporary_prefix
    >>> temporary_prefix("out.fits")
    '.out.fits.'
    >>> len(temporary_prefix("x" * 250).encode())
    202
    """
    encoded = os.fsencode(name)
    if len(encoded) > TEMP_NAME_BYTES:
        name = os.fsdecode(encoded[:TEMP_NAME_BYTES].decode("utf-8", "ignore").encode())
    return f".{name}."


def _exclusive_rename(tmp, path):
    """Claim ``path`` with O_EXCL, then move the finished file over the claim."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        msg = f"{str(path)!r} exists (written by another process meanwhile); not replaced"
        raise OutputExistsError(msg) from None
    os.close(fd)
    os.replace(tmp, path)
