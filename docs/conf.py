"""Sphinx configuration: the ketephys tutorials as a sphinx-gallery.

Build (sphinx and sphinx-gallery are not runtime dependencies; they are the ``docs``
extra)::

    pip install -e ".[docs]"
    sphinx-build -b html docs docs/_build/html      # or: make -C docs html

sphinx-gallery runs every ``tutorials/NN_*.py`` script (about a minute each at most)
and writes the rendered gallery to ``docs/auto_tutorials`` and the site to
``docs/_build/html``; both are generated and not committed. Tutorials that read real
recordings look for ``../shared/data`` beside the repository (or
``$KETEPHYS_SHARED_DATA``) and fall back to simulated files without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the repository's ketephys, even if not installed

import ketephys  # noqa: E402

project = "ketephys"
author = "the ketephys developers"
copyright = "ketephys developers, BSD-3-Clause"
release = version = ketephys.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "auto_tutorials/*.ipynb", "auto_tutorials/*.py.md5"]
default_role = "py:obj"
nitpicky = False
html_theme = os.environ.get("KETEPHYS_DOCS_THEME", "alabaster")

sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "tutorials"),
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"/\d\d_",            # execute every numbered tutorial
    "within_subsection_order": "FileNameSortKey",  # 00_quickstart first, then 10, 20...
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "download_all_examples": True,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "reference_url": {"ketephys": None},
}
