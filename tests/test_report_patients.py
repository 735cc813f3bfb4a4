"""The comparison report's patient sections: extent, slide maps, classification."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skbreast.model_selection import compare_models
from skbreast.report import Table, evaluation_report, metric_rows, render_markdown


def idc_like(n_patients=12, per_patient=16, seed=0):
    """Patients of 4x4 patches, each with its own share of positive patches."""
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_patients), per_patient)
    cell = np.tile(np.arange(per_patient), n_patients)
    coords = np.stack([cell % 4 * 50 + 500, cell // 4 * 50 + 1000], axis=1)
    share = (groups + 1) / (n_patients + 1)
    y = np.where(rng.rand(len(groups)) < share, "idc", "non_idc")
    X = rng.normal(size=(len(y), 2)) + 2 * (y == "idc")[:, None]
    return X, y, groups, coords


@pytest.fixture(scope="module")
def patient_report(tmp_path_factory):
    X, y, groups, coords = idc_like()
    result = compare_models(
        {"logistic": LogisticRegression(), "svm": LinearSVC()},
        X,
        y,
        groups=groups,
        coords=coords,
        pos_label="idc",
        cv=3,
        random_state=0,
    )
    out = tmp_path_factory.mktemp("patients")
    path = result.write_report(out)
    return result, out, path


def test_coords_are_kept(patient_report):
    result, _, _ = patient_report
    assert result.coords.shape == (192, 2)
    assert result.coords.dtype == np.int64


@pytest.mark.parametrize(
    "coords, match",
    [
        (np.zeros((192, 3)), r"shape \(n_samples, 2\)"),
        (np.zeros((100, 2)), "100 rows for 192 samples"),
        (-np.ones((192, 2)), "non-negative"),
    ],
)
def test_bad_coords_raise(coords, match):
    X, y, groups, _ = idc_like()
    with pytest.raises(ValueError, match=match):
        compare_models([LogisticRegression()], X, y, groups=groups, coords=coords, cv=3)


def test_patient_extent(patient_report):
    result, _, _ = patient_report
    table = result.patient_extent("logistic")
    assert table["patient"] == list(range(12))
    assert table["images"] == [16] * 12
    pooled = result.pooled("logistic")
    mine = pooled.groups == 11
    assert table["true_share"][11] == pytest.approx(pooled.is_positive[mine].mean())
    assert table["predicted_share"][11] == pytest.approx(
        pooled.predicted_positive[mine].mean()
    )
    r = table.correlation
    assert r.n_patients == 12 and 0.5 < r.statistic <= 1
    assert r.ci_low < r.statistic < r.ci_high and r.note == ""


def test_patient_extent_undefined_correlation_says_why():
    X, y, groups, _ = idc_like(n_patients=6)
    from sklearn.dummy import DummyClassifier

    result = compare_models(
        [DummyClassifier(strategy="constant", constant="non_idc")],
        X,
        y,
        groups=groups,
        pos_label="idc",
        cv=3,
    )
    r = result.patient_extent().correlation
    assert np.isnan(r.statistic) and "same predicted share" in r.note
    no_patients = compare_models([DummyClassifier()], X, y, cv=3)
    with pytest.raises(ValueError, match="needs patients"):
        no_patients.patient_extent()


def test_classification_report_names_the_classes(patient_report):
    result, _, _ = patient_report
    table = result.classification_report("logistic")
    assert table["class"] == ["non_idc", "idc", "accuracy", "macro avg", "weighted avg"]
    pooled = result.pooled("logistic")
    tp = np.sum((pooled.y_pred == "idc") & pooled.is_positive)
    assert table["recall"][1] == pytest.approx(tp / pooled.is_positive.sum())
    assert table["support"] == [
        int((~pooled.is_positive).sum()),
        int(pooled.is_positive.sum()),
        192,
        192,
        192,
    ]


def test_report_sections(patient_report):
    result, out, path = patient_report
    md, html = (out / "report.md").read_text(), path.read_text()
    # The correlation of the shares, per model.
    r = result.patient_extent("svm").correlation.statistic
    assert "| Model | Pearson r [95% CI] | p | Patients | Note |" in md
    assert f"| svm | {r:.3f} [" in md
    # The patient table's extent columns.
    assert "| Share idc, true | Share idc, predicted |" in md
    # The classification reports, as tables.
    assert md.count("| Class | Precision | Recall | F1 score | Support |") == 2
    assert "<th>F1 score</th>" in html
    # Slide maps of the model with probabilities, none for the SVM.
    for fname in ("slide_map_best_logistic.png", "slide_map_worst_logistic.png"):
        assert (out / fname).stat().st_size > 0
        assert f"]({fname})" in md
    assert "svm: no slide maps: the model gives no probabilities." in md
    assert not list(out.glob("slide_map_*_svm.png"))
    payload = json.loads((out / "metrics.json").read_text())
    model = payload["models"]["logistic"]
    assert model["classification_report"]["class"][1] == "idc"
    assert model["patient_extent"]["pearson"]["n_patients"] == 12
    assert model["slide_maps"] == [
        "slide_map_best_logistic.png",
        "slide_map_worst_logistic.png",
    ]


def test_patients_csv_carries_the_shares(patient_report):
    import csv

    result, out, _ = patient_report
    with open(out / "patients.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["model"] == "svm"]
    extent = result.patient_extent("svm")
    assert len(rows) == 12
    for row in rows:
        i = extent["patient"].index(int(row["patient"]))
        assert float(row["true_share"]) == pytest.approx(extent["true_share"][i])
        assert float(row["predicted_share"]) == pytest.approx(
            extent["predicted_share"][i]
        )


def test_plot_slide_map_of_one_patient(patient_report):
    result, _, _ = patient_report
    pooled = result.pooled("logistic")
    mine = pooled.groups == 5
    fig = result.plot_slide_map(5, "logistic")
    truth, proba = fig.axes[0], fig.axes[1]
    # 4x4 patches at (500..650, 1000..1150): one pixel per patch, nothing empty.
    cells = proba.get_images()[0].get_array()
    assert cells.shape == (4, 4) and not np.ma.is_masked(cells)
    xy = result.coords[pooled.index[mine]]
    order = np.lexsort((xy[:, 0], xy[:, 1]))  # row by row, as the image
    np.testing.assert_allclose(cells.ravel(), pooled.y_score[mine][order])
    np.testing.assert_array_equal(
        truth.get_images()[0].get_array().ravel(),
        pooled.is_positive[mine][order].astype(int),
    )
    texts = {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))}
    assert "logistic: patient 5" in texts


@pytest.mark.parametrize(
    "patient, name, match",
    [
        (99, "logistic", "Patient 99 has no pooled prediction"),
        (5, "svm", "needs probabilities"),
    ],
)
def test_plot_slide_map_errors(patient_report, patient, name, match):
    result, _, _ = patient_report
    with pytest.raises(ValueError, match=match):
        result.plot_slide_map(patient, name)


def test_plot_slide_map_needs_coords():
    X, y, groups, _ = idc_like()
    result = compare_models([LogisticRegression()], X, y, groups=groups, cv=3)
    with pytest.raises(ValueError, match="pass groups and coords"):
        result.plot_slide_map(0)


def test_best_and_worst_patient_by_brier(patient_report):
    from skbreast.model_selection._result_patients import slide_map_picks

    result, _, _ = patient_report
    pooled = result.pooled("logistic")
    picks = slide_map_picks(pooled)
    brier = {
        p: np.mean(
            (
                pooled.y_score[pooled.groups == p]
                - pooled.is_positive[pooled.groups == p]
            )
            ** 2
        )
        for p in range(12)
    }
    both = [
        p for p in range(12) if 0 < pooled.is_positive[pooled.groups == p].mean() < 1
    ]
    assert picks.best == min(both, key=brier.get)
    assert picks.worst == max(both, key=brier.get)


def test_report_without_coords_has_no_slide_maps(tmp_path):
    X, y, groups, _ = idc_like()
    result = compare_models(
        [LogisticRegression()], X, y, groups=groups, pos_label="idc", cv=3
    )
    result.write_report(tmp_path)
    assert not list(tmp_path.glob("slide_map_*"))
    assert "Slide maps" not in (tmp_path / "report.md").read_text()


def test_evaluation_report_renders_the_classification_table():
    table = Table(["Class", "Precision"], [["idc", "0.900"]])
    report = evaluation_report(
        metric_rows({"accuracy": 0.9}, {}),
        note="Ten images.",
        classification_report=table,
        figures=["slide_map_best.png"],
        captions={"slide_map_best.png": "model: best patient 7"},
    )
    md = render_markdown(report)
    assert "| idc | 0.900 |" in md
    assert "![model: best patient 7](slide_map_best.png)" in md


# ------------------------------------------------------------------ command line
def _idc_slides(root, n_patients=4):
    """IDC-layout patients of 3x4 patches, each at its own place in the slide."""
    from _data_helpers import write_image

    rng = np.random.RandomState(0)
    for p in range(n_patients):
        patient = f"{2000 + p}"
        for k in range(12):
            label = int(k % 4 < 1 + p % 3)
            x, y = 50 * (k % 4) + 100, 50 * (k // 4)
            shade = (200, 90, 160) if label else (230, 180, 210)
            noise = tuple(int(v) for v in rng.randint(0, 20, 3))
            name = f"{patient}_idx5_x{x}_y{y}_class{label}.png"
            write_image(
                root / patient / str(label) / name,
                (10, 10),
                tuple(a - b for a, b in zip(shade, noise)),
            )
    return root


def test_load_data_returns_the_coordinates_of_idc(tmp_path):
    import argparse

    from skbreast.cli.data import load_data

    root = _idc_slides(tmp_path / "idc")
    args = argparse.Namespace(data=str(root), max_images=None, random_state=0)
    X, y, groups, names, summary = load_data(args, (10, 10))  # as before
    *_, coords = load_data(args, (10, 10), return_coords=True)
    assert names == ["non_idc", "idc"] and coords.shape == (48, 2)
    first = groups == groups[0]
    expected = {(100 + 50 * (k % 4), 50 * (k // 4)) for k in range(12)}
    assert {(int(x), int(y)) for x, y in coords[first]} == expected
    generated = argparse.Namespace(
        data=None, n_samples=20, max_images=None, random_state=0
    )
    assert load_data(generated, (10, 10), return_coords=True)[-1] is None


def test_idc_commands_call_idc_positive_and_draw_slide_maps(tmp_path, capsys):
    from skbreast.cli import main

    root = _idc_slides(tmp_path / "idc")
    tiny = ["--image-size", "16", "16", "--epochs", "1"]
    model = tmp_path / "model.skb"
    layers = ["--set", "filters=(4,)", "--set", "dense_units=(8,)"]
    assert (
        main(["train", "--data", str(root), *tiny, *layers, "--out", str(model)]) == 0
    )
    out = tmp_path / "evaluation"
    command = ["evaluate", str(model), "--data", str(root), "--n-resamples", "20"]
    assert main([*command, "--out", str(out)]) == 0
    payload = json.loads((out / "metrics.json").read_text())
    # The model sorts its classes (idc < non_idc); idc stays the positive one.
    assert "Positive class: idc" in payload["note"]
    assert payload["classification_report"]["class"][:2] == ["non_idc", "idc"]
    assert payload["classification_report"]["support"][:2] == [27, 21]
    md = (out / "report.md").read_text()
    assert "| Class | Precision | Recall | F1 score | Support |" in md
    for fname in ("slide_map_best.png", "slide_map_worst.png"):
        assert (out / fname).stat().st_size > 0 and f"]({fname})" in md

    bench = tmp_path / "benchmark"
    args = ["benchmark", "--data", str(root), "--models", "cnn", "--cv", "2"]
    options = [*tiny, "--set", "cnn.filters=(4,)", "--set", "cnn.dense_units=(8,)"]
    assert main([*args, *options, "--no-colour-check", "--out", str(bench)]) == 0
    capsys.readouterr()
    payload = json.loads((bench / "metrics.json").read_text())
    assert payload["models"]["cnn"]["classification_report"]["class"][1] == "idc"
    assert payload["models"]["cnn"]["slide_maps"] == [
        "slide_map_best_cnn.png",
        "slide_map_worst_cnn.png",
    ]
    md = (bench / "report.md").read_text()
    assert "the positive class is idc" in md
    assert "](slide_map_worst_cnn.png)" in md
