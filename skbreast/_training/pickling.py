"""Pickling support: a Keras model carried as the bytes of its ``.keras`` file."""

import os
import tempfile
import warnings

import keras


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
