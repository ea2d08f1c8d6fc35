# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration for the survey2survey documentation."""

import datetime
import os
import re
import socket
from importlib import metadata
from pathlib import Path
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
# The astropy-unified theme (sunpy's, on pydata's) brands pages "Astropy", links astropy.org's
# menus, counts visits with goatcounter and searches other projects on readthedocs: pages
# of survey2survey name survey2survey, link its own places and send no request elsewhere
# (the theme's Google-fonts import and sphinx-gallery's CDN scripts are removed from the
# built files by `_no_remote_requests` below).
_REPOSITORY = "https://github.com/survey2survey/survey2survey"
html_logo = ""  # no Astropy logo: the project name is the brand
html_favicon = ""
html_theme_options = {
    "github_url": _REPOSITORY,
    "sst_project_name": project,
    "sst_site_root": "https://survey2survey.readthedocs.io",
    "sst_is_root": True,
    "navbar_links": [
        ["Getting started", "getting_started", 0],
        ["Tutorials", "generated/tutorials/index", 0],
        ["API", "api", 0],
        ["Source", _REPOSITORY, 3],
    ],
    "footer_links": [
        ["Code", _REPOSITORY, 3],
        ["Issues", f"{_REPOSITORY}/issues", 3],
    ],
    "goatcounter_analytics_url": False,
    "rtd_search": False,
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
    # a cell ending in ax.set_title(...) printed "Text(0.5, 1.0, '...')": matplotlib objects
    # returned by the last line of a cell are not shown (tables and numbers still are)
    "ignore_repr_types": r"matplotlib\.(text|axes|image|contour|legend|collections|colorbar)",
}


_REMOTE_CSS = re.compile(r'@import url\(["\']?https?://[^)]*\);?\s*')
_REMOTE_TAGS = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>\s*'
                          r'|<link[^>]*\shref="https?://[^"]*"[^>]*rel="stylesheet"[^>]*/?>\s*')


def _no_remote_requests(app, exception):
    """
    Pages that load nothing from other sites: the theme's web-font ``@import`` and
    sphinx-gallery's CDN scripts and styles of the execution-times tables (plain tables
    without them) are removed from the built files.
    """
    if exception is not None or app.builder.format != "html":
        return
    for path, pattern in [(p, _REMOTE_CSS) for p in Path(app.outdir, "_static").rglob("*.css")]\
            + [(p, _REMOTE_TAGS) for p in Path(app.outdir).rglob("*.html")]:
        text = path.read_text(encoding="utf-8")
        kept = pattern.sub("", text)
        if kept != text:
            path.write_text(kept, encoding="utf-8")


def _guide_neighbours(app, pagename, templatename, context, doctree):
    """
    "Previous" and "Next" of a page outside the API stubs skip the stubs: the guide pages
    hold ``automodapi`` listings whose generated pages would otherwise come next.
    """
    if pagename.startswith("api/"):
        return
    relations = app.env.collect_relations()

    def step(doc, k):
        while doc is not None and doc.startswith("api/"):
            doc = relations.get(doc, [None, None, None])[k]
        return doc

    related = relations.get(pagename)
    if not related:
        return
    for key, k in (("prev", 1), ("next", 2)):
        doc = step(related[k], k)
        if doc is None or doc == related[k]:
            continue
        context[key] = {"link": app.builder.get_relative_uri(pagename, doc),
                        "title": app.builder.render_partial(app.env.titles[doc])["title"]}


def setup(app):
    app.connect("build-finished", _no_remote_requests)
    app.connect("html-page-context", _guide_neighbours)
