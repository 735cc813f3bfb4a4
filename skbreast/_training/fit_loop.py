"""The training loop of the image classifiers, top to bottom.

``_fit`` guards a fit (a failed or interrupted fit leaves the estimator as it was);
``_fit_unguarded`` validates the input, holds out the early-stopping set, builds or
reuses the model and runs Keras' ``fit`` phase by phase with the callbacks that
early stopping, learning-rate schedules, progress and checkpoints need.
"""

import copy
import os
import warnings

import keras
import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state

from skbreast._training.batches import TrainingBatches, predict_in_batches
from skbreast._training.checkpoint import EstimatorCheckpoint, TrainingProgress
from skbreast._training.holdout import early_stopping_split
from skbreast._training.precision import (
    dtype_policy,
    jit_compile_setting,
    resolve_precision,
)
from skbreast._training.prediction import (
    PREDICT_BATCH_SIZE,
    TTAModel,
    logits_model,
)
from skbreast._training.release import released_after_fit
from skbreast._training.sampling import make_resampler, patient_balancer
from skbreast._training.schedules import schedule_callbacks
from skbreast._training.threads import limit_framework_threads
from skbreast._training.threshold import choose_threshold

#: Fitted attributes that validation sets at the start of a fit.
VALIDATION_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


class FitLoopMixin:
    """The fit loop of :class:`~skbreast._training.estimator.BaseImageClassifier`."""

    def _epoch_resampler(self, labels, y_encoded, groups):
        """Return the per-epoch ``resample(indices, rng)`` of the training set."""
        steps = []
        if self.sampler is not None:
            steps.append(make_resampler(self.sampler, labels))
        if self.balance == "patient":
            if groups is None:
                raise ValueError(
                    "balance='patient' weighs patients equally and needs them: pass "
                    "fit(X, y, groups=patients)."
                )
            # After the sampler: it sets how many images of each class an epoch
            # draws, the balancer which patients they come from.
            steps.append(patient_balancer(y_encoded, groups))
        if not steps:
            return None

        def resample(indices, rng):
            for step in steps:
                indices = step(indices, rng)
            return indices

        return resample

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

    def _fit(self, X, y, sample_weight, groups, **kwargs):
        # Validation records n_features_in_ (and feature_names_in_) before training.
        # Unless the fit committed a fitted state (it then sets a new history_), a
        # failed or interrupted fit puts them back, so that a fitted estimator keeps
        # its previous state intact and an unfitted one stays unfitted.
        before = {k: v for k, v in vars(self).items() if k in VALIDATION_ATTRIBUTES}
        history = self.__dict__.get("history_")
        try:
            with released_after_fit():
                return self._fit_unguarded(X, y, sample_weight, groups, **kwargs)
        except BaseException:
            if self.__dict__.get("history_") is history:
                for name in VALIDATION_ATTRIBUTES:
                    if name in before:
                        setattr(self, name, before[name])
                    else:
                        self.__dict__.pop(name, None)
            raise

    def _fit_unguarded(
        self,
        X,
        y,
        sample_weight,
        groups,
        *,
        epochs,
        incremental,
        classes,
        allow_early_stopping,
    ):
        # Before anything runs a TensorFlow operation: its pools are fixed after.
        limit_framework_threads(self.n_threads)
        source, y = self._validate_images(X, y, reset=not incremental, fitting=True)
        classes_, y_encoded = self._encode_labels(y, classes, incremental)
        groups, patients = self._validate_groups(groups, len(y_encoded))
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
        validation_groups = None
        val_indices = None
        split = None
        if allow_early_stopping:
            split = early_stopping_split(
                self.early_stopping,
                y_encoded,
                n_classes,
                groups,
                self.validation_fraction,
                split_seed,
            )
        if split is not None:
            indices, val_indices, validation_groups = split
            if validation_groups is not None:
                validation_groups = patients[validation_groups]
            # Equal batches of at most PREDICT_BATCH_SIZE: one trace of the test
            # step, and fewer than one padding image per batch.
            n_batches = -(-len(val_indices) // PREDICT_BATCH_SIZE)
            validation = TrainingBatches(
                source,
                val_indices,
                targets,
                weights,
                -(-len(val_indices) // n_batches),
                pad="zero_weight",
            )
        resample = self._epoch_resampler(classes_[y_encoded], y_encoded, groups)
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

        # The threshold until the last fit's is chosen (checkpoints, interruptions).
        threshold = self._provisional_threshold(n_classes, incremental)

        def fitted_attributes(n_iter, best_epoch):
            attributes = {
                k: v for k, v in vars(self).items() if k in VALIDATION_ATTRIBUTES
            }
            attributes.update(
                classes_=classes_,
                image_shape_=tuple(int(d) for d in source.image_shape),
                input_scale_=input_scale,
                precision_=precision,
                history_={k: list(v) for k, v in progress.history.items()},
                n_iter_=n_iter,
                best_epoch_=best_epoch,
                validation_groups_=validation_groups,
                threshold_=threshold,
            )
            return attributes

        checkpoint_params = None
        writer = self._file_writer
        if self.checkpoint_dir is not None:
            if writer is None:
                raise TypeError(
                    f"checkpoint_dir needs a file format for {type(self).__name__}: "
                    "only estimator classes registered with skbreast's persistence "
                    "(skbreast._persistence.register) can be checkpointed."
                )
            # Callbacks are Python objects a checkpoint cannot hold; any other
            # parameter that cannot be stored fails here, before training.
            checkpoint_params = {**self.get_params(deep=False), "callbacks": None}
            writer.check_params(type(self), checkpoint_params)
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
                        writer,
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
                        "raised again."
                        + (
                            f" threshold={self.threshold!r} was not chosen: "
                            f"threshold_ is {threshold}."
                            if n_classes == 2 and isinstance(self.threshold, str)
                            else ""
                        ),
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

        threshold = self._fitted_threshold(
            threshold,
            n_classes,
            model,
            source,
            y_encoded,
            val_indices,
            incremental=incremental,
            allow_early_stopping=allow_early_stopping,
        )
        # Fitted attributes are set together, after training succeeded, so a failed
        # or interrupted fit never leaves a half-fitted estimator behind.
        self._set_fitted(fitted_attributes(done, best_epoch), model)
        return self

    def _provisional_threshold(self, n_classes, incremental):
        """Return ``threshold_`` before a string ``threshold`` is chosen.

        None for more than 2 classes; a float parameter as is; for a string, the
        previous fit's ``threshold_`` when continuing one, else 0.5.
        """
        if n_classes != 2:
            return None
        if not isinstance(self.threshold, str):
            return float(self.threshold)
        previous = vars(self).get("threshold_") if incremental else None
        return 0.5 if previous is None else float(previous)

    def _fitted_threshold(
        self,
        provisional,
        n_classes,
        model,
        source,
        y_encoded,
        val_indices,
        *,
        incremental,
        allow_early_stopping,
    ):
        """Return the ``threshold_`` of this fit: chosen on the validation set.

        Only a string ``threshold`` of a binary problem is chosen, with
        :func:`~skbreast._training.threshold.choose_threshold`, on the positive-class
        probabilities (as ``predict_proba`` gives them, test-time augmentation
        included) of the held-out early-stopping samples, which the model was never
        trained on. Without them it warns and returns 0.5; a ``partial_fit``
        continuing a fit keeps the previous ``threshold_`` without a warning.
        """
        metric = self.threshold
        if n_classes != 2 or not isinstance(metric, str):
            return provisional
        if not allow_early_stopping and incremental:
            return provisional
        name = type(self).__name__
        if val_indices is None:
            if not allow_early_stopping:
                reason = "partial_fit holds out no validation set"
            elif self.early_stopping is False:
                reason = "early_stopping=False holds out no validation set"
            else:
                reason = (
                    "early_stopping='auto' held out no validation set (it needs at "
                    "least 100 training images and, with groups, at least 2 "
                    "patients of every class)"
                )
            warnings.warn(
                f"{name}(threshold={metric!r}) chooses the threshold on the "
                f"early-stopping validation set, but {reason}: threshold_ is 0.5. "
                "Use early_stopping=True (with groups, to hold out patients) or a "
                "float threshold.",
                UserWarning,
                stacklevel=5,
            )
            return 0.5
        logits_net = logits_model(model)
        predictor = TTAModel(logits_net) if self.tta else logits_net
        logits = predict_in_batches(
            predictor, _Subset(source, val_indices), PREDICT_BATCH_SIZE
        )
        threshold = choose_threshold(
            y_encoded, val_indices, expit(logits[:, 0]), metric
        )
        if threshold is None:
            warnings.warn(
                f"{name}(threshold={metric!r}): the early-stopping validation set "
                "holds a single class, on which no threshold can be chosen: "
                "threshold_ is 0.5.",
                UserWarning,
                stacklevel=5,
            )
            return 0.5
        return threshold


class _Subset:
    """The images ``indices`` of an image source, as a source of their own."""

    def __init__(self, source, indices):
        self.source = source
        self.indices = np.asarray(indices)

    def __len__(self):
        return len(self.indices)

    def take(self, indices):
        return self.source.take(self.indices[indices])


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
