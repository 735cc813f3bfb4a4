"""Pickling support: a Keras model carried as the bytes of its ``.keras`` file."""

import os
import tempfile
import warnings

import keras

from skbreast._training.threads import limit_framework_threads


class KerasModelBytes:
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


class KerasModelPickleMixin:
    """Pickle an estimator's fitted ``model_`` as the bytes of its ``.keras`` file.

    Attributes named in ``_unpicklable`` (views derived from ``model_``) are dropped
    on pickling; ``_model_loaded`` rebuilds them after unpickling. The class supplies
    an ``n_threads`` parameter, applied before TensorFlow loads the model.
    """

    _unpicklable = ()

    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self._unpicklable:
            state.pop(name, None)
        if "model_" in state:
            state["model_"] = KerasModelBytes(state["model_"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        model = state.pop("model_", None)
        super().__setstate__(state)
        if model is not None:
            # Loading runs TensorFlow; a worker's thread budget must be set first.
            limit_framework_threads(getattr(self, "n_threads", "auto"))
            self.model_ = model.load()
            self._model_loaded()

    def _model_loaded(self):
        """Rebuild what depends on ``model_`` after unpickling (nothing by default)."""
