"""Training-time augmentation layers for histology images, written with keras.ops.

Every layer here is the identity at inference (``training`` false or unset), so a
model's predictions never depend on them; during training they draw per-image random
transforms from a seeded ``keras.random.SeedGenerator``, so a fit is reproducible for
a given seed. Only ``keras.ops`` is used, so the TensorFlow, JAX and PyTorch backends
all run them, and the layers are registered for safe-mode loading of ``.keras`` files.
"""

import keras
import numpy as np
from keras import ops

from skbreast.models._common import layer_seed

# Ruifrok & Johnston's haematoxylin, eosin and DAB optical-density vectors (one row per
# stain), as in scikit-image's ``rgb_from_hed``.
_RGB_FROM_HED = np.array(
    [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]], dtype="float32"
)
_HED_FROM_RGB = np.linalg.inv(_RGB_FROM_HED).astype("float32")
# Darkest intensity taken before the logarithm: a black pixel has finite density.
_MIN_INTENSITY = 1e-3


@keras.saving.register_keras_serializable(package="skbreast")
class RandomDihedral(keras.layers.Layer):
    """Randomly flip and rotate images by multiples of 90 degrees while training.

    Histology has no "up": every rotation and reflection of a patch is an equally
    valid image. With ``flip`` and ``rotate90`` a square image gets one of its 8
    rotations/reflections with equal probability (a random transpose followed by
    random horizontal and vertical flips). Non-square images cannot be turned by 90
    degrees without changing shape, so ``rotate90`` only adds the 180-degree turn.

    Parameters
    ----------
    flip : bool, default=True
        Flip each image horizontally and, independently, vertically with
        probability 1/2.
    rotate90 : bool, default=True
        Transpose each square image with probability 1/2 (with the flips this gives
        every 90-degree rotation); rotate non-square images by 180 degrees with
        probability 1/2.
    seed : int or None, default=None
        Seed of the layer's random generator.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.models import RandomDihedral
    >>> x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    >>> layer = RandomDihedral(seed=0)
    >>> bool(np.array_equal(layer(x), x))  # the identity unless training
    True
    >>> np.asarray(layer(x, training=True)).shape
    (2, 4, 4, 3)
    """

    def __init__(self, flip=True, rotate90=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.flip = bool(flip)
        self.rotate90 = bool(rotate90)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or not (self.flip or self.rotate90):
            return inputs
        x = inputs
        draws = keras.random.uniform(
            (ops.shape(x)[0], 3, 1, 1, 1), seed=self.seed_generator
        )
        coin = [draws[:, i] < 0.5 for i in range(3)]  # each of shape (n, 1, 1, 1)
        height, width = x.shape[1], x.shape[2]
        if self.rotate90 and height is not None and height == width:
            x = ops.where(coin[2], ops.transpose(x, (0, 2, 1, 3)), x)
        elif self.rotate90 and not self.flip:
            x = ops.where(coin[2], ops.flip(ops.flip(x, axis=1), axis=2), x)
        if self.flip:
            x = ops.where(coin[0], ops.flip(x, axis=2), x)
            x = ops.where(coin[1], ops.flip(x, axis=1), x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(flip=self.flip, rotate90=self.rotate90, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="skbreast")
class RandomStainJitter(keras.layers.Layer):
    """Randomly vary the haematoxylin and eosin staining of RGB images while training.

    H&E staining differs between labs, scanners and days. Following Tellez et al.
    (2018, 2019), each image is converted to optical density (``-log(intensity)``),
    unmixed into haematoxylin, eosin and DAB concentrations with Ruifrok & Johnston's
    stain vectors, and every concentration ``c`` becomes ``alpha * c + beta`` with
    ``alpha ~ U(1 - strength, 1 + strength)`` and ``beta ~ U(-strength, strength)``
    drawn per image and stain (``beta`` in optical-density units, where 0.1 darkens
    a pixel by about 10%); then the image is mixed back and clipped to [0, 1].

    Parameters
    ----------
    strength : float, default=0.05
        Half-width of the ranges ``alpha`` and ``beta`` are drawn from; 0 turns the
        layer off.
    seed : int or None, default=None
        Seed of the layer's random generator.
    **kwargs
        Passed to :class:`keras.layers.Layer`.

    Notes
    -----
    The input must be RGB with intensities in [0, 1] (the models apply this layer
    after rescaling).

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.models import RandomStainJitter
    >>> x = np.full((2, 4, 4, 3), 0.5, dtype="float32")
    >>> layer = RandomStainJitter(strength=0.1, seed=0)
    >>> bool(np.array_equal(layer(x), x))  # the identity unless training
    True
    >>> jittered = np.asarray(layer(x, training=True))
    >>> jittered.shape, bool(np.all((jittered >= 0) & (jittered <= 1)))
    ((2, 4, 4, 3), True)
    """

    def __init__(self, strength=0.05, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.strength = float(strength)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.strength <= 0:
            return inputs
        x = ops.cast(inputs, "float32")
        n = ops.shape(x)[0]
        alpha = keras.random.uniform(
            (n, 1, 1, 3),
            minval=1.0 - self.strength,
            maxval=1.0 + self.strength,
            seed=self.seed_generator,
        )
        beta = keras.random.uniform(
            (n, 1, 1, 3),
            minval=-self.strength,
            maxval=self.strength,
            seed=self.seed_generator,
        )
        density = -ops.log(ops.clip(x, _MIN_INTENSITY, 1.0))
        stains = ops.matmul(density, ops.convert_to_tensor(_HED_FROM_RGB))
        stains = stains * alpha + beta
        density = ops.matmul(stains, ops.convert_to_tensor(_RGB_FROM_HED))
        out = ops.clip(ops.exp(-density), 0.0, 1.0)
        return ops.cast(out, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(strength=self.strength, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="skbreast")
class RandomZoom(keras.layers.RandomZoom):
    """:class:`keras.layers.RandomZoom` that is the identity unless training.

    Keras' own layer zooms whenever ``training`` is not given, e.g. when a model is
    called directly as ``model(images)``; this one, like the other skbreast
    augmentation layers, only zooms when ``training`` is true.

    Parameters
    ----------
    height_factor : float or tuple of float
        As for :class:`keras.layers.RandomZoom`.
    **kwargs
        Passed to :class:`keras.layers.RandomZoom`.
    """

    def __init__(self, height_factor, **kwargs):
        super().__init__(height_factor, **kwargs)

    def call(self, data, training=None):
        return super().call(data, training=bool(training))


def augmentation_layers(
    x, *, flip=False, rotate90=False, stain_jitter=0.0, zoom=0.0, seed=None
):
    """Apply the training-only augmentation layers to the rescaled image tensor ``x``.

    Parameters
    ----------
    x : keras tensor
        Images scaled to [0, 1], of shape ``(batch, height, width, channels)``.
    flip, rotate90 : bool, default=False
        See :class:`RandomDihedral`.
    stain_jitter : float, default=0.0
        Strength of :class:`RandomStainJitter`; applied to 3-channel images only.
    zoom : float, default=0.0
        Zoom each image in or out by a random factor of up to ``zoom`` (0.1: up to
        10%), filling the border by reflection; zooming in is a random crop resized
        back to full size.
    seed : int or None, default=None
        Seed from which every layer's seed is derived.

    Returns
    -------
    x : keras tensor
        The augmented tensor (the input itself when nothing is enabled).
    """
    if flip or rotate90:
        x = RandomDihedral(
            flip=flip,
            rotate90=rotate90,
            seed=layer_seed(seed, 40_000),
            name="augment_dihedral",
        )(x)
    if zoom:
        x = RandomZoom(
            (-float(zoom), float(zoom)),
            fill_mode="reflect",
            seed=layer_seed(seed, 40_001),
            name="augment_zoom",
        )(x)
    if stain_jitter and x.shape[-1] == 3:
        x = RandomStainJitter(
            float(stain_jitter), seed=layer_seed(seed, 40_002), name="augment_stain"
        )(x)
    return x
