# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The registry of translators, by name.

Built-in translators register themselves with the `register_translator`
decorator; third-party packages declare theirs in the
``survey2survey.translators`` entry-point group::

    [project.entry-points."survey2survey.translators"]
    mymodel = "mypackage.models:MyTranslator"

Entry points are loaded lazily, the first time the registry is asked for a
name or for the list of names; a plug-in that fails to import is skipped with
an `~astropy.utils.exceptions.AstropyUserWarning` instead of breaking the
package.
"""

import warnings
from importlib.metadata import entry_points

from astropy.utils.exceptions import AstropyUserWarning

from ..exceptions import TranslatorError, UnknownTranslatorError
from ..utils._validation import check_bool

__all__ = [
    "ENTRY_POINT_GROUP",
    "TranslatorRegistry",
    "default_registry",
    "register_translator",
    "unregister_translator",
    "get_translator",
    "available_translators",
]

ENTRY_POINT_GROUP = "survey2survey.translators"

# What every Translator subclass has; checked here by interface so that the registry needs
# no import of the base class (which itself looks translators up in the registry).
_TRANSLATOR_INTERFACE = ("build_modules", "training_step", "predict", "state_tensors")


def _is_translator_class(cls):
    return isinstance(cls, type) and all(callable(getattr(cls, attribute, None))
                                         for attribute in _TRANSLATOR_INTERFACE)


class TranslatorRegistry:
    """
    A mapping of names to `~survey2survey.translators.Translator` subclasses.

    Mirrors astropy's unified I/O registry: `register`, `unregister` and `get`,
    with an error listing what is available when a name is unknown.

    Parameters
    ----------
    group : str or None, optional
        The entry-point group scanned (once, lazily) for third-party
        translators; None disables discovery.

    Examples
    --------
    >>> from survey2survey.translators import Translator, TranslatorRegistry
    >>> registry = TranslatorRegistry(group=None)
    >>> class Echo(Translator):
    ...     pass
    >>> registry.register("echo", Echo)
    >>> registry.get("echo") is Echo
    True
    >>> registry.names()
    ['echo']
    """

    def __init__(self, *, group=ENTRY_POINT_GROUP):
        self._classes = {}
        self._group = group
        self._discovered = group is None

    def _discover(self):
        """Load the entry points of the group once; failures become warnings."""
        if self._discovered:
            return
        self._discovered = True
        for entry_point in entry_points(group=self._group):
            if entry_point.name in self._classes:
                continue  # an explicit registration wins over a plug-in of the same name
            try:
                cls = entry_point.load()
                self.register(entry_point.name, cls)
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break us
                msg = (f"could not load translator plug-in {entry_point.name!r} "
                       f"({entry_point.value}): {type(exc).__name__}: {exc}")
                warnings.warn(msg, AstropyUserWarning, stacklevel=3)

    def register(self, name, cls, *, force=False):
        """
        Register the translator class ``cls`` under ``name``.

        Parameters
        ----------
        name : str
            The name used by ``Translator.create(name)``; case-insensitive.
        cls : type
            A subclass of `~survey2survey.translators.Translator`.
        force : bool, optional
            Replace an existing registration of the same name.

        Raises
        ------
        TranslatorError
            If ``cls`` is not a Translator class, ``name`` is not a non-empty
            string, or ``name`` is taken and ``force`` is False.
        """
        if not isinstance(name, str) or not name.strip():
            msg = f"translator name must be a non-empty string, got {name!r}"
            raise TranslatorError(msg)
        if not _is_translator_class(cls):
            msg = (f"{cls!r} registered as {name!r} is not a subclass of Translator "
                   f"(it lacks {', '.join(_TRANSLATOR_INTERFACE)})")
            raise TranslatorError(msg)
        key = name.strip().lower()
        force = check_bool(force, "force")
        if key in self._classes and self._classes[key] is not cls and not force:
            msg = (f"a translator named {key!r} is already registered "
                   f"({self._classes[key].__qualname__}); pass force=True to replace it")
            raise TranslatorError(msg)
        self._classes[key] = cls
        if cls.__dict__.get("name") is None:
            cls.name = key

    def unregister(self, name):
        """
        Remove the translator registered under ``name``.

        Raises
        ------
        UnknownTranslatorError
            If no translator of that name is registered.
        """
        self._discover()
        key = str(name).strip().lower()
        if key not in self._classes:
            msg = (f"cannot unregister {name!r}: no such translator; "
                   f"available: {', '.join(self.names()) or 'none'}")
            raise UnknownTranslatorError(msg)
        del self._classes[key]

    def get(self, name):
        """
        The translator class registered under ``name``.

        Raises
        ------
        UnknownTranslatorError
            If no translator of that name is registered; the message lists the
            available ones.
        """
        self._discover()
        key = str(name).strip().lower() if isinstance(name, str) else name
        if key not in self._classes:
            msg = (f"unknown translator {name!r}; available translators: "
                   f"{', '.join(self.names()) or 'none'}")
            raise UnknownTranslatorError(msg)
        return self._classes[key]

    def names(self):
        """The sorted names of the registered translators."""
        self._discover()
        return sorted(self._classes)

    def __contains__(self, name):
        self._discover()
        return isinstance(name, str) and name.strip().lower() in self._classes

    def __repr__(self):
        return f"<TranslatorRegistry: {', '.join(self.names())}>"


#: The registry used by `Translator.create` and the module-level functions.
default_registry = TranslatorRegistry()


def register_translator(name, *, force=False, registry=None):
    """
    Class decorator registering a translator under ``name``.

    Parameters
    ----------
    name : str
        The name used by ``Translator.create(name)``.
    force : bool, optional
        Replace an existing translator of the same name.
    registry : `TranslatorRegistry`, optional
        Defaults to the package-wide registry.

    Examples
    --------
    >>> from survey2survey.translators import (Translator, register_translator,
    ...                                        unregister_translator, available_translators)
    >>> @register_translator("my-echo")
    ... class Echo(Translator):
    ...     pass
    >>> "my-echo" in available_translators()
    True
    >>> unregister_translator("my-echo")
    """
    def decorator(cls):
        (registry or default_registry).register(name, cls, force=force)
        return cls

    return decorator


def unregister_translator(name, *, registry=None):
    """Remove a translator from the (default) registry; see `TranslatorRegistry.unregister`."""
    (registry or default_registry).unregister(name)


def get_translator(name, *, registry=None):
    """The translator class registered under ``name``; see `TranslatorRegistry.get`."""
    return (registry or default_registry).get(name)


def available_translators(*, registry=None):
    """
    The sorted names of the registered translators, plug-ins included.

    Examples
    --------
    >>> from survey2survey.translators import available_translators
    >>> {"aecnn", "cyclegan", "unet"} <= set(available_translators())
    True
    """
    return (registry or default_registry).names()
