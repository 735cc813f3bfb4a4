"""ResNetClassifier: a residual network, pretrained or from scratch, as an estimator."""

import numbers
import os

from sklearn.utils._param_validation import Interval, StrOptions

from skbreast._persistence import register
from skbreast._persistence.mixin import ModelFileMixin
from skbreast._training import docstrings as _docstrings
from skbreast._training.estimator import BaseImageClassifier
from skbreast._training.fine_tuning import FineTuningMixin
from skbreast.models import RESNET_BACKBONES, build_resnet


@register
class ResNetClassifier(ModelFileMixin, FineTuningMixin, BaseImageClassifier):  # noqa: D101 (doc below)
    __doc__ = f"""Residual network classifier for histopathology images.

    Fine-tunes a ResNet backbone: a ``keras.applications`` ResNet-50/101/152 (v1 or
    v2), optionally with ImageNet weights, or a compact residual network that trains
    from scratch on 50-100 px patches on a CPU. Images are resized to ``image_size``
    and given the backbone's ImageNet preprocessing inside the model; the backbone's
    feature map is averaged and fed to a dropout layer and a sigmoid (binary) or
    softmax output.

    With pretrained weights, training runs in two phases: the backbone is frozen for
    the first ``freeze_backbone_epochs`` epochs (only the new head learns), then the
    top ``fine_tune_layers`` backbone layers are unfrozen and trained at the lower
    ``fine_tune_learning_rate``, every BatchNormalization layer staying in inference
    mode (non-trainable, so its ImageNet statistics are used and never updated).
    From scratch,
    everything trains from the start at ``learning_rate``.

    {_docstrings.INPUT}

    {_docstrings.AUGMENTATION_NOTE}

    Parameters
    ----------
    {_docstrings.INPUT_SHAPE}
    backbone : str, default="compact"
        One of {", ".join(repr(b) for b in RESNET_BACKBONES)}.
    weights : None, "imagenet" or path, default=None
        Backbone initialisation: random (None), ImageNet (downloaded once into
        ``~/.keras/models``; offline this fails with a message saying where to put
        the file), or a local weights file: the ``.h5`` files keras.applications
        downloads (``*_notop.h5``; a full file's classification top is skipped), a
        ``.weights.h5`` file written by ``save_weights`` (e.g.
        ``model_.get_layer("backbone").save_weights``) or a ``.keras`` file written
        by ``save``. A file written for another network is refused with a
        ``ValueError`` naming the backbone and the file.
    weights_sha256 : str or None, default=None
        Expected SHA-256 (hex) of the weights file (with ``"imagenet"``, of the
        download in Keras' cache); another file raises a ``ValueError``.
    image_size : tuple of int or None, default=None
        ``(height, width)`` images are resized to inside the model, e.g. (224, 224)
        for ImageNet backbones; None keeps the input size (keras.applications
        backbones need at least 32x32).
    filters : tuple of int, default=(32, 64, 128)
        Filters of each stage of the compact backbone.
    blocks_per_stage : int, default=2
        Residual blocks per stage of the compact backbone.
    dropout : float, default=0.2
        Dropout rate before the output layer.
    freeze_backbone_epochs : int or "auto", default="auto"
        Epochs trained with a frozen backbone before fine-tuning; "auto" is 3 with
        pretrained weights and 0 from scratch.
    fine_tune_layers : int or None, default=None
        Number of backbone layers, counted from the top, unfrozen for fine-tuning;
        None unfreezes them all.
    fine_tune_learning_rate : float or None, default=None
        Learning rate of the fine-tuning phase; None uses ``learning_rate / 10`` with
        pretrained weights (and ``learning_rate`` from scratch).
    {_docstrings.AUGMENTATION.format(stain_jitter=0.05, zoom=0.0)}
    {_docstrings.TRAINING.format(epochs=100, learning_rate=0.001, n_iter_no_change=10)}

    Attributes
    ----------
    {_docstrings.ATTRIBUTES}

    See Also
    --------
    CNNClassifier : The classic patch CNN.
    skbreast.models.build_resnet : The Keras model builder behind this estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast import ResNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 16, 16, 3), dtype=np.uint8)
    >>> y = np.array([0, 1] * 20)
    >>> clf = ResNetClassifier(filters=(8, 16), blocks_per_stage=1, epochs=2,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict(X[:4]).shape
    (4,)
    """

    _DEFAULT_FROZEN_EPOCHS = 3

    _parameter_constraints: dict = {
        **BaseImageClassifier._parameter_constraints,
        "backbone": [StrOptions(set(RESNET_BACKBONES))],
        # "imagenet", a path (str or os.PathLike) or None; checked when building.
        "weights": [StrOptions({"imagenet"}), str, os.PathLike, None],
        "weights_sha256": [str, None],
        "image_size": ["array-like", None],
        "filters": ["array-like"],
        "blocks_per_stage": [Interval(numbers.Integral, 1, None, closed="left")],
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
        input_shape=None,
        *,
        backbone="compact",
        weights=None,
        weights_sha256=None,
        image_size=None,
        filters=(32, 64, 128),
        blocks_per_stage=2,
        dropout=0.2,
        freeze_backbone_epochs="auto",
        fine_tune_layers=None,
        fine_tune_learning_rate=None,
        flip=True,
        rotate90=True,
        stain_jitter=0.05,
        zoom=0.0,
        tta=False,
        epochs=100,
        batch_size=32,
        optimizer="adam",
        learning_rate=0.001,
        lr_schedule="plateau",
        class_weight=None,
        threshold=0.5,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
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
        self.input_shape = input_shape
        self.backbone = backbone
        self.weights = weights
        self.weights_sha256 = weights_sha256
        self.image_size = image_size
        self.filters = filters
        self.blocks_per_stage = blocks_per_stage
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
        return build_resnet(
            input_shape,
            n_outputs,
            backbone=self.backbone,
            weights=self.weights,
            weights_sha256=self.weights_sha256,
            image_size=None if self.image_size is None else tuple(self.image_size),
            filters=tuple(self.filters),
            blocks_per_stage=self.blocks_per_stage,
            dropout=self.dropout,
            input_scale=input_scale,
            seed=seed,
            **self._augmentation(input_shape),
        )

    def _pretrained(self):
        return self.weights is not None
