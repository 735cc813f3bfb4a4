"""Write a benchmark result as report.html, report.md, metrics.json and metrics.csv."""

import base64
import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from skbreast import plotting
from skbreast.cli.engine import (
    METRICS,
    PATIENT_METRICS,
    TIME_METRICS,
    pick_gradcam_examples,
)

NA_NOTE = (
    "n/a: undefined on every fold, e.g. a patient ROC AUC when all test patients "
    "share one majority label"
)

LABELS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall (sensitivity)",
    "specificity": "Specificity",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "Balanced accuracy",
    "patient_accuracy": "Patient accuracy",
    "patient_roc_auc": "Patient ROC AUC",
    "fit_time": "Fit time (s)",
    "predict_time": "Predict time (s)",
}


def _metric_keys(result):
    keys = list(METRICS)
    if result.grouped:
        keys += list(PATIENT_METRICS)
    return keys + list(TIME_METRICS)


def _num(value):
    """JSON-safe float: NaN becomes None."""
    value = float(value)
    return None if math.isnan(value) else value


def _fmt(mean, std, key):
    if math.isnan(mean):
        return "n/a"
    if key in TIME_METRICS:
        return f"{mean:.1f} ± {std:.1f}"
    return f"{mean:.3f} ± {std:.3f}"


def build_figures(result, X, target_names, random_state=None, n_gradcam=3):
    """Return ``{filename: matplotlib Figure}`` for the report, plus Grad-CAM notes."""
    from skbreast.inspection import gradcam, overlay_gradcam

    figures = {}
    names = list(result.models)
    folds = {
        name: [(f.y_true, f.y_score) for f in m.folds]
        for name, m in result.models.items()
    }
    ax = plotting.plot_roc_comparison(folds)
    figures["roc_curves.png"] = ax.figure
    figures["confusion_matrices.png"] = plotting.plot_confusion_matrices(
        {n: m.confusion_matrix for n, m in result.models.items()},
        display_labels=list(target_names),
    )
    figures["training_curves.png"] = plotting.plot_training_curves(
        {n: [f.history for f in m.folds] for n, m in result.models.items()}
    )
    notes = {}
    for name in names:
        m = result.models[name]
        first = m.folds[0]
        chosen = pick_gradcam_examples(
            first.y_true, first.y_pred, n_gradcam, random_state
        )
        if not chosen or m.estimator is None:
            continue
        idx = np.array([i for i, _ in chosen])
        images = X[m.test_index[idx]]
        try:
            heat = gradcam(m.estimator, images)
        except NotImplementedError as exc:
            notes[name] = str(exc)
            continue
        titles = [
            f"{kind}: true {target_names[first.y_true[i]]}\n"
            f"p({target_names[1]})={first.y_score[i]:.2f}"
            for i, kind in chosen
        ]
        figures[f"gradcam_{name}.png"] = plotting.plot_gradcam_examples(
            images,
            overlay_gradcam(images, heat),
            titles,
            suptitle=f"{name}: Grad-CAM on fold 1 test images",
        )
    return figures, notes


def metrics_table(result):
    """Rows ``[model, metric, mean, std, fold_1, ...]`` of every metric."""
    rows = []
    for name, m in result.models.items():
        for key in _metric_keys(result):
            mean, std = m.summary[key]
            rows.append(
                [name, key, _num(mean), _num(std)]
                + [_num(f.scores[key]) for f in m.folds]
            )
    return rows


def write_report(result, out, *, X, target_names, meta, random_state=None):
    """Write the report files into ``out``; return the path of report.html.

    Parameters
    ----------
    result : Bunch
        From :func:`skbreast.cli.engine.cross_validate_models`.
    out : path-like
        Output folder, created if missing.
    X : ndarray
        The images cross-validated (for the Grad-CAM examples).
    target_names : list of str
        Names of classes 0 and 1.
    meta : dict
        ``command``, ``versions``, ``data`` (a summary dict), ``warnings`` (list of
        str), ``settings`` (dict), added to the reports.
    random_state : int or None
        The run's random state.
    """
    plt = plotting._pyplot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures, notes = build_figures(result, X, target_names, random_state)
    pngs = {}
    for fname, fig in figures.items():
        fig.savefig(out / fname, dpi=110, bbox_inches="tight")
        pngs[fname] = (out / fname).read_bytes()
        plt.close(fig)

    keys = _metric_keys(result)
    n_folds = len(next(iter(result.models.values())).folds)
    payload = {
        "command": meta["command"],
        "versions": meta["versions"],
        "random_state": random_state,
        "data": meta["data"],
        "cross_validation": result.splitter,
        "warnings": meta.get("warnings", []),
        "settings": meta.get("settings", {}),
        "models": {},
    }
    for name, m in result.models.items():
        payload["models"][name] = {
            "params": meta.get("params", {}).get(name, {}),
            "metrics": {
                k: {
                    "mean": _num(m.summary[k][0]),
                    "std": _num(m.summary[k][1]),
                    "folds": [_num(f.scores[k]) for f in m.folds],
                }
                for k in keys
            },
            "epochs_run": [f.n_iter for f in m.folds],
            "confusion_matrix": np.asarray(m.confusion_matrix).tolist(),
            "classification_report": m.classification_report,
        }
    (out / "metrics.json").write_text(json.dumps(payload, indent=2, default=str))

    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["model", "metric", "mean", "std"]
            + [f"fold_{k + 1}" for k in range(n_folds)]
        )
        writer.writerows(
            [("" if v is None else v) for v in row] for row in metrics_table(result)
        )

    _write_markdown(out, result, keys, payload, figures, notes)
    _write_html(out, result, keys, payload, pngs, notes)
    return out / "report.html"


def _summary_rows(result, keys):
    header = ["Metric"] + list(result.models)
    rows = [
        [LABELS[k]] + [_fmt(*m.summary[k], k) for m in result.models.values()]
        for k in keys
    ]
    return header, rows


def _data_lines(payload):
    d = payload["data"]
    return [f"{k.replace('_', ' ')}: {v}" for k, v in d.items()]


def _write_markdown(out, result, keys, payload, figures, notes):
    header, rows = _summary_rows(result, keys)
    lines = ["# skbreast benchmark report", ""]
    for w in payload["warnings"]:
        lines += [f"> **WARNING:** {w}", ""]
    lines += [
        f"Cross-validation: {payload['cross_validation']}; mean ± std over folds "
        f"({NA_NOTE}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "## ROC curves", "", "![ROC curves](roc_curves.png)", ""]
    lines += ["## Confusion matrices (summed over folds)", ""]
    lines += ["![Confusion matrices](confusion_matrices.png)", ""]
    lines += ["## Training curves", "", "![Training curves](training_curves.png)", ""]
    lines += ["## Classification reports (pooled out-of-fold predictions)", ""]
    for name, m in result.models.items():
        lines += [f"### {name}", "", "```", m.classification_report.rstrip(), "```", ""]
    lines += ["## Grad-CAM", ""]
    for name in result.models:
        if f"gradcam_{name}.png" in figures:
            lines += [f"![Grad-CAM {name}](gradcam_{name}.png)", ""]
        elif name in notes:
            lines += [f"{name}: {notes[name]}", ""]
    lines += ["## Run", "", f"Command: `{payload['command']}`", ""]
    lines += [f"- random state: {payload['random_state']}"]
    lines += [f"- {k}: {v}" for k, v in payload["versions"].items()]
    lines += ["", "## Data", ""] + [f"- {x}" for x in _data_lines(payload)]
    lines += ["", "## Models", ""]
    for name, m in payload["models"].items():
        lines += [f"- {name}: `{m['params']}`"]
    (out / "report.md").write_text("\n".join(lines) + "\n")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222}
h1{border-bottom:2px solid #c2185b;padding-bottom:.2em}
h2{margin-top:1.6em;color:#6a1b4d}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:.35em .8em;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f6eef3}
.warn{background:#fff3cd;border:2px solid #d39e00;padding:.8em 1em;font-weight:bold;
margin:1em 0}
img{max-width:100%;height:auto;display:block;margin:.5em 0}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto}
code{background:#f2f2f2;padding:0 .2em}
"""


def _img(pngs, fname, alt):
    data = base64.b64encode(pngs[fname]).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _write_html(out, result, keys, payload, pngs, notes):
    e = html.escape
    header, rows = _summary_rows(result, keys)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>skbreast benchmark report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>skbreast benchmark report</h1>",
    ]
    for w in payload["warnings"]:
        parts.append(f"<div class='warn'>WARNING: {e(w)}</div>")
    parts.append(
        f"<p>Cross-validation: {e(payload['cross_validation'])}; "
        f"mean ± std over folds ({e(NA_NOTE)}).</p>"
    )
    parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
    for r in rows:
        parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    parts.append("</table>")
    parts.append("<h2>ROC curves</h2>" + _img(pngs, "roc_curves.png", "ROC curves"))
    parts.append(
        "<h2>Confusion matrices (summed over folds)</h2>"
        + _img(pngs, "confusion_matrices.png", "confusion matrices")
    )
    parts.append(
        "<h2>Training curves</h2>"
        + _img(pngs, "training_curves.png", "training curves")
    )
    parts.append("<h2>Classification reports (pooled out-of-fold predictions)</h2>")
    for name, m in result.models.items():
        parts.append(f"<h3>{e(name)}</h3><pre>{e(m.classification_report)}</pre>")
    parts.append("<h2>Grad-CAM</h2>")
    for name in result.models:
        fname = f"gradcam_{name}.png"
        if fname in pngs:
            parts.append(_img(pngs, fname, f"Grad-CAM {name}"))
        elif name in notes:
            parts.append(f"<p>{e(name)}: {e(notes[name])}</p>")
    parts.append("<h2>Run</h2>")
    parts.append(f"<p>Command: <code>{e(payload['command'])}</code></p><ul>")
    parts.append(f"<li>random state: {e(str(payload['random_state']))}</li>")
    parts += [f"<li>{e(k)}: {e(str(v))}</li>" for k, v in payload["versions"].items()]
    parts.append("</ul><h2>Data</h2><ul>")
    parts += [f"<li>{e(x)}</li>" for x in _data_lines(payload)]
    parts.append("</ul><h2>Models</h2><ul>")
    for name, m in payload["models"].items():
        parts.append(f"<li>{e(name)}: <code>{e(str(m['params']))}</code></li>")
    parts.append("</ul></body></html>")
    (out / "report.html").write_text("\n".join(parts), encoding="utf-8")
