"""The machine-readable half of a comparison report: metrics.json and the CSVs."""

import math

import numpy as np

from skbreast.model_selection._report_format import OPERATING_POINTS
from skbreast.report import write_csv


def _num(value):
    """JSON-safe float: NaN becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _mean_sd(values):
    """Mean and sd (ddof=1) of the finite ``values``; NaN where undefined."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    mean = float(values.mean()) if len(values) else math.nan
    sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return mean, sd


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
            "classification_report": _plain(dict(stats["classification_report"][name])),
            "patient_extent": _extent_payload(stats["extent"].get(name)),
            "slide_maps": [f for f, _ in stats["slide_maps"][name].files]
            if name in stats.get("slide_maps", {})
            else [],
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


def _extent_payload(table):
    """Return one model's patient extent and correlation, for metrics.json."""
    if table is None:
        return None
    return {"patients": _plain(dict(table)), "pearson": _plain(dict(table.correlation))}


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


def _shares(extent, patient):
    """``[true_share, predicted_share]`` of ``patient`` in an extent table."""
    i = extent["patient"].index(patient)
    return [extent["true_share"][i], extent["predicted_share"][i]]


def _write_csvs(out, result, payload, stats):
    """Write metrics.csv, summary.csv, predictions.csv and patients.csv if known."""
    folds = [f"fold_{k + 1}" for k in range(result.n_splits)]
    write_csv(
        out / "metrics.csv",
        ["model", "metric", "mean", "std", *folds],
        (
            [name, key]
            + ["" if v is None else v for v in (m["mean"], m["std"], *m["folds"])]
            for name, model in payload["models"].items()
            for key, m in model["metrics"].items()
        ),
    )
    table = stats["summary"]
    write_csv(
        out / "summary.csv",
        list(table),
        (
            [("" if isinstance(v, float) and math.isnan(v) else v) for v in row]
            for row in table.rows()
        ),
    )
    if stats["patients"]:
        first = next(iter(stats["patients"].values()))
        write_csv(
            out / "patients.csv",
            ["model", *first, "true_share", "predicted_share"],
            (
                [name, *row, *_shares(stats["extent"][name], row[0])]
                for name, t in stats["patients"].items()
                for row in t.rows()
            ),
        )
    header = ["model", "index", "split", "repeat", "y_true", "y_score", "y_pred"]
    write_csv(
        out / "predictions.csv",
        header + (["patient"] if result.groups is not None else []),
        (
            [name, *map(_plain, row)]
            for name, p in result.predictions.items()
            for row in zip(
                *[p[k] for k in header[1:]],
                *([result.groups[p["index"]]] if result.groups is not None else []),
            )
        ),
    )
