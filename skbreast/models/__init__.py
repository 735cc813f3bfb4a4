"""Pure Keras model builders, with no scikit-learn inside.

The estimators in :mod:`skbreast` call these functions to create their networks; they
are public so that the same architectures can be used from plain Keras code or plugged
into other wrappers such as ``scikeras.wrappers.KerasClassifier``.
"""

from skbreast.models._augment import RandomDihedral, RandomStainJitter
from skbreast.models._cnn import build_cnn
from skbreast.models._dropout import FastDropout
from skbreast.models._resnet import RESNET_BACKBONES, build_resnet

__all__ = [
    "build_cnn",
    "build_resnet",
    "RESNET_BACKBONES",
    "FastDropout",
    "RandomDihedral",
    "RandomStainJitter",
]
