"""Patient-level (cluster) bootstrap confidence intervals for any metric.

Images of one patient are correlated (same tissue, same slide, same stain), so the
patient, not the image, is the independent unit. Resampling images treats 30 images
of one patient as 30 independent cases and gives intervals that are too narrow. This
bootstrap draws patients with replacement and keeps all images of every drawn
patient (a patient drawn twice counts twice); without groups it falls back to
resampling images and says so (``unit="image"``).

Why not ``scipy.stats.bootstrap``: it can resample patient indices (pass them as the
data and a statistic that gathers their images), but (1) one resample on which the
metric is undefined (a resample without a benign patient has no ROC AUC) turns the
whole interval into NaN, where the honest answer is to skip such resamples and
report how many were skipped; (2) it calls a non-vectorised statistic once per
resample, and the ROC AUC, the headline metric, is much faster computed for many
resamples at once from each image's multiplicity (the number of times its patient
was drawn). The interval is the percentile interval, as ``method="percentile"`` in
scipy.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score
from sklearn.utils import Bunch, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skbreast.metrics._checks import check_binary_target, check_same_length

# Resamples are drawn (and, for the ROC AUC, evaluated) in blocks holding about this
# many numbers, so that memory stays bounded for 270,000 IDC patches too.
_BLOCK_ELEMENTS = 2**22


def _check_y_score(y_score):
    y_score = np.asarray(y_score)
    if y_score.ndim not in (1, 2):
        raise ValueError(
            "y_score must be 1-D (one score per sample) or 2-D (one row per "
            f"sample); got {y_score.ndim} dimensions."
        )
    if y_score.dtype.kind in "fc":
        n_bad = int((~np.isfinite(y_score)).sum())
        if n_bad:
            raise ValueError(
                f"y_score holds {n_bad} NaN or infinite value(s); scores must be "
                "finite."
            )
    return y_score


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "metric": [StrOptions({"roc_auc"}), callable],
        "groups": ["array-like", None],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "max_undefined": [Interval(Real, 0, 1, closed="both")],
        "pos_label": [Real, str, "boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def bootstrap_ci(
    y_true,
    y_score,
    *,
    metric="roc_auc",
    groups=None,
    n_resamples=2000,
    confidence_level=0.95,
    max_undefined=0.1,
    pos_label=1,
    random_state=None,
):
    """Confidence interval of a metric by a patient-level (cluster) bootstrap.

    Patients (``groups``) are drawn with replacement, as many as there are, and
    the metric is computed on all images of the drawn patients; the percentile
    interval of the resampled metric is the confidence interval. Images are never
    resampled on their own when patients are known: they are not independent.

    Read more in the :ref:`User Guide <comparing>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, e.g. of pooled out-of-fold predictions.

    y_score : array-like of shape (n_samples,) or (n_samples, n_columns)
        What the metric scores: positive-class scores, predicted labels, or one
        column per model (rows are resampled together, so
        ``metric=lambda y, s: auc(y, s[:, 0]) - auc(y, s[:, 1])`` gives a paired
        interval for a difference).

    metric : "roc_auc" or callable, default="roc_auc"
        ``"roc_auc"`` is computed for all resamples at once (fast). A callable is
        called as ``metric(y_true_resampled, y_score_resampled)`` and returns a
        number, e.g. :func:`sklearn.metrics.average_precision_score` or
        ``lambda y, s: accuracy_score(y, s >= 0.5)``.

    groups : array-like of shape (n_samples,), default=None
        Patient id of every sample. None resamples images, and the result says
        ``unit="image"``.

    n_resamples : int, default=2000
        Number of bootstrap resamples.

    confidence_level : float, default=0.95
        Confidence level of the interval.

    max_undefined : float, default=0.1
        Largest share of resamples on which the metric may be undefined (a class
        missing from the resample, or a non-finite value); they are skipped. Above
        it the interval is NaN with a reason: too few patients of a class.

    pos_label : int, float, bool or str, default=1
        The positive class, for ``metric="roc_auc"`` only.

    random_state : int, RandomState instance or None, default=None
        Controls the resamples. The same seed draws the same resamples for any
        metric on data with the same patients.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With attributes

        estimate : float
            The metric on all samples.
        confidence_interval : tuple of float
            ``(low, high)``, the percentile interval, widened if needed to contain
            ``estimate`` (possible for a very skewed or discrete distribution).
        confidence_level : float
            The level asked for.
        standard_error : float
            Standard deviation of the resampled metric.
        unit : {"patient", "image"}
            What was resampled.
        n_units : int
            Number of patients (or images) resampled.
        n_resamples, n_valid, n_undefined : int
            Resamples drawn, used, and skipped as undefined.
        method : str
            ``"percentile"``.
        distribution : ndarray of shape (n_valid,)
            The resampled metric values.
        reason : str or None
            None, or why the values are NaN.

    Raises
    ------
    ValueError
        If the lengths differ or ``y_score`` holds NaN or infinity; for
        ``metric="roc_auc"`` also if ``y_true`` is not binary or ``y_score`` is
        not 1-D.
    TypeError
        If ``metric`` returns something other than a single number.

    See Also
    --------
    operating_points : Sensitivity and specificity at clinical targets, with
        intervals from this bootstrap.
    delong_roc_variance : An analytic AUC variance for independent samples.

    Notes
    -----
    With few patients the percentile interval is too narrow (a bootstrap cannot
    see variation among patients it never had); below about 10 patients per class
    read it as a rough guide.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap",
       Chapman & Hall, 1993 (percentile interval, chapter 13).
    .. [2] C. A. Field and A. H. Welsh, "Bootstrapping clustered data", Journal of
       the Royal Statistical Society B, 69(3), 369-390, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import bootstrap_ci
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(20), 5)          # 20 patients, 5 images each
    >>> y_true = (groups % 2 == 0).astype(int)        # patient-level labels
    >>> y_score = y_true + rng.normal(size=20)[groups] + rng.normal(size=100)
    >>> result = bootstrap_ci(y_true, y_score, groups=groups, n_resamples=500,
    ...                       random_state=0)
    >>> result.unit, result.n_units
    ('patient', 20)
    >>> low, high = result.confidence_interval
    >>> bool(low <= result.estimate <= high)
    True
    """
    y_true = column_or_1d(y_true)
    y_score = _check_y_score(y_score)
    if groups is not None:
        groups = column_or_1d(groups)
    check_same_length(y_true=y_true, y_score=y_score, groups=groups)
    if metric == "roc_auc":
        if y_score.ndim != 1:
            raise ValueError(
                'metric="roc_auc" needs a 1-D y_score (one score per sample).'
            )
        # Raises for non-binary labels or a wrong pos_label, before any work.
        is_positive, reason = check_binary_target(y_true, pos_label)
    resampler = ClusterResampler(y_true, groups)
    result = resampler.empty_result(n_resamples, confidence_level)
    if metric == "roc_auc":
        if reason is not None:
            result.reason = "ROC AUC is undefined: " + reason
            return result
        estimate = float(roc_auc_score(is_positive, y_score))
        values = resampler.rank_statistics(
            is_positive, y_score, {"auc": auc_from_ranks}, n_resamples, random_state
        )["auc"]
    else:
        estimate = _full_data_metric(metric, y_true, y_score)
        if isinstance(estimate, str):
            result.reason = estimate
            return result
        values = resampler.metric_values(
            metric, y_true, y_score, n_resamples, random_state
        )
    return summarise(result, estimate, values, max_undefined)


def summarise(result, estimate, values, max_undefined):
    """Fill ``result`` with the percentile interval of the finite ``values``."""
    valid = values[np.isfinite(values)]
    n_resamples = len(values)
    n_undefined = n_resamples - len(valid)
    unit = result.unit
    result.update(
        estimate=float(estimate),
        n_valid=len(valid),
        n_undefined=n_undefined,
        distribution=valid,
    )
    if n_undefined > max_undefined * n_resamples or len(valid) < 2:
        result.reason = (
            f"the metric is undefined on {n_undefined} of {n_resamples} resamples "
            f"({n_undefined / n_resamples:.0%}; max_undefined={max_undefined:g}): "
            f"too few {unit}s of a class for a {unit}-level bootstrap."
        )
        return result
    alpha = 1 - result.confidence_level
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    result.update(
        confidence_interval=(float(min(low, estimate)), float(max(high, estimate))),
        standard_error=float(valid.std(ddof=1)),
    )
    return result


def _full_data_metric(metric, y_true, y_score):
    """Return the metric on all samples, or a string saying why it is undefined."""
    one_class = len(np.unique(y_true)) < 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            value = metric(y_true, y_score)
        except ValueError as exc:
            # Two-class metrics raise on one-class data: that is n/a, not a bug.
            # Any other ValueError is the caller's to see.
            if one_class:
                return f"the metric is undefined on one-class data: {exc}"
            raise
    if np.ndim(value) != 0:
        raise TypeError(
            "metric must return a single number; it returned "
            f"{type(value).__name__} of shape {np.shape(value)}."
        )
    value = float(value)
    if not np.isfinite(value):
        reason = "one class only" if one_class else "it returned a non-finite value"
        return f"the metric is undefined on the full data ({reason})."
    return value


def auc_from_ranks(pos, neg):
    """ROC AUC of each row from per-distinct-score weights, scores ascending.

    A resample that holds an image w times is the weighted sample with weight w,
    so the AUC is the sum over positive-negative pairs of w_i w_j psi(s_i, s_j)
    (psi = 1, 1/2, 0 for s_i >, =, < s_j) over the weighted pair count. With P_k and
    N_k the positive and negative weight at the k-th distinct score, that is
    sum_k P_k (N_{<k} + N_k / 2) / (P N).
    """
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (
            pos.sum(axis=1) * neg.sum(axis=1)
        )


class ClusterResampler:
    """Draws bootstrap resamples of units (patients, or images without groups).

    Every statistic of one call sees the same resamples for the same random state,
    so intervals of several metrics (or models) are computed on the same draws.
    """

    def __init__(self, y_true, groups):
        if groups is None:
            self.unit = "image"
            self.unit_of_sample = np.arange(len(y_true))
        else:
            self.unit = "patient"
            _, self.unit_of_sample = np.unique(groups, return_inverse=True)
        self.n_units = int(self.unit_of_sample.max()) + 1 if len(y_true) else 0
        # A resample is undefined when it lacks a class of the full data.
        _, y_inv = np.unique(y_true, return_inverse=True)
        n_classes = int(y_inv.max()) + 1 if len(y_true) else 0
        self.class_counts = np.zeros((self.n_units, n_classes))
        np.add.at(self.class_counts, (self.unit_of_sample, y_inv), 1)

    def empty_result(self, n_resamples, confidence_level):
        """Return a result whose values are NaN until :func:`summarise` fills it."""
        return Bunch(
            estimate=np.nan,
            confidence_interval=(np.nan, np.nan),
            confidence_level=float(confidence_level),
            standard_error=np.nan,
            unit=self.unit,
            n_units=self.n_units,
            n_resamples=n_resamples,
            n_valid=0,
            n_undefined=0,
            method="percentile",
            distribution=np.empty(0),
            reason=None,
        )

    def _blocks(self, n_resamples, random_state):
        """Yield ``(draws, counts, complete)`` for blocks of resamples.

        ``draws`` (block, n_units) are the drawn units, ``counts`` each unit's
        multiplicity, ``complete`` whether the resample holds every class.
        """
        rng = check_random_state(random_state)
        n_units = self.n_units
        block = max(1, _BLOCK_ELEMENTS // max(n_units, len(self.unit_of_sample), 1))
        done = 0
        while done < n_resamples:
            size = min(block, n_resamples - done)
            draws = rng.randint(0, n_units, size=(size, n_units))
            flat = (draws + (np.arange(size) * n_units)[:, None]).ravel()
            counts = np.bincount(flat, minlength=size * n_units).reshape(size, n_units)
            complete = np.all(counts @ self.class_counts > 0, axis=1)
            yield draws, counts, complete
            done += size

    def rank_statistics(self, is_positive, y_score, statistics, n_resamples, seed):
        """Vectorised binary statistics of every resample.

        ``statistics`` maps names to functions of ``(pos, neg)``: per resample
        (rows) and distinct score (columns, ascending), the weight of positive and
        of negative samples there. Returns name -> values (NaN where a class is
        missing).
        """
        _, rank = np.unique(y_score, return_inverse=True)
        n_ranks = int(rank.max()) + 1
        values = {name: [] for name in statistics}
        for _, counts, complete in self._blocks(n_resamples, seed):
            weights = counts[:, self.unit_of_sample].astype(np.float64)
            offsets = (np.arange(len(counts)) * n_ranks)[:, None]

            def per_rank(mask, weights=weights, offsets=offsets):
                flat = (offsets + rank[mask][None, :]).ravel()
                return np.bincount(
                    flat,
                    weights=weights[:, mask].ravel(),
                    minlength=len(weights) * n_ranks,
                ).reshape(len(weights), n_ranks)

            pos, neg = per_rank(is_positive), per_rank(~is_positive)
            for name, statistic in statistics.items():
                block_values = np.asarray(statistic(pos, neg), dtype=np.float64)
                block_values[~complete] = np.nan
                values[name].append(block_values)
        return {name: np.concatenate(v) for name, v in values.items()}

    def metric_values(self, metric, y_true, y_score, n_resamples, seed):
        """``metric`` on every resample, called once per resample."""
        # Samples sorted by unit, so that a resample's indices are a few slices.
        order = np.argsort(self.unit_of_sample, kind="stable")
        sizes = np.bincount(self.unit_of_sample, minlength=self.n_units)
        starts = np.cumsum(sizes) - sizes
        values = []
        with warnings.catch_warnings():
            # Skipped resamples are counted and reported; one warning each would
            # drown the user's output.
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            for draws, _, complete in self._blocks(n_resamples, seed):
                for row, ok in zip(draws, complete):
                    if not ok:
                        values.append(np.nan)
                        continue
                    lengths = sizes[row]
                    # Each drawn image's position in `order`: its unit's start
                    # plus its offset within the unit.
                    offsets = np.arange(lengths.sum()) - np.repeat(
                        np.cumsum(lengths) - lengths, lengths
                    )
                    idx = order[np.repeat(starts[row], lengths) + offsets]
                    values.append(float(metric(y_true[idx], y_score[idx])))
        return np.asarray(values, dtype=np.float64)
