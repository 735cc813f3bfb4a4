"""ResNet builders: a compact residual network and keras.applications backbones."""

import os

import keras
import numpy as np

from skbreast.models._augment import augmentation_layers
from skbreast.models._common import (
    check_input_shape,
    check_n_outputs,
    classification_head,
    image_input,
    layer_seed,
)

# name -> (keras.applications constructor name, ImageNet preprocessing mode, the
# file keras.applications downloads for include_top=False).
_APPLICATIONS = {
    "resnet50": (
        "ResNet50",
        "caffe",
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "resnet101": (
        "ResNet101",
        "caffe",
        "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "resnet152": (
        "ResNet152",
        "caffe",
        "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "resnet50v2": (
        "ResNet50V2",
        "tf",
        "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "resnet101v2": (
        "ResNet101V2",
        "tf",
        "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "resnet152v2": (
        "ResNet152V2",
        "tf",
        "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
}

#: Backbones accepted by :func:`build_resnet` and :class:`skbreast.ResNetClassifier`.
RESNET_BACKBONES = ("compact", *_APPLICATIONS)

# keras.applications' ResNets refuse inputs smaller than this with include_top=False.
_MIN_APPLICATION_SIZE = 32
_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype="float32")


def build_resnet(
    input_shape=(50, 50, 3),
    n_outputs=1,
    *,
    backbone="compact",
    weights=None,
    image_size=None,
    filters=(32, 64, 128),
    blocks_per_stage=2,
    dropout=0.2,
    input_scale=1 / 255,
    seed=None,
    flip=False,
    rotate90=False,
    stain_jitter=0.0,
    zoom=0.0,
):
    """Build a ResNet classifier (uncompiled) around a residual backbone.

    The model rescales its input, optionally resizes it to ``image_size``, applies the
    backbone's ImageNet preprocessing, runs the backbone (a nested model named
    ``"backbone"``, so that it can be frozen for fine-tuning), averages the final
    feature map and ends in a dropout layer and a sigmoid or softmax output.

    Parameters
    ----------
    input_shape : tuple of int, default=(50, 50, 3)
        ``(height, width, channels)`` of one input image.
    n_outputs : int, default=1
        1 for a binary problem (sigmoid), else the number of classes (softmax).
    backbone : str, default="compact"
        ``"compact"``: a small residual network (a 3x3 stem, then ``blocks_per_stage``
        basic blocks per entry of ``filters``, halving the resolution between stages)
        that trains from scratch on 50-100 px patches on a CPU. Or one of
        ``"resnet50"``, ``"resnet101"``, ``"resnet152"`` and their ``"v2"`` variants
        from :mod:`keras.applications`.
    weights : None, "imagenet" or path, default=None
        ``None`` initialises the backbone randomly. ``"imagenet"`` loads the ImageNet
        weights of a keras.applications backbone (downloaded once into
        ``~/.keras/models``). A path loads a local weights file: for keras.applications
        backbones the ``*_notop.h5`` file Keras distributes, or any file written by
        ``backbone.save_weights``.
    image_size : tuple of int or None, default=None
        ``(height, width)`` the images are resized to inside the model; ``None`` keeps
        the input size. keras.applications backbones need at least 32x32.
    filters : tuple of int, default=(32, 64, 128)
        Filters of each stage of the compact backbone (ignored otherwise).
    blocks_per_stage : int, default=2
        Residual blocks per stage of the compact backbone (ignored otherwise).
    dropout : float, default=0.2
        Dropout rate before the output layer.
    input_scale : float, default=1/255
        Factor mapping the input to [0, 1] (1/255 for uint8 pixels).
    seed : int or None, default=None
        Seed of the initializers, dropout and augmentation of the layers this
        function creates.
    flip, rotate90, stain_jitter, zoom : default=False, False, 0.0, 0.0
        Training-only augmentation layers placed after the rescaling and before any
        resizing (all off by default here; the estimators turn flips, rotations and
        stain jitter on). They are the identity at inference. See
        :class:`skbreast.models.RandomDihedral`,
        :class:`skbreast.models.RandomStainJitter` (3-channel images only) and the
        ``zoom`` parameter of :class:`skbreast.ResNetClassifier`.

    Returns
    -------
    model : keras.Model
        The uncompiled model, with layers ``"backbone"``, ``"logits"`` and
        ``"probabilities"``.

    Raises
    ------
    OSError
        If ``weights="imagenet"`` and the weights cannot be downloaded (for example
        offline); the message says where to put the file by hand.

    Examples
    --------
    >>> from skbreast.models import build_resnet
    >>> model = build_resnet((50, 50, 3), backbone="compact", seed=0)
    >>> model.get_layer("backbone").name
    'backbone'
    """
    input_shape = check_input_shape(input_shape)
    n_outputs = check_n_outputs(n_outputs)
    if backbone not in RESNET_BACKBONES:
        raise ValueError(
            f"backbone must be one of {RESNET_BACKBONES}, got {backbone!r}."
        )
    inputs, x = image_input(input_shape, input_scale)
    x = augmentation_layers(
        x, flip=flip, rotate90=rotate90, stain_jitter=stain_jitter, zoom=zoom, seed=seed
    )
    height, width, channels = input_shape
    if image_size is not None:
        height, width = (int(s) for s in image_size)
        x = keras.layers.Resizing(height, width, name="resize")(x)

    if backbone == "compact":
        if isinstance(weights, str) and weights == "imagenet":
            raise ValueError(
                "The compact backbone has no ImageNet weights; use weights=None or a "
                "path to weights saved from a compact backbone, or a "
                "keras.applications backbone such as backbone='resnet50'."
            )
        net = _compact_backbone(
            (height, width, channels), filters, blocks_per_stage, seed
        )
        _load_local_weights(net, weights)
        features = net(x)
    else:
        x = _to_rgb(x, channels, backbone)
        if min(height, width) < _MIN_APPLICATION_SIZE:
            raise ValueError(
                f"backbone={backbone!r} needs images of at least "
                f"{_MIN_APPLICATION_SIZE}x{_MIN_APPLICATION_SIZE} pixels, got "
                f"{height}x{width}; set image_size=(224, 224) (or another size >= "
                f"{_MIN_APPLICATION_SIZE}) to resize inside the model."
            )
        x = _imagenet_preprocessing(x, _APPLICATIONS[backbone][1])
        net = _application_backbone(backbone, (height, width, 3), weights, seed)
        # A pretrained backbone keeps its BatchNorm statistics frozen (inference mode)
        # even when its layers are unfrozen for fine-tuning: updating them on small
        # histology batches destroys what ImageNet taught them.
        features = net(x, training=False) if weights is not None else net(x)

    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    if dropout:
        x = keras.layers.Dropout(
            dropout, seed=layer_seed(seed, 20_000), name="dropout"
        )(x)
    outputs = classification_head(x, n_outputs, seed)
    return keras.Model(inputs, outputs, name=f"resnet_{backbone}")


def _compact_backbone(input_shape, filters, blocks_per_stage, seed):
    """Build a small ResNet of basic blocks, with 'same' padding throughout."""
    counter = iter(range(10_000))

    def conv(x, n_filters, kernel, strides, name):
        return keras.layers.Conv2D(
            int(n_filters),
            kernel,
            strides=strides,
            padding="same",
            use_bias=False,
            kernel_initializer=keras.initializers.HeNormal(
                seed=layer_seed(seed, 30_000 + next(counter))
            ),
            name=name,
        )(x)

    def batch_norm(x, name):
        # Momentum 0.9 rather than Keras' 0.99: the moving statistics used at predict
        # time must settle within the few hundred steps a small histology set gives.
        return keras.layers.BatchNormalization(momentum=0.9, name=name)(x)

    inputs = keras.Input(shape=input_shape, name="backbone_input")
    x = conv(inputs, filters[0], 3, 1, "stem_conv")
    x = batch_norm(x, "stem_bn")
    x = keras.layers.ReLU(name="stem_relu")(x)
    for stage, n_filters in enumerate(filters):
        for block in range(int(blocks_per_stage)):
            strides = 2 if stage > 0 and block == 0 else 1
            name = f"stage{stage + 1}_block{block + 1}"
            shortcut = x
            y = conv(x, n_filters, 3, strides, f"{name}_conv1")
            y = batch_norm(y, f"{name}_bn1")
            y = keras.layers.ReLU(name=f"{name}_relu1")(y)
            y = conv(y, n_filters, 3, 1, f"{name}_conv2")
            y = batch_norm(y, f"{name}_bn2")
            if strides != 1 or shortcut.shape[-1] != n_filters:
                if strides != 1:
                    # Subsample, then a 1x1 convolution: the same arithmetic as a
                    # strided 1x1 convolution, whose gradient TensorFlow 2.21's
                    # oneDNN CPU kernel computes out of bounds (heap corruption) on
                    # odd batch sizes with few channels.
                    shortcut = keras.layers.MaxPooling2D(
                        1, strides=strides, padding="same", name=f"{name}_subsample"
                    )(shortcut)
                shortcut = conv(shortcut, n_filters, 1, 1, f"{name}_proj")
                shortcut = batch_norm(shortcut, f"{name}_proj_bn")
            x = keras.layers.Add(name=f"{name}_add")([shortcut, y])
            x = keras.layers.ReLU(name=f"{name}_out")(x)
    return keras.Model(inputs, x, name="backbone")


def _application_backbone(backbone, input_shape, weights, seed):
    """Create a keras.applications ResNet without its top, loading ``weights``."""
    constructor_name, _, weights_file = _APPLICATIONS[backbone]
    constructor = getattr(keras.applications, constructor_name)
    if weights is not None and weights != "imagenet":
        weights = _existing_weights_path(weights)
    if weights is None and seed is not None:
        # keras.applications offers no per-layer seeds; its initializers draw from
        # Keras' global generator, which this resets.
        keras.utils.set_random_seed(int(seed))
    try:
        net = constructor(include_top=False, weights=weights, input_shape=input_shape)
    except Exception as exc:
        if weights == "imagenet" and _looks_like_download_failure(exc):
            cache = os.path.join(
                os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "models"
            )
            raise OSError(
                f"Could not download the ImageNet weights of {backbone} ({exc}). "
                f"This machine seems to be offline. Download '{weights_file}' from "
                "https://storage.googleapis.com/tensorflow/keras-applications/resnet/ "
                f"on a connected machine, then either put it in {cache} (Keras then "
                "finds it offline) or pass its path: weights='/path/to/"
                f"{weights_file}'."
            ) from exc
        raise
    # Rename so that estimators can find the backbone whatever its origin.
    net.name = "backbone"
    return net


def _load_local_weights(net, weights):
    """Load a weights file into a compact backbone (no-op when ``weights`` is None)."""
    if weights is None:
        return
    net.load_weights(_existing_weights_path(weights))


def _existing_weights_path(weights):
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Weights file not found: {path!r}.")
    return path


def _looks_like_download_failure(exc):
    # keras.utils.get_file raises a bare Exception("URL fetch failure on ...").
    text = str(exc)
    return isinstance(exc, OSError) or "URL fetch failure" in text or "urlopen" in text


def _to_rgb(x, channels, backbone):
    """Repeat a grayscale channel three times; ImageNet backbones expect RGB."""
    if channels == 3:
        return x
    if channels == 1:
        return keras.layers.Concatenate(axis=-1, name="gray_to_rgb")([x, x, x])
    raise ValueError(
        f"backbone={backbone!r} needs 1 (grayscale) or 3 (RGB) channels, got "
        f"{channels}."
    )


def _imagenet_preprocessing(x, mode):
    """ImageNet input preprocessing of a [0, 1] RGB tensor, with built-in layers only.

    Built-in layers (no Lambda) keep saved models loadable in Keras' safe mode.
    ``"caffe"`` (ResNet v1): 0-255 BGR minus the ImageNet channel means, done as a
    frozen 1x1 convolution; ``"tf"`` (ResNet v2): scaled to [-1, 1].
    """
    if mode == "tf":
        return keras.layers.Rescaling(2.0, offset=-1.0, name="imagenet_preprocess")(x)
    layer = keras.layers.Conv2D(3, 1, trainable=False, name="imagenet_preprocess")
    y = layer(x)
    kernel = np.zeros((1, 1, 3, 3), dtype="float32")
    for out_channel, in_channel in enumerate((2, 1, 0)):  # RGB -> BGR
        kernel[0, 0, in_channel, out_channel] = 255.0
    layer.set_weights([kernel, -_CAFFE_MEAN_BGR])
    return y
