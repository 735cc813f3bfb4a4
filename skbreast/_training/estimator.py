"""The estimator base shared by CNNClassifier and ResNetClassifier.

It holds the scikit-learn face of the classifiers: parameter constraints, the
subclass hooks and ``fit``/``partial_fit``. Input validation lives in
:mod:`~skbreast._training.validation`, the training loop in
:mod:`~skbreast._training.fit_loop`, prediction and pickling in
:mod:`~skbreast._training.logits`.
"""

import numbers
import os

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skbreast._training.fit_loop import FitLoopMixin
from skbreast._training.logits import LogitsClassifierMixin
from skbreast._training.precision import PRECISIONS
from skbreast._training.threshold import THRESHOLD_METRICS
from skbreast._training.validation import InputValidationMixin

# Images smaller than this (height or width) are not augmented: they are numeric
# data reshaped into strips or tiny squares, where a flip scrambles features.
_MIN_AUGMENT_SIZE = 8


class BaseImageClassifier(
    LogitsClassifierMixin,
    InputValidationMixin,
    FitLoopMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Base class of the skbreast image classifiers.

    Subclasses define ``__init__`` (storing parameters only) and ``_build_model``;
    everything else lives here and in the validation and fit-loop mixins. Not meant
    to be used directly.
    """

    #: Writes estimator files for ``checkpoint_dir``: set on each class by
    #: ``skbreast._persistence.register`` so that training never imports
    #: persistence (the dependency points one way). None: checkpoints unavailable.
    _file_writer = None

    # With metadata routing on, groups reach fit only when asked for
    # (set_fit_request(groups=True)): code that routes groups to a splitter or a
    # patient scorer keeps working unchanged.
    __metadata_request__fit = {"groups": False}
    __metadata_request__partial_fit = {"groups": False}

    _parameter_constraints: dict = {
        "input_shape": ["array-like", None],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "optimizer": [str, HasMethods(["get_config"]), type],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "threshold": [
            Interval(numbers.Real, 0, 1, closed="neither"),
            StrOptions(set(THRESHOLD_METRICS)),
        ],
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
        "balance": [StrOptions({"patient"}), None],
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
    def fit(self, X, y, *, groups=None, sample_weight=None):
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
        groups : array-like of shape (n_samples,), default=None
            The patient (or slide) of each image. With groups, the early-stopping
            validation set holds out whole patients (a stratified group split:
            no image of a validation patient is trained on), and
            ``balance="patient"`` can weigh patients equally. Without groups, the
            validation set is drawn by image, and images of one patient on both
            sides make the monitored loss reward memorising patients: pass the
            patients for patient data. Routed by scikit-learn's metadata routing
            (``set_fit_request(groups=True)``) or passed directly, e.g.
            ``cross_validate(..., params={"groups": groups})``.
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
            groups,
            epochs=self.epochs,
            incremental=incremental,
            classes=None,
            allow_early_stopping=True,
        )

    def partial_fit(self, X, y, classes=None, *, groups=None, sample_weight=None):
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
        groups : array-like of shape (n_samples,), default=None
            The patient of each image, used by ``balance="patient"`` (partial fits
            hold out no validation set).
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
            groups,
            epochs=1,
            incremental=incremental,
            classes=classes,
            allow_early_stopping=False,
        )
