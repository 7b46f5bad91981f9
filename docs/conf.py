"""Sphinx configuration of the skrnn documentation."""

import warnings

from sklearn.exceptions import ConvergenceWarning

import skrnn

# The gallery's examples train briefly on purpose.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

project = "skrnn"
author = "the skrnn developers"
release = skrnn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
# Parameter types stay plain text: the build machines reach no documentation
# sites, so links into Python/NumPy/pandas docs could not be checked.
numpydoc_xref_param_type = False
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "doc_module": ("skrnn",),
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_static_path = []
# Nitpicky on our own names: every reference into skrnn must resolve. Names
# from other projects cannot (no intersphinx offline) and are not checked.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!skrnn\b).*")]
