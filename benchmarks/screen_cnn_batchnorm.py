"""Screen a CNN candidate on IDC: batch normalisation after every convolution.

The candidate is ``CNNClassifier()`` with each block's ``Conv2D + ReLU`` replaced by
``Conv2D (no bias) + BatchNormalization + ReLU``; everything else (dropout, pooling,
dense layers, augmentation, training) is the default. It is not an estimator option:
this script swaps the builder that ``CNNClassifier`` calls, then runs
``bench_idc.py`` with its arguments, so the records are the same as that script's.

Screen on seeds other than the reported 0, 1 and 2 (their folds are the ones the
table of ``benchmarks/README.md`` reports), and pair with the default on the same
folds::

    python benchmarks/screen_cnn_batchnorm.py --models cnn --seeds 10 --out bn.json
    python benchmarks/bench_idc.py --models cnn --seeds 10 --out default.json
"""

import sys
from pathlib import Path

import keras

import skbreast.cnn
from skbreast.models._augment import augmentation_layers
from skbreast.models._common import (
    check_input_shape,
    check_n_outputs,
    classification_head,
    image_input,
    layer_seed,
)
from skbreast.models._dropout import FastDropout

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_idc  # noqa: E402


def build_cnn_batchnorm(
    input_shape,
    n_outputs,
    *,
    filters,
    kernel_size,
    conv_dropout,
    dense_units,
    dense_dropout,
    input_scale,
    seed,
    **augmentation,
):
    """``skbreast.models.build_cnn`` with batch normalisation before each ReLU.

    Called by ``CNNClassifier`` with every argument (its defaults live there), and
    ``augmentation`` holds its ``flip``, ``rotate90``, ``stain_jitter`` and ``zoom``.
    """
    input_shape = check_input_shape(input_shape)
    n_outputs = check_n_outputs(n_outputs)
    inputs, x = image_input(input_shape, input_scale)
    x = augmentation_layers(x, **augmentation, seed=seed)
    for i, n_filters in enumerate(filters):
        x = keras.layers.Conv2D(
            int(n_filters),
            int(kernel_size),
            padding="same",
            use_bias=False,  # the batch normalisation's offset replaces it
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=layer_seed(seed, 2 * i)
            ),
        )(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = FastDropout(conv_dropout, seed=layer_seed(seed, 2 * i + 1))(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.Flatten()(x)
    for j, units in enumerate(dense_units):
        x = keras.layers.Dense(
            int(units),
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=layer_seed(seed, 1000 + 2 * j)
            ),
        )(x)
        x = FastDropout(dense_dropout, seed=layer_seed(seed, 1001 + 2 * j))(x)
    outputs = classification_head(x, n_outputs, seed)
    return keras.Model(inputs, outputs, name="cnn")


if __name__ == "__main__":
    # CNNClassifier builds its network through the name it imported.
    skbreast.cnn.build_cnn = build_cnn_batchnorm
    bench_idc.main()
