"""
A batch: the command line, and Dask on a folder
===============================================

For more than a handful of cutouts, work with folders of FITS files. The
``survey2survey`` command simulates pairs, fits a model and translates a
folder (see :ref:`cli`); from Python, `~survey2survey.estimator.transform_many`
translates a folder in partitions, optionally on a Dask scheduler, and can
continue a killed run without redoing or duplicating anything.

The commands are run here through ``survey2survey.cli.main``, which takes the
same arguments as the shell command (``survey2survey simulate ...``) and
returns its exit status; in a terminal, type the printed lines. Small by
default (24 pairs of 48 x 48 pixels, 2 epochs); ``S2S_TUTORIAL_SIZE=full``
simulates 400 and trains 20 epochs.
"""

# %%
# Simulate, fit, transform
# ------------------------
# ``simulate`` writes a pairs folder (``source/``, ``target/`` and the
# noise-free truths), ``fit`` trains on it and saves the model to one file,
# ``transform`` translates every FITS file of a folder into another, one
# output per input with the input's name.
import contextlib
import io
import os
import shlex
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from survey2survey import Survey2Survey, transform_many
from survey2survey.cli import main
from survey2survey.io import read_cutout

FULL = os.environ.get("S2S_TUTORIAL_SIZE", "small") == "full"
n_pairs, epochs = (400, 20) if FULL else (24, 2)
work = Path(tempfile.mkdtemp())  # everything below is written in this folder


def survey2survey(command, width=79):
    """
    Run one ``survey2survey`` command line in ``work``; show it, its messages and its exit
    status, long lines continued as in a terminal (``\\`` for the command).
    """
    print(" \\\n      ".join(textwrap.wrap(f"$ survey2survey {command}", width - 8,
                                             break_on_hyphens=False, break_long_words=False)))
    messages = io.StringIO()
    with contextlib.chdir(work), contextlib.redirect_stderr(messages):
        status = main(shlex.split(command))
    for line in messages.getvalue().splitlines():
        print(textwrap.fill(line, width, subsequent_indent="    ", break_on_hyphens=False,
                            break_long_words=False))
    print(f"  -> exit status {status}")


survey2survey(f"simulate {n_pairs} -o pairs --source-size 48 --seed 3 --processes 1 -q")
survey2survey(f"fit pairs -o my_model.s2s --epochs {epochs} --batch-size 8 -q")
survey2survey("transform my_model.s2s pairs/source -o translated -q")
print(sorted(p.name for p in (work / "pairs").iterdir()))
outputs = sorted((work / "translated").glob("*.fits"))
print(len(outputs), "files in translated/, e.g.", outputs[0].name)

# %%
# The shipped pretrained model is used by name the same way, and an output
# folder that already holds results is refused unless ``--skip-existing``
# (translate only what is missing) or ``--overwrite``:
survey2survey("transform sdss-des-aecnn pairs/source -o pretrained -q")
survey2survey("transform sdss-des-aecnn pairs/source -o pretrained -q")
survey2survey("transform sdss-des-aecnn pairs/source -o pretrained --skip-existing -q")

# %%
# transform_many with Dask
# ------------------------
# `~survey2survey.estimator.transform_many` takes a fitted estimator (or the file it was
# saved to) and a folder or list of inputs. With ``output_dir`` each result is
# written atomically and the paths are returned; ``scheduler='threads'`` runs
# partitions of ``batch_size`` inputs on Dask's threaded scheduler (a
# ``dask.distributed`` ``Client`` or scheduler address spreads them over a
# cluster, each worker loading the model file once).
s2s = Survey2Survey.load(work / "my_model.s2s")
paths = transform_many(s2s, work / "pairs/source", output_dir=work / "dask_out", batch_size=8,
                       scheduler="threads", num_workers=2, progress=False)
print(len(paths), "outputs, e.g.", Path(paths[0]).relative_to(work))

# %%
# A run that was killed is continued with ``skip_existing=True``: outputs that
# exist are complete (each is published in one step), so they are kept, and
# only the missing ones are translated. Here two outputs are deleted first.
for path in paths[:2]:
    Path(path).unlink()
before = {p: Path(p).stat().st_mtime_ns for p in paths[2:]}
again = transform_many(s2s, work / "pairs/source", output_dir=work / "dask_out", batch_size=8,
                       scheduler="threads", num_workers=2, skip_existing=True, progress=False)
kept = sum(Path(p).stat().st_mtime_ns == t for p, t in before.items())
print(f"{len(again)} paths returned, {kept} existing outputs left untouched, "
      f"{sum(Path(p).exists() for p in paths[:2])} missing ones written again")

# %%
# Without ``output_dir`` the translated cutouts come back in memory, in input
# order. The outputs of the command line and of ``transform_many`` agree:
inputs = sorted((work / "pairs/source").glob("*.fits"))[:4]
in_memory = transform_many(s2s, inputs, progress=False)
from_cli = [read_cutout(work / "translated" / path.name) for path in inputs]
print("largest difference:",
      max(float(np.abs(a.data - b.data).max()) for a, b in zip(in_memory, from_cli, strict=True)))

fig, axes = plt.subplots(1, 4, figsize=(10, 2.8), layout="constrained")
for ax, cutout in zip(axes, in_memory, strict=True):
    ax.imshow(np.arcsinh(cutout["r"].data / 30), origin="lower", cmap="gray_r")
    ax.set_title(f"{cutout['r'].meta['S2STRANS']} -> {cutout['r'].meta['SURVEY']} r",
                 fontsize=9)
    ax.set_axis_off()
plt.show()
