"""Class imbalance: samplers inside fit, imbalanced-learn pipelines, routing."""

import numpy as np
import pytest
import sklearn
from conftest import SMALL_CNN, make_images
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import NearMiss, RandomUnderSampler
from numpy.testing import assert_array_equal
from PIL import Image
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from skbreast import CNNClassifier
from skbreast._training.sampling import make_resampler
from skbreast.metrics import make_patient_scorer, patient_scores


def _imbalanced(n_major=90, n_minor=10, size=6, seed=0):
    """Pure-noise images, 90/10: the only thing to learn is the class prior."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 255, size=(n_major + n_minor, size, size, 3)).astype(np.uint8)
    y = np.array(["benign"] * n_major + ["malignant"] * n_minor)
    return X, y


def test_resampler_draws_balanced_fresh_samples():
    labels = np.array([0] * 30 + [1] * 10)
    indices = np.arange(40)
    rng = np.random.default_rng(0)
    under = make_resampler(RandomUnderSampler(), labels)
    first, second = under(indices, rng), under(indices, rng)
    assert len(first) == len(second) == 20
    assert np.bincount(labels[first]).tolist() == [10, 10]
    assert not np.array_equal(np.sort(first), np.sort(second))  # a fresh draw
    over = make_resampler(RandomOverSampler(), labels)
    drawn = over(indices[5:], rng)  # a subset, e.g. after the validation split
    assert np.bincount(labels[drawn]).tolist() == [25, 25]
    assert set(drawn) <= set(indices[5:])


def test_sampling_strategy_uses_the_users_labels():
    labels = np.array(["benign"] * 30 + ["malignant"] * 10)
    resample = make_resampler(
        RandomUnderSampler(sampling_strategy={"benign": 15}), labels
    )
    drawn = resample(np.arange(40), np.random.default_rng(0))
    assert (labels[drawn] == "benign").sum() == 15


@pytest.mark.parametrize("sampler", [RandomOverSampler(), RandomUnderSampler()])
def test_sampler_rebalances_training(sampler):
    X, y = _imbalanced()
    # Few epochs: the prior is learnt first, memorising the minority images later.
    params = dict(SMALL_CNN, epochs=5)
    unseen, _ = _imbalanced(seed=1)  # the learned prior shows on unseen noise
    plain = CNNClassifier(**params).fit(X, y)
    balanced = CNNClassifier(**params, sampler=sampler).fit(X, y)
    assert plain.predict_proba(unseen)[:, 1].mean() < 0.2
    assert balanced.predict_proba(unseen)[:, 1].mean() > 0.3
    # The parameter itself is never fitted.
    assert not hasattr(sampler, "sample_indices_")


def test_class_weight_balanced_rebalances_training():
    X, y = _imbalanced()
    unseen, _ = _imbalanced(seed=1)
    clf = CNNClassifier(**SMALL_CNN, epochs=5, class_weight="balanced").fit(X, y)
    assert clf.predict_proba(unseen)[:, 1].mean() > 0.3


def test_sampler_with_file_paths(tmp_path):
    X, y = _imbalanced(n_major=24, n_minor=6)
    paths = []
    for i, image in enumerate(X):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    clf = CNNClassifier(**SMALL_CNN, epochs=2, sampler=RandomUnderSampler())
    clf.fit(np.array(paths), y)
    assert clf.predict(np.array(paths)).shape == (30,)


@pytest.mark.parametrize(
    "sampler, match",
    [
        (SMOTE(), "SMOTE"),
        (NearMiss(), "NearMiss"),
        (RandomOverSampler(shrinkage=0.5), "shrinkage"),
    ],
)
def test_samplers_that_need_pixels_point_to_the_pipeline(sampler, match):
    X, y = _imbalanced()
    with pytest.raises(ValueError, match=match) as info:
        CNNClassifier(**SMALL_CNN, epochs=1, sampler=sampler).fit(X, y)
    assert "imblearn.pipeline.make_pipeline" in str(info.value)


@pytest.mark.parametrize(
    "sampler",
    [
        RandomOverSampler(random_state=0),
        RandomUnderSampler(random_state=0),
        SMOTE(k_neighbors=3, random_state=0),
    ],
    ids=["over", "under", "smote"],
)
def test_imblearn_pipeline_on_flattened_images(sampler):
    X, y = make_images(n=80, size=6)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:12]]
    flat, y = X[keep].reshape(len(keep), -1), y[keep]
    if isinstance(sampler, SMOTE):
        # imbalanced-learn interpolates uint8 in uint8, which wraps around.
        flat = flat.astype(np.float32)
    pipe = make_pipeline(
        sampler, CNNClassifier(**SMALL_CNN, epochs=8, input_shape=(6, 6, 3))
    )
    scores = cross_val_score(pipe, flat, y, cv=2, scoring="roc_auc")
    assert np.all(np.isfinite(scores))
    grid = GridSearchCV(
        pipe, {"cnnclassifier__learning_rate": [0.01, 0.003]}, cv=2, scoring="recall"
    ).fit(flat, y)
    fitted = grid.best_estimator_[-1]
    assert fitted.image_shape_ == (6, 6, 3)
    # SMOTE interpolates uint8 pixels into floats in [0, 255]: still scaled by 1/255.
    assert fitted.input_scale_ == pytest.approx(1 / 255)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_sample_weight_routed_through_pipeline_and_search(routing):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(64, 6, 6, 3)).astype(np.uint8)
    y = np.arange(64) % 2
    weights = np.where(y == 1, 1.0, 1e-3)
    clf = (
        CNNClassifier(**SMALL_CNN, epochs=10)
        .set_fit_request(sample_weight=True)
        .set_score_request(sample_weight=True)
    )
    grid = GridSearchCV(Pipeline([("cnn", clf)]), {"cnn__batch_size": [16]}, cv=2)
    grid.fit(X, y, sample_weight=weights)
    # The weights reached the score too: a failed scoring would give NaN.
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    # Class 0 weighed almost nothing, so the model predicts class 1 nearly always.
    assert np.mean(grid.predict(X) == 1) > 0.9


def test_groups_routed_to_patient_scorer(routing):
    X, y = make_images(n=48)
    groups = np.repeat(np.arange(8), 6)
    clf = CNNClassifier(**SMALL_CNN, epochs=5)
    result = cross_validate(
        clf,
        X,
        y,
        cv=GroupKFold(4),
        params={"groups": groups},
        scoring={"patient_accuracy": make_patient_scorer(), "roc_auc": "roc_auc"},
        return_estimator=True,
        return_indices=True,
    )
    for fold, (est, test) in enumerate(
        zip(result["estimator"], result["indices"]["test"])
    ):
        expected = patient_scores(
            y[test], est.predict_proba(X[test])[:, 1], groups[test]
        ).patient_accuracy
        assert result["test_patient_accuracy"][fold] == pytest.approx(expected)


def test_groups_of_wrong_length():
    with pytest.raises(ValueError, match="groups"):
        patient_scores([0, 1, 1], [0.2, 0.8, 0.6], groups=["a", "b"])


def test_sampler_keeps_the_prediction_contract():
    X, y = _imbalanced()
    clf = CNNClassifier(**SMALL_CNN, epochs=1, sampler=RandomUnderSampler()).fit(X, y)
    assert_array_equal(clf.classes_, ["benign", "malignant"])
