"""Pure Keras model builders, with no scikit-learn inside.

The estimators in :mod:`skbreast` call these functions to create their networks; they
are public so that the same architectures can be used from plain Keras code or plugged
into other wrappers such as ``scikeras.wrappers.KerasClassifier``.
"""

from skbreast.models._augment import RandomDihedral, RandomStainJitter
from skbreast.models._backbones import APPLICATIONS as _APPLICATIONS
from skbreast.models._cnn import build_cnn
from skbreast.models._dropout import FastDropout
from skbreast.models._resnet import RESNET_BACKBONES, build_resnet
from skbreast.models._transfer import build_transfer, describe_weights

#: The keras.applications networks the builders, the classifiers and
#: :class:`~skbreast.ImageEmbedder` take by name: ResNet v1/v2, MobileNetV2/V3,
#: EfficientNet/V2, DenseNet and ConvNeXt.
APPLICATION_BACKBONES = tuple(_APPLICATIONS)

__all__ = [
    "build_cnn",
    "build_resnet",
    "build_transfer",
    "describe_weights",
    "APPLICATION_BACKBONES",
    "RESNET_BACKBONES",
    "FastDropout",
    "RandomDihedral",
    "RandomStainJitter",
]
