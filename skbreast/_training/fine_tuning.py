"""The two phases of fine-tuning a pretrained backbone, shared by the classifiers.

Phase one trains the new head on a frozen backbone (a fresh head's large
gradients would otherwise wreck the pretrained features); phase two unfreezes the
top ``fine_tune_layers`` layers of the backbone and trains them with the head at
the lower ``fine_tune_learning_rate``. Batch normalisation stays in inference
mode throughout (see :func:`skbreast.models._transfer.set_backbone_trainable`).
"""

import functools

from skbreast.models._transfer import set_backbone_trainable


class FineTuningMixin:
    """``_training_phases`` of the classifiers built on a pretrained backbone.

    The class sets ``_DEFAULT_FROZEN_EPOCHS`` (the epochs "auto" trains the head
    alone) and implements ``_pretrained()``; it has the parameters
    ``freeze_backbone_epochs``, ``fine_tune_layers``, ``fine_tune_learning_rate``
    and ``learning_rate``.
    """

    _DEFAULT_FROZEN_EPOCHS = 1

    def _pretrained(self):
        """Whether the backbone starts from learnt weights (else: random)."""
        raise NotImplementedError

    def _training_phases(self, model, epochs):
        if not self._pretrained():
            return [(epochs, self.learning_rate, None)]
        frozen = (
            self._DEFAULT_FROZEN_EPOCHS
            if self.freeze_backbone_epochs == "auto"
            else self.freeze_backbone_epochs
        )
        frozen = min(frozen, epochs)
        fine_tune_rate = (
            self.learning_rate / 10
            if self.fine_tune_learning_rate is None
            else self.fine_tune_learning_rate
        )
        layers = "all" if self.fine_tune_layers is None else self.fine_tune_layers
        return [
            (frozen, self.learning_rate, functools.partial(_set_backbone, "none")),
            (epochs - frozen, fine_tune_rate, functools.partial(_set_backbone, layers)),
        ]


def _set_backbone(layers, model):
    set_backbone_trainable(model.get_layer("backbone"), layers)
