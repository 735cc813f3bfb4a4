"""Pieces shared by the model builders: input scaling, seeds and the output head."""

import keras


def layer_seed(seed, offset):
    """Derive a per-layer seed so that one ``seed`` fixes every initializer.

    Keras draws unseeded initializers from a process-wide generator, so two models
    built with the same global state in a different order would differ. Giving every
    layer its own derived seed makes a build reproducible on its own.
    """
    if seed is None:
        return None
    return (int(seed) * 1_000_003 + offset) % (2**31 - 1)


def image_input(input_shape, input_scale, name="image"):
    """Return ``(inputs, x)``: the model input and the rescaled float tensor.

    Images enter the model in their stored dtype (usually uint8) and are scaled here,
    batch by batch, so that no whole-dataset float copy is ever made.
    """
    inputs = keras.Input(shape=tuple(input_shape), name=name)
    x = inputs
    if input_scale != 1.0:
        x = keras.layers.Rescaling(float(input_scale), name="rescale")(x)
    return inputs, x


def classification_head(x, n_outputs, seed, offset=10_000):
    """Add the logits layer and the sigmoid/softmax output layer.

    The logits get their own named layer so that ``decision_function`` can read them
    without inverting a saturated sigmoid. It computes in float32 under any dtype
    policy: 16-bit logits would tie distinct scores and blur probabilities.
    """
    logits = keras.layers.Dense(
        n_outputs,
        kernel_initializer=keras.initializers.GlorotUniform(
            seed=layer_seed(seed, offset)
        ),
        dtype="float32",
        name="logits",
    )(x)
    activation = "sigmoid" if n_outputs == 1 else "softmax"
    # Keep the output in float32 under mixed precision: probabilities and the loss
    # need the full range.
    return keras.layers.Activation(activation, dtype="float32", name="probabilities")(
        logits
    )


def check_input_shape(input_shape):
    """Validate an ``(height, width, channels)`` tuple and return it as ints."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except TypeError as exc:
        raise ValueError(
            f"input_shape must be (height, width, channels), got {input_shape!r}."
        ) from exc
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            "input_shape must be three positive integers (height, width, channels), "
            f"got {input_shape!r}."
        )
    return shape


def check_n_outputs(n_outputs):
    """Validate the number of output units (1 for binary, n_classes otherwise)."""
    if int(n_outputs) < 1 or int(n_outputs) == 2:
        raise ValueError(
            "n_outputs must be 1 (binary, sigmoid) or the number of classes (>= 3, "
            f"softmax), got {n_outputs!r}."
        )
    return int(n_outputs)
