"""Build the documentation, gallery included, with warnings as errors.

The gallery executes every ``examples/plot_*.py``, so this also checks that the
examples run. Set ``SKBREAST_SKIP_DOCS=1`` to skip it in quick local runs.
"""

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.skipif(
    os.environ.get("SKBREAST_SKIP_DOCS", "") not in ("", "0"),
    reason="SKBREAST_SKIP_DOCS is set",
)
def test_docs_build(tmp_path):
    if importlib.util.find_spec("tensorflow") is None:  # found, not imported here
        pytest.skip("the gallery's Grad-CAM example needs TensorFlow")
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    if not (DOCS / "conf.py").exists():
        pytest.skip("no docs/ folder (installed package)")

    out = tmp_path / "html"
    # A fresh process: the gallery's examples import TensorFlow with the settings
    # of docs/conf.py, and no state leaks between this test and the others.
    # Autosummary stubs and the executed gallery go to docs/generated and
    # docs/auto_examples (git-ignored), as in any Sphinx build.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        # The documentation shows the default backend, TensorFlow (a dependency of
        # the package), whatever backend this test run uses: its Grad-CAM example
        # needs TensorFlow's gradient tape.
        env={
            **os.environ,
            "KERAS_BACKEND": "tensorflow",
            "MPLBACKEND": "Agg",
            "SKBREAST_DOCS_RERUN": "1",
        },
        timeout=1200,
    )
    assert result.returncode == 0, (
        f"sphinx-build -W failed:\n{result.stdout[-5000:]}\n{result.stderr[-10000:]}"
    )
    assert (out / "index.html").exists()
    assert (out / "generated" / "skbreast.CNNClassifier.html").exists()
    assert (out / "auto_examples" / "plot_grid_search.html").exists()


PUBLIC_MODULES = [
    "skbreast",
    "skbreast.models",
    "skbreast.datasets",
    "skbreast.metrics",
    "skbreast.model_selection",
    "skbreast.preprocessing",
    "skbreast.inspection",
    "skbreast.plotting",
    "skbreast.slide",
    "skbreast.report",
]


def _public_names():
    import importlib

    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if not name.startswith("_"):
                yield module_name, name, getattr(module, name)


@pytest.mark.parametrize(
    "module_name, name, obj",
    list(_public_names()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_public_name_is_documented(module_name, name, obj):
    """Every public name has an API entry and a docstring that shows its use."""
    if not (DOCS / "api.rst").exists():
        pytest.skip("no docs/ folder (installed package)")
    api = (DOCS / "api.rst").read_text()
    section = api.split(f":mod:`{module_name}`", 1)
    assert len(section) == 2, f"docs/api.rst has no section for {module_name}"
    entries = section[1].split(":mod:`", 1)[0].split()
    assert name in entries, f"{module_name}.{name} is missing from docs/api.rst"
    # Scorer objects are documented in the module; functions and classes need
    # their own runnable example.
    if inspect.isfunction(obj) or inspect.isclass(obj):
        doc = obj.__doc__ or ""
        assert "Examples\n" in doc, f"{module_name}.{name} has no Examples section"
