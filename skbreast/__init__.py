"""skbreast: scikit-learn estimators for breast histopathology image classification.

CNN and ResNet classifiers built on Keras 3 behind ``ClassifierMixin, BaseEstimator``
estimators, so they work with scikit-learn's pipelines, model selection and scorers.
"""

import importlib as _importlib
import os as _os

# TensorFlow's C++ start-up chatter (oneDNN and CUDA notices) drowns a user's own
# output; keep it quiet unless the user asked for something else.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from skbreast._version import __version__  # noqa: E402

__all__ = [
    "CNNClassifier",
    "ImageEmbedder",
    "LinearProbeClassifier",
    "ResNetClassifier",
    "TransferClassifier",
    "load",
    "read_model_card",
    "save",
    "__version__",
]

# The public names are imported on first use (PEP 562), so that ``import skbreast``,
# ``skbreast --help`` and ``skbreast info`` do not start TensorFlow. ``from skbreast
# import CNNClassifier`` and pickles (which name ``skbreast.cnn``) work as before.
_LAZY = {
    "CNNClassifier": "skbreast.cnn",
    "ResNetClassifier": "skbreast.resnet",
    "TransferClassifier": "skbreast.transfer",
    "ImageEmbedder": "skbreast.embedding",
    "LinearProbeClassifier": "skbreast.embedding",
    "save": "skbreast._persistence.format",
    "load": "skbreast._persistence.format",
    "read_model_card": "skbreast._persistence.manifest",
}
# load rebuilds the classes of its registry, which they join when their module runs.
_ESTIMATOR_MODULES = (
    "skbreast.cnn",
    "skbreast.resnet",
    "skbreast.transfer",
    "skbreast.embedding",
)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skbreast' has no attribute {name!r}")
    if name in ("load", "save"):
        for estimator_module in _ESTIMATOR_MODULES:
            _importlib.import_module(estimator_module)
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
