"""The folds of :func:`compare_models`: the splitter, its splits and their repeats."""

import numbers
import warnings

import numpy as np
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)

from skbreast.model_selection._compare_checks import scalar
from skbreast.model_selection._split import RepeatedStratifiedGroupKFold


def resolve_cv(cv, n_repeats, y, groups, random_state):
    """Return the splitter of ``cv``: patient-disjoint for an integer with groups."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv}.")
        if n_repeats < 1:
            raise ValueError(f"n_repeats must be at least 1; got {n_repeats}.")
        if groups is not None:
            n_groups = len(np.unique(groups))
            if cv > n_groups:
                raise ValueError(
                    f"cv={cv} folds need at least {cv} patients; the data has "
                    f"{n_groups}."
                )
            single, repeated = StratifiedGroupKFold, RepeatedStratifiedGroupKFold
        else:
            smallest = int(np.unique(y, return_counts=True)[1].min())
            if cv > smallest:
                raise ValueError(
                    f"cv={cv} folds need at least {cv} images of every class; the "
                    f"smallest class has {smallest}."
                )
            single, repeated = StratifiedKFold, RepeatedStratifiedKFold
        if n_repeats == 1:
            return single(n_splits=cv, shuffle=True, random_state=random_state)
        return repeated(n_splits=cv, n_repeats=n_repeats, random_state=random_state)
    if n_repeats != 1:
        raise ValueError(
            f"n_repeats={n_repeats} applies to an integer cv only; pass a repeated "
            "splitter instead, e.g. RepeatedStratifiedGroupKFold(5, n_repeats=10)."
        )
    return check_cv(cv, y, classifier=True)


def repeats(splits, n_samples):
    """Return the repeat of every split: a new one starts when a test sample recurs."""
    seen = np.zeros(n_samples, dtype=bool)
    repeat, current = [], 0
    for _, test in splits:
        if seen[test].any():
            current += 1
            seen[:] = False
        seen[test] = True
        repeat.append(current)
    return np.asarray(repeat, dtype=int)


def make_splits(splitter, y, groups):
    """Return ``(splits, notes)``: the checked splits and the splitter's warnings."""
    n_samples = len(y)
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = [
            (np.asarray(train), np.asarray(test))
            for train, test in splitter.split(np.zeros(n_samples), y, groups)
        ]
    for w in caught:
        # scikit-learn's "groups is ignored by KFold": the check of shared
        # patients (in _leakage) says what that means for the scores.
        message = str(w.message)
        if issubclass(
            w.category, UserWarning
        ) and "groups parameter is ignored" not in (message):
            notes.append(message)
    if not splits:
        raise ValueError("The cross-validation yielded no split.")
    for k, (train, test) in enumerate(splits):
        if len(np.unique(y[train])) < 2:
            raise ValueError(
                f"Split {k + 1}'s training set holds one class only "
                f"({scalar(y[train][0])!r}): a classifier cannot learn from it. Use "
                "stratified splits (the default) or fewer folds."
            )
        if len(test) == 0:
            raise ValueError(f"Split {k + 1} has an empty test set.")
    return splits, notes


def describe_cv(cv, by_patient, groups):
    """Return the splitter and how it split, in words."""
    return f"{cv!r} " + (
        "by patient"
        if by_patient
        else (
            "with patients on both sides"
            if groups is not None
            else "by image (no patients)"
        )
    )
