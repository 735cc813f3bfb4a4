"""Predicting from several threads at once gives the serial results."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from numpy.testing import assert_array_equal
from PIL import Image

import skbreast
from skbreast import CNNClassifier


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    X, y = make_images(n=40)
    folder = tmp_path_factory.mktemp("images")
    paths = []
    for i, image in enumerate(X[:20]):
        path = folder / f"{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y)
    skbreast.save(clf, folder / "clf.skbreast")
    return clf, X, np.array(paths), folder / "clf.skbreast"


def _calls(X, paths):
    return [
        (method, data)
        for method in ("predict", "predict_proba")
        for data in (X, paths, X[:7], paths[:3])
    ] * 2


@pytest.mark.parametrize("fresh", [False, True], ids=["fitted", "just-loaded"])
def test_threads_match_serial(setup, fresh):
    clf, X, paths, saved = setup
    calls = _calls(X, paths)
    assert len(calls) == 16
    expected = [getattr(clf, method)(data) for method, data in calls]
    # A just-loaded estimator has never traced its predict function: the threads
    # race to build it.
    target = skbreast.load(saved) if fresh else clf
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(getattr(target, m), data) for m, data in calls]
        results = [f.result(timeout=120) for f in futures]
    for got, want in zip(results, expected):
        assert_array_equal(got, want)
