"""Tagged JSON encoding of estimator parameters and fitted attributes.

:func:`encode` turns the values an estimator holds (numbers, strings, tuples, dicts,
numpy arrays and scalars, paths, Keras optimizers, imbalanced-learn samplers) into
JSON-compatible data; values of any other type raise :class:`Unsaveable`. A
non-JSON value becomes a JSON object with a single type-tag key. :func:`decode`
inverts it, accepting only that closed set of tags and raising ``ValueError`` on
anything else, so decoding never imports or runs code named by the data.
:func:`check_keras_config` vets serialized Keras configs before Keras sees them.
"""

import json
import os

import keras
import numpy as np

# Tags of the JSON encoding. A JSON object with a single key starting with "__" is
# always one of these; plain dicts with such keys are written as "__dict__" pairs.
_TUPLE = "__tuple__"
_DICT = "__dict__"
_NDARRAY = "__ndarray__"
_NUMPY = "__numpy__"
_PATH = "__path__"
_OPTIMIZER = "__keras_optimizer__"
_OPTIMIZER_CLASS = "__keras_optimizer_class__"
_SAMPLER = "__sampler__"

# Array dtype kinds that round-trip exactly through JSON lists.
_ARRAY_KINDS = "biufU"
# imbalanced-learn samplers that ``sampler=`` accepts, by class name and module.
_SAMPLERS = {
    "RandomUnderSampler": "imblearn.under_sampling",
    "RandomOverSampler": "imblearn.over_sampling",
}


class Unsaveable(Exception):
    """A value with no pickle-free encoding; ``args[0]`` says what it is."""


def _is_keras_optimizer_class(value):
    return (
        isinstance(value, type)
        and issubclass(value, keras.optimizers.Optimizer)
        and getattr(keras.optimizers, value.__name__, None) is value
    )


def encode(value):
    """Return ``value`` as JSON-able data, tagging what JSON cannot hold as is."""
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, np.str_) else value
    if isinstance(value, np.generic):  # before int/float: np.float64 is a float
        if value.dtype.kind in "biuf":
            return {_NUMPY: [value.dtype.str, value.item()]}
        raise Unsaveable(f"a numpy {value.dtype} scalar")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {_TUPLE: [encode(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {str(k): encode(v) for k, v in value.items()}
        return {_DICT: [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {_NDARRAY: _encode_array(value)}
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        if isinstance(path, str):
            return {_PATH: path}
    if _is_keras_optimizer_class(value):
        return {_OPTIMIZER_CLASS: value.__name__}
    if isinstance(value, keras.optimizers.Optimizer):
        config = keras.optimizers.serialize(value)
        try:
            json.dumps(config, allow_nan=True)
        except (TypeError, ValueError):
            raise Unsaveable(
                f"a Keras optimizer ({type(value).__name__}) whose configuration is "
                "not JSON"
            ) from None
        return {_OPTIMIZER: config}
    name = type(value).__name__
    if _SAMPLERS.get(name) and type(value).__module__.startswith("imblearn."):
        return {_SAMPLER: [name, encode(value.get_params(deep=False))]}
    if isinstance(value, np.random.RandomState):
        raise Unsaveable("a numpy RandomState (pass an int seed instead)")
    raise Unsaveable(f"a {type(value).__module__}.{type(value).__qualname__} object")


def _encode_array(array):
    kind = array.dtype.kind
    if kind == "O":
        data = []
        for item in array.ravel():
            if isinstance(item, np.generic) and item.dtype.kind in "biufU":
                item = item.item()
            if item is not None and not isinstance(item, (bool, int, float, str)):
                raise Unsaveable(
                    f"an object array holding a {type(item).__name__} value"
                )
            data.append(str(item) if isinstance(item, str) else item)
        dtype = "object"
    elif kind in _ARRAY_KINDS:
        data = array.ravel().tolist()
        dtype = array.dtype.str
    else:
        raise Unsaveable(f"an array of dtype {array.dtype}")
    return {"dtype": dtype, "shape": list(array.shape), "data": data}


def decode(data):
    """Invert :func:`encode`; raise ValueError on anything it would not write."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if len(data) == 1:
            ((key, body),) = data.items()
            if key.startswith("__"):
                return _decode_tagged(key, body)
        return {k: decode(v) for k, v in data.items()}
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ValueError(f"unexpected JSON value {data!r}")


def _decode_tagged(tag, body):
    if tag == _TUPLE:
        return tuple(decode(_expect(body, list, tag)))
    if tag == _DICT:
        pairs = _expect(body, list, tag)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise ValueError(f"{tag} must hold [key, value] pairs")
        return {_hashable(decode(k)): decode(v) for k, v in pairs}
    if tag == _NUMPY:
        dtype_str, value = _expect(body, list, tag)
        dtype = _checked_dtype(dtype_str, "biuf")
        return dtype.type(value)
    if tag == _NDARRAY:
        return _decode_array(_expect(body, dict, tag))
    if tag == _PATH:
        from pathlib import Path

        return Path(_expect(body, str, tag))
    if tag == _OPTIMIZER_CLASS:
        cls = getattr(keras.optimizers, _expect(body, str, tag), None)
        if not _is_keras_optimizer_class(cls):
            raise ValueError(f"{body!r} is not a Keras optimizer class")
        return cls
    if tag == _OPTIMIZER:
        config = _expect(body, dict, tag)
        check_keras_config(config)
        optimizer = keras.optimizers.deserialize(config)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(f"{tag} is not a Keras optimizer")
        return optimizer
    if tag == _SAMPLER:
        name, params = _expect(body, list, tag)
        if name not in _SAMPLERS:
            raise ValueError(f"sampler {name!r} is not one skbreast can rebuild")
        module = __import__(_SAMPLERS[name], fromlist=[name])
        return getattr(module, name)(**_expect(decode(params), dict, tag))
    raise ValueError(f"unknown type tag {tag!r}")


def _expect(value, kind, tag):
    if not isinstance(value, kind):
        raise ValueError(f"{tag} holds a {type(value).__name__}, not a {kind.__name__}")
    return value


def _hashable(key):
    # Tuples (e.g. of labels) survive as dict keys; lists cannot be keys.
    if isinstance(key, list):
        raise ValueError("a dict key cannot be a list")
    return key


def _checked_dtype(dtype_str, kinds):
    try:
        dtype = np.dtype(_expect(dtype_str, str, "dtype"))
    except TypeError:
        raise ValueError(f"unknown dtype {dtype_str!r}") from None
    if dtype.kind not in kinds:
        raise ValueError(f"dtype {dtype_str!r} is not allowed here")
    return dtype


def _decode_array(body):
    if set(body) != {"dtype", "shape", "data"}:
        raise ValueError("an array needs exactly 'dtype', 'shape' and 'data'")
    shape = tuple(_expect(body["shape"], list, "shape"))
    if not all(type(d) is int and d >= 0 for d in shape):
        raise ValueError(f"bad array shape {shape!r}")
    data = _expect(body["data"], list, "data")
    if len(data) != int(np.prod(shape)):
        raise ValueError(f"array data of length {len(data)} does not fit {shape}")
    if body["dtype"] == "object":
        if not all(v is None or isinstance(v, (bool, int, float, str)) for v in data):
            raise ValueError("object arrays may hold only str, numbers and None")
        array = np.empty(len(data), dtype=object)
        array[:] = data
        return array.reshape(shape)
    dtype = _checked_dtype(body["dtype"], _ARRAY_KINDS)
    return np.array(data, dtype=dtype).reshape(shape)


def _is_trusted_keras_object(item):
    module = item["module"]
    if module == "keras" or module.startswith("keras."):
        return True
    name = item.get("registered_name")
    if not (module.startswith("skbreast.") and isinstance(name, str)):
        return False
    registered = keras.saving.get_registered_object(name)
    return name.startswith("skbreast>") and getattr(
        registered, "__module__", ""
    ).startswith("skbreast.")


def check_keras_config(config):
    """Refuse Keras configs that refer to code outside Keras (defence in depth).

    Keras' safe mode already refuses lambdas; this also refuses, before Keras sees
    the config, any object whose ``module`` is neither part of Keras nor one of
    skbreast's own registered layers (such as its augmentation layers).
    """
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "Lambda":
                raise ValueError(
                    "the model holds a Lambda layer, whose Python code could do "
                    "anything when run; skbreast models never contain one, so it is "
                    "refused (as Keras' safe mode refuses it)"
                )
            module = item.get("module")
            if isinstance(module, str) and not _is_trusted_keras_object(item):
                raise ValueError(
                    f"the Keras configuration refers to the Python module "
                    f"{module!r} ({item.get('class_name')!r}); only Keras' own "
                    "objects are loaded"
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
