"""The validation set that early stopping and the plateau schedule watch.

Drawn inside every fit, from the training data only, so cross-validation folds
never leak into it. With patient groups it holds out whole patients: a validation
image of a training patient would reward memorising that patient (stain, tissue
density), which is the shortcut patient data invites. Without groups it is a
stratified split by image, as scikit-learn's estimators draw theirs.
"""

import warnings

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

# 'auto' early stopping needs this many training images: below it, a held-out
# tenth is too small to judge an epoch by.
AUTO_MIN_SAMPLES = 100


def early_stopping_split(
    early_stopping, y, n_classes, groups, validation_fraction, seed
):
    """Return ``(train, validation, validation_groups)`` indices, or None.

    Parameters
    ----------
    early_stopping : bool or "auto"
        The estimator parameter.
    y : ndarray of int
        Encoded labels of the training data.
    n_classes : int
        Number of classes.
    groups : ndarray or None
        Validated patient ids of the training data.
    validation_fraction : float
        Share of the images to hold out (approximate with groups: whole patients).
    seed : int
        Seed of the split.

    Returns
    -------
    split : tuple or None
        ``(train_indices, validation_indices, validation_groups)``, where
        ``validation_groups`` is the sorted array of held-out patients (None for a
        split by image); None when early stopping is off, or "auto" and the data
        are too small.
    """
    if early_stopping is False:
        return None
    auto = early_stopping == "auto"
    if auto and len(y) < AUTO_MIN_SAMPLES:
        return None
    if groups is None:
        return _image_split(auto, y, n_classes, validation_fraction, seed)
    return _patient_split(auto, y, n_classes, groups, validation_fraction, seed)


def _image_split(auto, y, n_classes, validation_fraction, seed):
    counts = np.bincount(y, minlength=n_classes)
    n_val = int(np.ceil(validation_fraction * len(y)))
    feasible = counts.min() >= 2 and n_classes <= n_val <= len(y) - n_classes
    if not feasible:
        if auto:
            return None
        raise ValueError(
            "early_stopping=True holds out a stratified validation_fraction="
            f"{validation_fraction} of the images, which needs at least 2 "
            f"images of every class and a validation set of at least {n_classes} "
            f"images; got class counts {counts.tolist()}. Use more data, a larger "
            "validation_fraction or early_stopping=False."
        )
    train, val = train_test_split(
        np.arange(len(y)), test_size=validation_fraction, stratify=y, random_state=seed
    )
    return train, val, None


def _patient_split(auto, y, n_classes, groups, validation_fraction, seed):
    # Patients that hold images of each class; a patient may hold several classes
    # (IDC patients have both), which StratifiedGroupKFold handles.
    patients_per_class = [len(np.unique(groups[y == c])) for c in range(n_classes)]
    split = None
    if min(patients_per_class) >= 2:
        split = _best_group_fold(y, groups, n_classes, validation_fraction, seed)
    if split is None:
        message = (
            "Early stopping with groups holds out whole patients, so that every "
            "class has images on both sides; that needs at least 2 patients of "
            "every class, and a patient split that keeps every class on both "
            f"sides. Got {len(np.unique(groups))} patients, per class "
            f"{patients_per_class}."
        )
        if not auto:
            raise ValueError(message + " Use more patients or early_stopping=False.")
        warnings.warn(
            message + " Training without early stopping (early_stopping=False "
            "silences this).",
            UserWarning,
            stacklevel=6,
        )
        return None
    train, val = split
    return train, val, np.unique(groups[val])


def _best_group_fold(y, groups, n_classes, validation_fraction, seed):
    """Return the patient fold nearest ``validation_fraction`` keeping all classes.

    Folds of ``StratifiedGroupKFold(round(1 / validation_fraction))`` are the
    candidates; if none has every class on both sides, fewer, larger folds are.
    """
    n = len(y)
    n_patients = len(np.unique(groups))
    start = max(2, min(int(round(1 / validation_fraction)), n_patients))
    for n_splits in range(start, 1, -1):
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        best, best_gap = None, None
        with warnings.catch_warnings():
            # "The least populated class has only k members": expected with few
            # patients; the folds are checked for every class below.
            warnings.simplefilter("ignore", UserWarning)
            folds = list(splitter.split(np.zeros(n), y, groups))
        for train, val in folds:
            both = all(
                np.isin(np.arange(n_classes), y[side]).all() for side in (train, val)
            )
            gap = abs(len(val) / n - validation_fraction)
            if both and (best_gap is None or gap < best_gap):
                best, best_gap = (train, val), gap
        if best is not None:
            return best
    return None
