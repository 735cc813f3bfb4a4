"""Clinical operating points on the ROC curve: sensitivity at a specificity.

A screening reader asks "how many cancers does it find if it may raise a false
alarm on at most 1 benign case in 10?", not for the AUC. The convention, the same
for every point: among the thresholds of :func:`sklearn.metrics.roc_curve` whose
specificity reaches the target, the best sensitivity (and vice versa). The
intervals of :func:`skbreast.model_selection.operating_points` apply the same rule
to every bootstrap resample.
"""

import warnings
from numbers import Real

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_curve
from sklearn.utils._param_validation import Interval, validate_params

from skbreast.metrics._checks import (
    check_binary_target,
    check_same_length,
    check_scores,
)

# Targets are compared with a rates' tolerance: 1 - 1/10 is 0.9 up to rounding, and
# a threshold that reaches 90% specificity exactly must count as reaching it.
_TOLERANCE = 1e-9


def _roc(y_true, y_score, pos_label, func_name):
    y_score = check_scores(y_score)
    check_same_length(y_true=y_true, y_score=y_score)
    is_positive, reason = check_binary_target(y_true, pos_label)
    if reason is not None:
        warnings.warn(
            f"{func_name} is undefined, returning NaN: {reason}",
            UndefinedMetricWarning,
        )
        return None
    # drop_intermediate=False: every threshold is a candidate operating point.
    fpr, tpr, thresholds = roc_curve(is_positive, y_score, drop_intermediate=False)
    return fpr, tpr, thresholds


def _candidates(fpr, tpr, metric, target):
    """Return the ``metric`` of each ROC point whose other rate reaches ``target``.

    ``metric="sensitivity"``: the true positive rate of the points whose
    specificity (1 - FPR) is at least ``target``, -inf elsewhere; ``"specificity"``:
    the converse.
    The best operating point is the maximum (the first if tied) along the last axis,
    so the same code serves one curve and a stack of resampled curves.
    """
    value, reached = (tpr, 1 - fpr) if metric == "sensitivity" else (1 - fpr, tpr)
    return np.where(reached >= target - _TOLERANCE, value, -np.inf)


def best_point(fpr, tpr, metric, target):
    """Return ``(index, value)`` of the best operating point of one ROC curve.

    ``metric="sensitivity"``: the largest true positive rate among the points of
    specificity >= ``target``; ``"specificity"``: the converse. The first point
    wins a tie.
    """
    candidates = _candidates(fpr, tpr, metric, target)
    best = int(np.argmax(candidates))
    return best, float(candidates[best])


def _best_value(y_true, y_score, pos_label, metric, target):
    """Return the value of :func:`best_point` on the ROC of ``y_score``, or NaN."""
    other = "specificity" if metric == "sensitivity" else "sensitivity"
    roc = _roc(y_true, y_score, pos_label, f"{metric}_at_{other}")
    if roc is None:
        return np.nan
    fpr, tpr, _ = roc
    return best_point(fpr, tpr, metric, target)[1]


_TARGET = Interval(Real, 0, 1, closed="both")
_PARAMS = {
    "y_true": ["array-like"],
    "y_score": ["array-like"],
    "pos_label": [Real, str, "boolean"],
}


@validate_params(
    {**_PARAMS, "specificity": [_TARGET]}, prefer_skip_nested_validation=True
)
def sensitivity_at_specificity(y_true, y_score, *, specificity=0.9, pos_label=1):
    """Best sensitivity among thresholds whose specificity reaches a target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_score : array-like of shape (n_samples,)
        Score of the positive class.

    specificity : float, default=0.9
        Target specificity (true negative rate), in [0, 1].

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    Returns
    -------
    sensitivity : float
        The largest true positive rate over the thresholds of
        :func:`sklearn.metrics.roc_curve` with specificity >= ``specificity``;
        NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`, when
        ``y_true`` holds one class only.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` holds NaN or infinity, or ``y_true`` is
        not binary.

    See Also
    --------
    specificity_at_sensitivity : The converse operating point.
    operating_points : Several points with patient-level confidence intervals.

    Examples
    --------
    >>> from skbreast.model_selection import sensitivity_at_specificity
    >>> y_true = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    >>> y_score = [.1, .1, .2, .2, .3, .3, .4, .4, .5, .8, .6, .7, .9, .45]
    >>> sensitivity_at_specificity(y_true, y_score, specificity=0.9)
    0.75
    """
    return _best_value(y_true, y_score, pos_label, "sensitivity", specificity)


@validate_params(
    {**_PARAMS, "sensitivity": [_TARGET]}, prefer_skip_nested_validation=True
)
def specificity_at_sensitivity(y_true, y_score, *, sensitivity=0.95, pos_label=1):
    """Best specificity among thresholds whose sensitivity reaches a target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_score : array-like of shape (n_samples,)
        Score of the positive class.

    sensitivity : float, default=0.95
        Target sensitivity (true positive rate), in [0, 1].

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    Returns
    -------
    specificity : float
        The largest true negative rate over the thresholds of
        :func:`sklearn.metrics.roc_curve` with sensitivity >= ``sensitivity``;
        NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`, when
        ``y_true`` holds one class only.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` holds NaN or infinity, or ``y_true`` is
        not binary.

    See Also
    --------
    sensitivity_at_specificity : The converse operating point.
    operating_points : Several points with patient-level confidence intervals.

    Examples
    --------
    >>> from skbreast.model_selection import specificity_at_sensitivity
    >>> y_true = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    >>> y_score = [.1, .1, .2, .2, .3, .3, .4, .4, .5, .8, .6, .7, .9, .45]
    >>> specificity_at_sensitivity(y_true, y_score, sensitivity=0.95)
    0.8
    """
    return _best_value(y_true, y_score, pos_label, "specificity", sensitivity)
