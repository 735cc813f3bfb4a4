"""``skbreast export``: write a model file's network as SavedModel, ONNX or TFLite."""

import os
import time

from skbreast.cli.common import (
    CLIError,
    HelpFormatter,
    add_verbosity_flags,
    check_output,
    log,
    plain_path,
)

FORMATS = ("onnx", "savedmodel", "tflite")
_SUFFIX = {"onnx": ".onnx", "savedmodel": "_savedmodel", "tflite": ".tflite"}


def add_parser(sub):
    """Add the ``export`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "export",
        help="export a model file for serving (SavedModel, ONNX, TFLite)",
        description="Export the network of a model file as a serving graph: it "
        "takes uint8 images of the model's size, (n, height, width, channels), "
        "and returns the class probabilities (n, n_classes) in the order of the "
        "model's classes; scaling and preprocessing are inside. ONNX needs "
        "'pip install skbreast[export]'.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.skb)")
    parser.add_argument(
        "--format", required=True, choices=FORMATS, help="what to write"
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        default=None,
        help="file (.onnx, .tflite) or folder (savedmodel) to write; default: "
        "beside MODEL",
    )
    parser.add_argument(
        "--tta",
        action="store_true",
        help="put test-time augmentation (flips and turns) into the graph",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --out"
    )
    add_verbosity_flags(parser)


def default_out(model, format):
    """Return the default output path of ``format`` for the model file ``model``."""
    stem = os.path.splitext(plain_path(model))[0]
    return stem + _SUFFIX[format]


def run(args, argv):
    """Run the ``export`` command; return the exit status."""
    from skbreast.cli.estimators import load_model_file

    start = time.perf_counter()
    out = args.out if args.out is not None else default_out(args.model, args.format)
    out = check_output(out, args.force, "--out")
    estimator = load_model_file(args.model)
    if args.tta:
        estimator.set_params(tta=True)
    log(f"Exporting {plain_path(args.model)} as {args.format} ...")
    try:
        estimator.export(out, format=args.format)
    except ImportError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    shape = ", ".join(str(int(d)) for d in estimator.image_shape_)
    classes = [str(c) for c in estimator.classes_]
    print(
        f"Wrote {out} ({args.format}): input 'image' uint8 (n, {shape}), output "
        f"probabilities (n, {len(classes)}) for {classes} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 0
