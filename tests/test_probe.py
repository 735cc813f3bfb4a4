"""LinearProbeClassifier: the probe pipeline folded into one network."""

import os
import pickle

import keras
import numpy as np
import pytest
from conftest import saved_model_file
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skbreast
from skbreast import ImageEmbedder, LinearProbeClassifier
from skbreast.model_selection._baselines import tuned_logistic_regression


def tiny_backbone(seed=0):
    """A convolutional backbone taking images of any size and channel count 3."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=init)(inputs)
    x = keras.layers.ReLU()(x)
    return keras.Model(inputs, x)


def images(n=40, size=12, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 140, (n, size, size, 3)).astype(np.uint8)
    y = np.array(["benign", "malignant"])[np.arange(n) % 2]
    X[y == "malignant", :, :, 0] += 90  # separable, but not trivially by one pixel
    return X, y


def probe(**params):
    params = {"Cs": 4, "cv": 3, "precision": "float32", **params}
    return LinearProbeClassifier(tiny_backbone(), **params)


def test_equals_the_pipeline_it_folds():
    X, y = images()
    clf = probe().fit(X, y)
    splits = list(StratifiedKFold(3).split(X, np.arange(len(y)) % 2))
    pipe = make_pipeline(
        ImageEmbedder(clf.backbone, precision="float32"),
        StandardScaler(),
        tuned_logistic_regression(splits, Cs=4),
    ).fit(X, y)
    assert clf.C_ == float(np.ravel(pipe[-1].C_)[0])
    assert_allclose(clf.predict_proba(X), pipe.predict_proba(X), atol=1e-5)
    assert_allclose(clf.decision_function(X), pipe.decision_function(X), atol=1e-4)
    assert_array_equal(clf.predict(X), pipe.predict(X))
    assert clf.n_embedding_features_ == 4
    assert clf.model_.get_layer("logits").dtype == "float32"


def test_inner_split_is_by_patient_when_groups_are_given():
    X, y = images(n=48)
    groups = np.repeat(np.arange(12), 4)
    clf = probe(cv=4)
    splits = clf._inner_splits(X, (y == "malignant").astype(int), groups)
    assert len(splits) == 4
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    clf.fit(X, y, groups=groups)
    # Fewer patients than folds: one fold per patient.
    assert len(clf._inner_splits(X[:16], np.arange(16) % 2, groups[:16])) == 4
    with pytest.raises(ValueError, match="at least 2 patients"):
        clf._inner_splits(X[:4], np.arange(4) % 2, groups[:4])


def test_multiclass_and_sample_weight():
    X, _ = images(n=45)
    y = np.arange(45) % 3
    clf = probe().fit(X, y, sample_weight=np.linspace(0.5, 2, 45))
    proba = clf.predict_proba(X)
    assert proba.shape == (45, 3)
    assert_allclose(proba.sum(axis=1), 1, atol=1e-9)
    assert clf.model_.get_layer("logits").units == 3


def test_paths_equal_arrays(tmp_path):
    X, y = images(n=20)
    paths = []
    for i, image in enumerate(X):
        path = tmp_path / f"{i:02d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    from_arrays = probe().fit(X, y)
    from_paths = probe().fit(np.array(paths), y)
    assert from_paths.C_ == from_arrays.C_
    assert_allclose(
        from_paths.predict_proba(np.array(paths)), from_arrays.predict_proba(X)
    )


def test_paths_decode_the_first_file_once_for_the_shape(tmp_path, monkeypatch):
    from skbreast._training import validation

    X, y = images(n=12)
    paths = []
    for i, image in enumerate(X):
        Image.fromarray(image).save(tmp_path / f"{i:02d}.png")
        paths.append(str(tmp_path / f"{i:02d}.png"))
    calls = []
    original = validation.read_image
    monkeypatch.setattr(
        validation, "read_image", lambda path: calls.append(path) or original(path)
    )
    clf = probe(cv=2).fit(np.array(paths), y)
    assert calls == [paths[0]]
    assert clf.image_shape_ == (12, 12, 3)


def test_tta_averages_the_views():
    X, y = images(n=20)
    clf = probe(tta=True).fit(X, y)
    flipped = clf.decision_function(X[:, ::-1])
    assert_allclose(flipped, clf.decision_function(X), atol=1e-4)


def test_save_load_and_pickle_round_trip(tmp_path):
    X, y = images()
    clf = probe().fit(X, y)
    clf.set_params(backbone="resnet50")  # a network parameter has no file encoding
    path = os.fspath(tmp_path / "probe.skb")
    skbreast.save(clf, path)
    loaded = skbreast.load(path)
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert loaded.model_card_["fit"] == {"C": clf.C_, "n_embedding_features": 4}
    unpickled = pickle.loads(pickle.dumps(clf))
    assert_allclose(unpickled.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_export_serves_the_probabilities(tmp_path):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("export needs the TensorFlow backend")
    import tensorflow as tf

    X, y = images(n=20)
    clf = probe().fit(X, y)
    folder = clf.export(os.fspath(tmp_path / "probe"), format="savedmodel")
    served = tf.saved_model.load(folder)
    proba = served.serve(tf.constant(X[:5])).numpy()
    assert_allclose(proba, clf.predict_proba(X[:5]), atol=1e-5)


def test_callable_backbone_is_refused():
    X, y = images(n=20)

    def features(batch):
        return batch.reshape(len(batch), -1)[:, :8]

    with pytest.raises(TypeError, match="callable backbone"):
        LinearProbeClassifier(features, cv=2).fit(X, y)


def test_one_class_is_refused():
    X, _ = images(n=10)
    with pytest.raises(ValueError, match="only one class"):
        probe().fit(X, np.zeros(10))


def test_clone_shares_the_backbone():
    from sklearn.base import clone

    clf = probe()
    assert clone(clf).backbone is clf.backbone


@parametrize_with_checks(
    # A backbone file: see conftest.saved_model_file.
    [
        LinearProbeClassifier(
            saved_model_file(tiny_backbone(), "probe"), Cs=3, cv=2, precision="float32"
        )
    ],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": (
            "C is chosen on inner folds, and repeated rows change those folds where "
            "weights do not; scikit-learn expects this of LogisticRegressionCV too"
        ),
    },
)
def test_sklearn_compatible_classifier(estimator, check):
    check(estimator)
