"""The attributes of a comparison's result, from what :func:`compare_models` ran.

:class:`~skbreast.model_selection.ComparisonResult` stores them as they are;
its statistics are computed later, on demand.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._folds import describe_cv
from skbreast.model_selection._pooling import (
    external_predictions,
    prediction_table,
    resolve_pooling,
)


def result_attributes(
    *,
    estimators,
    per_model,
    baselines=(),
    colour=None,
    external=None,
    y,
    groups,
    coords=None,
    classes,
    pos_label,
    neg_label,
    splits,
    repeat,
    cv,
    by_patient,
    metrics,
    custom,
    leakage,
    warnings,
    pooling,
    seed,
    cv_time,
    keep,
):
    """Return the attributes of a :class:`ComparisonResult` from its run.

    ``per_model`` is :func:`score_runs`' output; ``colour`` and ``external``
    the colour check's and the external runs' Bunch, or None.
    """
    attributes = Bunch()
    attributes.names = list(estimators)
    attributes.baselines = list(baselines)
    attributes.classes_ = classes
    attributes.pos_label = pos_label
    attributes.neg_label = neg_label
    attributes.y = y
    attributes.groups = groups
    attributes.coords = coords
    attributes.unit = "patient" if groups is not None else "image"
    attributes.splits = splits
    attributes.repeat = repeat
    attributes.cv = cv
    attributes.by_patient = by_patient
    attributes.metrics = list(metrics)
    attributes.leakage = leakage
    attributes.warnings = list(warnings)
    attributes.random_state = seed
    attributes._custom = dict(custom)
    attributes._pos_is_second = bool(classes[1] == pos_label)
    attributes.update(
        model_attributes(per_model, keep, splits, repeat, y, (pos_label, neg_label))
    )
    attributes.pooling, attributes.pooling_description = resolve_pooling(
        pooling, splits, repeat, len(y)
    )
    attributes.cv_description = describe_cv(cv, by_patient, groups)
    attributes.timing = {"cross_validation": float(cv_time), "statistics": 0.0}
    attributes.colour_notes = []
    if colour is not None:
        attributes.colour_notes = list(colour.notes)
        # The normalisation and jitter of the test images and the extra
        # predictions (not counted in cross_validation).
        attributes.timing["colour_check"] = float(colour.time)
    attributes.external = None
    if external is not None:
        attributes.external = external_predictions(
            external, pos_label, neg_label, attributes._pos_is_second
        )
        attributes.timing["external_validation"] = float(external.time)
    return attributes


def model_attributes(per_model, keep, splits, repeat, y, labels):
    """Return the per-model attributes of a result from :func:`score_runs`' output.

    ``{attribute: {name: value}}`` for ``score_kind``, ``fold_scores``,
    ``fold_notes``, ``fit_time``, ``predict_time``, ``groups_passed_to_fit``,
    ``estimators`` (None unless ``keep``), ``histories``, ``n_iter``,
    ``predictions`` and ``colour_scores`` (None without the colour check).
    """
    items = per_model.items()
    first = next(iter(per_model.values()))
    return {
        "score_kind": {n: m.kind for n, m in items},
        "fold_scores": {n: m.fold_scores for n, m in items},
        "fold_notes": {n: m.fold_notes for n, m in items},
        "fit_time": {n: np.array([r.fit_time for r in m.runs]) for n, m in items},
        "predict_time": {
            n: np.array([r.predict_time for r in m.runs]) for n, m in items
        },
        "groups_passed_to_fit": {n: m.pass_groups for n, m in items},
        "estimators": (
            {n: [r.estimator for r in m.runs] for n, m in items} if keep else None
        ),
        "histories": {
            n: ([r.history for r in m.runs] if m.runs[0].history is not None else None)
            for n, m in items
        },
        "n_iter": {n: [r.n_iter for r in m.runs] for n, m in items},
        "predictions": {
            n: prediction_table(m.runs, splits, repeat, y, *labels) for n, m in items
        },
        "colour_scores": (
            {n: m.colour_scores for n, m in items}
            if first.colour_scores is not None
            else None
        ),
    }
