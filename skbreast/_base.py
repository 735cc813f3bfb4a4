"""The estimator base shared by CNNClassifier and ResNetClassifier.

It owns everything that is not architecture: input validation, label encoding, the
Keras training loop (validation split, early stopping, class and sample weights,
warm start, partial fit), prediction, and pickling.
"""

import copy
import numbers
import os
import tempfile
import warnings

import keras
import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from skbreast._data import (
    ArraySource,
    PathSource,
    TrainingBatches,
    as_path_array,
    is_path_input,
    predict_in_batches,
)
from skbreast._imageio import read_image
from skbreast._sampling import make_resampler

# Stored dtypes that reach the model as they are; anything else (int64, bool, object)
# is converted to float32. uint8 is never widened: scaling happens inside the model.
_KEPT_DTYPES = [np.float32, np.uint8, np.float64, np.float16]

# Images predicted at once. Batches are padded to this size so that a model is traced
# once and a prediction does not depend on the other images in the call.
_PREDICT_BATCH_SIZE = 128

# 'auto' early stopping needs this many training images: below it, a held-out
# tenth is too small to judge an epoch by.
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 100


class BaseImageClassifier(ClassifierMixin, BaseEstimator):
    """Base class of the skbreast image classifiers.

    Subclasses define ``__init__`` (storing parameters only) and ``_build_model``;
    everything else lives here. Not meant to be used directly.
    """

    _parameter_constraints: dict = {
        "input_shape": ["array-like", None],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "optimizer": [str, HasMethods(["get_config"]), type],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "rescale": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, None, closed="neither"),
        ],
        "warm_start": ["boolean"],
        "sampler": [HasMethods(["fit_resample"]), None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ hooks
    def _build_model(self, input_shape, n_outputs, input_scale, seed):
        """Return the uncompiled Keras model; implemented by subclasses."""
        raise NotImplementedError

    def _training_phases(self, model, epochs):
        """Return ``[(n_epochs, learning_rate, prepare), ...]`` for a fresh model.

        ``prepare(model)`` (or None) runs before its phase, and the model is compiled
        again for every phase. One phase at ``learning_rate`` by default; the ResNet
        classifier adds a frozen-backbone phase.
        """
        return [(epochs, self.learning_rate, None)]

    # ------------------------------------------------------------------ sklearn API
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_is_fitted__(self):
        # The model is set last in fit, so an interrupted first fit stays unfitted
        # even though validation already recorded n_features_in_.
        return hasattr(self, "model_")

    def fit(self, X, y, sample_weight=None):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width, channels), \
                (n_samples, height, width), (n_samples, n_features) or (n_samples,)
            Images as a uint8 or float array; flattened images (2-D, reshaped with
            ``input_shape`` or the rule described in the class docstring); or a 1-D
            array of image file paths, decoded batch by batch.
        y : array-like of shape (n_samples,)
            Class labels, of any type (strings such as "benign"/"malignant" too).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights, multiplied with ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        incremental = bool(self.warm_start) and self.__sklearn_is_fitted__()
        return self._fit(
            X,
            y,
            sample_weight,
            epochs=self.epochs,
            incremental=incremental,
            classes=None,
            allow_early_stopping=True,
        )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``X, y``, continuing from the current weights.

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes that will ever appear. Needed on the first call unless ``y``
            already holds them all; ignored on later calls.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : object
            The estimator, trained for one more epoch.
        """
        incremental = self.__sklearn_is_fitted__()
        if not incremental:
            self._validate_params()
        return self._fit(
            X,
            y,
            sample_weight,
            epochs=1,
            incremental=incremental,
            classes=classes,
            allow_early_stopping=False,
        )

    def decision_function(self, X):
        """Return the logits: shape (n_samples,) if binary, else (n_samples, n_classes).

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Pre-activation scores; positive values favour ``classes_[1]`` in the
            binary case.
        """
        logits = self._logits(X)
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict_proba(self, X):
        """Return class probabilities.

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        logits = self._logits(X)
        # Computed in float64 from the logits: a float32 sigmoid saturates at 1.0 and
        # would tie distinct scores, which breaks ROC curves and rankings.
        if logits.shape[1] == 1:
            positive = expit(logits[:, 0])
            return np.column_stack([1.0 - positive, positive])
        return softmax(logits, axis=1)

    def predict(self, X):
        """Return the predicted class label of each image.

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, of the same type as the labels seen in fit.
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            return self.classes_[(logits[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(logits, axis=1)]

    # ------------------------------------------------------------------ validation
    def _validate_images(self, X, y=None, *, reset, fitting):
        """Validate X (and y when ``fitting``); return ``(source, y)``."""
        if is_path_input(X):
            return self._validate_paths(X, y, reset=reset, fitting=fitting)

        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        # Objects without ndim (array-likes exposing __array__) go straight to
        # scikit-learn's validation, which accepts 2-D data only.
        ndim = getattr(X, "ndim", 2)
        image_shape = None
        if ndim in (3, 4):
            images = np.asarray(X)
            if ndim == 3:  # (n, H, W): one channel
                images = images[..., np.newaxis]
            image_shape = tuple(images.shape[1:])
            if not reset and image_shape != self.image_shape_:
                raise ValueError(
                    f"X has images of shape {image_shape}, but "
                    f"{type(self).__name__} was fitted on images of shape "
                    f"{self.image_shape_}."
                )
            # A view for C-ordered input: the 2-D form lets scikit-learn's own
            # validation check dtype, finiteness and feature counts.
            X = images.reshape(images.shape[0], int(np.prod(image_shape)))
        elif ndim > 4:
            raise ValueError(
                "X must be images of shape (n_samples, height, width, channels), "
                "flattened images of shape (n_samples, n_features) or a 1-D array of "
                f"image file paths; got an array with {ndim} dimensions."
            )

        check_params = dict(
            reset=reset, dtype=_KEPT_DTYPES, ensure_all_finite=True, allow_nd=False
        )
        if fitting:
            X, y = validate_data(self, X, y, **check_params)
        else:
            X = validate_data(self, X, **check_params)

        if image_shape is None:
            image_shape = self._flat_image_shape(X.shape[1]) if reset else None
            image_shape = image_shape or self.image_shape_
        elif reset:
            self._check_input_shape_matches(image_shape)
        images = X.reshape((X.shape[0], *image_shape))
        return ArraySource(images), y

    def _validate_paths(self, X, y, *, reset, fitting):
        paths = as_path_array(X)
        if fitting:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y "
                    "is None."
                )
            y = column_or_1d(y, warn=True)
            check_consistent_length(paths, y)
        if reset:
            if self.input_shape is not None:
                image_shape = self._checked_input_shape()
            else:
                # The first image fixes the size; the others are resized to it.
                first = read_image(paths[0])
                image_shape = first.shape
            self.n_features_in_ = int(np.prod(image_shape))
        else:
            image_shape = self.image_shape_
        return PathSource(paths, image_shape), y

    def _checked_input_shape(self):
        shape = tuple(int(d) for d in np.ravel(self.input_shape))
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(
                "input_shape must be three positive integers (height, width, "
                f"channels), got {self.input_shape!r}."
            )
        return shape

    def _check_input_shape_matches(self, image_shape):
        if self.input_shape is not None and self._checked_input_shape() != image_shape:
            raise ValueError(
                f"input_shape={tuple(self.input_shape)} does not match the shape of "
                f"the images in X, {image_shape}."
            )

    def _flat_image_shape(self, n_features):
        """Return the image shape of flattened input (the class docstring's rule)."""
        if self.input_shape is not None:
            shape = self._checked_input_shape()
            if int(np.prod(shape)) != n_features:
                raise ValueError(
                    f"X has {n_features} features per sample, which cannot be reshaped "
                    f"to input_shape={shape} ({int(np.prod(shape))} values)."
                )
            return shape
        for channels in (3, 1):
            side = int(round(np.sqrt(n_features / channels)))
            if side * side * channels == n_features:
                return (side, side, channels)
        return (1, n_features, 1)

    def _encode_labels(self, y, classes, incremental):
        check_classification_targets(y)
        if incremental:
            known = self.classes_
            unseen = np.setdiff1d(np.unique(y), known)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that were not seen in the "
                    f"first fit (classes_ = {known.tolist()})."
                )
            return known, np.searchsorted(known, y)
        if classes is not None:
            known = np.unique(np.asarray(classes))
            unseen = np.setdiff1d(np.unique(y), known)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} missing from classes="
                    f"{known.tolist()}."
                )
        else:
            known = np.unique(y)
        if len(known) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; the data "
                f"holds only one class: {known.tolist()}."
            )
        return known, np.searchsorted(known, y)

    def _resolve_input_scale(self, source):
        """Return the factor mapping stored pixel values to [0, 1]; see ``rescale``."""
        if self.rescale != "auto":
            return float(self.rescale)
        if source.dtype == np.uint8:
            return 1.0 / 255.0
        images = source.images
        low, high = float(np.min(images)), float(np.max(images))
        # 8-bit pixel values held as floats, e.g. after SMOTE on flattened images.
        return 1.0 / 255.0 if low >= 0.0 and 1.0 < high <= 255.0 else 1.0

    def _training_weights(self, y_encoded, classes, sample_weight):
        weights = _check_sample_weight(sample_weight, y_encoded, dtype=np.float32)
        if self.class_weight is None:
            return weights
        if isinstance(self.class_weight, str):  # "balanced"
            per_sample = compute_sample_weight("balanced", y_encoded)
        else:
            unknown = set(self.class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight has labels {sorted(map(str, unknown))} that are not "
                    f"classes of y ({classes.tolist()})."
                )
            per_class = np.array([self.class_weight.get(c, 1.0) for c in classes])
            per_sample = per_class[y_encoded]
        return (weights * per_sample).astype(np.float32)

    def _use_early_stopping(self, y_encoded, n_classes):
        if self.early_stopping is False:
            return False
        counts = np.bincount(y_encoded, minlength=n_classes)
        n_val = int(np.ceil(self.validation_fraction * len(y_encoded)))
        feasible = (
            counts.min() >= 2 and n_classes <= n_val <= len(y_encoded) - n_classes
        )
        if self.early_stopping == "auto":
            return feasible and len(y_encoded) >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        if not feasible:
            raise ValueError(
                "early_stopping=True holds out a stratified validation_fraction="
                f"{self.validation_fraction} of the images, which needs at least 2 "
                f"images of every class and a validation set of at least {n_classes} "
                f"images; got class counts {counts.tolist()}. Use more data, a larger "
                "validation_fraction or early_stopping=False."
            )
        return True

    # ------------------------------------------------------------------ training
    def _make_optimizer(self, learning_rate):
        spec = self.optimizer
        try:
            if isinstance(spec, str):
                template = keras.optimizers.get(spec)
            elif isinstance(spec, type):
                template = spec()
            else:
                template = spec
            config = template.get_config()
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"optimizer={spec!r} is not a Keras optimizer name, class or instance "
                f"({exc})."
            ) from exc
        # A fresh optimizer per fit: the parameter must not carry state across fits.
        config["learning_rate"] = float(learning_rate)
        return type(template).from_config(config)

    def _compile(self, model, learning_rate, n_classes):
        loss = (
            "binary_crossentropy"
            if n_classes == 2
            else "sparse_categorical_crossentropy"
        )
        model.compile(optimizer=self._make_optimizer(learning_rate), loss=loss)

    def _fit(
        self, X, y, sample_weight, *, epochs, incremental, classes, allow_early_stopping
    ):
        source, y = self._validate_images(X, y, reset=not incremental, fitting=True)
        classes_, y_encoded = self._encode_labels(y, classes, incremental)
        n_classes = len(classes_)
        weights = self._training_weights(y_encoded, classes_, sample_weight)
        targets = (
            y_encoded.astype(np.float32).reshape(-1, 1)
            if n_classes == 2
            else y_encoded.astype(np.int32)
        )

        rng = check_random_state(self.random_state)
        model_seed, split_seed, shuffle_seed = (
            int(s) for s in rng.randint(np.iinfo(np.int32).max, size=3)
        )

        indices = np.arange(len(y_encoded))
        validation = None
        if allow_early_stopping and self._use_early_stopping(y_encoded, n_classes):
            indices, val_indices = train_test_split(
                indices,
                test_size=self.validation_fraction,
                stratify=y_encoded,
                random_state=split_seed,
            )
            validation = TrainingBatches(
                source, val_indices, targets, weights, _PREDICT_BATCH_SIZE
            )
        resample = None
        if self.sampler is not None:
            resample = make_resampler(self.sampler, classes_[y_encoded])
        train = TrainingBatches(
            source,
            indices,
            targets,
            weights,
            self.batch_size,
            rng=np.random.default_rng(shuffle_seed),
            resample=resample,
        )

        if incremental:
            model = self.model_
            input_scale = self.input_scale_
            phases = [(epochs, None, None)]  # keep the compiled optimizer state
            history = {k: list(v) for k, v in self.history_.items()}
            done = self.n_iter_
        else:
            input_scale = self._resolve_input_scale(source)
            model = self._build_model(
                source.image_shape,
                1 if n_classes == 2 else n_classes,
                input_scale,
                model_seed,
            )
            phases = self._training_phases(model, epochs)
            history, done = {}, 0

        best_epoch = None
        for i, (n_epochs, learning_rate, prepare) in enumerate(phases):
            if n_epochs <= 0:
                continue
            if prepare is not None:
                prepare(model)
            if learning_rate is not None:
                self._compile(model, learning_rate, n_classes)
            callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
            stopper = None
            if validation is not None and i == len(phases) - 1:
                stopper = keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=self.n_iter_no_change,
                    restore_best_weights=True,
                )
                callbacks.append(stopper)
            result = model.fit(
                train,
                validation_data=validation,
                initial_epoch=done,
                epochs=done + n_epochs,
                callbacks=callbacks,
                # TrainingBatches shuffles with the seeded generator; Keras' own
                # shuffle of batch order draws from Python's global `random`.
                shuffle=False,
                verbose=self.verbose,
            )
            for key, values in result.history.items():
                history.setdefault(key, []).extend(float(v) for v in values)
            ran = len(result.history.get("loss", []))
            if stopper is not None and stopper.best_weights is not None:
                # Keras numbers epochs from initial_epoch, so this is absolute.
                best_epoch = stopper.best_epoch + 1
            done += ran

        # Fitted attributes are set together, after training succeeded, so a failed
        # or interrupted fit never leaves a half-fitted estimator behind.
        self.classes_ = classes_
        self.image_shape_ = tuple(int(d) for d in source.image_shape)
        self.input_scale_ = input_scale
        self.history_ = history
        self.n_iter_ = done
        self.best_epoch_ = best_epoch
        self._logits_model = _logits_model(model)
        self.model_ = model
        return self

    # ------------------------------------------------------------------ prediction
    def _logits(self, X):
        check_is_fitted(self)
        source, _ = self._validate_images(X, reset=False, fitting=False)
        return predict_in_batches(self._logits_model, source, _PREDICT_BATCH_SIZE)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_logits_model", None)
        if "model_" in state:
            state["model_"] = _KerasModelBytes(state["model_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        model = state.pop("model_", None)
        super().__setstate__(state)
        if model is not None:
            self.model_ = model.load()
            self._logits_model = _logits_model(self.model_)


def _logits_model(model):
    """Return a model sharing ``model``'s layers that outputs the logits layer."""
    return keras.Model(model.inputs, model.get_layer("logits").output)


class _KerasModelBytes:
    """A Keras model in its ``.keras`` file format, as bytes, for pickling.

    Keras' own format (architecture as JSON, weights as HDF5, optimizer state) is the
    stable way to store a model; holding its bytes lets pickle and joblib carry it.
    """

    def __init__(self, model):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            with open(path, "rb") as f:
                self.data = f.read()

    def load(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            with open(path, "wb") as f:
                f.write(self.data)
            with warnings.catch_warnings():
                # Keras warns when a saved optimizer has not been built yet.
                warnings.filterwarnings("ignore", message=".*optimizer.*")
                return keras.saving.load_model(path, safe_mode=True)
