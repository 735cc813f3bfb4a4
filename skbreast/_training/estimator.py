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

from skbreast._persistence.format import encode_params
from skbreast._training.batches import (
    ArraySource,
    PathSource,
    TrainingBatches,
    as_path_array,
    is_path_input,
    predict_in_batches,
)
from skbreast._training.checkpoint import EstimatorCheckpoint, TrainingProgress
from skbreast._training.precision import (
    PRECISIONS,
    dtype_policy,
    jit_compile_setting,
    resolve_precision,
)
from skbreast._training.release import released_after_fit
from skbreast._training.sampling import make_resampler
from skbreast._training.schedules import schedule_callbacks
from skbreast._training.threads import limit_framework_threads
from skbreast.datasets._imageio import read_image

# Stored dtypes that reach the model as they are; anything else (int64, bool, object)
# is converted to float32. uint8 is never widened: scaling happens inside the model.
_KEPT_DTYPES = [np.float32, np.uint8, np.float64, np.float16]

# Images predicted at once. Batches are padded to this size so that a model is traced
# once and a prediction does not depend on the other images in the call.
_PREDICT_BATCH_SIZE = 128

# 'auto' early stopping needs this many training images: below it, a held-out
# tenth is too small to judge an epoch by.
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 100

# Fitted attributes that validation sets at the start of a fit.
_VALIDATION_ATTRIBUTES = ("n_features_in_", "feature_names_in_")

# Images smaller than this (height or width) are not augmented: they are numeric
# data reshaped into strips or tiny squares, where a flip scrambles features.
_MIN_AUGMENT_SIZE = 8


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
        "flip": ["boolean"],
        "rotate90": ["boolean"],
        "stain_jitter": [Interval(numbers.Real, 0, 1, closed="both")],
        "zoom": [Interval(numbers.Real, 0, 1, closed="left")],
        "tta": ["boolean"],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "warm_start": ["boolean"],
        "sampler": [HasMethods(["fit_resample"]), None],
        "callbacks": [list, None],
        "checkpoint_dir": [str, os.PathLike, None],
        "n_threads": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ hooks
    def _build_model(self, input_shape, n_outputs, input_scale, seed):
        """Return the uncompiled Keras model; implemented by subclasses."""
        raise NotImplementedError

    def _augmentation(self, image_shape):
        """Return the builder's augmentation keywords for images of ``image_shape``."""
        if min(image_shape[:2]) < _MIN_AUGMENT_SIZE:
            return dict(flip=False, rotate90=False, stain_jitter=0.0, zoom=0.0)
        return dict(
            flip=bool(self.flip),
            rotate90=bool(self.rotate90),
            stain_jitter=float(self.stain_jitter),
            zoom=float(self.zoom),
        )

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

        Notes
        -----
        An exception during training, or Ctrl-C (``KeyboardInterrupt``), is always
        raised again. The estimator is then left as it was before the call:
        unfitted, or with its previous fit intact (fitted attributes are set
        together at the end of a fit, and a warm start's weights and optimizer state
        are put back). One exception: when early stopping was active and at least
        one epoch was validated, the estimator is left fitted with the weights of
        the best epoch so far, and a ``UserWarning`` says at which epoch training
        was interrupted and which epoch's weights were restored. With
        ``checkpoint_dir``, the last finished epoch is also on disk.
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
        if getattr(getattr(X, "dtype", None), "kind", None) in ("M", "m"):
            # scikit-learn would silently turn dates into numbers.
            raise TypeError(
                f"X has dtype {X.dtype}; images must be numeric arrays (uint8, "
                "integer or float) or a 1-D array of image file paths."
            )
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
        if X.dtype == np.float64 and X.size:
            _check_float32_range(X)

        if image_shape is None:
            image_shape = self._flat_image_shape(X.shape[1]) if reset else None
            image_shape = image_shape or self.image_shape_
        elif reset:
            self._check_input_shape_matches(image_shape)
        images = X.reshape((X.shape[0], *image_shape))
        return ArraySource(images), y

    def _validate_paths(self, X, y, *, reset, fitting):
        paths = as_path_array(X)
        if len(paths) == 0:
            raise ValueError(
                "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is "
                f"required by {type(self).__name__}."
            )
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
        model.compile(
            optimizer=self._make_optimizer(learning_rate),
            loss=loss,
            jit_compile=jit_compile_setting(),
        )

    def _fit(self, X, y, sample_weight, **kwargs):
        # Validation records n_features_in_ (and feature_names_in_) before training.
        # Unless the fit committed a fitted state (it then sets a new history_), a
        # failed or interrupted fit puts them back, so that a fitted estimator keeps
        # its previous state intact and an unfitted one stays unfitted.
        before = {k: v for k, v in vars(self).items() if k in _VALIDATION_ATTRIBUTES}
        history = self.__dict__.get("history_")
        try:
            with released_after_fit():
                return self._fit_unguarded(X, y, sample_weight, **kwargs)
        except BaseException:
            if self.__dict__.get("history_") is history:
                for name in _VALIDATION_ATTRIBUTES:
                    if name in before:
                        setattr(self, name, before[name])
                    else:
                        self.__dict__.pop(name, None)
            raise

    def _fit_unguarded(
        self, X, y, sample_weight, *, epochs, incremental, classes, allow_early_stopping
    ):
        # Before anything runs a TensorFlow operation: its pools are fixed after.
        limit_framework_threads(self.n_threads)
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
            # Equal batches of at most _PREDICT_BATCH_SIZE: one trace of the test
            # step, and fewer than one padding image per batch.
            n_batches = -(-len(val_indices) // _PREDICT_BATCH_SIZE)
            validation = TrainingBatches(
                source,
                val_indices,
                targets,
                weights,
                -(-len(val_indices) // n_batches),
                pad="zero_weight",
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
            precision = getattr(self, "precision_", "float32")
            phases = [(epochs, None, None)]  # keep the compiled optimizer state
            history = {k: list(v) for k, v in self.history_.items()}
            done = self.n_iter_
        else:
            input_scale = self._resolve_input_scale(source)
            precision = resolve_precision(self.precision)
            # The policy applies to this model's layers only; each layer records
            # it, so the saved model keeps it.
            with dtype_policy(precision):
                model = self._build_model(
                    source.image_shape,
                    1 if n_classes == 2 else n_classes,
                    input_scale,
                    model_seed,
                )
            phases = self._training_phases(model, epochs)
            history, done = {}, 0

        # A warm start trains the fitted model in place: keep its weights and
        # optimizer state to put back if this fit is interrupted.
        variables_before = _snapshot_variables(model) if incremental else None
        progress = TrainingProgress(history, done)

        def fitted_attributes(n_iter, best_epoch):
            attributes = {
                k: v for k, v in vars(self).items() if k in _VALIDATION_ATTRIBUTES
            }
            attributes.update(
                classes_=classes_,
                image_shape_=tuple(int(d) for d in source.image_shape),
                input_scale_=input_scale,
                precision_=precision,
                history_={k: list(v) for k, v in progress.history.items()},
                n_iter_=n_iter,
                best_epoch_=best_epoch,
            )
            return attributes

        checkpoint_params = None
        if self.checkpoint_dir is not None:
            # Callbacks are Python objects a checkpoint cannot hold; any other
            # parameter that cannot be stored fails here, before training.
            checkpoint_params = {**self.get_params(deep=False), "callbacks": None}
            encode_params(type(self), checkpoint_params)
            os.makedirs(os.fspath(self.checkpoint_dir), exist_ok=True)

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
            callbacks.extend(
                schedule_callbacks(
                    self.lr_schedule,
                    model,
                    epochs=n_epochs,
                    steps_per_epoch=len(train),
                    monitor="loss" if validation is None else "val_loss",
                    n_iter_no_change=self.n_iter_no_change,
                )
            )
            # Last, like Keras' own History: they see the logs other callbacks set.
            callbacks.append(progress)
            if checkpoint_params is not None:
                callbacks.append(
                    EstimatorCheckpoint(
                        os.fspath(self.checkpoint_dir),
                        type(self),
                        checkpoint_params,
                        lambda best: fitted_attributes(progress.n_iter, best),
                        stopper,
                    )
                )
            try:
                model.fit(
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
            except BaseException as exc:
                if stopper is not None and stopper.best_weights is not None:
                    # Interrupted with early stopping after at least one epoch:
                    # keep the best weights seen so far as a fitted estimator.
                    model.set_weights(stopper.best_weights)
                    best = stopper.best_epoch + 1
                    self._set_fitted(fitted_attributes(progress.n_iter, best), model)
                    warnings.warn(
                        f"{type(self).__name__}.fit was interrupted by "
                        f"{type(exc).__name__} during epoch {progress.n_iter + 1}. The "
                        f"weights of epoch {best}, the best validation loss so far, "
                        f"were restored and the estimator is fitted with them "
                        f"(n_iter_={progress.n_iter}); the {type(exc).__name__} is "
                        "raised again.",
                        UserWarning,
                        stacklevel=4,
                    )
                elif variables_before is not None:
                    _restore_variables(variables_before)
                raise
            if stopper is not None and stopper.best_weights is not None:
                # Keras numbers epochs from initial_epoch, so this is absolute.
                best_epoch = stopper.best_epoch + 1
            done = progress.n_iter

        # Fitted attributes are set together, after training succeeded, so a failed
        # or interrupted fit never leaves a half-fitted estimator behind.
        self._set_fitted(fitted_attributes(done, best_epoch), model)
        return self

    def _set_fitted(self, attributes, model):
        for name, value in attributes.items():
            setattr(self, name, value)
        self._logits_model = _logits_model(model)
        self.model_ = model

    # ------------------------------------------------------------------ prediction
    def _logits(self, X):
        check_is_fitted(self)
        source, _ = self._validate_images(X, reset=False, fitting=False)
        model = _TTAModel(self._logits_model) if self.tta else self._logits_model
        logits = predict_in_batches(model, source, _PREDICT_BATCH_SIZE)
        if not np.isfinite(logits).all():
            raise ValueError(self._non_finite_message(logits))
        return logits

    def _non_finite_message(self, logits):
        bad = np.flatnonzero(~np.isfinite(logits).all(axis=1))
        weights_finite = all(np.isfinite(w).all() for w in self.model_.get_weights())
        reason = (
            "pixel values far outside the range the model was trained on overflow "
            "float32 inside the network"
            if weights_finite
            else "the model's weights are not finite: its training diverged (try a "
            "lower learning_rate)"
        )
        return (
            f"The network produced NaN or infinite scores for {len(bad)} of "
            f"{len(logits)} images (e.g. image {bad[0]}): {reason}."
        )

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
            # Loading runs TensorFlow; a worker's thread budget must be set first.
            limit_framework_threads(getattr(self, "n_threads", "auto"))
            self.model_ = model.load()
            self._logits_model = _logits_model(self.model_)


def _check_float32_range(X):
    """Refuse float64 values that the float32 networks would turn into infinity."""
    limit = float(np.finfo(np.float32).max)
    largest = max(-float(X.min()), float(X.max()))
    if largest > limit:
        raise ValueError(
            f"X contains values of magnitude up to {largest:.3g}, beyond the float32 "
            f"range (about {limit:.3g}) the networks compute in. Images should hold "
            "pixel values, e.g. in [0, 255] or [0, 1]."
        )


def _snapshot_variables(model):
    """Return ``[(variable, value), ...]`` of a model's and its optimizer's state."""
    variables = list(model.variables)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        variables += list(optimizer.variables)
    return [(v, keras.ops.convert_to_numpy(v.value)) for v in variables]


def _restore_variables(snapshot):
    for variable, value in snapshot:
        variable.assign(value)


def _logits_model(model):
    """Return a model sharing ``model``'s layers that outputs the logits layer."""
    return keras.Model(model.inputs, model.get_layer("logits").output)


class _TTAModel:
    """Test-time augmentation: a logits model averaged over flips and 90-degree turns.

    ``predict_on_batch`` runs the model on every rotation/reflection of the batch
    (the 8 of the square's symmetry group, or the 4 flips of a non-square image) and
    returns the mean logits. Each set of transforms is a group, so the result is the
    same for an image and any of its transforms. Logits rather than probabilities are
    averaged: ``decision_function``, ``predict_proba`` and ``predict`` stay one
    consistent function of them, and a float32 probability saturating at 1.0 cannot
    tie distinct images.
    """

    def __init__(self, model):
        self.model = model

    def predict_on_batch(self, batch):
        square = batch.shape[1] == batch.shape[2]
        views = [batch, np.swapaxes(batch, 1, 2)] if square else [batch]
        total = None
        for view in views:
            for flipped in (view, view[:, ::-1], view[:, :, ::-1], view[:, ::-1, ::-1]):
                out = np.asarray(
                    self.model.predict_on_batch(np.ascontiguousarray(flipped)),
                    dtype=np.float64,
                )
                total = out if total is None else total + out
        return total / (4 * len(views))


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
