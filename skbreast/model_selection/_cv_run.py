"""The cross-validation run of :func:`compare_models`: every model on every split.

Each (model, split) pair is one joblib task that fits a clone and keeps its
positive-class scores on the test set (and on the colour check's variants) and
the decision threshold of the fitted clone; with an external test set, every
model is also fitted once on all the data.
"""

import sys
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils.validation import has_fit_parameter


def positive_score(estimator, X, pos_label):
    """Return ``(score, kind)``: the positive-class score and the method giving it."""
    classes = list(estimator.classes_)
    col = classes.index(pos_label)
    if hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X))
        return proba[:, col].astype(np.float64), "predict_proba"
    decision = np.asarray(estimator.decision_function(X), dtype=np.float64)
    if decision.ndim == 2:
        return decision[:, col], "decision_function"
    # A 1-D decision function favours classes_[1] where positive.
    return (decision if col == 1 else -decision), "decision_function"


def fitted_threshold(estimator):
    """Return the probability threshold of ``predict`` of a fitted binary model.

    skbreast's classifiers predict ``classes_[1]`` where its probability exceeds
    ``threshold_`` (chosen inside each fit with ``threshold="balanced_accuracy"``,
    on that fit's training patients only); the final step of a pipeline counts.
    0.5 (what ``predict`` of a scikit-learn classifier does) when absent or None.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        estimator = steps[-1][1]
    threshold = getattr(estimator, "threshold_", None)
    return 0.5 if threshold is None else float(threshold)


def fit_and_score(
    name,
    estimator,
    X,
    y,
    groups,
    train,
    test,
    split,
    n_splits,
    pos_label,
    classes,
    pass_groups,
    keep,
    verbose,
    colour_set=None,
    X_eval=None,
):
    estimator = clone(estimator)
    X_train, y_train = _safe_indexing(X, train), y[train]
    start = time.perf_counter()
    if pass_groups:
        estimator.fit(X_train, y_train, groups=groups[train])
    else:
        estimator.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    fitted_classes = getattr(estimator, "classes_", None)
    if fitted_classes is None:
        raise ValueError(
            f"{name!r} ({type(estimator).__name__}) has no classes_ after fit; "
            "compare_models needs it to find the positive-class column."
        )
    if len(fitted_classes) != len(classes) or not np.all(
        np.asarray(fitted_classes) == classes
    ):
        raise ValueError(
            f"{name!r} learned classes_ {np.asarray(fitted_classes).tolist()} but y "
            f"holds {classes.tolist()}: every estimator must predict the labels of "
            "y (a label encoder inside a pipeline changes them); compare models "
            "on the same labels."
        )
    start = time.perf_counter()
    X_test = _safe_indexing(X, test) if X_eval is None else X_eval
    score, kind = positive_score(estimator, X_test, pos_label)
    predict_time = time.perf_counter() - start
    where = "the external test set" if X_eval is not None else f"split {split + 1}"
    if not np.all(np.isfinite(score)):
        raise ValueError(
            f"{name!r} returned NaN or infinite scores on {where}; the "
            "model has diverged: check its training before comparing it."
        )
    colour, colour_time = None, 0.0
    if colour_set is not None:
        start = time.perf_counter()
        colour = {
            variant: positive_score(estimator, images, pos_label)[0]
            for variant, images in colour_set.items()
        }
        colour_time = time.perf_counter() - start
    if verbose:
        print(
            f"[{name}] "
            + (
                "all training data (external test)"
                if X_eval is not None
                else f"split {split + 1}/{n_splits}"
            )
            + f": fit {fit_time:.1f} s on {len(train)} images, predict "
            f"{predict_time:.1f} s"
            + (f", colour check {colour_time:.1f} s" if colour_set else ""),
            file=sys.stderr,
            flush=True,
        )
    history = getattr(estimator, "history_", None)
    return Bunch(
        score=score,
        kind=kind,
        fit_time=fit_time,
        predict_time=predict_time,
        history=None if history is None else {k: list(v) for k, v in history.items()},
        n_iter=getattr(estimator, "n_iter_", None),
        threshold=fitted_threshold(estimator),
        estimator=estimator if keep else None,
        colour=colour,
        colour_time=colour_time,
    )


def passes_groups(estimator, groups):
    """Whether ``fit`` of ``estimator`` is given the patients."""
    return groups is not None and has_fit_parameter(estimator, "groups")


def run_folds(
    every, X, y, groups, splits, pos_label, classes, keep, verbose, n_jobs, colour
):
    """Fit every model on every split, in parallel; return ``(runs, seconds)``.

    ``runs[name]`` lists :func:`fit_and_score`'s Bunch of every split, in order.
    """
    tasks = []
    for name, est in every.items():
        pass_groups = passes_groups(est, groups)
        for k, (train, test) in enumerate(splits):
            tasks.append(
                delayed(fit_and_score)(
                    name,
                    est,
                    X,
                    y,
                    groups,
                    train,
                    test,
                    k,
                    len(splits),
                    pos_label,
                    classes,
                    pass_groups,
                    keep,
                    verbose,
                    colour_set=None if colour is None else colour.sets[k],
                )
            )
    start = time.perf_counter()
    outputs = Parallel(n_jobs=n_jobs)(tasks)
    seconds = time.perf_counter() - start
    n = len(splits)
    runs = {name: outputs[i * n : (i + 1) * n] for i, name in enumerate(every)}
    return runs, seconds


def run_external(
    every, X, y, groups, X_test, pos_label, classes, keep, verbose, n_jobs
):
    """Fit every model once on all of ``X`` and score ``X_test``.

    Returns ``({name: run}, seconds)``.
    """
    start = time.perf_counter()
    everything = np.arange(len(y))
    runs = Parallel(n_jobs=n_jobs)(
        delayed(fit_and_score)(
            name,
            est,
            X,
            y,
            groups,
            everything,
            None,
            0,
            1,
            pos_label,
            classes,
            passes_groups(est, groups),
            keep,
            verbose,
            X_eval=X_test,
        )
        for name, est in every.items()
    )
    return dict(zip(every, runs)), time.perf_counter() - start


def colour_timing(colour, per_model, cv_time):
    """Return ``(colour_info, cv_time)``: the colour check's notes and seconds.

    The extra predictions ran inside the fold tasks: they move from the
    cross-validation's time to the check's, so the times add up (exactly with
    n_jobs=1, approximately with parallel fits).
    """
    predictions = sum(r.colour_time for m in per_model.values() for r in m.runs)
    info = Bunch(
        notes=colour.notes,
        time=colour.time + predictions,
        preparation_time=colour.time,
    )
    return info, max(0.0, cv_time - predictions)
