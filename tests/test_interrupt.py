"""Interrupted fits leave a consistent estimator; checkpoints allow resuming."""

import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

import skbreast
from skbreast import CNNClassifier


class Interrupt(keras.callbacks.Callback):
    """Raise ``exc`` when the ``at``-th epoch of a fit (1-based) begins."""

    def __init__(self, at, exc=KeyboardInterrupt):
        super().__init__()
        self.at, self.exc, self.seen = at, exc, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise self.exc("stop")


def _public_fitted(estimator):
    return sorted(k for k in vars(estimator) if k.endswith("_") and k[0] != "_")


@pytest.fixture(scope="module")
def data():
    return make_images(n=40)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_first_fit_interrupted_stays_unfitted(data, exc):
    X, y = data
    clf = CNNClassifier(**SMALL_CNN, epochs=3, callbacks=[Interrupt(2, exc)])
    with pytest.raises(exc, match="stop"):
        clf.fit(X, y)
    assert _public_fitted(clf) == []
    assert not hasattr(clf, "_logits_model")


def test_refit_interrupted_keeps_previous_fit(data):
    X, y = data
    clf = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y)
    state = {k: getattr(clf, k) for k in _public_fitted(clf)}
    proba = clf.predict_proba(X)
    X16, _ = make_images(n=40, size=16)
    clf.set_params(callbacks=[Interrupt(2)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X16, y)
    assert _public_fitted(clf) == sorted(state)
    for name, value in state.items():
        assert getattr(clf, name) is value
    assert_array_equal(clf.predict_proba(X), proba)


def test_warm_start_interrupted_puts_weights_back(data):
    X, y = data
    clf = CNNClassifier(**SMALL_CNN, epochs=2).fit(X, y)
    proba, history = clf.predict_proba(X), clf.history_
    optimizer_state = [v.numpy().copy() for v in clf.model_.optimizer.variables]
    clf.set_params(warm_start=True, epochs=3, callbacks=[Interrupt(3)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert clf.n_iter_ == 2 and clf.history_ is history
    assert_array_equal(clf.predict_proba(X), proba)
    for before, variable in zip(optimizer_state, clf.model_.optimizer.variables):
        assert_array_equal(variable.numpy(), before)


def test_interrupted_with_early_stopping_keeps_best_weights(data):
    X, y = data
    clf = CNNClassifier(
        **SMALL_CNN, epochs=5, early_stopping=True, callbacks=[Interrupt(3)]
    )
    with (
        pytest.warns(UserWarning, match=r"during epoch 3\. The weights of epoch [12]"),
        pytest.raises(KeyboardInterrupt),
    ):
        clf.fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.history_["val_loss"]) == 2
    assert clf.best_epoch_ == 1 + int(np.argmin(clf.history_["val_loss"]))
    assert clf.predict_proba(X).shape == (40, 2)


def test_checkpoint_then_resume(data, tmp_path):
    X, y = data
    folder = tmp_path / "ckpt"
    clf = CNNClassifier(
        **SMALL_CNN, epochs=4, checkpoint_dir=folder, callbacks=[Interrupt(3)]
    )
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")
    assert [p.name for p in folder.iterdir()] == ["last.skbreast"]
    resumed = skbreast.load(folder / "last.skbreast")
    assert resumed.n_iter_ == 2 and len(resumed.history_["loss"]) == 2
    assert resumed.callbacks is None and resumed.predict(X).shape == (40,)
    resumed.set_params(warm_start=True, epochs=2).fit(X, y)
    assert resumed.n_iter_ == 4 and len(resumed.history_["loss"]) == 4
    assert skbreast.load(folder / "last.skbreast").n_iter_ == 4
    assert [p.name for p in folder.iterdir()] == ["last.skbreast"]


def test_checkpoint_keeps_best_epoch(data, tmp_path):
    X, y = data
    clf = CNNClassifier(
        **SMALL_CNN, epochs=3, early_stopping=True, checkpoint_dir=str(tmp_path)
    ).fit(X, y)
    last = skbreast.load(tmp_path / "last.skbreast")
    best = skbreast.load(tmp_path / "best.skbreast")
    assert last.n_iter_ == clf.n_iter_
    assert best.best_epoch_ == best.n_iter_ == clf.best_epoch_
    assert_array_equal(best.predict_proba(X), clf.predict_proba(X))


def test_checkpoint_refuses_unstorable_params_before_training(data, tmp_path):
    X, y = data
    clf = CNNClassifier(
        **{**SMALL_CNN, "random_state": np.random.RandomState(0)},
        epochs=1,
        checkpoint_dir=tmp_path / "ckpt",
    )
    with pytest.raises(ValueError, match="'random_state'"):
        clf.fit(X, y)
    assert _public_fitted(clf) == [] and not (tmp_path / "ckpt").exists()
    with pytest.raises(InvalidParameterError, match="checkpoint_dir"):
        CNNClassifier(**SMALL_CNN, checkpoint_dir=3).fit(X, y)
