import os

# Quiet TensorFlow's C++ start-up notices in test logs; set before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Under pytest-xdist, one framework thread per worker: with "-n 2" on 2 cores, each
# worker's TensorFlow otherwise runs a pool as wide as the machine and the pools
# spin against each other. Measured on the 2-core CI machine: test_estimators.py
# and test_augmentation.py took 212 s with the default pools, 136 s with this.
# The estimators' n_threads="auto" reads it; subprocesses the tests start inherit
# it. A value the user set is kept.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Tiny architectures: tests check behaviour, not accuracy, and CI has 2 cores.
SMALL_CNN = dict(filters=(4,), dense_units=(8,), learning_rate=0.01, random_state=0)
SMALL_RESNET = dict(
    filters=(4, 8), blocks_per_stage=1, dropout=0.0, learning_rate=0.01, random_state=0
)


def make_images(n=60, size=8, channels=3, n_classes=2, seed=0, dtype=np.uint8):
    """Images whose class sets the brightness of a central square: easy to learn."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % n_classes
    X = rng.randint(0, 90, size=(n, size, size, channels))
    lo, hi = size // 4, size - size // 4
    X[:, lo:hi, lo:hi, :] += (y * (160 // max(1, n_classes - 1)))[:, None, None, None]
    return X.astype(dtype), y


def saved_model_file(model, name):
    """Save ``model`` as ``<temp>/skbreast_tests_<name>.keras`` and return the path.

    For estimator checks that need a backbone *file*: a ``keras.Model`` parameter
    hashes differently every second (Keras stamps the save time), which makes
    ``check_estimators_overwrite_params`` pass or fail by timing. The path is the
    same in every pytest-xdist worker (test ids show it) and written atomically.
    """
    import tempfile

    from skbreast._fileio import atomic_path

    path = os.path.join(tempfile.gettempdir(), f"skbreast_tests_{name}.keras")
    with atomic_path(path, ".keras") as tmp:
        model.save(tmp)
    return path


@pytest.fixture
def images():
    return make_images()


@pytest.fixture
def fake_keras_hub(monkeypatch):
    """A stand-in ``keras_hub`` whose presets are tiny token models; yields the
    names of the presets loaded (no download, no keras-hub install needed)."""
    import sys
    import types

    import keras

    loaded = []

    def from_preset(name):
        loaded.append(name)
        inputs = keras.Input((8, 8, 3))
        tokens = keras.layers.Reshape((64, 3))(inputs)
        return keras.Model(inputs, keras.layers.Dense(5)(tokens))

    def no_converter(name):
        raise ValueError("no image converter")

    fake = types.SimpleNamespace(
        models=types.SimpleNamespace(
            Backbone=types.SimpleNamespace(from_preset=from_preset)
        ),
        layers=types.SimpleNamespace(
            ImageConverter=types.SimpleNamespace(from_preset=no_converter)
        ),
    )
    monkeypatch.setitem(sys.modules, "keras_hub", fake)
    return loaded


# Docstring examples of features that need TensorFlow (Grad-CAM uses its gradient
# tape); on other Keras backends they raise a clear error instead.
_TENSORFLOW_ONLY_DOCTESTS = {
    "skbreast.inspection.gradcam",
    # Its example runs the exported SavedModel with TensorFlow.
    "skbreast._persistence.mixin.ModelFileMixin.export",
}


def pytest_collection_modifyitems(config, items):
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason="needs the TensorFlow backend")
    for item in items:
        if item.name in _TENSORFLOW_ONLY_DOCTESTS:
            item.add_marker(skip)
