# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration for the survey2survey documentation."""

import datetime
import os
import socket
from importlib import metadata
from urllib.parse import urlparse

from sphinx_astropy.conf.v3 import *  # noqa: F403

project = "survey2survey"
author = "survey2survey developers"
copyright = f"{datetime.date.today().year}, {author}"  # noqa: A001
# the public part: a development build's local hash would not fit the sidebar
release = metadata.version(project).split("+")[0]
version = ".".join(release.split(".")[:2])

extensions += [  # noqa: F405
    "sphinx_gallery.gen_gallery",
]
nitpicky = True
nitpick_ignore_regex = [
    # numpydoc type words that are no objects
    ("py:class", r"optional"),
    ("py:class", r"array-like"),
    ("py:class", r"callable"),
    ("py:class", r"path-like"),
    ("py:class", r"file-like"),
]
intersphinx_mapping.update({  # noqa: F405
    "reproject": ("https://reproject.readthedocs.io/en/stable/", None),
    "photutils": ("https://photutils.readthedocs.io/en/stable/", None),
    "skimage": ("https://scikit-image.org/docs/stable/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
    "galsim": ("https://galsim-developers.github.io/GalSim/_build/html/", None),
    "dask": ("https://docs.dask.org/en/stable/", None),
    "astroquery": ("https://astroquery.readthedocs.io/en/latest/", None),
})


def _reachable(url, timeout=3.0):
    """Whether the host of ``url`` accepts a connection (the inventories are fetched from it)."""
    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


# Offline (no route to the documentation hosts, or S2S_DOCS_OFFLINE=1) the inventories of the
# other projects cannot be fetched: intersphinx is dropped and references into those projects
# render as plain text instead of failing the -W build. Internal references stay checked.
OFFLINE = os.environ.get("S2S_DOCS_OFFLINE") == "1" or not _reachable("https://docs.python.org/")
if OFFLINE:
    _external = sorted({name for name in intersphinx_mapping} | {  # noqa: F405
        "numpy", "scipy", "matplotlib", "astropy", "python", "torch", "PIL", "reproject",
        "photutils", "skimage", "galsim", "dask", "astroquery", "pytest", "tqdm", "safetensors"})
    intersphinx_mapping = {}
    nitpick_ignore_regex += [  # noqa: F405
        (r"py:.*", rf"(~)?({'|'.join(_external)})(\..*)?"),
        (r"py:.*", r"(int|float|str|bool|dict|list|tuple|bytes|object|None|callable|type)"),
        (r"py:.*", r"(os|pathlib|collections|concurrent|typing|zipfile|json|logging|argparse)"
                   r"\..*"),
        (r"py:.*", r"(ValueError|KeyError|OSError|RuntimeError|ImportError|TypeError|Exception)"),
    ]

github_issues_url = "https://github.com/survey2survey/survey2survey/issues/"

html_title = f"{project} v{release}"
html_static_path = ["_static"]
html_css_files = ["survey2survey.css"]
html_theme_options = {
    "github_url": "https://github.com/survey2survey/survey2survey",
}
exclude_patterns += ["_build", "**.ipynb_checkpoints", "tutorials/*.rst"]  # noqa: F405

sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "generated/tutorials",
    "filename_pattern": r"^((?!skip_).)*$",
    # plot_1_... to plot_8_...: the order of the gallery is the order of the file names
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "doc_module": ("survey2survey",),
    "only_warn_on_example_error": False,
}
