"""scikit-learn's own estimator checks on the estimators."""

import keras
from conftest import saved_model_file
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbreast import CNNClassifier, ResNetClassifier, TransferClassifier


def _tiny_backbone_file():
    """A 3x3 convolution + batch norm as a ``.keras`` backbone, any image size."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    return saved_model_file(keras.Model(inputs, keras.layers.ReLU()(x)), "checks")


# Small networks and few epochs keep the ~50 checks per estimator fast; the checks'
# toy data (blobs of 2-10 features) becomes 1-pixel-high strips or tiny squares.
ESTIMATORS = [
    CNNClassifier(
        filters=(8,),
        dense_units=(16,),
        conv_dropout=0.0,
        dense_dropout=0.0,
        epochs=20,
        learning_rate=0.01,
        random_state=0,
    ),
    ResNetClassifier(
        filters=(8,),
        blocks_per_stage=1,
        dropout=0.0,
        epochs=20,
        learning_rate=0.01,
        random_state=0,
    ),
    # From random weights (one phase): the checks' blobs need every layer to learn.
    TransferClassifier(
        _tiny_backbone_file(),
        weights=None,
        dropout=0.0,
        epochs=20,
        learning_rate=0.01,
        random_state=0,
    ),
]

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch SGD with shuffling: a sample of weight 2 and two copies of it "
        "fall in different batches, so the fits agree in expectation only (as for "
        "SGDClassifier and MLPClassifier)"
    ),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
