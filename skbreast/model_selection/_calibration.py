"""Calibration: Brier score, expected calibration error and reliability curves.

A model can rank well (high ROC AUC) and still say "90% malignant" for cases that
are malignant half the time; a pathologist who reads the probability needs it to
mean what it says. The Brier score is scikit-learn's ``brier_score_loss``, the
reliability curve is ``sklearn.calibration.calibration_curve`` and the expected
calibration error is the metric of :mod:`skbreast.metrics` (same bins as the curve).
"""

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from skbreast.metrics._calibration import (
    _PARAMS,
    _bins,
    _check,
    expected_calibration_error,
)


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def calibration_summary(y_true, y_prob, *, n_bins=10, strategy="uniform", pos_label=1):
    """Brier score, expected calibration error and reliability-curve data.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_prob : array-like of shape (n_samples,)
        Predicted probability of the positive class.

    n_bins : int, default=10
        Number of bins of the ECE and of the curve.

    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-mass bins; see :func:`expected_calibration_error`.

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes

        brier_score : float
            :func:`sklearn.metrics.brier_score_loss`, the mean squared error of
            the probabilities (0 is perfect).
        expected_calibration_error : float
            See :func:`expected_calibration_error`.
        prob_pred, prob_true : ndarray
            Mean predicted probability and share of positives of every non-empty
            bin, from :func:`sklearn.calibration.calibration_curve`: plot
            ``prob_true`` against ``prob_pred`` for the reliability diagram.
        bin_counts : ndarray
            Number of samples in each of those bins.
        bin_edges : ndarray of shape (n_bins + 1,)
            The edges of all bins.
        n_bins, strategy
            As given.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_prob`` is not in [0, 1] or holds NaN, or
        ``y_true`` is not binary.

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : Plot a reliability diagram.

    Examples
    --------
    >>> from skbreast.model_selection import calibration_summary
    >>> result = calibration_summary([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9], n_bins=2)
    >>> round(result.brier_score, 4), round(result.expected_calibration_error, 3)
    (0.0675, 0.225)
    >>> result.prob_pred.tolist(), result.prob_true.tolist()
    ([0.2, 0.75], [0.0, 1.0])
    >>> result.bin_counts.tolist()
    [2, 2]
    """
    is_positive, y_prob = _check(y_true, y_prob, pos_label)
    bin_ids, edges = _bins(y_prob, n_bins, strategy)
    counts = np.bincount(bin_ids, minlength=n_bins)
    prob_true, prob_pred = calibration_curve(
        is_positive, y_prob, n_bins=n_bins, strategy=strategy, pos_label=True
    )
    return Bunch(
        brier_score=float(brier_score_loss(is_positive, y_prob, pos_label=True)),
        expected_calibration_error=expected_calibration_error(
            is_positive, y_prob, n_bins=n_bins, strategy=strategy, pos_label=True
        ),
        prob_pred=prob_pred,
        prob_true=prob_true,
        bin_counts=counts[counts > 0],
        bin_edges=edges,
        n_bins=n_bins,
        strategy=strategy,
    )
