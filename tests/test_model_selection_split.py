"""Invariants of the patient-disjoint splitters of skbreast.model_selection."""

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    StratifiedGroupKFold,
    check_cv,
    cross_val_predict,
    cross_validate,
)
from sklearn.utils._param_validation import InvalidParameterError

from skbreast.model_selection import PatientShuffleSplit, RepeatedStratifiedGroupKFold


def breakhis_like(n_patients=40, seed=0, malignant_share=0.65):
    """Single-label patients of distinct image counts, as in BreakHis."""
    rng = np.random.RandomState(seed)
    sizes = rng.choice(np.arange(5, 120), size=n_patients, replace=False)
    labels = (rng.rand(n_patients) < malignant_share).astype(int)
    labels[:2], labels[2:4] = 0, 1  # at least two patients of each class
    groups = np.repeat(np.arange(n_patients), sizes)
    y = np.repeat(labels, sizes)
    return np.zeros((len(y), 1)), y, groups


def partition(splits, groups):
    """The fold index of every patient, from the test sets of one repeat."""
    fold = {}
    for k, (_, test) in enumerate(splits):
        for g in np.unique(groups[test]):
            fold[g] = k
    return tuple(fold[g] for g in sorted(fold))


# --- RepeatedStratifiedGroupKFold -------------------------------------------------


def test_repeated_kfold_invariants():
    X, y, groups = breakhis_like()
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=4, random_state=0)
    splits = list(cv.split(X, y, groups))
    assert len(splits) == cv.get_n_splits() == 20
    overall = y.mean()
    for r in range(4):
        repeat = splits[5 * r : 5 * r + 5]
        times_tested = np.zeros(len(y), dtype=int)
        for train, test in repeat:
            assert not set(groups[train]) & set(groups[test])
            assert len(train) + len(test) == len(y)
            times_tested[test] += 1
            # Both classes in every test fold, balance close to the whole set.
            assert set(y[test]) == {0, 1}
            assert abs(y[test].mean() - overall) < 0.1
        assert np.all(times_tested == 1)


def test_repeated_kfold_reproducible_and_repeats_differ():
    X, y, groups = breakhis_like()
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=6, random_state=3)
    first = [(tr.tolist(), te.tolist()) for tr, te in cv.split(X, y, groups)]
    second = [(tr.tolist(), te.tolist()) for tr, te in cv.split(X, y, groups)]
    assert first == second
    splits = list(cv.split(X, y, groups))
    partitions = {partition(splits[5 * r : 5 * r + 5], groups) for r in range(6)}
    assert len(partitions) == 6
    other = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=6, random_state=4)
    assert [te.tolist() for _, te in other.split(X, y, groups)] != [
        te for _, te in first
    ]


def test_sklearn_shuffle_alone_would_not_vary():
    # Why the splitter has its own randomisation: with patients of distinct
    # sizes, StratifiedGroupKFold's shuffle changes nothing.
    X, y, groups = breakhis_like()
    partitions = {
        partition(
            list(
                StratifiedGroupKFold(5, shuffle=True, random_state=s).split(
                    X, y, groups
                )
            ),
            groups,
        )
        for s in range(5)
    }
    assert len(partitions) == 1


def test_repeated_kfold_string_labels_and_mixed_patients():
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(12), 10)
    # IDC-like: every patient has both classes.
    y = np.where(rng.rand(120) < 0.3, "malignant", "benign")
    y[::10], y[1::10] = "malignant", "benign"
    cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    for train, test in cv.split(np.zeros(120), y, groups):
        assert not set(groups[train]) & set(groups[test])
        assert set(y[test]) == {"benign", "malignant"}


def test_repeated_kfold_in_cross_validate_and_metadata_routing():
    X, y, groups = breakhis_like(n_patients=20)
    X = X + y[:, None] + np.random.RandomState(0).normal(size=X.shape)
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=2, random_state=0)
    assert check_cv(cv) is cv
    scores = cross_validate(LogisticRegression(), X, y, groups=groups, cv=cv)
    assert len(scores["test_score"]) == 8
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(
            LogisticRegression(), X, y, cv=cv, params={"groups": groups}
        )
    np.testing.assert_allclose(routed["test_score"], scores["test_score"])


def test_one_repeat_is_a_partition_for_cross_val_predict():
    X, y, groups = breakhis_like(n_patients=20)
    X = X + y[:, None]
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=1, random_state=0)
    proba = cross_val_predict(
        LogisticRegression(), X, y, groups=groups, cv=cv, method="predict_proba"
    )
    assert proba.shape == (len(y), 2)


def test_repeated_kfold_errors():
    X, y, groups = breakhis_like(n_patients=8)
    cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2)
    with pytest.raises(ValueError, match="needs patient groups"):
        next(cv.split(X, y))
    with pytest.raises(ValueError, match="y is required"):
        next(cv.split(X, None, groups))
    with pytest.raises(ValueError, match="more than the number of patients"):
        next(RepeatedStratifiedGroupKFold(n_splits=9).split(X, y, groups))
    with pytest.raises(ValueError, match="binary or multiclass"):
        next(cv.split(X, np.linspace(0, 1, len(y)), groups))
    with pytest.raises(InvalidParameterError, match="n_splits"):
        RepeatedStratifiedGroupKFold(n_splits=1)
    with pytest.raises(InvalidParameterError, match="n_repeats"):
        RepeatedStratifiedGroupKFold(n_repeats=0)
    with pytest.raises(InvalidParameterError, match="random_state"):
        RepeatedStratifiedGroupKFold(random_state="seed")


def test_repeated_kfold_warns_when_a_class_has_fewer_patients_than_folds():
    groups = np.repeat(np.arange(10), 3)
    y = np.repeat([0, 0] + [1] * 8, 3)
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=1, random_state=0)
    with pytest.warns(UserWarning, match="class 0 occurs in 2 patient"):
        list(cv.split(np.zeros(30), y, groups))


def test_repeated_kfold_repr():
    assert repr(RepeatedStratifiedGroupKFold(n_splits=3)) == (
        "RepeatedStratifiedGroupKFold(n_repeats=10, n_splits=3, random_state=None)"
    )


# --- PatientShuffleSplit ----------------------------------------------------------


def test_spanhol_defaults():
    cv = PatientShuffleSplit()
    assert (cv.n_splits, cv.test_size) == (5, 0.3)
    assert cv.get_n_splits() == 5


def test_spanhol_invariants():
    X, y, groups = breakhis_like(n_patients=82, seed=1)
    patient_label = {g: y[groups == g][0] for g in np.unique(groups)}
    n_per_class = np.bincount(list(patient_label.values()))
    cv = PatientShuffleSplit(random_state=0)
    splits = list(cv.split(X, y, groups))
    assert len(splits) == 5
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(y)
        test_patients = np.unique(groups[test])
        labels = np.array([patient_label[g] for g in test_patients])
        # Stratified by patient: round(0.3 * n) patients of each class.
        for c in (0, 1):
            assert (labels == c).sum() == int(np.floor(0.3 * n_per_class[c] + 0.5))
        assert set(y[train]) == set(y[test]) == {0, 1}
        # Image balance follows the patient balance.
        assert abs(y[test].mean() - y.mean()) < 0.1
        assert abs(len(test_patients) / 82 - 0.3) < 0.02


def test_spanhol_reproducible_and_trials_differ():
    X, y, groups = breakhis_like()
    cv = PatientShuffleSplit(n_splits=5, random_state=7)
    first = [te.tolist() for _, te in cv.split(X, y, groups)]
    assert first == [te.tolist() for _, te in cv.split(X, y, groups)]
    assert len({tuple(t) for t in first}) == 5
    other = [
        te.tolist() for _, te in PatientShuffleSplit(random_state=8).split(X, y, groups)
    ]
    assert other != first


def test_spanhol_mixed_patients_keep_both_classes_on_both_sides():
    # Positives only as a minority in two patients: the majority labels are all
    # negative, so a trial can miss them and must be drawn again.
    groups = np.repeat(np.arange(10), 10)
    y = np.zeros(100, dtype=int)
    y[[0, 1, 10, 11]] = 1
    cv = PatientShuffleSplit(n_splits=20, random_state=0)
    for train, test in cv.split(np.zeros(100), y, groups):
        assert not set(groups[train]) & set(groups[test])
        assert set(y[train]) == set(y[test]) == {0, 1}


def test_spanhol_errors():
    X, y, groups = breakhis_like()
    cv = PatientShuffleSplit()
    with pytest.raises(
        ValueError, match="(?i)the Spanhol protocol needs patient groups"
    ):
        next(cv.split(X, y))
    with pytest.raises(ValueError, match="y is required"):
        next(cv.split(X, groups=groups))
    lone = y.copy()
    lone[groups == 0] = 2  # class 2 in a single patient
    with pytest.raises(ValueError, match="class 2 occurs in only 1 patient"):
        next(cv.split(X, lone, groups))
    with pytest.raises(InvalidParameterError, match="test_size"):
        PatientShuffleSplit(test_size=1.5)
    with pytest.raises(InvalidParameterError, match="test_size"):
        PatientShuffleSplit(test_size=0)
    with pytest.raises(InvalidParameterError, match="n_splits"):
        PatientShuffleSplit(n_splits=0)


def test_spanhol_in_cross_validate():
    X, y, groups = breakhis_like(n_patients=20)
    X = X + y[:, None]
    scores = cross_validate(
        LogisticRegression(),
        X,
        y,
        groups=groups,
        cv=PatientShuffleSplit(random_state=0),
    )
    assert len(scores["test_score"]) == 5


def test_public_names_are_documented_with_examples():
    import inspect

    import skbreast.model_selection as module

    for name in module.__all__:
        obj = getattr(module, name)
        assert inspect.isfunction(obj) or inspect.isclass(obj)
        assert "Examples\n" in (obj.__doc__ or ""), name
