"""Behaviour of the estimators: outputs, input forms, training options."""

import tracemalloc

import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skbreast import CNNClassifier, ResNetClassifier

ESTIMATORS = [
    pytest.param(CNNClassifier(**SMALL_CNN), id="cnn"),
    pytest.param(ResNetClassifier(**SMALL_RESNET), id="resnet"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_binary_string_labels(estimator, images):
    X, y = images
    labels = np.array(["benign", "malignant"])[y]
    clf = clone(estimator).set_params(epochs=15).fit(X, labels)
    assert_array_equal(clf.classes_, ["benign", "malignant"])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    assert_array_equal(clf.predict(X), np.where(scores > 0, "malignant", "benign"))
    # One sigmoid unit for two classes.
    assert clf.model_.output_shape == (None, 1)
    assert clf.model_.get_layer("probabilities").get_config()["activation"] == "sigmoid"
    assert clf.score(X, labels) > 0.9
    assert clf.n_iter_ == 15 and len(clf.history_["loss"]) == 15
    assert clf.n_features_in_ == 8 * 8 * 3 and clf.image_shape_ == (8, 8, 3)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_multiclass_softmax(estimator):
    X, y = make_images(n=90, n_classes=3)
    # 20 epochs: at 15, some seeds of the augmented tiny CNN still sit below 0.8.
    clf = clone(estimator).set_params(epochs=20).fit(X, y)
    assert clf.model_.output_shape == (None, 3)
    assert clf.model_.get_layer("probabilities").get_config()["activation"] == "softmax"
    assert clf.predict_proba(X).shape == (90, 3)
    assert clf.decision_function(X).shape == (90, 3)
    assert_array_equal(clf.predict(X), np.argmax(clf.predict_proba(X), axis=1))
    assert clf.score(X, y) > 0.8


def test_input_forms_give_the_same_model(images):
    X, y = images
    reference = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y).predict_proba(X)
    flat = X.reshape(len(X), -1)
    # Flattened with input_shape, and flattened square RGB inferred by the rule.
    for clf in (
        CNNClassifier(**SMALL_CNN, epochs=2, input_shape=(8, 8, 3)),
        CNNClassifier(**SMALL_CNN, epochs=2),
    ):
        clf.fit(flat, y)
        assert clf.image_shape_ == (8, 8, 3)
        assert_allclose(clf.predict_proba(flat), reference, rtol=1e-6)
        # A model fitted on flattened images also takes them as 4-D, and back.
        assert_allclose(clf.predict_proba(X), reference, rtol=1e-6)


@pytest.mark.parametrize(
    "shape, expected",
    [((10, 8, 8), (8, 8, 1)), ((10, 49), (7, 7, 1)), ((10, 5), (1, 5, 1))],
)
def test_shape_rules(shape, expected):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=shape).astype(np.uint8)
    y = np.arange(10) % 2
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y)
    assert clf.image_shape_ == expected
    assert clf.predict(X).shape == (10,)


def test_rescale_rules(images):
    X, y = images
    fit = CNNClassifier(**SMALL_CNN, epochs=1).fit
    assert fit(X, y).input_scale_ == pytest.approx(1 / 255)
    assert fit(X.astype(np.float64), y).input_scale_ == pytest.approx(1 / 255)
    assert fit(X.astype(np.float32) / 255, y).input_scale_ == 1.0
    assert fit(X.astype(np.float32) - 100, y).input_scale_ == 1.0
    clf = CNNClassifier(**SMALL_CNN, epochs=1, rescale=0.5).fit(X, y)
    assert clf.input_scale_ == 0.5


def test_uint8_images_are_not_copied_as_a_whole():
    # 6,000 images of 24x24x3: 10 MB as uint8, 41 MB as float32. NumPy allocations
    # during fit (tracemalloc sees them; TensorFlow's own buffers it does not) stay
    # far below one float copy, so images are only converted batch by batch.
    X, y = make_images(n=6000, size=24)
    clf = CNNClassifier(**SMALL_CNN, epochs=1)
    tracemalloc.start()
    try:
        clf.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float_copy = X.size * 4
    assert peak < 0.25 * float_copy, (peak, float_copy)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_random_state_reproducible(estimator, images):
    X, y = images
    first = clone(estimator).set_params(epochs=3).fit(X, y).predict_proba(X)
    second = clone(estimator).set_params(epochs=3).fit(X, y).predict_proba(X)
    other = clone(estimator).set_params(epochs=3, random_state=1).fit(X, y)
    assert_array_equal(first, second)
    assert not np.allclose(first, other.predict_proba(X))


@pytest.mark.parametrize(
    "weights, expected", [({0: 1e-3, 1: 1.0}, 1), ({0: 1.0, 1: 1e-3}, 0)]
)
def test_class_weight_dict_shifts_predictions(weights, expected):
    # Noise images: nothing to learn but the weighted prior.
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(64, 6, 6, 3)).astype(np.uint8)
    y = np.arange(64) % 2
    clf = CNNClassifier(**SMALL_CNN, epochs=10, class_weight=weights).fit(X, y)
    assert np.mean(clf.predict(X) == expected) > 0.9


def test_sample_weight_shifts_predictions():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 255, size=(64, 6, 6, 3)).astype(np.uint8)
    y = np.arange(64) % 2
    weights = np.where(y == 1, 1.0, 1e-3)
    clf = CNNClassifier(**SMALL_CNN, epochs=10).fit(X, y, sample_weight=weights)
    assert np.mean(clf.predict(X) == 1) > 0.9


def test_class_weight_balanced_matches_its_sample_weight(images):
    X, y = images
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:10]]
    X, y = X[keep], y[keep]
    balanced = CNNClassifier(**SMALL_CNN, epochs=2, class_weight="balanced").fit(X, y)
    n0, n1 = np.bincount(y)
    weights = np.where(y == 0, len(y) / (2 * n0), len(y) / (2 * n1))
    manual = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y, sample_weight=weights)
    assert_allclose(balanced.predict_proba(X), manual.predict_proba(X), rtol=1e-5)


def test_class_weight_unknown_label(images):
    X, y = images
    with pytest.raises(ValueError, match="class_weight has labels"):
        CNNClassifier(**SMALL_CNN, epochs=1, class_weight={"cat": 2.0}).fit(X, y)


class _WeightRecorder(keras.callbacks.Callback):
    """Keeps each epoch's weights in a class attribute (callbacks are deep-copied)."""

    epochs: list = []

    def on_epoch_end(self, epoch, logs=None):
        _WeightRecorder.epochs.append(self.model.get_weights())


def test_early_stopping_restores_best_weights():
    X, y = make_images(n=200, seed=1)
    # Flip a third of the labels so the validation loss turns up and training stops.
    y = np.where(np.arange(200) % 3 == 0, 1 - y, y)
    _WeightRecorder.epochs = []
    clf = CNNClassifier(
        filters=(8,),
        dense_units=(32,),
        learning_rate=0.03,
        epochs=60,
        early_stopping=True,
        n_iter_no_change=3,
        callbacks=[_WeightRecorder()],
        random_state=0,
    ).fit(X, y)
    val_loss = clf.history_["val_loss"]
    assert len(val_loss) == clf.n_iter_ < 60
    assert clf.best_epoch_ == int(np.argmin(val_loss)) + 1
    best = _WeightRecorder.epochs[clf.best_epoch_ - 1]
    for restored, recorded in zip(clf.model_.get_weights(), best):
        assert_array_equal(restored, recorded)


def test_early_stopping_auto_needs_enough_images(images):
    X, y = images  # 60 images: below the 'auto' threshold
    clf = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y)
    assert "val_loss" not in clf.history_ and clf.best_epoch_ is None
    clf = CNNClassifier(**SMALL_CNN, epochs=2, early_stopping=True).fit(X, y)
    assert len(clf.history_["val_loss"]) == 2


def test_early_stopping_true_with_too_few_images_per_class(images):
    X, y = images
    y = y.copy()
    y[:] = 0
    y[0] = 1
    with pytest.raises(ValueError, match="at least 2 images of every class"):
        CNNClassifier(**SMALL_CNN, epochs=1, early_stopping=True).fit(X, y)


def test_warm_start_continues_training(images):
    X, y = images
    clf = CNNClassifier(**SMALL_CNN, epochs=2, warm_start=True).fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model
    assert clf.n_iter_ == 4 and len(clf.history_["loss"]) == 4
    cold = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y)
    model = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not model and cold.n_iter_ == 2


def test_warm_start_rejects_new_labels(images):
    X, y = images
    clf = CNNClassifier(**SMALL_CNN, epochs=1, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="not seen in the first fit"):
        clf.fit(X, y + 5)


def test_partial_fit(images):
    X, y = images
    clf = CNNClassifier(**SMALL_CNN)
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    assert clf.n_iter_ == 1
    assert_array_equal(clf.classes_, [0, 1])
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="missing from classes"):
        CNNClassifier(**SMALL_CNN).partial_fit(X, y + 1, classes=[0, 1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        CNNClassifier(**SMALL_CNN).partial_fit(X[y == 0], y[y == 0])


def test_fit_does_not_mutate_callbacks_or_optimizer(images):
    X, y = images
    callback = keras.callbacks.History()
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    clf = CNNClassifier(
        **SMALL_CNN, epochs=1, callbacks=[callback], optimizer=optimizer
    ).fit(X, y)
    assert clf.callbacks[0] is callback and callback.model is None
    assert clf.optimizer is optimizer and not optimizer.built
    # learning_rate overrides the optimizer's own.
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.01)
    assert isinstance(clf.model_.optimizer, keras.optimizers.SGD)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", keras.optimizers.Adam])
def test_optimizer_spellings(optimizer, images):
    X, y = images
    clf = CNNClassifier(**SMALL_CNN, epochs=1, optimizer=optimizer).fit(X, y)
    assert clf.predict(X).shape == (60,)


def test_unknown_optimizer_name(images):
    X, y = images
    with pytest.raises(ValueError, match="not a Keras optimizer"):
        CNNClassifier(**SMALL_CNN, epochs=1, optimizer="no-such-thing").fit(X, y)


def test_verbose_shows_progress(images, capsys):
    X, y = images
    CNNClassifier(**SMALL_CNN, epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "2/2" in out and "loss:" in out
    CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y)
    assert capsys.readouterr().out == ""


def test_architecture_parameters_shape_the_model():
    X, y = make_images(n=20, size=16)
    clf = CNNClassifier(
        filters=(4, 8), kernel_size=5, dense_units=(12, 6, 3), epochs=1
    ).fit(X, y)
    layers = clf.model_.layers
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    assert [c.filters for c in convs] == [4, 8]
    assert all(c.kernel_size == (5, 5) for c in convs)
    assert [d.units for d in dense] == [12, 6, 3, 1]


def test_cnn_defaults_are_the_classic_patch_model():
    clf = CNNClassifier()
    assert clf.batch_size == 32 and clf.optimizer == "adam" and clf.epochs == 200
    assert clf.early_stopping == "auto"
    model = clf._build_model((50, 50, 3), 1, 1 / 255, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 3 and kinds.count("MaxPooling2D") == 3
    assert kinds.count("Dense") == 3  # two hidden layers and the output unit
    assert model.get_layer("probabilities").get_config()["activation"] == "sigmoid"
