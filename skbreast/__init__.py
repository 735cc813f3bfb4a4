"""skbreast: scikit-learn estimators for breast histopathology image classification.

CNN and ResNet classifiers built on Keras 3 behind ``ClassifierMixin, BaseEstimator``
estimators, so they work with scikit-learn's pipelines, model selection and scorers.
"""

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN and CUDA notices) drowns a user's own
# output; keep it quiet unless the user asked for something else.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from skbreast._persistence import load, save  # noqa: E402
from skbreast._version import __version__  # noqa: E402
from skbreast.cnn import CNNClassifier  # noqa: E402
from skbreast.resnet import ResNetClassifier  # noqa: E402

__all__ = ["CNNClassifier", "ResNetClassifier", "load", "save", "__version__"]
