"""The estimators in scikit-learn pipelines, searches, scorers, meta-estimators."""

import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images
from sklearn.base import is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skbreast import CNNClassifier, ResNetClassifier

SCORERS = [
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
    "balanced_accuracy",
    "neg_log_loss",
]


@pytest.mark.parametrize("estimator", [CNNClassifier(), ResNetClassifier()])
def test_is_a_classifier(estimator):
    assert is_classifier(estimator)
    # Classifiers get stratified folds from integer cv.
    assert isinstance(check_cv(3, [0, 1] * 5, classifier=True), StratifiedKFold)


def test_pipeline_on_flattened_images():
    X, y = make_images()
    flat = X.reshape(len(X), -1)
    pipe = make_pipeline(
        FunctionTransformer(lambda Z: Z.astype(np.float32) / 255),
        CNNClassifier(**SMALL_CNN, epochs=10, input_shape=(8, 8, 3)),
    )
    pipe.fit(flat, y)
    assert pipe.score(flat, y) > 0.9
    assert pipe[-1].input_scale_ == 1.0


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_architecture_and_optimizer(n_jobs):
    X, y = make_images()
    grid = GridSearchCV(
        CNNClassifier(epochs=3, random_state=0),
        {
            "filters": [(4,), (4, 8)],
            "dense_units": [(8,)],
            "optimizer": ["adam", "sgd"],
            "learning_rate": [0.01],
        },
        cv=2,
        scoring="roc_auc",
        n_jobs=n_jobs,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_.n_iter_ == 3


def test_cross_val_score_with_patient_groups():
    X, y = make_images(n=48)
    groups = np.repeat(np.arange(8), 6)
    scores = cross_val_score(
        CNNClassifier(**SMALL_CNN, epochs=8),
        X,
        y,
        groups=groups,
        cv=GroupKFold(4),
        scoring="roc_auc",
    )
    assert scores.shape == (4,) and scores.mean() > 0.8


@pytest.mark.parametrize(
    "estimator",
    [CNNClassifier(**SMALL_CNN, epochs=8), ResNetClassifier(**SMALL_RESNET, epochs=8)],
    ids=["cnn", "resnet"],
)
def test_every_standard_scorer(estimator):
    X, y = make_images()
    result = cross_validate(estimator, X, y, cv=2, scoring=SCORERS)
    for name in SCORERS:
        values = result[f"test_{name}"]
        assert np.all(np.isfinite(values)), name
    assert result["test_roc_auc"].mean() > 0.8


def test_calibrated_classifier():
    X, y = make_images()
    calibrated = CalibratedClassifierCV(CNNClassifier(**SMALL_CNN, epochs=5), cv=2)
    calibrated.fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(axis=1), 1)


def test_tuned_threshold_classifier():
    X, y = make_images()
    tuned = TunedThresholdClassifierCV(
        CNNClassifier(**SMALL_CNN, epochs=5), scoring="recall", cv=2
    ).fit(X, y)
    assert 0.0 <= tuned.best_threshold_ <= 1.0
    assert tuned.predict(X).shape == (60,)
