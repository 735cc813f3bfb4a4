"""The cross-validation engine behind ``skbreast benchmark``: no files, no printing.

It fits every model on the same folds (by patient when patients are known), keeps
the out-of-fold scores, and summarises them; :mod:`skbreast.cli.report` writes them.
"""

import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils import Bunch

from skbreast.metrics import patient_scores, specificity_score

#: Image-level metrics reported per model (mean and std over folds).
METRICS = (
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "roc_auc",
    "balanced_accuracy",
)
#: Patient-level metrics, reported when the data has patients.
PATIENT_METRICS = ("patient_accuracy", "patient_roc_auc")
TIME_METRICS = ("fit_time", "predict_time")


def make_splitter(y, groups, n_splits, random_state):
    """Return ``(splitter, description)``: by patient when ``groups`` is given."""
    counts = np.bincount(y)
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_splits > n_groups:
            raise ValueError(
                f"cv={n_splits} folds need at least {n_splits} patients; the data "
                f"has {n_groups}."
            )
        splitter = StratifiedGroupKFold(
            n_splits=n_splits, shuffle=True, random_state=random_state
        )
        return splitter, f"StratifiedGroupKFold(n_splits={n_splits}) by patient"
    if n_splits > counts.min():
        raise ValueError(
            f"cv={n_splits} folds need at least {n_splits} images of every class; "
            f"the smallest class has {counts.min()}."
        )
    splitter = StratifiedKFold(
        n_splits=n_splits, shuffle=True, random_state=random_state
    )
    return splitter, f"StratifiedKFold(n_splits={n_splits}) by image (no patients)"


def _safe(func, *args, **kwargs):
    """Return ``func(...)`` or NaN where the metric is undefined on this fold."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(func(*args, **kwargs))
    except ValueError:
        return float("nan")


def fold_metrics(y_true, y_pred, y_score, groups=None):
    """Image-level (and patient-level) metrics of one fold of a binary problem.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,)
        True and predicted labels, 0 (negative) or 1 (positive).
    y_score : ndarray of shape (n_samples,)
        Positive-class probability.
    groups : ndarray of shape (n_samples,), default=None
        Patients; adds ``patient_accuracy`` and ``patient_roc_auc``.

    Returns
    -------
    scores : dict of str to float
    """
    scores = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": _safe(precision_score, y_true, y_pred, zero_division=0),
        "recall": _safe(recall_score, y_true, y_pred, zero_division=0),
        "specificity": _safe(specificity_score, y_true, y_pred),
        "f1": _safe(f1_score, y_true, y_pred, zero_division=0),
        "roc_auc": _safe(roc_auc_score, y_true, y_score),
        "balanced_accuracy": _safe(balanced_accuracy_score, y_true, y_pred),
    }
    if groups is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                patient = patient_scores(y_true, y_score, groups)
            scores["patient_accuracy"] = float(patient.patient_accuracy)
            scores["patient_roc_auc"] = float(patient.roc_auc)
        except ValueError:
            scores["patient_accuracy"] = scores["patient_roc_auc"] = float("nan")
    return {k: float(v) for k, v in scores.items()}


def _run_fold(name, estimator, X, y, groups, train, test, fold, n_folds, log, keep):
    if log is not None:
        log(f"[{name}] fold {fold + 1}/{n_folds}: fitting on {len(train)} images ...")
    estimator = clone(estimator)
    start = time.perf_counter()
    estimator.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    y_score = estimator.predict_proba(X[test])[:, 1]
    predict_time = time.perf_counter() - start
    y_pred = (y_score > 0.5).astype(int)
    scores = fold_metrics(
        y[test], y_pred, y_score, None if groups is None else groups[test]
    )
    scores["fit_time"] = fit_time
    scores["predict_time"] = predict_time
    if log is not None:
        log(
            f"[{name}] fold {fold + 1}/{n_folds}: {estimator.n_iter_} epochs, fit "
            f"{fit_time:.1f}s, ROC AUC {scores['roc_auc']:.3f}, accuracy "
            f"{scores['accuracy']:.3f}"
        )
    return Bunch(
        model=name,
        fold=fold,
        test_index=test,
        y_true=y[test],
        y_score=y_score,
        y_pred=y_pred,
        scores=scores,
        history={k: list(v) for k, v in estimator.history_.items()},
        n_iter=int(estimator.n_iter_),
        estimator=estimator if keep else None,
    )


def cross_validate_models(
    estimators,
    X,
    y,
    *,
    groups=None,
    cv=5,
    target_names=None,
    random_state=None,
    n_jobs=None,
    log=None,
):
    """Cross-validate several binary image classifiers on the same folds.

    Parameters
    ----------
    estimators : dict of str to estimator
        Unfitted classifiers with ``predict_proba``, by name.
    X : ndarray of shape (n_samples, height, width, channels)
        Images.
    y : array-like of shape (n_samples,)
        Binary labels, 0 (negative) and 1 (positive).
    groups : array-like of shape (n_samples,), default=None
        Patient of every image: folds are then split by patient.
    cv : int, default=5
        Number of folds.
    target_names : list of str, default=None
        Names of classes 0 and 1, for the classification reports.
    random_state : int, default=None
        Seeds the fold assignment.
    n_jobs : int, default=None
        Folds (and models) fitted in parallel with joblib.
    log : callable, default=None
        Called with one progress line per fold and model.

    Returns
    -------
    result : Bunch
        ``splitter`` (a description), ``grouped``, ``models``: for each name a Bunch
        with ``folds`` (per-fold Bunches), ``summary`` ({metric: (mean, std)}),
        ``confusion_matrix`` (summed over folds), ``classification_report`` (on the
        pooled out-of-fold predictions) and ``estimator`` / ``test_index`` (the model
        fitted on the first fold and that fold's test images, for inspection).
    """
    y = np.asarray(y).astype(int)
    if set(np.unique(y)) != {0, 1}:
        raise ValueError("The benchmark needs a binary problem with labels 0 and 1.")
    groups = None if groups is None else np.asarray(groups)
    splitter, description = make_splitter(y, groups, cv, random_state)
    splits = list(splitter.split(np.zeros(len(y)), y, groups))
    n_folds = len(splits)
    tasks = [
        delayed(_run_fold)(
            name, est, X, y, groups, train, test, k, n_folds, log, keep=(k == 0)
        )
        for name, est in estimators.items()
        for k, (train, test) in enumerate(splits)
    ]
    folds = Parallel(n_jobs=n_jobs)(tasks)

    names = [str(t) for t in (target_names if target_names is not None else (0, 1))]
    models = {}
    for name in estimators:
        mine = sorted((f for f in folds if f.model == name), key=lambda f: f.fold)
        summary = {k: _mean_std([f.scores[k] for f in mine]) for k in mine[0].scores}
        y_true = np.concatenate([f.y_true for f in mine])
        y_pred = np.concatenate([f.y_pred for f in mine])
        models[name] = Bunch(
            folds=mine,
            summary=summary,
            confusion_matrix=sum(
                confusion_matrix(f.y_true, f.y_pred, labels=[0, 1]) for f in mine
            ),
            classification_report=classification_report(
                y_true,
                y_pred,
                labels=[0, 1],
                target_names=names,
                digits=3,
                zero_division=0,
            ),
            estimator=mine[0].estimator,
            test_index=mine[0].test_index,
        )
    return Bunch(splitter=description, grouped=groups is not None, models=models)


def _mean_std(values):
    """Mean and std over the folds where the metric is defined (NaN if none)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std())


def pick_gradcam_examples(y_true, y_pred, n_per_kind=3, random_state=None):
    """Pick up to ``n_per_kind`` correct and wrong predictions, both classes shown.

    Returns ``[(index, kind), ...]`` with kind "correct" or "wrong".
    """
    rng = np.random.RandomState(random_state)
    chosen = []
    for kind, mask in (("correct", y_true == y_pred), ("wrong", y_true != y_pred)):
        idx = np.flatnonzero(mask)
        # Half from each true class where possible, so both classes are shown.
        per_class = [idx[y_true[idx] == c] for c in (0, 1)]
        take = []
        for c, members in enumerate(per_class):
            k = min(len(members), (n_per_kind + 1 - c) // 2)
            take.extend(rng.choice(members, k, replace=False).tolist())
        rest = np.setdiff1d(idx, take)
        extra = min(len(rest), n_per_kind - len(take))
        take.extend(rng.choice(rest, extra, replace=False).tolist())
        chosen.extend((int(i), kind) for i in take)
    return chosen
