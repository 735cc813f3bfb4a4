"""What prediction adds to a trained Keras model: logits and test-time augmentation."""

import keras
import numpy as np

# Images predicted at once. Batches are padded to this size so that a model is traced
# once and a prediction does not depend on the other images in the call.
PREDICT_BATCH_SIZE = 128


def logits_model(model):
    """Return a model sharing ``model``'s layers that outputs the logits layer."""
    return keras.Model(model.inputs, model.get_layer("logits").output)


class TTAModel:
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
