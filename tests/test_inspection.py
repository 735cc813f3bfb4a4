import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, SMALL_RESNET, make_images

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.inspection import _default_layer, gradcam, overlay_gradcam

# Grad-CAM needs TensorFlow's gradient tape; other backends get a clear error.
NEEDS_TF = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="gradcam needs TensorFlow"
)

SIZE = 16
INSIDE = np.zeros((SIZE, SIZE), dtype=bool)
INSIDE[SIZE // 4 : SIZE - SIZE // 4, SIZE // 4 : SIZE - SIZE // 4] = True


@pytest.fixture(scope="module")
def square_data():
    # Class 1 images have a bright central square; class 0 do not.
    return make_images(n=200, size=SIZE)


@pytest.fixture(scope="module")
def fitted(square_data):
    X, y = square_data
    cnn = CNNClassifier(**{**SMALL_CNN, "filters": (8,)}, epochs=10).fit(X, y)
    resnet = ResNetClassifier(**{**SMALL_RESNET, "filters": (16, 32)}, epochs=10)
    resnet.fit(X, y)
    return {"cnn": cnn, "resnet": resnet}


@NEEDS_TF
@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_gradcam_shape_and_range(fitted, square_data, name):
    X, _ = square_data
    heat = gradcam(fitted[name], X[:7])
    assert heat.shape == (7, SIZE, SIZE)
    assert heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() <= 1
    assert np.isclose(heat.reshape(7, -1).max(axis=1), 1).any()


@NEEDS_TF
@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_gradcam_concentrates_on_the_bright_square(fitted, square_data, name):
    X, y = square_data
    est = fitted[name]
    assert (est.predict(X) == y).mean() > 0.9
    heat = gradcam(est, X[y == 1])
    inside, outside = heat[:, INSIDE].mean(), heat[:, ~INSIDE].mean()
    assert inside > 1.5 * outside, (inside, outside)


def test_gradcam_default_layers(fitted):
    assert _default_layer(fitted["cnn"].model_) == "block1_conv"
    assert _default_layer(fitted["resnet"].model_) == "backbone"


@NEEDS_TF
def test_gradcam_given_class_and_layer(fitted, square_data):
    X, _ = square_data
    est = fitted["cnn"]
    a = gradcam(est, X[:4], y=[0, 0, 0, 0], layer="block1_conv")
    b = gradcam(est, X[:4], y=[1, 1, 1, 1], layer="block1_conv")
    assert a.shape == b.shape == (4, SIZE, SIZE)
    assert not np.allclose(a, b)
    classic = gradcam(est, X[:4], method="gradcam")
    assert classic.shape == (4, SIZE, SIZE)


@NEEDS_TF
def test_gradcam_errors(fitted, square_data):
    X, _ = square_data
    with pytest.raises(ValueError, match="not a layer"):
        gradcam(fitted["cnn"], X[:2], layer="nope")
    with pytest.raises(ValueError, match="classes_"):
        gradcam(fitted["cnn"], X[:2], y=[5, 5])
    with pytest.raises(ValueError, match="shape"):
        gradcam(fitted["cnn"], X[:2, :8, :8])
    with pytest.raises(ValueError, match="method"):
        gradcam(fitted["cnn"], X[:2], method="magic")


@NEEDS_TF
def test_gradcam_unfitted_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        gradcam(CNNClassifier(), np.zeros((1, 8, 8, 3), np.uint8))


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TF works")
def test_gradcam_on_other_backends_raises(fitted, square_data):
    X, _ = square_data
    with pytest.raises(NotImplementedError, match="TensorFlow backend"):
        gradcam(fitted["cnn"], X[:2])


def test_overlay_gradcam():
    images = np.full((2, 8, 8, 3), 128, dtype=np.uint8)
    heat = np.zeros((2, 8, 8))
    heat[:, :4] = 1
    out = overlay_gradcam(images, heat)
    assert out.shape == (2, 8, 8, 3) and out.dtype == np.uint8
    assert not np.array_equal(out[:, 0, 0], out[:, 7, 7])
    gray = overlay_gradcam(np.zeros((2, 8, 8)), heat)
    assert gray.shape == (2, 8, 8, 3)
    with pytest.raises(ValueError, match="do not match"):
        overlay_gradcam(images, heat[:, :4])
