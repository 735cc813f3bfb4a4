"""The manifest of an estimator file: its layout, checks and model card.

Nothing here imports Keras, NumPy or scikit-learn, so that reading what a file
holds (``skbreast info``, :func:`read_model_card`) takes a fraction of a second;
:mod:`~skbreast._persistence.format` adds the parts that need the frameworks.
"""

import json
import os
import struct
import warnings
import zipfile
import zlib

from skbreast._version import __version__

__all__ = ["FileFormatError", "VersionMismatchWarning", "read_model_card"]

#: Written as ``"format"`` in every file; files without it are refused.
FORMAT = "skbreast-estimator"
#: Bumped when the layout changes so that an old reader refuses a newer file.
FORMAT_VERSION = 1

MANIFEST = "skbreast.json"
MODEL = "model.keras"
# Parameters and attributes are small; a larger manifest is a damaged or hostile file.
MAX_MANIFEST_BYTES = 64 * 2**20

# What zipfile raises for damaged archives and members (CRC, deflate, encryption).
READ_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zlib.error,
)


class FileFormatError(ValueError):
    """A file is not a readable skbreast estimator file.

    Raised by :func:`~skbreast.load` for empty, truncated, corrupt or foreign files
    (a random zip, a ``.keras`` model, a text file), for missing or malformed
    members, and for Keras models that safe mode refuses to load. The message names
    the file.
    """


class VersionMismatchWarning(UserWarning):
    """A file was written by another version of skbreast; it is loaded anyway."""


def plain_path(path):
    """Return ``path`` as a plain ``str`` (never ``np.str_``), for messages."""
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else str(path)


def open_archive(path):
    """Open the zip archive at ``path``; a non-zip is a :class:`FileFormatError`."""
    try:
        return zipfile.ZipFile(path)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except READ_ERRORS as exc:
        raise FileFormatError(
            f"{path!r} is not a skbreast estimator file: it is not a valid zip "
            f"archive (empty, truncated or another kind of file): {exc}"
        ) from exc


def bad_file(path, what):
    """Return the :class:`FileFormatError` for a malformed file."""
    return FileFormatError(f"{path!r} is not a valid skbreast estimator file: {what}")


def read_manifest(archive, path, *, warn=True):
    """Return the checked manifest of the open estimator file ``archive``.

    ``warn`` issues a :class:`VersionMismatchWarning` when another skbreast wrote
    the file.
    """
    names = set(archive.namelist())
    if MANIFEST not in names:
        if {"config.json", "metadata.json"} <= names:
            hint = (
                "it looks like a Keras model file (.keras); load that with "
                "keras.saving.load_model"
            )
        else:
            hint = f"it has no {MANIFEST!r} member"
        raise FileFormatError(
            f"{path!r} is not a skbreast estimator file written by skbreast.save: "
            f"{hint}."
        )
    info = archive.getinfo(MANIFEST)
    if info.file_size > MAX_MANIFEST_BYTES:
        raise bad_file(path, f"{MANIFEST!r} is {info.file_size:,} bytes, far too large")
    raw = archive.read(MANIFEST)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_file(path, f"{MANIFEST!r} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad_file(path, f"{MANIFEST!r} does not describe a {FORMAT!r}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad_file(path, f"bad format_version {version!r}")
    versions = manifest.get("versions")
    versions = versions if isinstance(versions, dict) else {}
    if version > FORMAT_VERSION:
        raise bad_file(
            path,
            f"it uses file format {version} (written by skbreast "
            f"{versions.get('skbreast')}); this skbreast reads format "
            f"{FORMAT_VERSION} and older. Upgrade skbreast to load it.",
        )
    for key, kind in [
        ("estimator", str),
        ("fitted", bool),
        ("params", dict),
        ("attributes", dict),
    ]:
        if not isinstance(manifest.get(key), kind):
            raise bad_file(path, f"{key!r} is missing or not a {kind.__name__}")
    card = manifest.get("model_card")
    if card is not None and not isinstance(card, dict):
        raise bad_file(path, "'model_card' is not a JSON object")
    if warn and versions.get("skbreast") != __version__:
        warnings.warn(
            f"{path!r} was written by skbreast {versions.get('skbreast')} (Keras "
            f"{versions.get('keras')}); this is skbreast {__version__}. It is "
            "loaded anyway; check its predictions.",
            VersionMismatchWarning,
            stacklevel=4,
        )
    return manifest


def read_model_card(path):
    """Return the model card stored in an estimator file, without loading the model.

    The card is written by :func:`skbreast.save` (and ``skbreast train``): what the
    model predicts (``classes``), the ``image_size`` it takes and the
    ``preprocessing`` its input needs, how it was trained (``estimator``,
    ``params``, ``fit``), the ``versions`` of the libraries and the date
    (``created``, UTC), plus whatever was passed as ``model_card`` to
    :func:`~skbreast.save`: ``skbreast train`` adds the ``training_data`` (source,
    counts by class and by patient), ``cross_validation`` metrics and the
    ``command`` line. Reading it imports neither Keras nor TensorFlow, so it is fast
    and safe on any file.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`skbreast.save`.

    Returns
    -------
    card : dict
        The model card, a JSON object. Files written before model cards existed,
        and unfitted estimators, give a card with the ``estimator`` and ``fitted``
        keys and the ``versions`` only.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        A ``skbreast._persistence.FileFormatError`` if the file is not a skbreast
        estimator file, is damaged or was written by a newer file format.

    See Also
    --------
    skbreast.load : Load the estimator, whose ``model_card_`` is the same card.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import skbreast
    >>> from skbreast import CNNClassifier
    >>> X = np.random.RandomState(0).randint(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    >>> y = np.array(["benign", "malignant"] * 10)
    >>> clf = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1,
    ...                     random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "cnn.skb")
    >>> skbreast.save(clf, path, model_card={"description": "a doctest model"})
    >>> card = skbreast.read_model_card(path)
    >>> card["classes"], card["image_size"], card["description"]
    (['benign', 'malignant'], [8, 8, 3], 'a doctest model')
    """
    path = plain_path(path)
    with open_archive(path) as archive:
        try:
            manifest = read_manifest(archive, path, warn=False)
        except FileFormatError:
            raise
        except READ_ERRORS as exc:
            raise FileFormatError(
                f"{path!r} is corrupt: {type(exc).__name__}: {exc}"
            ) from exc
    card = manifest.get("model_card")
    if card is None:
        card = {"estimator": manifest["estimator"], "fitted": manifest["fitted"]}
        card["versions"] = manifest.get("versions") or {}
    return card
