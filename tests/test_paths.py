"""File-path input: images decoded and resized batch by batch."""

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

from skbreast import CNNClassifier, ResNetClassifier


@pytest.fixture
def image_files(tmp_path):
    X, y = make_images(n=40)
    paths = []
    for i, image in enumerate(X):
        path = tmp_path / f"img{i:03d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return np.array(paths), X, y


@pytest.mark.parametrize("estimator", [CNNClassifier, ResNetClassifier])
def test_paths_equal_arrays(image_files, estimator):
    paths, X, y = image_files
    params = {"epochs": 2, "random_state": 0, "filters": (4,)}
    from_paths = estimator(**params).fit(paths, y)
    from_arrays = estimator(**params).fit(X, y)
    assert from_paths.image_shape_ == (8, 8, 3)
    assert from_paths.input_scale_ == pytest.approx(1 / 255)
    assert_allclose(
        from_paths.predict_proba(paths), from_arrays.predict_proba(X), rtol=1e-5
    )
    # Either form predicts with a model fitted on the other.
    assert_allclose(
        from_paths.predict_proba(X), from_arrays.predict_proba(paths), rtol=1e-5
    )


def test_paths_as_list_and_pathlike(image_files):
    from pathlib import Path

    paths, X, y = image_files
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit([Path(p) for p in paths], y)
    assert clf.predict(list(paths)).shape == (40,)


def test_input_shape_resizes_files(tmp_path):
    rng = np.random.RandomState(0)
    paths = []
    for i, (h, w) in enumerate([(20, 30), (23, 35), (20, 30), (18, 29)] * 3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(rng.randint(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    y = np.arange(12) % 2
    clf = CNNClassifier(**SMALL_CNN, epochs=1, input_shape=(10, 15, 3)).fit(paths, y)
    assert clf.image_shape_ == (10, 15, 3)
    # Without input_shape, the first image fixes the size; others are resized to it.
    clf = CNNClassifier(**SMALL_CNN, epochs=1).fit(paths, y)
    assert clf.image_shape_ == (20, 30, 3)
    assert clf.predict(paths).shape == (12,)


def test_grayscale_files_for_a_grayscale_model(tmp_path):
    X, y = make_images(n=10, channels=1)
    paths = []
    for i, image in enumerate(X):
        path = tmp_path / f"{i}.png"
        Image.fromarray(image[..., 0], mode="L").save(path)
        paths.append(str(path))
    clf = CNNClassifier(**SMALL_CNN, epochs=1, input_shape=(8, 8, 1)).fit(paths, y)
    assert_array_equal(clf.predict(paths), clf.predict(X))
