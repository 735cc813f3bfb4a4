"""Pickle-free estimator files: the file format and its tagged-JSON codec."""

from skbreast._persistence.format import (
    FileFormatError,
    VersionMismatchWarning,
    load,
    save,
)

__all__ = ["FileFormatError", "VersionMismatchWarning", "load", "save"]
