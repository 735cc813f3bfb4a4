"""The ``skbreast`` console script: the parser and the dispatch to each command.

Each command is a module of this package with ``add_parser(sub)`` and
``run(args, argv)``; they call the public Python API only, so whatever a command
does can be done from a notebook too. A command whose module sets
``NEEDS_FRAMEWORK = False`` runs without Keras or TensorFlow ever being imported
(``skbreast info``); the others import it here, with its start-up noise hidden
unless ``--verbose``.
"""

import argparse
import os
import re
import sys
import warnings

from skbreast.cli import (
    benchmark,
    common,
    evaluate,
    export,
    info,
    predict,
    predict_slide,
    train,
)
from skbreast.cli.common import CLIError, parse_image_size

#: The sub-commands, by name.
COMMANDS = {
    "train": train,
    "predict": predict,
    "predict-slide": predict_slide,
    "evaluate": evaluate,
    "info": info,
    "export": export,
    "benchmark": benchmark,
}

# Messages from NumPy-holding code print str paths as np.str_('...').
_NP_STR = re.compile(r"np\.str_\(('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\)")


def _plain(message):
    return _NP_STR.sub(r"\1", str(message))


def build_parser():
    """Return the argument parser of the ``skbreast`` command."""
    parser = argparse.ArgumentParser(
        prog="skbreast",
        description="Breast histopathology image classification with scikit-learn "
        "estimators: train a model file, predict, evaluate, inspect and export it, "
        "or benchmark models against each other.",
        epilog="Run 'skbreast COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        dest="global_quiet",
        action="store_true",
        help="no progress lines or bars (errors and warnings still print)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        dest="global_verbose",
        action="store_true",
        help="let TensorFlow's start-up messages through and show tracebacks",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    common.warn(_plain(message))


def main(argv=None):
    """Entry point of the ``skbreast`` command; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 on a data or setting error, 2 on a usage error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    verbose = bool(args.global_verbose or getattr(args, "verbose", False))
    quiet = bool(args.global_quiet or getattr(args, "quiet", False))
    args.verbose, args.quiet = verbose, quiet
    command = COMMANDS[args.command]
    previous_quiet, common.QUIET = common.QUIET, quiet
    try:
        if getattr(args, "image_size", None) is not None:
            try:
                parse_image_size(args.image_size)
            except argparse.ArgumentTypeError as exc:
                parser.error(str(exc))
        common.quiet_framework_env(verbose)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="keras")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            if not verbose:
                warnings.showwarning = _show_warning
            if getattr(command, "NEEDS_FRAMEWORK", True):
                common.import_framework(verbose)
            return command.run(args, argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except CLIError as exc:
        print(f"skbreast: error: {_plain(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skbreast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `skbreast info model.skb | head`
        # Python would complain again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        if verbose:
            raise
        first = _plain(exc).strip().splitlines()
        print(
            f"skbreast: error: {type(exc).__name__}: {first[0] if first else ''} "
            "(--verbose shows the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        common.QUIET = previous_quiet
