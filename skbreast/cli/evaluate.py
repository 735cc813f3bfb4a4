"""``skbreast evaluate``: the held-out report of a model file on a folder, no training.

One evaluation, so no folds: the report (report.html, report.md, metrics.json,
metrics.csv and figures) gives each metric with a bootstrap confidence interval that
resamples patients where the data records them. The benchmark's comparison report
(:meth:`skbreast.model_selection.ComparisonResult.write_report`) is built on
cross-validation folds of several models; this one reads the same way for one
trained model.
"""

import argparse
import math
import os
import shlex
import time

from skbreast.cli.common import (
    CLIError,
    HelpFormatter,
    add_verbosity_flags,
    check_output_folder,
    log,
    plain_path,
    progress,
    versions,
)

# Images predicted between two updates of the progress bar.
_CHUNK = 512
DEFAULT_RESAMPLES = 1000
# The registry's metrics given a bootstrap confidence interval.
_INTERVAL_METRICS = ("roc_auc", "accuracy", "recall", "specificity")


def add_parser(sub):
    """Add the ``evaluate`` sub-command to the ``sub`` parsers."""
    parser = sub.add_parser(
        "evaluate",
        help="write the held-out report of a model file on an image folder",
        description="Predict every image of --data with a trained model file and "
        "write a held-out report (report.html, report.md, metrics.json, "
        "metrics.csv, figures), without training: image and patient-level "
        "metrics with bootstrap confidence intervals (by patient where known), "
        "the ROC curve and the confusion matrix. Use data the model was not "
        "trained on: other patients.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.skb)")
    parser.add_argument(
        "--data", metavar="PATH", required=True, help="held-out image folder"
    )
    parser.add_argument(
        "--out", default="skbreast_evaluation", help="output folder of the report"
    )
    parser.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help="evaluate a stratified random subsample of N images",
    )
    parser.add_argument(
        "--tta", action="store_true", help="test-time augmentation (flips, turns)"
    )
    parser.add_argument(
        "--n-resamples",
        type=int,
        default=DEFAULT_RESAMPLES,
        help="bootstrap resamples of the confidence intervals (0: none)",
    )
    parser.add_argument("--random-state", type=int, default=0, help="random seed")
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty --out folder"
    )
    add_verbosity_flags(parser)


def _labels_for_model(y, names, classes):
    """Map the data's labels onto the model's class indices."""
    import numpy as np

    model_names = [str(c) for c in classes]
    unknown = [n for n in names if n not in model_names]
    if unknown:
        raise CLIError(
            f"The data has classes {unknown} that the model does not predict; the "
            f"model's classes are {model_names}."
        )
    index = np.array([model_names.index(n) for n in names])
    return index[np.asarray(y)]


def _positive_is_first(names, classes):
    """Whether the data's positive class (its second) is the model's first class.

    IDC names its classes ``["non_idc", "idc"]`` (1: idc) while a model fitted
    on those names sorts them, ``classes_ == ["idc", "non_idc"]``: evaluate then
    scores the model's first class so that precision and recall describe idc.
    """
    return len(names) == 2 and names[1] == classes[0] and names[0] == classes[1]


def _predict(estimator, X):
    import numpy as np

    parts = []
    with progress(len(X), "Predicting") as bar:
        for start in range(0, len(X), _CHUNK):
            parts.append(estimator.predict_proba(X[start : start + _CHUNK]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts)


def held_out_metrics(y_true, y_score, groups, threshold=0.5):
    """Every metric of the registry on one binary evaluation, under its key.

    ``y_true`` holds 0/1 class indices (1: the model's second class, the positive
    one); patient-level metrics are added when ``groups`` are known. Images with
    ``y_score > threshold`` (the model's ``threshold_``) are predicted positive.
    Undefined metrics are NaN.
    """
    import warnings

    from skbreast.metrics import compute_metrics

    with warnings.catch_warnings():
        # An undefined metric is NaN in the report; its warnings are noise here.
        warnings.simplefilter("ignore")
        return compute_metrics(
            y_true, y_score, groups=groups, pos_label=1, threshold=threshold
        )


def confidence_intervals(
    y_true, y_score, groups, n_resamples, random_state, threshold=0.5
):
    """Return ``{metric: {...}}`` 95% intervals from a patient (cluster) bootstrap."""
    if n_resamples < 1:
        return {}
    import functools

    from skbreast.metrics import get_metric
    from skbreast.model_selection import bootstrap_ci

    # ROC AUC by name: bootstrap_ci computes it for all resamples at once.
    metrics = {
        key: "roc_auc"
        if key == "roc_auc"
        else functools.partial(get_metric(key).score, threshold=threshold)
        for key in _INTERVAL_METRICS
    }
    intervals = {}
    for key, metric in metrics.items():
        try:
            ci = bootstrap_ci(
                y_true,
                y_score,
                metric=metric,
                groups=groups,
                n_resamples=n_resamples,
                random_state=random_state,
            )
        except ValueError as exc:
            intervals[key] = {"low": None, "high": None, "reason": str(exc)}
            continue
        low, high = (float(v) for v in ci.confidence_interval)
        intervals[key] = {
            "low": None if math.isnan(low) else low,
            "high": None if math.isnan(high) else high,
            "unit": ci.unit,
            "n_units": int(ci.n_units),
            "n_resamples": int(ci.n_valid),
            "reason": ci.reason,
        }
    return intervals


def _figures(out, y_true, y_score, y_pred, classes, history, name):
    """Save the ROC curve, confusion matrix and training curves; return their names."""
    from sklearn.metrics import confusion_matrix

    from skbreast import plotting
    from skbreast.report import save_figure

    plt = plotting._pyplot()
    figures = {}
    if len(set(y_true.tolist())) == 2:
        from sklearn.metrics import roc_auc_score

        ax = plotting.plot_roc_comparison({name: [(y_true, y_score)]})
        # One evaluation: no folds, no spread to draw or state.
        ax.set_title("ROC curve, held-out data")
        legend = ax.get_legend()
        if legend is not None and legend.get_texts():
            auc = roc_auc_score(y_true, y_score)
            legend.get_texts()[0].set_text(f"{name} (AUC = {auc:.3f})")
        figures["roc_curve.png"] = ax.figure
    figures["confusion_matrix.png"] = plotting.plot_confusion_matrices(
        {name: confusion_matrix(y_true, y_pred, labels=[0, 1])},
        display_labels=classes,
    )
    if history:
        figures["training_curves.png"] = plotting.plot_training_curves(
            {name: [history]}
        )
    for fname, fig in figures.items():
        save_figure(fig, os.path.join(out, fname))
        plt.close(fig)
    return list(figures)


def _slide_maps(out, coords, groups, y_true, y_score, positive, name):
    """Save the slide maps of the best and worst patient; return their captions.

    IDC data only (patch positions and patients); ``{}`` otherwise, or when a
    patient's patches share a cell of the map.
    """
    if coords is None or groups is None:
        return {}
    from skbreast import plotting
    from skbreast.model_selection._report_maps import patient_maps
    from skbreast.report import save_figure

    try:
        maps, _ = patient_maps(
            coords, groups, y_true == 1, y_score, pos_label=positive, name=name
        )
    except ValueError as exc:
        log(f"No slide maps: {exc}")
        return {}
    captions = {}
    for which, caption, fig in maps:
        fname = f"slide_map_{which}.png"
        save_figure(fig, os.path.join(out, fname))
        plotting._pyplot().close(fig)
        captions[fname] = caption
    return captions


def write_evaluation_report(
    out, payload, rows, figures, *, classification=None, captions=None
):
    """Write report.md, report.html, metrics.json and metrics.csv into ``out``.

    ``classification`` is the classification report as a table (the text of
    the payload otherwise); ``captions`` names figures without a standard
    caption. Returns the path of report.html.
    """
    from skbreast.report import evaluation_report, write_csv, write_json, write_report

    write_json(os.path.join(out, "metrics.json"), payload)
    csv_rows = []
    for key, _, value, _, _ in rows:
        ci = payload["confidence_intervals"].get(key) or {}
        csv_rows.append(
            [
                key,
                "" if math.isnan(value) else value,
                "" if ci.get("low") is None else ci["low"],
                "" if ci.get("high") is None else ci["high"],
            ]
        )
    write_csv(
        os.path.join(out, "metrics.csv"),
        ["metric", "value", "ci_low", "ci_high"],
        csv_rows,
    )
    report = evaluation_report(
        rows,
        note=payload["note"],
        classification_report=classification or payload["classification_report"],
        figures=figures,
        captions=captions,
        warnings=payload["warnings"],
        command=payload["command"],
        versions=payload["versions"],
        data=payload["data"],
    )
    return write_report(report, out)


def run(args, argv):
    """Run the ``evaluate`` command; return the exit status."""
    from sklearn.metrics import confusion_matrix

    from skbreast.cli.data import load_data
    from skbreast.cli.estimators import load_model_file
    from skbreast.model_selection._classification import (
        classification_table,
        report_table,
    )
    from skbreast.model_selection._cv_run import fitted_threshold
    from skbreast.report import metric_rows

    start = time.perf_counter()
    if args.max_images is not None and args.max_images < 4:
        raise CLIError(f"--max-images must be at least 4, got {args.max_images}.")
    if args.n_resamples < 0:
        raise CLIError(f"--n-resamples must be 0 or more, got {args.n_resamples}.")
    out = check_output_folder(args.out, args.force, "--out folder")
    model_path = plain_path(args.model)
    estimator = load_model_file(model_path)
    classes = [str(c) for c in estimator.classes_]
    if len(classes) != 2:
        raise CLIError(
            f"evaluate reports binary models; {model_path!r} predicts "
            f"{len(classes)} classes."
        )
    if args.tta:
        estimator.set_params(tta=True)
    height, width, _ = (int(d) for d in estimator.image_shape_)
    data_args = argparse.Namespace(
        data=args.data,
        max_images=args.max_images,
        random_state=args.random_state,
        n_samples=None,
    )
    log(f"Images are resized to {height}x{width}, the model's input size")
    try:
        X, y, groups, names, summary, coords = load_data(
            data_args, (height, width), binary=False, return_coords=True
        )
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    y_true = _labels_for_model(y, names, classes)
    log(
        f"Data: {summary['images']} images, patients: {summary['patients']}, "
        f"{summary['class_balance']}"
    )
    predict_start = time.perf_counter()
    y_score = _predict(estimator, X)[:, 1]
    predict_time = time.perf_counter() - predict_start
    # The data's second class (idc, malignant) is the positive one, even where
    # the model's classes_ sort it first ("idc" < "non_idc").
    flip = _positive_is_first(names, classes)
    # What the model's predict does: positive above its threshold_ (0.5 unless
    # fit chose or was given another).
    threshold = fitted_threshold(estimator)
    if flip:  # positive: the model's first class, so above 1 - threshold_
        classes, y_true, y_score = classes[::-1], 1 - y_true, 1 - y_score
        threshold = 1.0 - threshold
    y_pred = (y_score > threshold).astype(int)
    scores = held_out_metrics(y_true, y_score, groups, threshold)
    log("Bootstrapping confidence intervals ...")
    intervals = confidence_intervals(
        y_true, y_score, groups, args.n_resamples, args.random_state, threshold
    )
    warnings = []
    if groups is None:
        warnings.append(
            "The data has no patient ids: the confidence intervals resample images, "
            "which makes them too narrow when a patient has several images."
        )
    try:
        card = estimator.model_card_
    except AttributeError:
        card = {}
    name = os.path.splitext(os.path.basename(model_path))[0] or "model"
    unit = "patients" if groups is not None else "images"
    note = (
        f"One held-out evaluation of {model_path} ({type(estimator).__name__}) on "
        f"{len(y_true)} images ({summary['patients']} patients), without training; "
        f"95% confidence intervals from a bootstrap of {unit} "
        f"({args.n_resamples} resamples). Positive class: {classes[1]}; an image is "
        f"predicted positive above probability {threshold:.4g} of {classes[1]} "
        # threshold_ cuts the probability of the model's classes_[1], which is
        # the negative class when flipped (then the cut above is 1 - threshold_).
        f"(the model's threshold_ = {1.0 - threshold if flip else threshold:.4g} "
        f"for class {estimator.classes_[1]})."
    )
    report = classification_table(y_true, y_pred, labels=[0, 1], target_names=classes)
    payload = {
        "command": "skbreast " + " ".join(shlex.quote(a) for a in argv),
        "versions": versions(),
        "model": {"path": model_path, "model_card": card},
        "data": summary,
        "warnings": warnings,
        "note": note,
        "settings": {
            "image_size": [height, width],
            "tta": bool(estimator.tta),
            "max_images": args.max_images,
            "n_resamples": args.n_resamples,
            "random_state": args.random_state,
        },
        "metrics": {k: (None if math.isnan(v) else v) for k, v in scores.items()},
        "confidence_intervals": intervals,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        "classification_report": {
            k: [None if v != v else v for v in column] for k, column in report.items()
        },
        "predict_time_s": round(predict_time, 3),
    }
    history = {
        k: list(v) for k, v in (getattr(estimator, "history_", {}) or {}).items()
    }
    figures = _figures(out, y_true, y_score, y_pred, classes, history, name)
    captions = _slide_maps(out, coords, groups, y_true, y_score, classes[1], name)
    rows = metric_rows(scores, intervals)
    path = write_evaluation_report(
        out,
        payload,
        rows,
        figures + list(captions),
        classification=report_table(report),
        captions=captions,
    )
    for _, label, _, shown, ci in rows:
        print(f"{label}: {shown}" + (f" {ci}" if ci else ""))
    print(f"Report: {path} ({time.perf_counter() - start:.0f} s)")
    return 0
