"""The expected calibration error (ECE), which scikit-learn does not have.

A model can rank well (high ROC AUC) and still say "90% malignant" for cases that
are malignant half the time. The ECE uses exactly the bins of
``sklearn.calibration.calibration_curve``, so that the number and the reliability
diagram of :func:`skbreast.model_selection.calibration_summary` agree.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skbreast.metrics._checks import (
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
