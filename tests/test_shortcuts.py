"""Shortcut checks of compare_models: baselines, colour sensitivity, external test.

The synthetic patches are two-colour (pink stroma, purple nuclei) pixel fields in
which the classes differ in exactly one respect: the colours (``colour=True``),
or the arrangement of the same pixels (``texture=True``: a checkerboard, against
the same pixels shuffled). Colour histograms of the texture set are identical
between classes, and at 64x64 pixels the period-2 checkerboard averages out in a
21x32 thumbnail, so neither baseline can see it.
"""

import json
import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skbreast.cli import main
from skbreast.model_selection import (
    colour_histogram_baseline,
    compare_models,
    thumbnail_baseline,
)
from skbreast.model_selection._shortcuts import hed_jitter, image_layout

PINK = np.array([220, 130, 180])
PURPLE = np.array([70, 40, 120])


def patches(n_patients=12, per_patient=4, size=32, colour=False, texture=False, seed=0):
    """Two-colour patches of patients; every other patient malignant (1)."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_patients), per_patient)
    y = groups % 2
    n = len(y)
    checker = (np.add.outer(np.arange(size), np.arange(size)) % 2).ravel()
    nuclei = np.stack([rng.permutation(checker) for _ in range(n)])
    if texture:
        nuclei[y == 1] = checker
    # More eosin and a bluer haematoxylin in the malignant class.
    shift = np.where((y == 1)[:, None] & colour, [25, -25, -20], 0)
    pixels = np.where(
        nuclei[..., None] == 1, (PURPLE + shift)[:, None], (PINK + shift)[:, None]
    )
    pixels = pixels + rng.normal(0, 8, pixels.shape)
    images = np.clip(pixels, 0, 255).astype(np.uint8).reshape(n, size, size, 3)
    return images, y, groups


def _texture(X):
    grey = np.asarray(X, dtype=float).mean(axis=-1)
    contrast = np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    # Divided by the image's spread: a change of stain scales both.
    return (contrast / (grey.std(axis=(1, 2)) + 1e-6))[:, None]


def _mean_colour(X):
    return np.asarray(X, dtype=float).reshape(len(X), -1, 3).mean(axis=1)


def texture_model():
    return make_pipeline(
        FunctionTransformer(_texture), StandardScaler(), LogisticRegression()
    )


def colour_model():
    return make_pipeline(
        FunctionTransformer(_mean_colour), StandardScaler(), LogisticRegression()
    )


def quick_baselines():
    """The default baselines with fewer bins, smaller thumbnails, 3 inner folds."""
    return {
        "colour-histogram": colour_histogram_baseline(bins=8, cv=3),
        "thumbnail": thumbnail_baseline(size=(4, 4), cv=3),
    }


def test_warning_fires_when_the_classes_differ_in_colour_only():
    X, y, groups = patches(colour=True)
    with pytest.warns(UserWarning, match="Possible shortcut"):
        result = compare_models(
            {"texture": texture_model()},
            X,
            y,
            groups=groups,
            cv=3,
            random_state=0,
            baselines=True,
        )
    assert result.names == ["texture"]
    assert result.baselines == ["colour-histogram", "thumbnail"]
    check = result.shortcut_check()
    assert check["fires"] == [True, True]
    assert check["best_model"] == ["texture", "texture"]
    warning = result.shortcut_warning
    for words in (
        "separable by colour or coarse intensity alone",
        "staining or scanning batches",
        "validation on other patients or sites",
    ):
        assert words in warning
    # Every patient holds one class here: a batch effect is possible.
    assert "within slides" not in warning
    # Prominent in the summary, and the baselines are marked as such.
    table = result.summary()
    assert table.warnings == [warning]
    assert str(table).startswith("WARNING: Possible shortcut")
    roles = dict(zip(table["model"], table["role"]))
    assert roles == {
        "texture": "model",
        "colour-histogram": "baseline",
        "thumbnail": "baseline",
    }
    # Baselines are no candidates: no pairwise comparison among them.
    assert result.comparisons() == []


def test_warning_says_when_the_colour_cue_lies_within_slides():
    # Patients holding both classes (as IDC's do) share their slide's staining:
    # the warning says the cue is partly within slides, not only batches.
    X, y, groups = patches(colour=True)
    with pytest.warns(UserWarning, match="Possible shortcut"):
        result = compare_models(
            {"texture": texture_model()},
            X,
            y,
            groups=groups // 2,
            cv=3,
            random_state=0,
            baselines=True,
        )
    assert "100% of the images belong to patients with images of both classes" in (
        result.shortcut_warning
    )
    assert "not proof of a batch effect" in result.shortcut_warning


def test_warning_stays_silent_when_the_classes_differ_in_texture_only():
    X, y, groups = patches(texture=True, size=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = compare_models(
            {"texture": texture_model()},
            X,
            y,
            groups=groups,
            cv=3,
            random_state=0,
            baselines=True,
        )
    check = result.shortcut_check()
    assert check["fires"] == [False, False]
    assert all(auc < 0.75 for auc in check["roc_auc"])
    assert result.fold_scores["texture"]["roc_auc"].min() == 1.0
    assert result.shortcut_warning is None
    assert result.summary().warnings == []


def test_a_chance_level_baseline_never_fires():
    # Models and baselines all at chance are "within each other's uncertainty",
    # which says nothing about colour.
    X, y, groups = patches(seed=1)
    result = compare_models(
        {"texture": texture_model()},
        X,
        y,
        groups=groups,
        cv=3,
        random_state=0,
        baselines=quick_baselines(),
    )
    assert not any(result.shortcut_check()["fires"])


def test_colour_check_flags_the_colour_model_and_not_the_texture_model():
    X, y, groups = patches(colour=True, texture=True, n_patients=10)
    result = compare_models(
        {"texture": texture_model(), "colour": colour_model()},
        X,
        y,
        groups=groups,
        cv=3,
        random_state=0,
        colour_check=True,
    )
    table = result.colour_sensitivity()
    assert table["model"] == ["texture", "colour"]
    assert result.colour_dependent == {"texture": False, "colour": True}
    row = {name: i for i, name in enumerate(table["model"])}
    # Normalising every image to one target removes the colour model's cue.
    assert table["normalised_change"][row["colour"]] < -0.3
    assert abs(table["normalised_change"][row["texture"]]) < 0.01
    assert abs(table["jittered_change"][row["texture"]]) < 0.01
    assert "colour-dependent" in table["verdict"][row["colour"]]
    assert result.timing["colour_check"] > 0
    for model in result.names:
        for variant in ("original", "normalised", "jittered"):
            assert result.colour_scores[model][variant].shape == (3,)


def test_colour_check_takes_flattened_images_with_input_shape():
    X, y, groups = patches(colour=True, size=8, n_patients=8)
    model = make_pipeline(
        FunctionTransformer(lambda F: _mean_colour(F.reshape(len(F), 8, 8, 3))),
        LogisticRegression(),
    )
    flat = X.reshape(len(X), -1)
    with pytest.raises(ValueError, match="need images"):
        compare_models([model], flat[:, :7], y, groups=groups, cv=2, colour_check=True)
    result = compare_models(
        [model], flat, y, groups=groups, cv=2, random_state=0, colour_check=True
    )
    assert result.colour_sensitivity()["colour_dependent"] == [True]


def test_image_layout_reads_input_shape_from_the_estimators():
    from skbreast import CNNClassifier

    flat = np.zeros((4, 6 * 4 * 3), dtype=np.uint8)
    estimators = {"cnn": CNNClassifier(input_shape=(6, 4, 3))}
    assert image_layout(flat, estimators) == ("flat", (6, 4, 3))
    assert image_layout(np.zeros((4, 5, 5, 3)), {}) == ("images", (5, 5, 3))
    assert image_layout(np.array(["a.png", "b.png"]), {}) == ("paths", None)
    with pytest.raises(ValueError, match="need images"):
        image_layout(np.zeros((4, 7)), {})


def test_hed_jitter_is_seeded_bounded_and_the_identity_at_zero():
    X, _, _ = patches(colour=True, n_patients=2, size=8)
    np.testing.assert_array_equal(hed_jitter(X, 0.0), X)
    a, b = hed_jitter(X, 0.2, random_state=3), hed_jitter(X, 0.2, random_state=3)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and not np.array_equal(a, X)
    floats = hed_jitter(X / 255.0, 0.2, random_state=3)
    assert floats.dtype == np.float64 and 0 <= floats.min() <= floats.max() <= 1
    np.testing.assert_allclose(floats * 255, a, atol=1)


def test_external_validation_side_by_side():
    X, y, groups = patches(colour=True, n_patients=16)
    train, test = groups < 10, groups >= 10
    result = compare_models(
        {"colour": colour_model()},
        X[train],
        y[train],
        groups=groups[train],
        cv=3,
        random_state=0,
        X_test=X[test],
        y_test=y[test],
        groups_test=groups[test],
    )
    assert result.warnings == []
    ext = result.external
    assert ext.n_samples == int(test.sum()) and ext.n_patients == 6
    assert ext.shared_patients == 0 and ext.unit == "patient"
    table = result.external_table(n_resamples=200)
    auc = table["metric"].index("roc_auc")
    assert table["external"][auc] == 1.0 and table["cv_estimate"][auc] == 1.0
    assert table["external_ci_low"][auc] <= table["external"][auc]
    np.testing.assert_allclose(
        ext.predictions["colour"]["y_score"],
        colour_model().fit(X[train], y[train]).predict_proba(X[test])[:, 1],
    )


def test_external_validation_checks_the_patients():
    X, y, groups = patches(colour=True, n_patients=8, size=8)
    # The same patient ids on both sides: a warning names them.
    with pytest.warns(UserWarning, match="patient id"):
        compare_models(
            [colour_model()],
            X,
            y,
            groups=groups,
            cv=2,
            X_test=X[::-1] // 2,
            y_test=y[::-1],
            groups_test=groups[::-1],
        )
    with pytest.warns(UserWarning, match="nothing checks"):
        compare_models(
            [colour_model()],
            X,
            y,
            groups=groups,
            cv=2,
            X_test=X // 2,
            y_test=y,
        )
    with pytest.warns(UserWarning, match="identical copy in the training"):
        compare_models(
            [colour_model()],
            X,
            y,
            groups=groups,
            cv=2,
            X_test=X[:8],
            y_test=y[:8],
            groups_test=groups[:8] + 100,
        )
    with pytest.raises(ValueError, match="needs both X_test and y_test"):
        compare_models([colour_model()], X, y, groups=groups, cv=2, X_test=X)
    with pytest.raises(ValueError, match="label"):
        compare_models(
            [colour_model()], X, y, groups=groups, cv=2, X_test=X, y_test=y + 5
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"baselines": True, "scoring": ["accuracy"]}, "keep 'roc_auc'"),
        ({"colour_check": True, "scoring": "accuracy"}, "keep 'roc_auc'"),
        ({"baselines": "yes"}, "baselines must be True"),
        ({"baselines": {"m": LogisticRegression()}}, "both named 'm'"),
    ],
)
def test_bad_shortcut_settings(kwargs, match):
    X, y, groups = patches(colour=True, n_patients=4, size=8)
    with pytest.raises((ValueError, TypeError), match=match):
        compare_models({"m": colour_model()}, X, y, groups=groups, cv=2, **kwargs)


def test_colour_check_needs_rgb_arrays(tmp_path):
    X, y, groups = patches(colour=True, n_patients=4, size=8)
    with pytest.raises(ValueError, match="needs RGB images"):
        compare_models(
            [texture_model()], X[..., :1], y, groups=groups, cv=2, colour_check=True
        )
    paths = []
    for i, image in enumerate(X):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    with pytest.raises(ValueError, match="file paths"):
        compare_models(
            [texture_model()],
            np.asarray(paths),
            y,
            groups=groups,
            cv=2,
            colour_check=True,
        )


def test_report_shows_the_checks_first_and_apart(tmp_path):
    X, y, groups = patches(colour=True, n_patients=14)
    train, test = groups < 10, groups >= 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = compare_models(
            {"texture": texture_model(), "colour": colour_model()},
            X[train],
            y[train],
            groups=groups[train],
            cv=3,
            random_state=0,
            baselines=quick_baselines(),
            colour_check=True,
            X_test=X[test],
            y_test=y[test],
            groups_test=groups[test],
        )
    result.write_report(tmp_path, X=X[train])
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    # The shortcut warning is the first thing after the title.
    first = md.split("\n\n")[1]
    assert first.startswith("> **WARNING:** Possible shortcut")
    assert "<div class='warn'>WARNING: Possible shortcut" in html
    for section in (
        "Shortcut check: trivial baselines",
        "Colour sensitivity",
        "External validation",
    ):
        assert f"## {section}" in md and f"<h2>{section}</h2>" in html
    # Baselines have their own section, not columns of the models' table.
    assert "colour-histogram: mean ± sd over folds" not in md
    assert "| colour-histogram (baseline) |" in md
    assert "Change, colour jitter" in md and "colour-dependent" in md
    payload = json.loads((tmp_path / "metrics.json").read_text())
    assert set(payload["models"]) == {"texture", "colour"}
    assert set(payload["baselines"]) == {"colour-histogram", "thumbnail"}
    assert payload["shortcut_warning"] == result.shortcut_warning
    assert payload["colour_check"]["jitter_strength"] == 0.2
    assert payload["external"]["n_patients"] == 4
    assert payload["timing"]["colour_check"] > 0
    header = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert header.endswith(",role")


def _idc_tree(root, patients, seed):
    rng = np.random.default_rng(seed)
    for patient in patients:
        for label in (0, 1):
            for k in range(4):
                pixels = rng.integers(0, 120, (12, 12, 3)) + 100 * label
                folder = root / str(patient) / str(label)
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels.astype(np.uint8)).save(
                    folder / f"{patient}_idx5_x{50 * k}_y0_class{label}.png"
                )
    return root


def test_cli_external_test_data_and_no_baselines(tmp_path, capsys):
    train = _idc_tree(tmp_path / "train", [1000, 1001, 1002, 1003], seed=0)
    test = _idc_tree(tmp_path / "test", [2000, 2001], seed=1)
    out = tmp_path / "report"
    code = main(
        [
            "benchmark",
            "--data", str(train),
            "--test-data", str(test),
            "--models", "cnn",
            "--set", "cnn.filters=(4,)",
            "--set", "cnn.dense_units=(8,)",
            "--image-size", "12", "12",
            "--epochs", "1",
            "--cv", "2",
            "--no-baselines",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "External test set, cnn: ROC AUC" in printed
    assert "Colour check, cnn:" in printed and "colour check" in printed
    assert "[baseline" not in printed
    md = (out / "report.md").read_text()
    assert "## External validation" in md and "## Colour sensitivity" in md
    assert "Shortcut check" not in md
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["baselines"] == {} and payload["shortcut_warning"] is None
    assert payload["external"]["n_samples"] == 16
    assert payload["external"]["shared_patients"] == 0
    assert payload["settings"]["baselines"] is False
