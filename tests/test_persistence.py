"""Pickle, joblib and copies of fitted estimators."""

import copy
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images
from numpy.testing import assert_array_equal
from sklearn.base import clone

from skbreast import CNNClassifier, ResNetClassifier


@pytest.fixture(scope="module", params=["cnn", "resnet"])
def fitted(request):
    X, y = make_images()
    labels = np.array(["benign", "malignant"])[y]
    if request.param == "cnn":
        clf = CNNClassifier(**SMALL_CNN, epochs=2)
    else:
        clf = ResNetClassifier(**SMALL_RESNET, epochs=2)
    return clf.fit(X, labels), X, labels


def test_pickle_round_trip(fitted):
    clf, X, _ = fitted
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.classes_, clf.classes_)
    assert restored.history_ == clf.history_


def test_deepcopy_and_clone(fitted):
    clf, X, _ = fitted
    copied = copy.deepcopy(clf)
    assert copied.model_ is not clf.model_
    assert_array_equal(copied.predict_proba(X), clf.predict_proba(X))
    assert not hasattr(clone(clf), "model_")


def test_warm_start_after_unpickling(fitted):
    clf, X, labels = fitted
    restored = pickle.loads(pickle.dumps(clf))
    restored.set_params(warm_start=True, epochs=1).fit(X, labels)
    assert restored.n_iter_ == clf.n_iter_ + 1


def test_joblib_in_a_fresh_process(fitted, tmp_path):
    clf, X, _ = fitted
    model_path = tmp_path / "model.joblib"
    data_path = tmp_path / "X.npy"
    joblib.dump(clf, model_path)
    np.save(data_path, X)
    script = textwrap.dedent(
        f"""
        import joblib, numpy as np, sys
        clf = joblib.load({str(model_path)!r})
        np.save(sys.argv[1], clf.predict_proba(np.load({str(data_path)!r})))
        """
    )
    out = tmp_path / "proba.npy"
    subprocess.run([sys.executable, "-c", script, str(out)], check=True)
    assert_array_equal(np.load(out), clf.predict_proba(X))
