"""The Nadeau-Bengio corrected resampled t-test for paired per-fold scores.

Folds of one cross-validation share most of their training data, so their scores
are correlated and the plain paired t-test, which treats them as independent,
understates the variance and finds differences that are not there. Nadeau & Bengio
(2003) correct the variance of the mean of J resampled differences from
``s**2 / J`` to ``(1 / J + n_test / n_train) * s**2``; Bouckaert & Frank (2004)
apply it to r-times repeated k-fold CV (J = r k, k - 1 = n_train / n_test folds,
r k - 1 degrees of freedom). The t distribution is ``scipy.stats.t``; the few lines
of the correction itself have no scipy equivalent.
"""

from numbers import Real

import numpy as np
from scipy.stats import t as t_distribution
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params


def _fold_sizes(value, name, n_folds):
    sizes = np.asarray(value, dtype=np.float64)
    if sizes.ndim == 0:
        sizes = np.full(n_folds, float(sizes))
    if sizes.ndim != 1 or len(sizes) != n_folds:
        raise ValueError(
            f"{name} must be a number or one number per fold ({n_folds}); got "
            f"shape {np.shape(value)}."
        )
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError(f"{name} must hold positive sample counts; got {value!r}.")
    return sizes


def _fold_scores(scores, name):
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"{name} must be 1-D, one score per fold.")
    undefined = np.flatnonzero(~np.isfinite(scores))
    if undefined.size:
        raise ValueError(
            f"{name} is NaN or infinite at fold(s) {undefined.tolist()}; a metric "
            "undefined on a fold (e.g. a fold with one class) cannot enter the "
            "t-test. Drop those folds from both models, or use splits whose test "
            "folds hold every class."
        )
    return scores


@validate_params(
    {
        "scores_a": ["array-like"],
        "scores_b": ["array-like"],
        "n_train": ["array-like", Real],
        "n_test": ["array-like", Real],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def corrected_ttest(scores_a, scores_b, *, n_train, n_test, confidence_level=0.95):
    """Nadeau-Bengio corrected resampled t-test of paired per-fold scores.

    Compares two models evaluated on the same (repeated) cross-validation folds:
    the differences ``scores_a - scores_b`` fold by fold are tested against zero
    with the variance corrected for the overlap of the training sets.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (n_folds,)
        A score of model a and of model b on each fold, folds in the same order
        (e.g. ``cross_validate(...)["test_roc_auc"]`` with the same ``cv``).

    n_train, n_test : int or array-like of shape (n_folds,)
        Number of training and of test samples of each fold (one number when all
        folds have the same size). With patient-disjoint folds of unequal size,
        the correction uses the mean of the per-fold ratios ``n_test / n_train``.

    confidence_level : float, default=0.95
        Confidence level of the interval for the mean difference.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes

        mean_difference : float
            Mean of ``scores_a - scores_b`` over the folds.
        standard_error : float
            ``sqrt((1 / n_folds + n_test / n_train) * s**2)``, with ``s**2`` the
            sample variance (ddof=1) of the differences.
        confidence_interval : tuple of float
            ``mean_difference -/+ t_{df} * standard_error``.
        t, df, p_value : float
            The t statistic, its degrees of freedom (``n_folds - 1``) and the
            two-sided p-value.
        n_folds : int
            Number of paired folds.
        test_train_ratio : float
            The ratio ``n_test / n_train`` used in the correction.
        reason : str or None
            None, or a note when the differences have zero variance (then the
            p-value is 1 for a zero mean and 0 otherwise).

    Raises
    ------
    ValueError
        If fewer than two folds are given, the two score arrays differ in length,
        a score is NaN or infinite, or the fold sizes are not positive.

    See Also
    --------
    delong_test : Compare the ROC AUCs of pooled out-of-fold scores.

    Notes
    -----
    With patient groups, count patients' images as samples: the correction is a
    heuristic for the overlap between training sets, and the share of samples is
    what overlaps.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the generalization error",
       Machine Learning, 52(3), 239-281, 2003.
    .. [2] R. R. Bouckaert and E. Frank, "Evaluating the replicability of
       significance tests for comparing learning algorithms", PAKDD 2004,
       LNCS 3056, 3-12, 2004.

    Examples
    --------
    >>> from skbreast.model_selection import corrected_ttest
    >>> result = corrected_ttest([0.82, 0.85, 0.79, 0.84], [0.80, 0.80, 0.80, 0.80],
    ...                          n_train=80, n_test=20)
    >>> round(result.mean_difference, 4), round(result.standard_error, 4)
    (0.025, 0.0187)
    >>> round(result.t, 4), result.df, round(result.p_value, 3)
    (1.3363, 3, 0.274)
    """
    scores_a = _fold_scores(scores_a, "scores_a")
    scores_b = _fold_scores(scores_b, "scores_b")
    if len(scores_a) != len(scores_b):
        raise ValueError(
            f"scores_a and scores_b must be paired fold by fold; got "
            f"{len(scores_a)} and {len(scores_b)} folds."
        )
    n_folds = len(scores_a)
    if n_folds < 2:
        raise ValueError(
            f"The corrected t-test needs at least two folds; got {n_folds}."
        )
    ratio = float(
        np.mean(
            _fold_sizes(n_test, "n_test", n_folds)
            / _fold_sizes(n_train, "n_train", n_folds)
        )
    )
    differences = scores_a - scores_b
    mean = float(differences.mean())
    # Equal differences on every fold leave only rounding noise in the variance;
    # call it zero rather than report a t of 10**15.
    scale = max(1.0, float(np.abs(differences).max()))
    constant = np.ptp(differences) <= 1e-12 * scale
    variance = 0.0 if constant else float(differences.var(ddof=1))
    se = float(np.sqrt((1.0 / n_folds + ratio) * variance))
    df = n_folds - 1
    reason = None
    if se > 0:
        t = mean / se
        p_value = float(2 * t_distribution.sf(abs(t), df))
    elif mean == 0:
        t, p_value = 0.0, 1.0
        reason = "the two models score the same on every fold."
    else:
        t, p_value = float(np.sign(mean) * np.inf), 0.0
        reason = (
            "the difference is the same on every fold (zero variance); the t-test "
            "is degenerate."
        )
    half_width = float(t_distribution.ppf(0.5 + confidence_level / 2, df)) * se
    return Bunch(
        mean_difference=mean,
        standard_error=se,
        confidence_interval=(mean - half_width, mean + half_width),
        t=float(t),
        df=df,
        p_value=p_value,
        n_folds=n_folds,
        test_train_ratio=ratio,
        reason=reason,
    )
