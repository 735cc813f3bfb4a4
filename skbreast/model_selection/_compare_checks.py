"""The argument checks of :func:`compare_models`, run before any split or fit.

Each check raises with a message that says what to change; none of them reads
the images beyond their number.
"""

import numbers

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples

from skbreast.model_selection._metrics import IMAGE_METRICS, METRICS, PATIENT_METRICS
from skbreast.model_selection._shortcuts import default_baselines

POOLINGS = ("auto", "first", "mean")


def named_estimators(estimators):
    """Return ``{name: estimator}`` from a dict, a list of estimators or of pairs."""
    if isinstance(estimators, dict):
        items = [(str(k), v) for k, v in estimators.items()]
    elif hasattr(estimators, "fit"):
        raise TypeError(
            "estimators must be a dict {name: estimator} or a list of estimators; "
            f"got a single {type(estimators).__name__}. Wrap it: "
            f"[{type(estimators).__name__}(...)]."
        )
    else:
        items = []
        for item in estimators:
            if isinstance(item, tuple) and len(item) == 2:
                items.append((str(item[0]), item[1]))
            else:
                items.append((None, item))
    if not items:
        raise ValueError("estimators is empty: give at least one classifier.")
    named, used = {}, set()
    for name, est in items:
        if name is None:
            base = type(est).__name__
            if base == "Pipeline" and hasattr(est, "steps"):
                base = type(est.steps[-1][1]).__name__
            name, k = base, 2
            while name in used:
                name, k = f"{base}-{k}", k + 1
        if name in used:
            raise ValueError(f"Two estimators are named {name!r}; names must differ.")
        used.add(name)
        if not hasattr(est, "fit"):
            raise TypeError(
                f"{name!r} is a {type(est).__name__}, not an estimator (no fit)."
            )
        if not is_classifier(est):
            raise TypeError(
                f"compare_models compares classifiers; {name!r} "
                f"({type(est).__name__}) is not one."
            )
        if not (hasattr(est, "predict_proba") or hasattr(est, "decision_function")):
            raise TypeError(
                f"{name!r} ({type(est).__name__}) has neither predict_proba nor "
                "decision_function: a ranking score is needed for ROC AUC."
            )
        named[name] = est
    return named


def check_target(y, pos_label):
    y = column_or_1d(y)
    target_type = type_of_target(y, input_name="y")
    classes = np.unique(y)
    if target_type != "binary" or len(classes) != 2:
        raise ValueError(
            "compare_models compares binary classifiers (ROC AUC, sensitivity, "
            f"specificity); y holds {len(classes)} class(es): "
            f"{classes.tolist()[:6]}."
        )
    if pos_label is None:
        # As scikit-learn's binary metrics: the greater label is positive
        # (1 of 0/1, "malignant" of "benign"/"malignant").
        pos_label = classes[1]
    elif pos_label not in classes.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels of y "
            f"({classes[0]!r}, {classes[1]!r})."
        )
    neg_label = classes[0] if classes[1] == pos_label else classes[1]
    return y, classes, scalar(pos_label), scalar(neg_label)


def scalar(value):
    """Return a NumPy scalar as its Python value (messages then say 'benign')."""
    return value.item() if isinstance(value, np.generic) else value


def check_scoring(scoring, grouped):
    if scoring is None:
        names = list(IMAGE_METRICS) + (list(PATIENT_METRICS) if grouped else [])
        return names, {}
    if isinstance(scoring, str):
        scoring = [scoring]
    custom = {}
    names = []
    items = scoring.items() if isinstance(scoring, dict) else [(s, s) for s in scoring]
    for key, value in items:
        if callable(value):
            custom[str(key)] = value
            names.append(str(key))
        elif value in METRICS:
            if value in PATIENT_METRICS and not grouped:
                raise ValueError(
                    f"scoring {value!r} is a patient-level metric: pass groups."
                )
            names.append(value)
        else:
            raise ValueError(
                f"Unknown metric {value!r} in scoring; choose from {list(METRICS)} "
                "or give a callable metric(y_true, y_score) in a dict."
            )
    if not names:
        raise ValueError("scoring is empty: name at least one metric.")
    return names, custom


def resolve_baselines(baselines, X, named):
    """Return ``{name: baseline}`` for the ``baselines`` argument."""
    if baselines is None or baselines is False:
        return {}
    if baselines is True:
        found = default_baselines(X, named)
    elif isinstance(baselines, dict):
        if not baselines:
            return {}
        found = named_estimators(baselines)
    else:
        raise TypeError(
            "baselines must be True (the colour-histogram and thumbnail baselines), "
            f"False, or a dict {{name: estimator}}; got {type(baselines).__name__}."
        )
    clash = sorted(set(found) & set(named))
    if clash:
        raise ValueError(
            f"A baseline and a model are both named {clash[0]!r}; rename the model."
        )
    return found


def check_pooling(pooling):
    """Raise unless ``pooling`` is one of :data:`POOLINGS`."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be 'auto', 'first' or 'mean'; got {pooling!r}.")


def check_samples(X, y, groups):
    """Return ``groups`` as a 1-D array (or None); X, y and groups must agree."""
    n_samples = _num_samples(X)
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
    if groups is not None:
        groups = column_or_1d(groups)
        if len(groups) != n_samples:
            raise ValueError(f"groups has {len(groups)} entries but y has {len(y)}.")
    return groups


def check_roc_auc_kept(metrics, *, baselines, colour_check):
    """Raise if the baselines or the colour check are asked for without ROC AUC."""
    for flag, wanted in (("baselines", baselines), ("colour_check", colour_check)):
        if wanted and "roc_auc" not in metrics:
            raise ValueError(
                f"{flag} compares ROC AUCs: keep 'roc_auc' in scoring, or pass "
                f"{flag}=False."
            )


def integer_seed(random_state):
    """Return one integer seed for the folds and the bootstrap.

    A RandomState instance is drawn from once, so that every later statistic
    gets the same resamples from the seed stored in the result.
    """
    rng = check_random_state(random_state)
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(rng.randint(2**31 - 1))
