"""``skbreast benchmark``: cross-validate classifiers and write the report."""

import argparse
import shlex
import time

from skbreast.cli.common import CLIError, log, parse_image_size, versions
from skbreast.cli.data import DEFAULT_N_SAMPLES, NO_PATIENTS_WARNING, load_data
from skbreast.cli.estimators import make_estimators

DEFAULT_CV = 3
DEFAULT_EPOCHS = 10
DEFAULT_IMAGE_SIZE = (50, 50)


def add_parser(sub):
    """Add the ``benchmark`` sub-command to the ``sub`` parsers."""
    bench = sub.add_parser(
        "benchmark",
        help="cross-validate CNN and ResNet classifiers and write a report",
        description="Cross-validate classifiers (by patient when patients are known) "
        "and write report.html, report.md, metrics.json and metrics.csv. Without "
        "--data it runs on the built-in synthetic sample (no download).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    bench.add_argument(
        "--data",
        metavar="PATH",
        help="image folder: BreakHis (BreaKHis_v1/histology_slides layout), IDC "
        "(<patient>/<0|1>/*.png) or one sub-folder per class; default: synthetic "
        "sample data",
    )
    bench.add_argument(
        "--models",
        default="cnn,resnet",
        help="comma-separated models to compare: cnn, resnet",
    )
    bench.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="MODEL.PARAM=VALUE",
        help="estimator parameter, e.g. cnn.epochs=30 or resnet.filters=(8,16); "
        "repeatable",
    )
    bench.add_argument("--cv", type=int, default=DEFAULT_CV, help="number of folds")
    bench.add_argument(
        "--image-size",
        nargs="+",
        metavar="H W",
        help=f"resize images to H W (or HxW); default {DEFAULT_IMAGE_SIZE[0]} "
        f"{DEFAULT_IMAGE_SIZE[1]}",
    )
    bench.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs per fit"
    )
    bench.add_argument("--random-state", type=int, default=0, help="random seed")
    bench.add_argument(
        "--n-jobs", type=int, default=None, help="folds fitted in parallel (joblib)"
    )
    bench.add_argument(
        "--out", default="skbreast_report", help="output folder of the report"
    )
    bench.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="use a stratified random subsample of N images",
    )
    bench.add_argument(
        "--n-samples",
        type=int,
        default=DEFAULT_N_SAMPLES,
        help="images generated when --data is not given",
    )
    bench.add_argument(
        "--verbose", action="store_true", help="show Keras' per-epoch progress"
    )


def run(args, argv):
    """Run the ``benchmark`` command; return the exit status."""
    # Imported when the command runs: they bring in Keras and the estimators.
    from skbreast.cli.engine import cross_validate_models
    from skbreast.cli.report import write_report

    start = time.perf_counter()
    if args.cv < 2:
        raise CLIError(f"--cv must be at least 2, got {args.cv}.")
    if args.max_images is not None and args.max_images < 4:
        raise CLIError(f"--max-images must be at least 4, got {args.max_images}.")
    if args.n_samples < 10:
        raise CLIError(f"--n-samples must be at least 10, got {args.n_samples}.")
    image_size = (
        DEFAULT_IMAGE_SIZE
        if args.image_size is None
        else parse_image_size(args.image_size)
    )
    estimators, params = make_estimators(args)
    try:
        X, y, groups, names, summary = load_data(args, image_size)
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    log(
        f"Data: {summary['images']} images, patients: {summary['patients']}, "
        f"{summary['class_balance']}"
    )
    notes = []
    if groups is None:
        notes.append(NO_PATIENTS_WARNING)
        log("WARNING: " + NO_PATIENTS_WARNING)
    try:
        result = cross_validate_models(
            estimators,
            X,
            y,
            groups=groups,
            cv=args.cv,
            target_names=names,
            random_state=args.random_state,
            n_jobs=args.n_jobs,
            log=log,
        )
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    log(f"Cross-validation: {result.splitter}")
    meta = {
        "command": "skbreast " + " ".join(shlex.quote(a) for a in argv),
        "versions": versions(),
        "data": summary,
        "warnings": notes,
        "settings": {
            "cv": args.cv,
            "epochs": args.epochs,
            "image_size": list(image_size),
            "max_images": args.max_images,
        },
        "params": params,
    }
    path = write_report(
        result,
        args.out,
        X=X,
        target_names=names,
        meta=meta,
        random_state=args.random_state,
    )
    for name, m in result.models.items():
        auc, auc_sd = m.summary["roc_auc"]
        acc, acc_sd = m.summary["accuracy"]
        print(
            f"{name}: ROC AUC {auc:.3f} ± {auc_sd:.3f}, accuracy {acc:.3f} ± "
            f"{acc_sd:.3f}"
        )
    print(f"Report: {path} ({time.perf_counter() - start:.0f} s)")
    return 0
