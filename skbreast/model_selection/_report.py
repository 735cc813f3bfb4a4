"""Write a :class:`ComparisonResult` as report.html, report.md, JSON, CSV and figures.

The HTML page is self-contained (figures embedded); the Markdown page links the
PNG files beside it. Both carry the same sections: the table with intervals, the
paired comparisons in words, the published protocol's numbers when it was used,
operating points, calibration, the error analysis and the leakage check.
"""

import base64
import csv
import html
import json
import math
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, roc_curve

from skbreast.metrics import get_metric, get_metric_names
from skbreast.metrics._operating_points import best_point
from skbreast.model_selection._format import (
    MINUS,
    format_p,
    metric_label,
    metric_short_label,
    signed,
)
from skbreast.model_selection._split import PatientShuffleSplit

#: Metrics of the paired-comparison table.
PAIRED_METRICS = (
    "roc_auc",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "brier_score",
    "sensitivity_at_90_specificity",
    "patient_accuracy",
    "patient_roc_auc",
)
#: The operating points and their targets, from the registry.
OPERATING_POINTS = {
    key: get_metric(key).operating_point
    for key in get_metric_names("image")
    if get_metric(key).operating_point is not None
}
TIME_KEYS = ("fit_time", "predict_time")
N_PATIENT_ROWS = 10


def _num(value):
    """JSON-safe float: NaN becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _mean_sd(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    mean = float(values.mean()) if len(values) else math.nan
    sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return mean, sd


def _fmt_mean_sd(mean, sd, digits=3):
    if math.isnan(mean):
        return "n/a"
    if math.isnan(sd):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _fmt_ci(estimate, low, high):
    if math.isnan(estimate):
        return "n/a"
    if math.isnan(low):
        return f"{estimate:.3f} (no CI)"
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"


def _threshold(result, name, metric):
    """Return the score threshold of an operating point on the pooled predictions."""
    p = result.pooled(name)
    if p.is_positive.all() or not p.is_positive.any():
        return math.nan
    fpr, tpr, thresholds = roc_curve(p.is_positive, p.y_score, drop_intermediate=False)
    kind, target = OPERATING_POINTS[metric]
    best, _ = best_point(fpr, tpr, kind, target)
    return float(thresholds[best])


def _statistics(result, n_worst):
    """Everything the report reads, computed once (and timed by the result)."""
    stats = {"summary": result.summary()}
    rows = {}
    table = stats["summary"]
    for i, (model, metric) in enumerate(zip(table["model"], table["metric"])):
        rows[(model, metric)] = {c: table[c][i] for c in table}
    stats["rows"] = rows
    stats["comparisons"] = []
    if len(result.names) > 1:
        for metric in PAIRED_METRICS:
            if metric in result.metrics:
                stats["comparisons"] += result.comparisons(metric=metric)
    stats["patients"] = (
        {n: result.patient_table(n) for n in result.names}
        if result.groups is not None
        else {}
    )
    # Two images per patient at most: the worst patients' worst images.
    stats["worst"] = {
        n: result.worst_images(n, n_worst, max_per_patient=2) for n in result.names
    }
    start = time.perf_counter()
    stats["thresholds"] = {
        (n, m): _threshold(result, n, m)
        for n in result.names
        for m in OPERATING_POINTS
        if m in result.metrics
    }
    stats["confusion"] = {}
    stats["classification_report"] = {}
    labels = [result.neg_label, result.pos_label]
    for n in result.names:
        p = result.predictions[n]
        stats["confusion"][n] = sum(
            confusion_matrix(
                p["y_true"][p["split"] == k],
                p["y_pred"][p["split"] == k],
                labels=labels,
            )
            for k in range(result.n_splits)
        )
        pooled = result.pooled(n)
        stats["classification_report"][n] = classification_report(
            pooled.y_true,
            pooled.y_pred,
            labels=labels,
            target_names=[str(v) for v in labels],
            digits=3,
            zero_division=0,
        )
    result.timing["statistics"] += time.perf_counter() - start
    stats["shortcut"] = result.shortcut_check() if result.baselines else None
    stats["colour"] = (
        result.colour_sensitivity() if result.colour_scores is not None else None
    )
    stats["external"] = result.external_table() if result.external is not None else None
    return stats


def _explainer(explain):
    if explain is None:
        return None
    if explain == "gradcam":
        from skbreast.inspection import gradcam

        return gradcam
    if not callable(explain):
        raise ValueError(
            f"explain must be 'gradcam', a callable or None; got {explain!r}."
        )
    return explain


def _figures(result, stats, X, explain):
    """Return ``({file name: figure}, {model: note})``."""
    figures, notes = {}, {}
    try:
        figures["roc_curves.png"] = result.plot_roc().figure
    except ValueError as exc:  # no split with both classes
        notes["roc"] = str(exc)
    if any(k == "predict_proba" for k in result.score_kind.values()):
        figures["calibration.png"] = result.plot_calibration().figure
    from skbreast.plotting import plot_confusion_matrices, plot_training_curves

    figures["confusion_matrices.png"] = plot_confusion_matrices(
        stats["confusion"],
        display_labels=[str(result.neg_label), str(result.pos_label)],
    )
    histories = {n: h for n, h in result.histories.items() if h}
    if histories:
        figures["training_curves.png"] = plot_training_curves(histories)
    images = None if X is None else np.asarray(X) if not _is_paths(X) else None
    if images is not None and (images.ndim not in (3, 4) or images.dtype == object):
        images = None
    explain = _explainer(explain)
    from skbreast.model_selection._plots import plot_thumbnails

    for name in result.names:
        worst = stats["worst"][name]
        if images is None:
            notes[name] = "no thumbnails: " + (
                "pass X, the image array, to write_report."
                if X is None
                else "X holds file paths; pass the decoded images."
                if _is_paths(X)
                else "X is not an array of images."
            )
            continue
        picked = images[worst.index]
        kind = result.score_kind[name]
        titles = [
            f"true {result.y[i]}\n"
            + (
                f"p({result.pos_label})={s:.2f}"
                if kind == "predict_proba"
                else f"score={s:.2f}"
            )
            + ("" if pid is None else f"\npatient {pid}")
            for i, s, pid in zip(
                worst.index,
                worst.y_score,
                [None] * len(worst.index) if worst.patient is None else worst.patient,
            )
        ]
        overlays = None
        if explain is not None:
            overlays, note = _explain(result, name, worst, picked, explain)
            if note:
                notes[name] = note
        suffix = "Grad-CAM" if explain == "gradcam" or overlays is not None else ""
        fname = (
            f"gradcam_{name}.png"
            if overlays is not None
            else f"worst_images_{name}.png"
        )
        figures[fname] = plot_thumbnails(
            picked,
            titles,
            overlays=overlays,
            suptitle=f"{name}: the {len(picked)} worst-scored images"
            + (" (at most 2 per patient)" if result.groups is not None else "")
            + (f", {suffix} below each" if overlays is not None else ""),
        )
    return figures, notes


def _is_paths(X):
    return isinstance(X, np.ndarray) and X.ndim == 1


def _explain(result, name, worst, images, explain):
    """Heat maps for the worst images from the model of the split that scored each."""
    if result.estimators is None:
        return (
            None,
            "no heat maps: compare_models(..., return_estimator=True) keeps "
            "the fitted models they need.",
        )
    from skbreast.inspection import overlay_gradcam

    heat = np.zeros(images.shape[:3], dtype=np.float32)
    try:
        for split in np.unique(worst.split):
            mine = worst.split == split
            heat[mine] = explain(result.estimators[name][split], images[mine])
    except Exception as exc:  # noqa: BLE001 - a model we cannot explain
        return None, f"no heat maps ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return overlay_gradcam(images, heat), None


# ------------------------------------------------------------------------ payload
def _payload(result, stats, meta):
    rows = stats["rows"]
    payload = {
        "command": meta.get("command"),
        "versions": meta.get("versions", {}),
        "random_state": meta.get("random_state", result.random_state),
        "data": meta.get("data", {}),
        "cross_validation": result.cv_description,
        "protocol": meta.get("protocol"),
        "n_splits": result.n_splits,
        "by_patient": result.by_patient,
        "unit": result.unit,
        "pooling": result.pooling_description,
        "pos_label": _plain(result.pos_label),
        "warnings": list(result.warnings) + list(meta.get("warnings", [])),
        "settings": meta.get("settings", {}),
        "leakage": {k: _plain(v) for k, v in result.leakage.items()},
        "timing": {**meta.get("timing", {}), **result.timing},
        "models": {},
        "comparisons": [
            {
                "a": c.a,
                "b": c.b,
                "metric": c.metric,
                "mean_difference": _num(c.mean_difference),
                "ci_low": _num(c.confidence_interval[0]),
                "ci_high": _num(c.confidence_interval[1]),
                "p_value": _num(c.p_value),
                "n_folds": c.n_folds,
                "delong_p_value": None if c.delong is None else _num(c.delong.p_value),
                "pooled_difference": _num(c.bootstrap.estimate),
                "pooled_ci_low": _num(c.bootstrap.confidence_interval[0]),
                "pooled_ci_high": _num(c.bootstrap.confidence_interval[1]),
                "sentence": c.sentence,
                "delong_sentence": c.delong_sentence,
                "bootstrap_sentence": c.bootstrap_sentence,
            }
            for c in stats["comparisons"]
        ],
    }
    payload["shortcut_warning"] = result.shortcut_warning
    payload["baselines"] = {
        name: {
            "params": _plain(meta.get("params", {}).get(name, {})),
            "score": result.score_kind[name],
            "metrics": _metrics_payload(result, rows, name),
        }
        for name in result.baselines
    }
    if stats["shortcut"] is not None:
        payload["shortcut_check"] = _plain(dict(stats["shortcut"]))
    if stats["colour"] is not None:
        from skbreast.model_selection._shortcuts import (
            JITTER_STRENGTH,
            NORMALISER,
            VARIANT_LABELS,
        )

        payload["colour_check"] = {
            "normaliser": NORMALISER,
            "jitter_strength": JITTER_STRENGTH,
            "variants": dict(VARIANT_LABELS),
            "table": _plain(dict(stats["colour"])),
            "fold_roc_auc": _plain(result.colour_scores),
            "notes": list(result.colour_notes),
        }
    if stats["external"] is not None:
        ext = result.external
        payload["external"] = {
            "n_samples": ext.n_samples,
            "n_patients": ext.n_patients,
            "shared_patients": ext.shared_patients,
            "duplicates": ext.duplicates,
            "unit": ext.unit,
            "notes": list(ext.notes),
            "fit_time": ext.fit_time,
            "table": _plain(dict(stats["external"])),
        }
    for name in result.names:
        metrics = _metrics_payload(result, rows, name)
        payload["models"][name] = {
            "params": _plain(meta.get("params", {}).get(name, {})),
            "score": result.score_kind[name],
            "groups_passed_to_fit": result.groups_passed_to_fit[name],
            "metrics": metrics,
            "operating_point_thresholds": {
                m: _num(stats["thresholds"][(name, m)])
                for m in OPERATING_POINTS
                if (name, m) in stats["thresholds"]
            },
            "epochs_run": [_plain(v) for v in result.n_iter[name]],
            "confusion_matrix": np.asarray(stats["confusion"][name]).tolist(),
            "classification_report": stats["classification_report"][name],
            "patients": _plain(dict(stats["patients"][name]))
            if name in stats["patients"]
            else None,
        }
    return payload


def _metrics_payload(result, rows, name):
    metrics = {}
    for m in result.metrics:
        r = rows[(name, m)]
        metrics[m] = {
            "mean": _num(r["mean"]),
            "std": _num(r["sd"]),
            "folds": [_num(v) for v in result.fold_scores[name][m]],
            "estimate": _num(r["estimate"]),
            "ci_low": _num(r["ci_low"]),
            "ci_high": _num(r["ci_high"]),
            "ci_unit": r["unit"],
            "note": r["note"] or None,
        }
    for key, values in (
        ("fit_time", result.fit_time[name]),
        ("predict_time", result.predict_time[name]),
    ):
        mean, sd = _mean_sd(values)
        metrics[key] = {
            "mean": _num(mean),
            "std": _num(sd),
            "folds": [_num(v) for v in values],
        }
    return metrics


def _plain(value):
    """Return ``value`` with NumPy types made JSON-friendly."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _write_csvs(out, result, payload, stats):
    n = result.n_splits
    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["model", "metric", "mean", "std"] + [f"fold_{k + 1}" for k in range(n)]
        )
        for name, model in payload["models"].items():
            for key, m in model["metrics"].items():
                writer.writerow(
                    [name, key]
                    + [
                        "" if v is None else v
                        for v in (m["mean"], m["std"], *m["folds"])
                    ]
                )
    table = stats["summary"]
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(table))
        writer.writerows(
            [("" if isinstance(v, float) and math.isnan(v) else v) for v in row]
            for row in table.rows()
        )
    if stats["patients"]:
        with open(out / "patients.csv", "w", newline="") as f:
            writer = csv.writer(f)
            first = next(iter(stats["patients"].values()))
            writer.writerow(["model", *first])
            for name, t in stats["patients"].items():
                writer.writerows([name, *row] for row in t.rows())
    with open(out / "predictions.csv", "w", newline="") as f:
        writer = csv.writer(f)
        header = ["model", "index", "split", "repeat", "y_true", "y_score", "y_pred"]
        writer.writerow(header + (["patient"] if result.groups is not None else []))
        for name, p in result.predictions.items():
            cols = [p[k] for k in header[1:]]
            if result.groups is not None:
                cols.append(result.groups[p["index"]])
            writer.writerows([name, *map(_plain, row)] for row in zip(*cols))


# ------------------------------------------------------------------------ content
def _sections(result, stats, payload, notes, figures):
    """Return the report as ``(kind, content)`` items, rendered as HTML or Markdown.

    kinds: "h1", "h2", "h3", "p", "warn", "table" ((header, rows)), "img"
    (file name, alt), "pre", "ul" (list of str).
    """
    s = []
    title = "skbreast benchmark report"
    s.append(("h1", title))
    if payload.get("shortcut_warning"):
        s.append(("warn", payload["shortcut_warning"]))
    for w in payload["warnings"]:
        s.append(("warn", w))
    rows = stats["rows"]
    pooled = result.pooled(result.names[0])
    n_units = (
        len(np.unique(pooled.groups))
        if pooled.groups is not None
        else len(pooled.index)
    )
    unit_text = (
        f"that resamples patients ({n_units} patients)"
        if result.unit == "patient"
        else f"that resamples images ({n_units} images): no patients were given, so "
        "the interval is by image and too narrow for images of shared patients"
    )
    s.append(
        (
            "p",
            f"Cross-validation: {result.cv_description}; {result.n_splits} splits. "
            "Each cell gives the mean ± standard deviation (ddof=1) over the folds "
            "where the metric is defined, then the metric on the pooled "
            "out-of-fold predictions with its 95% confidence interval: the "
            "percentile interval of 2,000 bootstrap resamples "
            f"{unit_text}. Pooled predictions: {result.pooling_description}.",
        )
    )
    header = ["Metric"]
    for n in result.names:
        header += [f"{n}: mean ± sd over folds", f"{n}: pooled [95% CI]"]
    body, footnotes = [], []
    for m in result.metrics:
        line = [metric_label(m)]
        for n in result.names:
            r = rows[(n, m)]
            line += [
                _fmt_mean_sd(r["mean"], r["sd"]),
                _fmt_ci(r["estimate"], r["ci_low"], r["ci_high"]),
            ]
            if r["note"]:
                footnotes.append(f"{n}, {metric_label(m)}: {r['note']}")
        body.append(line)
    for key, label in (
        ("fit_time", "Fit time (s)"),
        ("predict_time", "Predict time (s)"),
    ):
        line = [label]
        for n in result.names:
            mean, sd = _mean_sd(getattr(result, key)[n])
            line += [_fmt_mean_sd(mean, sd, 1), ""]
        body.append(line)
    s.append(("table", (header, body)))
    if footnotes:
        s.append(("p", "n/a and missing intervals:"))
        s.append(("ul", footnotes))

    if isinstance(result.cv, PatientShuffleSplit):
        s.append(("h2", "Spanhol et al. (2016) protocol"))
        s.append(
            (
                "p",
                f"{result.cv.n_splits} random trials, each testing "
                f"{result.cv.test_size:.0%} of the patients of every class (no "
                "patient on both sides), reported as in the BreakHis paper: mean ± "
                "standard deviation over the trials of the image accuracy and of "
                "the patient recognition rate (the mean over patients of each "
                "patient's share of correctly classified images).",
            )
        )
        body = []
        for n in result.names:
            body.append(
                [n]
                + [
                    _fmt_mean_sd(rows[(n, m)]["mean"], rows[(n, m)]["sd"])
                    if (n, m) in rows
                    else "n/a"
                    for m in ("accuracy", "patient_accuracy")
                ]
            )
        s.append(
            (
                "table",
                (["Model", "Image accuracy", metric_label("patient_accuracy")], body),
            )
        )

    if stats["shortcut"] is not None:
        s += _shortcut_section(result, stats)
    if stats["colour"] is not None:
        s += _colour_section(result, stats)
    if stats["external"] is not None:
        s += _external_section(result, stats)

    s.append(("h2", "Paired comparisons"))
    if not stats["comparisons"]:
        s.append(("p", "One model only: nothing to compare."))
    else:
        s.append(
            (
                "p",
                "Each pair on the same folds. The mean difference over folds with "
                "the Nadeau–Bengio corrected resampled t-test (the folds share "
                "training data, so the plain t-test is too confident); the pooled "
                "difference with a paired bootstrap interval (both models on the "
                "same resampled patients); for ROC AUC also DeLong's test on the "
                "pooled scores. A large p-value is not evidence that the models "
                "are equal: the interval says how large a difference the data "
                "cannot exclude.",
            )
        )
        auc = [c for c in stats["comparisons"] if c.metric == "roc_auc"]
        for c in auc:
            s.append(("ul", [c.sentence, c.bootstrap_sentence, c.delong_sentence]))
        body = []
        for c in stats["comparisons"]:
            body.append(
                [
                    f"{c.a} {MINUS} {c.b}",
                    metric_short_label(c.metric, capitalize=True),
                    signed(c.mean_difference),
                    (
                        f"{signed(c.confidence_interval[0])} to "
                        f"{signed(c.confidence_interval[1])}"
                        if np.isfinite(c.confidence_interval[0])
                        else "n/a"
                    ),
                    format_p(c.p_value),
                    signed(c.bootstrap.estimate),
                    (
                        f"{signed(c.bootstrap.confidence_interval[0])} to "
                        f"{signed(c.bootstrap.confidence_interval[1])}"
                        if np.isfinite(c.bootstrap.confidence_interval[0])
                        else "n/a"
                    ),
                    "" if c.delong is None else format_p(c.delong.p_value),
                ]
            )
        s.append(
            (
                "table",
                (
                    [
                        "Pair",
                        "Metric",
                        "Mean difference",
                        "95% CI (t)",
                        "p (t)",
                        "Pooled difference",
                        f"95% CI ({result.unit} bootstrap)",
                        "p (DeLong)",
                    ],
                    body,
                ),
            )
        )

    points = [m for m in OPERATING_POINTS if m in result.metrics]
    if points:
        s.append(("h2", "Operating points"))
        s.append(
            (
                "p",
                "On the pooled out-of-fold predictions: the best sensitivity among "
                "thresholds whose specificity reaches the target, and conversely; "
                "the threshold is the score above which an image is called "
                f"{result.pos_label}.",
            )
        )
        body = []
        for n in result.names:
            for m in points:
                r = rows[(n, m)]
                body.append(
                    [
                        n,
                        metric_label(m),
                        _fmt_ci(r["estimate"], r["ci_low"], r["ci_high"]),
                        _fmt_thr(stats["thresholds"][(n, m)]),
                    ]
                )
        s.append(
            (
                "table",
                (["Model", "Operating point", "Pooled [95% CI]", "Threshold"], body),
            )
        )

    s.append(("h2", "ROC curves"))
    if "roc_curves.png" in figures:
        s.append(("img", ("roc_curves.png", "ROC curves")))
    else:
        s.append(("p", f"No ROC curve: {notes.get('roc', 'undefined')}"))
    s.append(("h2", "Calibration"))
    if "calibration.png" in figures:
        s.append(
            (
                "p",
                "Reliability diagram of the pooled out-of-fold probabilities: a "
                "calibrated model's points lie on the diagonal (of the images it "
                "calls 80% malignant, 80% are). Brier score: mean squared error of "
                "the probabilities; ECE: the images-weighted mean gap between "
                "predicted and observed share, over 10 equal-width bins.",
            )
        )
        s.append(("img", ("calibration.png", "Reliability diagram")))
    else:
        s.append(("p", "No model has predict_proba: no reliability diagram."))
    s.append(("h2", "Confusion matrices (summed over folds)"))
    s.append(("img", ("confusion_matrices.png", "Confusion matrices")))
    if "training_curves.png" in figures:
        s.append(("h2", "Training curves"))
        s.append(("img", ("training_curves.png", "Training curves")))

    s.append(("h2", "Error analysis"))
    for n in result.names:
        s.append(("h3", n))
        if n in stats["patients"]:
            t = stats["patients"][n]
            shown = t.rows()[:N_PATIENT_ROWS]
            score_head = (
                f"Mean p({result.pos_label})"
                if result.score_kind[n] == "predict_proba"
                else "Mean decision value"
            )
            s.append(
                (
                    "p",
                    f"Patients, worst first ({len(shown)} of {len(t['patient'])}; "
                    "all in patients.csv):",
                )
            )
            s.append(
                (
                    "table",
                    (
                        [
                            "Patient",
                            "True label",
                            "Images",
                            score_head,
                            "Share correct",
                        ],
                        [
                            [str(a), str(b), str(c), f"{d:.3f}", f"{e:.0%}"]
                            for a, b, c, d, e in shown
                        ],
                    ),
                )
            )
        for fname in (f"gradcam_{n}.png", f"worst_images_{n}.png"):
            if fname in figures:
                s.append(("img", (fname, f"Worst-scored images of {n}")))
        if n in notes:
            s.append(("p", f"{n}: {notes[n]}"))

    s.append(("h2", "Classification reports (pooled out-of-fold predictions)"))
    for n in result.names:
        s.append(("h3", n))
        s.append(("pre", stats["classification_report"][n].rstrip()))

    s.append(("h2", "Leakage check"))
    lk = result.leakage
    items = []
    if lk.checked:
        items.append(
            f"Compared {lk.what}: {lk.total} test image(s) have an identical copy in "
            f"their training set (per split: {lk.per_split}); {lk.n_duplicated} "
            "image(s) of the data have an identical twin."
        )
    else:
        items.append(f"Duplicates: {lk.what}.")
    if result.groups is not None:
        items.append(
            "Patients on both sides of a split: "
            f"{sum(lk.shared_patients)} (per split: {list(lk.shared_patients)})."
        )
    else:
        items.append("No patients: the splits are by image.")
    s.append(("ul", items))

    s.append(("h2", "Run"))
    timing = payload["timing"]
    total = sum(timing.values())
    items = []
    if payload["command"]:
        items.append(f"Command: {payload['command']}")
    items.append(f"random state: {payload['random_state']}")
    items += [f"{k}: {v}" for k, v in payload["versions"].items()]
    items.append(
        "time: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in timing.items())
        + (
            f"; the statistics took {timing['statistics'] / total:.1%} of it"
            if total > 0
            else ""
        )
        + (
            f", the colour check {timing['colour_check'] / total:.1%}"
            if total > 0 and "colour_check" in timing
            else ""
        )
    )
    s.append(("ul", items))
    if payload["data"]:
        s.append(("h2", "Data"))
        s.append(
            ("ul", [f"{k.replace('_', ' ')}: {v}" for k, v in payload["data"].items()])
        )
    s.append(("h2", "Models"))
    s.append(
        (
            "ul",
            [
                f"{n}: {m['score']} scores"
                + (", patients passed to fit" if m["groups_passed_to_fit"] else "")
                + (f"; {m['params']}" if m["params"] else "")
                for n, m in payload["models"].items()
            ],
        )
    )
    if payload["baselines"]:
        s.append(("h2", "Baselines"))
        s.append(
            (
                "ul",
                [
                    f"{n}: {m['score']} scores"
                    + (f"; {m['params']}" if m["params"] else "")
                    for n, m in payload["baselines"].items()
                ],
            )
        )
    return s


def _shortcut_section(result, stats):
    table, rows = stats["shortcut"], stats["rows"]
    s = [("h2", "Shortcut check: trivial baselines")]
    s.append(
        (
            "p",
            f"{len(result.baselines)} trivial baseline(s) ran on the same folds as "
            "the models: logistic regressions that cannot see tissue structure "
            "(colour-histogram: 16-bin histograms of each colour channel; "
            "thumbnail: the images shrunk to 21x32 pixels), with C tuned inside "
            "each training fold. They are not candidate models, and are left out "
            "of the tables above and below; they ask whether the classes can be "
            "told apart without pathology. A baseline that separates the classes "
            "and reaches the best model's pooled ROC AUC within the paired "
            f"{result.unit}-bootstrap 95% CI of the difference, or 0.85 on its "
            "own, triggers the shortcut warning at the top of this report.",
        )
    )
    body = []
    for i, name in enumerate(table["baseline"]):
        auc = rows[(name, "roc_auc")]
        acc = rows.get((name, "balanced_accuracy"))
        best = table["best_model"][i]
        body.append(
            [
                f"{name} (baseline)",
                _fmt_mean_sd(auc["mean"], auc["sd"]),
                _fmt_ci(auc["estimate"], auc["ci_low"], auc["ci_high"]),
                "n/a" if acc is None else _fmt_mean_sd(acc["mean"], acc["sd"]),
                "n/a"
                if best is None
                else f"{best} {MINUS} {name}: {signed(table['difference'][i])} "
                f"({signed(table['difference_ci_low'][i])} to "
                f"{signed(table['difference_ci_high'][i])})",
                ("SHORTCUT: " if table["fires"][i] else "no: ") + table["reason"][i],
            ]
        )
    s.append(
        (
            "table",
            (
                [
                    "Baseline",
                    "ROC AUC: mean ± sd over folds",
                    "ROC AUC: pooled [95% CI]",
                    "Balanced accuracy: mean ± sd",
                    "Best model − baseline, pooled ROC AUC (95% CI)",
                    "Shortcut?",
                ],
                body,
            ),
        )
    )
    if not any(table["fires"]):
        s.append(
            (
                "p",
                "No baseline reaches the models: colour and coarse intensity alone "
                "do not explain the models' scores on these folds. That does not "
                "rule out other shortcuts (patient or site cues in the texture): "
                "validate on other patients or sites.",
            )
        )
    return s


def _colour_section(result, stats):
    from skbreast.model_selection._shortcuts import JITTER_STRENGTH, VARIANT_LABELS

    table = stats["colour"]
    low, high = 1 - JITTER_STRENGTH, 1 + JITTER_STRENGTH
    s = [("h2", "Colour sensitivity")]
    s.append(
        (
            "p",
            "Each fold's model scored the fold's test images three times: as they "
            f"are, {VARIANT_LABELS['normalised']}, and under "
            f"{VARIANT_LABELS['jittered']}, which scales each image's "
            f"haematoxylin, eosin and DAB concentrations by U({low:g}, {high:g}) "
            f"and shifts them by U({MINUS}{JITTER_STRENGTH:g}, {JITTER_STRENGTH:g}), "
            "with the same draws for every model. The "
            "changes are the ROC AUC of "
            "the changed images minus that of the originals, mean ± sd over folds. "
            "A model whose mean change exceeds its fold-to-fold spread of ROC AUC "
            "(the sd of the first column, and at least 0.01) is colour-dependent: "
            "a change of stain moves its score more than a change of test "
            "patients does.",
        )
    )
    body = []
    for i, name in enumerate(table["model"]):
        body.append(
            [
                name + (" (baseline)" if table["role"][i] == "baseline" else ""),
                _fmt_mean_sd(table["roc_auc_mean"][i], table["roc_auc_sd"][i]),
                _fmt_change(
                    table["normalised_change"][i], table["normalised_change_sd"][i]
                ),
                _fmt_change(
                    table["jittered_change"][i], table["jittered_change_sd"][i]
                ),
                table["verdict"][i],
            ]
        )
    s.append(
        (
            "table",
            (
                [
                    "Model",
                    "ROC AUC as is: mean ± sd over folds",
                    "Change, stain-normalised",
                    "Change, colour jitter",
                    "Verdict",
                ],
                body,
            ),
        )
    )
    if result.colour_notes:
        s.append(("p", "Stain normalisation notes:"))
        s.append(("ul", list(result.colour_notes)))
    return s


def _fmt_change(mean, sd):
    if not np.isfinite(mean):
        return "n/a"
    return signed(mean) + ("" if not np.isfinite(sd) else f" ± {sd:.3f}")


_EXTERNAL_METRICS = (
    "roc_auc",
    "balanced_accuracy",
    "recall",
    "specificity",
    "brier_score",
    "patient_accuracy",
    "patient_roc_auc",
)


def _external_section(result, stats):
    table, ext = stats["external"], result.external
    s = [("h2", "External validation")]
    s.append(
        (
            "p",
            f"Every model and baseline was fitted once on all {len(result.y)} "
            f"training images and scored on the external test set: "
            f"{ext.n_samples} images"
            + (
                f" of {ext.n_patients} patients"
                if ext.n_patients is not None
                else " (no patients given)"
            )
            + ". Beside it, the cross-validated scores of the same recipe: the "
            "mean ± sd over folds and the pooled out-of-fold value. Intervals: "
            f"95%, by {ext.unit} bootstrap on the external set. A score that "
            "drops on new patients or a new site is what cross-validation inside "
            "one patient pool cannot show.",
        )
    )
    if ext.shared_patients == 0:
        s.append(("p", "No patient id of the test set occurs in the training data."))
    if ext.notes:
        s.append(("ul", list(ext.notes)))
    body = []
    for i, name in enumerate(table["model"]):
        metric = table["metric"][i]
        if metric not in _EXTERNAL_METRICS:
            continue
        body.append(
            [
                name + (" (baseline)" if table["role"][i] == "baseline" else ""),
                metric_label(metric),
                _fmt_mean_sd(table["cv_mean"][i], table["cv_sd"][i]),
                _fmt_ci(
                    table["cv_estimate"][i],
                    table["cv_ci_low"][i],
                    table["cv_ci_high"][i],
                ),
                _fmt_ci(
                    table["external"][i],
                    table["external_ci_low"][i],
                    table["external_ci_high"][i],
                ),
                signed(table["change"][i]),
            ]
        )
    s.append(
        (
            "table",
            (
                [
                    "Model",
                    "Metric",
                    "Cross-validated: mean ± sd over folds",
                    "Cross-validated: pooled [95% CI]",
                    "External [95% CI]",
                    "External − pooled CV",
                ],
                body,
            ),
        )
    )
    return s


def _fmt_thr(value):
    return "n/a" if not np.isfinite(value) else f"{value:.3g}"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #c2185b;padding-bottom:.2em}
h2{margin-top:1.6em;color:#6a1b4d}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
td{white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{background:#f6eef3}
tr:nth-child(even) td{background:#fbf8fa}
.warn{background:#fff3cd;border:2px solid #d39e00;padding:.8em 1em;font-weight:bold;
margin:1em 0}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto}
code{background:#f2f2f2;padding:0 .2em}
li{margin:.25em 0}
"""


def _render_html(sections, pngs):
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>skbreast benchmark report</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    for kind, content in sections:
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{e(content)}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{e(content)}</p>")
        elif kind == "warn":
            parts.append(f"<div class='warn'>WARNING: {e(content)}</div>")
        elif kind == "ul":
            parts.append(
                "<ul>" + "".join(f"<li>{e(x)}</li>" for x in content if x) + "</ul>"
            )
        elif kind == "pre":
            parts.append(f"<pre>{e(content)}</pre>")
        elif kind == "table":
            header, rows = content
            parts.append(
                "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
            )
            parts += [
                "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>"
                for r in rows
            ]
            parts.append("</table>")
        elif kind == "img":
            fname, alt = content
            data = base64.b64encode(pngs[fname]).decode("ascii")
            parts.append(f'<img alt="{e(alt)}" src="data:image/png;base64,{data}">')
    parts.append("</body></html>")
    return "\n".join(parts)


def _render_markdown(sections):
    lines = []
    for kind, content in sections:
        if kind == "h1":
            lines += [f"# {content}", ""]
        elif kind == "h2":
            lines += [f"## {content}", ""]
        elif kind == "h3":
            lines += [f"### {content}", ""]
        elif kind == "p":
            lines += [content, ""]
        elif kind == "warn":
            lines += [f"> **WARNING:** {content}", ""]
        elif kind == "ul":
            lines += [f"- {x}" for x in content if x] + [""]
        elif kind == "pre":
            lines += ["```", content, "```", ""]
        elif kind == "table":
            header, rows = content
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += [
                "| " + " | ".join(str(c).replace("|", "/") for c in r) + " |"
                for r in rows
            ]
            lines.append("")
        elif kind == "img":
            fname, alt = content
            lines += [f"![{alt}]({fname})", ""]
    return "\n".join(lines)


def write_report(result, out, *, X=None, explain=None, meta=None, n_worst=6):
    """Write the report files into ``out``; return the path of report.html."""
    from skbreast.plotting import _pyplot

    meta = meta or {}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stats = _statistics(result, n_worst)
    start = time.perf_counter()
    plt = _pyplot()
    figures, notes = _figures(result, stats, X, explain)
    pngs = {}
    for fname, fig in figures.items():
        fig.savefig(out / fname, dpi=110, bbox_inches="tight")
        pngs[fname] = (out / fname).read_bytes()
        plt.close(fig)
    result.timing["figures"] = time.perf_counter() - start
    payload = _payload(result, stats, meta)
    (out / "metrics.json").write_text(json.dumps(payload, indent=2, default=str))
    _write_csvs(out, result, payload, stats)
    sections = _sections(result, stats, payload, notes, figures)
    (out / "report.md").write_text(_render_markdown(sections) + "\n")
    (out / "report.html").write_text(_render_html(sections, pngs), encoding="utf-8")
    return out / "report.html"
