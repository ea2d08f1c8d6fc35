# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The exceptions raised by survey2survey.

Every error the package raises on purpose derives from `Survey2SurveyError`, so
``except Survey2SurveyError`` catches all of them; each also derives from the
closest built-in exception (`ValueError`, `KeyError`, ...) so generic handlers
keep working.
"""

from astropy.utils.exceptions import AstropyUserWarning

__all__ = [
    "UnknownPSFWarning",
    "OutOfTrainingRangeWarning",
    "IgnoredBandsWarning",
    "Survey2SurveyError",
    "InvalidOptionError",
    "InputError",
    "MissingWCSError",
    "InvalidWCSError",
    "InvalidDataError",
    "BandMismatchError",
    "ShapeMismatchError",
    "UnitError",
    "PixelScaleError",
    "CorruptFileError",
    "FetchError",
    "OutputExistsError",
    "OutputWriteError",
    "UnknownSurveyError",
    "AlignmentError",
    "NoOverlapError",
    "InsufficientCoverageError",
    "UnknownTranslatorError",
    "UnknownModelError",
    "TranslatorError",
    "TrainingDataError",
    "WeightsFileError",
    "NotFittedError",
    "NotCalibratedError",
    "ImageTooSmallError",
    "MetricError",
    "ApertureError",
    "MissingDependencyError",
]


class Survey2SurveyError(Exception):
    """Base class of every error raised by survey2survey."""


class InvalidOptionError(Survey2SurveyError, ValueError):
    """An option (a keyword argument, a command-line flag) was given an invalid value."""


class InputError(Survey2SurveyError, ValueError):
    """The input could not be understood as a cutout, image or dataset."""


class MissingWCSError(InputError):
    """The input has no celestial WCS where one is required."""


class InvalidWCSError(InputError):
    """The input's WCS is present but broken or not celestial."""


class InvalidDataError(InputError):
    """The pixel data are unusable: all NaN, non-finite, empty or of the wrong dimension."""


class BandMismatchError(InputError):
    """The bands of two inputs, or of an input and a model, do not agree."""


class ShapeMismatchError(InputError):
    """The image shapes of inputs that must agree do not."""


class UnitError(InputError):
    """A unit is missing, unknown or not convertible to what is required."""


class PixelScaleError(InputError):
    """An image's pixel scale is not the one a model was trained for."""


class CorruptFileError(InputError, OSError):
    """A file could not be read as the format it claims to be."""


class FetchError(Survey2SurveyError, ConnectionError):
    """A survey archive or cutout service could not be reached or did not answer."""


class OutputExistsError(Survey2SurveyError, FileExistsError):
    """An output file exists and neither overwriting nor skipping existing outputs was asked for."""


class OutputWriteError(Survey2SurveyError, OSError):
    """An output file could not be written (its name is too long, the disk is full...)."""


class UnknownSurveyError(Survey2SurveyError, KeyError):
    """No survey of that name is registered."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class AlignmentError(Survey2SurveyError, ValueError):
    """A cutout could not be resampled onto the requested grid."""


class NoOverlapError(AlignmentError):
    """The two cutouts do not overlap on the sky."""


class InsufficientCoverageError(AlignmentError):
    """The overlap of two cutouts covers less than the required fraction of pixels."""


class UnknownTranslatorError(Survey2SurveyError, KeyError):
    """No translator of that name is registered."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownModelError(Survey2SurveyError, KeyError):
    """No pretrained model of that name is shipped."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class TranslatorError(Survey2SurveyError, ValueError):
    """A translator was given input it cannot work with."""


class TrainingDataError(TranslatorError):
    """The training data are empty, inconsistent or non-finite."""


class WeightsFileError(Survey2SurveyError, OSError):
    """A saved model is missing, tampered with, foreign or corrupt."""


class NotFittedError(Survey2SurveyError, RuntimeError):
    """A model was used before it was fitted."""


class NotCalibratedError(NotFittedError):
    """Samples or aperture errors were asked of a model whose uncertainty is not calibrated."""


class ImageTooSmallError(InputError):
    """An image is smaller than the network's receptive field or the required minimum."""


class MetricError(Survey2SurveyError, ValueError):
    """A metric was asked of inputs it cannot be computed on."""


class ApertureError(MetricError):
    """An aperture does not fit in the image."""


class MissingDependencyError(Survey2SurveyError, ImportError):
    """An optional dependency needed by this feature is not installed."""


class UnknownPSFWarning(AstropyUserWarning):
    """An input band states no PSF; the source survey's median PSF stands in for it."""


class OutOfTrainingRangeWarning(AstropyUserWarning):
    """An input lies outside what the model was trained on (e.g. its PSF FWHM)."""


class IgnoredBandsWarning(AstropyUserWarning):
    """An input holds bands the model does not use; they are left out of the translation."""
