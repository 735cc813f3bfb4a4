"""ResNet builders: a compact residual network and keras.applications backbones."""

import keras

from skbreast.models._augment import augmentation_layers
from skbreast.models._backbones import (
    RESNET_APPLICATIONS,
    application_backbone,
    application_input,
)
from skbreast.models._common import (
    check_input_shape,
    check_n_outputs,
    classification_head,
    image_input,
    layer_seed,
)
from skbreast.models._weights import (
    check_sha256,
    existing_weights_path,
    load_weights_file,
)

#: Backbones accepted by :func:`build_resnet` and :class:`skbreast.ResNetClassifier`.
RESNET_BACKBONES = ("compact", *RESNET_APPLICATIONS)


def build_resnet(
    input_shape=(50, 50, 3),
    n_outputs=1,
    *,
    backbone="compact",
    weights=None,
    weights_sha256=None,
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
        ``~/.keras/models``). A path loads a local weights file: the ``.h5`` files
        keras.applications downloads (``*_notop.h5``, or the full file, whose
        classification top is skipped), a ``.weights.h5`` file written by
        ``save_weights`` or a ``.keras`` file written by ``save``, of a network with
        exactly the backbone's layers. A file written for another network is
        refused with a ``ValueError`` naming the backbone and the file.
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file (with ``"imagenet"``: of the
        downloaded file in Keras' cache); a mismatch raises a ``ValueError``.
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
    ValueError
        If a weights file does not fit the backbone, or its SHA-256 is not
        ``weights_sha256``.

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
        if weights is not None:
            path = existing_weights_path(weights)
            if weights_sha256 is not None:
                check_sha256(path, weights_sha256)
            label = (
                f"compact (filters={tuple(int(f) for f in filters)}, "
                f"blocks_per_stage={int(blocks_per_stage)})"
            )
            load_weights_file(net, path, label)
        features = net(x)
    else:
        x, (height, width) = application_input(x, backbone)
        net = application_backbone(
            backbone, (height, width, 3), weights, seed, weights_sha256
        )
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
