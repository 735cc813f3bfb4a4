"""The decision threshold: ``threshold=`` of the classifiers and ``threshold_``.

A string threshold is chosen on the early-stopping validation patients of each
fit, never on test data; predict, decision_function, saved files, compare_models
and the fold metrics all follow the fitted ``threshold_``.
"""

import json
import warnings
import zipfile

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from scipy.special import logit
from sklearn.metrics import balanced_accuracy_score, f1_score

import skbreast
from skbreast import CNNClassifier
from skbreast._training import fit_loop
from skbreast._training.threshold import choose_threshold
from skbreast.model_selection import compare_models

N_PATIENTS, PER_PATIENT = 40, 4


def patient_images(seed=0):
    """Imbalanced (about 30% positive), noisy 8x8 images of 40 patients."""
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(N_PATIENTS), PER_PATIENT)
    y = (rng.rand(len(groups)) < 0.3).astype(int)
    X = rng.randint(0, 150, size=(len(y), 8, 8, 3))
    X[:, 2:6, 2:6, :] += (y * 60)[:, None, None, None]
    return X.astype(np.uint8), y, groups


class ChooserSpy:
    """Records every call of ``choose_threshold`` made by the fit loop."""

    def __init__(self):
        self.calls = []

    def __call__(self, y, indices, scores, metric):
        self.calls.append(
            dict(y=np.array(y), indices=np.array(indices), scores=np.array(scores))
        )
        return choose_threshold(y, indices, scores, metric)


@pytest.fixture(scope="module")
def tuned():
    """A CNN with threshold="balanced_accuracy", fitted without the test patients."""
    X, y, groups = patient_images()
    test = groups >= 30  # patients 30-39 are never shown to fit
    spy = ChooserSpy()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fit_loop, "choose_threshold", spy)
        clf = CNNClassifier(
            threshold="balanced_accuracy",
            early_stopping=True,
            validation_fraction=0.25,
            epochs=3,
            **SMALL_CNN,
        ).fit(X[~test], y[~test], groups=groups[~test])
    return clf, spy, X, y, groups, test


def test_default_threshold_predicts_as_before():
    X, y = make_images(n=40, size=8)
    clf = CNNClassifier(epochs=1, **SMALL_CNN).fit(X, y)
    assert clf.threshold == 0.5 and clf.threshold_ == 0.5
    proba = clf.predict_proba(X)[:, 1]
    decision = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(proba > 0.5) * 1])
    # The unshifted logits, as before the parameter existed.
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(decision > 0) * 1])
    np.testing.assert_allclose(decision, logit(proba), rtol=1e-6, atol=1e-9)


def test_float_threshold_is_used_as_is():
    X, y = make_images(n=40, size=8)
    clf = CNNClassifier(epochs=1, threshold=0.3, **SMALL_CNN).fit(X, y)
    assert clf.threshold_ == 0.3
    proba = clf.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(proba > 0.3) * 1])
    np.testing.assert_allclose(
        clf.decision_function(X), logit(proba) - logit(0.3), rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("threshold", [0.0, 1.0, "accuracy"])
def test_invalid_threshold_is_refused(threshold):
    X, y = make_images(n=20, size=8)
    with pytest.raises(ValueError, match="threshold"):
        CNNClassifier(threshold=threshold, **SMALL_CNN).fit(X, y)


def test_chooser_candidates_and_ties():
    y = np.array([0, 0, 1, 1])
    # Perfectly separated at any t in (0.3, 0.6): the candidate 0.5 is kept.
    assert choose_threshold(y, np.arange(4), [0.1, 0.3, 0.6, 0.9], "f1") == 0.5
    # Separable only below 0.5: the midpoint between 0.2 and 0.3.
    t = choose_threshold(y, np.arange(4), [0.1, 0.2, 0.3, 0.4], "balanced_accuracy")
    assert t == pytest.approx(0.25)
    assert choose_threshold(y, np.array([0, 1]), [0.2, 0.7], "f1") is None


def test_string_threshold_maximises_balanced_accuracy_on_validation_patients(tuned):
    clf, spy, X, y, groups, test = tuned
    assert len(spy.calls) == 1
    X_train, y_train, g_train = X[~test], y[~test], groups[~test]
    validation = np.isin(g_train, clf.validation_groups_)
    proba = clf.predict_proba(X_train[validation])[:, 1]
    unique = np.unique(proba)
    candidates = np.append((unique[:-1] + unique[1:]) / 2, 0.5)
    scores = [
        balanced_accuracy_score(y_train[validation], proba > t) for t in candidates
    ]
    chosen = balanced_accuracy_score(y_train[validation], proba > clf.threshold_)
    assert chosen == pytest.approx(max(scores))
    assert np.isclose(candidates, clf.threshold_).any()
    # The chooser saw exactly these probabilities.
    np.testing.assert_allclose(np.sort(spy.calls[0]["scores"]), np.sort(proba))


def test_threshold_never_sees_test_patients(tuned):
    clf, spy, X, y, groups, test = tuned
    (call,) = spy.calls
    g_train = groups[~test]
    seen = np.unique(g_train[call["indices"]])
    np.testing.assert_array_equal(seen, clf.validation_groups_)
    assert not np.isin(seen, groups[test]).any()
    np.testing.assert_array_equal(call["y"], y[~test])


def test_decision_function_agrees_with_predict(tuned):
    clf, _, X, _, _, test = tuned
    decision = clf.decision_function(X[test])
    predicted = clf.predict(X[test]) == clf.classes_[1]
    np.testing.assert_array_equal(decision > 0, predicted)
    proba = clf.predict_proba(X[test])[:, 1]
    np.testing.assert_array_equal(predicted, proba > clf.threshold_)
    np.testing.assert_allclose(
        decision, logit(proba) - logit(clf.threshold_), rtol=1e-6, atol=1e-9
    )


def test_no_validation_set_warns_and_uses_half():
    X, y = make_images(n=40, size=8)
    clf = CNNClassifier(epochs=1, threshold="f1", early_stopping=False, **SMALL_CNN)
    with pytest.warns(UserWarning, match="early_stopping=False holds out no"):
        clf.fit(X, y)
    assert clf.threshold_ == 0.5
    # 'auto' declines below 100 images.
    clf = CNNClassifier(epochs=1, threshold="f1", **SMALL_CNN)
    with pytest.warns(UserWarning, match="early_stopping='auto' held out no"):
        clf.fit(X, y)
    assert clf.threshold_ == 0.5

    clf = CNNClassifier(threshold="balanced_accuracy", **SMALL_CNN)
    with pytest.warns(UserWarning, match="partial_fit holds out no validation"):
        clf.partial_fit(X, y)
    assert clf.threshold_ == 0.5
    clf.threshold_ = 0.3  # as if chosen by an earlier fit: partial_fit keeps it
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.partial_fit(X, y)
    assert clf.threshold_ == 0.3


def test_multiclass_has_no_threshold():
    X, y = make_images(n=30, size=8, n_classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf = CNNClassifier(epochs=1, threshold="f1", **SMALL_CNN).fit(X, y)
    assert clf.threshold_ is None
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[np.argmax(clf.predict_proba(X), axis=1)]
    )


def test_threshold_round_trips_through_save_and_load(tuned, tmp_path):
    clf, _, X, _, _, _ = tuned
    path = tmp_path / "cnn.skbreast"
    skbreast.save(clf, path)
    loaded = skbreast.load(path)
    assert loaded.threshold == "balanced_accuracy"
    assert loaded.threshold_ == clf.threshold_
    assert loaded.model_card_["fit"]["threshold"] == clf.threshold_
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))

    # A file written before the parameter existed predicts at 0.5.
    old = tmp_path / "old.skbreast"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "skbreast.json":
                manifest = json.loads(data)
                del manifest["params"]["threshold"]
                del manifest["attributes"]["threshold_"]
                manifest.pop("model_card", None)
                data = json.dumps(manifest)
            dst.writestr(item, data)
    loaded = skbreast.load(old)
    assert loaded.threshold == 0.5 and loaded.threshold_ == 0.5
    proba = loaded.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(loaded.predict(X), loaded.classes_[(proba > 0.5) * 1])


def test_compare_models_scores_each_fold_at_its_threshold(monkeypatch):
    X, y, groups = patient_images(seed=1)
    spy = ChooserSpy()
    monkeypatch.setattr(fit_loop, "choose_threshold", spy)
    cnn = CNNClassifier(
        threshold="balanced_accuracy",
        early_stopping=True,
        validation_fraction=0.25,
        epochs=2,
        **SMALL_CNN,
    )
    result = compare_models(
        {"cnn": cnn},
        X,
        y,
        groups=groups,
        cv=2,
        random_state=0,
        return_estimator=True,
        check_leakage=False,
    )
    assert len(spy.calls) == len(result.splits) == 2
    # Tuned thresholds that differ from 0.5, or the test would prove nothing.
    assert any(est.threshold_ != 0.5 for est in result.estimators["cnn"])
    for k, ((train, test), est) in enumerate(
        zip(result.splits, result.estimators["cnn"])
    ):
        # The fold's threshold was chosen on its own training patients only.
        chosen_on = np.unique(groups[train][spy.calls[k]["indices"]])
        np.testing.assert_array_equal(chosen_on, est.validation_groups_)
        assert not np.isin(chosen_on, groups[test]).any()
        proba = est.predict_proba(X[test])[:, 1]
        expected = f1_score(y[test], proba > est.threshold_)
        assert result.fold_scores["cnn"]["f1"][k] == pytest.approx(expected)
        np.testing.assert_array_equal(
            result.predictions["cnn"]["y_pred"][
                result.predictions["cnn"]["split"] == k
            ],
            est.predict(X[test]),
        )


def test_compare_models_pools_and_tests_externally_at_the_threshold():
    X, y, groups = patient_images(seed=2)
    test = groups >= 30
    cnn = CNNClassifier(threshold=0.3, epochs=1, **SMALL_CNN)
    result = compare_models(
        {"cnn": cnn},
        X[~test],
        y[~test],
        groups=groups[~test],
        cv=2,
        scoring=["f1", "roc_auc"],
        random_state=0,
        check_leakage=False,
        X_test=X[test],
        y_test=y[test],
        groups_test=groups[test],
    )
    assert result.pooling == "first"
    pooled = result.pooled("cnn")
    # The table records each split's threshold; the pooled labels are predict's.
    np.testing.assert_array_equal(result.predictions["cnn"]["threshold"], 0.3)
    np.testing.assert_array_equal(pooled.y_pred, (pooled.y_score > 0.3) * 1)
    summary = result.summary(n_resamples=50)
    f1 = summary["estimate"][summary["metric"].index("f1")]
    assert f1 == pytest.approx(f1_score(pooled.y_true, pooled.y_score > 0.3))
    # The external test set: the model fitted on all the data, at its threshold_.
    ext = result.external.predictions["cnn"]
    np.testing.assert_array_equal(ext["y_pred"], (ext["y_score"] > 0.3) * 1)
    table = result.external_table(n_resamples=50)
    external_f1 = table["external"][table["metric"].index("f1")]
    assert external_f1 == pytest.approx(f1_score(y[test], ext["y_score"] > 0.3))
    # Scores between 0.3 and 0.5 in both, or the test would prove nothing.
    for scores in (pooled.y_score, ext["y_score"]):
        assert ((scores > 0.3) != (scores > 0.5)).any()


@pytest.mark.parametrize("pos_is_second", [True, False])
def test_mean_pooling_cuts_the_mean_score_at_the_mean_threshold(pos_is_second):
    from skbreast.model_selection._pooling import pool

    # Sample 0 is scored twice, under thresholds 0.3 and 0.5 (mean 0.4), sample 1
    # once under 0.3; the positive class's scores (1 - p when it is classes_[0]).
    p1 = np.array([0.38, 0.44, 0.32])
    score = p1 if pos_is_second else 1.0 - p1
    table = {
        "index": np.array([0, 0, 1]),
        "split": np.array([0, 1, 0]),
        "repeat": np.array([0, 1, 0]),
        "y_true": np.array([1, 1, 0]),
        "y_score": score,
        "y_pred": np.array([1, 0, 1]),
        "threshold": np.array([0.3, 0.5, 0.3]),
    }
    y = np.array([1, 0])
    pooled = pool(table, "mean", "predict_proba", y, None, (1, 0), 2, pos_is_second)
    # Mean p of classes_[1]: 0.41 > 0.4 and 0.32 > 0.3.
    expected = [True, True] if pos_is_second else [False, False]
    np.testing.assert_array_equal(pooled.predicted_positive, expected)
    # Without thresholds (an older table): 0.5, as before.
    del table["threshold"]
    pooled = pool(table, "mean", "predict_proba", y, None, (1, 0), 2, pos_is_second)
    np.testing.assert_array_equal(pooled.predicted_positive, not pos_is_second)


def test_predict_command_labels_at_the_threshold(tmp_path, capsys):
    from PIL import Image

    from skbreast.cli import main
    from skbreast.datasets._imageio import read_images

    X, y, _ = patient_images(seed=3)
    clf = CNNClassifier(threshold=0.3, epochs=1, **SMALL_CNN).fit(X, y)
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(12):
        Image.fromarray(X[i]).save(folder / f"{i:02d}.png")
    paths = sorted(str(p) for p in folder.iterdir())
    proba = clf.predict_proba(read_images(paths, (8, 8)))[:, 1]
    # A threshold between the middle scores, away from 0.5: the labels differ
    # from the most probable class on some images.
    s = np.sort(proba)
    clf.threshold_ = float((s[5] + s[6]) / 2)
    assert ((proba > clf.threshold_) != (proba > 0.5)).any()
    model = tmp_path / "model.skb"
    skbreast.save(clf, model)
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(folder), "--out", str(out)]) == 0
    assert f"> {clf.threshold_:.6g} (the model's threshold_)" in capsys.readouterr().err
    with open(out) as f:
        rows = sorted(line.strip().split(",")[:2] for line in f.readlines()[1:])
    assert [r[0] for r in rows] == paths
    loaded = skbreast.load(model)
    expected = loaded.predict(read_images(paths, (8, 8)))
    assert [r[1] for r in rows] == [str(label) for label in expected]
    np.testing.assert_array_equal(expected, (proba > clf.threshold_) * 1)
