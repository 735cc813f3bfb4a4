"""compare_models and its result: known values, invariants, bad input.

Plain scikit-learn classifiers on small feature tables keep these tests fast; one
test runs a tiny skbreast CNN to check that patients reach its fit.
"""

import warnings

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import GroupKFold, KFold, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skbreast.metrics import patient_scores
from skbreast.model_selection import (
    PatientShuffleSplit,
    RepeatedStratifiedGroupKFold,
    bootstrap_ci,
    compare_models,
    corrected_ttest,
    delong_test,
    expected_calibration_error,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)


def patient_data(n_patients=24, per_patient=5, shift=0.8, seed=0, labels=None):
    """Features of patients with a shared patient effect; every other one malignant."""
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_patients), per_patient)
    positive = groups % 2 == 1
    effect = rng.normal(scale=0.5, size=(n_patients, 3))[groups]
    X = rng.normal(size=(len(groups), 3)) + effect + shift * positive[:, None]
    y = positive.astype(int) if labels is None else np.where(positive, *labels[::-1])
    return X, y, groups


def one_class_folds(y, groups):
    """Three folds: benign patients only, malignant patients only, the rest."""
    return np.where(groups < 8, y, 2)


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return func(*args, **kwargs)


class GroupRecorder(ClassifierMixin, BaseEstimator):
    """A logistic regression whose fit takes (and records) the patients."""

    def fit(self, X, y, groups=None):
        self.groups_seen_ = None if groups is None else np.asarray(groups)
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


class Relabeller(ClassifierMixin, BaseEstimator):
    """Learns other labels than the ones it is given."""

    def fit(self, X, y):
        self.classes_ = np.array(["no", "yes"])
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


class PredictOnly(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class NaNScores(Relabeller):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), np.nan)


@pytest.fixture(scope="module")
def two_models():
    X, y, groups = patient_data(labels=("benign", "malignant"))
    result = compare_models(
        {
            "logistic": LogisticRegression(),
            "scaled": make_pipeline(StandardScaler(), LogisticRegression(C=0.05)),
        },
        X,
        y,
        groups=groups,
        cv=4,
        random_state=0,
    )
    return X, y, groups, result


# --- known values -------------------------------------------------------------------


def test_fold_metrics_match_scikit_learn(two_models):
    _, y, groups, result = two_models
    p = result.predictions["logistic"]
    for k in range(result.n_splits):
        mine = p["split"] == k
        y_true = (p["y_true"][mine] == "malignant").astype(int)
        y_pred = (p["y_pred"][mine] == "malignant").astype(int)
        score = p["y_score"][mine]
        expected = {
            "accuracy": accuracy_score(y_true, y_pred),
            "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
            "precision": precision_score(y_true, y_pred),
            "recall": recall_score(y_true, y_pred),
            "specificity": recall_score(y_true, y_pred, pos_label=0),
            "f1": f1_score(y_true, y_pred),
            "roc_auc": roc_auc_score(y_true, score),
            "brier_score": brier_score_loss(y_true, score),
            "expected_calibration_error": expected_calibration_error(y_true, score),
            "sensitivity_at_90_specificity": sensitivity_at_specificity(
                y_true, score, specificity=0.9
            ),
            "sensitivity_at_95_specificity": sensitivity_at_specificity(
                y_true, score, specificity=0.95
            ),
            "specificity_at_95_sensitivity": specificity_at_sensitivity(
                y_true, score, sensitivity=0.95
            ),
        }
        patients = patient_scores(y_true, score, groups[p["index"][mine]])
        expected["patient_accuracy"] = patients.patient_accuracy
        expected["patient_roc_auc"] = patients.roc_auc
        for metric, value in expected.items():
            assert result.fold_scores["logistic"][metric][k] == pytest.approx(
                value, abs=1e-12
            ), metric
    # Predictions are what predict() returns.
    est = LogisticRegression().fit(*_train(result, 0, *two_models[:2]))
    test = result.splits[0][1]
    np.testing.assert_array_equal(
        p["y_pred"][p["split"] == 0], est.predict(two_models[0][test])
    )


def _train(result, k, X, y):
    train = result.splits[k][0]
    return X[train], y[train]


@pytest.mark.parametrize("with_groups", [True, False])
def test_intervals_are_bootstrap_ci_on_the_same_resamples(with_groups):
    X, y, groups = patient_data(n_patients=30, per_patient=4)
    result = quiet(
        compare_models,
        [LogisticRegression()],
        X,
        y,
        groups=groups if with_groups else None,
        cv=3,
        random_state=7,
    )
    table = result.summary(n_resamples=300)
    rows = {m: i for i, m in enumerate(table["metric"])}
    p = result.pooled()
    y01 = p.is_positive.astype(int)
    g = p.groups
    checks = {
        "roc_auc": bootstrap_ci(
            y01, p.y_score, groups=g, n_resamples=300, random_state=7
        ),
        "accuracy": bootstrap_ci(
            y01,
            (p.y_pred == 1).astype(int),
            groups=g,
            n_resamples=300,
            random_state=7,
            metric=accuracy_score,
        ),
        "brier_score": bootstrap_ci(
            y01,
            p.y_score,
            groups=g,
            n_resamples=300,
            random_state=7,
            metric=brier_score_loss,
        ),
        "f1": bootstrap_ci(
            y01,
            (p.y_pred == 1).astype(int),
            groups=g,
            n_resamples=300,
            random_state=7,
            metric=f1_score,
        ),
    }
    for metric, expected in checks.items():
        i = rows[metric]
        assert table["unit"][i] == ("patient" if with_groups else "image")
        assert table["estimate"][i] == pytest.approx(expected.estimate, abs=1e-12)
        assert table["ci_low"][i] == pytest.approx(
            expected.confidence_interval[0], abs=1e-12
        ), metric
        assert table["ci_high"][i] == pytest.approx(
            expected.confidence_interval[1], abs=1e-12
        ), metric


def test_every_interval_contains_its_estimate(two_models):
    table = two_models[3].summary(n_resamples=300)
    for lo, est, hi in zip(table["ci_low"], table["estimate"], table["ci_high"]):
        if np.isfinite(lo):
            assert lo <= est <= hi


def test_compare_known_values(two_models):
    _, y, _, result = two_models
    c = result.compare("scaled", "logistic")
    sizes = [(len(tr), len(te)) for tr, te in result.splits]
    expected = corrected_ttest(
        result.fold_scores["scaled"]["roc_auc"],
        result.fold_scores["logistic"]["roc_auc"],
        n_train=[a for a, _ in sizes],
        n_test=[b for _, b in sizes],
    )
    assert c.mean_difference == pytest.approx(expected.mean_difference)
    assert c.p_value == pytest.approx(expected.p_value)
    assert c.confidence_interval == pytest.approx(expected.confidence_interval)
    pa, pb = result.pooled("scaled"), result.pooled("logistic")
    delong = delong_test(pa.is_positive, pa.y_score, pb.y_score, pos_label=True)
    assert c.delong.p_value == pytest.approx(delong.p_value)
    lo, hi = c.bootstrap.confidence_interval
    assert lo <= c.bootstrap.estimate <= hi
    assert c.bootstrap.estimate == pytest.approx(
        roc_auc_score(pa.is_positive, pa.y_score)
        - roc_auc_score(pb.is_positive, pb.y_score)
    )
    assert c.sentence.startswith("scaled − logistic ROC AUC ")
    assert "(95% CI " in c.sentence and "p " in c.sentence
    assert ("no evidence of a difference" in c.sentence) == (c.p_value >= 0.05)
    assert "independent" in c.delong_sentence and "patient bootstrap" in (
        c.bootstrap_sentence
    )
    # Default order: the second model against the first (the baseline).
    assert result.compare().a == "scaled"
    brier = result.compare("scaled", "logistic", metric="brier_score")
    assert brier.delong is None and "Brier score" in brier.sentence


def test_patient_table_worst_first(two_models):
    _, y, groups, result = two_models
    table = result.patient_table("logistic")
    assert list(table) == ["patient", "label", "images", "mean_score", "share_correct"]
    assert len(table["patient"]) == 24 and set(table["images"]) == {5}
    assert table["share_correct"] == sorted(table["share_correct"])
    p = result.pooled("logistic")
    first = table["patient"][0]
    mine = p.groups == first
    assert table["mean_score"][0] == pytest.approx(p.y_score[mine].mean())
    assert table["share_correct"][0] == pytest.approx(
        np.mean(p.y_pred[mine] == p.y_true[mine])
    )
    assert table["label"][0] == y[groups == first][0]
    worst = result.worst_images("logistic", n=4)
    errors = np.abs((p.y_true == "malignant") - p.y_score)
    assert np.abs((worst.y_true == "malignant") - worst.y_score)[0] == errors.max()
    spread = result.worst_images("logistic", n=8, max_per_patient=1)
    assert len(set(spread.patient.tolist())) == 8
    assert spread.index[0] == worst.index[0]


# --- folds, estimators, routing ------------------------------------------------------


def test_default_folds_are_by_patient_and_shared_by_all_models(two_models):
    _, _, groups, result = two_models
    assert result.by_patient and result.unit == "patient"
    assert "StratifiedGroupKFold" in result.cv_description
    assert "by patient" in result.cv_description
    for train, test in result.splits:
        assert not set(groups[train]) & set(groups[test])
    for key in ("index", "split"):
        np.testing.assert_array_equal(
            result.predictions["logistic"][key], result.predictions["scaled"][key]
        )
    assert result.pooling == "first" and result.leakage.total == 0


def test_repeats_and_pooling():
    X, y, groups = patient_data()
    result = compare_models(
        [LogisticRegression(), DummyClassifier()],
        X,
        y,
        groups=groups,
        cv=3,
        n_repeats=2,
        random_state=0,
    )
    assert isinstance(result.cv, RepeatedStratifiedGroupKFold)
    assert result.repeat.tolist() == [0, 0, 0, 1, 1, 1]
    # The first repeat scores every sample once.
    assert result.pooling == "first" and "other 1 repeats" in result.pooling_description
    np.testing.assert_array_equal(
        result.pooled("LogisticRegression").index, np.arange(len(y))
    )
    assert result.compare().n_folds == 6


def test_spanhol_protocol_averages_over_trials():
    X, y, groups = patient_data(n_patients=20)
    cv = PatientShuffleSplit(n_splits=5, test_size=0.3, random_state=0)
    result = compare_models(
        [LogisticRegression()], X, y, groups=groups, cv=cv, random_state=0
    )
    assert result.pooling == "mean" and result.n_splits == 5
    p = result.pooled()
    raw = result.predictions["LogisticRegression"]
    i = p.index[0]
    assert p.y_score[0] == pytest.approx(raw["y_score"][raw["index"] == i].mean())
    assert "patient_accuracy" in result.metrics


def test_pipelines_and_groups_reach_fit_where_accepted():
    X, y, groups = patient_data()
    result = compare_models(
        {
            "recorder": GroupRecorder(),
            "pipeline": make_pipeline(StandardScaler(), LogisticRegression()),
            "imblearn": make_imb_pipeline(
                RandomUnderSampler(random_state=0), LogisticRegression()
            ),
        },
        X,
        y,
        groups=groups,
        cv=3,
        random_state=0,
        return_estimator=True,
    )
    assert result.groups_passed_to_fit == {
        "recorder": True,
        "pipeline": False,
        "imblearn": False,
    }
    for est, (train, _) in zip(result.estimators["recorder"], result.splits):
        np.testing.assert_array_equal(est.groups_seen_, groups[train])
    assert np.isfinite(result.fold_scores["imblearn"]["roc_auc"]).all()


def test_decision_function_model():
    X, y, groups = patient_data()
    result = compare_models(
        [LinearSVC(), LogisticRegression()], X, y, groups=groups, cv=3, random_state=0
    )
    assert result.score_kind["LinearSVC"] == "decision_function"
    assert np.isfinite(result.fold_scores["LinearSVC"]["roc_auc"]).all()
    assert np.isnan(result.fold_scores["LinearSVC"]["brier_score"]).all()
    note = result.fold_notes["LinearSVC"]["brier_score"][0]
    assert "no predict_proba" in note
    table = result.summary(n_resamples=200)
    i = table["model"].index("LinearSVC") + table["metric"].index("brier_score")
    assert "no predict_proba" in table["note"][i]
    ax = result.plot_calibration()  # the SVM is named in the legend, not drawn
    assert "LinearSVC: no predict_proba" in " ".join(
        t.get_text() for t in ax.get_legend().get_texts()
    )
    with pytest.raises(ValueError, match="needs probabilities"):
        compare_models([LinearSVC()], X, y, groups=groups, cv=3).plot_calibration()


def test_by_image_split_warns_and_resamples_images():
    X, y, _ = patient_data()
    with pytest.warns(UserWarning, match="split by image"):
        result = compare_models([LogisticRegression()], X, y, cv=3, random_state=0)
    assert result.unit == "image" and not result.by_patient
    assert "by image" in result.cv_description
    assert "patient_accuracy" not in result.metrics
    with pytest.raises(ValueError, match="needs patients"):
        result.patient_table()


def test_splitter_that_shares_patients_is_reported():
    X, y, groups = patient_data()
    with pytest.warns(UserWarning, match="patients on both sides"):
        result = compare_models(
            [LogisticRegression()],
            X,
            y,
            groups=groups,
            cv=KFold(3, shuffle=True, random_state=0),
        )
    assert not result.by_patient and sum(result.leakage.shared_patients) > 0


@pytest.mark.parametrize("kind", ["images", "features"])
def test_duplicates_across_splits_are_counted(kind):
    X, y, groups = patient_data()
    if kind == "images":
        X, _ = make_images(n=len(y), size=6, seed=1)
    X = X.copy()
    # Patient 1's first two images reappear as patient 3's (same class).
    rows3 = np.flatnonzero(groups == 3)[:2]
    X[rows3] = X[np.flatnonzero(groups == 1)[:2]]
    cv = GroupKFold(n_splits=4)
    with pytest.warns(UserWarning, match="identical copy in their training set"):
        result = compare_models([DummyClassifier()], X, y, groups=groups, cv=cv)
    splits_apart = sum(
        1 for train, test in result.splits if (1 in groups[test]) != (3 in groups[test])
    )
    # Every split that separates patients 1 and 3 tests two copies.
    assert result.leakage.total == 2 * splits_apart
    assert result.leakage.n_duplicated == 4
    assert result.leakage.what == (
        "pixel-identical images" if kind == "images" else "identical rows"
    )


def test_duplicate_files_are_found_by_bytes(tmp_path):
    paths = []
    for i in range(12):
        path = tmp_path / f"img{i}.bin"
        path.write_bytes(b"same" if i in (0, 11) else f"image {i}".encode())
        paths.append(str(path))
    X = np.array(paths)
    y = np.arange(12) % 2
    groups = np.arange(12) // 2
    with pytest.warns(UserWarning, match="byte-identical"):
        result = compare_models(
            [DummyClassifier()], X, y, groups=groups, cv=GroupKFold(3)
        )
    assert result.leakage.n_duplicated == 2 and result.leakage.total == 2


def test_skbreast_cnn_receives_the_patients():
    X, y = make_images(n=48, size=8)
    groups = np.arange(48) // 4
    from skbreast import CNNClassifier

    result = compare_models(
        {"cnn": CNNClassifier(epochs=1, **SMALL_CNN)},
        X,
        y,
        groups=groups,
        cv=2,
        random_state=0,
        return_estimator=True,
    )
    assert result.groups_passed_to_fit["cnn"]
    assert result.histories["cnn"] and len(result.estimators["cnn"]) == 2
    assert result.leakage.what == "pixel-identical images"


def test_scoring_subset_and_custom_metric():
    X, y, groups = patient_data()
    result = compare_models(
        [LogisticRegression()],
        X,
        y,
        groups=groups,
        cv=3,
        random_state=0,
        scoring={"auc": "roc_auc", "ap": average_precision_score},
    )
    assert result.metrics == ["roc_auc", "ap"]
    p = result.predictions["LogisticRegression"]
    mine = p["split"] == 0
    assert result.fold_scores["LogisticRegression"]["ap"][0] == pytest.approx(
        average_precision_score(p["y_true"][mine], p["y_score"][mine])
    )
    table = result.summary(n_resamples=200)
    lo, est, hi = table["ci_low"][1], table["estimate"][1], table["ci_high"][1]
    assert lo <= est <= hi and table["metric"][1] == "ap"


def test_pos_label_and_reproducibility():
    X, y, groups = patient_data(labels=("benign", "malignant"))
    a = compare_models(
        [LogisticRegression()],
        X,
        y,
        groups=groups,
        cv=3,
        pos_label="benign",
        random_state=3,
    )
    b = compare_models(
        [LogisticRegression()],
        X,
        y,
        groups=groups,
        cv=3,
        pos_label="benign",
        random_state=3,
    )
    assert a.pos_label == "benign" and a.neg_label == "malignant"
    assert a.summary(n_resamples=100) == b.summary(n_resamples=100)
    p = a.pooled()
    assert roc_auc_score(p.y_true == "benign", p.y_score) > 0.6


# --- bad input ----------------------------------------------------------------------


def test_test_fold_with_one_class_is_na_with_a_reason():
    X, y, groups = patient_data()
    fold = one_class_folds(y, groups)
    result = compare_models(
        [LogisticRegression()],
        X,
        y,
        groups=groups,
        cv=PredefinedSplit(fold),
        random_state=0,
    )
    scores = result.fold_scores["LogisticRegression"]
    assert np.isnan(scores["roc_auc"][:2]).all() and np.isfinite(scores["roc_auc"][2])
    assert np.isfinite(scores["accuracy"]).all()
    notes = result.fold_notes["LogisticRegression"]
    assert notes["roc_auc"] == [
        "split 1: the test set holds one class only (0)",
        "split 2: the test set holds one class only (1)",
    ]
    assert notes["recall"] == ["split 1: no 1 image in the test set"]
    assert notes["specificity"] == ["split 2: no 0 image in the test set"]
    table = result.summary(n_resamples=100)
    i = table["metric"].index("roc_auc")
    assert table["n_folds"][i] == 1 and "n/a on 2 of 3 folds" in table["note"][i]
    assert np.isfinite(table["ci_low"][i])  # the pooled predictions hold both


def test_undefined_precision_is_na_with_a_reason():
    X, y, groups = patient_data()
    result = compare_models(
        [DummyClassifier(strategy="constant", constant=0)],
        X,
        y,
        groups=groups,
        cv=3,
    )
    assert np.isnan(result.fold_scores["DummyClassifier"]["precision"]).all()
    assert (
        "no image was predicted 1"
        in (result.fold_notes["DummyClassifier"]["precision"][0])
    )


def test_training_fold_with_one_class_raises():
    X, y, groups = patient_data()
    fold = np.where(y == 1, 0, 1)  # training on fold 0's complement: benign only
    with pytest.raises(ValueError, match="training set holds one class only"):
        compare_models(
            [LogisticRegression()], X, y, cv=PredefinedSplit(fold), groups=groups
        )


@pytest.mark.parametrize(
    "estimators, error, match",
    [
        ({"a": Relabeller()}, ValueError, "learned classes_"),
        ({"a": PredictOnly()}, TypeError, "neither predict_proba nor"),
        ({"a": LinearRegression()}, TypeError, "compares classifiers"),
        ({"a": NaNScores()}, ValueError, "NaN or infinite scores"),
        ({}, ValueError, "empty"),
        (LogisticRegression(), TypeError, "a single LogisticRegression"),
        (
            [("a", LogisticRegression()), ("a", DummyClassifier())],
            ValueError,
            "named 'a'",
        ),
    ],
)
def test_bad_estimators(estimators, error, match):
    X, y, groups = patient_data()
    with pytest.raises(error, match=match):
        compare_models(estimators, X, y, groups=groups, cv=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cv=30), "need at least 30 patients"),
        (dict(cv=GroupKFold(3), n_repeats=2), "n_repeats=2 applies to an integer cv"),
        (dict(cv=1), "at least 2 folds"),
        (dict(scoring=["nope"]), "Unknown metric 'nope'"),
        (dict(pos_label=5), "pos_label=5 is not one of the labels"),
        (dict(pooling="median"), "pooling must be"),
    ],
)
def test_bad_settings(kwargs, match):
    X, y, groups = patient_data()
    with pytest.raises(ValueError, match=match):
        compare_models([LogisticRegression()], X, y, groups=groups, **kwargs)


def test_bad_targets_and_protocol_without_patients():
    X, y, groups = patient_data()
    with pytest.raises(ValueError, match="binary classifiers"):
        compare_models([LogisticRegression()], X, groups % 3, groups=groups, cv=3)
    with pytest.raises(ValueError, match="Spanhol protocol needs patient groups"):
        quiet(compare_models, [LogisticRegression()], X, y, cv=PatientShuffleSplit())
    with pytest.raises(ValueError, match="patient-level metric"):
        quiet(
            compare_models,
            [LogisticRegression()],
            X,
            y,
            cv=3,
            scoring=["patient_accuracy"],
        )


def test_compare_needs_two_known_models(two_models):
    X, y, groups, result = two_models
    one = compare_models([LogisticRegression()], X, y, groups=groups, cv=3)
    with pytest.raises(ValueError, match="compare needs two models"):
        one.compare()
    assert one.comparisons() == []
    with pytest.raises(ValueError, match="Unknown model 'cnn'"):
        result.compare("cnn", "logistic")
    with pytest.raises(ValueError, match="two different models"):
        result.compare("logistic", "logistic")
    with pytest.raises(ValueError, match="Unknown metric"):
        result.compare(metric="auc")
    three = compare_models(
        [LogisticRegression(), DummyClassifier(), LinearSVC()],
        X,
        y,
        groups=groups,
        cv=3,
    )
    with pytest.raises(ValueError, match="Name the two models"):
        three.compare()
    assert len(three.comparisons()) == 3


def test_t_test_na_when_too_few_folds_defined():
    X, y, groups = patient_data()
    fold = one_class_folds(y, groups)
    result = compare_models(
        [LogisticRegression(), DummyClassifier()],
        X,
        y,
        groups=groups,
        cv=PredefinedSplit(fold),
    )
    c = result.compare(metric="roc_auc")
    assert c.ttest is None and np.isnan(c.p_value)
    assert "n/a (the metric is defined for both models on 1 of 3 folds" in c.sentence


def test_plot_roc_skips_one_class_folds():
    X, y, groups = patient_data()
    fold = one_class_folds(y, groups)
    result = compare_models(
        [LogisticRegression()], X, y, groups=groups, cv=PredefinedSplit(fold)
    )
    ax = result.plot_roc()
    assert len(ax.get_lines()) == 3  # one fold, its mean, chance
