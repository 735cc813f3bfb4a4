"""Paired comparison of two models of a comparison: ``a - b`` on the same folds.

Three views of one difference: the corrected resampled t-test of the per-fold
scores, DeLong's test of the pooled ROC AUCs, and the paired patient bootstrap
of the pooled difference; each is also said in words.
"""

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._delong import delong_test
from skbreast.model_selection._format import (
    MINUS,
    format_p,
    lower_is_better,
    metric_short_label,
    signed,
)
from skbreast.model_selection._result_stats import interval
from skbreast.model_selection._ttest import corrected_ttest


def paired_comparison(result, a, b, metric, confidence_level, n_resamples):
    """Return :meth:`ComparisonResult.compare`'s Bunch: ``a - b`` three ways.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(30), 4)
    >>> y = groups % 2
    >>> X = rng.normal(size=(120, 2)) + 1.5 * y[:, None]
    >>> result = compare_models({"dummy": DummyClassifier(),
    ...                          "logistic": LogisticRegression()},
    ...                         X, y, groups=groups, cv=5, random_state=0)
    >>> c = result.compare()  # logistic − dummy
    >>> c.a, c.b, round(c.mean_difference, 2), c.p_value < 0.05
    ('logistic', 'dummy', 0.43, True)
    """
    level = f"{confidence_level:.0%}"
    label = metric_short_label(metric)
    sa, sb = result.fold_scores[a][metric], result.fold_scores[b][metric]
    paired = np.isfinite(sa) & np.isfinite(sb)
    n_train = np.array([len(tr) for tr, _ in result.splits])
    n_test = np.array([len(te) for _, te in result.splits])
    ttest, reason = None, None
    if paired.sum() >= 2:
        ttest = corrected_ttest(
            sa[paired],
            sb[paired],
            n_train=n_train[paired],
            n_test=n_test[paired],
            confidence_level=confidence_level,
        )
        reason = ttest.reason
    else:
        reason = (
            f"the metric is defined for both models on {int(paired.sum())} of "
            f"{result.n_splits} folds; the t-test needs two"
        )
    lower = lower_is_better(metric)
    if ttest is not None:
        diff, (lo, hi), p = (
            ttest.mean_difference,
            ttest.confidence_interval,
            ttest.p_value,
        )
        verdict = (
            f"evidence of a difference ({a if (diff > 0) != lower else b} better)"
            if p < 1 - confidence_level
            else "no evidence of a difference"
        )
        sentence = (
            f"{a} {MINUS} {b} {label} {signed(diff)} ({level} CI {signed(lo)} to "
            f"{signed(hi)}), p {format_p(p, relation=True)}: {verdict} "
            f"(corrected resampled t-test over {int(paired.sum())} folds)."
        )
    else:
        diff, lo, hi, p = np.nan, np.nan, np.nan, np.nan
        sentence = f"{a} {MINUS} {b} {label}: n/a ({reason})."

    # The pooled difference on the same patient resamples.
    ea, va, resampler = result._distributions(a, n_resamples)
    eb, vb, _ = result._distributions(b, n_resamples)
    same = np.array_equal(result.pooled(a).index, result.pooled(b).index)
    boot = interval(
        ea[metric] - eb[metric],
        va[metric] - vb[metric],
        resampler,
        n_resamples,
        confidence_level,
    )
    if not same:  # pragma: no cover - the splits are shared
        boot.reason = "the models' pooled predictions cover different samples"
    boot_sentence = (
        f"Pooled out-of-fold {label}: {a} {MINUS} {b} "
        f"{signed(boot.estimate)} ({level} CI by {boot.unit} bootstrap "
        f"{signed(boot.confidence_interval[0])} to "
        f"{signed(boot.confidence_interval[1])}, {boot.n_units} "
        f"{boot.unit}s resampled)."
        if np.isfinite(boot.confidence_interval[0])
        else f"Pooled out-of-fold {label}: {a} {MINUS} {b} "
        f"{signed(boot.estimate)} (no interval: {boot.reason or 'undefined'})."
    )
    delong, delong_sentence = None, ""
    if metric == "roc_auc":
        pa, pb = result.pooled(a), result.pooled(b)
        delong = delong_test(
            pa.is_positive,
            pa.y_score,
            pb.y_score,
            pos_label=True,
            confidence_level=confidence_level,
        )
        if np.isfinite(delong.p_value):
            delong_sentence = (
                "DeLong on the pooled out-of-fold scores ("
                + (
                    "first repeat"
                    if result.pooling == "first"
                    else "averaged over splits"
                )
                + f"): ROC AUC {delong.auc_a:.3f} vs {delong.auc_b:.3f}, "
                f"{signed(delong.difference)} ({level} CI "
                f"{signed(delong.confidence_interval[0])} to "
                f"{signed(delong.confidence_interval[1])}), p "
                f"{format_p(delong.p_value, relation=True)}"
                + (
                    f"; it treats the {len(pa.index)} images as independent, "
                    "which they are not within a patient: read the patient "
                    "bootstrap instead."
                    if result.groups is not None
                    else "."
                )
            )
        else:
            delong_sentence = f"DeLong: n/a ({delong.reason})."
    return Bunch(
        a=a,
        b=b,
        metric=metric,
        mean_difference=float(diff),
        confidence_interval=(float(lo), float(hi)),
        p_value=float(p),
        n_folds=int(paired.sum()),
        ttest=ttest,
        delong=delong,
        bootstrap=boot,
        reason=reason,
        sentence=sentence,
        delong_sentence=delong_sentence,
        bootstrap_sentence=boot_sentence,
    )


def check_pair(result, a, b, metric):
    """Return the models ``(a, b)`` to compare (defaults filled in), ``metric`` checked.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(60) % 2
    >>> X = rng.normal(size=(60, 2)) + y[:, None]
    >>> result = compare_models([DummyClassifier(), LogisticRegression()],
    ...                         X, y, groups=np.arange(60) // 3, cv=3,
    ...                         random_state=0)
    >>> [(c.a, c.b) for c in result.comparisons()]
    [('LogisticRegression', 'DummyClassifier')]
    """
    names = result.names
    if len(names) < 2 and not (result.baselines and a is not None and b is not None):
        raise ValueError(
            "compare needs two models; this comparison holds one "
            f"({names[0]!r}). Pass two or more estimators to compare_models."
        )
    if a is None and b is None:
        if len(names) != 2:
            raise ValueError(
                f"Name the two models to compare, e.g. compare({names[1]!r}, "
                f"{names[0]!r}); the models are {names}."
            )
        a, b = names[1], names[0]
    a, b = result._check_name(a), result._check_name(b)
    if a == b:
        raise ValueError(f"compare needs two different models; got {a!r} twice.")
    if metric not in result.metrics:
        raise ValueError(
            f"Unknown metric {metric!r}; the comparison computed {result.metrics}."
        )
    return a, b
