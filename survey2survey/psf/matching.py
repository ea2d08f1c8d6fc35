# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Classical PSF matching: a noise-regularised Wiener filter from an image's PSF to a target PSF.

For an image ``x = P * s + n`` (sky ``s`` seen through the PSF ``P`` with white
noise ``n``), the filter that brings it to the target PSF ``T`` is, in Fourier
space, ::

    H(f) = (1 + lambda) T(f) P(f) / (P(f)**2 + lambda)

``lambda`` is the noise-to-signal power ratio (in units of the pixel noise,
when the image is given in units of its noise); the factor ``1 + lambda``
makes ``H(0) = 1``, so the filter conserves flux. Where the target is broader
than the input (``T < P``) it is a plain convolution; where it is sharper it
deconvolves as far as the noise allows. Images are zero-padded before the FFT,
and within a border band (1.5 input FWHM wide) the result is tapered smoothly
back to the unfiltered image: there the filter lacks the context beyond the
edge, and deconvolving the truncated wings of a star just outside a cutout
would pile their flux up inside it.

The same filter runs on numpy arrays (`match_psf`) and on torch batches
(`psf_match_batch`, used by the ``deconvolve`` and ``psfnet`` translators); the
batch form takes the PSFs as a ``(N, C, 7)`` parameter tensor (see
`psf_parameters`).
"""

import functools
import math

import numpy as np

from ..exceptions import InvalidOptionError
from ..utils._validation import check_number
from .model import PROFILES, PSF

__all__ = ["match_psf", "psf_parameters", "psf_match_batch", "transfer_batch",
           "N_PSF_PARAMETERS", "DEFAULT_REGULARIZATION"]

#: values per band in a PSF parameter vector: input FWHM (pix), beta, profile code,
#: target FWHM (pix), beta, profile code, and how well the input PSF is known: 0 not
#: at all (a survey default), 1 approximately (a header's seeing), 2 exactly
N_PSF_PARAMETERS = 7
#: the regularisation used before one is tuned on pairs
DEFAULT_REGULARIZATION = 0.05
_MOFFAT_BETAS = (1.2, 20.0, 0.05)  # table range and step of the Moffat index
_MOFFAT_U_MAX, _MOFFAT_U_STEP = 12.0, 0.005


def _pad_size(n, pad):
    """An FFT-friendly padded length (a multiple of 16) of at least ``n + 2 pad``."""
    return int(16 * math.ceil((n + 2 * pad) / 16))


def _default_pad(*fwhm_pixels):
    return int(max(16, math.ceil(4 * max(fwhm_pixels))))


def _edge_weight(shape, width, xp):
    """Weights rising smoothly from 0 at the border to 1 at ``width`` pixels inside it."""
    def ramp(n):
        distance = xp.minimum(xp.arange(n) + 0.5, n - 0.5 - xp.arange(n))
        t = xp.clip(distance / max(width, 1e-9), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)

    return ramp(shape[0])[:, None] * ramp(shape[1])[None, :]


def _taper_width(fwhm_pixels):
    return 1.5 * fwhm_pixels


def match_psf(image, input_psf, target_psf, pixel_scale, *, regularization=None, pad=None):
    """
    Bring ``image`` from ``input_psf`` to ``target_psf`` with the Wiener filter.

    Parameters
    ----------
    image : array-like
        ``(..., ny, nx)`` images (best in units of their pixel noise, which is
        what ``regularization`` is relative to). Not modified.
    input_psf, target_psf : `~survey2survey.psf.PSF`
        The image's PSF and the PSF wanted.
    pixel_scale : `~astropy.units.Quantity` or float
        Arcsec per pixel.
    regularization : float, optional
        ``lambda`` (default ``DEFAULT_REGULARIZATION``): larger is smoother.
    pad : int, optional
        Zero padding on each side before the FFT (default: 4 FWHM, at least 16).

    Returns
    -------
    `numpy.ndarray`
        The filtered images (float64), same shape; their sums equal the
        input's up to the flux that left through the border. Within 1.5 input
        FWHM of the border the result is tapered back to ``image``.

    Examples
    --------
    >>> import numpy as np
    >>> from survey2survey.psf import PSF, match_psf
    >>> sdss, des = PSF(1.4, 'moffat'), PSF(0.95, 'kolmogorov')
    >>> star = sdss.image((41, 41), 0.396) * 1000
    >>> sharp = match_psf(star, sdss, des, 0.396, regularization=1e-4)
    >>> bool(sharp.max() > 1.5 * star.max()), round(float(sharp.sum() / star.sum()), 2)
    (True, 1.0)
    """
    image = np.asarray(image, dtype=float)
    lam = check_number(DEFAULT_REGULARIZATION if regularization is None else regularization,
                       "regularization", minimum=0, exclusive_minimum=True)
    for name, psf in (("input_psf", input_psf), ("target_psf", target_psf)):
        if not isinstance(psf, PSF):
            msg = f"{name} must be a survey2survey.psf.PSF, got {psf!r}"
            raise InvalidOptionError(msg)
    if image.ndim < 2:
        msg = f"image must have at least two dimensions, got shape {image.shape}"
        raise InvalidOptionError(msg)
    ny, nx = image.shape[-2:]
    if pad is None:
        pad = _default_pad(input_psf.fwhm_pixels(pixel_scale), target_psf.fwhm_pixels(pixel_scale))
    shape = (_pad_size(ny, pad), _pad_size(nx, pad))
    p = input_psf.transfer(shape, pixel_scale)
    t = target_psf.transfer(shape, pixel_scale)
    filt = (1.0 + lam) * t * p / (p * p + lam)
    padded = np.zeros(image.shape[:-2] + shape)
    padded[..., pad:pad + ny, pad:pad + nx] = image
    out = np.fft.irfft2(np.fft.rfft2(padded) * filt, s=shape)[..., pad:pad + ny, pad:pad + nx]
    weight = _edge_weight((ny, nx), _taper_width(input_psf.fwhm_pixels(pixel_scale)), np)
    return weight * out + (1.0 - weight) * image


def psf_parameters(input_psfs, target_psfs, pixel_scale, known=None):
    """
    The ``(C, 7)`` PSF parameter vector of one image for `psf_match_batch`.

    Parameters
    ----------
    input_psfs, target_psfs : sequence of `~survey2survey.psf.PSF`
        One per band.
    pixel_scale : `~astropy.units.Quantity` or float
        Arcsec per pixel of the image.
    known : sequence of bool, optional
        Whether each input PSF was known (True) or a survey default stood in;
        a known PSF whose ``exact`` is set counts as exactly known (2).

    Returns
    -------
    `numpy.ndarray`
        float32 ``(C, 7)``: input FWHM in pixels, Moffat beta, profile code,
        the same three for the target, and the knowledge level (0, 1, 2).
    """
    known = [True] * len(input_psfs) if known is None else list(known)
    rows = []
    for psf_in, psf_out, flag in zip(input_psfs, target_psfs, known, strict=True):
        rows.append([psf_in.fwhm_pixels(pixel_scale), psf_in.beta, psf_in.code,
                     psf_out.fwhm_pixels(pixel_scale), psf_out.beta, psf_out.code,
                     float(bool(flag)) * (2.0 if psf_in.exact else 1.0)])
    return np.asarray(rows, dtype=np.float32)


@functools.cache
def _moffat_table_numpy():
    from .model import otf

    lo, hi, step = _MOFFAT_BETAS
    betas = np.arange(lo, hi + step / 2, step)
    freqs = np.arange(0.0, _MOFFAT_U_MAX + _MOFFAT_U_STEP / 2, _MOFFAT_U_STEP)
    table = np.stack([otf("moffat", freqs, b) for b in betas])
    return table.astype(np.float32)


def _moffat_table(device):
    import torch

    return torch.as_tensor(_moffat_table_numpy(), device=device)


def _frequency_grid(shape, device):
    import torch

    fy = torch.fft.fftfreq(shape[0], device=device)[:, None]
    fx = torch.fft.rfftfreq(shape[1], device=device)[None, :]
    return torch.sqrt(fy * fy + fx * fx)


def transfer_batch(fwhm, beta, code, shape):
    """
    Transfer functions ``(N, C, H, W // 2 + 1)`` of PSFs given per image and band.

    ``fwhm`` (pixels), ``beta`` and ``code`` (index in ``survey2survey.psf.PROFILES``)
    are ``(N, C)`` tensors; ``shape`` is the padded image shape.
    """
    import torch

    freq = _frequency_grid(shape, fwhm.device)
    u = freq[None, None] * fwhm[..., None, None].float()
    gauss = torch.exp(-(math.pi * u) ** 2 / (4.0 * math.log(2.0)))
    kolmo = torch.exp(-3.44 * (u / 0.975865) ** (5.0 / 3.0))
    table = _moffat_table(fwhm.device)
    lo, hi, step = _MOFFAT_BETAS
    row = torch.clamp(torch.round((beta.float() - lo) / step), 0, table.shape[0] - 1).long()
    pos = torch.clamp(u / _MOFFAT_U_STEP, 0, table.shape[1] - 1.001)
    left = pos.floor().long()
    frac = pos - left
    rows = table[row]  # (N, C, n_u)
    flat = rows.reshape(-1, rows.shape[-1])
    left_flat = left.reshape(flat.shape[0], -1)
    v0 = torch.gather(flat, 1, left_flat).reshape(left.shape)
    v1 = torch.gather(flat, 1, left_flat + 1).reshape(left.shape)
    moffat = torch.where(u >= _MOFFAT_U_MAX, torch.zeros_like(u), v0 + frac * (v1 - v0))
    code = code.round().long()[..., None, None]
    out = torch.where(code == PROFILES.index("gaussian"), gauss, moffat)
    return torch.where(code == PROFILES.index("kolmogorov"), kolmo, out)


def psf_match_batch(images, parameters, regularization, *, pad=None):
    """
    The Wiener filter of `match_psf` on a torch batch, each image and band with its own PSFs.

    Parameters
    ----------
    images : `torch.Tensor`
        ``(N, C, H, W)``, in units of the pixel noise.
    parameters : `torch.Tensor`
        ``(N, C, 7)`` PSF parameters (`psf_parameters`).
    regularization : `torch.Tensor` or float
        ``lambda``, a scalar or one per band ``(C,)``.
    pad : int, optional
        Zero padding (default: 4 of the largest FWHM in the batch, at least 16).

    Returns
    -------
    `torch.Tensor`
        ``(N, C, H, W)`` float32, tapered back to ``images`` within 1.5 input
        FWHM of the border as in `match_psf`.
    """
    import torch
    import torch.nn.functional as F

    n, c, h, w = images.shape
    params = parameters.float()
    if pad is None:
        pad = _default_pad(float(params[..., 0].max()), float(params[..., 3].max()))
    shape = (_pad_size(h, pad), _pad_size(w, pad))
    p = transfer_batch(params[..., 0], params[..., 1], params[..., 2], shape)
    t = transfer_batch(params[..., 3], params[..., 4], params[..., 5], shape)
    lam = torch.as_tensor(regularization, dtype=torch.float32, device=images.device)
    lam = lam.reshape(1, -1, 1, 1) if lam.ndim else lam
    filt = (1.0 + lam) * t * p / (p * p + lam)
    padded = F.pad(images.float(), (pad, shape[1] - w - pad, pad, shape[0] - h - pad))
    out = torch.fft.irfft2(torch.fft.rfft2(padded) * filt, s=shape)[..., pad:pad + h, pad:pad + w]
    width = _taper_width(params[..., 0])  # (N, C)
    ramp_y = _torch_ramp(h, width, images.device)
    ramp_x = _torch_ramp(w, width, images.device)
    weight = ramp_y[..., :, None] * ramp_x[..., None, :]
    return (weight * out + (1.0 - weight) * images.float()).contiguous()


def _torch_ramp(n, width, device):
    """``(N, C, n)`` smooth ramps from 0 at both ends to 1 at ``width`` (N, C) inside."""
    import torch

    index = torch.arange(n, device=device, dtype=torch.float32)
    distance = torch.minimum(index + 0.5, n - 0.5 - index)
    t = torch.clamp(distance / width[..., None].clamp(min=1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
