"""The ``skbreast`` console script: the parser and the dispatch to each command.

Each command is a module of this package with ``add_parser(sub)`` and
``run(args, argv)``; they call the public Python API only, so whatever a command
does can be done from a notebook too.
"""

import argparse
import os
import sys
import warnings

from skbreast.cli import benchmark
from skbreast.cli.common import CLIError, parse_image_size

#: The sub-commands, by name.
COMMANDS = {"benchmark": benchmark}


def build_parser():
    """Return the argument parser of the ``skbreast`` command."""
    parser = argparse.ArgumentParser(
        prog="skbreast",
        description="Breast histopathology image classification with scikit-learn "
        "estimators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if getattr(args, "image_size", None) is not None:
            try:
                parse_image_size(args.image_size)
            except argparse.ArgumentTypeError as exc:
                parser.error(str(exc))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="keras")
            return COMMANDS[args.command].run(args, argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except CLIError as exc:
        print(f"skbreast: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skbreast: interrupted", file=sys.stderr)
        return 130
