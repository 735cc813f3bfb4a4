"""Export a fitted classifier as a SavedModel, ONNX or TFLite serving graph.

The exported graph takes uint8 images and returns class probabilities: the
conversion to float, the model's own scaling and preprocessing layers, the
test-time augmentation (when the estimator has ``tta=True``) and the sigmoid or
softmax are all inside, so a server needs no skbreast and no Python code of ours.
Keras' own ``Model.export`` does the conversion (``tf2onnx`` for ONNX).

The graphs output probabilities only, never labels: a server applies the
decision threshold itself. A binary classifier's ``threshold_`` (which
``predict`` uses, 0.5 unless ``threshold`` set or chose another) is in the
model card (``fit.threshold``) and, for ONNX, in the ``threshold`` metadata
property: predict ``classes[1]`` where its probability exceeds it.
"""

import json
import os
import warnings

from skbreast._fileio import atomic_path
from skbreast._persistence import card as _card
from skbreast._persistence.manifest import plain_path

#: Export formats and the file extension each requires (None: a folder).
FORMATS = {"onnx": ".onnx", "savedmodel": None, "tflite": ".tflite"}
_KERAS_FORMATS = {"onnx": "onnx", "savedmodel": "tf_saved_model", "tflite": "litert"}
# What each format needs beyond skbreast's own dependencies.
_NEEDS = {"onnx": ("onnx", "tf2onnx")}


def check_format(format, path=None):
    """Validate ``format`` (and ``path``'s extension); return the format."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, got {format!r}.")
    suffix = FORMATS[format]
    if path is not None and suffix is not None:
        if not plain_path(path).lower().endswith(suffix):
            raise ValueError(
                f"A {format} export is one file ending in {suffix!r}; got "
                f"{plain_path(path)!r}."
            )
    return format


def _check_installed(format):
    import importlib.util

    missing = [m for m in _NEEDS.get(format, ()) if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(
            f"Exporting to {format} needs {' and '.join(missing)}: pip install "
            "'skbreast[export]'."
        )


def serving_model(estimator):
    """Return a Keras model: uint8 images in, class probabilities out."""
    import keras
    import numpy as np

    from skbreast._training.prediction import logits_model

    shape = tuple(int(d) for d in estimator.image_shape_)
    logits_net = logits_model(estimator.model_)
    images = keras.Input(shape=shape, dtype="uint8", name="image")
    x = keras.ops.cast(images, "float32")
    if getattr(estimator, "tta", False):
        # The same views as predict's test-time augmentation: the 4 flips, and
        # for square images the 4 flips of the transpose too; logits averaged.
        views = [x]
        if shape[0] == shape[1]:
            views.append(keras.ops.transpose(x, (0, 2, 1, 3)))
        outputs = []
        for view in views:
            for axes in ((), (1,), (2,), (1, 2)):
                flipped = view
                for axis in axes:
                    flipped = keras.ops.flip(flipped, axis=axis)
                outputs.append(logits_net(flipped))
        logits = keras.ops.mean(keras.ops.stack(outputs, axis=0), axis=0)
    else:
        logits = logits_net(x)
    logits = keras.ops.cast(logits, "float32")
    if logits.shape[-1] == 1:
        positive = keras.ops.sigmoid(logits)
        proba = keras.ops.concatenate([1.0 - positive, positive], axis=-1)
    else:
        proba = keras.ops.softmax(logits, axis=-1)
    model = keras.Model(images, proba, name="skbreast_probabilities")
    model(np.zeros((1, *shape), dtype=np.uint8))  # exporters need a called model
    return model


def _card_of(estimator):
    card = _card.attached(estimator)
    if card is None:
        card = {
            "estimator": type(estimator).__name__,
            "classes": [str(c) for c in estimator.classes_],
            "image_size": [int(d) for d in estimator.image_shape_],
        }
        threshold = getattr(estimator, "threshold_", None)
        if threshold is not None:
            card["fit"] = {"threshold": float(threshold)}
    return card


def _add_onnx_metadata(path, estimator):
    import onnx

    model = onnx.load(path)
    # tf2onnx names the output after the TensorFlow op ("Identity:0").
    for output in model.graph.output:
        old = output.name
        output.name = "probabilities"
        for node in model.graph.node:
            for i, name in enumerate(node.output):
                if name == old:
                    node.output[i] = "probabilities"
        break
    threshold = getattr(estimator, "threshold_", None)
    for key, value in {
        "classes": json.dumps([str(c) for c in estimator.classes_]),
        "threshold": json.dumps(None if threshold is None else float(threshold)),
        "model_card": json.dumps(_card_of(estimator)),
    }.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "skbreast"
    onnx.save(model, path)


def export_estimator(estimator, path, format="onnx"):
    """Write the serving graph of the fitted ``estimator``; see ``export``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    path = plain_path(path)
    check_format(format, path)
    _check_installed(format)
    model = serving_model(estimator)
    # Exporters write files or whole folders: under a temporary name, moved over
    # ``path`` once complete.
    with atomic_path(path, FORMATS[format]) as tmp:
        with warnings.catch_warnings():
            # tf2onnx's NumPy 2 shim and TensorFlow's converters warn about their
            # own internals; nothing a user can act on.
            warnings.simplefilter("ignore")
            model.export(tmp, format=_KERAS_FORMATS[format], verbose=False)
            if format == "onnx":
                _add_onnx_metadata(tmp, estimator)
        if format == "savedmodel":
            extra = os.path.join(tmp, "assets.extra")
            os.makedirs(extra, exist_ok=True)
            with open(os.path.join(extra, "skbreast_model_card.json"), "w") as f:
                json.dump(_card_of(estimator), f, indent=1)
    return path
