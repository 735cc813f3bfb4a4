"""skbreast.save / skbreast.load: pickle-free, atomic, and strict about bad files."""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images
from imblearn.under_sampling import RandomUnderSampler
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

import skbreast
from skbreast import CNNClassifier, ResNetClassifier
from skbreast._persistence import FileFormatError, VersionMismatchWarning
from skbreast._persistence import format as _persistence


@pytest.fixture(scope="module")
def fitted():
    X, y = make_images(n=40)
    labels = np.array(["benign", "malignant"])[y]
    clf = CNNClassifier(**SMALL_CNN, epochs=2, early_stopping=True).fit(X, labels)
    return clf, X


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "cnn.skbreast"
    skbreast.save(fitted[0], path)
    return path


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_members(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _with_manifest(saved, path, change):
    members = _members(saved)
    manifest = json.loads(members["skbreast.json"])
    change(manifest)
    members["skbreast.json"] = json.dumps(manifest)
    return _write_members(path, members)


def test_round_trip_in_a_fresh_process(fitted, saved, tmp_path):
    clf, X = fitted
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import numpy as np, skbreast
        clf = skbreast.load({str(saved)!r})
        np.save({str(tmp_path / "proba.npy")!r},
                clf.predict_proba(np.load({str(tmp_path / "X.npy")!r})))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert_array_equal(np.load(tmp_path / "proba.npy"), clf.predict_proba(X))


def test_round_trip_keeps_params_and_attributes(fitted, saved):
    clf, X = fitted
    restored = skbreast.load(str(saved))
    assert type(restored) is CNNClassifier
    assert restored.get_params() == clf.get_params()
    for name in [
        "classes_",
        "image_shape_",
        "input_scale_",
        "history_",
        "n_iter_",
        "best_epoch_",
        "n_features_in_",
    ]:
        expected, got = getattr(clf, name), getattr(restored, name)
        if isinstance(expected, np.ndarray):
            assert got.dtype == expected.dtype
            assert_array_equal(got, expected)
        else:
            assert got == expected and type(got) is type(expected)
    assert_array_equal(restored.predict(X), clf.predict(X))
    assert_array_equal(restored.decision_function(X), clf.decision_function(X))


def test_resnet_round_trip(tmp_path):
    X, y = make_images(n=20)
    clf = ResNetClassifier(**SMALL_RESNET, epochs=1).fit(X, y)
    skbreast.save(clf, tmp_path / "resnet.skbreast")
    restored = skbreast.load(tmp_path / "resnet.skbreast")
    assert type(restored) is ResNetClassifier
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 7]),
        np.array([True, False]),
        np.array(["a", "b"], dtype=object),
        np.array([0.0, 2.0]),
        np.array(["x", "y", "z"]),
    ],
    ids=["int", "bool", "object", "float", "multiclass-str"],
)
def test_labels_round_trip_exactly(labels, tmp_path):
    X, y = make_images(n=18, n_classes=len(labels))
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit(X, labels[y])
    skbreast.save(clf, tmp_path / "m.skbreast")
    restored = skbreast.load(tmp_path / "m.skbreast")
    assert restored.classes_.dtype == clf.classes_.dtype
    assert_array_equal(restored.classes_, clf.classes_)
    predicted = restored.predict(X)
    assert predicted.dtype == clf.predict(X).dtype
    assert [type(v) for v in predicted] == [type(v) for v in clf.predict(X)]


def test_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_images(n=20, size=4, channels=1)
    frame = pd.DataFrame(X.reshape(20, -1), columns=[f"px{i}" for i in range(16)])
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit(frame, y)
    skbreast.save(clf, tmp_path / "m.skbreast")
    restored = skbreast.load(tmp_path / "m.skbreast")
    assert_array_equal(restored.feature_names_in_, clf.feature_names_in_)
    assert restored.feature_names_in_.dtype == object
    assert_array_equal(restored.predict_proba(frame), clf.predict_proba(frame))


def test_storable_parameters_round_trip(tmp_path):
    clf = CNNClassifier(
        input_shape=np.array([8, 8, 3]),
        filters=(4, np.int64(8)),
        learning_rate=np.float32(0.01),
        class_weight={0: 1.0, 1: 2.5},
        optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        sampler=RandomUnderSampler(sampling_strategy={0: 5, 1: 5}, random_state=1),
        checkpoint_dir=tmp_path / "ckpt",
        random_state=np.int32(3),
    )
    skbreast.save(clf, tmp_path / "unfitted.skbreast")
    restored = skbreast.load(tmp_path / "unfitted.skbreast")
    params, expected = restored.get_params(), clf.get_params()
    assert params["filters"] == (4, 8) and type(params["filters"][1]) is np.int64
    assert type(params["learning_rate"]) is np.float32
    assert_array_equal(params["input_shape"], expected["input_shape"])
    assert params["input_shape"].dtype == expected["input_shape"].dtype
    assert params["class_weight"] == {0: 1.0, 1: 2.5}
    assert params["optimizer"].get_config() == expected["optimizer"].get_config()
    assert type(params["sampler"]) is RandomUnderSampler
    assert params["sampler"].get_params() == expected["sampler"].get_params()
    assert params["checkpoint_dir"] == tmp_path / "ckpt"
    assert params["random_state"] == 3 and type(params["random_state"]) is np.int32
    skbreast.save(CNNClassifier(optimizer=keras.optimizers.RMSprop), tmp_path / "c")
    assert skbreast.load(tmp_path / "c").optimizer is keras.optimizers.RMSprop


def test_unfitted_estimator_saves_params_only(tmp_path):
    skbreast.save(CNNClassifier(epochs=3), tmp_path / "m.skbreast")
    assert set(_members(tmp_path / "m.skbreast")) == {"skbreast.json"}
    restored = skbreast.load(tmp_path / "m.skbreast")
    assert restored.epochs == 3
    with pytest.raises(NotFittedError):
        restored.predict(np.zeros((1, 8, 8, 3), np.uint8))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"callbacks": [keras.callbacks.History()]}, "callbacks"),
        ({"random_state": np.random.RandomState(0)}, "random_state"),
        ({"class_weight": {0: object()}}, "class_weight"),
    ],
)
def test_unstorable_parameter_is_named(params, name, tmp_path):
    path = tmp_path / "m.skbreast"
    with pytest.raises(ValueError, match=rf"parameter '{name}'.*set_params\({name}="):
        skbreast.save(CNNClassifier(**params), path)
    assert list(tmp_path.iterdir()) == []


def test_only_skbreast_classes_are_saved(tmp_path):
    class Custom(CNNClassifier):
        pass

    with pytest.raises(TypeError, match="skbreast's own estimators"):
        skbreast.save(Custom(), tmp_path / "m.skbreast")
    with pytest.raises(TypeError):
        skbreast.save(object(), tmp_path / "m.skbreast")


# ------------------------------------------------------------------ bad files
def _truncated(saved, path):
    path.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])


def _flipped_byte(saved, path):
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _keras_file(saved, path):
    path.write_bytes(_members(saved)["model.keras"])


def _no_model(saved, path):
    members = _members(saved)
    del members["model.keras"]
    _write_members(path, members)


def _set(key, value):
    def change(manifest):
        manifest[key] = value

    return lambda saved, path: _with_manifest(saved, path, change)


def _bad_tag(saved, path):
    def change(manifest):
        manifest["params"]["filters"] = {"__pickle__": "gASV"}

    _with_manifest(saved, path, change)


def _object_dtype_attribute(saved, path):
    def change(manifest):
        manifest["attributes"]["classes_"]["__ndarray__"]["dtype"] = "|V8"

    _with_manifest(saved, path, change)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda saved, path: path.write_bytes(b""), "not a valid zip"),
        (_truncated, "not a valid zip|corrupt"),
        (_flipped_byte, "corrupt|not a valid|refused"),
        (lambda saved, path: path.write_text("hello"), "not a valid zip"),
        (
            lambda saved, path: _write_members(path, {"a.txt": b"x"}),
            "no 'skbreast.json' member",
        ),
        (_keras_file, "Keras model file"),
        (_no_model, "no 'model.keras' member"),
        (
            lambda saved, path: _write_members(path, {"skbreast.json": b"{nope"}),
            "not valid JSON",
        ),
        (
            lambda saved, path: _write_members(path, {"skbreast.json": b"[1]"}),
            "does not describe",
        ),
        (_set("format", "other"), "does not describe"),
        (_set("format_version", 99), "file format 99.*Upgrade"),
        (_set("estimator", "os.system"), "class 'os.system'"),
        (_set("params", {"bogus": 1}), r"parameters \['bogus'\]"),
        (_set("params", {"epochs": -5}), "invalid parameters"),
        (_set("attributes", {}), "missing"),
        (_set("fitted", "yes"), "'fitted'"),
        (_bad_tag, "unknown type tag '__pickle__'"),
        (
            lambda saved, path: _write_members(
                path, {"skbreast.json": b"[" * 100_000 + b"]" * 100_000}
            ),
            "not valid JSON",
        ),
        (_object_dtype_attribute, "not allowed"),
    ],
    ids=[
        "empty",
        "truncated",
        "flipped-byte",
        "text",
        "foreign-zip",
        "keras-file",
        "missing-model",
        "bad-json",
        "json-list",
        "wrong-format",
        "future-format",
        "unknown-class",
        "unknown-param",
        "invalid-param",
        "missing-attributes",
        "bad-fitted",
        "unknown-tag",
        "deep-json",
        "void-dtype",
    ],
)
def test_bad_files_raise_a_clear_error(saved, tmp_path, make, match):
    path = tmp_path / "bad file.skbreast"
    make(saved, path)
    with pytest.raises(FileFormatError, match=match) as info:
        skbreast.load(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        skbreast.load(tmp_path / "nope.skbreast")


def test_other_skbreast_version_warns_but_loads(fitted, saved, tmp_path):
    path = _with_manifest(
        saved,
        tmp_path / "old.skbreast",
        lambda m: m["versions"].update(skbreast="0.0.1"),
    )
    with pytest.warns(VersionMismatchWarning, match="written by skbreast 0.0.1"):
        restored = skbreast.load(path)
    assert_array_equal(
        restored.predict_proba(fitted[1]), fitted[0].predict_proba(fitted[1])
    )


def _replace_model(saved, path, model):
    with tempfile.TemporaryDirectory() as tmp:
        model.save(os.path.join(tmp, "m.keras"))
        members = _members(saved)
        members["model.keras"] = Path(tmp, "m.keras").read_bytes()
    return _write_members(path, members)


def test_lambda_layer_refused_without_running_it(saved, tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"

    def touch(x):
        marker.touch()
        return x

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: touch(t))(inputs)
    logits = keras.layers.Dense(1, name="logits")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(logits))
    path = _replace_model(saved, tmp_path / "lambda.skbreast", model)
    marker.unlink()
    with pytest.raises(FileFormatError, match="Lambda layer"):
        skbreast.load(path)
    assert not marker.exists()
    # Without skbreast's own check, Keras' safe mode refuses it too.
    monkeypatch.setattr(_persistence, "check_keras_config", lambda config: None)
    with pytest.raises(FileFormatError, match="(?s)safe_mode=True.*Lambda"):
        skbreast.load(path)
    assert not marker.exists()


def test_keras_objects_from_other_modules_refused(saved, tmp_path):
    members = _members(saved)
    inner = tmp_path / "inner.keras"
    inner.write_bytes(members["model.keras"])
    with zipfile.ZipFile(inner) as archive:
        inner_members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(inner_members["config.json"])
    config["config"]["layers"][1]["module"] = "os"
    inner_members["config.json"] = json.dumps(config).encode()
    _write_members(inner, inner_members)
    members["model.keras"] = inner.read_bytes()
    path = _write_members(tmp_path / "evil.skbreast", members)
    with pytest.raises(FileFormatError, match="Python module 'os'"):
        skbreast.load(path)


def test_structurally_wrong_model_refused(saved, tmp_path):
    inputs = keras.Input((4, 4, 3))
    logits = keras.layers.Dense(1, name="logits")(keras.layers.Flatten()(inputs))
    path = _replace_model(saved, tmp_path / "m.skbreast", keras.Model(inputs, logits))
    with pytest.raises(FileFormatError, match="takes images of shape"):
        skbreast.load(path)


# ------------------------------------------------------------------ atomic writes
def test_failed_save_leaves_the_old_file_intact(fitted, tmp_path, monkeypatch):
    clf, X = fitted
    path = tmp_path / "m.skbreast"
    skbreast.save(clf, str(path))
    before = path.read_bytes()

    def broken_save(model, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        skbreast.save(clf, path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skbreast"]
    assert path.read_bytes() == before
    assert_array_equal(skbreast.load(path).predict_proba(X), clf.predict_proba(X))


def test_save_replaces_and_keeps_no_temporary_file(fitted, tmp_path):
    path = tmp_path / "m.skbreast"
    skbreast.save(CNNClassifier(), path)
    skbreast.save(fitted[0], path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.skbreast"]
    assert skbreast.load(path).n_iter_ == fitted[0].n_iter_
    with pytest.raises(FileNotFoundError):
        skbreast.save(fitted[0], tmp_path / "no" / "such" / "folder.skbreast")


def test_pickling_writes_only_temporary_files_it_removes(fitted, tmp_path, monkeypatch):
    clf, X = fitted
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert list(tmp_path.iterdir()) == []

    def broken_save(model, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        pickle.dumps(clf)
    assert list(tmp_path.iterdir()) == []
