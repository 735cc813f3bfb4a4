"""Pickle-free saving and loading of skbreast estimators.

:func:`save` writes one zip file holding

- ``skbreast.json``: the estimator's class (by name), its parameters and fitted
  attributes as tagged JSON, and the versions of the libraries that wrote it;
- ``model.keras``: the Keras model in Keras' own format (present when fitted).

:func:`load` rebuilds only skbreast's own estimator classes, decodes the JSON with a
closed set of type tags and loads the model with ``keras.saving.load_model(...,
safe_mode=True)``, so nothing in the file is ever unpickled or run as code. The
JSON encoding is :mod:`skbreast._persistence.codec`; the classes that may be
rebuilt are those in :mod:`skbreast._persistence.registry`; this module owns the
file: its layout, atomic writing and checked reading.
"""

import json
import os
import platform
import sys
import tempfile
import warnings
import zipfile

import keras
import numpy as np

from skbreast._fileio import atomic_write
from skbreast._persistence import card as _card
from skbreast._persistence.codec import Unsaveable, check_keras_config, decode, encode
from skbreast._persistence.manifest import (  # noqa: F401 (re-exported)
    FORMAT,
    FORMAT_VERSION,
    READ_ERRORS,
    FileFormatError,
    VersionMismatchWarning,
    bad_file,
    open_archive,
    plain_path,
    read_manifest,
)
from skbreast._persistence.manifest import MANIFEST as _MANIFEST
from skbreast._persistence.manifest import MODEL as _MODEL
from skbreast._persistence.registry import registered_classes
from skbreast._training.threads import limit_framework_threads
from skbreast._version import __version__

__all__ = ["load", "save"]

_READ_ERRORS = READ_ERRORS


# --------------------------------------------------------------------- state
def _check_estimator_class(cls):
    classes = registered_classes()
    if classes.get(cls.__name__) is not cls:
        raise TypeError(
            f"skbreast.save stores skbreast's own estimators ({', '.join(classes)}), "
            f"not {cls.__module__}.{cls.__qualname__}: load rebuilds classes by name "
            "from a fixed list, never from an import path."
        )


def fitted_attributes(estimator):
    """Return the public fitted attributes of ``estimator`` except ``model_``."""
    return {
        name: value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_") and name != "model_"
    }


def encode_params(cls, params):
    """Encode ``params`` of an estimator of class ``cls``; clear error if impossible."""
    return _encode_values(
        cls,
        params,
        "parameter",
        " Set it to a storable value first, e.g. estimator.set_params({name}=None), "
        "and pass it again after loading.",
    )


def _encode_attributes(cls, attributes):
    return _encode_values(cls, attributes, "fitted attribute")


def _encode_values(cls, values, what, advice=""):
    """Encode each of ``values``; name the first one that cannot be encoded.

    ``advice`` is appended to the error message, with ``{name}`` replaced by the
    name of that value.
    """
    encoded = {}
    for name, value in values.items():
        try:
            encoded[name] = encode(value)
        except Unsaveable as exc:
            raise ValueError(
                f"Cannot save {cls.__name__}: its {what} {name!r} holds "
                f"{exc.args[0]}, which has no pickle-free encoding."
                + advice.format(name=name)
            ) from None
    return encoded


def _versions():
    import sklearn

    backend = keras.backend.backend()
    backend_module = sys.modules.get({"torch": "torch"}.get(backend, backend))
    return {
        "skbreast": __version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": getattr(backend_module, "__version__", None),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


# --------------------------------------------------------------------- writing
def write_estimator(path, cls, params, attributes, model, model_card=None):
    """Write an estimator file from its parts; used by :func:`save` and checkpoints.

    ``model`` and ``attributes`` are None for an unfitted estimator; ``model_card``
    is stored as plain JSON (see :mod:`~skbreast._persistence.card`).
    """
    _check_estimator_class(cls)
    fitted = model is not None
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": cls.__name__,
        "fitted": fitted,
        "params": encode_params(cls, params),
        "attributes": _encode_attributes(cls, attributes) if fitted else {},
        "versions": _versions(),
    }
    if model_card is not None:
        manifest["model_card"] = model_card
    manifest_json = json.dumps(manifest, indent=1, allow_nan=True)

    def write(fileobj):
        with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_MANIFEST, manifest_json)
            if fitted:
                with tempfile.TemporaryDirectory() as tmp:
                    model_path = os.path.join(tmp, _MODEL)
                    model.save(model_path)
                    # .keras files are zips of stored members: no gain deflating.
                    archive.write(model_path, _MODEL, zipfile.ZIP_STORED)

    # Written under a temporary name and renamed when complete (fsynced): a
    # reader never sees half a file and a failure leaves an existing file as is.
    with atomic_write(path, "wb") as f:
        write(f)


def save(estimator, path, *, model_card=None):
    """Save a skbreast estimator to one file, without pickle.

    The file is a zip archive holding the Keras model in Keras' ``.keras`` format and
    a JSON manifest with the estimator's class, parameters and fitted attributes
    (``classes_`` with its dtype, ``history_``, ``n_iter_``, ...) and the versions of
    skbreast, Keras, its backend, scikit-learn, NumPy and Python that wrote it.
    :func:`load` reads it back without running any code from the file, so such files
    can be shared between labs where a pickle could not be trusted.

    The write is atomic: the file is written under a temporary name in the same
    folder, flushed to disk, then renamed over ``path``. If anything fails, the
    temporary file is removed and an existing file at ``path`` is left untouched.

    Parameters
    ----------
    estimator : CNNClassifier or ResNetClassifier
        The estimator to save. An unfitted estimator is saved too, with its
        parameters only; :func:`load` then returns an unfitted estimator.
    path : str or path-like
        File to write, conventionally with the ``.skbreast`` (or ``.skb``)
        extension. Its folder must exist; an existing file is replaced.
    model_card : dict, default=None
        What to add to the file's model card (JSON data only: str, numbers, bool,
        None, lists and dicts), e.g. ``{"training_data": {...}, "description":
        "..."}``. A fitted estimator's card always holds its ``classes``,
        ``image_size``, ``preprocessing``, ``params``, ``fit`` summary,
        ``versions`` and the date (``created``); these keys cannot be set here.
        None keeps the card of the current fit where there is one (a loaded
        estimator's), so a load and save keep it. The card is read back by
        :func:`read_model_card` and as the loaded estimator's ``model_card_``.

    Raises
    ------
    TypeError
        If ``estimator`` is not a :class:`~skbreast.CNNClassifier` or
        :class:`~skbreast.ResNetClassifier` (subclasses included: they could not be
        rebuilt by name).
    ValueError
        If ``model_card`` is not JSON data or sets a key the estimator fills in.
        If a parameter has no pickle-free encoding, naming it. Stored as they are:
        None, bool, int, float, str, lists, tuples, dicts, NumPy scalars and numeric
        or string arrays, paths, Keras optimizer names, built-in Keras optimizer
        classes and instances (by their Keras configuration), and imbalanced-learn's
        ``RandomUnderSampler``/``RandomOverSampler``. Refused: Keras ``callbacks``
        (arbitrary Python objects), ``RandomState`` instances and anything else;
        ``set_params(callbacks=None)`` before saving and pass them again after
        loading.

    See Also
    --------
    load : Read an estimator written by this function.
    read_model_card : Read the model card of a file without loading its model.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import skbreast
    >>> from skbreast import CNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(20, 8, 8, 3), dtype=np.uint8)
    >>> y = np.array(["benign", "malignant"] * 10)
    >>> clf = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1,
    ...                     random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "cnn.skbreast")
    >>> skbreast.save(clf, path)
    >>> clf2 = skbreast.load(path)
    >>> clf2.classes_
    array(['benign', 'malignant'], dtype='<U9')
    >>> bool(np.array_equal(clf2.predict_proba(X), clf.predict_proba(X)))
    True
    """
    cls = type(estimator)
    _check_estimator_class(cls)
    fitted = "model_" in vars(estimator)
    card = None
    if fitted and not hasattr(estimator, "classes_"):
        # A transformer (ImageEmbedder): model cards describe classifiers.
        if model_card is not None:
            raise ValueError(
                f"model_card describes a classifier; {cls.__name__} has none."
            )
    elif fitted:
        card = _card.attached(estimator) if model_card is None else None
        if card is None:
            card = _card.build_model_card(estimator, model_card, _versions())
    elif model_card is not None:
        raise ValueError("model_card describes a fit; this estimator is not fitted.")
    write_estimator(
        path,
        cls,
        estimator.get_params(deep=False),
        fitted_attributes(estimator) if fitted else None,
        estimator.model_ if fitted else None,
        model_card=card,
    )
    if card is not None:
        _card.attach(estimator, card)


# --------------------------------------------------------------------- reading
def load(path):
    """Load an estimator saved by :func:`save`, without unpickling anything.

    Only skbreast's own estimator classes are rebuilt (by name, from a fixed list);
    parameters and fitted attributes are decoded from JSON with a closed set of type
    tags; the Keras model is loaded with ``keras.saving.load_model(...,
    safe_mode=True)``, which refuses Python lambdas, and any Keras object that is
    not part of Keras itself is refused before that. Loading a file from an
    untrusted source therefore cannot run code, unlike unpickling.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` (or a checkpoint written during ``fit``
        with ``checkpoint_dir``).

    Returns
    -------
    estimator : CNNClassifier or ResNetClassifier
        The estimator, fitted if it was fitted when saved. It predicts exactly as
        the saved one did, can be refitted, and continues training with
        ``warm_start=True`` or ``partial_fit`` (the optimizer state is restored).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty, truncated, corrupt, not a skbreast file (e.g. a plain
        ``.keras`` model or another zip), misses a member, holds malformed JSON,
        was written by a newer file format, or holds a Keras model that safe mode
        refuses. The error is a ``skbreast._persistence.FileFormatError`` and its
        message names the file.

    Warns
    -----
    UserWarning
        A ``skbreast._persistence.VersionMismatchWarning`` when the file was
        written by another version of skbreast; the estimator is loaded anyway.

    See Also
    --------
    save : Write an estimator to a file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import skbreast
    >>> from skbreast import CNNClassifier
    >>> X = np.random.RandomState(0).randint(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    >>> y = np.array([0, 1] * 10)
    >>> clf = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1,
    ...                     random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "cnn.skbreast")
    >>> skbreast.save(clf, path)
    >>> skbreast.load(path).set_params(warm_start=True).fit(X, y).n_iter_
    2
    """
    path = plain_path(path)
    archive = open_archive(path)
    with archive:
        try:
            return _read(archive, path)
        except FileFormatError:
            raise
        except _READ_ERRORS as exc:
            raise FileFormatError(
                f"{path!r} is corrupt: {type(exc).__name__}: {exc}"
            ) from exc


def _read(archive, path):
    names = set(archive.namelist())
    manifest = read_manifest(archive, path)
    cls = registered_classes().get(manifest["estimator"])
    if cls is None:
        raise FileFormatError(
            f"{path!r} holds an estimator of class {manifest['estimator']!r}; "
            f"skbreast.load rebuilds only {', '.join(registered_classes())}."
        )
    estimator = _rebuild(cls, manifest, path)
    if not manifest["fitted"]:
        return estimator
    # Loading runs TensorFlow; a worker's thread budget must be set first.
    limit_framework_threads(getattr(estimator, "n_threads", "auto"))
    if _MODEL not in names:
        raise FileFormatError(
            f"{path!r} is damaged: the estimator was saved fitted but the file has "
            f"no {_MODEL!r} member."
        )
    model = _read_model(archive, path)
    _set_fitted(estimator, model, manifest, path)
    if manifest.get("model_card") is not None:
        _card.attach(estimator, manifest["model_card"])
    return estimator


_bad = bad_file


def _rebuild(cls, manifest, path):
    try:
        params = decode(manifest["params"])
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise _bad(path, f"cannot decode the parameters: {exc}") from exc
    known = set(cls().get_params(deep=False))
    unknown = sorted(set(params) - known)
    if unknown:
        raise _bad(
            path,
            f"it sets parameters {unknown} that {cls.__name__} of this skbreast "
            "version does not have (written by a newer version?)",
        )
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise _bad(path, f"invalid parameters: {exc}") from exc
    return estimator


def _read_model(archive, path):
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, _MODEL)
        with archive.open(_MODEL) as src, open(model_path, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        try:
            with zipfile.ZipFile(model_path) as keras_zip:
                config = json.loads(keras_zip.read("config.json").decode("utf-8"))
            check_keras_config(config)
        except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, ValueError) as exc:
            message = f"its Keras model is refused or unreadable: {exc}"
            raise _bad(path, message) from exc
        try:
            with warnings.catch_warnings():
                # Keras warns when a saved optimizer has not been built yet.
                warnings.filterwarnings("ignore", message=".*optimizer.*")
                return keras.saving.load_model(model_path, safe_mode=True)
        except Exception as exc:
            raise _bad(
                path,
                f"Keras refused or failed to load its model (safe_mode=True): "
                f"{type(exc).__name__}: {exc}",
            ) from exc


def _set_fitted(estimator, model, manifest, path):
    try:
        attributes = decode(manifest["attributes"])
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise _bad(path, f"cannot decode the fitted attributes: {exc}") from exc
    check_loaded = getattr(estimator, "_check_loaded_model", None)
    if check_loaded is not None:  # a transformer (ImageEmbedder): no classes_
        bad_names = [n for n in attributes if n.startswith("_") or not n.endswith("_")]
        if bad_names or "model_" in attributes:
            raise _bad(path, f"unexpected attributes {bad_names or ['model_']}")
        try:
            check_loaded(attributes, model)
        except (ValueError, AttributeError, IndexError, TypeError) as exc:
            raise _bad(path, str(exc)) from exc
        estimator._set_fitted(attributes, model)
        return
    missing = {"classes_", "image_shape_", "n_features_in_"} - set(attributes)
    if missing:
        raise _bad(path, f"fitted attributes {sorted(missing)} are missing")
    bad_names = [n for n in attributes if n.startswith("_") or not n.endswith("_")]
    if bad_names or "model_" in attributes:
        raise _bad(path, f"unexpected attributes {bad_names or ['model_']}")
    classes = attributes["classes_"]
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        raise _bad(path, "classes_ must be an array of at least 2 labels")
    try:
        logits = model.get_layer("logits")
        n_outputs = int(logits.output.shape[-1])
        input_shape = tuple(model.inputs[0].shape[1:])
    except (ValueError, AttributeError, IndexError, TypeError) as exc:
        raise _bad(path, f"its Keras model is not a skbreast model ({exc})") from exc
    expected = 1 if len(classes) == 2 else len(classes)
    if n_outputs != expected:
        raise _bad(
            path,
            f"its model has {n_outputs} outputs, but {len(classes)} classes need "
            f"{expected}",
        )
    if input_shape != tuple(attributes["image_shape_"]):
        raise _bad(
            path,
            f"its model takes images of shape {input_shape}, but image_shape_ is "
            f"{attributes['image_shape_']}",
        )
    if "threshold" in estimator.get_params(deep=False):
        # Files written before the threshold parameter predicted at 0.5.
        attributes.setdefault("threshold_", 0.5 if len(classes) == 2 else None)
        threshold = attributes["threshold_"]
        valid = (
            threshold is None
            if len(classes) != 2
            else isinstance(threshold, float) and 0 < threshold < 1
        )
        if not valid:
            raise _bad(path, f"invalid threshold_ {threshold!r}")
    estimator._set_fitted(attributes, model)
