"""The classic patch CNN: conv + ReLU + dropout + max-pool blocks, dense layers."""

import keras

from skbreast.models._augment import augmentation_layers
from skbreast.models._common import (
    check_input_shape,
    check_n_outputs,
    classification_head,
    image_input,
    layer_seed,
)
from skbreast.models._dropout import FastDropout


def build_cnn(
    input_shape=(50, 50, 3),
    n_outputs=1,
    *,
    filters=(32, 64, 128),
    kernel_size=3,
    conv_dropout=0.25,
    dense_units=(128, 64),
    dense_dropout=0.5,
    input_scale=1 / 255,
    seed=None,
    flip=False,
    rotate90=False,
    stain_jitter=0.0,
    zoom=0.0,
):
    """Build the classic breast-histopathology patch CNN (uncompiled).

    One block per entry of ``filters``: a ``kernel_size`` convolution with ReLU, then
    dropout, then 2x2 max-pooling. The feature map is flattened into the dense layers
    (ReLU, each followed by dropout) and ends in a sigmoid unit for binary problems or a
    softmax layer otherwise. This is the architecture popularised by the IDC 50x50 patch
    models; pooling uses ``"same"`` padding so that any image size, down to 1x1, works.
    Dropout is :class:`skbreast.models.FastDropout`, Keras' dropout with a mask that
    costs a quarter as many random numbers (the CNN's most expensive training step
    on a CPU otherwise).

    Parameters
    ----------
    input_shape : tuple of int, default=(50, 50, 3)
        ``(height, width, channels)`` of one image.
    n_outputs : int, default=1
        1 for a binary problem (sigmoid), else the number of classes (softmax).
    filters : tuple of int, default=(32, 64, 128)
        Convolution filters of each block; its length is the number of blocks.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    conv_dropout : float, default=0.25
        Dropout rate after each convolution.
    dense_units : tuple of int, default=(128, 64)
        Units of the hidden dense layers.
    dense_dropout : float, default=0.5
        Dropout rate after each hidden dense layer.
    input_scale : float, default=1/255
        Factor applied to the input inside the model (1/255 maps uint8 pixels to
        [0, 1]); use 1.0 for inputs that are already scaled.
    seed : int or None, default=None
        Seed of every initializer, dropout and augmentation layer; the same seed
        builds the same model.
    flip, rotate90, stain_jitter, zoom : default=False, False, 0.0, 0.0
        Training-only augmentation layers placed after the rescaling (all off by
        default here; the estimators turn flips, rotations and stain jitter on). They
        are the identity at inference. See :class:`skbreast.models.RandomDihedral`,
        :class:`skbreast.models.RandomStainJitter` (3-channel images only) and the
        ``zoom`` parameter of :class:`skbreast.CNNClassifier`.

    Returns
    -------
    model : keras.Model
        The uncompiled model. Its layers ``"logits"`` and ``"probabilities"`` hold the
        pre-activation scores and the output probabilities.

    Examples
    --------
    >>> from skbreast.models import build_cnn
    >>> model = build_cnn((50, 50, 3), seed=0)
    >>> model.output_shape
    (None, 1)
    """
    input_shape = check_input_shape(input_shape)
    n_outputs = check_n_outputs(n_outputs)
    inputs, x = image_input(input_shape, input_scale)
    x = augmentation_layers(
        x, flip=flip, rotate90=rotate90, stain_jitter=stain_jitter, zoom=zoom, seed=seed
    )
    for i, n_filters in enumerate(filters):
        x = keras.layers.Conv2D(
            int(n_filters),
            int(kernel_size),
            padding="same",
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=layer_seed(seed, 2 * i)
            ),
            name=f"block{i + 1}_conv",
        )(x)
        x = FastDropout(
            conv_dropout, seed=layer_seed(seed, 2 * i + 1), name=f"block{i + 1}_dropout"
        )(x)
        x = keras.layers.MaxPooling2D(2, padding="same", name=f"block{i + 1}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for j, units in enumerate(dense_units):
        x = keras.layers.Dense(
            int(units),
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(
                seed=layer_seed(seed, 1000 + 2 * j)
            ),
            name=f"dense{j + 1}",
        )(x)
        x = FastDropout(
            dense_dropout,
            seed=layer_seed(seed, 1001 + 2 * j),
            name=f"dense{j + 1}_dropout",
        )(x)
    outputs = classification_head(x, n_outputs, seed)
    return keras.Model(inputs, outputs, name="cnn")
