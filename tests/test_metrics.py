"""Tests for skbreast.metrics: clinical scores, patient-level scores and scorers."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_validate
from sklearn.utils import Bunch

from skbreast.metrics import (
    make_patient_scorer,
    patient_scores,
    sensitivity_score,
    sensitivity_scorer,
    specificity_score,
    specificity_scorer,
)

# Three patients with 2, 3 and 1 images. Images with score >= 0.5 are predicted
# positive: [1, 0, 0, 1, 0, 1], so images 1 and 3 are wrong.
Y_TRUE = np.array([1, 1, 0, 0, 0, 1])
Y_SCORE = np.array([0.9, 0.4, 0.2, 0.8, 0.1, 0.7])
GROUPS = np.array(["p1", "p1", "p2", "p2", "p2", "p3"])
# Per patient share of correct images: p1 1/2, p2 2/3, p3 1/1.
PATIENT_ACCURACY = (1 / 2 + 2 / 3 + 1) / 3
IMAGE_ACCURACY = 4 / 6


@pytest.fixture
def routing():
    """Enable metadata routing for one test and restore the previous config."""
    with sklearn.config_context(enable_metadata_routing=True):
        yield


# --------------------------------------------------------------------------------
# sensitivity_score / specificity_score


def test_sensitivity_specificity_known_values():
    # tn=3, fp=1, fn=1, tp=2
    y_true = [0, 0, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0, 1]
    assert sensitivity_score(y_true, y_pred) == pytest.approx(2 / 3)
    assert specificity_score(y_true, y_pred) == pytest.approx(3 / 4)
    assert isinstance(sensitivity_score(y_true, y_pred), float)
    assert isinstance(specificity_score(y_true, y_pred), float)


def test_specificity_is_sensitivity_with_swapped_classes():
    rng = np.random.RandomState(0)
    y_true = rng.randint(2, size=50)
    y_pred = rng.randint(2, size=50)
    assert specificity_score(y_true, y_pred) == pytest.approx(
        sensitivity_score(y_true, y_pred, pos_label=0)
    )
    assert specificity_score(y_true, y_pred) == pytest.approx(
        recall_score(y_true, y_pred, pos_label=0)
    )


def test_string_labels():
    y_true = ["benign", "malignant", "malignant", "benign", "benign"]
    y_pred = ["benign", "malignant", "benign", "malignant", "benign"]
    assert sensitivity_score(y_true, y_pred, pos_label="malignant") == 0.5
    assert specificity_score(y_true, y_pred, pos_label="malignant") == pytest.approx(
        2 / 3
    )
    # Swapping the positive class swaps the two rates.
    assert specificity_score(y_true, y_pred, pos_label="benign") == 0.5


def test_sample_weight():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 1, 1, 0]
    sample_weight = [1, 3, 2, 1]
    assert specificity_score(y_true, y_pred, sample_weight=sample_weight) == 0.25
    assert sensitivity_score(
        y_true, y_pred, sample_weight=sample_weight
    ) == pytest.approx(2 / 3)


@pytest.mark.parametrize("func", [sensitivity_score, specificity_score])
def test_multiclass_is_rejected(func):
    with pytest.raises(ValueError, match="binary problems only"):
        func([0, 1, 2, 1], [0, 1, 2, 2])
    # Each array binary, but three labels between them.
    with pytest.raises(ValueError, match="3 labels"):
        func([0, 0, 1, 1], [1, 1, 2, 2])


@pytest.mark.parametrize("func", [sensitivity_score, specificity_score])
def test_missing_pos_label_is_rejected(func):
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        func(["benign", "malignant"], ["benign", "benign"])
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        func([0, 1], [0, 1], pos_label=2)


@pytest.mark.parametrize("func", [sensitivity_score, specificity_score])
def test_string_labels_need_string_pos_label(func):
    with pytest.raises(ValueError, match="labels are strings"):
        func(["benign", "benign"], ["benign", "benign"])


def test_specificity_without_negatives():
    y = [1, 1, 1]
    with pytest.warns(UndefinedMetricWarning, match="no negative samples"):
        assert specificity_score(y, y) == 0.0
    assert specificity_score(y, y, zero_division=1.0) == 1.0
    assert np.isnan(specificity_score(y, y, zero_division=np.nan))


def test_only_negatives():
    y = ["benign", "benign"]
    assert specificity_score(y, y, pos_label="malignant") == 1.0
    with pytest.warns(UndefinedMetricWarning):
        assert sensitivity_score(y, y, pos_label="malignant") == 0.0


def test_length_mismatch():
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        specificity_score([0, 1, 0], [0, 1])


def test_invalid_zero_division():
    with pytest.raises(ValueError, match="zero_division"):
        specificity_score([0, 1], [0, 1], zero_division=0.5)


@pytest.mark.parametrize("enable_routing", [False, True])
def test_scorers_in_cross_validate(enable_routing):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    # Noisy labels so that neither rate is trivially 0 or 1.
    y = (X[:, 0] + rng.normal(scale=1.0, size=90) > 0.5).astype(int)
    cv = StratifiedKFold(3)
    with sklearn.config_context(enable_metadata_routing=enable_routing):
        result = cross_validate(
            LogisticRegression(),
            X,
            y,
            cv=cv,
            scoring={
                "sensitivity": sensitivity_scorer,
                "specificity": specificity_scorer,
            },
            return_estimator=True,
        )
    for fold, (_, test) in enumerate(cv.split(X, y)):
        y_pred = result["estimator"][fold].predict(X[test])
        assert result["test_sensitivity"][fold] == pytest.approx(
            recall_score(y[test], y_pred, pos_label=1)
        )
        assert result["test_specificity"][fold] == pytest.approx(
            recall_score(y[test], y_pred, pos_label=0)
        )
    assert 0 < result["test_sensitivity"].mean() < 1
    assert 0 < result["test_specificity"].mean() < 1


# --------------------------------------------------------------------------------
# patient_scores


def test_patient_scores_known_values():
    result = patient_scores(Y_TRUE, Y_SCORE, GROUPS)
    assert isinstance(result, Bunch)
    assert result.patient_accuracy == pytest.approx(PATIENT_ACCURACY)
    assert result.image_accuracy == pytest.approx(IMAGE_ACCURACY)
    # Mean scores: positives p1 0.65 and p3 0.7 both above negative p2 0.3667.
    assert result.roc_auc == 1.0

    rows = result.per_patient
    assert_array_equal(rows["patient"], ["p1", "p2", "p3"])
    assert_array_equal(rows["n_images"], [2, 3, 1])
    assert_array_equal(rows["label"], [1, 0, 1])
    assert_allclose(rows["score"], [0.65, 1.1 / 3, 0.7])
    assert_array_equal(rows["predicted_positive"], [True, False, True])
    assert_allclose(rows["share_correct"], [1 / 2, 2 / 3, 1])
    assert {len(v) for v in rows.values()} == {3}


@pytest.mark.parametrize(
    "aggregate, scores, predicted_positive, roc_auc",
    [
        ("mean", [0.65, 1.1 / 3, 0.7], [True, False, True], 1.0),
        ("median", [0.65, 0.2, 0.7], [True, False, True], 1.0),
        # p2's one suspicious image (0.8) outranks positive p3 (0.7).
        ("max", [0.9, 0.8, 0.7], [True, True, True], 0.5),
        (np.min, [0.4, 0.1, 0.7], [False, False, True], 1.0),
        (lambda s: np.percentile(s, 100), [0.9, 0.8, 0.7], [True, True, True], 0.5),
    ],
)
def test_patient_scores_aggregate(aggregate, scores, predicted_positive, roc_auc):
    result = patient_scores(Y_TRUE, Y_SCORE, GROUPS, aggregate=aggregate)
    assert_allclose(result.per_patient["score"], scores)
    assert_array_equal(result.per_patient["predicted_positive"], predicted_positive)
    assert result.roc_auc == roc_auc
    # Aggregation only shapes patient scores; image-based accuracies stay put.
    assert result.patient_accuracy == pytest.approx(PATIENT_ACCURACY)
    assert result.image_accuracy == pytest.approx(IMAGE_ACCURACY)


def test_patient_scores_threshold():
    # At 0.75 image 5 (score 0.7, positive) turns wrong: p3 drops to 0.
    result = patient_scores(Y_TRUE, Y_SCORE, GROUPS, threshold=0.75)
    assert result.image_accuracy == pytest.approx(3 / 6)
    assert result.patient_accuracy == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert_allclose(result.per_patient["share_correct"], [1 / 2, 2 / 3, 0])
    assert_array_equal(result.per_patient["predicted_positive"], [False] * 3)
    # Ranking does not depend on the threshold.
    assert result.roc_auc == 1.0


def test_patient_scores_score_equal_to_threshold_is_positive():
    result = patient_scores([1, 0], [0.5, 0.49], [0, 1])
    assert result.image_accuracy == 1.0
    assert_array_equal(result.per_patient["predicted_positive"], [True, False])


def test_patient_scores_string_labels():
    y_true = np.where(Y_TRUE == 1, "malignant", "benign")
    result = patient_scores(y_true, Y_SCORE, GROUPS, pos_label="malignant")
    assert result.patient_accuracy == pytest.approx(PATIENT_ACCURACY)
    assert result.image_accuracy == pytest.approx(IMAGE_ACCURACY)
    assert result.roc_auc == 1.0
    assert_array_equal(
        result.per_patient["label"], ["malignant", "benign", "malignant"]
    )

    # Read as scores of "benign", the same numbers rank patients the wrong way round.
    flipped = patient_scores(y_true, Y_SCORE, GROUPS, pos_label="benign")
    assert flipped.roc_auc == 0.0
    assert flipped.image_accuracy == pytest.approx(2 / 6)


def test_patient_scores_integer_groups_are_sorted():
    result = patient_scores([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3], [7, 3, 3, 7])
    assert_array_equal(result.per_patient["patient"], [3, 7])
    assert_array_equal(result.per_patient["label"], [1, 0])
    assert_array_equal(result.per_patient["n_images"], [2, 2])


def test_patient_accuracy_weighs_patients_equally():
    # One patient with 9 correct images, one with a single wrong image: per image
    # 90% right, per patient 50%.
    y_true = [1] * 9 + [0]
    y_score = [0.9] * 9 + [0.8]
    groups = [0] * 9 + [1]
    result = patient_scores(y_true, y_score, groups)
    assert result.image_accuracy == pytest.approx(0.9)
    assert result.patient_accuracy == pytest.approx(0.5)


def test_mixed_label_patients_take_majority_with_ties_positive():
    # Patient "a": 1 positive of 3 -> negative; "b": 1 of 2 (tie) -> positive;
    # "c": 2 of 3 -> positive.
    y_true = [1, 0, 0, 1, 0, 1, 1, 0]
    y_score = [0.6, 0.2, 0.3, 0.7, 0.4, 0.9, 0.8, 0.1]
    groups = ["a", "a", "a", "b", "b", "c", "c", "c"]
    result = patient_scores(y_true, y_score, groups)
    assert_array_equal(result.per_patient["label"], [0, 1, 1])
    # Every image is classified right, mixed patients included.
    assert result.patient_accuracy == 1.0
    assert_allclose(result.per_patient["score"], [1.1 / 3, 0.55, 0.6])
    assert result.roc_auc == 1.0


def test_single_patient_class_gives_nan_roc_auc():
    with pytest.warns(UndefinedMetricWarning, match="one class is present among"):
        result = patient_scores([1, 1, 1], [0.9, 0.2, 0.8], ["a", "a", "b"])
    assert np.isnan(result.roc_auc)
    assert result.patient_accuracy == pytest.approx((1 / 2 + 1) / 2)
    # Image labels mixed, patient labels not: still only one patient class.
    with pytest.warns(UndefinedMetricWarning):
        result = patient_scores([1, 0, 1, 1, 0, 1], [0.5] * 6, [0, 0, 0, 1, 1, 1])
    assert np.isnan(result.roc_auc)


@pytest.mark.parametrize(
    "y_score, groups, match",
    [
        (Y_SCORE, GROUPS[:5], "groups has 5 entries but y_true has 6"),
        (Y_SCORE[:4], GROUPS, "y_score has 4 entries but y_true has 6"),
        (np.r_[Y_SCORE[:5], np.nan], GROUPS, "NaN"),
        (np.r_[Y_SCORE[:5], np.inf], GROUPS, "infinity"),
    ],
)
def test_patient_scores_validates_inputs(y_score, groups, match):
    with pytest.raises(ValueError, match=match):
        patient_scores(Y_TRUE, y_score, groups)


def test_patient_scores_rejects_non_binary_targets():
    with pytest.raises(
        ValueError, match="binary problems only; y_true is 'multiclass'"
    ):
        patient_scores([0, 1, 2], [0.1, 0.2, 0.3], [0, 1, 2])
    with pytest.raises(ValueError, match="'continuous'"):
        patient_scores([0.5, 1.5, 2.5], [0.1, 0.2, 0.3], [0, 1, 2])


def test_patient_scores_rejects_bad_pos_label():
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        patient_scores(Y_TRUE, Y_SCORE, GROUPS, pos_label=2)
    # With one class present the default pos_label=1 would silently count every
    # string-labelled image as negative.
    with pytest.raises(ValueError, match="string labels"):
        patient_scores(["benign", "benign"], [0.1, 0.2], [0, 1])


def test_patient_scores_rejects_bad_aggregate():
    with pytest.raises(ValueError, match="aggregate"):
        patient_scores(Y_TRUE, Y_SCORE, GROUPS, aggregate="sum")
    with pytest.raises(ValueError, match="one finite number"):
        patient_scores(Y_TRUE, Y_SCORE, GROUPS, aggregate=lambda s: s)
    with pytest.raises(ValueError, match="one finite number"):
        patient_scores(Y_TRUE, Y_SCORE, GROUPS, aggregate=lambda s: np.nan)


# --------------------------------------------------------------------------------
# make_patient_scorer


def _patient_data(labels=(0, 1)):
    """Twelve patients of 3 to 6 images, one label per patient, noisy features."""
    rng = np.random.RandomState(42)
    n_images = rng.randint(3, 7, size=12)
    groups = np.repeat(np.arange(12), n_images)
    patient_label = np.array([0, 1] * 6)
    y = patient_label[groups]
    X = rng.normal(size=(groups.shape[0], 2)) + 1.2 * y[:, None]
    return X, np.asarray(labels)[y], groups


@pytest.mark.parametrize(
    "metric, aggregate, threshold",
    [
        ("patient_accuracy", "mean", 0.5),
        ("patient_accuracy", "mean", 0.3),
        ("roc_auc", "mean", 0.5),
        ("roc_auc", "max", 0.5),
    ],
)
def test_patient_scorer_in_cross_validate_matches_by_hand(
    routing, metric, aggregate, threshold
):
    X, y, groups = _patient_data()
    cv = GroupKFold(3)
    scorer = make_patient_scorer(metric, aggregate=aggregate, threshold=threshold)
    result = cross_validate(
        LogisticRegression(),
        X,
        y,
        cv=cv,
        params={"groups": groups},
        scoring={"patient": scorer},
        return_estimator=True,
        return_indices=True,
    )
    folds = list(cv.split(X, y, groups))
    assert len(result["test_patient"]) == 3
    for fold, (_, test) in enumerate(folds):
        # The splitter got the groups too: no patient on both sides of a fold.
        assert_array_equal(result["indices"]["test"][fold], test)
        estimator = result["estimator"][fold]
        expected = patient_scores(
            y[test],
            estimator.predict_proba(X[test])[:, 1],
            groups[test],
            aggregate=aggregate,
            threshold=threshold,
        )[metric]
        assert result["test_patient"][fold] == pytest.approx(expected)
    assert np.all(np.isfinite(result["test_patient"]))
    assert np.all(result["test_patient"] > 0.5)


def test_patient_scorer_gets_each_test_folds_groups(routing):
    # Guard against the scorer seeing the full groups array instead of the fold's:
    # patient_scores would then raise on the length mismatch.
    X, y, groups = _patient_data()
    result = cross_validate(
        LogisticRegression(),
        X,
        y,
        cv=GroupKFold(4),
        params={"groups": groups},
        scoring={
            "patient_accuracy": make_patient_scorer(),
            "patient_auc": make_patient_scorer("roc_auc"),
        },
        error_score="raise",
    )
    assert result["test_patient_accuracy"].shape == (4,)
    assert result["test_patient_auc"].shape == (4,)


def test_patient_scorer_string_labels_picks_pos_label_column(routing):
    X, y, groups = _patient_data(labels=("benign", "malignant"))
    estimator = LogisticRegression().fit(X, y)
    proba = estimator.predict_proba(X)
    for pos_label, column in (("malignant", 1), ("benign", 0)):
        scorer = make_patient_scorer("roc_auc", pos_label=pos_label)
        expected = patient_scores(y, proba[:, column], groups, pos_label=pos_label)
        assert scorer(estimator, X, y, groups=groups) == pytest.approx(expected.roc_auc)
        assert expected.roc_auc > 0.5


def test_patient_scorer_without_groups_raises(routing):
    X, y, groups = _patient_data()
    estimator = LogisticRegression().fit(X, y)
    scorer = make_patient_scorer()
    with pytest.raises(ValueError, match="needs the patient ids"):
        scorer(estimator, X, y)
    # The scorer does not warn about ROC AUC when only asked for accuracy, even
    # if all scored patients share one label.
    one_class = np.isin(groups, [1, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = scorer(estimator, X[one_class], y[one_class], groups=groups[one_class])
    assert 0 <= score <= 1


def test_patient_scorer_requests_groups(routing):
    scorer = make_patient_scorer()
    request = scorer.get_metadata_routing()
    assert request.score.requests["groups"] is True


def test_patient_scorer_pickles(routing):
    X, y, groups = _patient_data()
    estimator = LogisticRegression().fit(X, y)
    scorer = make_patient_scorer("roc_auc", aggregate="median")
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(estimator, X, y, groups=groups) == scorer(
        estimator, X, y, groups=groups
    )


def test_make_patient_scorer_needs_routing():
    with sklearn.config_context(enable_metadata_routing=False):
        with pytest.raises(RuntimeError, match="enable_metadata_routing=True"):
            make_patient_scorer()


def test_make_patient_scorer_validates_metric(routing):
    with pytest.raises(ValueError, match="metric"):
        make_patient_scorer("image_accuracy")
