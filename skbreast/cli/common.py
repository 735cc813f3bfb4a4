"""What every ``skbreast`` command shares: its error type, logging and value parsing."""

import argparse
import ast
import sys

import numpy as np


class CLIError(Exception):
    """A user error reported as one line and exit status 1."""


def log(message):
    """Print a progress or warning line on stderr (stdout carries results)."""
    print(message, file=sys.stderr, flush=True)


def parse_image_size(values):
    """Parse ``H W`` or ``HxW`` into ``(H, W)``."""
    text = " ".join(values).lower().replace("x", " ").replace(",", " ").split()
    try:
        size = tuple(int(v) for v in text)
    except ValueError:
        size = ()
    if len(size) != 2 or min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"--image-size takes two positive integers, 'H W' or 'HxW'; got "
            f"{' '.join(values)!r}"
        )
    return size


def parse_value(text):
    """Return the Python literal in ``text`` (``30``, ``(8, 16)``), else ``text``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def versions():
    """Return the versions of skbreast and the libraries it runs on."""
    import keras
    import sklearn

    from skbreast._version import __version__

    versions = {
        "skbreast": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:  # pragma: no cover - other backends
        versions["tensorflow"] = "not installed"
    versions["scikit-learn"] = sklearn.__version__
    versions["numpy"] = np.__version__
    versions["python"] = sys.version.split()[0]
    return versions
