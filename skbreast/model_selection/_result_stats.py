"""The statistics of a comparison's pooled predictions, and their tables.

Pure functions behind :class:`~skbreast.model_selection.ComparisonResult`: the
patient bootstrap of every metric (the same resamples for every model, so that
differences are paired), its intervals, and the summary and external tables.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._bootstrap import ClusterResampler, summarise
from skbreast.model_selection._format import Table, metric_label
from skbreast.model_selection._metrics import (
    custom_metric,
    predicted_positive,
    prepare,
    undefined_reason,
    weighted_metrics,
)


def bootstrap_metrics(
    data, is_positive, y_score, groups, metrics, custom, n_resamples, seed
):
    """Return ``(estimates, values, resampler)`` of every metric.

    ``estimates`` on the data as they are, ``values`` over ``n_resamples``
    bootstrap resamples of the patients (``groups``), or of the samples.
    """
    p = Bunch(is_positive=is_positive, y_score=y_score, groups=groups)
    y01 = p.is_positive.astype(int)
    built_in = [m for m in metrics if m not in custom]
    estimates = {
        m: float(v[0])
        for m, v in weighted_metrics(np.ones((1, len(y01))), data, built_in).items()
    }
    resampler = ClusterResampler(y01, p.groups)
    chunks = {m: [] for m in built_in}
    # Every model is resampled with the same seed on the same samples: the
    # same patients are drawn for all, so differences are paired.
    for _, counts, complete in resampler._blocks(n_resamples, seed):
        counts = counts.astype(np.float64)
        values = weighted_metrics(
            counts[:, resampler.unit_of_sample],
            data,
            built_in,
            patient_weights=counts if p.groups is not None else None,
        )
        for m, v in values.items():
            v = np.array(v, dtype=np.float64)
            v[~complete] = np.nan
            chunks[m].append(v)
    values = {m: np.concatenate(c) for m, c in chunks.items()}
    for m, metric in custom.items():
        estimates[m] = custom_metric(metric, y01, p.y_score)[0]
        values[m] = resampler.metric_values(
            lambda yt, ys, metric=metric: custom_metric(metric, yt, ys)[0],
            y01,
            p.y_score,
            n_resamples,
            seed,
        )
    return estimates, values, resampler


def interval(estimate, values, resampler, n_resamples, confidence_level):
    """Return the percentile interval of ``values`` around ``estimate``."""
    result = resampler.empty_result(n_resamples, confidence_level)
    if not np.isfinite(estimate):
        return result
    return summarise(result, estimate, values, max_undefined=0.1)


def fold_note(notes, n_splits):
    """Summarise the fold notes of one model and metric in one phrase."""
    if not notes:
        return ""
    reasons = list(dict.fromkeys(n.split(": ", 1)[1] for n in notes))
    text = f"n/a on {len(notes)} of {n_splits} folds: {reasons[0]}"
    return text + (
        f" (and {len(reasons) - 1} other reason(s))" if len(reasons) > 1 else ""
    )


def summary_table(result, confidence_level, n_resamples):
    """Return the rows of :meth:`ComparisonResult.summary` as a Table.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(20), 4)
    >>> y = groups % 2
    >>> X = rng.normal(size=(80, 2)) + y[:, None]
    >>> result = compare_models([LogisticRegression()], X, y, groups=groups,
    ...                         cv=4, scoring=["accuracy", "roc_auc"],
    ...                         random_state=0)
    >>> table = result.summary(n_resamples=300)
    >>> table["metric"], table["unit"]
    (['accuracy', 'roc_auc'], ['patient', 'patient'])
    >>> all(lo <= e <= hi for lo, e, hi in
    ...     zip(table["ci_low"], table["estimate"], table["ci_high"]))
    True
    """
    columns = {
        c: []
        for c in (
            "model",
            "metric",
            "label",
            "mean",
            "sd",
            "n_folds",
            "estimate",
            "ci_low",
            "ci_high",
            "unit",
            "note",
            "role",
        )
    }
    for name in result.names + result.baselines:
        estimates, values, resampler = result._distributions(name, n_resamples)
        for metric in result.metrics:
            folds = result.fold_scores[name][metric]
            defined = folds[np.isfinite(folds)]
            ci = interval(
                estimates[metric],
                values[metric],
                resampler,
                n_resamples,
                confidence_level,
            )
            note = fold_note(result.fold_notes[name][metric], result.n_splits)
            if not np.isfinite(estimates[metric]):
                reason = (
                    undefined_reason(
                        metric,
                        result._prepared_data[name],
                        result.pos_label,
                        result.neg_label,
                    )
                    if metric not in result._custom
                    else "undefined on the pooled predictions"
                )
                note = "; ".join(filter(None, [note, f"pooled: {reason}"]))
            elif ci.reason:
                note = "; ".join(filter(None, [note, f"CI: {ci.reason}"]))
            row = {
                "model": name,
                "metric": metric,
                "label": metric_label(metric),
                "mean": float(defined.mean()) if len(defined) else np.nan,
                "sd": float(defined.std(ddof=1)) if len(defined) > 1 else np.nan,
                "n_folds": int(len(defined)),
                "estimate": float(ci.estimate),
                "ci_low": float(ci.confidence_interval[0]),
                "ci_high": float(ci.confidence_interval[1]),
                "unit": ci.unit,
                "note": note,
                "role": result.role(name),
            }
            for c, v in row.items():
                columns[c].append(v)
    return Table(columns)


def external_table(result, summary, confidence_level, n_resamples):
    """Return :meth:`ComparisonResult.external_table` beside its ``summary``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(40), 4)
    >>> y = groups % 2
    >>> X = rng.normal(size=(160, 2)) + y[:, None]
    >>> train, test = groups < 28, groups >= 28
    >>> result = compare_models([LogisticRegression()], X[train], y[train],
    ...                         groups=groups[train], cv=4, random_state=0,
    ...                         X_test=X[test], y_test=y[test],
    ...                         groups_test=groups[test])
    >>> table = result.external_table(n_resamples=200)
    >>> table["metric"][:2], table["external_unit"][0]
    (['accuracy', 'balanced_accuracy'], 'patient')
    """
    internal = {
        (m, k): i for i, (m, k) in enumerate(zip(summary["model"], summary["metric"]))
    }
    columns = {
        c: []
        for c in (
            "model",
            "role",
            "metric",
            "label",
            "cv_mean",
            "cv_sd",
            "cv_estimate",
            "cv_ci_low",
            "cv_ci_high",
            "external",
            "external_ci_low",
            "external_ci_high",
            "external_unit",
            "change",
        )
    }
    for name in result.names + result.baselines:
        estimates, values, resampler = result._external_distributions(name, n_resamples)
        for metric in result.metrics:
            ci = interval(
                estimates[metric],
                values[metric],
                resampler,
                n_resamples,
                confidence_level,
            )
            i = internal[(name, metric)]
            row = {
                "model": name,
                "role": result.role(name),
                "metric": metric,
                "label": metric_label(metric),
                "cv_mean": summary["mean"][i],
                "cv_sd": summary["sd"][i],
                "cv_estimate": summary["estimate"][i],
                "cv_ci_low": summary["ci_low"][i],
                "cv_ci_high": summary["ci_high"][i],
                "external": float(estimates[metric]),
                "external_ci_low": float(ci.confidence_interval[0]),
                "external_ci_high": float(ci.confidence_interval[1]),
                "external_unit": ci.unit,
                "change": float(estimates[metric]) - summary["estimate"][i],
            }
            for c, v in row.items():
                columns[c].append(v)
    return Table(columns)


def external_bootstrap(result, name, n_resamples):
    """Return :func:`bootstrap_metrics` of one model on the external test set."""
    ext = result.external
    y_score = ext.predictions[name]["y_score"]
    is_positive = ext.y == result.pos_label
    kind = ext.score_kind[name]
    y_pred = ext.predictions[name].get("y_pred")
    data = prepare(
        is_positive,
        y_score,
        # The labels of the model fitted on all the data, at its threshold_.
        predicted_positive(y_score, kind, result._pos_is_second)
        if y_pred is None
        else y_pred == result.pos_label,
        probability=kind == "predict_proba",
        groups=ext.groups,
    )
    return bootstrap_metrics(
        data,
        is_positive,
        y_score,
        ext.groups,
        result.metrics,
        result._custom,
        n_resamples,
        result.random_state,
    )


def pooled_bootstrap(result, name, n_resamples):
    """Return :func:`bootstrap_metrics` of one model's pooled predictions."""
    p = result.pooled(name)
    return bootstrap_metrics(
        result._prepared_data[name],
        p.is_positive,
        p.y_score,
        p.groups,
        result.metrics,
        result._custom,
        n_resamples,
        result.random_state,
    )
