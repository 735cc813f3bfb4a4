"""The prediction face of a classifier whose fitted ``model_`` has a "logits" layer.

Shared by the trained classifiers and the linear probe: ``decision_function``,
``predict_proba`` and ``predict`` as functions of one float64 logits array, the
estimator tags, the fitted test and the pickling of the Keras model. The class
supplies ``_validate_images`` and the ``tta``/``n_threads`` parameters.
"""

import numpy as np
from scipy.special import expit, logit, softmax
from sklearn.utils.validation import check_is_fitted

from skbreast._training.batches import predict_in_batches
from skbreast._training.pickling import KerasModelPickleMixin
from skbreast._training.prediction import PREDICT_BATCH_SIZE, TTAModel, logits_model


class LogitsClassifierMixin(KerasModelPickleMixin):
    """``decision_function``/``predict_proba``/``predict`` from the logits layer."""

    _unpicklable = ("_logits_model",)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_is_fitted__(self):
        # The model is set last in fit, so an interrupted first fit stays unfitted
        # even though validation already recorded n_features_in_.
        return hasattr(self, "model_")

    def decision_function(self, X):
        """Return the logits: shape (n_samples,) if binary, else (n_samples, n_classes).

        Parameters
        ----------
        X : array-like
            Images, as for :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Pre-activation scores. Binary: the logit minus ``logit(threshold_)``,
            so that :meth:`predict` gives ``classes_[1]`` exactly where the score is
            positive (the plain logit at the default ``threshold_`` of 0.5; a
            shift, so rankings and ROC curves are unchanged).
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            return logits[:, 0] - self._logit_threshold()
        return logits

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
            Predicted labels, of the same type as the labels seen in fit. Binary:
            ``classes_[1]`` where its probability exceeds ``threshold_`` (compared
            in logit space, ``logit > logit(threshold_)``); more classes: the most
            probable one.
        """
        logits = self._logits(X)
        if logits.shape[1] == 1:
            cut = self._logit_threshold()
            return self.classes_[(logits[:, 0] > cut).astype(int)]
        return self.classes_[np.argmax(logits, axis=1)]

    def _logit_threshold(self):
        """``logit(threshold_)``: 0.0 where ``threshold_`` is 0.5, None or absent."""
        threshold = getattr(self, "threshold_", None)
        return 0.0 if threshold is None else float(logit(float(threshold)))

    def _set_fitted(self, attributes, model):
        for name, value in attributes.items():
            setattr(self, name, value)
        self._logits_model = logits_model(model)
        self.model_ = model

    def _logits(self, X):
        check_is_fitted(self)
        source, _ = self._validate_images(X, reset=False, fitting=False)
        model = TTAModel(self._logits_model) if self.tta else self._logits_model
        logits = predict_in_batches(model, source, PREDICT_BATCH_SIZE)
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

    def _model_loaded(self):
        self._logits_model = logits_model(self.model_)
