"""LinearProbeClassifier: a frozen backbone and a tuned logistic regression in one.

``make_pipeline(ImageEmbedder(...), StandardScaler(), LogisticRegressionCV(...))`` is
the linear probe of the pathology benchmarks (eva, TIAToolbox); this class fits
exactly that, then folds the scaler and the logistic regression into one Dense
layer on top of the backbone's Keras graph. The result is a single network from raw
images to probabilities, so the probe saves pickle-free with :func:`skbreast.save`,
exports to ONNX/SavedModel/TFLite, runs test-time augmentation and Grad-CAM, and
serves in ``skbreast train``/``predict``/``evaluate`` like the other classifiers:
a Pipeline could do none of these.
"""

import numbers
import os

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from skbreast._persistence import register
from skbreast._persistence.mixin import ModelFileMixin
from skbreast._training.batches import PathSource
from skbreast._training.logits import LogitsClassifierMixin
from skbreast._training.precision import PRECISIONS
from skbreast._training.prediction import logits_model
from skbreast._training.threads import limit_framework_threads
from skbreast._training.validation import InputValidationMixin
from skbreast.embedding._embedder import (
    ImageEmbedder,
    check_loaded_input,
    clone_sharing_backbone,
)
from skbreast.model_selection._baselines import tuned_logistic_regression

# The parameters handed to the ImageEmbedder unchanged.
_EMBEDDER_PARAMS = (
    "backbone",
    "weights",
    "weights_sha256",
    "image_size",
    "layer",
    "pooling",
    "tta",
    "batch_size",
    "memory",
    "input_shape",
    "rescale",
    "n_threads",
    "precision",
    "random_state",
)


@register
class LinearProbeClassifier(
    ModelFileMixin,
    LogitsClassifierMixin,
    InputValidationMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Linear probe: a frozen pretrained backbone and a tuned logistic regression.

    ``fit`` embeds the images with :class:`~skbreast.ImageEmbedder` (nothing in the
    backbone is trained), standardises the embeddings and fits a
    :class:`~sklearn.linear_model.LogisticRegressionCV` whose ``C`` is chosen on an
    inner split of the training data only: by patient when ``groups`` are given
    (``StratifiedGroupKFold``), else by image. The scaler and the logistic
    regression are then folded into one Dense layer on the backbone's Keras graph,
    so the fitted probe is one network from raw images to probabilities, which
    :func:`skbreast.save` stores without pickle and :meth:`export` serves. It is
    the same model as ``make_pipeline(ImageEmbedder(...), StandardScaler(),
    LogisticRegressionCV(...))``, whose predictions it matches to float32
    precision.

    Read more in the :ref:`User Guide <pretrained>`.

    Parameters
    ----------
    backbone : str or keras.Model, default="resnet50"
        As for :class:`~skbreast.ImageEmbedder`: a keras.applications ResNet name,
        a ``.keras`` file, a keras-hub preset or a ``keras.Model``. A callable
        backbone (e.g. a PyTorch model) has no Keras graph to fold the head into:
        use the Pipeline above for it.
    weights : "auto", "imagenet", None or path, default="auto"
        Weights of a keras.applications backbone, as for
        :class:`~skbreast.ImageEmbedder`: a local weights file, ``"imagenet"``
        (downloaded once by Keras) or None (random, for tests).
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file.
    image_size : int, tuple of int or None, default=None
        ``(height, width)`` the backbone sees (the images are resized inside the
        network); None keeps the images' size.
    layer : str or None, default=None
        Backbone layer to embed; None takes its last layer.
    pooling : {"avg", "max", "cls"}, default="avg"
        How a feature map becomes one vector.
    tta : bool, default=False
        Test-time augmentation: average the logits over the flips and 90-degree
        rotations of each image (the head is linear, so this is the same as
        averaging the embeddings). Training uses the images as they are.
    Cs : int or array-like of float, default=10
        Values of ``C`` tried (an int: that many from 1e-4 to 1e4, log-spaced), as
        for :class:`~sklearn.linear_model.LogisticRegressionCV`.
    cv : int or cross-validation generator, default=5
        Inner split on which ``C`` is chosen. An int gives ``StratifiedGroupKFold``
        over the patients passed as ``groups`` to :meth:`fit` (fewer patients than
        folds: one fold per patient), or ``StratifiedKFold`` without them.
    class_weight : dict, "balanced" or None, default=None
        Class weights of the logistic regression.
    batch_size : int, default=64
        Images embedded (and decoded) at once.
    memory : str, path, joblib.Memory or None, default=None
        Embedding cache of the :class:`~skbreast.ImageEmbedder`: a search over
        ``Cs`` or ``class_weight`` then embeds every image once.
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened input rows, as for the other
        classifiers.
    rescale : "auto" or float, default="auto"
        Factor mapping the stored pixel values to [0, 1].
    n_threads : int, "auto" or None, default="auto"
        CPU threads of the Keras backend.
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}, \
            default="auto"
        Numeric precision of the backbone; the head runs in float32.
    random_state : int, RandomState instance or None, default=None
        Seed of random backbone weights (``weights=None``) and of the inner split.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    C_ : float
        The ``C`` chosen on the inner split.
    n_features_in_ : int
        Values of one input image (height x width x channels).
    n_embedding_features_ : int
        Length of the embedding the head reads.
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images the network takes (file paths
        are decoded to it).
    input_scale_ : float
        Factor applied to the pixel values inside the network.
    model_ : keras.Model
        Backbone and folded head: raw images in, probabilities out (its Dense
        layer ``"logits"`` gives the scores).

    See Also
    --------
    ImageEmbedder : The backbone as a transformer, for any other head.
    ResNetClassifier : Fine-tunes a backbone end to end instead.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from skbreast import LinearProbeClassifier
    >>> inputs = keras.Input((None, None, 3))
    >>> init = keras.initializers.GlorotUniform(seed=0)
    >>> features = keras.layers.Conv2D(4, 3, kernel_initializer=init)(inputs)
    >>> backbone = keras.Model(inputs, features)
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 120, (40, 16, 16, 3)).astype(np.uint8)
    >>> y = np.array(["benign", "malignant"] * 20)
    >>> X[y == "malignant"] += 100
    >>> probe = LinearProbeClassifier(backbone, Cs=4, cv=3, precision="float32")
    >>> probe.fit(X, y).score(X, y)
    1.0
    """

    # With metadata routing on, groups reach fit only when asked for, as for the
    # other classifiers.
    __metadata_request__fit = {"groups": False}

    _parameter_constraints: dict = {
        **{
            name: ImageEmbedder._parameter_constraints[name]
            for name in _EMBEDDER_PARAMS
            if name != "backbone"
        },
        # Callables pass here so that fit can say why they cannot be probed.
        "backbone": [str, os.PathLike, callable],
        "Cs": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    def __init__(
        self,
        backbone="resnet50",
        *,
        weights="auto",
        weights_sha256=None,
        image_size=None,
        layer=None,
        pooling="avg",
        tta=False,
        Cs=10,
        cv=5,
        class_weight=None,
        batch_size=64,
        memory=None,
        input_shape=None,
        rescale="auto",
        n_threads="auto",
        precision="auto",
        random_state=None,
    ):
        self.backbone = backbone
        self.weights = weights
        self.weights_sha256 = weights_sha256
        self.image_size = image_size
        self.layer = layer
        self.pooling = pooling
        self.tta = tta
        self.Cs = Cs
        self.cv = cv
        self.class_weight = class_weight
        self.batch_size = batch_size
        self.memory = memory
        self.input_shape = input_shape
        self.rescale = rescale
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state

    # ------------------------------------------------------------------ sklearn API
    def __sklearn_clone__(self):
        return clone_sharing_backbone(self)

    def fit(self, X, y, *, groups=None, sample_weight=None):
        """Embed the images and fit the tuned logistic regression on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels), \
                (n_samples, height, width), (n_samples, n_features) or (n_samples,)
            Images as a uint8 or float array, flattened images or a 1-D array of
            image file paths.
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Patient of each image: the inner split that chooses ``C`` keeps each
            patient's images on one side.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the images in the scaler and the logistic regression.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._validate_params()
        if callable(self.backbone) and not isinstance(self.backbone, keras.Model):
            raise TypeError(
                f"{type(self).__name__} folds its head into the backbone's Keras "
                "network, and a callable backbone has none: use make_pipeline("
                "ImageEmbedder(backbone), StandardScaler(), LogisticRegressionCV()) "
                "instead."
            )
        limit_framework_threads(self.n_threads)
        source, y = self._validate_images(X, y, reset=True, fitting=True)
        check_classification_targets(y)
        n = len(source)
        groups = self._validate_groups(groups, n)[0]
        weights = (
            None
            if sample_weight is None
            else _check_sample_weight(
                sample_weight, np.empty(n), ensure_non_negative=True
            )
        )
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {self.classes_[0]!r}."
            )
        class_weight = self._encoded_class_weight()
        params = {name: getattr(self, name) for name in _EMBEDDER_PARAMS}
        if isinstance(source, PathSource):
            # The validation above decoded the first file for the images' shape;
            # passing it on spares the embedder decoding that file again.
            params["input_shape"] = source.image_shape
        embedder = ImageEmbedder(**params)
        images = source.paths if isinstance(source, PathSource) else source.images
        Z = embedder.fit(images).transform(images)
        scaler = StandardScaler().fit(Z, sample_weight=weights)
        head = tuned_logistic_regression(
            self._inner_splits(Z, y_encoded, groups),
            multiclass=len(self.classes_) > 2,
            Cs=self.Cs,
            class_weight=class_weight,
        )
        head.fit(scaler.transform(Z), y_encoded, sample_weight=weights)
        self.C_ = float(np.ravel(head.C_)[0])
        self.n_features_in_ = int(embedder.n_features_in_)
        self.n_embedding_features_ = int(embedder.n_features_out_)
        self.image_shape_ = tuple(embedder.image_shape_)
        self.input_scale_ = float(embedder.input_scale_)
        model = _fold_head(embedder.model_, scaler, head)
        self._logits_model = logits_model(model)
        self.model_ = model
        return self

    # ------------------------------------------------------------------ internals
    def _encoded_class_weight(self):
        """Return ``class_weight`` keyed by class index, as the head is fitted."""
        if not isinstance(self.class_weight, dict):
            return self.class_weight
        return dict(enumerate(self._class_weight_per_class(self.classes_).tolist()))

    def _inner_splits(self, Z, y, groups):
        """Return the inner split of the training data as a list of index pairs."""
        cv = self.cv
        if not isinstance(cv, numbers.Integral):
            return list(cv.split(Z, y, groups) if hasattr(cv, "split") else cv)
        if groups is not None:
            # One fold per patient at most: each fold must hold a patient.
            n_patients = len(np.unique(groups))
            if n_patients < 2:
                raise ValueError(
                    "The inner split that chooses C needs at least 2 patients; "
                    f"groups holds {n_patients}."
                )
            splitter = StratifiedGroupKFold(min(int(cv), n_patients))
        else:
            # Stratified folds need every class in each: no more folds than the
            # rarest class has images.
            smallest = int(np.bincount(y).min())
            splitter = StratifiedKFold(max(2, min(int(cv), smallest)))
        return list(splitter.split(Z, y, groups))

    def _logits(self, X):
        limit_framework_threads(self.n_threads)
        return super()._logits(X)

    def _fit_summary(self):
        """Return the model card's account of the fit."""
        return {"C": self.C_, "n_embedding_features": self.n_embedding_features_}

    # ------------------------------------------------------------------ persistence
    def _check_loaded_model(self, attributes, model):
        """Raise ValueError if a loaded model does not fit the loaded attributes."""
        check_loaded_input(attributes, model, {"classes_", "image_shape_"})


def _fold_head(embedding_model, scaler, head):
    """Return ``embedding_model`` followed by one Dense layer equal to scaler + head.

    ``head.decision_function(scaler.transform(z))`` is ``z @ W + b`` with ``W =
    coef.T / scale`` and ``b = intercept - (mean / scale) @ coef.T``.
    """
    coef = np.asarray(head.coef_, dtype=np.float64)  # (1 or k, d)
    scale = np.asarray(scaler.scale_, dtype=np.float64)
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    kernel = coef.T / scale[:, None]
    bias = np.asarray(head.intercept_, dtype=np.float64) - (mean / scale) @ coef.T
    n_outputs = kernel.shape[1]
    # float32 whatever the backbone's policy (the layer casts its input): the head
    # is tiny, and 16-bit logits would tie close scores.
    dense = keras.layers.Dense(n_outputs, name="logits", dtype="float32")
    logits = dense(embedding_model.outputs[0])
    dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    activation = "sigmoid" if n_outputs == 1 else "softmax"
    proba = keras.layers.Activation(activation, name="proba", dtype="float32")(logits)
    return keras.Model(embedding_model.inputs, proba, name="linear_probe")
