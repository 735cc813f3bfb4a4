"""The comparison report: its files and sections, from Python and from the CLI."""

import csv
import json
import warnings

import numpy as np
import pytest
from _data_helpers import write_image
from conftest import make_images
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from skbreast.cli import main
from skbreast.model_selection import compare_models

SECTIONS = [
    "Paired comparisons",
    "Operating points",
    "ROC curves",
    "Calibration",
    "Confusion matrices (summed over folds)",
    "Error analysis",
    "Classification reports (pooled out-of-fold predictions)",
    "Leakage check",
    "Run",
    "Models",
]


def features(n_patients=16, per_patient=4, seed=0):
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_patients), per_patient)
    y = np.where(groups % 2, "malignant", "benign")
    X = rng.normal(size=(len(y), 3)) + (y == "malignant")[:, None]
    return X, y, groups


@pytest.fixture(scope="module")
def feature_report(tmp_path_factory):
    X, y, groups = features()
    result = compare_models(
        {"logistic": LogisticRegression(), "svm": LinearSVC()},
        X,
        y,
        groups=groups,
        cv=4,
        random_state=0,
    )
    out = tmp_path_factory.mktemp("features")
    path = result.write_report(out, meta={"command": "python script.py"})
    return result, out, path


def test_report_files_and_sections(feature_report):
    result, out, path = feature_report
    assert path == out / "report.html"
    for name in [
        "report.md",
        "metrics.json",
        "metrics.csv",
        "summary.csv",
        "patients.csv",
        "predictions.csv",
        "roc_curves.png",
        "calibration.png",
        "confusion_matrices.png",
    ]:
        assert (out / name).stat().st_size > 0, name
    html, md = path.read_text(), (out / "report.md").read_text()
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in html and f"## {section}" in md, section
    # The CI column and the paired-comparison sentence.
    assert "logistic: pooled [95% CI]" in md and "svm: mean ± sd over folds" in md
    sentence = result.compare("svm", "logistic").sentence
    assert sentence in md and sentence in html.replace("&#x27;", "'")
    assert "DeLong on the pooled out-of-fold scores" in md
    # The SVM has no probabilities: n/a with the reason, and no calibration curve.
    assert "svm, Brier score (lower is better): n/a on 4 of 4 folds" in md
    # Features are not images: the error analysis says why there are no thumbnails.
    assert "no thumbnails: X is not an array of images" not in md
    assert "no thumbnails: pass X, the image array, to write_report." in md
    assert "Spanhol" not in md and "WARNING" not in md
    assert html.count('src="data:image/png;base64,') == 3


def test_report_json_and_csv(feature_report):
    result, out, _ = feature_report
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["unit"] == "patient" and payload["by_patient"]
    assert payload["pos_label"] == "malignant"
    auc = payload["models"]["logistic"]["metrics"]["roc_auc"]
    assert len(auc["folds"]) == 4
    assert auc["ci_low"] <= auc["estimate"] <= auc["ci_high"]
    assert auc["ci_unit"] == "patient"
    assert payload["models"]["svm"]["metrics"]["brier_score"]["mean"] is None
    assert payload["models"]["svm"]["score"] == "decision_function"
    assert {c["metric"] for c in payload["comparisons"]} >= {"roc_auc", "accuracy"}
    assert payload["comparisons"][0]["sentence"].startswith("svm − logistic ROC AUC")
    assert payload["leakage"]["total"] == 0
    assert payload["timing"]["statistics"] > 0
    patients = payload["models"]["logistic"]["patients"]
    assert len(patients["patient"]) == 16
    with open(out / "summary.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "model",
        "metric",
        "label",
        "mean",
        "sd",
        "n_folds",
        "estimate",
        "ci_low",
        "ci_high",
        "unit",
        "note",
        "role",
    ]
    assert len(rows) == 1 + 2 * len(result.metrics)
    with open(out / "metrics.csv") as f:
        header = next(csv.reader(f))
    assert header == [
        "model",
        "metric",
        "mean",
        "std",
        "fold_1",
        "fold_2",
        "fold_3",
        "fold_4",
    ]
    with open(out / "predictions.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "patient" and len(rows) == 1 + 2 * 64


def _flatten():
    return FunctionTransformer(lambda X: X.reshape(len(X), -1).astype(float))


@pytest.mark.parametrize("how", ["explained", "failing", "not kept"])
def test_worst_images_with_and_without_heat_maps(tmp_path, how):
    X, y = make_images(n=40, size=8)
    groups = np.arange(40) // 4
    result = compare_models(
        {"flat": make_pipeline(_flatten(), LogisticRegression())},
        X,
        y,
        groups=groups,
        cv=2,
        random_state=0,
        return_estimator=how != "not kept",
    )

    def explain(estimator, images):
        if how == "failing":
            raise TypeError("not a convolutional model")
        return np.ones(images.shape[:3])

    result.write_report(tmp_path, X=X, explain=explain, n_worst=4)
    md = (tmp_path / "report.md").read_text()
    if how == "explained":
        assert (tmp_path / "gradcam_flat.png").is_file()
        assert "](gradcam_flat.png)" in md
    else:
        assert (tmp_path / "worst_images_flat.png").is_file()
        note = (
            "no heat maps (TypeError: not a convolutional model)"
            if how == "failing"
            else "return_estimator=True"
        )
        assert note in md


def test_report_without_patients_says_so(tmp_path):
    X, y, _ = features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = compare_models(
            [LogisticRegression(), DummyClassifier()], X, y, cv=3, random_state=0
        )
    result.write_report(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "> **WARNING:** No patients (groups) were given" in md
    assert "resamples images" in md and "No patients: the splits are by image." in md
    assert (
        "Patient recognition rate" not in md
        and not (tmp_path / "patients.csv").exists()
    )
    assert "WARNING: No patients" in (tmp_path / "report.html").read_text()


FAST = ["--image-size", "16", "16", "--epochs", "1"]
SMALL_CNN_ARGS = ["--set", "cnn.filters=(4,)", "--set", "cnn.dense_units=(8,)"]


def test_cli_spanhol_protocol(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "benchmark",
            "--n-samples",
            "60",
            "--models",
            "cnn",
            "--protocol",
            "spanhol",
            *FAST,
            *SMALL_CNN_ARGS,
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "patient recognition rate" in printed and "95% CI" in printed
    assert "of the run)" in printed
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["protocol"] == "spanhol" and payload["n_splits"] == 5
    assert "PatientShuffleSplit" in payload["cross_validation"]
    cnn = payload["models"]["cnn"]["metrics"]
    assert len(cnn["accuracy"]["folds"]) == len(cnn["patient_accuracy"]["folds"]) == 5
    md = (out / "report.md").read_text()
    assert "## Spanhol et al. (2016) protocol" in md
    assert "| Model | Image accuracy | Patient recognition rate |" in md
    assert "averaged over the splits that tested it" in md
    assert "One model only: nothing to compare." in md


def test_cli_spanhol_without_patients_is_an_error(tmp_path, capsys):
    for label, shade in (("0", 30), ("1", 220)):
        for k in range(6):
            write_image(tmp_path / "d" / label / f"p{k}.png", (8, 8), (shade, k, 90))
    code = main(
        [
            "benchmark",
            "--data",
            str(tmp_path / "d"),
            "--protocol",
            "spanhol",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "--protocol spanhol splits by patient" in err and "Traceback" not in err


def test_cli_help_lists_the_protocols(capsys):
    assert main(["benchmark", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--protocol {kfold,spanhol}" in text and "--n-repeats" in text
