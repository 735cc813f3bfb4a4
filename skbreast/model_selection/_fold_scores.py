"""The per-fold metrics of :func:`compare_models`, from the runs' scores.

The statistics of the pooled predictions (bootstrap, paired tests) are the
result's; here each split's test set is scored on its own, with the reason
wherever a metric is undefined. The metrics of predicted labels use each split's
fitted model's own threshold (``threshold_``, see
:func:`~skbreast.model_selection._cv_run.fitted_threshold`), so that they score
what that model's ``predict`` returns.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._cv_run import passes_groups
from skbreast.model_selection._metrics import (
    custom_metric,
    predicted_positive,
    prepare,
    undefined_reason,
    weighted_metrics,
)


def fold_metrics(names, custom, y01, score, y_pred, probability, groups, labels):
    """Return ``({metric: value}, {metric: reason})`` on one test set."""
    data = prepare(y01 == 1, score, y_pred, probability=probability, groups=groups)
    built_in = [n for n in names if n not in custom]
    values = {
        k: float(v[0])
        for k, v in weighted_metrics(np.ones((1, len(y01))), data, built_in).items()
    }
    reasons = {
        k: undefined_reason(k, data, *labels) for k, v in values.items() if np.isnan(v)
    }
    for name, metric in custom.items():
        values[name], reason = custom_metric(metric, y01, score)
        if reason is not None:
            reasons[name] = reason
    return {n: values[n] for n in names}, reasons


def score_runs(runs, every, splits, names, custom, y, groups, labels, colour):
    """Return ``{name: Bunch}``: each model's runs, fold scores and notes.

    ``labels`` is ``(pos_label, neg_label)``. With the colour check
    (``colour=True``), ``colour_scores`` holds the ROC AUC of every split for
    the original, normalised and jittered test images.
    """
    pos_label = labels[0]
    pos_is_second = bool(np.unique(y)[1] == pos_label)
    y01 = (y == pos_label).astype(int)
    per_model = {}
    for name in every:
        model_runs = runs[name]
        kind = model_runs[0].kind
        fold_scores = {m: np.full(len(splits), np.nan) for m in names}
        fold_notes = {m: [] for m in names}
        for k, ((_, test), run) in enumerate(zip(splits, model_runs)):
            run.y_pred = predicted_positive(
                run.score, kind, pos_is_second, getattr(run, "threshold", 0.5)
            )
            values, reasons = fold_metrics(
                names,
                custom,
                y01[test],
                run.score,
                run.y_pred,
                kind == "predict_proba",
                None if groups is None else groups[test],
                labels,
            )
            for m, v in values.items():
                fold_scores[m][k] = v
            for m, reason in reasons.items():
                fold_notes[m].append(f"split {k + 1}: {reason}")
        colour_scores = None
        if colour:
            colour_scores = {"original": fold_scores["roc_auc"].copy()}
            for variant in ("normalised", "jittered"):
                values = np.full(len(splits), np.nan)
                for k, ((_, test), run) in enumerate(zip(splits, model_runs)):
                    score = run.colour[variant]
                    values[k] = fold_metrics(
                        ["roc_auc"],
                        {},
                        y01[test],
                        score,
                        predicted_positive(
                            score, kind, pos_is_second, getattr(run, "threshold", 0.5)
                        ),
                        kind == "predict_proba",
                        None,
                        labels,
                    )[0]["roc_auc"]
                colour_scores[variant] = values
        per_model[name] = Bunch(
            runs=model_runs,
            kind=kind,
            fold_scores=fold_scores,
            fold_notes=fold_notes,
            pass_groups=passes_groups(every[name], groups),
            colour_scores=colour_scores,
        )
    return per_model
