# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Timing shared by the benchmark scripts: paths timed in turn, so that load changes hit all."""

import time

__all__ = ["interleaved_seconds"]


def interleaved_seconds(paths, repeats):
    """``{name: [seconds, ...]}``: each callable of ``paths`` once per round, ``repeats`` rounds."""
    seconds = {name: [] for name in paths}
    for _ in range(repeats):
        for name, function in paths.items():
            start = time.perf_counter()
            function()
            seconds[name].append(time.perf_counter() - start)
    return seconds
