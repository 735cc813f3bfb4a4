"""Training-time augmentation, test-time augmentation and learning-rate schedules."""

import pickle

import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.models import RandomDihedral, RandomStainJitter, build_cnn, build_resnet

AUGMENT_ALL = dict(flip=True, rotate90=True, stain_jitter=0.1, zoom=0.1)

ESTIMATORS = [
    pytest.param(CNNClassifier(**SMALL_CNN), id="cnn"),
    pytest.param(ResNetClassifier(**SMALL_RESNET), id="resnet"),
]


def _dihedral_views(image):
    """The 8 rotations/reflections of one (H, W, C) square image."""
    views = []
    for base in (image, image.transpose(1, 0, 2)):
        for k in range(4):
            views.append(np.rot90(base, k))
    return views


def _aug_layer_names(model):
    return [layer.name for layer in model.layers if layer.name.startswith("augment")]


# ------------------------------------------------------------------ layers
@pytest.mark.parametrize("build", [build_cnn, build_resnet])
def test_augmentation_is_the_identity_at_inference(build):
    X, _ = make_images(n=6, size=12)
    plain = build((12, 12, 3), seed=0)
    augmented = build((12, 12, 3), seed=0, **AUGMENT_ALL)
    assert len(_aug_layer_names(augmented)) == 3
    expected = np.asarray(plain(X, training=False))
    for out in (
        augmented(X),
        augmented(X, training=False),
        augmented.predict_on_batch(X),
    ):
        # Eager, graph and predict calls may pick different (oneDNN) kernels:
        # equal up to float32 rounding, which a live augmentation far exceeds.
        assert_allclose(np.asarray(out), expected, rtol=1e-6, atol=1e-6)


def test_random_dihedral_draws_every_symmetry_of_a_square():
    x = np.random.RandomState(0).rand(200, 5, 5, 1).astype("float32")
    out = np.asarray(RandomDihedral(seed=1)(x, training=True))
    drawn = []
    for image, augmented in zip(x, out):
        matches = [np.array_equal(augmented, v) for v in _dihedral_views(image)]
        assert any(matches)
        drawn.append(matches.index(True))
    counts = np.bincount(drawn, minlength=8)
    assert counts.min() > 10, counts  # all 8 appear, none is rare


def test_random_dihedral_non_square_and_options():
    x = np.random.RandomState(0).rand(64, 4, 6, 2).astype("float32")
    out = np.asarray(RandomDihedral(seed=0)(x, training=True))
    assert out.shape == x.shape
    for image, augmented in zip(x, out):
        flips = [image, image[::-1], image[:, ::-1], image[::-1, ::-1]]
        assert any(np.array_equal(augmented, f) for f in flips)
    # Rotations only, non-square: the identity or the 180-degree turn.
    out = np.asarray(RandomDihedral(flip=False, seed=0)(x, training=True))
    turned = [np.array_equal(a, i[::-1, ::-1]) for a, i in zip(out, x)]
    kept = [np.array_equal(a, i) for a, i in zip(out, x)]
    assert all(t or k for t, k in zip(turned, kept)) and any(turned) and any(kept)
    # Flips only, square: never a transpose that is not also a flip.
    sq = np.random.RandomState(1).rand(64, 4, 4, 1).astype("float32")
    out = np.asarray(RandomDihedral(rotate90=False, seed=0)(sq, training=True))
    for image, augmented in zip(sq, out):
        flips = [image, image[::-1], image[:, ::-1], image[::-1, ::-1]]
        assert any(np.array_equal(augmented, f) for f in flips)


def test_random_stain_jitter():
    x = np.random.RandomState(0).uniform(0.2, 0.95, (16, 6, 6, 3)).astype("float32")
    layer = RandomStainJitter(0.1, seed=0)
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and out.min() >= 0.0 and out.max() <= 1.0
    assert not np.allclose(out, x)
    # A modest change, different for every image.
    assert np.abs(out - x).mean() < 0.1
    shifts = (out - x).mean(axis=(1, 2, 3))
    assert np.unique(np.round(shifts, 6)).size == len(x)
    assert_array_equal(np.asarray(layer(x)), x)
    assert_array_equal(np.asarray(RandomStainJitter(0.0)(x, training=True)), x)


def test_stain_jitter_round_trip_without_noise():
    # alpha = 1, beta = 0: unmixing and mixing back returns the image.
    x = np.random.RandomState(0).uniform(0.05, 1.0, (4, 5, 5, 3)).astype("float32")
    layer = RandomStainJitter(1e-7, seed=0)
    assert_allclose(np.asarray(layer(x, training=True)), x, atol=1e-4)


def test_layers_are_serialisable(tmp_path):
    model = build_cnn(
        (12, 12, 3), filters=(4,), dense_units=(4,), seed=0, **AUGMENT_ALL
    )
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert _aug_layer_names(loaded) == _aug_layer_names(model)
    config = loaded.get_layer("augment_stain").get_config()
    assert config["strength"] == pytest.approx(0.1)
    X, _ = make_images(n=4, size=12)
    assert_array_equal(loaded.predict_on_batch(X), model.predict_on_batch(X))


# ------------------------------------------------------------------ estimators
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimator_augmentation_layers(estimator):
    X, y = make_images(n=20, size=8)
    clf = clone(estimator).set_params(epochs=1)
    assert _aug_layer_names(clf.fit(X, y).model_) == [
        "augment_dihedral",
        "augment_stain",
    ]
    clf.set_params(flip=False, rotate90=False, stain_jitter=0.0, zoom=0.2)
    assert _aug_layer_names(clf.fit(X, y).model_) == ["augment_zoom"]
    # Grayscale: no stain jitter.
    Xg, yg = make_images(n=20, size=8, channels=1)
    clf = clone(estimator).set_params(epochs=1)
    assert _aug_layer_names(clf.fit(Xg, yg).model_) == ["augment_dihedral"]
    # Numeric data reshaped into tiny images is never augmented.
    rng = np.random.RandomState(0)
    tiny = rng.rand(20, 7, 7, 3)
    assert _aug_layer_names(clf.fit(tiny, yg).model_) == []
    strips = rng.rand(20, 1, 30, 1)
    assert _aug_layer_names(clf.fit(strips, yg).model_) == []


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_augmented_fit_is_reproducible_and_pickles(estimator):
    X, y = make_images(n=40, size=12)
    clf = clone(estimator).set_params(epochs=2, **AUGMENT_ALL)
    first = clone(clf).fit(X, y)
    second = clone(clf).fit(X, y)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    restored = pickle.loads(pickle.dumps(first))
    assert_array_equal(restored.predict_proba(X), first.predict_proba(X))
    # Augmentation changes what is learned, not how a fitted model predicts.
    plain = clone(clf).set_params(flip=False, rotate90=False, stain_jitter=0, zoom=0)
    assert not np.allclose(plain.fit(X, y).predict_proba(X), first.predict_proba(X))


def test_tta_is_invariant_to_flips_and_rotations():
    X, y = make_images(n=30, size=10)
    clf = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y)
    plain = clf.decision_function(X)
    clf.set_params(tta=True)
    scores = clf.decision_function(X)
    assert not np.allclose(scores, plain)
    for view in (
        X[:, ::-1],
        X[:, :, ::-1],
        np.rot90(X, 1, axes=(1, 2)),
        X[:, ::-1, ::-1],
    ):
        assert_allclose(
            clf.decision_function(np.ascontiguousarray(view)),
            scores,
            rtol=1e-6,
            atol=1e-7,
        )
    # The mean of the logits of the 8 views, and one function of them everywhere.
    clf.set_params(tta=False)
    views = [np.stack([v[i] for v in map(_dihedral_views, X)]) for i in range(8)]
    mean = np.mean([clf.decision_function(np.ascontiguousarray(v)) for v in views], 0)
    assert_allclose(scores, mean, rtol=1e-6, atol=1e-7)
    clf.set_params(tta=True)
    proba = clf.predict_proba(X)
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)))
    assert_array_equal(clf.predict(X), (scores > 0).astype(int))
    # Switching tta off gives the plain predictions back.
    assert_array_equal(clf.set_params(tta=False).decision_function(X), plain)


def test_tta_non_square_and_multiclass():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(30, 8, 12, 3)).astype(np.uint8)
    y = np.arange(30) % 3
    clf = CNNClassifier(**SMALL_CNN, epochs=1, tta=True).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (30, 3)
    for view in (X[:, ::-1], X[:, :, ::-1]):
        assert_allclose(
            clf.decision_function(np.ascontiguousarray(view)),
            scores,
            rtol=1e-6,
            atol=1e-7,
        )
    assert_array_equal(clf.predict(X), np.argmax(clf.predict_proba(X), axis=1))


# ------------------------------------------------------------------ lr schedules
def _noise(n=64):
    rng = np.random.RandomState(0)
    return rng.randint(0, 255, size=(n, 8, 8, 3)).astype(np.uint8), np.arange(n) % 2


def test_lr_schedule_plateau_lowers_the_rate_on_a_plateau():
    X, y = _noise()
    clf = CNNClassifier(**SMALL_CNN, epochs=8, n_iter_no_change=2).fit(X, y)
    rates = clf.history_["learning_rate"]
    assert rates[0] == pytest.approx(0.01) and rates[-1] < 0.01
    assert all(b <= a for a, b in zip(rates, rates[1:]))
    constant = CNNClassifier(**SMALL_CNN, epochs=3, lr_schedule=None).fit(X, y)
    assert "learning_rate" not in constant.history_
    assert float(constant.model_.optimizer.learning_rate) == pytest.approx(0.01)


class _RateRecorder(keras.callbacks.Callback):
    rates: list = []

    def on_train_batch_end(self, batch, logs=None):
        _RateRecorder.rates.append(float(self.model.optimizer.learning_rate))


def test_lr_schedule_cosine():
    X, y = _noise(n=64)
    _RateRecorder.rates = []
    clf = CNNClassifier(
        **SMALL_CNN,
        epochs=4,
        batch_size=16,
        lr_schedule="cosine",
        callbacks=[_RateRecorder()],
    ).fit(X, y)
    rates = np.array(_RateRecorder.rates)
    assert len(rates) == 16
    steps = np.arange(16)
    assert_allclose(rates, 0.005 * (1 + np.cos(np.pi * steps / 16)), rtol=1e-5)
    assert clf.history_["learning_rate"][-1] == pytest.approx(rates[-1], rel=1e-5)
    # The starting rate is put back, so a warm start runs a fresh cosine.
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.01)


def test_resnet_from_scratch_has_one_phase_and_pretrained_two():
    clf = ResNetClassifier(**SMALL_RESNET)
    assert len(clf._training_phases(None, 10)) == 1
    clf.set_params(weights="some.weights.h5")
    phases = clf._training_phases(None, 10)
    assert [(n, rate) for n, rate, _ in phases] == [(3, 0.01), (7, pytest.approx(1e-3))]
