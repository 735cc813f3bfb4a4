"""The package's architecture: no import circle, one-way layers, a small root."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_images

import skbreast

PACKAGE = Path(skbreast.__file__).parent
DATA = Path(__file__).parent / "data"


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every skbreast module that ``path`` imports, at the top or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.add(module)
            # ``from skbreast import cli`` imports the submodule skbreast.cli.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "skbreast" or m.startswith("skbreast.")}


def import_graph():
    """Return ``{module: {imported modules}}`` over the package's own modules."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _imports(path):
            # An import of a.b.c also runs a and a.b (their __init__).
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in modules and prefix != name:
                    edges.add(prefix)
        graph[name] = edges
    return graph


def _cycle(graph):
    """Return one import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _inside(module, package):
    return module == package or module.startswith(package + ".")


def test_graph_sees_lazy_imports():
    # inspection is imported inside a function of the report writer.
    assert "skbreast.inspection" in import_graph()["skbreast.cli.report"]


def test_no_import_cycle():
    # A package's __init__ re-exports its parts, and Python has always begun
    # importing a module's parent packages before the module itself: an edge to
    # one's own ancestor is implicit, so it is left out. A cycle among siblings
    # or across packages is what breaks.
    graph = {
        m: {t for t in edges if not m.startswith(t + ".")}
        for m, edges in import_graph().items()
    }
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        # Training never imports persistence, the estimators or the command line.
        (
            "skbreast._training",
            [
                "skbreast._persistence",
                "skbreast.cnn",
                "skbreast.resnet",
                "skbreast.transfer",
                "skbreast.cli",
            ],
        ),
        # Persistence learns the estimator classes through its registry.
        (
            "skbreast._persistence",
            ["skbreast.cnn", "skbreast.resnet", "skbreast.transfer", "skbreast.cli"],
        ),
        # Builders are pure Keras.
        ("skbreast.models", ["skbreast._training", "skbreast._persistence"]),
        ("skbreast.datasets", ["skbreast._training", "skbreast._persistence"]),
        # The metric registry is read by the comparison, the report and the
        # commands; it reads none of them.
        (
            "skbreast.metrics",
            [
                "skbreast._training",
                "skbreast._persistence",
                "skbreast.cnn",
                "skbreast.resnet",
                "skbreast.transfer",
                "skbreast.model_selection",
                "skbreast.report",
                "skbreast.cli",
            ],
        ),
        ("skbreast.preprocessing", ["skbreast._training", "skbreast._persistence"]),
        ("skbreast.model_selection", ["skbreast._training", "skbreast._persistence"]),
        # Reports know no estimator and no comparison: their builders fill them.
        (
            "skbreast.report",
            [
                "skbreast._training",
                "skbreast._persistence",
                "skbreast.cnn",
                "skbreast.resnet",
                "skbreast.transfer",
                "skbreast.embedding",
                "skbreast.model_selection",
                "skbreast.cli",
            ],
        ),
        # Slides take any fitted classifier; they know no estimator class.
        (
            "skbreast.slide",
            [
                "skbreast._training",
                "skbreast._persistence",
                "skbreast.cnn",
                "skbreast.resnet",
                "skbreast.transfer",
                "skbreast.embedding",
                "skbreast.cli",
            ],
        ),
    ],
)
def test_layers_import_one_way(layer, forbidden):
    bad = {
        (module, target)
        for module, edges in import_graph().items()
        if _inside(module, layer)
        for target in edges
        if any(_inside(target, f) for f in forbidden)
    }
    assert not bad, sorted(bad)
    # Nor the package root's re-exported names (its __version__ included).
    roots = {
        (_module_name(path), name)
        for path in PACKAGE.rglob("*.py")
        if _inside(_module_name(path), layer)
        for name in _names_from_package_root(path)
    }
    assert not roots, sorted(roots)


def _names_from_package_root(path):
    """Names other than submodules taken by ``from skbreast import ...``."""
    submodules = {p.stem for p in PACKAGE.iterdir()}
    return {
        alias.name
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "skbreast"
        for alias in node.names
        if alias.name not in submodules
    }


def test_the_command_line_uses_the_package_not_its_training_internals():
    bad = {
        (module, target)
        for module, edges in import_graph().items()
        if _inside(module, "skbreast.cli")
        for target in edges
        if _inside(target, "skbreast._training")
    }
    assert not bad, sorted(bad)


def test_one_image_decoder():
    # Estimators and loaders read files through datasets/_imageio only.
    users = {
        module
        for module, path in ((_module_name(p), p) for p in PACKAGE.rglob("*.py"))
        if "PIL" in {n.split(".")[0] for n in _third_party_imports(path)}
    }
    assert users <= {"skbreast.datasets._imageio", "skbreast.datasets._synthetic"}, (
        users
    )


def test_the_atomic_writer_is_a_leaf():
    assert import_graph()["skbreast._fileio"] == set()


def test_no_module_over_600_lines():
    # A module that grows past this is holding more than one concern.
    lines = {
        _module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")
    }
    long = {module: n for module, n in lines.items() if n > 600}
    assert not long, long


def test_one_atomic_writer():
    # Files reach their final name through skbreast/_fileio.py only. The one
    # exception renames a whole extracted folder and must tolerate another
    # process winning the race (datasets/_fetch.py).
    renames = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if path.name != "_fileio.py"
        and ("os.replace(" in path.read_text() or "os.fsync(" in path.read_text())
    }
    assert renames <= {"skbreast.datasets._fetch"}, renames


def _third_party_imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


# The root holds public modules and one folder per private part; a new entry
# joins this list on purpose (and docs/architecture.rst with it).
ROOT = {
    "__init__.py",
    "__main__.py",  # python -m skbreast
    "_version.py",
    "_fileio.py",  # the one atomic writer, used by every part that writes files
    "_training",
    "_persistence",
    "cli",
    "cnn.py",
    "resnet.py",
    "transfer.py",  # TransferClassifier: fine-tuning any pretrained backbone
    "models",
    "datasets",
    "embedding",  # ImageEmbedder: pretrained features as a transformer
    "metrics",  # every metric once: the registry, patient scores and scorers
    "model_selection",
    "report",  # the report model, its templates and the one renderer
    "preprocessing",
    "slide",  # whole-slide reading, tissue, tiles, slide heatmaps and scores
    "plotting.py",
    "inspection.py",
}


def test_package_root_lists_its_parts():
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert entries == ROOT


def test_public_import_paths():
    code = (
        "import skbreast, skbreast.models, skbreast.datasets, skbreast.metrics, "
        "skbreast.plotting, skbreast.inspection, skbreast.cli\n"
        "from skbreast import CNNClassifier, ResNetClassifier, load, save\n"
        "from skbreast.cli import main\n"
        "assert callable(main) and isinstance(skbreast.__version__, str)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_quiet_env())


def test_persistence_does_not_need_the_estimator_modules_imported_first():
    # Importing persistence alone imports neither the estimators nor the package
    # root beyond what Python runs for the package itself.
    code = (
        "import sys\n"
        "import skbreast._persistence.format\n"
        "bad = [m for m in ('skbreast.cli', 'skbreast.cli.main') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_quiet_env())


def _quiet_env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_files_written_before_the_move_still_load(name):
    # Written by skbreast 0.1.0.dev0 before the package was reorganised into
    # _training/, _persistence/ and cli/ (tests/data, see its expected values).
    expected = json.loads((DATA / "skb_0.1.0.dev0_expected.json").read_text())
    estimator = skbreast.load(DATA / f"{name}_0.1.0.dev0.skb")
    X, _ = make_images(n=40)
    # The files run in bfloat16 (precision "auto" on the CPU that wrote them),
    # whose kernels round differently with and without the CPU's bfloat16
    # instructions (2.5e-4 apart on an AMD EPYC without them): a load that
    # dropped or mixed up weights moves them by far more.
    assert estimator.precision_ == "mixed_bfloat16"
    np.testing.assert_allclose(
        estimator.predict_proba(X[:6]), expected["predict_proba"][name], atol=1e-3
    )
    assert list(estimator.classes_) == ["benign", "malignant"]
