"""Clinical operating points on the ROC curve, with patient-level intervals.

A screening reader asks "how many cancers does it find if it may raise a false
alarm on at most 1 benign case in 10?", not for the AUC. The convention, the same
for every point: among the thresholds of :func:`sklearn.metrics.roc_curve` whose
specificity reaches the target, the best sensitivity (and vice versa). The
bootstrap evaluates the same rule for all resamples at once from the per-score
weights of :mod:`._bootstrap` (the ROC curve of a resample is the cumulative sum of
those weights from the highest score down); the tests check it against the
``roc_curve`` path.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import roc_curve
from sklearn.utils import Bunch, column_or_1d
from sklearn.utils._param_validation import Interval, validate_params

from skbreast.metrics._checks import (
    check_binary_target,
    check_same_length,
    check_scores,
)
from skbreast.metrics._operating_points import _PARAMS, _candidates, best_point
from skbreast.model_selection._bootstrap import ClusterResampler, summarise


def _curve_from_ranks(pos, neg):
    """Per-resample ROC points from per-score weights (scores ascending).

    Thresholds run from above the highest score down to the lowest, as in
    ``roc_curve``: the first point is (0, 0).
    """
    tps = np.cumsum(pos[:, ::-1], axis=1)
    fps = np.cumsum(neg[:, ::-1], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tps / tps[:, -1:]
        fpr = fps / fps[:, -1:]
    zeros = np.zeros((len(pos), 1))
    return np.hstack([zeros, fpr]), np.hstack([zeros, tpr])


def point_from_ranks(metric, target):
    """Return the statistic: the best ``metric`` at ``target`` of each resample."""

    def statistic(pos, neg):
        fpr, tpr = _curve_from_ranks(pos, neg)
        return _candidates(fpr, tpr, metric, target).max(axis=1)

    return statistic


@validate_params(
    {
        **_PARAMS,
        "groups": ["array-like", None],
        "specificities": ["array-like", Real],
        "sensitivities": ["array-like", Real],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "max_undefined": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def operating_points(
    y_true,
    y_score,
    *,
    groups=None,
    specificities=(0.9, 0.95),
    sensitivities=(0.95,),
    n_resamples=2000,
    confidence_level=0.95,
    max_undefined=0.1,
    pos_label=1,
    random_state=None,
):
    """Sensitivity at target specificities and vice versa, with bootstrap CIs.

    Each point follows the convention of :func:`sensitivity_at_specificity` and
    :func:`specificity_at_sensitivity`; its confidence interval comes from the
    patient-level bootstrap of :func:`bootstrap_ci`, every point on the same
    resamples.

    Read more in the :ref:`User Guide <comparing>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, e.g. of pooled out-of-fold predictions.

    y_score : array-like of shape (n_samples,)
        Score of the positive class.

    groups : array-like of shape (n_samples,), default=None
        Patient id of every sample; None resamples images (``unit="image"``).

    specificities : float or array-like of float, default=(0.9, 0.95)
        Targets at which to report the sensitivity; empty for none.

    sensitivities : float or array-like of float, default=(0.95,)
        Targets at which to report the specificity; empty for none.

    n_resamples : int, default=2000
        Number of bootstrap resamples.

    confidence_level : float, default=0.95
        Confidence level of the intervals.

    max_undefined : float, default=0.1
        Largest share of resamples without both classes; see
        :func:`bootstrap_ci`.

    pos_label : int, float, bool or str, default=1
        The label of the positive class.

    random_state : int, RandomState instance or None, default=None
        Controls the resamples.

    Returns
    -------
    points : :class:`~sklearn.utils.Bunch`
        Maps a name such as ``"sensitivity at 90% specificity"`` to a Bunch with
        the attributes of :func:`bootstrap_ci`'s result (``estimate``,
        ``confidence_interval``, ``unit``, ``n_undefined``, ``reason``, ...) plus
        ``metric`` ("sensitivity" or "specificity"), ``target`` and
        ``threshold``: the score threshold of the point on the full data
        (predict positive when ``y_score >= threshold``). With one class only every
        point is NaN with a reason.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` holds NaN or infinity, ``y_true`` is not
        binary, or a target is outside [0, 1].

    See Also
    --------
    bootstrap_ci : The bootstrap behind the intervals.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import operating_points
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(40), 3)
    >>> y_true = (groups % 2).astype(int)
    >>> y_score = 1.5 * y_true + rng.normal(size=40)[groups] + rng.normal(size=120)
    >>> points = operating_points(y_true, y_score, groups=groups, n_resamples=300,
    ...                           random_state=0)
    >>> list(points)
    ['sensitivity at 90% specificity', 'sensitivity at 95% specificity',
     'specificity at 95% sensitivity']
    >>> point = points["sensitivity at 90% specificity"]
    >>> low, high = point.confidence_interval
    >>> bool(low <= point.estimate <= high), point.unit
    (True, 'patient')
    """
    y_score = check_scores(y_score)
    y_true = column_or_1d(y_true)
    if groups is not None:
        groups = column_or_1d(groups)
    check_same_length(y_true=y_true, y_score=y_score, groups=groups)
    targets = [
        ("sensitivity", "specificity", float(t)) for t in np.ravel(specificities)
    ] + [("specificity", "sensitivity", float(t)) for t in np.ravel(sensitivities)]
    for _, name, target in targets:
        if not 0 <= target <= 1:
            raise ValueError(f"A target {name} must be in [0, 1]; got {target}.")
    is_positive, reason = check_binary_target(y_true, pos_label)
    resampler = ClusterResampler(y_true, groups)
    points = Bunch()
    if reason is None:
        fpr, tpr, thresholds = roc_curve(is_positive, y_score, drop_intermediate=False)
        statistics = {
            (metric, target): point_from_ranks(metric, target)
            for metric, _, target in targets
        }
        values = resampler.rank_statistics(
            is_positive, y_score, statistics, n_resamples, random_state
        )
    for metric, condition, target in targets:
        name = f"{metric} at {target * 100:g}% {condition}"
        point = resampler.empty_result(n_resamples, confidence_level)
        point.update(metric=metric, target=target, threshold=np.nan)
        if reason is not None:
            point.reason = f"{metric} at {condition} {target:g} is undefined: {reason}"
        else:
            best, estimate = best_point(fpr, tpr, metric, target)
            summarise(point, estimate, values[(metric, target)], max_undefined)
            point.threshold = float(thresholds[best])
        points[name] = point
    return points
