"""What an ImageEmbedder's ``backbone`` stands for, as one embedding function.

:func:`resolve` turns the parameter (a keras.applications name, a ``.keras`` file, a
keras-hub preset, a ``keras.Model``, a fitted skbreast classifier or a callable) into
an :class:`Embedding`: a Keras model (or a NumPy function) from raw images of one
shape to float32 vectors, its output size, and its *fingerprint*, the cache key of
its architecture, weights and preprocessing. Backbones that take seconds to build
(keras.applications networks, files, presets) are kept per process, so the clones
of a grid search share one network instead of building it once per fit.
"""

import collections
import hashlib
import json
import os
import threading

import keras
import numpy as np

from skbreast._training.estimator import BaseImageClassifier
from skbreast._training.precision import dtype_policy, resolve_precision
from skbreast.models._backbones import (
    APPLICATIONS,
    build_application_embedder,
    fixed_input_size,
    hub_preset,
    image_size_pair,
    layer_output,
    model_input,
    pooled,
    preset_input,
)
from skbreast.models._weights import (
    existing_weights_path,
)

# Built models kept per process (each ResNet-50 holds about 100 MB of weights).
_MAX_KEPT = 4
_KEPT = collections.OrderedDict()
_KEPT_LOCK = threading.Lock()
# Output sizes of callables, by fingerprint: found with one call, then remembered.
_CALLABLE_SIZES = {}

# Keras' JAX trainer donates a model's variable buffers to its compiled predict
# step, so two threads predicting with one (shared) model must take turns.
_PREDICT_LOCK = threading.Lock()


class Embedding:
    """A resolved backbone: ``predict_on_batch(images) -> float32 (n, n_features)``."""

    def __init__(
        self, model=None, function=None, *, n_features, fingerprint, precision
    ):
        self.model = model
        self.function = function
        self.n_features = int(n_features)
        self.fingerprint = fingerprint
        self.precision = precision

    @property
    def pads_batches(self):
        # A Keras model is traced once per input shape: full batches keep it at one.
        return self.model is not None

    def predict_on_batch(self, batch):
        if self.model is None:
            out = self.function(batch)
        elif keras.backend.backend() == "tensorflow":
            out = self.model.predict_on_batch(batch)
        else:
            with _PREDICT_LOCK:
                out = self.model.predict_on_batch(batch)
        return np.asarray(out, dtype=np.float32)


def unwrap_classifier(backbone):
    """Return the skbreast classifier behind ``backbone`` (or its FrozenEstimator)."""
    inner = backbone
    if type(backbone).__name__ == "FrozenEstimator" and hasattr(backbone, "estimator"):
        inner = backbone.estimator
    return inner if isinstance(inner, BaseImageClassifier) else None


def is_named(backbone):
    return isinstance(backbone, str) and backbone in APPLICATIONS


def fixed_image_size(embedder):
    """``(height, width)`` the backbone needs the images at, or None (any size)."""
    if embedder.image_size is not None:
        return image_size_pair(embedder.image_size)
    clf = unwrap_classifier(embedder.backbone)
    if clf is not None and hasattr(clf, "image_shape_"):
        return tuple(int(d) for d in clf.image_shape_[:2])
    if isinstance(embedder.backbone, keras.Model):
        size = fixed_input_size(embedder.backbone)
        if size is not None:
            return size
    return None


def resolve(embedder, image_shape, input_scale, *, needs_fingerprint):
    """Return the :class:`Embedding` of ``embedder``'s parameters for these images."""
    backbone = embedder.backbone
    weights = embedder.weights
    if not is_named(backbone) and not (isinstance(weights, str) and weights == "auto"):
        raise ValueError(
            f"weights={weights!r} applies to keras.applications backbone names "
            f"({', '.join(APPLICATIONS)}); a {_kind(backbone)} backbone brings its own "
            "weights: leave weights='auto'."
        )
    if embedder.weights_sha256 is not None and not is_named(backbone):
        raise ValueError(
            "weights_sha256 checks the weights file of a keras.applications backbone "
            "name; it does not apply to a "
            f"{_kind(backbone)} backbone."
        )
    image_shape = tuple(int(d) for d in image_shape)
    size = image_size_pair(embedder.image_size)
    if is_named(backbone):
        return _named(embedder, image_shape, input_scale, size)
    clf = unwrap_classifier(backbone)
    if clf is not None:
        return _classifier(embedder, clf, image_shape)
    if isinstance(backbone, keras.Model):
        return _keras_model(embedder, backbone, image_shape, input_scale, size)
    if isinstance(backbone, (str, os.PathLike)):
        path = os.fspath(backbone)
        if path.endswith(".keras") or os.path.isfile(path):
            return _model_file(embedder, path, image_shape, input_scale, size)
        return _hub_preset(embedder, path, image_shape, input_scale, size)
    if callable(backbone):
        return _callable(embedder, image_shape, input_scale, size, needs_fingerprint)
    raise TypeError(
        "backbone must be a keras.applications name, a .keras file, a keras-hub "
        "preset name, a keras.Model, a fitted CNNClassifier or ResNetClassifier, or a "
        f"callable; got {type(backbone).__name__}."
    )


def _kind(backbone):
    if isinstance(backbone, keras.Model):
        return "keras.Model"
    if unwrap_classifier(backbone) is not None:
        return type(unwrap_classifier(backbone)).__name__
    if isinstance(backbone, (str, os.PathLike)):
        return f"{os.fspath(backbone)!r}"
    return "callable"


# --------------------------------------------------------------------- kept models
def _kept(key, build):
    """Return the Embedding kept under ``key``, building it on first use."""
    with _KEPT_LOCK:
        found = _KEPT.get(key)
        if found is not None:
            _KEPT.move_to_end(key)
            return found
    embedding = build()
    with _KEPT_LOCK:
        _KEPT[key] = embedding
        while len(_KEPT) > _MAX_KEPT:
            _KEPT.popitem(last=False)
    return embedding


def _file_id(path):
    path = os.path.realpath(path)
    stat = os.stat(path)
    return (path, stat.st_size, stat.st_mtime_ns)


# --------------------------------------------------------------------- kinds
def _named(embedder, image_shape, input_scale, size):
    weights = embedder.weights
    if isinstance(weights, str) and weights == "auto":
        weights = "imagenet"
    if weights is None or weights == "imagenet":
        weights_id = weights
    else:
        weights_id = ("file", *_file_id(existing_weights_path(weights)))
    seed = None
    if weights is None and embedder.random_state is not None:
        seed = _seed(embedder.random_state)
    precision = resolve_precision(embedder.precision)

    def build():
        with dtype_policy(precision):
            model = build_application_embedder(
                image_shape,
                embedder.backbone,
                weights=weights,
                weights_sha256=embedder.weights_sha256,
                image_size=size,
                input_scale=input_scale,
                layer=embedder.layer,
                pooling=embedder.pooling,
                seed=seed,
            )
        return _from_model(model, precision)

    if weights is None and seed is None:
        return build()  # fresh random weights every time: nothing to share
    key = (
        "named",
        embedder.backbone,
        weights_id,
        embedder.weights_sha256,
        seed,
        image_shape,
        size,
        float(input_scale),
        embedder.layer,
        embedder.pooling,
        precision,
    )
    return _kept(key, build)


def _seed(random_state):
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    return int(random_state)


def _model_file(embedder, path, image_shape, input_scale, size):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Backbone model file not found: {path!r}.")

    def load():
        return _LoadedModel(
            keras.saving.load_model(path, compile=False, safe_mode=True)
        )

    loaded = _kept(("file", *_file_id(path)), load).model
    key = ("file-embedder", *_file_id(path), image_shape, size, float(input_scale))
    key += (embedder.layer, embedder.pooling)
    return _kept(
        key, lambda: _keras_model(embedder, loaded, image_shape, input_scale, size)
    )


class _LoadedModel:
    """A model loaded from a file, kept between fits (not an Embedding itself)."""

    def __init__(self, model):
        self.model = model


def _keras_model(embedder, net, image_shape, input_scale, size):
    inputs = keras.Input(shape=image_shape, name="image")
    x = keras.layers.Rescaling(float(input_scale), name="rescale")(inputs)
    x = model_input(x, net, size)
    core = net
    if embedder.layer is not None:
        core = keras.Model(net.inputs, layer_output(net, embedder.layer))
    outputs = pooled(core(x, training=False), embedder.pooling)
    model = keras.Model(inputs, outputs, name="embedder")
    return _from_model(model, _policy_name(net))


def _classifier(embedder, clf, image_shape):
    if not hasattr(clf, "model_"):
        raise ValueError(
            f"backbone is an unfitted {type(clf).__name__}: fit it first. Inside a "
            "grid search or cross-validation, scikit-learn clones estimator "
            "parameters into unfitted copies; wrap the fitted classifier in "
            "sklearn.frozen.FrozenEstimator to keep it fitted."
        )
    model = clf.model_
    if embedder.layer is None:
        features = model.get_layer("logits").input  # the penultimate layer
    else:
        features = layer_output(model, embedder.layer)
    core = keras.Model(model.inputs, features)
    wanted = tuple(int(d) for d in clf.image_shape_)
    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    if image_shape[2] != wanted[2]:
        raise ValueError(
            f"The {type(clf).__name__} backbone was fitted on images with "
            f"{wanted[2]} channels; these have {image_shape[2]}."
        )
    if image_shape[:2] != wanted[:2]:
        x = keras.layers.Resizing(*wanted[:2], name="resize")(x)
    outputs = pooled(core(x, training=False), embedder.pooling)
    model = keras.Model(inputs, outputs, name="embedder")
    return _from_model(model, getattr(clf, "precision_", _policy_name(model)))


def _hub_preset(embedder, name, image_shape, input_scale, size):
    precision = resolve_precision(embedder.precision)

    def build():
        with dtype_policy(precision):
            net, converter = hub_preset(name)
            inputs = keras.Input(shape=image_shape, name="image")
            x = keras.layers.Rescaling(float(input_scale), name="rescale")(inputs)
            x = preset_input(x, converter, name, size)
            outputs = pooled(net(x), embedder.pooling)
            model = keras.Model(inputs, outputs, name="embedder")
        return _from_model(model, precision)

    key = ("hub", name, image_shape, size, float(input_scale), embedder.pooling)
    return _kept(key + (precision,), build)


def _callable(embedder, image_shape, input_scale, size, needs_fingerprint):
    fn = embedder.backbone
    settings = dict(
        image_shape=image_shape, input_scale=float(input_scale), image_size=size
    )
    settings["pooling"] = embedder.pooling
    fingerprint = _callable_fingerprint(fn, settings)
    if fingerprint is None and needs_fingerprint:
        raise ValueError(
            "memory= caches embeddings under a key of the backbone's weights; a "
            "callable backbone must provide one: a str attribute `cache_key` (change "
            "it whenever the weights change) or a `state_dict()` method (PyTorch "
            "modules have one)."
        )
    function = _CallableFunction(fn, input_scale, size, embedder.pooling)
    n_features = _CALLABLE_SIZES.get(fingerprint) if fingerprint else None
    if n_features is None:
        probe = np.zeros((1, *image_shape), dtype=np.float32)
        n_features = function(probe).shape[1]
        if fingerprint:
            _CALLABLE_SIZES[fingerprint] = n_features
    return Embedding(
        function=function,
        n_features=n_features,
        fingerprint=fingerprint,
        precision=None,
    )


class _CallableFunction:
    """Raw images -> [0, 1] float32 NHWC at ``image_size`` -> ``fn`` -> pooled."""

    def __init__(self, fn, input_scale, size, pooling):
        self.fn = fn
        self.input_scale = np.float32(input_scale)
        self.size = size
        self.pooling = pooling

    def __call__(self, batch):
        x = np.asarray(batch, dtype=np.float32) * self.input_scale
        if self.size is not None and tuple(x.shape[1:3]) != self.size:
            x = keras.ops.convert_to_numpy(
                keras.ops.image.resize(x, self.size, interpolation="bilinear")
            )
        out = np.asarray(self.fn(x), dtype=np.float32)
        if out.ndim == 4:  # channels-last feature map
            if self.pooling == "cls":
                raise ValueError(
                    "pooling='cls' takes the first token of a transformer's output; "
                    "this backbone returns a feature map: use 'avg' or 'max'."
                )
            out = out.mean(axis=(1, 2)) if self.pooling == "avg" else out.max((1, 2))
        elif out.ndim == 3:  # tokens
            if self.pooling == "cls":
                out = out[:, 0]
            else:
                out = out.mean(axis=1) if self.pooling == "avg" else out.max(axis=1)
        if out.ndim != 2 or len(out) != len(x):
            raise ValueError(
                f"The callable backbone returned an array of shape {out.shape} for "
                f"{len(x)} images; it must return one vector per image, shape "
                "(n_images, n_features)."
            )
        return out


# --------------------------------------------------------------------- fingerprints
def _from_model(model, precision):
    return Embedding(
        model,
        n_features=model.output.shape[-1],
        fingerprint=model_fingerprint(model),
        precision=precision,
    )


def _policy_name(model):
    policy = getattr(model, "dtype_policy", None)
    return getattr(policy, "name", None)


def model_fingerprint(model):
    """Hex key of a Keras model's computation: its configuration and weights.

    Layer names are replaced by their rank, so two builds of one architecture (whose
    automatic names, such as ``input_layer_3``, differ) get the same key, in this
    process and in the next.
    """
    digest = hashlib.sha256()
    header = {"keras": keras.__version__, "backend": keras.backend.backend()}
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(_canonical_config(model).encode())
    for variable in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(value.data)
    return digest.hexdigest()[:32]


def _all_layers(model, seen=None):
    seen = [] if seen is None else seen
    for layer in getattr(model, "layers", []):
        seen.append(layer)
        if layer is not model:
            _all_layers(layer, seen)
    return seen


def _canonical_config(model):
    names = [model.name] + [layer.name for layer in _all_layers(model)]
    rename = {name: f"#{i}" for i, name in enumerate(dict.fromkeys(names))}
    try:
        config = model.get_config()
    except Exception:  # subclassed models without get_config
        config = [
            [type(layer).__name__, [list(w.shape) for w in layer.weights]]
            for layer in _all_layers(model)
        ]

    def canonical(value):
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [canonical(v) for v in value]
        if isinstance(value, str):
            return rename.get(value, value)
        return value

    return json.dumps(canonical(config), sort_keys=True, default=str)


def _callable_fingerprint(fn, settings):
    key = getattr(fn, "cache_key", None)
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(f"{type(fn).__module__}.{type(fn).__qualname__}".encode())
    if isinstance(key, str):
        digest.update(b"cache_key:" + key.encode())
        return digest.hexdigest()[:32]
    state_dict = getattr(fn, "state_dict", None)
    if callable(state_dict):
        for name, value in sorted(state_dict().items()):
            for method in ("detach", "cpu", "numpy"):
                if hasattr(value, method):
                    value = getattr(value, method)()
            array = np.ascontiguousarray(np.asarray(value))
            digest.update(f"{name}:{array.dtype.str}{array.shape}".encode())
            digest.update(array.data)
        return digest.hexdigest()[:32]
    return None
