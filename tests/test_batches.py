"""Training and validation batches: always full, weights exact, oneDNN-safe."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skbreast._training.batches import ArraySource, TrainingBatches


def _batches(n, batch_size, **kwargs):
    images = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1)
    y = np.arange(n, dtype=np.float32)
    weights = np.linspace(0.5, 2.0, n).astype(np.float32)
    return TrainingBatches(
        ArraySource(images), np.arange(n), y, weights, batch_size, **kwargs
    )


@pytest.mark.parametrize("n, batch_size", [(10, 4), (3, 8), (8, 4)])
def test_training_batches_are_full_and_cover_the_epoch(n, batch_size):
    batches = _batches(n, batch_size, rng=np.random.default_rng(0))
    assert len(batches) == -(-n // batch_size)
    for _ in range(3):  # epochs
        seen = np.concatenate([batches[i][1] for i in range(len(batches))])
        assert all(len(batches[i][1]) == batch_size for i in range(len(batches)))
        assert set(seen.astype(int)) == set(range(n))
        # The filling samples keep their own weights.
        x, y, w = batches[len(batches) - 1]
        assert_allclose(w, batches.sample_weight[y.astype(int)])
        batches.on_epoch_end()


def test_training_batches_reproducible_per_seed():
    a = _batches(10, 4, rng=np.random.default_rng(3))
    b = _batches(10, 4, rng=np.random.default_rng(3))
    for _ in range(2):
        for i in range(len(a)):
            np.testing.assert_array_equal(a[i][1], b[i][1])
        a.on_epoch_end()
        b.on_epoch_end()


def test_zero_weight_padding_gives_the_exact_loss():
    # Keras averages per-batch mean losses; padding with weight-0 samples and
    # scaling the real ones must reproduce the unpadded weighted loss exactly.
    n = 11
    rng = np.random.RandomState(0)
    images = rng.rand(n, 1, 1, 1).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.float32).reshape(-1, 1)
    weights = rng.rand(n).astype(np.float32) + 0.1
    inputs = keras.Input((1, 1, 1))
    outputs = keras.layers.Dense(1, activation="sigmoid")(
        keras.layers.Flatten()(inputs)
    )
    model = keras.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy")
    batches = TrainingBatches(
        ArraySource(images), np.arange(n), y, weights, 4, pad="zero_weight"
    )
    assert all(len(batches[i][1]) == 4 for i in range(len(batches)))
    padded = model.evaluate(batches, verbose=0)
    exact = model.evaluate(images, y, sample_weight=weights, batch_size=n, verbose=0)
    assert_allclose(padded, exact, rtol=1e-5)


def test_fits_with_onednn_on_exit_cleanly():
    # TensorFlow 2.21's oneDNN CPU kernel for the gradient of a strided 1x1
    # convolution corrupts the heap on odd batch sizes with few channels; a ResNet
    # fit of 241, 249 or 257 images (odd last batch at batch_size=32) crashed the
    # process. Full training batches and the compact backbone's subsampled
    # shortcut avoid it; run the fits in a fresh process with oneDNN on.
    script = textwrap.dedent(
        """
        import numpy as np
        from skbreast import CNNClassifier, ResNetClassifier

        rng = np.random.RandomState(0)
        small = dict(filters=(4, 8), blocks_per_stage=1, epochs=1, random_state=0)
        for n, batch_size, early_stopping in [
            (241, 32, False), (249, 32, True), (257, 32, False), (45, 7, True),
        ]:
            X = rng.randint(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
            y = np.arange(n) % 2
            clf = ResNetClassifier(
                batch_size=batch_size, early_stopping=early_stopping, **small
            ).fit(X, y)
            assert clf.predict_proba(X).shape == (n, 2)
        X = rng.randint(0, 256, size=(241, 32, 32, 3), dtype=np.uint8)
        cnn = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1)
        cnn.fit(X, np.arange(241) % 2)
        print("clean exit")
        """
    )
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "clean exit" in result.stdout
