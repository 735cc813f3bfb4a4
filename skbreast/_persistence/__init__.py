"""Pickle-free estimator files: the file format and its tagged-JSON codec.

:func:`save` and :func:`load` (public as ``skbreast.save``/``skbreast.load``) live in
:mod:`~skbreast._persistence.format`, the JSON encoding in
:mod:`~skbreast._persistence.codec`. Estimator classes join the set that may be
loaded with :func:`register`, which also hands them the writer their checkpoints
use, so that the training code never imports this package.
"""

from skbreast._persistence import registry
from skbreast._persistence.format import (
    FileFormatError,
    VersionMismatchWarning,
    encode_params,
    load,
    save,
    write_estimator,
)

__all__ = ["FileFormatError", "VersionMismatchWarning", "load", "register", "save"]


class _FileWriter:
    """What a fit's checkpoints need of the file format (``_file_writer``)."""

    @staticmethod
    def check_params(cls, params):
        """Raise a ``ValueError`` naming the first parameter a file cannot store."""
        encode_params(cls, params)

    @staticmethod
    def write(path, cls, params, attributes, model):
        """Write one estimator file atomically."""
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
