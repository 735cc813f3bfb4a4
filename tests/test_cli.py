"""The `skbreast` console script, run in-process on tiny data."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from _data_helpers import make_breakhis_tree, write_image

from skbreast.cli import main
from skbreast.cli.data import detect_layout
from skbreast.cli.engine import TIME_METRICS
from skbreast.metrics import get_metric_names

FAST = ["--image-size", "16", "16", "--epochs", "1", "--cv", "2"]
SMALL = [
    "--set",
    "cnn.filters=(4,)",
    "--set",
    "cnn.dense_units=(8,)",
    "--set",
    "resnet.filters=(16, 32)",
]
METRICS = get_metric_names("image")
PATIENT_METRICS = get_metric_names("patient")
REPORT_FILES = [
    "report.html",
    "report.md",
    "metrics.json",
    "metrics.csv",
    "roc_curves.png",
    "confusion_matrices.png",
    "training_curves.png",
    "calibration.png",
]
# The error analysis shows each model's worst-scored images: with Grad-CAM, which
# needs TensorFlow; on other backends as plain thumbnails, and the report notes why.
GRADCAM_FILES = (
    ["gradcam_cnn.png", "gradcam_resnet.png"]
    if keras.backend.backend() == "tensorflow"
    else ["worst_images_cnn.png", "worst_images_resnet.png"]
)
REPORT_PNGS = [f for f in REPORT_FILES if f.endswith(".png")]


@pytest.fixture(scope="module")
def generated_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    code = main(["benchmark", "--n-samples", "80", *FAST, *SMALL, "--out", str(out)])
    return code, out


def test_benchmark_writes_every_file(generated_report):
    code, out = generated_report
    assert code == 0
    for name in [*REPORT_FILES, *GRADCAM_FILES]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    # Self-contained: every figure embedded (six), no file references.
    assert html.count('src="data:image/png;base64,') == len(REPORT_PNGS) + len(
        GRADCAM_FILES
    )
    assert '.png"' not in html
    md = (out / "report.md").read_text()
    for name in ["roc_curves.png", "training_curves.png", *GRADCAM_FILES]:
        assert f"]({name})" in md
    assert "StratifiedGroupKFold" in md and "WARNING" not in md


def test_benchmark_metrics_json(generated_report):
    _, out = generated_report
    payload = json.loads((out / "metrics.json").read_text())
    assert set(payload["models"]) == {"cnn", "resnet"}
    for model in payload["models"].values():
        metrics = model["metrics"]
        for key in (*METRICS, *PATIENT_METRICS, *TIME_METRICS):
            assert len(metrics[key]["folds"]) == 2, key
            assert "mean" in metrics[key] and "std" in metrics[key]
        assert np.sum(model["confusion_matrix"]) == 80
        assert "precision" in model["classification_report"]
    assert model["params"]["filters"] == [16, 32]
    assert payload["data"]["images"] == 80 and payload["data"]["patients"] == 20
    assert payload["random_state"] == 0
    for key in ("skbreast", "keras", "backend", "tensorflow", "scikit-learn", "numpy"):
        assert key in payload["versions"]
    assert payload["command"].startswith("skbreast benchmark --n-samples 80")
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert rows[0] == "model,metric,mean,std,fold_1,fold_2"
    assert len(rows) == 1 + 2 * (len(METRICS) + len(PATIENT_METRICS) + 2)


def _idc_tree(root):
    rng = np.random.RandomState(0)
    for p in range(4):
        patient = f"{1000 + p}"
        for label in (0, 1):
            for k in range(5):
                shade = tuple(int(v) for v in rng.randint(0, 255, 3))
                write_image(
                    root
                    / patient
                    / str(label)
                    / f"{patient}_idx5_x{50 * k}_y0_class{label}.png",
                    (10, 10),
                    shade,
                )
    return root


def _class_tree(root):
    for label, shade in (("0", 30), ("1", 220)):
        for k in range(12):
            write_image(root / label / f"p{k}.jpg", (12, 12), (shade, k * 10, 90))
    return root


def test_detect_layouts(tmp_path):
    assert detect_layout(_idc_tree(tmp_path / "idc")) == "idc"
    assert detect_layout(_class_tree(tmp_path / "folder")) == "folder"
    make_breakhis_tree(tmp_path / "bh")
    assert detect_layout(tmp_path / "bh") == "breakhis"
    assert detect_layout(tmp_path / "bh" / "BreaKHis_v1") == "breakhis"


def test_benchmark_on_idc_tree_splits_by_patient(tmp_path, capsys):
    root = _idc_tree(tmp_path / "idc")
    out = tmp_path / "out"
    args = ["benchmark", "--data", str(root), "--models", "cnn", *FAST, *SMALL[:4]]
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Found IDC layout" in err
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["data"]["patients"] == 4
    assert "by patient" in payload["cross_validation"]
    assert "patient_roc_auc" in payload["models"]["cnn"]["metrics"]


def test_benchmark_on_class_folders_warns_loudly(tmp_path, capsys):
    root = _class_tree(tmp_path / "folder")
    out = tmp_path / "out"
    args = ["benchmark", "--data", str(root), "--models", "resnet", *FAST]
    code = main(
        [
            *args,
            "--set",
            "resnet.filters=(16,)",
            "--max-images",
            "20",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert (
        "Found class-folder layout" in err and "WARNING: The data has no patient" in err
    )
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["data"]["images"] == 20
    assert payload["warnings"] and "StratifiedKFold" in payload["cross_validation"]
    assert "patient_accuracy" not in payload["models"]["resnet"]["metrics"]
    assert "WARNING" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["benchmark", "--cv"], 2, "expected one argument"),
        (["benchmark", "--bogus"], 2, "unrecognized arguments"),
        (["benchmark", "--image-size", "a", "b"], 2, "--image-size"),
        (["benchmark", "--data", "/no/such/folder"], 1, "is not a folder"),
        (["benchmark", "--models", "cnn,vgg"], 1, "unknown model"),
        (["benchmark", "--set", "cnn.nope=3"], 1, "valid: balance, batch_size"),
        (["benchmark", "--set", "cnn.epochs"], 1, "MODEL.PARAM=VALUE"),
        (["benchmark", "--set", "cnn.epochs=-3"], 1, "cnn:"),
        (["benchmark", "--cv", "1"], 1, "--cv must be"),
        (["benchmark", "--n-samples", "40", "--cv", "30"], 1, "patients"),
        ([], 2, "benchmark"),
    ],
)
def test_bad_arguments_exit_with_a_message(args, code, message, capsys, tmp_path):
    assert main([*args, "--out", str(tmp_path)] if args else args) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_empty_folder_is_a_data_error(tmp_path, capsys):
    assert main(["benchmark", "--data", str(tmp_path)]) == 1
    assert "error: No known image layout" in capsys.readouterr().err


def test_python_dash_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "skbreast", "benchmark", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "--max-images" in result.stdout


def test_benchmark_compares_a_linear_probe(tmp_path, capsys):
    keras_init = keras.initializers.GlorotUniform(seed=0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=keras_init)(inputs)
    backbone = tmp_path / "backbone.keras"
    keras.Model(inputs, keras.layers.ReLU()(x)).save(backbone)
    out = tmp_path / "out"
    args = ["benchmark", "--n-samples", "80", "--models", "cnn,probe", *FAST]
    args += [*SMALL[:4], "--set", f"probe.backbone={backbone}", "--set", "probe.Cs=3"]
    assert main([*args, "--no-baselines", "--out", str(out)]) == 0
    payload = json.loads((out / "metrics.json").read_text())
    assert set(payload["models"]) == {"cnn", "probe"}
    probe = payload["models"]["probe"]
    assert probe["params"]["backbone"] == str(backbone)
    assert 0 <= probe["metrics"]["roc_auc"]["mean"] <= 1
