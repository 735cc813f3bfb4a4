"""``skbreast benchmark``: cross-validate classifiers and write the report."""

import argparse
import shlex
import time
import warnings

from skbreast.cli.common import CLIError, log, parse_image_size, versions
from skbreast.cli.data import DEFAULT_N_SAMPLES, NO_PATIENTS_WARNING, load_data
from skbreast.cli.engine import PROTOCOLS
from skbreast.cli.estimators import make_estimators

DEFAULT_CV = 3
DEFAULT_EPOCHS = 10
DEFAULT_IMAGE_SIZE = (50, 50)


def add_parser(sub):
    """Add the ``benchmark`` sub-command to the ``sub`` parsers."""
    bench = sub.add_parser(
        "benchmark",
        help="cross-validate CNN and ResNet classifiers and write a report",
        description="Cross-validate classifiers on the same folds (by patient when "
        "patients are known) with skbreast.model_selection.compare_models and write "
        "report.html, report.md, metrics.json and metrics.csv: every metric with a "
        "patient-bootstrap 95% CI, paired tests, calibration, operating points and "
        "the worst patients and images. Without --data it runs on the built-in "
        "synthetic sample (no download).",
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
        help="comma-separated models to compare: cnn, resnet, probe (a frozen "
        "ImageNet ResNet50 and a tuned logistic regression; offline, give its "
        "weights file with --set probe.weights=PATH), transfer (an ImageNet "
        "MobileNetV2 fine-tuned, or any backbone: --set transfer.backbone=NAME; "
        "offline, --set transfer.weights=PATH)",
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
    bench.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="kfold",
        help="kfold: --cv stratified folds, by patient where known, repeated "
        "--n-repeats times; spanhol: the BreakHis paper's 5 random patient-disjoint "
        "70/30 trials (Spanhol et al. 2016), reporting image accuracy and the "
        "patient recognition rate as mean ± sd (needs patients; ignores --cv)",
    )
    bench.add_argument("--cv", type=int, default=DEFAULT_CV, help="number of folds")
    bench.add_argument(
        "--n-repeats",
        type=int,
        default=1,
        help="repeats of the k-fold, each a new partition of the patients",
    )
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
        "--test-data",
        metavar="DIR",
        help="external test set (an image folder in any layout --data takes, "
        "ideally other patients from another site): every model is also fitted "
        "on all of --data and scored on it, beside the cross-validated scores",
    )
    bench.add_argument(
        "--no-baselines",
        dest="baselines",
        action="store_false",
        help="skip the trivial baselines (a logistic regression on colour "
        "histograms and one on 21x32 thumbnails, run on the same folds) and the "
        "shortcut warning they feed",
    )
    bench.add_argument(
        "--no-colour-check",
        dest="colour_check",
        action="store_false",
        help="skip the colour-sensitivity test (every fold's test images scored "
        "stain-normalised and under strong H&E colour jitter)",
    )
    bench.add_argument(
        "--verbose", action="store_true", help="show Keras' per-epoch progress"
    )


def run(args, argv):
    """Run the ``benchmark`` command; return the exit status."""
    # Imported when the command runs: they bring in Keras and the estimators.
    import numpy as np

    from skbreast.cli.engine import run_comparison
    from skbreast.cli.report import write_report
    from skbreast.metrics import get_metric

    start = time.perf_counter()
    if args.cv < 2:
        raise CLIError(f"--cv must be at least 2, got {args.cv}.")
    if args.n_repeats < 1:
        raise CLIError(f"--n-repeats must be at least 1, got {args.n_repeats}.")
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
        X, y, groups, names, summary, coords = load_data(
            args, image_size, return_coords=True
        )
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    log(
        f"Data: {summary['images']} images, patients: {summary['patients']}, "
        f"{summary['class_balance']}"
    )
    if groups is None:
        log("WARNING: " + NO_PATIENTS_WARNING)
    # Class names as labels: the report then speaks of benign and malignant.
    labels = np.asarray(names)[y]
    test = None
    if args.test_data is not None:
        test, test_summary = _load_test_data(args, image_size, names)
        summary["external_test_set"] = (
            f"{test_summary['images']} images, patients: {test_summary['patients']}, "
            f"{test_summary['class_balance']} ({test_summary['source']})"
        )
    loaded = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # compare_models' warnings are logged below, once, and reported.
            warnings.simplefilter("ignore", UserWarning)
            result = run_comparison(
                estimators,
                X,
                labels,
                groups,
                protocol=args.protocol,
                cv=args.cv,
                n_repeats=args.n_repeats,
                random_state=args.random_state,
                n_jobs=args.n_jobs,
                baselines=args.baselines,
                colour_check=args.colour_check,
                test=test,
                coords=coords,
                # The data's second class (1: malignant, idc) is the positive
                # one, whatever the names' alphabetical order ("non_idc" > "idc").
                pos_label=names[1],
            )
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    log(f"Cross-validation: {result.cv_description}")
    for note in result.warnings:
        # The split by image was announced above, in the command's words.
        if groups is not None or not note.startswith("No patients"):
            log("WARNING: " + note)
    meta = {
        "command": "skbreast " + " ".join(shlex.quote(a) for a in argv),
        "versions": versions(),
        "data": summary,
        "protocol": args.protocol,
        "settings": {
            "protocol": args.protocol,
            "cv": args.cv,
            "n_repeats": args.n_repeats,
            "epochs": args.epochs,
            "image_size": list(image_size),
            "max_images": args.max_images,
            "baselines": args.baselines,
            "colour_check": args.colour_check,
            "test_data": args.test_data,
        },
        "params": params,
        "timing": {"loading_data": loaded - start},
    }
    path = write_report(
        result, args.out, X=X, meta=meta, random_state=args.random_state
    )
    table = result.summary()
    rows = {
        (m, k): (mean, sd, est, lo, hi)
        for m, k, mean, sd, est, lo, hi in zip(
            table["model"],
            table["metric"],
            table["mean"],
            table["sd"],
            table["estimate"],
            table["ci_low"],
            table["ci_high"],
        )
    }
    keys = ["roc_auc", "accuracy"]
    if args.protocol == "spanhol":
        keys.append("patient_accuracy")
    for name in result.names + result.baselines:
        parts = []
        for key in keys:
            mean, sd, est, lo, hi = rows[(name, key)]
            label = get_metric(key).short_label
            parts.append(
                f"{label} {mean:.3f} ± {sd:.3f} (pooled {est:.3f}, 95% CI "
                f"{lo:.3f}-{hi:.3f})"
            )
        role = " [baseline, not a candidate model]" if name in result.baselines else ""
        print(f"{name}{role}: " + ", ".join(parts))
    if len(result.names) > 1:
        for comparison in result.comparisons():
            print(comparison.sentence)
    if result.shortcut_warning:
        print("WARNING: " + result.shortcut_warning)
    if result.colour_scores is not None:
        colour = result.colour_sensitivity()
        for i, name in enumerate(colour["model"]):
            if name in result.baselines:
                continue
            print(
                f"Colour check, {name}: ROC AUC change "
                f"{_change(colour['normalised_change'][i])} stain-normalised, "
                f"{_change(colour['jittered_change'][i])} under colour jitter; "
                f"{colour['verdict'][i]}"
            )
    if result.external is not None:
        table = result.external_table()
        for i, (name, metric) in enumerate(zip(table["model"], table["metric"])):
            if metric == "roc_auc" and name in result.names:
                print(
                    f"External test set, {name}: ROC AUC {table['external'][i]:.3f} "
                    f"(95% CI {table['external_ci_low'][i]:.3f}-"
                    f"{table['external_ci_high'][i]:.3f}; cross-validated "
                    f"{table['cv_estimate'][i]:.3f})"
                )
    total = time.perf_counter() - start
    stats = result.timing["statistics"]
    colour_time = result.timing.get("colour_check")
    print(
        f"Report: {path} ({total:.0f} s; statistics {stats:.1f} s, "
        f"{stats / total:.1%} of the run"
        + (
            f"; colour check {colour_time:.1f} s, {colour_time / total:.1%} of the run"
            if colour_time is not None
            else ""
        )
        + ")"
    )
    return 0


def _change(value):
    """``+0.012`` / ``−0.034`` (a true minus sign), or ``n/a``."""
    if value is None or value != value:
        return "n/a"
    return f"{value:+.3f}".replace("-", "\u2212")


def _load_test_data(args, image_size, names):
    """Return ``((X, labels, groups), summary)`` of ``--test-data``."""
    import numpy as np

    test_args = argparse.Namespace(**vars(args))
    test_args.data, test_args.max_images = args.test_data, None
    try:
        X, y, groups, test_names, summary = load_data(test_args, image_size)
    except (ValueError, OSError) as exc:
        raise CLIError(f"--test-data: {str(exc).splitlines()[0]}") from None
    if sorted(test_names) != sorted(names):
        raise CLIError(
            f"--test-data has classes {test_names}, --data has {names}: the "
            "external set must use the same classes."
        )
    log(
        f"External test set: {summary['images']} images, patients: "
        f"{summary['patients']}, {summary['class_balance']}"
    )
    return (X, np.asarray(test_names)[y], groups), summary
