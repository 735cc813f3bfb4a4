"""ImageEmbedder: a pretrained backbone as a scikit-learn transformer."""

import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_memory

from skbreast._persistence import register
from skbreast._training.batches import InlineExecutor, PathSource
from skbreast._training.pickling import KerasModelPickleMixin
from skbreast._training.precision import PRECISIONS
from skbreast._training.prediction import TTAModel
from skbreast._training.threads import limit_framework_threads
from skbreast._training.validation import InputValidationMixin
from skbreast.embedding import _backbone, _cache


@register
class ImageEmbedder(
    KerasModelPickleMixin,
    InputValidationMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Embed images with a pretrained backbone: one feature vector per image.

    ``transform`` runs a frozen network over the images and returns its pooled
    features as a float32 array of shape ``(n_samples, n_features)``, ready for a
    linear probe (``StandardScaler`` + ``LogisticRegression``), a nearest-neighbour
    search or any other scikit-learn estimator. Nothing is learnt: ``fit`` only builds
    (or finds) the backbone and checks the input, so the transformer can sit in a
    :class:`~sklearn.pipeline.Pipeline` under patient-grouped cross-validation
    without leaking anything between folds. With ``memory``, embeddings are stored
    per image on disk, keyed by the backbone's weights and the image's content, so a
    grid search over the head embeds every image once.

    Read more in the :ref:`User Guide <pretrained>`.

    Parameters
    ----------
    backbone : str, keras.Model, fitted classifier or callable, default="resnet50"
        The network whose features are returned:

        - a keras.applications ResNet: ``"resnet50"``, ``"resnet101"``,
          ``"resnet152"`` or their ``"v2"`` variants, with ``weights`` and the
          ImageNet preprocessing of :class:`~skbreast.ResNetClassifier`;
        - the path of a ``.keras`` model file, e.g. a backbone pretrained on your own
          patches (``model.save("backbone.keras")``);
        - any other name: a keras-hub preset (ViT, DINOv2, ...), when the optional
          ``keras-hub`` package is installed;
        - a ``keras.Model`` taking images (one input);
        - a fitted :class:`~skbreast.CNNClassifier` or
          :class:`~skbreast.ResNetClassifier` (its penultimate layer, the input of
          its output layer); inside a grid search wrap it in
          :class:`sklearn.frozen.FrozenEstimator`, or cloning unfits it;
        - a callable ``f(images) -> array (n, n_features)``, e.g. a PyTorch
          foundation model wrapped in a function (see the user guide).

        ``keras.Model`` and callable backbones receive float32 images scaled to
        [0, 1], channels last; any further normalisation is theirs to do. They are
        shared, not copied, by ``clone`` (the embedder never changes them), so a
        grid search does not copy the network for every fit.
    weights : "auto", "imagenet", None or path, default="auto"
        Weights of a keras.applications backbone: ``"auto"`` and ``"imagenet"``
        download Keras' ImageNet weights once into ``~/.keras/models`` (offline this
        fails with a message saying where to put the file); ``None`` initialises
        them randomly (seeded by ``random_state``); a path loads a local file (the
        ``.h5`` files keras.applications downloads, ``.weights.h5`` or ``.keras``),
        refused if written for another network. Other backbones bring their own
        weights and need ``"auto"``.
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file; another file is refused.
    image_size : int, tuple of int or None, default=None
        ``(height, width)`` (or one side) the images are resized to before the
        backbone, e.g. 224 for ImageNet backbones. None keeps their size (a
        ``keras.Model`` with a fixed input size, or a classifier, gets its own
        size). File paths are decoded straight to this size.
    layer : str or None, default=None
        Name of the backbone layer whose output is embedded; None takes its last
        layer (for a classifier, its penultimate layer).
    pooling : {"avg", "max", "cls"}, default="avg"
        How a feature map (or a transformer's tokens) becomes one vector: the mean,
        the maximum, or (tokens only) the first, class token.
    tta : bool, default=False
        Average the embedding over the 8 flips and 90-degree rotations of each
        (square) image, or its 4 flips (other images): rotation-invariant
        features, at 8 (4) times the cost.
    batch_size : int, default=64
        Images embedded at once (and decoded at once, for file paths).
    memory : str, path, joblib.Memory or None, default=None
        Where to cache embeddings: a folder, or a ``joblib.Memory`` whose location is
        used (as ``Pipeline(memory=...)``). They are stored under
        ``<location>/skbreast_embeddings/<fingerprint_>/``; delete that folder to
        clear them. None caches nothing.
    input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of flattened input rows (2-D ``X``), or the
        shape file paths are decoded to when ``image_size`` is None; None uses
        the same rule as :class:`~skbreast.CNNClassifier`.
    rescale : "auto" or float, default="auto"
        Factor mapping the stored pixel values to [0, 1]; "auto" is 1/255 for
        uint8 and for float images whose values exceed 1 (up to 255), else 1.
    n_threads : int, "auto" or None, default="auto"
        CPU threads of the Keras backend, as for the classifiers.
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}, \
            default="auto"
        Numeric precision of the keras.applications and keras-hub backbones it
        builds ("auto": 16-bit where the hardware gains from it, as for the
        classifiers); a given ``keras.Model`` runs in its own precision. The
        embeddings are float32 either way.
    random_state : int, RandomState instance or None, default=None
        Seed of the random weights when ``weights=None``.

    Attributes
    ----------
    n_features_in_ : int
        Number of values of one input image (height x width x channels).
    n_features_out_ : int
        Length of one embedding.
    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images seen in ``fit``.
    input_scale_ : float
        Factor applied to the pixel values.
    fingerprint_ : str or None
        Hex key of the embedding function (the backbone's architecture and
        weights, the preprocessing and ``tta``): the cache folder's name. None for
        a callable without ``cache_key`` or ``state_dict``.
    precision_ : str or None
        The dtype policy of the backbone.
    model_ : keras.Model
        The network from raw images to embeddings (absent for callables). It may
        be shared by the embedders of one process that use the same backbone:
        treat it as read-only.

    See Also
    --------
    ResNetClassifier : Fine-tunes the same backbones end to end.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from skbreast import ImageEmbedder
    >>> inputs = keras.Input((None, None, 3))
    >>> init = keras.initializers.GlorotUniform(seed=0)
    >>> features = keras.layers.Conv2D(4, 3, kernel_initializer=init)(inputs)
    >>> backbone = keras.Model(inputs, features)
    >>> X = np.random.RandomState(0).randint(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    >>> embedder = ImageEmbedder(backbone, precision="float32").fit(X)
    >>> embedder.transform(X).shape
    (6, 4)
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['imageembedder0', 'imageembedder1']
    """

    _parameter_constraints: dict = {
        "backbone": [str, os.PathLike, callable, HasMethods(["fit"])],
        "weights": [StrOptions({"auto", "imagenet"}), str, os.PathLike, None],
        "weights_sha256": [str, None],
        "image_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            "array-like",
            None,
        ],
        "layer": [str, None],
        "pooling": [StrOptions({"avg", "max", "cls"})],
        "tta": ["boolean"],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
        "input_shape": ["array-like", None],
        "rescale": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, None, closed="neither"),
        ],
        "n_threads": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
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
        self.batch_size = batch_size
        self.memory = memory
        self.input_shape = input_shape
        self.rescale = rescale
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state

    # The compiled embedding function is rebuilt on first use after unpickling.
    _unpicklable = ("_embedding",)

    # ------------------------------------------------------------------ sklearn API
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        # Embeddings are float32 whatever the input dtype.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def __sklearn_clone__(self):
        return clone_sharing_backbone(self)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "n_features_out_")

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def fit(self, X, y=None):
        """Build (or find) the backbone and check the images; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels), \
                (n_samples, height, width), (n_samples, n_features) or (n_samples,)
            Images as a uint8 or float array, flattened images (2-D, see
            ``input_shape``) or a 1-D array of image file paths.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        limit_framework_threads(self.n_threads)
        source = self._source(X, reset=True)
        input_scale = self._resolve_input_scale(source)
        embedding = _backbone.resolve(
            self,
            source.image_shape,
            input_scale,
            needs_fingerprint=self._location() is not None,
        )
        self.image_shape_ = tuple(int(d) for d in source.image_shape)
        self.input_scale_ = float(input_scale)
        self.precision_ = embedding.precision
        self.fingerprint_ = (
            None
            if embedding.fingerprint is None
            else f"{embedding.fingerprint}{'-tta' if self.tta else ''}"
        )
        self._embedding = embedding
        if embedding.model is not None:
            self.model_ = embedding.model
        else:
            self.__dict__.pop("model_", None)
        self.n_features_out_ = embedding.n_features
        return self

    def transform(self, X):
        """Return the embedding of every image.

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`, of the shape seen in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features), dtype float32
            One embedding per image, in the order of ``X``; ``n_features``
            is ``n_features_out_``.
        """
        check_is_fitted(self)
        limit_framework_threads(self.n_threads)
        source = self._source(X, reset=False)
        location = self._location()
        if location is None or self.fingerprint_ is None:
            return self._embed(source, np.arange(len(source)))
        if isinstance(source, PathSource):
            keys = _cache.file_keys(source.paths, source.image_shape)
        else:
            keys = _cache.array_keys(source.images)
        store = _cache.store_for(location, self.fingerprint_)
        found, out = store.lookup(keys, self.n_features_out_)
        missing = np.flatnonzero(~found)
        if missing.size:
            # Identical images (duplicated patches) are embedded once.
            first = {}
            for i in missing:
                first.setdefault(keys[i], i)
            todo = np.array(sorted(first.values()))
            values = self._embed(source, todo)
            store.add([keys[i] for i in todo], values)
            rows = {keys[i]: row for row, i in enumerate(todo)}
            out[missing] = values[[rows[keys[i]] for i in missing]]
        return out

    # ------------------------------------------------------------------ internals
    def _source(self, X, *, reset):
        source, _ = self._validate_images(X, reset=reset, fitting=False)
        if reset and isinstance(source, PathSource) and self.input_shape is None:
            size = _backbone.fixed_image_size(self)
            if size is not None and tuple(source.image_shape[:2]) != size:
                # Decode straight to the backbone's size: one resize, by Pillow.
                source = PathSource(source.paths, (*size, source.image_shape[2]))
                self.n_features_in_ = int(np.prod(source.image_shape))
        return source

    def _location(self):
        """Return the folder of the embedding cache, or None."""
        memory = self.memory
        if memory is None or isinstance(memory, (str, os.PathLike)):
            return None if memory is None else os.fspath(memory)
        return getattr(check_memory(memory), "location", None)

    def _get_embedding(self):
        embedding = self.__dict__.get("_embedding")
        if embedding is None:
            if "model_" in self.__dict__:  # loaded or unpickled
                embedding = _backbone.Embedding(
                    self.model_,
                    n_features=self.n_features_out_,
                    fingerprint=self.fingerprint_,
                    precision=self.precision_,
                )
            else:
                embedding = _backbone.resolve(
                    self,
                    self.image_shape_,
                    self.input_scale_,
                    needs_fingerprint=self._location() is not None,
                )
            self._embedding = embedding
        return embedding

    def _embed(self, source, indices):
        """Embed the images ``indices`` of ``source``; float32 (len(indices), d)."""
        embedding = self._get_embedding()
        runner = TTAModel(embedding) if self.tta else embedding
        batch_size = int(self.batch_size)
        n = len(indices)
        out = np.empty((n, self.n_features_out_), dtype=np.float32)

        def load(start):
            batch = source.take(indices[start : start + batch_size])
            if embedding.pads_batches and len(batch) < batch_size:
                pad = np.zeros((batch_size - len(batch), *batch.shape[1:]), batch.dtype)
                batch = np.concatenate([batch, pad])
            return batch

        starts = list(range(0, n, batch_size))
        prefetch = isinstance(source, PathSource) and len(starts) > 1
        with (
            ThreadPoolExecutor(max_workers=1) if prefetch else InlineExecutor() as pool
        ):
            pending = pool.submit(load, 0) if starts else None
            for k, start in enumerate(starts):
                batch = pending.result()
                if k + 1 < len(starts):
                    pending = pool.submit(load, starts[k + 1])
                values = np.asarray(runner.predict_on_batch(batch), dtype=np.float32)
                stop = min(n, start + batch_size)
                out[start:stop] = values[: stop - start]
        if not np.isfinite(out).all():
            bad = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
            raise ValueError(
                f"The backbone returned NaN or infinite features (e.g. for image "
                f"{int(indices[bad])}): pixel values far outside the range it expects "
                "overflow inside the network (check rescale)."
            )
        return out

    # ------------------------------------------------------------------ persistence
    def _check_loaded_model(self, attributes, model):
        """Raise ValueError if a loaded model does not fit the loaded attributes."""
        required = {"image_shape_", "n_features_in_", "n_features_out_"}
        check_loaded_input(attributes, model, required)
        if int(model.output.shape[-1]) != int(attributes["n_features_out_"]):
            raise ValueError(
                f"its model returns {model.output.shape[-1]} features, but "
                f"n_features_out_ is {attributes['n_features_out_']}"
            )

    def _set_fitted(self, attributes, model):
        for name, value in attributes.items():
            setattr(self, name, value)
        self.__dict__.pop("_embedding", None)
        self.model_ = model


def check_loaded_input(attributes, model, required):
    """Raise ValueError if a loaded model cannot serve the loaded attributes.

    That is, if any of ``required`` is missing from ``attributes``, or ``model``
    takes images of another shape than ``image_shape_``.
    """
    missing = set(required) - set(attributes)
    if missing:
        raise ValueError(f"fitted attributes {sorted(missing)} are missing")
    if tuple(model.inputs[0].shape[1:]) != tuple(attributes["image_shape_"]):
        raise ValueError(
            f"its model takes images of shape {tuple(model.inputs[0].shape[1:])}, "
            f"but image_shape_ is {attributes['image_shape_']}"
        )


def clone_sharing_backbone(estimator):
    """Clone ``estimator``, sharing (not copying) a network or callable backbone.

    The embedder never changes its backbone, and deep-copying a large network for
    each fit of a search would cost more than the fit. Estimators (a classifier, a
    FrozenEstimator) are cloned as scikit-learn always does.
    """
    backbone = estimator.backbone
    if isinstance(backbone, BaseEstimator) or not callable(backbone):
        return BaseEstimator.__sklearn_clone__(estimator)
    params = {
        name: clone(value, safe=False)
        for name, value in estimator.get_params(deep=False).items()
        if name != "backbone"
    }
    return type(estimator)(backbone, **params)
