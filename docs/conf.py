"""Sphinx configuration of the hyperspy_cmeans documentation.

Build (from the repository root, with ``pip install ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: intersphinx is not used, and MathJax is loaded by
the browser when a page is viewed. The gallery examples in ``docs/examples``
are executed during the build and every figure comes from running them.
"""

import os
import warnings
from pathlib import Path

import hyperspy_cmeans

os.environ.setdefault("MPLBACKEND", "Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# -- Project information -----------------------------------------------------

project = "hyperspy_cmeans"
author = "The hyperspy_cmeans developers"
copyright = "2026, The hyperspy_cmeans developers"  # noqa: A001 (Sphinx's name)
release = hyperspy_cmeans.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples"]
default_role = "py:obj"
nitpicky = False

# -- autodoc / autosummary / numpydoc -----------------------------------------

autosummary_generate = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# numpydoc would list every inherited HyperSpy/exspy/scikit-learn member of
# the classes; the class template lists this package's own members instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Validate the docstrings of the public API (the pages of docs/api.rst). The
# checks left out are style choices of the package, not omissions: no "See
# Also" or "Examples" section is required (SA01, EX01), an extended summary is
# optional (ES01), summaries may start with a verb in any form (SS05), and
# types may be described in prose (PR09/RT02 punctuation of free text).
numpydoc_validation_checks = {"all", "SA01", "EX01", "ES01", "SS05", "GL08", "RT02", "PR09"}
# Only this package's own objects: inherited HyperSpy/exspy/scikit-learn
# members are documented (and validated) upstream.
numpydoc_validation_exclude = {
    r"^(?!hyperspy_cmeans\.)",
    r"\.__init__$",
    # record types documented with an Attributes section, being rewritten
    # with their modules (energy calibration, synthetic data), and the
    # published result of the study (a NamedTuple)
    r"^hyperspy_cmeans\.results\.(EnergyCalibration|LineMatch)$",
    r"^hyperspy_cmeans\.data\.GroundTruth$",
    r"^hyperspy_cmeans\.data\.QV120PublishedResult$",
}

# -- sphinx-gallery ------------------------------------------------------------

# HyperSpy's progress bars write to stderr and would clutter the build log;
# its navigation sliders (ipywidgets) would print their repr outside Jupyter.
# These settings live in memory only (the preferences file is not written).
import logging  # noqa: E402

import hyperspy.api as hs  # noqa: E402

hs.preferences.General.show_progressbar = False
hs.preferences.GUIs.enable_ipywidgets_gui = False
logging.getLogger("hyperspy").setLevel(logging.ERROR)

sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    # always execute: every figure comes from running the examples in this build
    "run_stale_examples": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 0,
    "backreferences_dir": None,
    "doc_module": (),
    "reference_url": {},
    "first_notebook_cell": "%matplotlib inline",
    # a block ending in a plotting call shows its figure, not the repr of
    # what the call returned (figure, axes, list of axes, axis limits)
    "ignore_repr_types": r"matplotlib|<class '(list|tuple)'>",
}

# Warnings raised by the libraries while the examples run are not Sphinx
# warnings; keep the build log readable.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*is deprecated.*")

# -- HTML output -----------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"hyperspy_cmeans {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# No section navigation on the left: the pages use the width for code,
# output and figures (the navbar, the page contents on the right and the
# previous/next links navigate).
html_sidebars = {"**": []}

# -- MyST (only used to include benchmarks/RESULTS.md) -------------------------------

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
