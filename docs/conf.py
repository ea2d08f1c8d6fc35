# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration for the survey2survey documentation."""

import datetime
from importlib import metadata

from sphinx_astropy.conf.v3 import *  # noqa: F403

project = "survey2survey"
author = "survey2survey developers"
copyright = f"{datetime.date.today().year}, {author}"  # noqa: A001
release = metadata.version(project)
version = ".".join(release.split(".")[:2])

extensions += [  # noqa: F405
    "sphinx_gallery.gen_gallery",
]
nitpicky = True
nitpick_ignore_regex = [
    # third-party types that have no intersphinx target
    ("py:class", r"torch\..*"),
    ("py:class", r"optional"),
    ("py:class", r"array-like"),
    ("py:class", r"callable"),
    ("py:class", r"path-like"),
    ("py:class", r"file-like"),
    ("py:class", r"numpy\..*"),
]
intersphinx_mapping.update({  # noqa: F405
    "reproject": ("https://reproject.readthedocs.io/en/stable/", None),
    "photutils": ("https://photutils.readthedocs.io/en/stable/", None),
    "skimage": ("https://scikit-image.org/docs/stable/", None),
    "torch": ("https://pytorch.org/docs/stable/", None),
    "galsim": ("https://galsim-developers.github.io/GalSim/_build/html/", None),
})

github_issues_url = "https://github.com/survey2survey/survey2survey/issues/"

html_title = f"{project} v{release}"
html_theme_options = {
    "github_url": "https://github.com/survey2survey/survey2survey",
}
exclude_patterns += ["_build", "**.ipynb_checkpoints", "tutorials/*.rst"]  # noqa: F405

sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "generated/tutorials",
    "filename_pattern": r"^((?!skip_).)*$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "doc_module": ("survey2survey",),
    "only_warn_on_example_error": False,
}
