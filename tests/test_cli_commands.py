"""`skbreast train`, `predict`, `evaluate`, `info` and `export` on a made BreakHis tree.

The tests write their own data: a BreakHis-layout tree of 40 small images (48x36,
8 patients, a class signal in the colour), so that the module runs without the
shared data. One tiny model (32x32 images, a 4-filter CNN, 1 epoch, 24 images) is
trained once for the module; every command then runs on it in-process, except the
checks of start-up imports and noise, which need a fresh interpreter.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from _data_helpers import write_image
from PIL import Image

import skbreast
from skbreast.cli import main

TINY = [
    "--image-size",
    "32",
    "32",
    "--epochs",
    "1",
    "--set",
    "filters=(4,)",
    "--set",
    "dense_units=(8,)",
]
CLASSES = ["benign", "malignant"]

# (class, type folder, type code, patient): 4 benign and 4 malignant patients.
PATIENTS = [
    ("benign", "adenosis", "A", "10001"),
    ("benign", "adenosis", "A", "10002"),
    ("benign", "fibroadenoma", "F", "10003"),
    ("benign", "fibroadenoma", "F", "10004"),
    ("malignant", "ductal_carcinoma", "DC", "20001"),
    ("malignant", "ductal_carcinoma", "DC", "20002"),
    ("malignant", "papillary_carcinoma", "PC", "20003"),
    ("malignant", "papillary_carcinoma", "PC", "20004"),
]
PER_PATIENT = 5


@pytest.fixture(scope="module")
def breakhis(tmp_path_factory):
    """A BreakHis-layout tree of 40 noisy 48x36 images (not the model's size)."""
    base = tmp_path_factory.mktemp("breakhis")
    breast = base / "BreaKHis_v1" / "histology_slides" / "breast"
    rng = np.random.default_rng(0)
    for cls, folder, code, patient in PATIENTS:
        letter = "B" if cls == "benign" else "M"
        slide = breast / cls / "SOB" / folder / f"SOB_{letter}_{code}_14-{patient}"
        shade = np.array([220, 120, 190] if letter == "B" else [90, 40, 130])
        for seq in range(1, PER_PATIENT + 1):
            noise = rng.integers(-40, 41, (36, 48, 3))
            pixels = np.clip(shade + noise, 0, 255).astype(np.uint8)
            path = (
                slide / "100X" / f"SOB_{letter}_{code}-14-{patient}-100-{seq:03d}.png"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path)
    return base


def _one_line_error(capsys, message):
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and "np.str_" not in err
    errors = [line for line in err.splitlines() if line.startswith("skbreast: error")]
    assert len(errors) == 1, err
    return err


@pytest.fixture(scope="module")
def trained(tmp_path_factory, breakhis):
    folder = tmp_path_factory.mktemp("trained")
    out = folder / "model.skb"
    args = ["train", "--data", str(breakhis), "--max-images", "24", *TINY]
    code = main(
        [*args, "--cv", "2", "--description", "a test model", "--out", str(out)]
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory, breakhis):
    """A folder of 6 BreakHis images (48x36, not the model's size) and a bad file."""
    folder = tmp_path_factory.mktemp("images")
    sources = sorted(breakhis.rglob("*.png"))
    for path in sources[:3] + sources[-3:]:
        shutil.copy(path, folder / path.name)
    (folder / "nested").mkdir()
    write_image(folder / "nested" / "small.png", (20, 12), (200, 90, 160))
    (folder / "nested" / "broken.png").write_bytes(b"not an image")
    return folder


# ------------------------------------------------------------------ train / info
def test_train_writes_a_model_card(trained, capsys):
    card = skbreast.read_model_card(trained)
    assert card["classes"] == CLASSES
    assert card["image_size"] == [32, 32, 3]
    assert card["description"] == "a test model"
    data = card["training_data"]
    assert data["images"] == 24 and "BreakHis" in data["layout"]
    assert sum(data["by_class"].values()) == 24
    by_patient = data["by_patient"]
    assert len(by_patient) == data["patients"]
    assert sum(sum(c.values()) for c in by_patient.values()) == 24
    assert data["patients_passed_to_fit"] is True
    cv = card["cross_validation"]
    assert "by patient" in cv["splitter"] and cv["n_splits"] == 2
    for key in ("accuracy", "roc_auc", "recall", "specificity"):
        assert len(cv["metrics"][key]["folds"]) == 2
    assert card["command"].startswith("skbreast train --data")
    assert card["versions"]["keras"] and card["created"]
    assert card["params"]["filters"] == [4]
    estimator = skbreast.load(trained)
    assert estimator.model_card_ == card
    assert list(estimator.classes_) == CLASSES


def test_info_prints_the_card(trained, capsys):
    assert main(["info", str(trained)]) == 0
    out = capsys.readouterr().out
    for text in (
        "Model: CNNClassifier (fitted)",
        "Classes: benign, malignant",
        "Image size: 32x32x3",
        "Training data:",
        "by_patient:",
        "Cross-validation:",
        "roc_auc:",
        "Command: skbreast train",
    ):
        assert text in out, text
    assert main(["info", str(trained), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == skbreast.read_model_card(trained)


def test_help_and_info_import_no_framework(trained):
    # What keeps them fast: no framework is imported (those take seconds). The
    # start-up time itself is measured in benchmarks, not asserted here.
    code = (
        "import sys\n"
        "from skbreast.cli import main\n"
        f"assert main(['info', {str(trained)!r}]) == 0\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "Classes: benign, malignant" in result.stdout


def test_unknown_set_key_and_bad_values(trained, breakhis, capsys, tmp_path):
    args = ["train", "--data", str(breakhis), "--out", str(tmp_path / "m.skb")]
    assert main([*args, "--set", "nope=3"]) == 1
    err = _one_line_error(capsys, "--set 'nope=3': CNNClassifier has no parameter")
    assert "valid: balance" in err or "valid: batch_size" in err
    assert main([*args, "--set", "epochs=-1"]) == 1
    _one_line_error(capsys, "cnn:")
    assert main([*args, "--cv", "1"]) == 1
    _one_line_error(capsys, "--cv must be at least 2")
    assert main([*args, "--model", "vgg"]) == 2
    assert not (tmp_path / "m.skb").exists()


def test_existing_outputs_are_refused_unless_forced(
    trained, images, breakhis, capsys, tmp_path
):
    args = ["train", "--data", str(breakhis), "--out", str(trained)]
    assert main(args) == 1
    _one_line_error(capsys, "exists already; pass --force")
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("keep me")
    assert main(["predict", str(trained), str(images), "--out", str(csv_path)]) == 1
    _one_line_error(capsys, "exists already; pass --force")
    assert csv_path.read_text() == "keep me"
    report = tmp_path / "report"
    report.mkdir()
    (report / "x.txt").write_text("x")
    assert (
        main(["evaluate", str(trained), "--data", str(images), "--out", str(report)])
        == 1
    )
    _one_line_error(capsys, "not empty; pass --force")
    args = ["predict", str(trained), str(images), "--out", str(csv_path), "--force"]
    assert main(args) == 0


# ------------------------------------------------------------------ predict
def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_predict_writes_one_row_per_file(trained, images, capsys, tmp_path):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(trained), str(images), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "resized to 32x32" in err and "1 file(s) could not be read" in err
    rows = _rows(out)
    assert list(rows[0]) == [
        "path",
        "label",
        "proba_benign",
        "proba_malignant",
        "error",
    ]
    assert len(rows) == 8  # 6 BreakHis images, a small one, a broken one
    broken = [r for r in rows if r["path"].endswith("broken.png")]
    assert len(broken) == 1 and broken[0]["label"] == "" and broken[0]["error"]
    assert "Cannot read image file" in broken[0]["error"]
    good = [r for r in rows if not r["error"]]
    proba = np.array(
        [[float(r["proba_benign"]), float(r["proba_malignant"])] for r in good]
    )
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert {r["label"] for r in good} <= set(CLASSES)
    # The same probabilities as predict_proba on the decoded, resized images.
    from skbreast.datasets._imageio import read_images

    estimator = skbreast.load(trained)
    X = read_images([r["path"] for r in good], (32, 32))
    np.testing.assert_allclose(proba, estimator.predict_proba(X), atol=1e-5)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_predict_to_stdout_with_tta_and_gradcam(trained, images, capsys, tmp_path):
    overlays = tmp_path / "gradcam"
    files = [str(p) for p in sorted(images.glob("*.png"))[:2]]
    args = ["predict", str(trained), *files, "--tta", "--gradcam", str(overlays)]
    assert main([*args, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --quiet: no progress lines
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("path,label,proba_benign") and len(lines) == 3
    pngs = sorted(p.name for p in overlays.iterdir())
    assert pngs == sorted(os.path.basename(f)[:-4] + ".png" for f in files)


def test_predict_strict_stops_and_writes_nothing(trained, images, capsys, tmp_path):
    out = tmp_path / "p.csv"
    args = ["predict", str(trained), str(images), "--out", str(out), "--strict"]
    assert main(args) == 1
    _one_line_error(capsys, "broken.png")
    assert not out.exists() and not os.listdir(tmp_path)


def test_an_interrupted_predict_leaves_no_file(trained, images, tmp_path, monkeypatch):
    from skbreast.cli import predict

    real = predict._read_batch
    calls = []

    def interrupted(paths, shape):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(paths, shape)

    monkeypatch.setattr(predict, "_read_batch", interrupted)
    out = tmp_path / "p.csv"
    args = ["predict", str(trained), str(images), "--out", str(out)]
    assert main([*args, "--batch-size", "2"]) == 130
    assert not out.exists() and not os.listdir(tmp_path)


def test_predict_bad_paths(trained, capsys, tmp_path):
    assert main(["predict", str(trained), str(tmp_path)]) == 1
    _one_line_error(capsys, "No image files under")
    assert main(["predict", str(trained), str(tmp_path / "nope.png")]) == 1
    _one_line_error(capsys, "No such file or folder")


# ------------------------------------------------------------------ bad model files
def _newer(trained, path):
    with zipfile.ZipFile(trained) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(members["skbreast.json"])
    manifest["format_version"] = 99
    manifest["versions"]["skbreast"] = "9.0"
    members["skbreast.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("newer", "Upgrade skbreast to load it"),
        ("corrupt", "not a valid zip archive"),
        ("foreign", "has no 'skbreast.json' member"),
        ("missing", "No such model file"),
    ],
)
def test_bad_model_files_are_one_line_errors(
    trained, images, kind, message, capsys, tmp_path
):
    path = tmp_path / f"{kind}.skb"
    if kind == "newer":
        _newer(trained, path)
    elif kind == "corrupt":
        path.write_bytes(trained.read_bytes()[:500])
    elif kind == "foreign":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    for command in (
        ["info", str(path)],
        ["predict", str(path), str(images)],
        ["export", str(path), "--format", "onnx", "--out", str(tmp_path / "x.onnx")],
        ["evaluate", str(path), "--data", str(images), "--out", str(tmp_path / "r")],
    ):
        assert main(command) == 1, command
        _one_line_error(capsys, message)


def test_image_errors_from_the_estimator_name_plain_paths(trained, images):
    estimator = skbreast.load(trained)
    broken = np.array([str(images / "nested" / "broken.png")])  # np.str_ elements
    with pytest.raises(ValueError) as info:
        estimator.predict(broken)
    assert "np.str_" not in str(info.value) and "broken.png" in str(info.value)


# ------------------------------------------------------------------ evaluate
def test_evaluate_writes_the_held_out_report(trained, breakhis, capsys, tmp_path):
    out = tmp_path / "report"
    args = [
        "evaluate",
        str(trained),
        "--data",
        str(breakhis),
        "--max-images",
        "30",
    ]
    assert main([*args, "--n-resamples", "100", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ROC AUC:" in printed and "Report:" in printed
    for name in ("report.html", "report.md", "metrics.json", "metrics.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "roc_curve.png").exists() and (out / "confusion_matrix.png").exists()
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["data"]["images"] == 30
    assert set(payload["metrics"]) >= {
        "accuracy",
        "roc_auc",
        "patient_accuracy",
        "sensitivity_at_90_specificity",
        "specificity_at_95_sensitivity",
        "brier_score",
        "expected_calibration_error",
    }
    assert 0 <= payload["metrics"]["brier_score"] <= 1
    ci = payload["confidence_intervals"]["roc_auc"]
    assert ci["unit"] == "patient" and ci["low"] <= payload["metrics"]["roc_auc"]
    assert np.sum(payload["confusion_matrix"]) == 30
    assert payload["model"]["model_card"]["classes"] == CLASSES
    html = (out / "report.html").read_text()
    assert "skbreast evaluation report" in html and "95% CI" in html


def test_evaluate_refuses_classes_the_model_does_not_know(trained, capsys, tmp_path):
    data = tmp_path / "data"
    for label in ("cats", "dogs"):
        for k in range(3):
            write_image(data / label / f"{k}.png", (12, 12), (k * 40, 90, 160))
    assert (
        main(
            [
                "evaluate",
                str(trained),
                "--data",
                str(data),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 1
    )
    _one_line_error(capsys, "that the model does not predict")


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def uint8_images(breakhis):
    from skbreast.datasets._imageio import read_images

    paths = sorted(breakhis.rglob("*.png"))[::5]
    return read_images(paths, (32, 32))


def test_export_onnx_matches_predict_proba(trained, uint8_images, capsys, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "model.onnx"
    assert main(["export", str(trained), "--format", "onnx", "--out", str(out)]) == 0
    assert "uint8" in capsys.readouterr().out
    session = ort.InferenceSession(str(out))
    (inp,) = session.get_inputs()
    assert inp.type == "tensor(uint8)" and list(inp.shape[1:]) == [32, 32, 3]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == CLASSES
    assert json.loads(meta["model_card"])["image_size"] == [32, 32, 3]
    proba = session.run(None, {inp.name: uint8_images})[0]
    expected = skbreast.load(trained).predict_proba(uint8_images)
    np.testing.assert_allclose(proba, expected, atol=1e-4)


def test_export_savedmodel_and_tflite_match_predict_proba(
    trained, uint8_images, tmp_path
):
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel and TFLite export need the TensorFlow backend")
    import tensorflow as tf

    estimator = skbreast.load(trained).set_params(tta=True)
    expected = estimator.predict_proba(uint8_images)
    folder = estimator.export(tmp_path / "saved", format="savedmodel")
    served = tf.saved_model.load(folder)
    proba = served.serve(tf.constant(uint8_images)).numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-4)
    card = json.loads(
        (tmp_path / "saved" / "assets.extra" / "skbreast_model_card.json").read_text()
    )
    assert card["classes"] == CLASSES

    out = tmp_path / "model.tflite"
    assert (
        main(["export", str(trained), "--format", "tflite", "--out", str(out), "--tta"])
        == 0
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(out))
    (inp,) = interpreter.get_input_details()
    assert inp["dtype"] == np.uint8
    interpreter.resize_tensor_input(inp["index"], uint8_images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], uint8_images)
    interpreter.invoke()
    proba = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(proba, expected, atol=1e-3)


def test_export_refuses_bad_formats_and_paths(trained, capsys, tmp_path):
    assert main(["export", str(trained), "--format", "pt"]) == 2
    out = tmp_path / "model.txt"
    assert main(["export", str(trained), "--format", "onnx", "--out", str(out)]) == 1
    _one_line_error(capsys, "ending in '.onnx'")
    estimator = skbreast.load(trained)
    with pytest.raises(ValueError, match="format must be one of"):
        estimator.export(tmp_path / "m.x", format="torchscript")


# ------------------------------------------------------------------ start-up noise
def test_no_framework_noise_on_stderr(trained, breakhis, tmp_path):
    image = sorted(breakhis.rglob("*.png"))[0]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = tmp_path / "p.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "skbreast",
            "predict",
            str(trained),
            str(image),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for noise in ("I0000", "E0000", "W0000", "absl", "oneDNN", "cuda", "Traceback"):
        assert noise not in result.stderr, result.stderr
    assert result.stderr.startswith("Predicting 1 images")
    assert len(_rows(out)) == 1


# ------------------------------------------------------------------ the linear probe
def _tiny_backbone_file(folder):
    import keras

    init = keras.initializers.GlorotUniform(seed=0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=init)(inputs)
    path = folder / "backbone.keras"
    keras.Model(inputs, keras.layers.ReLU()(x)).save(path)
    return path


def test_probe_trains_predicts_evaluates_and_exports(
    breakhis, uint8_images, capsys, tmp_path
):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    backbone = _tiny_backbone_file(tmp_path)
    model = tmp_path / "probe.skb"
    args = ["train", "--data", str(breakhis), "--max-images", "24"]
    args += ["--image-size", "32", "32", "--model", "probe"]
    args += ["--set", f"backbone={backbone}", "--set", "Cs=3", "--out", str(model)]
    assert main(args) == 0
    assert "LinearProbeClassifier" in capsys.readouterr().out
    card = skbreast.read_model_card(model)
    assert card["estimator"] == "LinearProbeClassifier"
    assert set(card["fit"]) == {"C", "n_embedding_features"}
    assert card["training_data"]["patients_passed_to_fit"] is True
    assert main(["info", str(model)]) == 0
    assert "LinearProbeClassifier" in capsys.readouterr().out

    out = tmp_path / "predictions.csv"
    files = [str(p) for p in sorted(breakhis.rglob("*.png"))[:4]]
    assert main(["predict", str(model), *files, "--out", str(out)]) == 0
    assert len(_rows(out)) == 4

    report = tmp_path / "report"
    args = ["evaluate", str(model), "--data", str(breakhis)]
    args += ["--max-images", "30", "--n-resamples", "50", "--out", str(report)]
    assert main(args) == 0
    assert (report / "metrics.json").exists()

    onnx = tmp_path / "probe.onnx"
    assert main(["export", str(model), "--format", "onnx", "--out", str(onnx)]) == 0
    session = ort.InferenceSession(str(onnx))
    (inp,) = session.get_inputs()
    proba = session.run(None, {inp.name: uint8_images})[0]
    expected = skbreast.load(model).predict_proba(uint8_images)
    np.testing.assert_allclose(proba, expected, atol=1e-4)


def test_probe_set_errors_name_the_probe(breakhis, capsys, tmp_path):
    args = ["train", "--data", str(breakhis), "--model", "probe"]
    args += ["--set", "epochs=3", "--out", str(tmp_path / "m.skb")]
    assert main(args) == 1
    _one_line_error(capsys, "LinearProbeClassifier has no parameter 'epochs'")


def test_predict_with_an_image_cache_decodes_each_file_once(
    trained, images, tmp_path, monkeypatch
):
    from skbreast.datasets import _image_cache, get_image_cache

    cache = tmp_path / "cache"
    before = get_image_cache()
    outputs = []
    decoded = []
    original = _image_cache.read_images

    def counting(paths, *args, **kwargs):
        decoded.extend(paths)
        return original(paths, *args, **kwargs)

    monkeypatch.setattr(_image_cache, "read_images", counting)
    for run in range(2):
        out = tmp_path / f"run{run}.csv"
        args = ["predict", str(trained), str(images), "--image-cache", str(cache)]
        assert main([*args, "--out", str(out)]) == 0
        outputs.append(_rows(out))
        if run == 0:
            first = len(decoded)
    assert outputs[0] == outputs[1]
    # The broken file is tried again (it is never cached); the others are read back.
    assert first >= 7 and len(decoded) - first <= 1
    assert any(cache.rglob("*")) and get_image_cache() == before
