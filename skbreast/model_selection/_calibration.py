"""Calibration: Brier score, expected calibration error and reliability curves.

A model can rank well (high ROC AUC) and still say "90% malignant" for cases that
are malignant half the time; a pathologist who reads the probability needs it to
mean what it says. The Brier score is scikit-learn's ``brier_score_loss`` and the
reliability curve is ``sklearn.calibration.calibration_curve``; the expected
calibration error (ECE), which scikit-learn does not have, uses exactly the bins of
``calibration_curve`` so that the number and the diagram agree.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skbreast.model_selection._checks import (
    check_binary_target,
    check_same_length,
    check_scores,
)

_PARAMS = {
    "y_true": ["array-like"],
    "y_prob": ["array-like"],
    "n_bins": [Interval(Integral, 1, None, closed="left")],
    "strategy": [StrOptions({"uniform", "quantile"})],
    "pos_label": [Real, str, "boolean"],
}


def _check(y_true, y_prob, pos_label):
    y_prob = check_scores(y_prob, "y_prob")
    check_same_length(y_true=y_true, y_prob=y_prob)
    if y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError(
            f"y_prob must be probabilities in [0, 1]; got values from "
            f"{y_prob.min():g} to {y_prob.max():g}. Pass predict_proba(X)[:, 1], "
            "not a decision function."
        )
    is_positive, _ = check_binary_target(y_true, pos_label)
    return is_positive, y_prob


def _bins(y_prob, n_bins, strategy):
    """Bin index of every probability, as ``calibration_curve`` assigns them."""
    if strategy == "quantile":
        edges = np.percentile(y_prob, np.linspace(0, 100, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], y_prob), edges


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def expected_calibration_error(
    y_true, y_prob, *, n_bins=10, strategy="uniform", pos_label=1
):
    """Compute the expected calibration error (ECE) of predicted probabilities.

    The probabilities are binned; in each bin the gap between the mean predicted
    probability and the share of positives is weighted by the bin's share of
    samples: ``ECE = sum_b (n_b / n) |mean(y_b) - mean(p_b)|``. 0 is perfect.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_prob : array-like of shape (n_samples,)
        Predicted probability of the positive class.

    n_bins : int, default=10
        Number of bins.

    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: bins of equal width on [0, 1]; ``"quantile"``: bins of
        (about) equal numbers of samples, at the quantiles of ``y_prob``. The bins
        are those of :func:`sklearn.calibration.calibration_curve`: a probability
        on an inner edge falls in the lower bin.

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    Returns
    -------
    ece : float
        The expected calibration error, in [0, 1].

    Raises
    ------
    ValueError
        If the lengths differ, ``y_prob`` is not in [0, 1] or holds NaN, or
        ``y_true`` is not binary.

    See Also
    --------
    calibration_summary : ECE, Brier score and the reliability curve together.

    Notes
    -----
    The ECE depends on the binning; compare models with the same ``n_bins`` and
    ``strategy``. Equal-mass bins suit probabilities bunched near 0 and 1, as a
    confident CNN's are.

    References
    ----------
    .. [1] M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining well calibrated
       probabilities using Bayesian binning", AAAI 2015.

    Examples
    --------
    >>> from skbreast.model_selection import expected_calibration_error
    >>> y_true = [0, 0, 1, 1]
    >>> y_prob = [0.1, 0.3, 0.6, 0.9]
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=2), 3)
    0.225
    """
    is_positive, y_prob = _check(y_true, y_prob, pos_label)
    bin_ids, _ = _bins(y_prob, n_bins, strategy)
    counts = np.bincount(bin_ids, minlength=n_bins)
    gap = np.abs(
        np.bincount(bin_ids, weights=is_positive, minlength=n_bins)
        - np.bincount(bin_ids, weights=y_prob, minlength=n_bins)
    )
    # |sum(y_b) - sum(p_b)| / n is (n_b / n) |mean(y_b) - mean(p_b)|.
    return float(gap.sum() / counts.sum())


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
