"""Keras callbacks that track a fit's progress and checkpoint the estimator.

:class:`TrainingProgress` records every finished epoch, so that a fit interrupted
by an exception or Ctrl-C still knows its history. :class:`EstimatorCheckpoint`
saves the whole estimator (in :func:`skbreast.save`'s format, atomically) after
every epoch, so that a crashed fit can be loaded and resumed with
``warm_start=True``. It writes through the writer that persistence gives each
estimator class, so that this module never imports persistence.
"""

import os

import keras

#: File names inside ``checkpoint_dir``.
LAST = "last.skbreast"
BEST = "best.skbreast"


class TrainingProgress(keras.callbacks.Callback):
    """Record the logs of every finished epoch.

    Parameters
    ----------
    history : dict of list of float
        Extended in place with each epoch's logs.
    n_iter : int
        Epochs trained before this fit; becomes the absolute number of the last
        finished epoch.
    """

    def __init__(self, history, n_iter):
        super().__init__()
        self.history = history
        self.n_iter = n_iter

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.n_iter = epoch + 1


class EstimatorCheckpoint(keras.callbacks.Callback):
    """Save the estimator's full state into a folder after every epoch.

    ``last.skbreast`` always holds the latest epoch; ``best.skbreast`` the epoch
    with the lowest validation loss so far, when ``stopper`` (the early-stopping
    callback, which must run before this one) is given.

    Parameters
    ----------
    directory : str
        Existing folder to write into.
    writer : object
        Has ``write(path, cls, params, attributes, model)``, which writes one
        estimator file atomically (the class's ``_file_writer``).
    cls : type
        The estimator's class.
    params : dict
        The estimator's parameters, as stored in the files.
    attributes : callable
        ``attributes(best_epoch)`` returns the fitted attributes as of now
        (``history_``, ``n_iter_``, ... of the epochs finished so far).
    stopper : keras.callbacks.EarlyStopping or None
        Early stopping of this fit, if any.
    """

    def __init__(self, directory, writer, cls, params, attributes, stopper=None):
        super().__init__()
        self.directory = directory
        self.writer = writer
        self.cls = cls
        self.estimator_params = params
        self.attributes = attributes
        self.stopper = stopper

    def on_epoch_end(self, epoch, logs=None):
        is_best = self.stopper is not None and self.stopper.best_epoch == epoch
        attributes = self.attributes(epoch + 1 if is_best else None)
        for name in (LAST, BEST) if is_best else (LAST,):
            self.writer.write(
                os.path.join(self.directory, name),
                self.cls,
                self.estimator_params,
                attributes,
                self.model,
            )
