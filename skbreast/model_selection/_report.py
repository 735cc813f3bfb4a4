"""Write a :class:`ComparisonResult` as report.html, report.md, JSON, CSV and figures.

The HTML page is self-contained (figures embedded); the Markdown page links the
PNG files beside it. Both carry the same sections: the table with intervals, the
paired comparisons in words, the published protocol's numbers when it was used,
operating points, calibration, the error analysis and the leakage check.

This module computes what the report reads (statistics, figures) and writes the
files; ``_report_content`` builds the :class:`skbreast.report.Report` that
:mod:`skbreast.report` renders from its templates, and ``_report_data`` the
JSON and CSV files.
"""

import math
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, roc_curve

from skbreast.metrics._operating_points import best_point
from skbreast.model_selection._report_checks import _EXTERNAL_METRICS
from skbreast.model_selection._report_content import build_report
from skbreast.model_selection._report_data import _payload, _write_csvs
from skbreast.model_selection._report_format import OPERATING_POINTS, PAIRED_METRICS
from skbreast.model_selection._report_maps import slide_map_figures
from skbreast.report import save_figure, write_json
from skbreast.report import write_report as write_report_files

# Read by the tests of the metric registry: every selection names registry keys.
__all__ = ["OPERATING_POINTS", "PAIRED_METRICS", "_EXTERNAL_METRICS", "write_report"]


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
    stats["extent"] = (
        {n: result.patient_extent(n) for n in result.names}
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
        stats["classification_report"][n] = result.classification_report(n)
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
    maps, stats["slide_maps"] = slide_map_figures(result)
    figures.update(maps)
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
    for fname, fig in figures.items():
        save_figure(fig, out / fname)
        plt.close(fig)
    result.timing["figures"] = time.perf_counter() - start
    payload = _payload(result, stats, meta)
    write_json(out / "metrics.json", payload)
    _write_csvs(out, result, payload, stats)
    report = build_report(result, stats, payload, notes, figures)
    return Path(write_report_files(report, out))
