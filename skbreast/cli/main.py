"""The ``skbreast`` console script.

``skbreast benchmark`` cross-validates the CNN and the ResNet on an image folder (or
on the built-in synthetic sample) and writes an HTML/Markdown report with metrics,
ROC curves, confusion matrices, training curves and Grad-CAM examples.
"""

import argparse
import ast
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# Default settings: `skbreast benchmark` with no options must finish in well under
# five minutes on two CPU cores (1,000 50x50 patches, 3 folds, two models).
DEFAULT_N_SAMPLES = 1000
DEFAULT_N_PATIENTS = 20
DEFAULT_CV = 3
DEFAULT_EPOCHS = 10
DEFAULT_IMAGE_SIZE = (50, 50)
MODEL_DEFAULTS = {
    "cnn": {},
    "resnet": {"filters": (16, 32), "blocks_per_stage": 1},
}

NO_PATIENTS_WARNING = (
    "The data has no patient ids: folds are split by image (StratifiedKFold). "
    "Images of one patient or slide can fall on both sides of a split, which makes "
    "the scores optimistic. Use a layout with patients (BreakHis, IDC) for honest "
    "estimates."
)


class CLIError(Exception):
    """A user error reported as one line and exit status 1."""


def _log(message):
    print(message, file=sys.stderr, flush=True)


def _image_size(values):
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


def build_parser():
    """Return the argument parser of the ``skbreast`` command."""
    parser = argparse.ArgumentParser(
        prog="skbreast",
        description="Breast histopathology image classification with scikit-learn "
        "estimators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
    return parser


# ---------------------------------------------------------------- data
def detect_layout(root):
    """Return "breakhis", "idc" or "folder" for the image folder ``root``.

    Raises
    ------
    CLIError
        If ``root`` is missing or matches no known layout.
    """
    from skbreast.datasets._base import is_image_file

    root = Path(root)
    if not root.is_dir():
        raise CLIError(f"--data {str(root)!r} is not a folder.")
    # BreakHis: a histology_slides or BreaKHis_v1 folder within a few levels.
    level = [root]
    for _ in range(4):
        nxt = []
        for folder in level:
            if folder.name in ("BreaKHis_v1", "histology_slides"):
                return "breakhis"
            try:
                nxt += [p for p in folder.iterdir() if p.is_dir()]
            except OSError:
                continue
        level = nxt
    if (root / "benign" / "SOB").is_dir() or (root / "malignant" / "SOB").is_dir():
        return "breakhis"
    # IDC: <patient>/<0|1>/<patient>_idx5_..._class<k>.png
    for base in (root, *[p for p in root.iterdir() if p.is_dir()]):
        for patient in sorted(p for p in base.iterdir() if p.is_dir())[:20]:
            for label in ("0", "1"):
                folder = patient / label
                if folder.is_dir() and any(
                    "_idx5_" in f.name and "_class" in f.name
                    for f in list(folder.iterdir())[:50]
                ):
                    return "idc"
    classes = [
        p
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and any(is_image_file(f) for f in p.iterdir())
    ]
    if len(classes) >= 2:
        return "folder"
    raise CLIError(
        f"No known image layout under {str(root)!r}: expected BreakHis "
        "(BreaKHis_v1/histology_slides/...), IDC (<patient>/<0|1>/*.png) or one "
        "sub-folder of images per class."
    )


def _subsample(n, y, max_images, random_state):
    """Return the indices of a stratified random subsample of ``max_images``."""
    if max_images is None or max_images >= n:
        return np.arange(n)
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(
        np.arange(n), train_size=max_images, stratify=y, random_state=random_state
    )
    return np.sort(idx)


def load_data(args, image_size):
    """Return ``(X, y, groups, target_names, summary)`` for the parsed ``args``."""
    from skbreast import datasets
    from skbreast.datasets._base import load_pixels

    if args.data is None:
        data = datasets.make_patches(
            args.n_samples,
            image_size=image_size,
            n_patients=DEFAULT_N_PATIENTS,
            random_state=args.random_state,
        )
        layout = "generated sample (skbreast.datasets.make_patches, SYNTHETIC)"
        idx = _subsample(
            len(data.target), data.target, args.max_images, args.random_state
        )
        X, y, groups = data.images[idx], data.target[idx], data.groups[idx]
        names = [str(t) for t in data.target_names]
        source = "built-in"
    else:
        kind = detect_layout(args.data)
        layout = {
            "breakhis": "BreakHis layout (BreaKHis_v1/histology_slides/...)",
            "idc": "IDC layout (<patient>/<0|1>/*.png)",
            "folder": "class-folder layout (<class>/<image>, no patients)",
        }[kind]
        _log(f"Found {layout} in {args.data}")
        if kind == "breakhis":
            data = datasets.load_breakhis(args.data, return_paths=True)
        elif kind == "idc":
            data = datasets.load_idc(args.data, return_paths=True)
        else:
            data = datasets.load_image_folder(
                args.data, return_paths=True, deduplicate=True
            )
            if getattr(data, "n_duplicates", 0):
                _log(f"Dropped {data.n_duplicates} byte-identical duplicate images")
        names = [str(t) for t in data.target_names]
        if len(names) != 2:
            raise CLIError(
                f"The benchmark compares binary classifiers; {args.data} has "
                f"{len(names)} classes: {names}."
            )
        idx = _subsample(
            len(data.target), data.target, args.max_images, args.random_state
        )
        paths = data.filenames[idx]
        _log(f"Decoding {len(paths)} images at {image_size[0]}x{image_size[1]} ...")
        X, kept = load_pixels(paths, image_size, "skip", None)
        y = np.asarray(data.target)[idx][kept]
        groups = None if data.groups is None else np.asarray(data.groups)[idx][kept]
        source = str(Path(args.data).resolve())
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=2)
    summary = {
        "source": source,
        "layout": layout,
        "images": int(len(y)),
        "image_size": f"{X.shape[1]}x{X.shape[2]}x{X.shape[3]}",
        "patients": "unknown" if groups is None else int(len(np.unique(groups))),
        "class_balance": ", ".join(
            f"{names[c]}: {counts[c]} ({counts[c] / len(y):.1%})" for c in (0, 1)
        ),
    }
    return X, y, groups, names, summary


# ---------------------------------------------------------------- models
def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def make_estimators(args):
    """Return ``({name: estimator}, {name: params})`` for the parsed ``args``."""
    from skbreast import CNNClassifier, ResNetClassifier

    classes = {"cnn": CNNClassifier, "resnet": ResNetClassifier}
    names = [m.strip().lower() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in classes]
    if unknown or not names:
        raise CLIError(
            f"--models: unknown model(s) {unknown or [args.models]}; choose from "
            f"{sorted(classes)}."
        )
    if args.epochs < 1:
        raise CLIError(f"--epochs must be at least 1, got {args.epochs}.")
    estimators = {}
    for name in dict.fromkeys(names):
        params = dict(MODEL_DEFAULTS[name])
        params.update(
            epochs=args.epochs,
            random_state=args.random_state,
            verbose=2 if args.verbose else 0,
        )
        estimators[name] = classes[name](**params)
    for setting in args.settings:
        key, sep, value = setting.partition("=")
        model, dot, param = key.strip().partition(".")
        if not sep or not dot or not param:
            raise CLIError(
                f"--set {setting!r}: expected MODEL.PARAM=VALUE, e.g. cnn.epochs=30."
            )
        if model not in estimators:
            raise CLIError(
                f"--set {setting!r}: model {model!r} is not among --models "
                f"{list(estimators)}."
            )
        valid = estimators[model].get_params()
        if param not in valid:
            raise CLIError(
                f"--set {setting!r}: {type(estimators[model]).__name__} has no "
                f"parameter {param!r}; valid: {', '.join(sorted(valid))}."
            )
        estimators[model].set_params(**{param: _parse_value(value.strip())})
    for name, est in estimators.items():
        try:
            est._validate_params()
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{name}: {exc}") from None
    params = {
        name: {
            k: v
            for k, v in est.get_params().items()
            if k not in ("callbacks", "verbose")
        }
        for name, est in estimators.items()
    }
    return estimators, params


def _versions():
    import keras
    import sklearn

    import skbreast

    versions = {
        "skbreast": skbreast.__version__,
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


# ---------------------------------------------------------------- commands
def run_benchmark(args, argv):
    """Run the ``benchmark`` command; return the exit status."""
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
        DEFAULT_IMAGE_SIZE if args.image_size is None else _image_size(args.image_size)
    )
    estimators, params = make_estimators(args)
    try:
        X, y, groups, names, summary = load_data(args, image_size)
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    _log(
        f"Data: {summary['images']} images, patients: {summary['patients']}, "
        f"{summary['class_balance']}"
    )
    notes = []
    if groups is None:
        notes.append(NO_PATIENTS_WARNING)
        _log("WARNING: " + NO_PATIENTS_WARNING)
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
            log=_log,
        )
    except ValueError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    _log(f"Cross-validation: {result.splitter}")
    meta = {
        "command": "skbreast " + " ".join(shlex.quote(a) for a in argv),
        "versions": _versions(),
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
        if args.image_size is not None:
            try:
                _image_size(args.image_size)
            except argparse.ArgumentTypeError as exc:
                parser.error(str(exc))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="keras")
            return run_benchmark(args, argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    except CLIError as exc:
        print(f"skbreast: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skbreast: interrupted", file=sys.stderr)
        return 130
