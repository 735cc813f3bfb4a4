"""The metric registry: one key, label and definition per metric, everywhere.

The comparison, its report, ``skbreast evaluate``, ``skbreast benchmark`` and the
model card of ``skbreast train`` read each metric's key and label from
``skbreast.metrics``; these tests check that what users see (metrics.json, the
tables, the numbers) follows from it, and that ``evaluate``'s numbers are
scikit-learn's on the same predictions.
"""

import csv
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    get_scorer,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import cross_validate

import skbreast
from skbreast.cli import main
from skbreast.cli.engine import TIME_METRICS
from skbreast.cli.train import CARD_METRICS, _scoring
from skbreast.datasets import make_patches
from skbreast.metrics import (
    Metric,
    compute_metrics,
    get_metric,
    get_metric_names,
    patient_scores,
)
from skbreast.model_selection import (
    compare_models,
    expected_calibration_error,
)
from skbreast.model_selection._format import format_p, metric_label
from skbreast.model_selection._metrics import METRICS, prepare, weighted_metrics

LOSSES = {"brier_score", "expected_calibration_error"}
CLASSES = ["benign", "malignant"]


# ----------------------------------------------------------------- the registry
def test_keys_and_labels_are_defined_once():
    names = get_metric_names()
    metrics = [get_metric(k) for k in names]
    assert all(isinstance(m, Metric) and m.key == k for m, k in zip(metrics, names))
    for attribute in ("key", "label", "short_label"):
        values = [getattr(m, attribute) for m in metrics]
        assert len(set(values)) == len(values), attribute
    aliases = [a for m in metrics for a in m.aliases]
    assert not set(aliases) & set(names)
    assert get_metric_names("image") + get_metric_names("patient") == names
    assert get_metric_names("patient") == ["patient_accuracy", "patient_roc_auc"]


def test_direction_is_stated_once_and_shown_in_the_label():
    for key in get_metric_names():
        metric = get_metric(key)
        assert metric.greater_is_better == (key not in LOSSES), key
        assert metric.label.endswith("(lower is better)") == (key in LOSSES), key
        assert set(metric.needs) <= {"labels", "scores", "probabilities", "patients"}
        assert (metric.level == "patient") == ("patients" in metric.needs)


@pytest.mark.parametrize(
    "key, point, label",
    [
        (
            "sensitivity_at_90_specificity",
            ("sensitivity", 0.9),
            "Sensitivity at 90% specificity",
        ),
        (
            "sensitivity_at_95_specificity",
            ("sensitivity", 0.95),
            "Sensitivity at 95% specificity",
        ),
        (
            "specificity_at_95_sensitivity",
            ("specificity", 0.95),
            "Specificity at 95% sensitivity",
        ),
    ],
)
def test_operating_points_take_key_label_and_function_from_their_target(
    key, point, label
):
    metric = get_metric(key)
    assert metric.operating_point == point and metric.label == label
    # The brute-force rule on sklearn's ROC curve.
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 200)
    score = y + rng.normal(size=200)
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    rate, target = point
    if rate == "sensitivity":
        expected = tpr[1 - fpr >= target - 1e-9].max()
    else:
        expected = (1 - fpr)[tpr >= target - 1e-9].max()
    assert metric.score(y, score) == pytest.approx(expected)


def test_every_selection_of_metrics_names_registry_keys():
    from skbreast.cli.evaluate import _INTERVAL_METRICS
    from skbreast.model_selection._report import (
        _EXTERNAL_METRICS,
        OPERATING_POINTS,
        PAIRED_METRICS,
    )

    names = set(get_metric_names())
    for keys in (_INTERVAL_METRICS, _EXTERNAL_METRICS, PAIRED_METRICS, CARD_METRICS):
        assert set(keys) <= names, keys
    assert OPERATING_POINTS == {
        k: get_metric(k).operating_point
        for k in names
        if get_metric(k).operating_point is not None
    }


def test_old_keys_are_aliases():
    assert get_metric("brier") is get_metric("brier_score")
    assert get_metric("ece") is get_metric("expected_calibration_error")
    old = {"accuracy": 0.5, "brier": 0.2, "ece": 0.1, "patient_accuracy": 0.4}
    renamed = {get_metric(k).key: v for k, v in old.items()}
    assert set(renamed) <= set(get_metric_names())
    with pytest.raises(ValueError, match="brier_score"):
        get_metric("auc")
    with pytest.raises(ValueError, match="level"):
        get_metric_names("slide")


# ------------------------------------------------------- numbers vs scikit-learn
def _expected(y, score, groups, pos, neg, threshold=0.5):
    """Every registry metric from scikit-learn (and by hand for the patients)."""
    pred = np.where(score > threshold, pos, neg)
    is_pos = y == pos
    expected = {
        "accuracy": accuracy_score(y, pred),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        "precision": precision_score(y, pred, pos_label=pos, zero_division=np.nan),
        "recall": recall_score(y, pred, pos_label=pos, zero_division=np.nan),
        "specificity": recall_score(y, pred, pos_label=neg, zero_division=np.nan),
        "f1": f1_score(y, pred, pos_label=pos, zero_division=np.nan),
        "roc_auc": roc_auc_score(is_pos, score),
        "brier_score": brier_score_loss(y, score, pos_label=pos),
        "expected_calibration_error": expected_calibration_error(
            y, score, pos_label=pos
        ),
    }
    fpr, tpr, _ = roc_curve(is_pos, score, drop_intermediate=False)
    expected["sensitivity_at_90_specificity"] = tpr[1 - fpr >= 0.9 - 1e-9].max()
    expected["sensitivity_at_95_specificity"] = tpr[1 - fpr >= 0.95 - 1e-9].max()
    expected["specificity_at_95_sensitivity"] = (1 - fpr)[tpr >= 0.95 - 1e-9].max()
    if groups is not None:
        patients = np.unique(groups)
        share = [np.mean((pred == y)[groups == p]) for p in patients]
        expected["patient_accuracy"] = np.mean(share)
        # A patient's label is its majority (ties positive), its score the mean.
        label = [2 * is_pos[groups == p].sum() >= (groups == p).sum() for p in patients]
        mean = [score[groups == p].mean() for p in patients]
        expected["patient_roc_auc"] = roc_auc_score(label, mean)
    return expected


def _assert_same(actual, expected):
    assert set(actual) == set(expected)
    for key, value in expected.items():
        got = actual[key]
        if value is None or math.isnan(value):
            assert got is None or math.isnan(got), key
        else:
            assert got == pytest.approx(value, rel=1e-6, abs=1e-9), key


@pytest.mark.parametrize(
    "neg, pos",
    [
        ("benign", "malignant"),  # the positive class is the second of classes_
        ("normal", "cancer"),  # and the first
        (0, 1),
    ],
)
def test_compute_metrics_agrees_with_sklearn(neg, pos):
    rng = np.random.RandomState(1)
    groups = np.repeat(np.arange(12), 5)
    is_pos = (rng.rand(12)[groups] + 0.3 * rng.rand(60)) > 0.6
    y = np.where(is_pos, pos, neg)
    score = np.clip(0.35 * is_pos + 0.6 * rng.rand(60), 0, 1)
    actual = compute_metrics(y, score, groups=groups, pos_label=pos)
    assert list(actual) == get_metric_names()
    _assert_same(actual, _expected(y, score, groups, pos, neg))
    assert list(compute_metrics(y, score, pos_label=pos)) == get_metric_names("image")


def test_undefined_metrics_are_nan_and_bad_input_raises():
    y = np.array(["benign"] * 4 + ["malignant"] * 4)
    low = np.full(8, 0.2)  # never predicted malignant
    scores = compute_metrics(y, low, pos_label="malignant")
    assert math.isnan(scores["precision"]) and scores["recall"] == 0.0
    one_class = compute_metrics(y[:4], [0.1, 0.2, 0.3, 0.9], pos_label="malignant")
    assert math.isnan(one_class["roc_auc"]) and math.isnan(one_class["recall"])
    decision = compute_metrics([0, 1, 0, 1], [-2.0, 1.5, 0.3, 3.0], threshold=0)
    assert math.isnan(decision["brier_score"]) and decision["accuracy"] == 0.75
    with pytest.raises(ValueError, match="pos_label"):
        compute_metrics(y, low)  # pos_label=1 with string labels
    with pytest.raises(ValueError, match="groups"):
        compute_metrics(y, low, pos_label="malignant", metrics=["patient_roc_auc"])
    with pytest.raises(ValueError, match="finite"):
        compute_metrics(y, [np.nan] * 8, pos_label="malignant")


def test_metric_score_warns_where_undefined():
    # One class: no ROC AUC (scikit-learn's warning, or ours where it raises).
    with pytest.warns(UndefinedMetricWarning):
        value = get_metric("roc_auc").score([1, 1], [0.2, 0.9])
    assert math.isnan(value)
    with pytest.warns(UndefinedMetricWarning, match="brier_score is undefined"):
        value = get_metric("brier_score").score([0, 1], [-1.0, 2.0])
    assert math.isnan(value)


def test_model_card_scorers_are_the_registrys():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] + rng.normal(size=90) > 0).astype(int)
    scoring = _scoring(2)
    assert list(scoring) == list(CARD_METRICS)
    assert set(CARD_METRICS) <= set(get_metric_names("image"))
    ours = cross_validate(LogisticRegression(), X, y, cv=3, scoring=scoring)
    sklearn_names = [k for k in CARD_METRICS if k != "specificity"]
    theirs = cross_validate(
        LogisticRegression(),
        X,
        y,
        cv=3,
        scoring={k: get_scorer(k) for k in sklearn_names},
    )
    for key in sklearn_names:
        np.testing.assert_allclose(ours[f"test_{key}"], theirs[f"test_{key}"])


# ------------------------------------------------------------------ the comparison
@pytest.fixture(scope="module")
def comparison():
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(24), 5)
    is_pos = (groups % 2 == 0) ^ (rng.rand(120) < 0.15)
    X = rng.normal(size=(120, 3)) + is_pos[:, None]
    y = np.where(is_pos, "malignant", "benign")
    return compare_models(
        {"logistic": LogisticRegression()},
        X,
        y,
        groups=groups,
        cv=3,
        random_state=0,
        baselines=False,
        colour_check=False,
    )


def test_comparison_reports_every_registry_metric(comparison):
    assert list(METRICS) == get_metric_names()
    assert list(comparison.metrics) == get_metric_names()
    table = comparison.summary(n_resamples=50)
    for key, label in zip(table["metric"], table["label"]):
        assert label == get_metric(key).label
    # The vectorised implementation covers every metric of the registry.
    data = prepare(
        [True, False, True],
        [0.9, 0.2, 0.4],
        [True, False, False],
        probability=True,
        groups=np.array([1, 1, 2]),
    )
    assert set(weighted_metrics(np.ones((1, 3)), data, METRICS)) == set(METRICS)


def test_comparison_fold_scores_are_the_registrys_functions(comparison):
    p = comparison.predictions["logistic"]
    groups = comparison.groups[p["index"]]
    for split in range(comparison.n_splits):
        mine = p["split"] == split
        expected = compute_metrics(
            p["y_true"][mine],
            p["y_score"][mine],
            groups=groups[mine],
            pos_label=comparison.pos_label,
        )
        actual = {k: v[split] for k, v in comparison.fold_scores["logistic"].items()}
        _assert_same(actual, expected)


def test_one_p_value_format():
    assert format_p(0.0004) == "< 0.001" == format_p(0.0004, relation=True)
    assert (format_p(0.0123), format_p(0.0123, relation=True)) == ("0.012", "= 0.012")
    assert (format_p(0.613), format_p(float("nan"))) == ("0.61", "n/a")


def test_sentences_use_the_short_label_and_direction():
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(20), 4)
    y = groups % 2
    X = rng.normal(size=(80, 2)) + y[:, None]
    result = compare_models(
        {"a": LogisticRegression(), "b": LogisticRegression(C=0.01)},
        X,
        y,
        groups=groups,
        cv=4,
        random_state=0,
        baselines=False,
        colour_check=False,
    )
    for key in ("accuracy", "brier_score", "patient_accuracy"):
        sentence = result.compare("a", "b", metric=key, n_resamples=50).sentence
        assert sentence.startswith(f"a \u2212 b {get_metric(key).short_label} ")


# -------------------------------------------------- the reports and metrics.json
def test_comparison_report_uses_registry_keys_and_labels(comparison, tmp_path):
    comparison.write_report(tmp_path)
    payload = json.loads((tmp_path / "metrics.json").read_text())
    keys = set(payload["models"]["logistic"]["metrics"])
    assert keys == set(get_metric_names()) | set(TIME_METRICS)
    md = (tmp_path / "report.md").read_text()
    for key in get_metric_names():
        assert f"| {metric_label(key)} |" in md, key


TINY_CNN = {"filters": (4,), "dense_units": (8,), "epochs": 1, "random_state": 0}


def _write_breakhis(root, images, labels, groups):
    """Write ``images`` as a BreakHis tree (one slide per patient and class)."""
    breast = Path(root) / "BreaKHis_v1" / "histology_slides" / "breast"
    for k, (image, label, patient) in enumerate(zip(images, labels, groups)):
        letter = "M" if label == "malignant" else "B"
        code, folder = (
            ("DC", "ductal_carcinoma") if letter == "M" else ("A", "adenosis")
        )
        slide = f"{10000 + int(patient)}{letter}"
        name = f"SOB_{letter}_{code}-14-{slide}-100-{k + 1:03d}.png"
        path = breast / label / "SOB" / folder / f"SOB_{letter}_{code}_14-{slide}"
        path = path / "100X" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    """A tiny CNN on string labels, saved, and a held-out BreakHis folder."""
    folder = tmp_path_factory.mktemp("held_out")
    # Balanced: the 1-epoch model then calls some images malignant (12% here),
    # so that precision and F1 are defined and compared too.
    train = make_patches(
        48, image_size=(16, 16), weights=(0.5, 0.5), n_patients=6, random_state=0
    )
    model = skbreast.CNNClassifier(**TINY_CNN)
    model.fit(train.images, np.asarray(CLASSES)[train.target])
    path = folder / "model.skb"
    skbreast.save(model, path)
    # Balanced, so that both classes occur among the patients' majority labels.
    test = make_patches(
        40, image_size=(16, 16), weights=(0.5, 0.5), n_patients=8, random_state=1
    )
    labels = np.asarray(CLASSES)[test.target]
    groups = np.array([int(g.rsplit("_", 1)[-1]) for g in test.groups])
    _write_breakhis(folder / "data", test.images, labels, groups)
    return path, folder / "data", test.images, labels, groups


def test_evaluate_metrics_json_uses_registry_keys_and_sklearns_numbers(
    held_out, tmp_path, capsys
):
    path, data, images, labels, groups = held_out
    out = tmp_path / "report"
    args = ["evaluate", str(path), "--data", str(data), "--n-resamples", "20"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    payload = json.loads((out / "metrics.json").read_text())
    metrics = payload["metrics"]
    assert list(metrics) == get_metric_names()
    assert not {"brier", "ece"} & set(metrics)
    with (out / "metrics.csv").open() as f:
        assert [row["metric"] for row in csv.DictReader(f)] == get_metric_names()

    # The same predictions, scored by scikit-learn with the string labels.
    model = skbreast.load(path)
    assert list(model.classes_) == CLASSES  # the positive class is the second
    score = model.predict_proba(images)[:, 1]
    pred = model.predict(images)
    np.testing.assert_array_equal(pred, np.where(score > 0.5, *CLASSES[::-1]))
    assert payload["data"]["images"] == len(labels)
    assert payload["data"]["patients"] == len(np.unique(groups))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _expected(labels, score, groups, "malignant", "benign")
    _assert_same(metrics, expected)
    if "log_loss" in metrics:  # pragma: no cover - not reported today
        assert metrics["log_loss"] == pytest.approx(log_loss(labels, score))
    # And skbreast's own patient aggregation agrees with the hand-made one.
    assert metrics["roc_auc"] is not None and metrics["patient_roc_auc"] is not None
    assert metrics["patient_roc_auc"] == pytest.approx(
        patient_scores(labels, score, groups, pos_label="malignant").roc_auc
    )

    # The tables show the registry's labels, and nothing under an old name.
    md = (out / "report.md").read_text()
    for key in get_metric_names():
        label = get_metric(key).label
        assert f"| {label} |" in md and f"{label}: " in printed, key
    assert "Patient accuracy" not in md


def test_benchmark_metrics_json_uses_registry_keys(tmp_path, capsys):
    out = tmp_path / "report"
    args = ["benchmark", "--n-samples", "40", "--image-size", "16", "16"]
    args += ["--epochs", "1", "--cv", "2", "--models", "cnn"]
    args += ["--set", "cnn.filters=(4,)", "--set", "cnn.dense_units=(8,)"]
    args += ["--no-baselines", "--no-colour-check", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    payload = json.loads((out / "metrics.json").read_text())
    keys = list(payload["models"]["cnn"]["metrics"])
    assert keys == get_metric_names() + list(TIME_METRICS)
    with (out / "metrics.csv").open() as f:
        rows = [row["metric"] for row in csv.DictReader(f)]
    assert rows == keys
    md = (out / "report.md").read_text()
    for key in get_metric_names():
        assert f"| {get_metric(key).label} |" in md, key
    assert f"{get_metric('roc_auc').short_label} " in printed
