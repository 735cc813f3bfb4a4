"""``skbreast train``: fit a model on a folder, write a model file with its card."""

import inspect
import shlex
import time

from skbreast.cli.common import (
    CLIError,
    HelpFormatter,
    add_verbosity_flags,
    check_output,
    log,
    parse_image_size,
)
from skbreast.cli.estimators import MODEL_NAMES

DEFAULT_EPOCHS = 10
DEFAULT_IMAGE_SIZE = (50, 50)
#: The registry's metrics that ``--cv`` writes into the card of a binary model.
CARD_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "roc_auc",
)


def add_parser(sub):
    """Add the ``train`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "train",
        help="fit a model on an image folder and write a model file (.skb)",
        description="Fit one classifier on every image of --data (patients passed "
        "to fit where the layout records them) and write the pickle-free model "
        "file with its model card: classes, image size, preprocessing, the "
        "training data (counts by class and by patient), cross-validated metrics "
        "with --cv, versions, date and this command line. 'skbreast info' prints "
        "the card.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        required=True,
        help="image folder: BreakHis (BreaKHis_v1/histology_slides layout), IDC "
        "(<patient>/<0|1>/*.png) or one sub-folder per class",
    )
    parser.add_argument(
        "--model",
        default="cnn",
        choices=MODEL_NAMES,
        help="the model (probe: a frozen ImageNet ResNet50 and a tuned logistic "
        "regression; transfer: an ImageNet MobileNetV2, fine-tuned; offline, give "
        "their weights with --set weights=PATH)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="PARAM=VALUE",
        help="estimator parameter, e.g. epochs=30 or filters=(8,16); repeatable",
    )
    parser.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="also cross-validate in K folds (by patient when known) and store the "
        "metrics in the card",
    )
    parser.add_argument(
        "--image-size",
        nargs="+",
        metavar="H W",
        help=f"resize images to H W (or HxW); default {DEFAULT_IMAGE_SIZE[0]} "
        f"{DEFAULT_IMAGE_SIZE[1]}",
    )
    parser.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs"
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="train on a stratified random subsample of N images",
    )
    parser.add_argument("--random-state", type=int, default=0, help="random seed")
    parser.add_argument(
        "--description", default=None, help="a sentence stored in the model card"
    )
    parser.add_argument(
        "--out", default="model.skb", metavar="PATH", help="model file to write"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --out file"
    )
    add_verbosity_flags(parser)


def _keras_verbose(args):
    from skbreast.cli.common import show_progress

    if args.verbose:
        return 2
    return 1 if show_progress() else 0


def _fit_kwargs(estimator, groups):
    if groups is not None and "groups" in inspect.signature(estimator.fit).parameters:
        return {"groups": groups}
    return {}


def _scoring(n_classes):
    from sklearn.metrics import f1_score, make_scorer

    if n_classes == 2:
        from skbreast.metrics import get_metric

        # The registry's keys and definitions: the card reads like the reports.
        return {key: get_metric(key).make_scorer() for key in CARD_METRICS}
    return {
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced_accuracy",
        "f1_macro": make_scorer(f1_score, average="macro", zero_division=0),
        "roc_auc_ovr": "roc_auc_ovr",
    }


def make_splitter(y, groups, n_splits, random_state):
    """Return ``(splitter, description)``: stratified, by patient where known."""
    import numpy as np
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_splits > n_groups:
            raise CLIError(
                f"--cv {n_splits} needs at least {n_splits} patients; the data has "
                f"{n_groups}."
            )
        splitter = StratifiedGroupKFold(
            n_splits, shuffle=True, random_state=random_state
        )
        return splitter, f"StratifiedGroupKFold(n_splits={n_splits}) by patient"
    smallest = int(np.bincount(y).min())
    if n_splits > smallest:
        raise CLIError(
            f"--cv {n_splits} needs at least {n_splits} images of every class; the "
            f"smallest class has {smallest}."
        )
    splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return splitter, f"StratifiedKFold(n_splits={n_splits}) by image (no patients)"


def cross_validate_card(estimator, X, y, groups, n_splits, random_state, n_classes):
    """Cross-validate ``estimator``; return the card's ``cross_validation`` entry."""
    import numpy as np
    from sklearn.model_selection import cross_validate

    splitter, description = make_splitter(y, groups, n_splits, random_state)
    log(f"Cross-validating: {description} ...")
    params = _fit_kwargs(estimator, groups)
    result = cross_validate(
        estimator,
        X,
        y,
        groups=groups,
        cv=splitter,
        scoring=_scoring(n_classes),
        params=params or None,
        error_score="raise",
    )
    metrics = {}
    for key, values in result.items():
        if not key.startswith("test_"):
            continue
        values = np.asarray(values, dtype=float)
        defined = values[~np.isnan(values)]
        metrics[key[5:]] = {
            "mean": float(defined.mean()) if len(defined) else None,
            "std": float(defined.std()) if len(defined) else None,
            "folds": [None if np.isnan(v) else float(v) for v in values],
        }
    return {"splitter": description, "n_splits": n_splits, "metrics": metrics}


def run(args, argv):
    """Run the ``train`` command; return the exit status."""
    import numpy as np

    import skbreast
    from skbreast.cli.data import class_and_patient_counts, load_data
    from skbreast.cli.estimators import make_estimator

    start = time.perf_counter()
    if args.cv is not None and args.cv < 2:
        raise CLIError(f"--cv must be at least 2, got {args.cv}.")
    if args.max_images is not None and args.max_images < 4:
        raise CLIError(f"--max-images must be at least 4, got {args.max_images}.")
    out = check_output(args.out, args.force, "--out")
    image_size = (
        DEFAULT_IMAGE_SIZE
        if args.image_size is None
        else parse_image_size(args.image_size)
    )
    estimator, _ = make_estimator(
        args.model,
        args.settings,
        args.epochs,
        args.random_state,
        verbose=_keras_verbose(args),
    )
    try:
        X, y, groups, names, summary = load_data(args, image_size, binary=False)
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    log(
        f"Data: {summary['images']} images, patients: {summary['patients']}, "
        f"{summary['class_balance']}"
    )
    # Fitted on the class names, so the model file predicts "malignant", not 1.
    labels = np.asarray(names)[y]
    cv = None
    if args.cv is not None:
        try:
            cv = cross_validate_card(
                estimator, X, y, groups, args.cv, args.random_state, len(names)
            )
        except ValueError as exc:
            raise CLIError(str(exc).splitlines()[0]) from None
        for key, value in cv["metrics"].items():
            if value["mean"] is not None:
                log(f"  {key}: {value['mean']:.3f} ± {value['std']:.3f}")
    log(f"Fitting {type(estimator).__name__} on {len(labels)} images ...")
    fit_start = time.perf_counter()
    estimator.fit(X, labels, **_fit_kwargs(estimator, groups))
    fit_time = time.perf_counter() - fit_start
    data = dict(summary)
    data.update(class_and_patient_counts(y, groups, names))
    data["max_images"] = args.max_images
    data["patients_passed_to_fit"] = bool(_fit_kwargs(estimator, groups))
    card = {
        "training_data": data,
        "cross_validation": cv,
        "training_time_s": round(fit_time, 2),
        "command": "skbreast " + " ".join(shlex.quote(a) for a in argv),
    }
    if args.description:
        card["description"] = args.description
    if "verbose" in estimator.get_params():
        estimator.set_params(verbose=0)
    skbreast.save(estimator, out, model_card=card)
    fitted = (
        f"{estimator.n_iter_} epochs"
        if hasattr(estimator, "n_iter_")
        else f"C={estimator.C_:.3g} chosen"
    )
    print(
        f"Wrote {out}: {type(estimator).__name__}, classes {list(names)}, "
        f"{'x'.join(str(d) for d in estimator.image_shape_)} images, "
        f"{fitted} on {len(labels)} images "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return 0
