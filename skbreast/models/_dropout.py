"""Dropout whose random mask costs a quarter of Keras' on TensorFlow.

Keras' :class:`keras.layers.Dropout` draws one random float per element. On a CPU
that draw dominates the layer: for the CNN's first feature map (32x50x50x32 at batch
32) TensorFlow's Philox generator took 4.1 ms for float32 uniforms and 6.1 ms for
bfloat16 ones on 2 cores, against 1.1 ms for a quarter as many 32-bit integers. A
Bernoulli mask does not need a float per element: eight random bits decide "keep"
with probability ``1 - k/256`` exactly, so one 32-bit draw serves four elements.
"""

import keras
import numpy as np

# Rates that are a multiple of 1/256 (0.25, 0.5, ...) are exact with 8 bits per
# element; any other rate uses 16 bits, which rounds it by less than 1/131072 (finer
# than the 8-bit mantissa of Keras' own bfloat16 uniforms).
_BYTE_LEVELS = 256
_HALF_LEVELS = 65536


@keras.saving.register_keras_serializable(package="skbreast")
class FastDropout(keras.layers.Dropout):
    """Element-wise dropout drawing 8 or 16 random bits per element instead of a float.

    The same layer as :class:`keras.layers.Dropout` (inverted dropout: at training
    time each element is zeroed with probability ``rate`` and the others are scaled
    by ``1 / (1 - rate)``; at inference it is the identity), with a cheaper random
    mask on the TensorFlow backend: a 32-bit random integer is split into four bytes
    (or two 16-bit halves) and each element is kept when its bits reach the threshold
    ``round(rate * 2**bits)``. Rates that are multiples of 1/256, such as 0.25 and
    0.5, are exact; any other rate is rounded to a multiple of 1/65536, and the scale
    uses the rounded rate so that the layer stays unbiased. On other backends, and
    whenever ``noise_shape`` is given, it is :class:`keras.layers.Dropout`.

    Parameters
    ----------
    rate : float
        Fraction of the elements to drop, in ``[0, 1]`` (1 drops everything).
    noise_shape : tuple of int or None, default=None
        As in :class:`keras.layers.Dropout` (a shared mask along some axes); given,
        the layer uses Keras' own mask.
    seed : int or None, default=None
        Seed of the layer's random generator; the same seed draws the same masks.
    **kwargs : dict
        Other arguments of :class:`keras.layers.Layer` (``name``, ``dtype``...).

    See Also
    --------
    keras.layers.Dropout : The layer this one reimplements.

    Notes
    -----
    The masks differ from those of :class:`keras.layers.Dropout` with the same seed
    (they come from other random numbers), not in distribution. On 2 cores of an
    AMD EPYC with AVX-512 BF16, the forward and backward pass of a 0.25 dropout on
    a 32x50x50x32 bfloat16 tensor took 2.7 ms against 5.4 ms for Keras' layer, and
    the default CNN's bfloat16 training step 19.8 ms against 27.5 ms
    (``benchmarks/bench_dropout.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.models import FastDropout
    >>> layer = FastDropout(0.5, seed=0)
    >>> x = np.ones((2, 8), dtype="float32")
    >>> bool((np.asarray(layer(x, training=False)) == 1).all())
    True
    >>> sorted(set(np.asarray(layer(x, training=True)).ravel().tolist())) in (
    ...     [0.0, 2.0], [0.0], [2.0])
    True
    """

    def call(self, inputs, training=False):
        if (
            not training
            or not 0 < self.rate < 1
            or self.noise_shape is not None
            or keras.backend.backend() != "tensorflow"
        ):
            return super().call(inputs, training=training)
        return _tensorflow_bit_dropout(inputs, self.rate, self.seed_generator.next())


def mask_threshold(rate):
    """Return ``(bits, threshold)``: keep an element whose ``bits`` random bits >= it.

    Parameters
    ----------
    rate : float
        Dropout rate in ``[0, 1)``.

    Returns
    -------
    bits : int
        8 when ``rate`` is a multiple of 1/256, else 16.
    threshold : int
        ``round(rate * 2**bits)``; the effective rate is ``threshold / 2**bits``.
    """
    byte_threshold = rate * _BYTE_LEVELS
    if float(byte_threshold).is_integer():
        return 8, int(byte_threshold)
    return 16, int(np.clip(round(rate * _HALF_LEVELS), 1, _HALF_LEVELS - 1))


def _tensorflow_bit_dropout(x, rate, seed):
    import tensorflow as tf

    bits, threshold = mask_threshold(rate)
    per_word = 32 // bits
    small = tf.uint8 if bits == 8 else tf.uint16
    # Keras keeps the seed state in int64; the stateless ops want two int32s.
    seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
    shape = tf.shape(x)
    channels = x.shape[-1]
    # Draw [..., C / per_word] words when the channels divide evenly: the bitcast
    # to [..., C / per_word, per_word] small integers reshapes to x's shape without
    # a copy. Otherwise draw enough words for every element and trim the tail.
    whole_words = channels is not None and channels % per_word == 0
    if whole_words:
        word_shape = tf.concat([shape[:-1], [channels // per_word]], axis=0)
    else:
        size = tf.size(x)
        word_shape = [(size + per_word - 1) // per_word]
    words = tf.random.stateless_uniform(
        word_shape, seed, minval=None, maxval=None, dtype=tf.uint32
    )
    values = tf.bitcast(words, small)
    if not whole_words:
        values = tf.reshape(values, [-1])[:size]
    values = tf.reshape(values, shape)
    keep = values >= tf.constant(threshold, small)
    scale = tf.constant(1 / (1 - threshold / 2**bits), x.dtype)
    return tf.where(keep, x * scale, tf.zeros_like(x))
