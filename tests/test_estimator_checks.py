"""scikit-learn's own estimator checks on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skbreast import CNNClassifier, ResNetClassifier

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
