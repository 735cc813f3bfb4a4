"""What every ``skbreast`` command shares: errors, logging, progress and output files.

Nothing here imports NumPy, Keras or TensorFlow at module level: ``skbreast
--help`` and ``skbreast info`` must start in well under a second.
"""

import argparse
import ast
import contextlib
import logging
import os
import sys
import tempfile
import warnings

from skbreast._fileio import atomic_write


class CLIError(Exception):
    """A user error reported as one line and exit status 1."""


#: Set by ``--quiet``: no progress lines or bars on stderr (errors still print).
QUIET = False


def log(message):
    """Print a progress or warning line on stderr (stdout carries results)."""
    if not QUIET:
        print(message, file=sys.stderr, flush=True)


def warn(message):
    """Print a warning line on stderr, even with ``--quiet``."""
    print(f"skbreast: warning: {message}", file=sys.stderr, flush=True)


def show_progress():
    """Whether progress bars are drawn: on a terminal, and not with ``--quiet``."""
    return not QUIET and sys.stderr.isatty()


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def progress(total, desc):
    """Yield a progress bar of ``total`` steps (tqdm) on a terminal, else a no-op."""
    if not show_progress():
        yield _NoBar()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="img", file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()


class HelpFormatter(argparse.HelpFormatter):
    """Help that states a default where there is one (not None or a flag's False)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and default not in (None, False, argparse.SUPPRESS)
            and default != []
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def add_verbosity_flags(parser):
    """Add ``--quiet`` and ``--verbose`` to a command's ``parser``."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress lines or bars (errors and warnings still print)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="let TensorFlow's start-up messages through and show tracebacks",
    )


def plain_path(path):
    """Return ``path`` as a plain ``str`` for messages (never ``np.str_('...')``)."""
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else str(path)


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
    import numpy as np
    import sklearn

    from skbreast import __version__

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


# ----------------------------------------------------------------- framework noise
def quiet_framework_env(verbose):
    """Set what silences TensorFlow's C++ logging; must run before it is imported.

    A user's ``TF_CPP_MIN_LOG_LEVEL`` of 0 or 1 is kept; ``--verbose`` lets
    everything through.
    """
    if verbose:
        if os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("2", "3"):
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        return
    # skbreast itself defaults it to 2, which still lets errors such as "failed
    # call to cuInit" through on machines without a GPU.
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "") in ("", "2"):
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    # absl (used by TensorFlow) otherwise logs at INFO before its flags are parsed.
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@contextlib.contextmanager
def _captured_stderr_fd():
    """Send file descriptor 2 to a temporary file; yield a function reading it.

    TensorFlow's C++ libraries print start-up lines (oneDNN, CUDA stubs) straight
    to file descriptor 2 while they load, before any log level applies.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (embedded interpreters)
        yield lambda: ""
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: (sink.seek(0), sink.read().decode("utf-8", "replace"))[1]
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_framework(verbose=False):
    """Import Keras (and TensorFlow under it) without its start-up noise on stderr.

    With ``verbose`` nothing is hidden. If the import fails, what the libraries
    printed is shown with the error.
    """
    quiet_framework_env(verbose)
    if verbose or "keras" in sys.modules:
        import keras  # noqa: F401

        _quiet_loggers(verbose)
        return
    printed = []
    try:
        with _captured_stderr_fd() as captured:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import keras  # noqa: F401
            except BaseException:
                printed.append(captured())
                raise
    except BaseException:
        if printed and printed[0]:
            sys.stderr.write(printed[0])
            sys.stderr.flush()
        raise
    _quiet_loggers(verbose)


def _quiet_loggers(verbose):
    level = logging.INFO if verbose else logging.ERROR
    for name in ("tensorflow", "absl", "tf2onnx", "h5py"):
        logging.getLogger(name).setLevel(level)
    try:
        import absl.logging

        absl.logging.set_verbosity("info" if verbose else "error")
    except ImportError:  # pragma: no cover - absl comes with TensorFlow
        pass


# ----------------------------------------------------------------- output files
def check_output(path, force, what="output"):
    """Refuse an existing ``path`` unless ``force``; return it as a str."""
    path = plain_path(path)
    if os.path.lexists(path) and not force:
        raise CLIError(f"{what} {path!r} exists already; pass --force to replace it.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"the folder of {what} {path!r} does not exist.")
    return path


def check_output_folder(path, force, what="output folder"):
    """Refuse a non-empty folder ``path`` unless ``force``; create it; return it."""
    path = plain_path(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise CLIError(f"{what} {path!r} is a file, not a folder.")
    if os.path.isdir(path) and os.listdir(path) and not force:
        raise CLIError(
            f"{what} {path!r} exists and is not empty; pass --force to write into "
            "it anyway."
        )
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {what} {path!r}: {exc.strerror}") from None
    return path


def atomic_output(path, mode="w", **kwargs):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    An error or Ctrl-C removes the temporary file and leaves ``path`` as it was, so
    nobody ever finds half a file (the package's one atomic writer, fsynced).
    """
    return atomic_write(plain_path(path), mode, **kwargs)
