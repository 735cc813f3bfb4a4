"""Model inspection: Grad-CAM heatmaps of fitted skbreast classifiers.

Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017) weights the channels of a convolutional
feature map by the spatially averaged gradient of a class logit, keeps the positive
part of the weighted sum and upsamples it to the image: it shows where the network
looked for the class.
"""

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["gradcam", "overlay_gradcam"]

# Images pushed through the gradient model at once.
_BATCH_SIZE = 64


def _default_layer(model):
    """Return the name of the layer Grad-CAM reads by default."""
    names = [layer.name for layer in model.layers]
    if "backbone" in names:
        return "backbone"
    convs = [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) or layer.name.endswith("_conv")
    ]
    if not convs:
        raise ValueError(
            "The model has no convolution layer to compute Grad-CAM on; pass layer="
            f"one of {names}."
        )
    return convs[-1]


def _gradient_model(model, layer):
    """Return a model mapping images to ``[feature_map, logits]``."""
    names = [lay.name for lay in model.layers]
    if layer not in names:
        raise ValueError(f"layer={layer!r} is not a layer of the model; got {names}.")
    if layer != "backbone":
        return keras.Model(
            model.inputs,
            [model.get_layer(layer).output, model.get_layer("logits").output],
        )
    # The backbone is a nested model: its output tensor inside the outer graph is
    # reachable, but rebuilding the graph on a fresh Input keeps the gradient path
    # explicit. Layers before the backbone (rescaling, resizing, preprocessing) and the
    # head after it (avg_pool, dropout, logits) are called again, sharing weights.
    inputs = keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
    x = inputs
    features = None
    for lay in model.layers[1:]:
        if lay.name == "probabilities":
            break
        if isinstance(lay, keras.layers.InputLayer):
            continue
        x = lay(x)
        if lay.name == "backbone":
            features = x
    return keras.Model(inputs, [features, x])


def gradcam(estimator, X, y=None, *, layer=None, method="auto"):
    """Grad-CAM heatmaps of a fitted CNNClassifier or ResNetClassifier.

    Parameters
    ----------
    estimator : CNNClassifier or ResNetClassifier
        A fitted skbreast classifier.
    X : ndarray of shape (n_samples, height, width, channels)
        Images, as passed to ``predict``.
    y : array-like of shape (n_samples,), default=None
        Class (a label from ``estimator.classes_``) whose evidence to show per image;
        None uses the predicted class.
    layer : str, default=None
        Name of the layer whose output feature map is explained. None uses the last
        convolution layer of a CNN and the backbone output of a ResNet.
    method : {"auto", "gradcam", "hirescam"}, default="auto"
        ``"gradcam"`` weights each channel by its spatially averaged gradient
        (Selvaraju et al., 2017). ``"hirescam"`` multiplies gradients and
        activations element-wise before summing over channels (Draelos & Carin,
        2020), which follows the model faithfully when a dense layer, not an
        average pool, reads the feature map (the CNN's flatten head); behind an
        average pool the two are the same map. ``"auto"`` uses ``"hirescam"`` for
        models without a global average pool and ``"gradcam"`` otherwise.

    Returns
    -------
    heatmaps : ndarray of shape (n_samples, height, width)
        Heatmaps in [0, 1] at the input resolution, each scaled by its own maximum
        (all zeros where no location supports the class).

    Raises
    ------
    NotImplementedError
        On a Keras backend other than TensorFlow.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast import CNNClassifier
    >>> from skbreast.inspection import gradcam
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(20, 16, 16, 3), dtype=np.uint8)
    >>> y = np.array([0, 1] * 10)
    >>> clf = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1,
    ...                     random_state=0).fit(X, y)
    >>> heat = gradcam(clf, X[:3])
    >>> heat.shape
    (3, 16, 16)
    >>> bool(heat.min() >= 0 and heat.max() <= 1)
    True
    """
    check_is_fitted(estimator)
    if method not in ("auto", "gradcam", "hirescam"):
        raise ValueError(
            f"method must be 'auto', 'gradcam' or 'hirescam', got {method!r}."
        )
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "gradcam needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
            f"Keras runs on {keras.backend.backend()!r}."
        )
    import tensorflow as tf

    images = np.asarray(X)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(estimator.image_shape_):
        raise ValueError(
            "X must be images of shape (n_samples, *image_shape_) = "
            f"(n_samples, {', '.join(map(str, estimator.image_shape_))}); got "
            f"{images.shape}."
        )
    model = estimator.model_
    layer = _default_layer(model) if layer is None else layer
    grad_model = _gradient_model(model, layer)
    if method == "auto":
        has_pool = any(
            isinstance(lay, keras.layers.GlobalAveragePooling2D) for lay in model.layers
        )
        method = "gradcam" if has_pool else "hirescam"

    n_classes = len(estimator.classes_)
    if y is None:
        target = None
    else:
        y = np.asarray(y)
        unknown = np.setdiff1d(np.unique(y), estimator.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} that are not in classes_ "
                f"{estimator.classes_.tolist()}."
            )
        target = np.searchsorted(estimator.classes_, y)

    height, width = images.shape[1:3]
    out = np.zeros((len(images), height, width), dtype=np.float32)
    dtype = model.inputs[0].dtype
    for start in range(0, len(images), _BATCH_SIZE):
        batch = tf.convert_to_tensor(images[start : start + _BATCH_SIZE], dtype=dtype)
        with tf.GradientTape() as tape:
            features, logits = grad_model(batch, training=False)
            if n_classes == 2:
                # One sigmoid logit: its sign picks the class, so the negative class's
                # evidence is the gradient of minus the logit.
                logit = logits[:, 0]
                if target is None:
                    sign = tf.where(logit > 0, 1.0, -1.0)
                else:
                    sign = tf.constant(
                        np.where(target[start : start + len(batch)] == 1, 1.0, -1.0),
                        dtype=logit.dtype,
                    )
                score = sign * logit
            else:
                idx = (
                    tf.argmax(logits, axis=1)
                    if target is None
                    else tf.constant(target[start : start + len(batch)])
                )
                score = tf.gather(logits, idx, axis=1, batch_dims=1)
        grads = tape.gradient(score, features)
        if method == "gradcam":
            weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        else:
            weights = grads
        cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
        cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")
        cam = cam[..., 0].numpy()
        peak = cam.reshape(len(cam), -1).max(axis=1)
        cam = np.where(
            peak[:, None, None] > 0, cam / np.maximum(peak, 1e-12)[:, None, None], 0
        )
        out[start : start + len(batch)] = np.clip(cam, 0, 1)
    return out


def overlay_gradcam(images, heatmaps, *, alpha=0.4, cmap="jet"):
    """Blend Grad-CAM heatmaps over images.

    Parameters
    ----------
    images : ndarray of shape (n_samples, height, width, channels) or \
            (n_samples, height, width)
        Images, uint8 (0-255) or float in [0, 1].
    heatmaps : ndarray of shape (n_samples, height, width)
        Heatmaps in [0, 1], as returned by :func:`gradcam`.
    alpha : float, default=0.4
        Weight of the coloured heatmap in the blend.
    cmap : str, default="jet"
        Matplotlib colormap of the heatmap.

    Returns
    -------
    overlays : ndarray of shape (n_samples, height, width, 3), dtype uint8
        The blended RGB images.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.inspection import overlay_gradcam
    >>> images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> overlay_gradcam(images, np.ones((2, 8, 8))).shape
    (2, 8, 8, 3)
    """
    import matplotlib

    images = np.asarray(images)
    heatmaps = np.clip(np.asarray(heatmaps, dtype=np.float32), 0, 1)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.shape[:3] != heatmaps.shape:
        raise ValueError(
            f"images {images.shape} and heatmaps {heatmaps.shape} do not match."
        )
    base = images.astype(np.float32)
    if images.dtype == np.uint8 or base.max() > 1.0:
        base = base / 255.0
    if base.shape[-1] == 1:
        base = np.repeat(base, 3, axis=-1)
    base = base[..., :3]
    colour = matplotlib.colormaps[cmap](heatmaps)[..., :3]
    blend = (1 - alpha) * base + alpha * colour
    return np.clip(np.round(blend * 255), 0, 255).astype(np.uint8)
