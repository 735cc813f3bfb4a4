"""The leakage checks of :func:`compare_models` and the warnings they raise.

Patients on both sides of a split, test images with an identical copy in their
training set, an external test set that shares patients or images with the
training data: each makes the scores optimistic, and each is said in words.
"""

import hashlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, column_or_1d
from sklearn.utils.validation import _num_samples

from skbreast.model_selection._compare_checks import scalar

BY_IMAGE_WARNING = (
    "No patients (groups) were given: the folds split by image. Images of one "
    "patient or slide then fall on both sides of a split, the model is scored on "
    "patients it has seen, and every score is optimistic. Pass groups= (the "
    "patient of every image) for an honest comparison; the confidence intervals "
    "below resample images, and are too narrow for images of shared patients."
)


def row_digests(X):
    """Return ``(digests, what)``: one digest per sample of its bytes or pixels."""
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
        digests = []
        for path in X:
            try:
                digests.append(hashlib.blake2b(Path(path).read_bytes()).digest())
            except (OSError, TypeError):
                return None, None
        return np.asarray(digests, dtype="S64"), "byte-identical image files"
    try:
        array = np.asarray(X)
    except Exception:  # noqa: BLE001 - an exotic container: no check
        return None, None
    if array.dtype == object or array.ndim < 2:
        return None, None
    rows = np.ascontiguousarray(array).reshape(len(array), -1)
    digests = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]
    what = "pixel-identical images" if array.ndim >= 3 else "identical rows"
    return np.asarray(digests, dtype="S16"), what


def check_duplicates(X, splits):
    """Count test samples with an identical copy in the training set, per split.

    Returns a Bunch with ``n_duplicated`` (samples that have an identical twin
    anywhere), ``per_split`` (test samples whose copy is on the training side),
    ``total``, ``what`` (what was compared) and ``checked``.
    """
    digests, what = row_digests(X)
    if digests is None:
        return Bunch(
            checked=False,
            what="nothing (X is neither an array nor file paths)",
            n_duplicated=0,
            per_split=[0] * len(splits),
            total=0,
        )
    _, ids, counts = np.unique(digests, return_inverse=True, return_counts=True)
    ids = ids.ravel()
    per_split = [int(np.isin(ids[test], ids[train]).sum()) for train, test in splits]
    return Bunch(
        checked=True,
        what=what,
        n_duplicated=int((counts[ids] > 1).sum()),
        per_split=per_split,
        total=int(sum(per_split)),
    )


def check_external(X, X_test, y_test, groups, groups_test, classes, check_leakage):
    """Validate the external test set; return ``(y_test, groups_test, notes, info)``."""
    if X_test is None or y_test is None:
        raise ValueError(
            "External validation needs both X_test and y_test (and groups_test, "
            "the patients of the test images, to check that they are new)."
        )
    n_test = _num_samples(X_test)
    y_test = column_or_1d(y_test)
    if len(y_test) != n_test:
        raise ValueError(f"X_test has {n_test} samples but y_test has {len(y_test)}.")
    unknown = sorted(set(np.unique(y_test).tolist()) - set(classes.tolist()))
    if unknown:
        raise ValueError(
            f"y_test holds label(s) {unknown[:4]} that y does not: the external set "
            f"must use the labels of the training data ({classes.tolist()})."
        )
    notes = []
    if groups_test is not None:
        groups_test = column_or_1d(groups_test)
        if len(groups_test) != n_test:
            raise ValueError(
                f"groups_test has {len(groups_test)} entries but y_test has {n_test}."
            )
    shared = None
    if groups is not None and groups_test is not None:
        common = np.intersect1d(groups, groups_test)
        shared = int(len(common))
        if shared:
            notes.append(
                f"External test set: {shared} patient id(s) of the test set also "
                f"occur in the training data (e.g. {scalar(common[0])!r}). If they "
                "are the same patients, the external scores are not external: they "
                "score patients the models were trained on. If the two data sets "
                "only number their patients alike, ignore this."
            )
    else:
        missing = " and ".join(
            w
            for w, g in (("groups", groups), ("groups_test", groups_test))
            if g is None
        )
        notes.append(
            f"External test set: no {missing}, so nothing checks that its patients "
            "differ from the training patients. External validation means new "
            "patients (ideally another site): pass the patients of both sets."
        )
    n_copies = None
    if check_leakage:
        train_digests, what = row_digests(X)
        test_digests, _ = row_digests(X_test)
        if train_digests is not None and test_digests is not None:
            n_copies = int(np.isin(test_digests, train_digests).sum())
            if n_copies:
                notes.append(
                    f"External test set: {n_copies} of its {n_test} images have an "
                    f"identical copy in the training data ({what}): those are not "
                    "new images; deduplicate across the two sets."
                )
    if len(np.unique(y_test)) < 2:
        notes.append(
            "External test set: it holds one class only "
            f"({scalar(y_test[0])!r}); ROC AUC and the metrics that need both "
            "classes are undefined on it."
        )
    info = Bunch(
        n_samples=n_test,
        n_patients=None if groups_test is None else int(len(np.unique(groups_test))),
        shared_patients=shared,
        duplicates=n_copies,
    )
    return y_test, groups_test, notes, info


def check_splits(X, splits, groups, check_leakage):
    """Return ``(leakage, by_patient, notes)`` for the splits of a comparison.

    ``leakage`` is :func:`check_duplicates`' Bunch (or an unchecked one) with
    ``shared_patients`` per split added; ``by_patient`` whether every split
    kept each patient on one side; ``notes`` the warnings, in words.
    """
    notes = []
    by_patient = groups is not None
    shared = [0] * len(splits)
    if groups is not None:
        shared = [
            len(np.intersect1d(groups[train], groups[test])) for train, test in splits
        ]
        if any(shared):
            by_patient = False
            notes.append(
                f"The splits put patients on both sides: {sum(shared)} patient(s) "
                f"over {sum(1 for s in shared if s)} split(s) have images in both "
                "the training and the test set. Scores are optimistic; use a "
                "patient-disjoint splitter (the default for an integer cv)."
            )
    else:
        notes.append(BY_IMAGE_WARNING)
    leakage = Bunch(
        checked=False,
        what="not checked",
        n_duplicated=0,
        total=0,
        per_split=[0] * len(splits),
    )
    if check_leakage:
        leakage = check_duplicates(X, splits)
    leakage.shared_patients = shared
    if leakage.total:
        notes.append(
            f"{leakage.total} test image(s) over "
            f"{sum(1 for s in leakage.per_split if s)} split(s) have an identical "
            f"copy in their training set ({leakage.what}; {leakage.n_duplicated} "
            "images in the data have an identical twin). The model is scored on "
            "images it was trained on: deduplicate before comparing."
        )
    return leakage, by_patient, notes
