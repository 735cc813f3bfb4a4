"""TransferClassifier: fine-tune any pretrained backbone as an estimator."""

import numbers
import os

import keras
from sklearn.utils._param_validation import Interval, StrOptions

from skbreast._persistence import register
from skbreast._persistence.mixin import ModelFileMixin
from skbreast._training import docstrings as _docstrings
from skbreast._training.estimator import BaseImageClassifier
from skbreast._training.fine_tuning import FineTuningMixin
from skbreast.models import APPLICATION_BACKBONES, build_transfer
from skbreast.models._backbones import image_size_pair
from skbreast.models._transfer import describe_weights, resolved_weights


@register
class TransferClassifier(ModelFileMixin, FineTuningMixin, BaseImageClassifier):  # noqa: D101
    __doc__ = f"""Fine-tune a pretrained backbone to classify histopathology images.

    The recipe the field builds histopathology classifiers with: a network
    pretrained on ImageNet (or any backbone you bring), a new pooled dropout +
    dense head, the head trained first on the frozen backbone for
    ``freeze_backbone_epochs`` epochs, then the top ``fine_tune_layers`` layers of
    the backbone unfrozen and trained with it at the lower
    ``fine_tune_learning_rate``. Every batch normalisation layer of a pretrained
    backbone, nested ones included, stays in inference mode (non-trainable: its
    ImageNet statistics are used and never updated), without which the network
    collapses on small histology batches. With ``weights=None`` the same network
    trains from random weights in one phase, its batch normalisation learning with
    momentum 0.9 (the control that shows what the pretraining is worth).

    Read :ref:`pretrained` in the user guide for fine-tuning against linear probing,
    with the measured table.

    {_docstrings.INPUT}

    {_docstrings.AUGMENTATION_NOTE}

    Parameters
    ----------
    {_docstrings.INPUT_SHAPE}
    backbone : str, path or keras.Model, default="mobilenetv2"
        A keras.applications network by name, given the ImageNet preprocessing
        of its family: {", ".join(repr(b) for b in APPLICATION_BACKBONES)}. Or a
        ``.keras`` model file, or a ``keras.Model``, taking RGB images scaled to
        [0, 1] (it is copied: the model passed is never changed); or a keras-hub
        preset name (``pip install keras-hub``), given the preset's own image
        converter. The same backbones :class:`~skbreast.ImageEmbedder` takes.
    weights : "auto", "imagenet", None or path, default="auto"
        "auto": ImageNet for a keras.applications name (Keras downloads the file
        once into ``~/.keras/models``), the backbone's own weights for a file, a
        model or a preset. "imagenet": the same, for names only; offline it raises
        an ``OSError`` naming the file to fetch and where to put it (never a silent
        random start). None: the same network from random weights. A path: a
        weights file for the network (``.h5``, ``.weights.h5`` or ``.keras``, e.g.
        the ImageNet ``*_notop.h5`` files keras.applications downloads); a file
        written for another network is refused with a ``ValueError`` naming both.
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file (the given file, the ``.keras``
        backbone, or the ImageNet download in Keras' cache); another file raises a
        ``ValueError``.
    image_size : int, tuple of int or None, default=None
        ``(height, width)`` images are resized to inside the model; None keeps the
        input size (a ``keras.Model`` with a fixed input size gets its size).
        keras.applications networks need at least 32x32.
    dropout : float, default=0.2
        Dropout rate before the output layer.
    freeze_backbone_epochs : int or "auto", default="auto"
        Epochs the head trains on a frozen backbone before fine-tuning; "auto" is
        1 with pretrained weights (unused from random weights).
    fine_tune_layers : int or None, default=None
        Number of backbone layers, counted from the top, unfrozen for
        fine-tuning; None unfreezes them all (batch normalisation excepted).
    fine_tune_learning_rate : float or None, default=None
        Learning rate of the fine-tuning phase; None is ``learning_rate / 10``.
    {_docstrings.AUGMENTATION.format(stain_jitter=0.05, zoom=0.0)}
    {_docstrings.TRAINING.format(epochs=10, learning_rate=0.001, n_iter_no_change=3)}

    Attributes
    ----------
    {_docstrings.ATTRIBUTES}
    backbone_weights_ : dict
        Where the backbone's initial weights came from, as stored in the model
        card: ``"backbone"``, ``"weights"`` ("imagenet", "random", "own" or
        "file"), ``"file"`` (the weights or model file's name, or None) and
        ``"sha256"`` (its SHA-256 when the file was on this machine, else None).

    See Also
    --------
    ResNetClassifier : A compact ResNet from scratch, or a fine-tuned ResNet.
    skbreast.LinearProbeClassifier : A logistic regression on frozen features.
    skbreast.models.build_transfer : The Keras model builder behind this estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast import TransferClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    >>> y = np.array([0, 1] * 20)
    >>> clf = TransferClassifier("mobilenetv3small", weights=None, epochs=1,
    ...                          random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.backbone_weights_["weights"]
    'random'
    """

    _DEFAULT_FROZEN_EPOCHS = 1

    _parameter_constraints: dict = {
        **BaseImageClassifier._parameter_constraints,
        "backbone": [str, os.PathLike, keras.Model],
        # "auto", "imagenet", a path or None; checked against the backbone when
        # building.
        "weights": [StrOptions({"auto", "imagenet"}), str, os.PathLike, None],
        "weights_sha256": [str, None],
        "image_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            "array-like",
            None,
        ],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "freeze_backbone_epochs": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "fine_tune_layers": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "fine_tune_learning_rate": [
            Interval(numbers.Real, 0, None, closed="neither"),
            None,
        ],
    }

    def __init__(
        self,
        backbone="mobilenetv2",
        *,
        input_shape=None,
        weights="auto",
        weights_sha256=None,
        image_size=None,
        dropout=0.2,
        freeze_backbone_epochs="auto",
        fine_tune_layers=None,
        fine_tune_learning_rate=None,
        flip=True,
        rotate90=True,
        stain_jitter=0.05,
        zoom=0.0,
        tta=False,
        epochs=10,
        batch_size=32,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule="plateau",
        class_weight=None,
        threshold=0.5,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=3,
        rescale="auto",
        sampler=None,
        balance=None,
        warm_start=False,
        callbacks=None,
        checkpoint_dir=None,
        n_threads="auto",
        precision="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.input_shape = input_shape
        self.weights = weights
        self.weights_sha256 = weights_sha256
        self.image_size = image_size
        self.dropout = dropout
        self.freeze_backbone_epochs = freeze_backbone_epochs
        self.fine_tune_layers = fine_tune_layers
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.flip = flip
        self.rotate90 = rotate90
        self.stain_jitter = stain_jitter
        self.zoom = zoom
        self.tta = tta
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.class_weight = class_weight
        self.threshold = threshold
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.rescale = rescale
        self.sampler = sampler
        self.balance = balance
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    def _build_model(self, input_shape, n_outputs, input_scale, seed):
        return build_transfer(
            input_shape,
            n_outputs,
            backbone=self.backbone,
            weights=self.weights,
            weights_sha256=self.weights_sha256,
            image_size=self.image_size,
            dropout=self.dropout,
            input_scale=input_scale,
            seed=seed,
            **self._augmentation(input_shape),
        )

    def _pretrained(self):
        return resolved_weights(self.backbone, self.weights) is not None

    def _set_fitted(self, attributes, model):
        if "backbone_weights_" not in attributes:
            previous = vars(self).get("backbone_weights_")
            if previous is None or model is not vars(self).get("model_"):
                # A new model: describe the weights it was built from. A warm
                # start keeps the description of the model it continues.
                size = image_size_pair(self.image_size) or attributes["image_shape_"]
                previous = describe_weights(self.backbone, self.weights, int(size[0]))
            attributes = {**attributes, "backbone_weights_": previous}
        super()._set_fitted(attributes, model)
