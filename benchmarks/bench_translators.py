# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Throughput of the survey2survey translators at 150x150x3, and the AECNN fast path.

Prints images/s for ``fit`` and ``predict`` of every built-in translator at
their default (paper) sizes, then compares AECNN inference through
``Translator.predict`` (channels-last, bf16 autocast where the hardware has
native bf16, ``inference_mode``) with a plain fp32 NCHW PyTorch AECNN of the
same shape and weights, both measured in this run on this machine, with the
maximum absolute difference of their outputs (tolerance: 2e-2 with bf16,
1e-5 in fp32).

Run::

    python benchmarks/bench_translators.py [--quick] [--device cpu|cuda]

It takes about a minute and a half on 2 CPU cores.
"""

import argparse
import time
from collections import OrderedDict
from functools import partial

import torch
from torch import nn

from survey2survey.translators import Translator

FIT_IMAGES = {"aecnn": 16, "cyclegan": 2, "unet": 8}
#: the paper's Table 1, written out independently of the library for the plain baseline
TABLE_1 = (("down1", 128, "relu"), ("down2", 64, "relu"), ("down3", 32, "relu"),
           ("up1", 32, "relu"), ("up2", 64, "relu"), ("up3", 128, "relu"),
           ("decode", None, "sigmoid"))
PREDICT_IMAGES = {"aecnn": 32, "cyclegan": 4, "unet": 16}


def timed(function):
    """Seconds taken by one call of ``function``."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def best_rates(functions, n_images, repeats):
    """
    Images per second of each function: the fastest of ``repeats`` calls, after a warm-up.

    The calls are interleaved (round robin) so that load from other processes on
    a shared machine affects every path alike.
    """
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, spent in zip(functions, times, strict=True):
            spent.append(timed(function))
    return [n_images / min(spent) for spent in times]


def plain_aecnn(translator):
    """The same AECNN written the plain way (conv + max-pool/upsample, NCHW, fp32)."""
    layers = OrderedDict()
    channels = 3
    for name, out, activation in TABLE_1:
        out = 3 if out is None else out
        block = [nn.Conv2d(channels, out, 3, padding=1)]
        if activation == "sigmoid":
            block.append(nn.Sigmoid())
        else:
            block.append(nn.ReLU())
            block.append(nn.MaxPool2d(2) if name.startswith("down")
                         else nn.Upsample(scale_factor=2))
        layers[name] = nn.Sequential(*block)
        channels = out
    model = nn.Sequential(layers)
    model.load_state_dict(translator.network.state_dict())
    return model.eval().to(translator.device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--batch", type=int, default=16, help="AECNN comparison batch size")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    gpu = args.device != "cpu" and torch.cuda.is_available()
    scale = 16 if gpu else 1  # more images on a GPU so the timings mean something
    torch.manual_seed(0)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}" + (f" ({torch.cuda.get_device_name()})" if gpu else ""))
    print()
    print(f"{'translator':<10} {'params':>10} {'fit img/s':>10} {'predict img/s':>14}")
    for name in ("aecnn", "cyclegan", "unet"):
        params = {"resampling": "pool"} if name == "aecnn" else {}  # the reference shape
        model = Translator.create(name, device=args.device, epochs=1, batch_size=4, **params)
        n_fit, n_pred = FIT_IMAGES[name] * scale, PREDICT_IMAGES[name] * scale
        x = torch.rand(n_fit, 3, 150, 150)
        fit_rate = n_fit / timed(partial(model.fit, x, x, validation=0, progress=False))
        batch = torch.rand(n_pred, 3, 150, 150)
        (pred_rate,) = best_rates([partial(model.predict, batch)], n_pred, repeats)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{name:<10} {n_params:>10,} {fit_rate:>10.1f} {pred_rate:>14.1f}")

    print()
    print(f"AECNN inference, batch {args.batch * scale}, 152x152x3 "
          "(150 px images are padded to 152 internally)")
    model = Translator.create("aecnn", resampling="pool", device=args.device)
    plain = plain_aecnn(model)
    batch = torch.rand(args.batch * scale, 3, 152, 152)

    def run_plain():
        with torch.inference_mode():
            return plain(batch.to(model.device)).cpu()

    def run_ours(precision):
        return model.predict(batch, precision=precision, batch_size=len(batch))

    paths = [("plain fp32 NCHW", run_plain, 1e-5),
             ("predict fp32", lambda: run_ours("fp32"), 1e-5),
             ("predict auto (fast path)", lambda: run_ours("auto"), 2e-2)]
    rates = best_rates([path[1] for path in paths], len(batch), repeats + 2)
    reference = run_plain()
    rows = [(label, rate, function(), tolerance)
            for (label, function, tolerance), rate in zip(paths, rates, strict=True)]
    print(f"{'path':<26} {'img/s':>8} {'ratio':>6} {'max|diff|':>10} {'tolerance':>10} ok")
    for label, rate, output, tolerance in rows:
        diff = float((output - reference).abs().max())
        print(f"{label:<26} {rate:>8.1f} {rate / rows[0][1]:>6.2f} {diff:>10.2e} "
              f"{tolerance:>10.0e} {'yes' if diff <= tolerance else 'NO'}")
    dtype = model._autocast_dtype("auto")
    print(f"fast path here: channels_last + autocast {dtype}" if dtype else
          "fast path here: channels_last, fp32 (no native bf16 on this device)")


if __name__ == "__main__":
    main()
