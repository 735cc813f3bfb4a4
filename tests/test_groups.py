"""Patients in fit: whole-patient validation splits and patient-balanced epochs."""

import numpy as np
import pytest
import sklearn
from conftest import SMALL_CNN, make_images
from imblearn.under_sampling import RandomUnderSampler
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skbreast
from skbreast import CNNClassifier, ResNetClassifier
from skbreast._training.holdout import early_stopping_split
from skbreast._training.sampling import patient_balancer


def patient_data(n=60, n_patients=6):
    X, y = make_images(n=n)
    # Patient p holds class p % 2 only, as in BreakHis: 3 patients per class.
    groups = np.array([f"P{i % n_patients:02d}" for i in range(n)])
    return X, y, groups


# ----------------------------------------------------------------- the split
def _split(y, groups, fraction=0.2, seed=0, early_stopping=True):
    codes = np.unique(groups, return_inverse=True)[1]
    return early_stopping_split(
        early_stopping, y, len(np.unique(y)), codes, fraction, seed
    )


@pytest.mark.parametrize("seed", range(5))
def test_patient_split_holds_out_whole_patients(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 40, size=17)
    groups = np.repeat(np.arange(17), sizes)
    y = np.repeat((np.arange(17) >= 5).astype(int), sizes)  # 5 benign, 12 malignant
    train, val, val_groups = _split(y, groups, fraction=0.1, seed=seed)
    assert not set(groups[train]) & set(groups[val])
    assert len(train) + len(val) == len(y)
    assert set(y[train]) == set(y[val]) == {0, 1}
    np.testing.assert_array_equal(val_groups, np.unique(groups[val]))
    # Whole patients make the share coarse, but it stays near the request.
    assert len(val) / len(y) < 0.35


def test_patient_split_is_reproducible():
    groups = np.repeat(np.arange(12), 10)
    y = np.repeat(np.arange(12) % 2, 10)
    a, b = _split(y, groups, seed=3), _split(y, groups, seed=3)
    np.testing.assert_array_equal(a[1], b[1])


def test_patient_split_with_patients_of_both_classes():
    # IDC-like: every patient has images of both classes.
    groups = np.repeat(np.arange(8), 20)
    y = np.tile(np.r_[np.zeros(15, int), np.ones(5, int)], 8)
    train, val, _ = _split(y, groups, fraction=0.25)
    assert not set(groups[train]) & set(groups[val])
    assert set(y[val]) == {0, 1}


def test_too_few_patients_raise_with_counts():
    groups = np.repeat([0, 1, 2], 40)
    y = np.repeat([0, 1, 1], 40)  # one benign patient only
    with pytest.raises(ValueError, match=r"2 patients of every class.*\[1, 2\]"):
        _split(y, groups)


def test_too_few_patients_for_auto_warn_and_train_without_validation():
    groups = np.repeat([0, 1, 2], 40)
    y = np.repeat([0, 1, 1], 40)
    with pytest.warns(UserWarning, match="without early stopping"):
        assert _split(y, groups, early_stopping="auto") is None


def test_without_groups_the_split_is_by_image():
    y = np.arange(200) % 2
    train, val, val_groups = early_stopping_split("auto", y, 2, None, 0.1, 0)
    assert val_groups is None and len(val) == 20


# ----------------------------------------------------------- the estimators
@pytest.mark.parametrize(
    "cls, params",
    [(CNNClassifier, SMALL_CNN), (ResNetClassifier, dict(filters=(4,), epochs=2))],
)
def test_fit_with_groups_records_the_validation_patients(cls, params):
    X, y, groups = patient_data()
    params = {"epochs": 2, **params, "early_stopping": True, "validation_fraction": 0.3}
    clf = cls(**params).fit(X, y, groups=groups)
    held_out = clf.validation_groups_
    assert 1 <= len(held_out) < 6 and set(held_out) <= set(groups)
    assert "val_loss" in clf.history_
    assert cls(**params).fit(X, y).validation_groups_ is None


def test_groups_change_which_images_validate():
    X, y, groups = patient_data()
    params = dict(SMALL_CNN, epochs=3, early_stopping=True, validation_fraction=0.3)
    by_patient = CNNClassifier(**params).fit(X, y, groups=groups)
    by_image = CNNClassifier(**params).fit(X, y)
    assert by_patient.history_["val_loss"] != by_image.history_["val_loss"]


def test_groups_are_keyword_only():
    X, y, groups = patient_data()
    with pytest.raises(TypeError):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y, groups)


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda g: g[:-1], "groups has 59 entries but X has 60 images"),
        (lambda g: g.reshape(-1, 2), "groups must be 1-D"),
        (
            lambda g: np.where(np.arange(60) == 7, np.nan, 1.0),
            "NaN or None, e.g. image 7",
        ),
        (lambda g: np.array([None] + list(g[1:]), dtype=object), "e.g. image 0"),
        (lambda g: np.array([1] + list(g[1:]), dtype=object), "cannot be compared"),
    ],
)
def test_bad_groups(bad, message):
    X, y, groups = patient_data()
    with pytest.raises(ValueError, match=message):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y, groups=bad(groups))


def test_early_stopping_true_with_one_patient_per_class_names_the_counts():
    X, y, _ = patient_data()
    groups = y.copy()  # one "patient" per class
    clf = CNNClassifier(**SMALL_CNN, epochs=1, early_stopping=True)
    with pytest.raises(ValueError, match=r"per class \[1, 1\]"):
        clf.fit(X, y, groups=groups)


# ----------------------------------------------------- patient-balanced epochs
def test_patient_balancer_weighs_patients_equally_within_each_class():
    sizes = np.array([72, 10, 30, 5, 50, 20])
    groups = np.repeat(np.arange(6), sizes)
    y = np.repeat([0, 0, 0, 1, 1, 1], sizes)
    resample = patient_balancer(y, groups)
    rng = np.random.default_rng(0)
    indices = np.arange(len(y))
    counts = np.zeros(6)
    for _ in range(200):
        drawn = resample(indices, rng)
        # Class counts are kept, so the epoch size Keras fixed stays the same.
        np.testing.assert_array_equal(np.bincount(y[drawn]), np.bincount(y))
        counts += np.bincount(groups[drawn], minlength=6)
    for members in ([0, 1, 2], [3, 4, 5]):
        share = counts[members] / counts[members].sum()
        np.testing.assert_allclose(share, 1 / 3, atol=0.02)


def test_patient_balancer_is_reproducible():
    groups = np.repeat(np.arange(4), [3, 9, 5, 7])
    y = np.repeat([0, 0, 1, 1], [3, 9, 5, 7])
    a = patient_balancer(y, groups)(np.arange(24), np.random.default_rng(1))
    b = patient_balancer(y, groups)(np.arange(24), np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


def test_balance_patient_trains_and_composes_with_sampler_and_class_weight():
    X, y, groups = patient_data()
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:10]]
    clf = CNNClassifier(
        **SMALL_CNN,
        epochs=2,
        balance="patient",
        sampler=RandomUnderSampler(),
        class_weight="balanced",
    )
    clf.fit(X[keep], y[keep], groups=groups[keep])
    assert clf.n_iter_ == 2


def test_balance_patient_needs_groups():
    X, y, _ = patient_data()
    with pytest.raises(ValueError, match="balance='patient'.*groups=patients"):
        CNNClassifier(**SMALL_CNN, epochs=1, balance="patient").fit(X, y)


def test_partial_fit_takes_groups():
    X, y, groups = patient_data()
    clf = CNNClassifier(**SMALL_CNN, balance="patient")
    clf.partial_fit(X, y, classes=[0, 1], groups=groups)
    clf.partial_fit(X, y, groups=groups)
    assert clf.n_iter_ == 2


# ------------------------------------------------------------ routing
def test_groups_without_routing_through_params():
    X, y, groups = patient_data(n=72, n_patients=12)
    clf = CNNClassifier(**SMALL_CNN, epochs=1, early_stopping=True)
    result = cross_validate(
        clf,
        X,
        y,
        groups=groups,
        cv=StratifiedGroupKFold(2),
        params={"groups": groups},
        return_estimator=True,
    )
    for fitted in result["estimator"]:
        assert fitted.validation_groups_ is not None


def test_groups_with_metadata_routing():
    X, y, groups = patient_data(n=72, n_patients=12)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = CNNClassifier(**SMALL_CNN, epochs=1, early_stopping=True)
        clf.set_fit_request(groups=True, sample_weight=False)
        result = cross_validate(
            clf,
            X,
            y,
            cv=StratifiedGroupKFold(2),
            params={"groups": groups},
            return_estimator=True,
        )
        assert all(e.validation_groups_ is not None for e in result["estimator"])

        pipe = make_pipeline(FunctionTransformer(), clf)
        search = GridSearchCV(
            pipe, {"cnnclassifier__learning_rate": [0.01]}, cv=StratifiedGroupKFold(2)
        )
        search.fit(X, y, groups=groups)
        assert search.best_estimator_[-1].validation_groups_ is not None


def test_validation_groups_survive_save_and_load(tmp_path):
    X, y, groups = patient_data()
    clf = CNNClassifier(**SMALL_CNN, epochs=1, early_stopping=True).fit(
        X, y, groups=groups
    )
    skbreast.save(clf, tmp_path / "m.skb")
    loaded = skbreast.load(tmp_path / "m.skb")
    np.testing.assert_array_equal(loaded.validation_groups_, clf.validation_groups_)
    assert loaded.balance is None
