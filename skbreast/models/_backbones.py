"""keras.applications backbones: their preprocessing, weights files and features.

Shared by :func:`~skbreast.models.build_resnet` (the classifiers) and the
:class:`~skbreast.ImageEmbedder`, so that a backbone gets the same preprocessing and
the same weights-file checks whichever of them uses it. Pure Keras.
"""

import collections
import os
import re

import keras
import numpy as np

from skbreast.models._weights import (
    check_sha256,
    existing_weights_path,
    load_weights_file,
)

#: A keras.applications network: its constructor's name in ``keras.applications``,
#: the ImageNet input mode its weights expect (see :func:`imagenet_preprocessing`)
#: and the file keras.applications downloads for ``include_top=False`` (``{rows}``:
#: the input size MobileNetV2 picks its file by).
Application = collections.namedtuple(
    "Application", ["constructor", "preprocessing", "weights_file"]
)

# MobileNetV2's ImageNet files exist for these input sizes; other sizes get 224's.
_MOBILENET_V2_ROWS = (96, 128, 160, 192, 224)


def _applications():
    table = {}
    for depth in (50, 101, 152):
        table[f"resnet{depth}"] = Application(
            f"ResNet{depth}",
            "caffe",
            f"resnet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",
        )
        table[f"resnet{depth}v2"] = Application(
            f"ResNet{depth}V2",
            "tf",
            f"resnet{depth}v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        )
    table["mobilenetv2"] = Application(
        "MobileNetV2",
        "tf",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
    )
    # The networks below normalise their 0-255 input themselves
    # (include_preprocessing=True, Keras' default).
    for size in ("Small", "Large"):
        table[f"mobilenetv3{size.lower()}"] = Application(
            f"MobileNetV3{size}",
            "raw",
            f"weights_mobilenet_v3_{size.lower()}_224_1.0_float_no_top_v2.h5",
        )
    for i in range(8):
        table[f"efficientnetb{i}"] = Application(
            f"EfficientNetB{i}", "raw", f"efficientnetb{i}_notop.h5"
        )
    for variant in ("B0", "B1", "B2", "B3", "S", "M", "L"):
        table[f"efficientnetv2{variant.lower()}"] = Application(
            f"EfficientNetV2{variant}",
            "raw",
            f"efficientnetv2-{variant.lower()}_notop.h5",
        )
    for depth in (121, 169, 201):
        table[f"densenet{depth}"] = Application(
            f"DenseNet{depth}",
            "torch",
            f"densenet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",
        )
    for size in ("Tiny", "Small", "Base", "Large", "XLarge"):
        table[f"convnext{size.lower()}"] = Application(
            f"ConvNeXt{size}", "raw", f"convnext_{size.lower()}_notop.h5"
        )
    return table


#: keras.applications networks by the lower-case name the estimators take.
APPLICATIONS = _applications()
#: The ResNets among them (the backbones ``ResNetClassifier`` takes).
RESNET_APPLICATIONS = tuple(name for name in APPLICATIONS if name.startswith("resnet"))


def weights_file_name(backbone, input_size=None):
    """Return the name of the ImageNet (top-less) weights file of ``backbone``.

    The file keras.applications downloads into :func:`keras_cache`; ``input_size``
    (the image height) picks MobileNetV2's, other networks have one file.
    """
    name = APPLICATIONS[backbone].weights_file
    rows = input_size if input_size in _MOBILENET_V2_ROWS else 224
    return name.format(rows=rows)


# keras.applications' ResNets refuse inputs smaller than this with include_top=False.
MIN_APPLICATION_SIZE = 32
_CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype="float32")
_TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype="float32")
_TORCH_STD = np.array([0.229, 0.224, 0.225], dtype="float32")


# --------------------------------------------------------------------- networks
def application_backbone(
    backbone, input_shape, weights=None, seed=None, weights_sha256=None
):
    """Create a keras.applications network without its top, named ``"backbone"``.

    Parameters
    ----------
    backbone : str
        A key of ``APPLICATIONS``, e.g. ``"resnet50"``.
    input_shape : tuple
        ``(height, width, 3)``; height and width may be None (any size >= 32).
    weights : None, "imagenet" or path
        Random (seeded by ``seed``), Keras' ImageNet download, or a local file
        checked by :func:`load_weights_file`.
    seed : int or None
        Seed of a random initialisation.
    weights_sha256 : str or None
        Expected SHA-256 of the weights file (the local file, or the cached
        ImageNet download).

    Returns
    -------
    net : keras.Model
    """
    constructor = getattr(keras.applications, APPLICATIONS[backbone].constructor)
    weights_file = weights_file_name(backbone, input_shape[0])
    local = weights is not None and not _is_imagenet(weights)
    path = existing_weights_path(weights) if local else None
    if path is not None and weights_sha256 is not None:
        check_sha256(path, weights_sha256)
    if not _is_imagenet(weights) and seed is not None:
        # keras.applications offers no per-layer seeds; its initializers draw from
        # Keras' global generator, which this resets.
        keras.utils.set_random_seed(int(seed))
    try:
        net = constructor(
            include_top=False,
            weights="imagenet" if _is_imagenet(weights) else None,
            input_shape=tuple(input_shape),
        )
    except Exception as exc:
        if _is_imagenet(weights) and _looks_like_download_failure(exc):
            raise OSError(_offline_message(backbone, weights_file, exc)) from exc
        raise
    if _is_imagenet(weights) and weights_sha256 is not None:
        check_sha256(os.path.join(keras_cache(), weights_file), weights_sha256)
    if path is not None:
        load_weights_file(net, path, backbone)
    # Renamed so that estimators can find the backbone whatever its origin.
    net.name = "backbone"
    return net


def keras_cache():
    """Return the folder where Keras keeps its downloads (``$KERAS_HOME/models``)."""
    return os.path.join(
        os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "models"
    )


def _offline_message(backbone, weights_file, exc):
    # keras.utils.get_file says "URL fetch failure on <url>: ...": name that URL.
    found = re.search(r"https?://\S+?(?=:? |$)", str(exc))
    url = found.group(0) if found else f"the keras.applications page of {backbone}"
    return (
        f"Could not download the ImageNet weights of {backbone} ({exc}). This "
        f"machine seems to be offline. Download '{weights_file}' from {url} on a "
        f"connected machine, then either put it in {keras_cache()} (Keras then "
        f"finds it offline) or pass its path: weights='/path/to/{weights_file}'."
    )


def _is_imagenet(weights):
    return isinstance(weights, str) and weights == "imagenet"


def _looks_like_download_failure(exc):
    # keras.utils.get_file raises a bare Exception("URL fetch failure on ...").
    text = str(exc)
    return isinstance(exc, OSError) or "URL fetch failure" in text or "urlopen" in text


def preprocessing_mode(backbone):
    """Return the ImageNet preprocessing mode of a keras.applications backbone."""
    return APPLICATIONS[backbone].preprocessing


def to_rgb(x, channels, backbone):
    """Repeat a grayscale channel three times; ImageNet backbones expect RGB."""
    if channels == 3:
        return x
    if channels == 1:
        return keras.layers.Concatenate(axis=-1, name="gray_to_rgb")([x, x, x])
    raise ValueError(
        f"backbone={backbone!r} needs 1 (grayscale) or 3 (RGB) channels, got "
        f"{channels}."
    )


def imagenet_preprocessing(x, mode):
    """ImageNet input preprocessing of a [0, 1] RGB tensor, with built-in layers only.

    Built-in layers (no Lambda) keep saved models loadable in Keras' safe mode.
    ``"caffe"`` (ResNet v1): 0-255 BGR minus the ImageNet channel means, done as a
    frozen 1x1 convolution; ``"tf"`` (ResNet v2, MobileNetV2): scaled to [-1, 1];
    ``"torch"`` (DenseNet): the ImageNet channel means subtracted and divided by
    their standard deviations; ``"raw"`` (EfficientNet, EfficientNetV2,
    MobileNetV3, ConvNeXt, which normalise inside): back to 0-255. Each equals the
    network's ``keras.applications.<family>.preprocess_input`` applied to ``255 * x``.
    """
    if mode == "tf":
        return keras.layers.Rescaling(2.0, offset=-1.0, name="imagenet_preprocess")(x)
    if mode == "raw":
        return keras.layers.Rescaling(255.0, name="imagenet_preprocess")(x)
    if mode == "torch":
        return keras.layers.Normalization(
            mean=_TORCH_MEAN, variance=_TORCH_STD**2, name="imagenet_preprocess"
        )(x)
    layer = keras.layers.Conv2D(3, 1, trainable=False, name="imagenet_preprocess")
    y = layer(x)
    kernel = np.zeros((1, 1, 3, 3), dtype="float32")
    for out_channel, in_channel in enumerate((2, 1, 0)):  # RGB -> BGR
        kernel[0, 0, in_channel, out_channel] = 255.0
    layer.set_weights([kernel, -_CAFFE_MEAN_BGR])
    return y


def image_size_pair(image_size):
    """Return ``image_size`` (an int or a pair) as ``(height, width)``, or None."""
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)):
        return (int(image_size), int(image_size))
    size = tuple(int(s) for s in np.ravel(image_size))
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"image_size must be an int or a (height, width) pair, got {image_size!r}."
        )
    return size


def application_input(x, backbone, image_size=None):
    """Turn [0, 1] images into the input of a keras.applications network.

    Resizes ``x`` to ``image_size`` (when given), checks the network's minimum
    size, repeats a grayscale channel and applies the family's ImageNet
    preprocessing. Returns ``(x, (height, width))``, the size the network runs at.
    """
    height, width, channels = (int(d) for d in x.shape[1:])
    if image_size is not None and tuple(image_size) != (height, width):
        height, width = (int(s) for s in image_size)
        x = keras.layers.Resizing(height, width, name="resize")(x)
    if min(height, width) < MIN_APPLICATION_SIZE:
        raise ValueError(
            f"backbone={backbone!r} needs images of at least "
            f"{MIN_APPLICATION_SIZE}x{MIN_APPLICATION_SIZE} pixels, got "
            f"{height}x{width}; set image_size=224 (or another size >= "
            f"{MIN_APPLICATION_SIZE}) to resize them inside the model."
        )
    x = to_rgb(x, channels, backbone)
    return imagenet_preprocessing(x, preprocessing_mode(backbone)), (height, width)


def model_input(x, net, image_size=None):
    """Turn [0, 1] images into the input of a single-input ``keras.Model`` backbone.

    Resizes to ``image_size``, else to the model's own fixed input size, and
    repeats a grayscale channel for a model that takes RGB.
    """
    if len(net.inputs) != 1:
        raise ValueError(
            f"The backbone model {net.name!r} has {len(net.inputs)} inputs; an "
            "image backbone takes one batch of images."
        )
    height, width, channels = (int(d) for d in x.shape[1:])
    target = image_size or fixed_input_size(net)
    if target is not None and tuple(target) != (height, width):
        x = keras.layers.Resizing(*target, name="resize")(x)
    wanted = net.inputs[0].shape[-1]
    if wanted is not None and wanted != channels:
        if not (channels == 1 and wanted == 3):
            raise ValueError(
                f"The backbone model {net.name!r} takes images with {wanted} "
                f"channels; these have {channels}."
            )
        x = to_rgb(x, channels, net.name)
    return x


def fixed_input_size(net):
    """``(height, width)`` a model's input is fixed to, or None (any size)."""
    shape = net.inputs[0].shape if net.inputs else None
    if shape is None or len(shape) != 4 or None in tuple(shape[1:3]):
        return None
    return (int(shape[1]), int(shape[2]))


def preset_input(x, converter, name, image_size=None):
    """Turn [0, 1] images into the input of a keras-hub preset (see :func:`hub_preset`).

    Image converters take 0-255 pixel values and apply the preset's own resizing
    and normalisation; without one the preset gets [0, 1] values.
    """
    channels = int(x.shape[-1])
    x = keras.layers.Rescaling(255.0, name="to_255")(x)
    if image_size is not None:
        x = keras.layers.Resizing(*image_size, name="resize")(x)
    if converter is not None:
        x = converter(x)
    else:
        x = keras.layers.Rescaling(1 / 255.0, name="unit_range")(x)
    return to_rgb(x, channels, name)


def pooled(x, pooling, name="pool"):
    """Pool a feature map (4-D) or a token sequence (3-D) into one vector per image.

    The pooling computes in float32 under any dtype policy, so that embeddings are
    float32 even when the network runs in 16 bits.
    """
    rank = len(x.shape)
    if rank == 2:
        return x
    if rank == 4:
        if pooling == "cls":
            raise ValueError(
                "pooling='cls' takes the first token of a transformer's output; this "
                "backbone returns a feature map: use pooling='avg' or 'max'."
            )
        layer = (
            keras.layers.GlobalAveragePooling2D
            if pooling == "avg"
            else keras.layers.GlobalMaxPooling2D
        )
        return layer(dtype="float32", name=name)(x)
    if rank == 3:  # (batch, tokens, features): a vision transformer
        if pooling == "cls":
            tokens = x.shape[1]
            if tokens is None:
                raise ValueError("pooling='cls' needs a known number of tokens.")
            first = keras.layers.Cropping1D((0, int(tokens) - 1), name=f"{name}_cls")(x)
            return keras.layers.Flatten(dtype="float32", name=name)(first)
        layer = (
            keras.layers.GlobalAveragePooling1D
            if pooling == "avg"
            else keras.layers.GlobalMaxPooling1D
        )
        return layer(dtype="float32", name=name)(x)
    raise ValueError(
        f"The backbone's output has shape {tuple(x.shape)}; embeddings need a "
        "feature map (batch, height, width, channels), tokens (batch, tokens, "
        "features) or vectors (batch, features)."
    )


def build_application_embedder(
    image_shape,
    backbone,
    *,
    weights=None,
    weights_sha256=None,
    image_size=None,
    input_scale=1 / 255,
    layer=None,
    pooling="avg",
    seed=None,
):
    """Build a model from raw images to the pooled features of an application ResNet.

    ``image_shape`` is the ``(height, width, channels)`` of the raw images; the model
    rescales them by ``input_scale`` to [0, 1], resizes them to ``image_size``,
    applies the backbone's ImageNet preprocessing (exactly as
    :func:`build_resnet` does), runs the backbone in inference mode, takes
    ``layer``'s output (default: the last) and pools it.
    """
    inputs = keras.Input(shape=tuple(int(d) for d in image_shape), name="image")
    x = keras.layers.Rescaling(float(input_scale), name="rescale")(inputs)
    x, (height, width) = application_input(x, backbone, image_size)
    net = application_backbone(
        backbone, (height, width, 3), weights, seed, weights_sha256
    )
    if layer is not None:
        net = keras.Model(net.inputs, layer_output(net, layer), name="backbone")
    features = net(x, training=False)
    outputs = pooled(features, pooling)
    return keras.Model(inputs, outputs, name=f"embedder_{backbone}")


def hub_preset(name):
    """Return ``(backbone, image converter or None)`` of the keras-hub preset ``name``.

    The converter takes 0-255 pixel values and applies the preset's own resizing
    and normalisation; presets without one take [0, 1] input.
    """
    try:
        import keras_hub
    except ImportError:
        raise ValueError(
            f"backbone={name!r} is neither a keras.applications name "
            f"({', '.join(APPLICATIONS)}) nor an existing .keras file; other names "
            "are keras-hub presets (ViT, DINOv2, ...), which need keras-hub: pip "
            "install keras-hub."
        ) from None
    net = keras_hub.models.Backbone.from_preset(name)
    try:
        converter = keras_hub.layers.ImageConverter.from_preset(name)
    except Exception:  # presets without an image converter: [0, 1] input
        converter = None
    return net, converter


def layer_output(model, layer):
    """Return the output of ``model``'s layer named ``layer`` (clear error if none)."""
    try:
        return model.get_layer(layer).output
    except ValueError:
        names = [lay.name for lay in model.layers]
        shown = ", ".join(repr(n) for n in names[-8:])
        raise ValueError(
            f"layer={layer!r} is not a layer of the backbone {model.name!r}; its last "
            f"layers are {shown} ({len(names)} in all, see model.summary())."
        ) from None
