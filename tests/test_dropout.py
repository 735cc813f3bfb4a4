"""FastDropout: Keras' dropout semantics with a cheaper random mask."""

import keras
import numpy as np
import pytest

from skbreast.models import FastDropout, build_cnn
from skbreast.models._dropout import mask_threshold


def _train(layer, x):
    return keras.ops.convert_to_numpy(layer(x, training=True)).astype(np.float64)


@pytest.mark.parametrize(
    "rate, expected",
    [(0.25, (8, 64)), (0.5, (8, 128)), (0.3, (16, 19661)), (1e-9, (16, 1))],
)
def test_mask_threshold(rate, expected):
    assert mask_threshold(rate) == expected


def test_inference_is_identity():
    x = np.random.default_rng(0).random((4, 6, 6, 8)).astype("float32")
    layer = FastDropout(0.5, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x, training=False)), x
    )


@pytest.mark.parametrize("rate", [0.25, 0.5, 0.3])
@pytest.mark.parametrize("shape", [(16, 40, 40, 32), (16, 41, 39, 3), (64, 1001)])
def test_drop_fraction_and_scale(rate, shape):
    # Channel counts divisible by the elements per random word take the reshape
    # path; the others the flatten-and-slice path. Both must drop `rate`.
    x = np.ones(shape, dtype="float32")
    out = _train(FastDropout(rate, seed=1), x)
    bits, threshold = mask_threshold(rate)
    effective = threshold / 2**bits
    assert abs(effective - rate) < 2**-16
    if keras.backend.backend() != "tensorflow":
        effective = rate  # Keras' own dropout there
    kept = out != 0
    n = kept.size
    # 5 standard deviations of a binomial proportion: fails by chance < 1e-6.
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(np.unique(out[kept]), 1 / (1 - effective), rtol=1e-6)


def test_mask_is_not_constant_along_any_axis():
    # The bytes of one random word land on neighbouring channels: check that
    # neither channels nor positions share a mask.
    out = _train(FastDropout(0.5, seed=3), np.ones((8, 16, 16, 32), "float32"))
    kept = out != 0
    for axis in range(4):
        share = kept.mean(axis=axis)
        assert 0.2 < share.mean() < 0.8
        assert share.std() > 0


def test_same_seed_same_masks_and_new_mask_each_call():
    x = np.ones((4, 8, 8, 16), dtype="float32")
    a, b = FastDropout(0.25, seed=7), FastDropout(0.25, seed=7)
    first = _train(a, x)
    np.testing.assert_array_equal(first, _train(b, x))
    assert not np.array_equal(first, _train(a, x))


def test_gradient_is_the_mask():
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("GradientTape: TensorFlow backend")
    x = tf.ones((4, 8, 8, 16))
    layer = FastDropout(0.25, seed=2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        total = tf.reduce_sum(y)
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), y.numpy())


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_edge_rates(rate):
    x = np.ones((2, 4, 4, 4), dtype="float32")
    np.testing.assert_array_equal(_train(FastDropout(rate, seed=0), x), x * (rate == 0))


def test_noise_shape_uses_keras_mask():
    x = np.ones((4, 6, 6, 8), dtype="float32")
    out = _train(FastDropout(0.5, noise_shape=(None, 1, 1, 8), seed=0), x)
    # One mask per (image, channel), shared over all positions.
    assert (out == out[:, :1, :1, :]).all()


def test_bfloat16_policy():
    layer = FastDropout(0.25, seed=0, dtype="mixed_bfloat16")
    out = layer(np.ones((4, 8, 8, 32), dtype="float32"), training=True)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    values = np.unique(keras.ops.convert_to_numpy(keras.ops.cast(out, "float32")))
    # 4/3 rounded to bfloat16, as Keras' own dropout scales in the compute dtype.
    np.testing.assert_allclose(values, [0.0, 4 / 3], rtol=2**-8)


def test_saved_cnn_loads_in_safe_mode(tmp_path):
    model = build_cnn((12, 12, 3), filters=(4,), dense_units=(4,), seed=0)
    assert any(isinstance(layer, FastDropout) for layer in model.layers)
    path = tmp_path / "cnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    dropouts = [layer for layer in loaded.layers if isinstance(layer, FastDropout)]
    assert [d.rate for d in dropouts] == [0.25, 0.5]
    x = np.random.default_rng(0).integers(0, 256, (3, 12, 12, 3)).astype("uint8")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )
