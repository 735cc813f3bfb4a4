"""The pure Keras builders, pretrained weights and fine-tuning."""

import keras
import numpy as np
import pytest
from conftest import make_images
from numpy.testing import assert_array_equal

from skbreast import ResNetClassifier
from skbreast.models import RESNET_BACKBONES, build_cnn, build_resnet


def test_build_cnn_has_no_sklearn_and_works_at_any_size():
    for shape in [(50, 50, 3), (1, 2, 1), (7, 9, 4)]:
        model = build_cnn(shape, seed=0)
        out = model(np.zeros((2, *shape), np.uint8))
        assert tuple(out.shape) == (2, 1)
    assert build_cnn((8, 8, 3), 5).output_shape == (None, 5)
    with pytest.raises(ValueError, match="n_outputs"):
        build_cnn((8, 8, 3), 2)


def test_same_seed_same_weights():
    a, b = build_cnn((8, 8, 3), seed=3), build_cnn((8, 8, 3), seed=3)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert_array_equal(wa, wb)
    c = build_resnet((8, 8, 3), seed=3)
    d = build_resnet((8, 8, 3), seed=3)
    for wc, wd in zip(c.get_weights(), d.get_weights()):
        assert_array_equal(wc, wd)


def test_backbones_listed():
    assert "compact" in RESNET_BACKBONES and "resnet50" in RESNET_BACKBONES


def test_imagenet_preprocessing_caffe():
    model = build_resnet((32, 32, 3), backbone="resnet50", seed=0)
    pre = keras.Model(model.input, model.get_layer("imagenet_preprocess").output)
    pixel = np.array([10, 20, 30], np.uint8)
    out = np.asarray(pre(np.tile(pixel, (1, 32, 32, 1))))[0, 0, 0]
    expected = pixel[::-1].astype(np.float32) - np.array([103.939, 116.779, 123.68])
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert not model.get_layer("imagenet_preprocess").trainable


def test_imagenet_weights_offline_error(monkeypatch, tmp_path):
    # Point Keras at an empty cache and a closed port on this machine: the real
    # download code runs and fails as it does offline.
    import socket

    from keras.src.applications import resnet

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(resnet, "BASE_WEIGHTS_PATH", f"http://127.0.0.1:{port}/")
    with pytest.raises(
        OSError, match="resnet50_weights_tf_dim_ordering_tf_kernels_notop"
    ):
        build_resnet((32, 32, 3), backbone="resnet50", weights="imagenet")
    with pytest.raises(ValueError, match="compact backbone has no ImageNet weights"):
        build_resnet((32, 32, 3), weights="imagenet")


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.weights.h5"):
        build_resnet((8, 8, 3), weights=tmp_path / "nothing.weights.h5")


def _saved_compact_backbone(tmp_path):
    donor = build_resnet((8, 8, 3), filters=(4, 8), blocks_per_stage=1, seed=42)
    path = tmp_path / "backbone.weights.h5"
    donor.get_layer("backbone").save_weights(path)
    return donor.get_layer("backbone").get_weights(), str(path)


def test_local_weights_and_frozen_backbone(tmp_path):
    saved, path = _saved_compact_backbone(tmp_path)
    X, y = make_images(n=32)
    clf = ResNetClassifier(
        filters=(4, 8),
        blocks_per_stage=1,
        weights=path,
        epochs=2,
        freeze_backbone_epochs=2,
        random_state=0,
    ).fit(X, y)
    # Loaded from the file, then frozen for the whole (two-epoch) fit.
    for now, before in zip(clf.model_.get_layer("backbone").get_weights(), saved):
        assert_array_equal(now, before)


def test_fine_tuning_unfreezes_top_layers(tmp_path):
    saved, path = _saved_compact_backbone(tmp_path)
    X, y = make_images(n=32)
    clf = ResNetClassifier(
        filters=(4, 8),
        blocks_per_stage=1,
        weights=path,
        epochs=3,
        freeze_backbone_epochs=1,
        fine_tune_layers=5,
        fine_tune_learning_rate=0.05,
        random_state=0,
    ).fit(X, y)
    backbone = clf.model_.get_layer("backbone")
    assert clf.n_iter_ == 3
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.05)
    trainable = [layer.name for layer in backbone.layers if layer.trainable]
    # The top 5 layers, less their batch normalisation: pretrained statistics stay
    # in inference mode while fine-tuning.
    top = backbone.layers[-5:]
    norm = keras.layers.BatchNormalization
    assert any(isinstance(layer, norm) for layer in top)
    assert trainable == [lay.name for lay in top if not isinstance(lay, norm)]
    changed = [not np.array_equal(a, b) for a, b in zip(backbone.get_weights(), saved)]
    assert any(changed) and not all(changed)


def test_resnet50_with_a_local_weights_file(tmp_path):
    donor = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    path = tmp_path / "resnet50_notop.weights.h5"
    donor.save_weights(path)
    X, y = make_images(n=8, size=32)
    clf = ResNetClassifier(
        backbone="resnet50",
        weights=str(path),
        epochs=1,
        batch_size=8,
        random_state=0,
    ).fit(X, y)
    first = clf.model_.get_layer("backbone").get_weights()[0]
    assert_array_equal(first, donor.get_weights()[0])
    assert clf.predict_proba(X).shape == (8, 2)


def test_build_cnn_plugs_into_scikeras():
    scikeras = pytest.importorskip("scikeras.wrappers")
    X, y = make_images(n=20)
    clf = scikeras.KerasClassifier(
        model=build_cnn,
        model__input_shape=(8, 8, 3),
        model__filters=(4,),
        model__dense_units=(8,),
        loss="binary_crossentropy",
        optimizer="adam",
        epochs=1,
        verbose=0,
    )
    clf.fit(X, y)
    assert clf.predict(X).shape == (20,)
