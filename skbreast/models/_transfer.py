"""A classifier on any pretrained backbone, and the switches fine-tuning needs.

:func:`build_transfer` puts a pooled dropout + dense head on a backbone given as a
keras.applications name, a ``.keras`` file, a ``keras.Model`` or a keras-hub
preset. :func:`set_backbone_trainable` is the one place that decides which of a
backbone's layers learn in a phase of fine-tuning, and keeps every batch
normalisation layer (nested ones too) in inference mode while it does. Pure Keras.
"""

import os

import keras

from skbreast.models._augment import augmentation_layers
from skbreast.models._backbones import (
    APPLICATIONS,
    application_backbone,
    application_input,
    hub_preset,
    image_size_pair,
    keras_cache,
    model_input,
    preset_input,
    weights_file_name,
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
    file_sha256,
    load_weights_file,
)

#: Momentum of the batch normalisation layers of a backbone trained from random
#: weights. keras.applications use 0.99-0.999, which after the few hundred steps of
#: a histology fit leaves the moving statistics (used at predict time) far from
#: the batch statistics the network trained with: measured, MobileNetV2 from
#: random weights scored ROC AUC 0.50 on PCam after 3 epochs at 0.999.
RANDOM_INIT_BN_MOMENTUM = 0.9


def backbone_kind(backbone):
    """Return what ``backbone`` names: "application", "file", "model" or "preset"."""
    if isinstance(backbone, keras.Model):
        return "model"
    if isinstance(backbone, str) and backbone in APPLICATIONS:
        return "application"
    if isinstance(backbone, (str, os.PathLike)):
        path = os.fspath(backbone)
        if path.endswith(".keras") or os.path.isfile(path):
            return "file"
        return "preset"
    raise TypeError(
        "backbone must be a keras.applications name (e.g. 'mobilenetv2'), a .keras "
        "file, a keras.Model or a keras-hub preset name; got "
        f"{type(backbone).__name__}."
    )


_KIND_LABELS = {"model": "keras.Model", "file": ".keras file", "preset": "preset"}


def resolved_weights(backbone, weights):
    """Return ``weights`` with "auto" resolved, checked against the backbone's kind.

    "auto" is "imagenet" for a keras.applications name and the backbone's own
    weights ("own") otherwise; "imagenet" applies to keras.applications names only.
    """
    kind = backbone_kind(backbone)
    if isinstance(weights, str) and weights == "auto":
        return "imagenet" if kind == "application" else "own"
    if isinstance(weights, str) and weights == "imagenet" and kind != "application":
        raise ValueError(
            "weights='imagenet' applies to keras.applications backbone names (e.g. "
            f"'mobilenetv2'); a {_KIND_LABELS[kind]} backbone brings its own "
            "weights: use weights='auto' (its own), None (the same network from "
            "random weights) or a weights file."
        )
    if kind == "preset":  # "auto" was answered above
        raise ValueError(
            "A keras-hub preset brings its own weights: use weights='auto'."
        )
    return weights


def describe_weights(backbone, weights, input_size=None):
    """Say where a backbone's initial weights come from, as plain JSON data.

    Returns ``{"backbone", "weights", "file", "sha256"}``: ``weights`` is
    "imagenet", "random", "own" (a file's, a model's or a preset's own) or "file";
    ``file`` is the name of the weights (or model) file and ``sha256`` its SHA-256
    when the file is on this machine (None otherwise).

    Parameters
    ----------
    backbone : str, path or keras.Model
        The backbone, as :func:`build_transfer` takes it.
    weights : "auto", "imagenet", None or path
        The weights, as :func:`build_transfer` takes them.
    input_size : int or None, default=None
        The image height the backbone runs at (it picks MobileNetV2's ImageNet
        file).

    Returns
    -------
    description : dict
        ``{"backbone", "weights", "file", "sha256"}``, plain JSON data.

    Examples
    --------
    >>> from skbreast.models import describe_weights
    >>> describe_weights("mobilenetv2", None)
    {'backbone': 'mobilenetv2', 'weights': 'random', 'file': None, 'sha256': None}
    >>> describe_weights("resnet50", "auto")["file"]
    'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    kind = backbone_kind(backbone)
    weights = resolved_weights(backbone, weights)
    if kind == "model":
        name = f"keras.Model {backbone.name!r}"
    else:
        name = os.path.basename(os.fspath(backbone)) if kind == "file" else backbone
    path = None
    if weights == "imagenet":
        path = os.path.join(keras_cache(), weights_file_name(backbone, input_size))
    elif weights == "own" and kind == "file":
        path = os.fspath(backbone)
    elif weights not in (None, "own"):
        path = os.fspath(weights)
        weights = "file"
    found = path is not None and os.path.isfile(path)
    return {
        "backbone": name,
        "weights": "random" if weights is None else weights,
        "file": None if path is None else os.path.basename(path),
        "sha256": file_sha256(path) if found else None,
    }


def build_transfer(
    input_shape=(96, 96, 3),
    n_outputs=1,
    *,
    backbone="mobilenetv2",
    weights="auto",
    weights_sha256=None,
    image_size=None,
    dropout=0.2,
    input_scale=1 / 255,
    seed=None,
    flip=False,
    rotate90=False,
    stain_jitter=0.0,
    zoom=0.0,
):
    """Build a classifier (uncompiled) on a pretrained or randomly initialised backbone.

    The model rescales its input to [0, 1], applies the training-only augmentation,
    resizes to ``image_size``, gives the backbone the input its weights expect, runs
    it (a nested model named ``"backbone"``), pools its output and ends in a dropout
    layer and a sigmoid or softmax output. With pretrained weights every batch
    normalisation layer of the backbone is made non-trainable, which in Keras 3
    keeps it in inference mode during ``fit`` (see :func:`set_backbone_trainable`).

    Parameters
    ----------
    input_shape : tuple of int, default=(96, 96, 3)
        ``(height, width, channels)`` of one input image.
    n_outputs : int, default=1
        1 for a binary problem (sigmoid), else the number of classes (softmax).
    backbone : str, path or keras.Model, default="mobilenetv2"
        A keras.applications name (one of ``skbreast.models.APPLICATIONS``: ResNet
        v1/v2, MobileNetV2/V3, EfficientNet/V2, DenseNet, ConvNeXt), given the
        ImageNet preprocessing of its family; a ``.keras`` model file or a
        ``keras.Model`` taking [0, 1] RGB images (copied: the given model is never
        changed); or a keras-hub preset name (needs ``keras-hub``), given its own
        image converter.
    weights : "auto", "imagenet", None or path, default="auto"
        "auto": ImageNet for a keras.applications name, the backbone's own weights
        otherwise. "imagenet": Keras' ImageNet download (offline, an ``OSError``
        names the file to fetch and where to put it). None: the same network from
        random weights (seeded by ``seed``), its batch normalisation momentum set
        to ``RANDOM_INIT_BN_MOMENTUM``. A path: a weights file for this network
        (``.h5``, ``.weights.h5`` or ``.keras``); a file written for another
        network is refused with a ``ValueError`` naming both.
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file: the file given, the ``.keras``
        backbone file, or the ImageNet download in Keras' cache.
    image_size : int, tuple of int or None, default=None
        ``(height, width)`` images are resized to inside the model; None keeps the
        input size (a ``keras.Model`` with a fixed input size gets that size).
        keras.applications networks need at least 32x32.
    dropout : float, default=0.2
        Dropout rate before the output layer.
    input_scale : float, default=1/255
        Factor mapping the input to [0, 1] (1/255 for uint8 pixels).
    seed : int or None, default=None
        Seed of the head, the augmentation and a random initialisation.
    flip, rotate90, stain_jitter, zoom : default=False, False, 0.0, 0.0
        Training-only augmentation, as in :func:`build_resnet`.

    Returns
    -------
    model : keras.Model
        The uncompiled model, with layers ``"backbone"``, ``"logits"`` and
        ``"probabilities"``.

    Raises
    ------
    OSError
        If ImageNet weights cannot be downloaded; the message names the file.
    ValueError
        If a weights file does not fit the backbone, or its SHA-256 is not
        ``weights_sha256``.

    Examples
    --------
    >>> from skbreast.models import build_transfer
    >>> model = build_transfer((32, 32, 3), backbone="mobilenetv3small",
    ...                        weights=None, seed=0)
    >>> model.get_layer("backbone").name
    'backbone'
    """
    input_shape = check_input_shape(input_shape)
    n_outputs = check_n_outputs(n_outputs)
    kind = backbone_kind(backbone)
    weights = resolved_weights(backbone, weights)
    inputs, x = image_input(input_shape, input_scale)
    x = augmentation_layers(
        x, flip=flip, rotate90=rotate90, stain_jitter=stain_jitter, zoom=zoom, seed=seed
    )
    size = image_size_pair(image_size)
    if kind == "application":
        x, (height, width) = application_input(x, backbone, size)
        net = application_backbone(
            backbone, (height, width, 3), weights, seed, weights_sha256
        )
    elif kind == "preset":
        net, converter = hub_preset(backbone)
        x = preset_input(x, converter, backbone, size)
    else:
        net = _own_network(backbone, kind, weights, weights_sha256, seed)
        x = model_input(x, net, size)
    net.name = "backbone"
    if weights is None:
        for layer in batch_norm_layers(net):
            layer.momentum = RANDOM_INIT_BN_MOMENTUM
    else:
        set_backbone_trainable(net, "all")
    features = net(x)
    if len(features.shape) == 4:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    elif len(features.shape) == 3:  # tokens of a vision transformer
        x = keras.layers.GlobalAveragePooling1D(name="avg_pool")(features)
    else:
        x = features
    if dropout:
        x = keras.layers.Dropout(
            dropout, seed=layer_seed(seed, 20_000), name="dropout"
        )(x)
    outputs = classification_head(x, n_outputs, seed)
    return keras.Model(inputs, outputs, name="transfer")


def _own_network(backbone, kind, weights, weights_sha256, seed):
    """Return a fresh copy of a file's or a model's network with the weights asked."""
    if kind == "file":
        path = os.fspath(backbone)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Backbone model file not found: {path!r}.")
        if weights == "own" and weights_sha256 is not None:
            check_sha256(path, weights_sha256)
        source = keras.saving.load_model(path, compile=False, safe_mode=True)
        label = f"{os.path.basename(path)!r}"
    else:
        source = backbone
        label = f"keras.Model {backbone.name!r}"
    if seed is not None and weights is None:
        # clone_model initialises the copy from Keras' global generator.
        keras.utils.set_random_seed(int(seed))
    # A clone: fine-tuning must never change the model the user passed in.
    net = keras.models.clone_model(source)
    if weights == "own":
        net.set_weights(source.get_weights())
    elif weights is not None:
        path = existing_weights_path(weights)
        if weights_sha256 is not None:
            check_sha256(path, weights_sha256)
        load_weights_file(net, path, f"backbone {label}")
    return net


def batch_norm_layers(model):
    """Every BatchNormalization layer inside ``model``, nested models included."""
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif getattr(layer, "layers", None):
            found.extend(batch_norm_layers(layer))
    return found


def set_backbone_trainable(backbone, layers, *, freeze_batch_norm=True):
    """Choose which layers of a backbone learn in the next phase of training.

    Parameters
    ----------
    backbone : keras.Model
        The backbone (the ``"backbone"`` layer of a built model).
    layers : "all", "none" or int
        All layers, none (a frozen backbone: only the head learns) or the top
        ``layers`` layers of the backbone.
    freeze_batch_norm : bool, default=True
        Keep every batch normalisation layer, nested ones included, non-trainable.
        In Keras 3 a non-trainable BatchNormalization runs in inference mode even
        inside ``fit``: it normalises with the moving statistics learnt on ImageNet
        and never updates them. Calling the backbone with ``training=False`` is not
        enough: measured, the moving means of a loaded backbone's nested layers
        moved by 0.43 in one epoch, and the network collapsed to ROC AUC 0.50.

    Notes
    -----
    The model must be compiled again for a change of trainable weights to count.
    """
    if layers == "none":
        backbone.trainable = False
        return
    backbone.trainable = True
    if layers != "all":
        for layer in backbone.layers[: -int(layers)]:
            layer.trainable = False
    if freeze_batch_norm:
        for layer in batch_norm_layers(backbone):
            layer.trainable = False
