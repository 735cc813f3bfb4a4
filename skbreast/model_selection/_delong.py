"""DeLong's variance of the ROC AUC and test for two correlated AUCs.

Why written here: neither scipy nor scikit-learn has DeLong's method (scikit-learn's
``roc_auc_score`` gives the point estimate only). The implementation follows the
fast algorithm of Sun & Xu (2014), which obtains DeLong's structural components
from three rankings (``scipy.stats.rankdata`` midranks) in O(n log n) instead of
DeLong's O(m n) pairwise comparisons. The normal tail comes from ``scipy.stats.norm``.

For m positive and n negative samples and scores X_i (positives), Y_j (negatives):

- V10_i = (1/n) sum_j psi(X_i, Y_j) and V01_j = (1/m) sum_i psi(X_i, Y_j), with
  psi = 1, 1/2, 0 for X > Y, X = Y, X < Y; the AUC is the mean of either;
- S10, S01: the sample covariance matrices (over models) of the V10 and V01;
- S = S10 / m + S01 / n estimates the covariance of the models' AUCs.
"""

from numbers import Real

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from skbreast.metrics._checks import (
    check_binary_target,
    check_same_length,
    check_scores,
)


def _structural_components(is_positive, scores):
    """AUCs and DeLong's V10, V01 of each row of ``scores`` (Sun & Xu, 2014).

    ``scores`` has shape (n_models, n_samples). Returns ``(auc, v10, v01)`` with
    shapes (n_models,), (n_models, m) and (n_models, n).
    """
    positives = scores[:, is_positive]
    negatives = scores[:, ~is_positive]
    m, n = positives.shape[1], negatives.shape[1]
    # Midranks: among positives (tx), among negatives (ty), among all (tz).
    tx = rankdata(positives, axis=1)
    ty = rankdata(negatives, axis=1)
    tz = rankdata(np.concatenate([positives, negatives], axis=1), axis=1)
    tz_pos, tz_neg = tz[:, :m], tz[:, m:]
    # tz - tx counts, for a positive, the negatives below it (ties count 1/2).
    v10 = (tz_pos - tx) / n
    v01 = 1.0 - (tz_neg - ty) / m
    auc = v10.mean(axis=1)
    return auc, v10, v01


def _covariance(v10, v01):
    """DeLong's estimate S10/m + S01/n of the covariance matrix of the AUCs."""
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.atleast_2d(np.cov(v10, ddof=1))
    s01 = np.atleast_2d(np.cov(v01, ddof=1))
    return s10 / m + s01 / n


def _check_pair(y_true, scores, pos_label):
    is_positive, reason = check_binary_target(y_true, pos_label)
    m = int(is_positive.sum())
    n = len(is_positive) - m
    if reason is None and min(m, n) < 2:
        reason = (
            f"DeLong's variance needs at least 2 positive and 2 negative samples; "
            f"got {m} positive and {n} negative."
        )
    return is_positive, m, n, reason


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "pos_label": [Real, str, "boolean"],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def delong_roc_variance(y_true, y_score, *, pos_label=1, confidence_level=0.95):
    """DeLong's variance of one ROC AUC, with a normal confidence interval.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_score : array-like of shape (n_samples,)
        Score of the positive class (probability or decision function).

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    confidence_level : float, default=0.95
        Confidence level of the interval.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes ``auc``, ``variance``, ``standard_error``,
        ``confidence_interval`` (``(low, high)``: AUC -/+ z * SE, clipped to
        [0, 1]), ``n_positive``, ``n_negative`` and ``reason``: None, or why the
        values are NaN (one class only, or fewer than 2 samples of a class).

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` holds NaN or infinity, or ``y_true`` is
        not binary.

    See Also
    --------
    delong_test : Compare two correlated AUCs on the same samples.

    Notes
    -----
    The samples are treated as independent. Images of one patient are not; with
    several images per patient, prefer :func:`bootstrap_ci` with ``groups``,
    which resamples patients.

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
       areas under two or more correlated receiver operating characteristic
       curves: a nonparametric approach", Biometrics, 44(3), 837-845, 1988.
    .. [2] X. Sun and W. Xu, "Fast implementation of DeLong's algorithm for
       comparing the areas under correlated receiver operating characteristic
       curves", IEEE Signal Processing Letters, 21(11), 1389-1393, 2014.

    Examples
    --------
    >>> from skbreast.model_selection import delong_roc_variance
    >>> y_true = [1, 1, 1, 0, 0]
    >>> y_score = [0.9, 0.6, 0.4, 0.5, 0.2]
    >>> result = delong_roc_variance(y_true, y_score)
    >>> round(result.auc, 4), round(result.variance, 4)  # 5/6 and 1/18
    (0.8333, 0.0556)
    """
    y_score = check_scores(y_score)
    check_same_length(y_true=y_true, y_score=y_score)
    is_positive, m, n, reason = _check_pair(y_true, y_score, pos_label)
    result = Bunch(
        auc=np.nan,
        variance=np.nan,
        standard_error=np.nan,
        confidence_interval=(np.nan, np.nan),
        n_positive=m,
        n_negative=n,
        reason=reason,
    )
    if m == 0 or n == 0:
        return result
    auc, v10, v01 = _structural_components(is_positive, y_score[None, :])
    result.auc = float(auc[0])
    if reason is not None:
        return result
    variance = float(_covariance(v10, v01)[0, 0])
    se = np.sqrt(variance)
    z = norm.ppf(0.5 + confidence_level / 2)
    result.update(
        variance=variance,
        standard_error=float(se),
        confidence_interval=(
            float(max(0.0, result.auc - z * se)),
            float(min(1.0, result.auc + z * se)),
        ),
    )
    return result


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score_a": ["array-like"],
        "y_score_b": ["array-like"],
        "pos_label": [Real, str, "boolean"],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def delong_test(y_true, y_score_a, y_score_b, *, pos_label=1, confidence_level=0.95):
    """DeLong's test for the difference of two correlated ROC AUCs.

    Two models scored on the same samples have correlated AUCs; DeLong's method
    estimates their covariance from the structural components and tests whether
    ``auc_a - auc_b`` differs from zero with a two-sided z-test.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels.

    y_score_a, y_score_b : array-like of shape (n_samples,)
        Scores of the positive class by model a and by model b, for the same
        samples in the same order (e.g. pooled out-of-fold predictions).

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    confidence_level : float, default=0.95
        Confidence level of the interval for the difference.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes

        auc_a, auc_b : float
            The two ROC AUCs.
        difference : float
            ``auc_a - auc_b``.
        variance, standard_error : float
            DeLong's variance of the difference and its square root.
        covariance : ndarray of shape (2, 2)
            DeLong's covariance matrix of ``(auc_a, auc_b)``.
        z, p_value : float
            The z statistic and its two-sided p-value.
        confidence_interval : tuple of float
            ``difference -/+ z * standard_error`` at ``confidence_level``.
        n_positive, n_negative : int
            Numbers of positive and negative samples.
        reason : str or None
            None, or why the test is n/a (one class only, fewer than 2 samples of
            a class); the undefined values are then NaN. When the two scores'
            structural components are identical the variance is 0: the p-value is
            1 for a zero difference and ``reason`` says so.

    Raises
    ------
    ValueError
        If the lengths differ, a score holds NaN or infinity, or ``y_true`` is not
        binary.

    See Also
    --------
    delong_roc_variance : The variance of a single AUC.
    corrected_ttest : Compare per-fold scores of repeated cross-validation.

    Notes
    -----
    The test treats samples as independent. With several images per patient it
    understates the variance; for patient-level uncertainty resample patients with
    :func:`bootstrap_ci`.

    References
    ----------
    .. [1] E. R. DeLong, D. M. DeLong and D. L. Clarke-Pearson, "Comparing the
       areas under two or more correlated receiver operating characteristic
       curves: a nonparametric approach", Biometrics, 44(3), 837-845, 1988.
    .. [2] X. Sun and W. Xu, "Fast implementation of DeLong's algorithm for
       comparing the areas under correlated receiver operating characteristic
       curves", IEEE Signal Processing Letters, 21(11), 1389-1393, 2014.

    Examples
    --------
    >>> from skbreast.model_selection import delong_test
    >>> y_true = [1, 1, 1, 0, 0]
    >>> result = delong_test(y_true, [0.9, 0.6, 0.4, 0.5, 0.2],
    ...                      [0.8, 0.5, 0.3, 0.5, 0.1])
    >>> round(result.auc_a, 4), round(result.auc_b, 4)  # 5/6 and 3/4
    (0.8333, 0.75)
    >>> round(result.variance, 5)  # 1/72
    0.01389
    >>> round(result.z, 4), round(result.p_value, 4)  # 1/sqrt(2), erfc(1/2)
    (0.7071, 0.4795)
    """
    y_score_a = check_scores(y_score_a, "y_score_a")
    y_score_b = check_scores(y_score_b, "y_score_b")
    check_same_length(y_true=y_true, y_score_a=y_score_a, y_score_b=y_score_b)
    is_positive, m, n, reason = _check_pair(y_true, y_score_a, pos_label)
    result = Bunch(
        auc_a=np.nan,
        auc_b=np.nan,
        difference=np.nan,
        variance=np.nan,
        standard_error=np.nan,
        covariance=np.full((2, 2), np.nan),
        z=np.nan,
        p_value=np.nan,
        confidence_interval=(np.nan, np.nan),
        n_positive=m,
        n_negative=n,
        reason=reason,
    )
    if m == 0 or n == 0:
        return result
    auc, v10, v01 = _structural_components(
        is_positive, np.vstack([y_score_a, y_score_b])
    )
    difference = float(auc[0] - auc[1])
    result.update(auc_a=float(auc[0]), auc_b=float(auc[1]), difference=difference)
    if reason is not None:
        return result
    covariance = _covariance(v10, v01)
    contrast = np.array([1.0, -1.0])
    # The variance of the difference is zero exactly when the components of the
    # two models differ by a constant; components are multiples of 1/(2n) or
    # 1/(2m), so 1e-12 separates that from rounding noise.
    constant = all(np.ptp(v[0] - v[1]) <= 1e-12 for v in (v10, v01))
    variance = 0.0 if constant else max(float(contrast @ covariance @ contrast), 0.0)
    se = np.sqrt(variance)
    if se > 0:
        z = difference / se
        p_value = float(2 * norm.sf(abs(z)))
    elif difference == 0:
        z, p_value = 0.0, 1.0
        reason = (
            "the two scores have identical DeLong components (e.g. the same "
            "ranking): the difference is exactly 0 with variance 0."
        )
    else:
        z, p_value = float(np.sign(difference) * np.inf), 0.0
        reason = (
            "DeLong's variance of the difference is 0 (every sample's components "
            "differ by the same constant); the z-test is degenerate."
        )
    half_width = norm.ppf(0.5 + confidence_level / 2) * se
    result.update(
        variance=variance,
        standard_error=float(se),
        covariance=covariance,
        z=float(z),
        p_value=p_value,
        confidence_interval=(difference - half_width, difference + half_width),
        reason=reason,
    )
    return result
