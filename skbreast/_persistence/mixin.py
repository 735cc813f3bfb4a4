"""What the file format adds to an estimator: its model card and ``export``.

The estimator classes list :class:`ModelFileMixin` first among their bases, so the
training code (which must not import persistence) never defines these methods.
"""

from skbreast._persistence import card as _card


class ModelFileMixin:
    """Mixin of the skbreast classifiers: ``model_card_`` and :meth:`export`."""

    @property
    def model_card_(self):
        """The model card of this fit, a dict (see :func:`skbreast.read_model_card`).

        Set by :func:`skbreast.load` (the card stored in the file) and by
        :func:`skbreast.save`. A later ``fit`` or ``partial_fit`` describes another
        model, so the card then disappears (``AttributeError``) until the next save.
        """
        found = _card.attached(self)
        if found is None:
            raise AttributeError(
                f"This {type(self).__name__} has no model card: cards are written by "
                "skbreast.save and read back by skbreast.load, and describe the fit "
                "they were saved with (a later fit drops the card)."
            )
        return found

    def export(self, path, format="onnx"):
        """Export the fitted network for serving, without Python or skbreast.

        The exported graph takes a batch of uint8 images of shape ``(n, height,
        width, channels)`` (``image_shape_``, any ``n``) and returns the class
        probabilities of shape ``(n, n_classes)``, columns ordered as ``classes_``:
        the pixel scaling, any backbone preprocessing and, when ``tta=True``, the
        test-time augmentation are inside. Images must already be resized to
        ``image_shape_``. It matches :meth:`predict_proba` within about 1e-6 (in
        float32 rather than float64). It outputs probabilities, not labels: a
        binary model's :meth:`predict` gives ``classes_[1]`` where its probability
        exceeds ``threshold_``, which the exported files carry in their model card
        (``fit.threshold``) and, for ONNX, in the ``threshold`` metadata property.

        Parameters
        ----------
        path : str or path-like
            Where to write: a folder for ``"savedmodel"``, a file for ``"onnx"``
            (``.onnx``) and ``"tflite"`` (``.tflite``). It is written under a
            temporary name and renamed when complete; an existing file or folder
            at ``path`` is replaced.
        format : {"onnx", "savedmodel", "tflite"}, default="onnx"
            ``"onnx"`` (needs the ``onnx`` and ``tf2onnx`` packages: ``pip install
            skbreast[export]``; run it with ``onnxruntime``), ``"savedmodel"``
            (a TensorFlow SavedModel whose ``serve`` and ``serving_default``
            signatures return the probabilities) or ``"tflite"`` (LiteRT /
            TensorFlow Lite). All three need the TensorFlow backend.

        Returns
        -------
        path : str
            The path written.

        Raises
        ------
        ValueError
            For an unknown ``format``, or a file extension that does not match it.
        ImportError
            If the converter ``format`` needs is not installed, naming the extra.

        Notes
        -----
        ONNX files carry ``classes`` (a JSON list), ``threshold`` (a JSON number,
        null for more than two classes) and ``model_card`` in their metadata
        properties; SavedModels keep the card in
        ``assets.extra/skbreast_model_card.json``.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import tensorflow as tf
        >>> from skbreast import CNNClassifier
        >>> X = np.random.RandomState(0).randint(0, 256, (20, 8, 8, 3), dtype=np.uint8)
        >>> y = np.array(["benign", "malignant"] * 10)
        >>> clf = CNNClassifier(filters=(4,), dense_units=(8,), epochs=1,
        ...                     random_state=0).fit(X, y)
        >>> folder = clf.export(os.path.join(tempfile.mkdtemp(), "cnn"),
        ...                     format="savedmodel")
        >>> served = tf.saved_model.load(folder)  # keep it: it owns the weights
        >>> proba = served.serve(tf.constant(X[:3])).numpy()
        >>> bool(np.allclose(proba, clf.predict_proba(X[:3]), atol=1e-5))
        True
        """
        from skbreast._persistence.export import export_estimator

        return export_estimator(self, path, format=format)
