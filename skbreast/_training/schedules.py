"""Learning-rate schedules of the estimators, as Keras callbacks built per phase."""

import math

import keras

# lr_schedule="plateau": multiply the learning rate by this factor when the monitored
# loss has not improved for half of n_iter_no_change epochs, down to this fraction of
# the phase's starting rate.
PLATEAU_FACTOR = 0.2
PLATEAU_MIN_FRACTION = 1e-3


def current_learning_rate(model):
    """Return the optimizer's learning rate as a float.

    Read through NumPy: under a ``tf.distribute`` strategy the variable is
    mirrored, and ``float()`` of it fails.
    """
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class CosineDecay(keras.callbacks.Callback):
    """Cosine decay of the learning rate over one training phase, step by step.

    The rate falls from the one the optimizer holds when training begins to 0 over
    ``epochs * steps_per_epoch`` steps, and is put back when training ends, so that a
    warm start begins a fresh cosine from the same rate.
    """

    def __init__(self, epochs, steps_per_epoch):
        super().__init__()
        self.total = max(1, int(epochs) * int(steps_per_epoch))
        self.step = 0
        self.base = None

    def on_train_begin(self, logs=None):
        self.base = current_learning_rate(self.model)
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        fraction = min(1.0, self.step / self.total)
        self.model.optimizer.learning_rate = (
            self.base * 0.5 * (1.0 + math.cos(math.pi * fraction))
        )
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model)

    def on_train_end(self, logs=None):
        if self.base is not None:
            self.model.optimizer.learning_rate = self.base


def schedule_callbacks(
    schedule, model, *, epochs, steps_per_epoch, monitor, n_iter_no_change
):
    """Return the callbacks implementing ``lr_schedule`` for one training phase.

    Parameters
    ----------
    schedule : {"plateau", "cosine"} or None
        The estimator's ``lr_schedule``.
    model : keras.Model
        The compiled model; its optimizer's current rate is the phase's start.
    epochs : int
        Epochs of the phase.
    steps_per_epoch : int
        Batches per epoch.
    monitor : str
        The loss "plateau" watches: "val_loss" with early stopping, else "loss".
    n_iter_no_change : int
        The estimator's early-stopping patience; "plateau" waits half of it.

    Returns
    -------
    callbacks : list of keras.callbacks.Callback
    """
    if schedule is None:
        return []
    if schedule == "cosine":
        return [CosineDecay(epochs, steps_per_epoch)]
    start = current_learning_rate(model)
    return [
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor,
            factor=PLATEAU_FACTOR,
            patience=max(1, int(n_iter_no_change) // 2),
            min_lr=start * PLATEAU_MIN_FRACTION,
            verbose=0,
        )
    ]
