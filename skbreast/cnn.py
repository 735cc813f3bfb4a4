"""CNNClassifier: the classic breast-histopathology patch CNN as an estimator."""

import numbers

from sklearn.utils._param_validation import Interval

from skbreast._persistence import register
from skbreast._persistence.mixin import ModelFileMixin
from skbreast._training import docstrings as _docstrings
from skbreast._training.estimator import BaseImageClassifier
from skbreast.models import build_cnn


@register
class CNNClassifier(ModelFileMixin, BaseImageClassifier):  # noqa: D101 (doc below)
    __doc__ = f"""Convolutional network classifier for histopathology images.

    The default architecture is the classic 50x50 RGB patch model used on IDC and
    BreakHis: three blocks of convolution + ReLU + dropout + 2x2 max-pooling (32, 64
    and 128 filters), two ReLU dense layers (128 and 64 units) with dropout, and a
    sigmoid output (softmax for more than two classes), trained with Adam on the
    (binary) cross-entropy in batches of 32. Training runs up to 200 epochs and, on
    data sets of 100 images or more, stops early on a held-out validation loss.
    Every architecture setting is a parameter, so ``GridSearchCV`` can tune it.

    {_docstrings.INPUT}

    {_docstrings.AUGMENTATION_NOTE}

    Parameters
    ----------
    {_docstrings.INPUT_SHAPE}
    filters : tuple of int, default=(32, 64, 128)
        Filters of each convolution block; its length is the number of blocks.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    conv_dropout : float, default=0.25
        Dropout rate after each convolution.
    dense_units : tuple of int, default=(128, 64)
        Units of the hidden dense layers.
    dense_dropout : float, default=0.5
        Dropout rate after each hidden dense layer.
    {_docstrings.AUGMENTATION.format(stain_jitter=0.05, zoom=0.0)}
    {_docstrings.TRAINING.format(epochs=200, learning_rate=0.001, n_iter_no_change=10)}

    Attributes
    ----------
    {_docstrings.ATTRIBUTES}

    See Also
    --------
    ResNetClassifier : A residual network, pretrained or trained from scratch.
    skbreast.models.build_cnn : The Keras model builder behind this estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast import CNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 16, 16, 3), dtype=np.uint8)
    >>> y = np.array(["benign", "malignant"] * 20)
    >>> clf = CNNClassifier(filters=(8,), dense_units=(16,), epochs=2,
    ...                     random_state=0).fit(X, y)
    >>> clf.classes_
    array(['benign', 'malignant'], dtype='<U9')
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **BaseImageClassifier._parameter_constraints,
        "filters": ["array-like"],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "conv_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "dense_units": ["array-like"],
        "dense_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        input_shape=None,
        *,
        filters=(32, 64, 128),
        kernel_size=3,
        conv_dropout=0.25,
        dense_units=(128, 64),
        dense_dropout=0.5,
        flip=True,
        rotate90=True,
        stain_jitter=0.05,
        zoom=0.0,
        tta=False,
        epochs=200,
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
        self.filters = filters
        self.kernel_size = kernel_size
        self.conv_dropout = conv_dropout
        self.dense_units = dense_units
        self.dense_dropout = dense_dropout
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
        return build_cnn(
            input_shape,
            n_outputs,
            filters=tuple(self.filters),
            kernel_size=self.kernel_size,
            conv_dropout=self.conv_dropout,
            dense_units=tuple(self.dense_units),
            dense_dropout=self.dense_dropout,
            input_scale=input_scale,
            seed=seed,
            **self._augmentation(input_shape),
        )
