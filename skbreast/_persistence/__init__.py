"""Pickle-free estimator files: the file format, its codec and the model card.

:func:`save` and :func:`load` (public as ``skbreast.save``/``skbreast.load``) live in
:mod:`~skbreast._persistence.format`, the JSON encoding in
:mod:`~skbreast._persistence.codec`, the manifest checks and
:func:`~skbreast._persistence.manifest.read_model_card` (no Keras needed) in
:mod:`~skbreast._persistence.manifest`, the model card in
:mod:`~skbreast._persistence.card` and export in
:mod:`~skbreast._persistence.export`. Estimator classes join the set that may be
loaded with :func:`register`, which also hands them the writer their checkpoints
use, so that the training code never imports this package; they take
``model_card_`` and ``export`` from
:class:`~skbreast._persistence.mixin.ModelFileMixin`.

Importing this package does not import Keras: :func:`load` and :func:`save` are
imported on first use.
"""

import importlib as _importlib

from skbreast._persistence import registry
from skbreast._persistence.manifest import (
    FileFormatError,
    VersionMismatchWarning,
    read_model_card,
)

__all__ = [
    "FileFormatError",
    "VersionMismatchWarning",
    "load",
    "read_model_card",
    "register",
    "save",
]


def __getattr__(name):
    if name in ("load", "save", "encode_params", "write_estimator"):
        return getattr(_importlib.import_module("skbreast._persistence.format"), name)
    raise AttributeError(f"module 'skbreast._persistence' has no attribute {name!r}")


class _FileWriter:
    """What a fit's checkpoints need of the file format (``_file_writer``)."""

    @staticmethod
    def check_params(cls, params):
        """Raise a ``ValueError`` naming the first parameter a file cannot store."""
        from skbreast._persistence.format import encode_params

        encode_params(cls, params)

    @staticmethod
    def write(path, cls, params, attributes, model):
        """Write one estimator file atomically."""
        from skbreast._persistence.format import write_estimator

        write_estimator(path, cls, params, attributes, model)


def register(cls):
    """Class decorator: let :func:`load` rebuild ``cls`` by name from a file.

    Parameters
    ----------
    cls : type
        An estimator class whose parameters and fitted attributes the codec can
        store; it receives a ``_file_writer`` for its checkpoints.

    Returns
    -------
    cls : type
        The same class.
    """
    registry.add(cls)
    cls._file_writer = _FileWriter()
    return cls
