"""Sphinx configuration for the skbreast documentation."""

import os
import re
import sys
import warnings
from pathlib import Path

# Build from the working tree, so the documented code is the code beside the docs.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import skbreast  # noqa: E402

project = "skbreast"
author = "skbreast developers"
copyright = "2026, skbreast developers"  # noqa: A001
release = skbreast.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "**/*.py.md5"]
root_doc = "index"
default_role = "obj"

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc lists methods itself through the class template; a second, automatic
# member list would duplicate them and emit stub warnings.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ------------------------------------------------------------
# Examples run for real, on a few dozen IDC patients of ../shared/data (the
# synthetic sample where it is absent); each must stay about a minute on two CPU
# cores. Build without running them: ``-D plot_gallery=0``.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "show_memory": False,
    # Re-run every example even when it is unchanged, so a change in the package
    # that breaks an example fails the build (tests/test_docs.py sets this).
    "run_stale_examples": os.environ.get("SKBREAST_DOCS_RERUN", "") == "1",
}

# Keras and TensorFlow warn about things no reader can act on (e.g. an input layer
# name); they are not documentation problems.
warnings.filterwarnings("ignore", category=UserWarning, module="keras")
warnings.filterwarnings("ignore", category=DeprecationWarning)

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skbreast {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The generated API pages list every inherited method; an in-page table of
    # contents of them is longer than useful and too wide for the sidebar.
    "secondary_sidebar_items": {
        "[!g]**": ["page-toc", "sourcelink"],
        "generated/*": ["sourcelink"],
    },
}
html_css_files = ["custom.css"]
html_sidebars = {"index": [], "install": [], "changelog": [], "scikeras": []}
html_show_sourcelink = True


# -- docstring fix-ups ---------------------------------------------------------
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _plain_sklearn_cross_references(lines):
    """Turn :ref: and :term: roles into literals.

    Methods inherited from scikit-learn (``score``, ``set_params``,
    ``set_fit_request`` ...) link to labels and glossary terms of scikit-learn's own
    documentation, which do not exist here (the build is offline, so no
    intersphinx). Only docstrings defined in scikit-learn are touched.
    """
    for i, line in enumerate(lines):
        lines[i] = _SKLEARN_ROLE.sub(
            lambda m: f"``{(m.group(1) or m.group(2)).strip()}``", line
        )


def _fix_docstring(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn."):
        _plain_sklearn_cross_references(lines)


def _skip_keras_members(app, what, name, obj, skip, options):
    """Leave out members the Keras layers inherit from Keras.

    Their docstrings are Markdown, not reST, and they are Keras' to document.
    """
    import keras

    if what == "class" and hasattr(keras.layers.Layer, name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_keras_members)
    # Before numpydoc (priority 500) reformats the docstring.
    app.connect("autodoc-process-docstring", _fix_docstring, priority=400)
