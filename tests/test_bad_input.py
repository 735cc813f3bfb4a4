"""Bad input ends in a clear Python error that names the problem."""

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from PIL import Image
from sklearn.utils._param_validation import InvalidParameterError

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets._imageio import ImageReadError


@pytest.fixture(scope="module")
def fitted():
    X, y = make_images()
    return CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y), X, y


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_pixels(value, match):
    X, y = make_images(dtype=np.float32)
    X[3, 2, 2, 1] = value
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y)


def test_non_finite_pixels_at_predict(fitted):
    clf, X, _ = fitted
    bad = X.astype(np.float32)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)


@pytest.mark.parametrize("shape", [(5, 10, 8, 3), (5, 8, 8, 1), (5, 8, 8, 4)])
def test_other_image_shape_at_predict(fitted, shape):
    clf, _, _ = fitted
    with pytest.raises(
        ValueError, match=r"images of shape .* fitted on images of shape"
    ):
        clf.predict(np.zeros(shape, np.uint8))


def test_other_feature_count_at_predict(fitted):
    clf, _, _ = fitted
    with pytest.raises(ValueError, match="X has 10 features, but CNNClassifier is"):
        clf.predict(np.zeros((5, 10), np.uint8))


def test_one_class_only():
    X, y = make_images()
    with pytest.raises(ValueError, match="only one class"):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, np.zeros_like(y))


def test_empty_X():
    with pytest.raises(ValueError, match="0 sample"):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(np.zeros((0, 8, 8, 3), np.uint8), [])


def test_length_mismatch():
    X, y = make_images()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y[:-1])


def test_continuous_y():
    X, _ = make_images()
    with pytest.raises(ValueError, match="Unknown label type"):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, np.linspace(0, 1, len(X)))


def test_too_many_dimensions():
    with pytest.raises(ValueError, match="5 dimensions"):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(np.zeros((4, 2, 2, 2, 2)), [0, 1] * 2)


def test_input_shape_mismatch():
    X, y = make_images()
    with pytest.raises(ValueError, match="does not match the shape of the images"):
        CNNClassifier(**SMALL_CNN, epochs=1, input_shape=(4, 4, 3)).fit(X, y)
    with pytest.raises(ValueError, match="cannot be reshaped to input_shape"):
        CNNClassifier(**SMALL_CNN, epochs=1, input_shape=(4, 4, 3)).fit(
            X.reshape(len(X), -1), y
        )
    with pytest.raises(ValueError, match="three positive integers"):
        CNNClassifier(**SMALL_CNN, epochs=1, input_shape=(4, 4)).fit(
            X.reshape(len(X), -1), y
        )


@pytest.mark.parametrize(
    "params, name",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"early_stopping": "yes"}, "early_stopping"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"class_weight": "even"}, "class_weight"),
        ({"optimizer": 3}, "optimizer"),
        ({"conv_dropout": 1.0}, "conv_dropout"),
    ],
)
def test_invalid_parameters(params, name):
    X, y = make_images()
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        CNNClassifier(**{**SMALL_CNN, **params}).fit(X, y)


def test_invalid_resnet_parameters():
    X, y = make_images()
    with pytest.raises(InvalidParameterError, match="'backbone' parameter"):
        ResNetClassifier(backbone="resnet7").fit(X, y)
    with pytest.raises(ValueError, match="at least 32x32"):
        ResNetClassifier(backbone="resnet50", epochs=1).fit(X, y)


def test_missing_and_corrupt_image_files(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(good)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    missing = tmp_path / "missing.png"
    clf = CNNClassifier(**SMALL_CNN, epochs=1)
    with pytest.raises(ImageReadError, match="corrupt.png"):
        clf.fit(np.array([str(good), str(corrupt)] * 2), [0, 1, 0, 1])
    with pytest.raises(FileNotFoundError, match="missing.png"):
        clf.fit(np.array([str(good), str(missing)] * 2), [0, 1, 0, 1])
