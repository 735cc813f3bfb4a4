"""TransferClassifier: fine-tuning any backbone, proven on the real ImageNet weights."""

import json
import socket

import keras
import numpy as np
import pytest
from _data_helpers import SHARED_DATA
from conftest import make_images
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

import skbreast
from skbreast import ResNetClassifier, TransferClassifier
from skbreast.models import (
    APPLICATION_BACKBONES,
    build_resnet,
    build_transfer,
    describe_weights,
)
from skbreast.models._backbones import APPLICATIONS, imagenet_preprocessing
from skbreast.models._transfer import batch_norm_layers

WEIGHTS_DIR = SHARED_DATA / "weights"
WEIGHTS = WEIGHTS_DIR / "mobilenet_v2_1.0_imagenet_notop.weights.h5"
MODEL_FILE = WEIGHTS_DIR / "mobilenet_v2_1.0_imagenet_notop.keras"
WEIGHTS_SHA256 = "3a46aabfeddadda51c1cc595ddd819ae24f93d1ce1a3ac762a459fb4248d0480"
MODEL_SHA256 = "39f6bd461aee55a894f47e06f884e6ead53503d0ec7882dc686b4556bc899194"

needs_weights = pytest.mark.skipif(
    not WEIGHTS.is_file(), reason="the shared ImageNet MobileNetV2 is not here"
)


@pytest.fixture(scope="module")
def data32():
    return make_images(n=48, size=32)


def _reference_mobilenet():
    """The shared file's weights in a fresh MobileNetV2: what loading must give."""
    net = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    net.load_weights(WEIGHTS)
    return net


def _max_difference(reference, backbone, kind):
    return max(
        float(np.abs(a - b).max())
        for layer in reference.layers
        if isinstance(layer, kind)
        for a, b in zip(
            layer.get_weights(), backbone.get_layer(layer.name).get_weights()
        )
    )


# --------------------------------------------------------------------- the real weights
@needs_weights
def test_head_phase_leaves_the_loaded_weights_exactly_as_in_the_file(data32):
    X, y = data32
    clf = TransferClassifier(
        weights=str(WEIGHTS), epochs=1, early_stopping=False, random_state=0
    ).fit(X, y)
    backbone = clf.model_.get_layer("backbone")
    reference = _reference_mobilenet()
    # Every weight, batch-norm statistics included: loaded as in the file, and
    # untouched by the one epoch in which only the head trains.
    for layer in reference.layers:
        if layer.weights:
            fitted = backbone.get_layer(layer.name).get_weights()
            for a, b in zip(layer.get_weights(), fitted):
                assert_array_equal(a, b)
    assert clf.n_iter_ == 1 and np.isfinite(clf.history_["loss"]).all()


@needs_weights
def test_batch_norm_stays_in_inference_mode_while_fine_tuning(data32):
    X, y = data32
    clf = TransferClassifier(
        weights=str(WEIGHTS), epochs=2, early_stopping=False, random_state=0
    ).fit(X, y)
    backbone = clf.model_.get_layer("backbone")
    reference = _reference_mobilenet()
    # The fine-tuning epoch moved the convolutions but no batch-norm variable.
    assert _max_difference(reference, backbone, keras.layers.Conv2D) > 0
    assert _max_difference(reference, backbone, keras.layers.BatchNormalization) == 0
    assert all(not layer.trainable for layer in batch_norm_layers(backbone))


def test_batch_norm_of_a_pretrained_resnet_stays_frozen(tmp_path):
    # The same rule in ResNetClassifier: a compact backbone from a weights file.
    donor = build_resnet((16, 16, 3), filters=(4, 8), blocks_per_stage=1, seed=3)
    path = tmp_path / "compact.weights.h5"
    donor.get_layer("backbone").save_weights(path)
    X, y = make_images(n=40, size=16)
    clf = ResNetClassifier(
        filters=(4, 8),
        blocks_per_stage=1,
        weights=path,
        freeze_backbone_epochs=1,
        epochs=2,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    fitted = clf.model_.get_layer("backbone")
    reference = donor.get_layer("backbone")
    assert _max_difference(reference, fitted, keras.layers.Conv2D) > 0
    assert _max_difference(reference, fitted, keras.layers.BatchNormalization) == 0


@needs_weights
def test_a_model_file_backbone_brings_its_own_weights(data32):
    X, y = data32
    clf = TransferClassifier(
        str(MODEL_FILE),
        weights_sha256=MODEL_SHA256,
        epochs=1,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    assert clf.backbone_weights_ == {
        "backbone": MODEL_FILE.name,
        "weights": "own",
        "file": MODEL_FILE.name,
        "sha256": MODEL_SHA256,
    }
    source = keras.saving.load_model(MODEL_FILE, compile=False)
    fitted = clf.model_.get_layer("backbone")
    for a, b in zip(source.get_weights(), fitted.get_weights()):
        assert_array_equal(a, b)
    with pytest.raises(ValueError, match="has SHA-256"):
        TransferClassifier(str(MODEL_FILE), weights_sha256="0" * 64, epochs=1).fit(X, y)


@needs_weights
def test_a_file_for_another_network_is_refused_naming_both(data32):
    X, y = data32
    with pytest.raises(
        ValueError, match=rf"{WEIGHTS}.*does not fit the mobilenetv3small backbone"
    ):
        TransferClassifier("mobilenetv3small", weights=str(WEIGHTS), epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="has SHA-256"):
        TransferClassifier(weights=str(WEIGHTS), weights_sha256="0" * 64).fit(X, y)


@needs_weights
def test_save_load_and_onnx_export_match_predict_proba(data32, tmp_path):
    X, y = data32
    labels = np.array(["benign", "malignant"])[y]
    clf = TransferClassifier(
        weights=str(WEIGHTS),
        weights_sha256=WEIGHTS_SHA256,
        epochs=2,
        early_stopping=False,
        random_state=0,
    ).fit(X, labels)
    expected = clf.predict_proba(X[:8])
    path = tmp_path / "transfer.skb"
    skbreast.save(clf, path)
    card = skbreast.read_model_card(path)
    assert card["weights"] == {
        "backbone": "mobilenetv2",
        "weights": "file",
        "file": WEIGHTS.name,
        "sha256": WEIGHTS_SHA256,
    }
    loaded = skbreast.load(path)
    assert_allclose(loaded.predict_proba(X[:8]), expected, atol=1e-6)
    assert loaded.backbone_weights_ == clf.backbone_weights_

    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = clf.export(tmp_path / "transfer.onnx")
    session = ort.InferenceSession(out)
    (inp,) = session.get_inputs()
    proba = session.run(None, {inp.name: X[:8]})[0]
    assert_allclose(proba, expected, atol=1e-4)
    meta = json.loads(session.get_modelmeta().custom_metadata_map["classes"])
    assert meta == ["benign", "malignant"]


def test_offline_imagenet_error_names_the_file(monkeypatch, tmp_path, data32):
    # An empty Keras cache and a closed port on this machine: Keras' real download
    # code runs and fails as it does offline.
    from keras.src.applications import mobilenet_v2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", f"http://127.0.0.1:{port}/")
    X, y = data32
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    with pytest.raises(OSError, match=rf"offline\. Download '{name}' from http") as e:
        TransferClassifier(epochs=1).fit(X, y)
    assert str(tmp_path) in str(e.value) and "weights='/path/to/" in str(e.value)
    # Never a silent random start: nothing was fitted.
    assert describe_weights("mobilenetv2", "auto", 32)["weights"] == "imagenet"


# --------------------------------------------------------------------- any backbone
@pytest.mark.parametrize(
    "family, mode",
    [
        ("resnet", "caffe"),
        ("resnet_v2", "tf"),
        ("mobilenet_v2", "tf"),
        ("densenet", "torch"),
        ("efficientnet", "raw"),
        ("convnext", "raw"),
    ],
)
def test_preprocessing_is_the_familys_own(family, mode):
    x = np.random.RandomState(0).rand(2, 4, 4, 3).astype("float32")
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, imagenet_preprocessing(inputs, mode))
    expected = getattr(keras.applications, family).preprocess_input(255 * x.copy())
    assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "backbone",
    [
        "resnet50",
        "resnet50v2",
        "mobilenetv2",
        "mobilenetv3small",
        "mobilenetv3large",
        "efficientnetb0",
        "efficientnetv2b0",
        "densenet121",
        "convnexttiny",
    ],
)
def test_every_family_builds_and_predicts(backbone):
    assert backbone in APPLICATION_BACKBONES
    model = build_transfer((32, 32, 3), backbone=backbone, weights=None, seed=0)
    x = np.random.RandomState(0).randint(0, 256, (2, 32, 32, 3)).astype("float32")
    out = np.asarray(model(x))
    assert out.shape == (2, 1) and np.isfinite(out).all()
    assert APPLICATIONS[backbone].preprocessing in {"caffe", "tf", "torch", "raw"}


def test_random_weights_train_everything_with_fast_batch_norm():
    X, y = make_images(n=40, size=32)
    clf = TransferClassifier(
        "mobilenetv3small", weights=None, epochs=2, random_state=0
    ).fit(X, y)
    backbone = clf.model_.get_layer("backbone")
    norms = batch_norm_layers(backbone)
    assert norms and all(layer.trainable and layer.momentum == 0.9 for layer in norms)
    assert clf._training_phases(clf.model_, 2) == [(2, 0.001, None)]
    assert clf.backbone_weights_ == {
        "backbone": "mobilenetv3small",
        "weights": "random",
        "file": None,
        "sha256": None,
    }
    # Same seed, same network.
    again = TransferClassifier(
        "mobilenetv3small", weights=None, epochs=2, random_state=0
    ).fit(X, y)
    assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def _tiny_backbone():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    return keras.Model(inputs, keras.layers.ReLU()(x), name="tiny")


def test_a_keras_model_backbone_is_copied_never_changed():
    X, y = make_images(n=40, size=8)
    net = _tiny_backbone()
    before = [w.copy() for w in net.get_weights()]
    clf = TransferClassifier(net, epochs=3, early_stopping=False, random_state=0)
    assert clone(clf).backbone is not net
    clf.fit(X, y)
    for a, b in zip(before, net.get_weights()):
        assert_array_equal(a, b)
    fitted = clf.model_.get_layer("backbone")
    assert fitted is not net
    # Own weights: the head epoch first, then fine-tuning with batch norm frozen.
    assert not fitted.get_layer("bn").trainable
    assert not np.array_equal(fitted.get_layer("conv").get_weights()[0], before[0])
    for a, b in zip(fitted.get_layer("bn").get_weights(), before[2:]):
        assert_array_equal(a, b)  # gamma, beta and the moving statistics
    assert clf.backbone_weights_["weights"] == "own"
    # weights=None: the same architecture from random weights.
    fresh = TransferClassifier(net, weights=None, epochs=1, random_state=0).fit(X, y)
    assert fresh.model_.get_layer("backbone").get_layer("bn").trainable
    with pytest.raises(ValueError, match="keras.Model backbone brings its own"):
        TransferClassifier(net, weights="imagenet").fit(X, y)


def test_fine_tune_layers_unfreezes_the_top_only():
    X, y = make_images(n=40, size=32)
    clf = TransferClassifier(
        "mobilenetv3small", weights=None, epochs=1, random_state=0
    ).fit(X, y)
    phases = TransferClassifier(
        "mobilenetv3small", fine_tune_layers=5, epochs=4
    )._training_phases(clf.model_, 4)
    assert [(n, rate) for n, rate, _ in phases] == [(1, 0.001), (3, 0.0001)]
    for _, _, prepare in phases:
        prepare(clf.model_)
    backbone = clf.model_.get_layer("backbone")
    trainable = [layer.name for layer in backbone.layers if layer.trainable]
    assert trainable and set(trainable) <= {lay.name for lay in backbone.layers[-5:]}
    assert all(not layer.trainable for layer in batch_norm_layers(backbone))


def test_keras_hub_presets_are_fine_tuned_when_keras_hub_is_installed(fake_keras_hub):
    loaded = fake_keras_hub
    X, y = make_images(n=40, size=8)
    clf = TransferClassifier("fake_vit_preset", epochs=2, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (40, 2)
    assert loaded == ["fake_vit_preset"]
    assert clf.backbone_weights_["weights"] == "own"
    with pytest.raises(ValueError, match="preset brings its own weights"):
        TransferClassifier("fake_vit_preset", weights=None).fit(X, y)


def test_gradcam_reads_the_backbone(data32):
    from skbreast.inspection import gradcam

    if keras.backend.backend() != "tensorflow":
        pytest.skip("Grad-CAM needs the TensorFlow backend")
    X, y = data32
    clf = TransferClassifier(
        "mobilenetv3small", weights=None, epochs=1, random_state=0
    ).fit(X, y)
    heatmaps = gradcam(clf, X[:2])
    assert heatmaps.shape[0] == 2 and np.isfinite(heatmaps).all()


@needs_weights
def test_command_line_reports_the_weights_used():
    import argparse

    from skbreast.cli.estimators import make_estimators

    args = argparse.Namespace(
        models="cnn,transfer",
        epochs=1,
        random_state=0,
        verbose=False,
        settings=[f"transfer.weights={WEIGHTS}", "transfer.backbone=mobilenetv2"],
    )
    estimators, params = make_estimators(args)
    assert isinstance(estimators["transfer"], TransferClassifier)
    assert params["transfer"]["weights_used"]["sha256"] == WEIGHTS_SHA256
    assert "weights_used" not in params["cnn"]
