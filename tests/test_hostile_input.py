"""Hostile input: every outcome is a clear ValueError/TypeError or a correct result.

Never a Keras or TensorFlow error, a NaN probability, a hang or a crash. Arrays of
every dtype and rank (0-5), zero-size, non-finite and huge values are generated with
hypothesis; hostile image files go through the estimators' path input and
``load_image_folder``. Corrupt/truncated files at ``read_image`` level, archives and
plain shape mismatches are covered in test_imageio.py, test_fetch.py and
test_bad_input.py.
"""

import struct
import traceback
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose
from PIL import Image

from skbreast import CNNClassifier
from skbreast.datasets import load_image_folder
from skbreast.datasets._imageio import ImageReadError, read_images

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

NUMERIC = [
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.float16,
    np.float32,
    np.float64,
]
NON_NUMERIC = [np.complex128, np.dtype("U3"), np.dtype("S2"), np.dtype("M8[s]")]


@pytest.fixture(scope="module")
def fitted():
    X, y = make_images(n=20)
    return CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y)


def _any_array():
    dtypes = st.sampled_from(NUMERIC + NON_NUMERIC)
    shapes = st.one_of(
        hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6),
        st.integers(0, 3).map(lambda n: (n, 8, 8, 3)),
        st.integers(1, 3).map(lambda n: (n, 192)),
    )
    numeric = dtypes.flatmap(lambda d: hnp.arrays(d, shapes))
    objects = hnp.arrays(
        object,
        shapes,
        elements=st.one_of(st.integers(-300, 300), st.floats(), st.text(max_size=2)),
    )
    return st.one_of(numeric, objects)


def _assert_clean_error(exc, X):
    """A ValueError/TypeError raised by skbreast or scikit-learn, with a message."""
    frames = traceback.extract_tb(exc.__traceback__)
    # The module's path inside site-packages: an environment's own folder name
    # (such as .venv-jax) must not count.
    raised_in = frames[-1].filename.rsplit("site-packages", 1)[-1]
    assert not any(
        part in raised_in for part in ("keras", "tensorflow", "jax", "torch")
    ), f"{type(exc).__name__} raised inside {raised_in}"
    if isinstance(exc, FileNotFoundError):
        # 1-D arrays of strings are file paths.
        assert X.ndim == 1 and X.dtype.kind in "USO", exc
    else:
        assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert str(exc).strip()


@SETTINGS
@given(X=_any_array())
def test_any_array_at_predict(fitted, X):
    try:
        proba = fitted.predict_proba(X)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        _assert_clean_error(exc, X)
        return
    # Accepted: it must be a valid batch of images and give their probabilities.
    assert X.ndim in (2, 4) and len(X) > 0
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)
    as_float = np.asarray(X, dtype=np.float32).reshape(len(X), 8, 8, 3)
    assert_allclose(proba, fitted.predict_proba(as_float), rtol=1e-5, atol=1e-7)


class _NoTraining(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise AssertionError("invalid input reached training")


def _bad_value(dtype):
    huge = [1e300, -1e300] if dtype == np.float64 else []
    return st.sampled_from([np.nan, np.inf, -np.inf, *huge])


@st.composite
def _invalid_for_fit(draw):
    """Arrays that must fail validation, so that fit never starts training."""
    kind = draw(st.sampled_from(["dtype", "rank", "empty", "non-finite"]))
    if kind == "dtype":
        shape = draw(st.sampled_from([(4, 8, 8, 3), (4, 192), (4, 8, 8)]))
        return draw(hnp.arrays(st.sampled_from(NON_NUMERIC), shape))
    if kind == "rank":
        ndim = draw(st.sampled_from([0, 1, 5]))
        shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, max_side=4))
        return draw(hnp.arrays(st.sampled_from(NUMERIC), shape))
    if kind == "empty":
        shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4))
        shape = shape if 0 in shape else (0, *shape[1:])
        return draw(hnp.arrays(st.sampled_from(NUMERIC), shape))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    X = draw(hnp.arrays(dtype, (4, 8, 8, 3), elements=st.floats(0, 255, width=16)))
    X.flat[draw(st.integers(0, X.size - 1))] = draw(_bad_value(dtype))
    return X


@SETTINGS
@given(X=_invalid_for_fit())
def test_invalid_arrays_at_fit(X):
    y = np.arange(len(X) if X.ndim else 4) % 2
    clf = CNNClassifier(**SMALL_CNN, epochs=1, callbacks=[_NoTraining()])
    with pytest.raises((ValueError, TypeError, FileNotFoundError)) as info:
        clf.fit(X, y)
    _assert_clean_error(info.value, X)
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((2, 8, 8, 3), 1e300), "beyond the float32 range"),
        (np.zeros((2, 8, 8, 3), "M8[s]"), "dtype datetime64"),
        (np.zeros((2, 8, 8, 3), "m8[s]"), "dtype timedelta64"),
        (np.zeros(0, dtype="U5"), "0 sample"),
        (np.zeros((2, 8, 8, 3), np.complex64), "Complex data not supported"),
    ],
)
def test_messages_name_the_problem(fitted, X, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.predict(X)
    with pytest.raises((ValueError, TypeError), match=match):
        CNNClassifier(**SMALL_CNN, epochs=1).fit(X, np.arange(len(X)) % 2)


def test_diverged_model_refuses_to_predict(fitted):
    broken = CNNClassifier(**SMALL_CNN, epochs=1).fit(*make_images(n=20))
    weights = broken.model_.get_weights()
    broken.model_.set_weights([np.full_like(w, np.nan) for w in weights])
    with pytest.raises(ValueError, match="training diverged"):
        broken.predict_proba(make_images(n=3)[0])


# ------------------------------------------------------------------ image files
def _png_claiming(path, width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""

    def chunk(kind, body):
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def _truncated(path, fmt):
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(image).save(path, format=fmt)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])


BAD_FILES = {
    "zero-bytes.png": lambda p: p.write_bytes(b""),
    "text.png": lambda p: p.write_text("this is not an image\n"),
    "truncated.png": lambda p: _truncated(p, "PNG"),
    "truncated.jpg": lambda p: _truncated(p, "JPEG"),
    "bomb.png": lambda p: _png_claiming(p, 30_000, 30_000),
}


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.png"
    Image.fromarray(make_images(n=1)[0][0]).save(path)
    return str(path)


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_at_predict(fitted, tmp_path, good_file, name):
    bad = tmp_path / name
    BAD_FILES[name](bad)
    with pytest.raises(ImageReadError, match=name):
        fitted.predict(np.array([good_file, str(bad)]))


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_first_at_fit(tmp_path, good_file, name):
    # The first file fixes the image size, so it is decoded before training.
    bad = tmp_path / name
    BAD_FILES[name](bad)
    clf = CNNClassifier(**SMALL_CNN, epochs=1, callbacks=[_NoTraining()])
    with pytest.raises(ImageReadError, match=name):
        clf.fit(np.array([str(bad), good_file] * 2), [0, 1, 0, 1])
    assert not hasattr(clf, "model_") and not hasattr(clf, "n_features_in_")


def test_bad_file_during_training_leaves_estimator_unfitted(tmp_path, good_file):
    bad = tmp_path / "truncated.jpg"
    BAD_FILES["truncated.jpg"](bad)
    clf = CNNClassifier(**SMALL_CNN, epochs=1)
    with pytest.raises(ImageReadError, match="truncated.jpg"):
        clf.fit(np.array([good_file, str(bad)] * 2), [0, 1, 0, 1])
    assert not hasattr(clf, "model_") and not hasattr(clf, "n_features_in_")


def _odd_mode_files(folder):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    images = {
        "gray.png": Image.fromarray(rgb[..., 0], mode="L"),
        "rgba.png": Image.fromarray(np.dstack([rgb, rgb[..., :1]]), mode="RGBA"),
        "palette.png": Image.fromarray(rgb).convert("P"),
        "sixteen.png": Image.fromarray(rgb[..., 0].astype(np.uint16) * 257),
        "big.jpg": Image.fromarray(np.kron(rgb, np.ones((4, 4, 1), np.uint8))),
    }
    paths = []
    for name, image in images.items():
        image.save(folder / name)
        paths.append(str(folder / name))
    return np.array(paths)


def test_odd_image_modes_predict_like_their_decoded_pixels(fitted, tmp_path):
    paths = _odd_mode_files(tmp_path)
    proba = fitted.predict_proba(paths)
    assert np.isfinite(proba).all()
    assert_allclose(proba, fitted.predict_proba(read_images(paths, (8, 8))), rtol=1e-6)


def test_odd_image_modes_in_a_folder(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        _odd_mode_files(tmp_path / label)
    data = load_image_folder(tmp_path, image_size=(8, 8))
    assert data.images.shape == (10, 8, 8, 3) and data.images.dtype == np.uint8
    # The 16-bit image is scaled to 8 bits, not clipped to white.
    order = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert data.images[order.index("sixteen.png")].min() < 200


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_file_in_a_folder(tmp_path, name):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        Image.new("RGB", (6, 6), (9, 9, 9)).save(tmp_path / label / "ok.png")
    BAD_FILES[name](tmp_path / "b" / name)
    with pytest.raises(ImageReadError, match=name):
        load_image_folder(tmp_path, image_size=(6, 6))
    with pytest.warns(UserWarning, match=f"Skipped 1 .*{name}"):
        data = load_image_folder(tmp_path, image_size=(6, 6), on_error="skip")
    assert data.target.tolist() == [0, 1]
    # Without image_size the size is guessed from headers: a bad file is ignored.
    with pytest.warns(UserWarning, match="Skipped 1"):
        data = load_image_folder(tmp_path, on_error="skip")
    assert data.images.shape == (2, 6, 6, 3)
