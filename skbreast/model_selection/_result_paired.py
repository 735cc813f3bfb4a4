"""Paired comparisons of two models of a comparison on the same folds."""

from itertools import combinations

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
from skbreast.model_selection._ttest import corrected_ttest


class PairedComparisonMixin:
    """Paired tests of :class:`ComparisonResult`: ``a - b`` on the same folds.

    A mixin of :class:`~skbreast.model_selection.ComparisonResult`, in a module of
    its own so that each part of the result stays readable; it reads the
    result's predictions, folds and cache and adds no state.
    """

    def compare(
        self,
        a=None,
        b=None,
        *,
        metric="roc_auc",
        confidence_level=0.95,
        n_resamples=2000,
    ):
        """Paired comparison of two models: ``a − b`` on the same folds.

        Three views of one difference:

        - the mean of the per-fold differences with the Nadeau-Bengio corrected
          resampled t-test (:func:`corrected_ttest`), over the folds where both
          models' metric is defined: the headline ``sentence``;
        - for ROC AUC, DeLong's test (:func:`delong_test`) on the pooled
          out-of-fold scores; it treats images as independent, so with several
          images per patient it is over-confident;
        - the pooled difference with a paired patient-bootstrap interval (both
          models on the same resampled patients).

        Parameters
        ----------
        a, b : str, default=None
            The models; with two models and none named, the second is compared
            with the first (the first is the baseline).
        metric : str, default="roc_auc"
            One of ``metrics``.
        confidence_level : float, default=0.95
            Level of the intervals.
        n_resamples : int, default=2000
            Bootstrap resamples.

        Returns
        -------
        comparison : :class:`~sklearn.utils.Bunch`
            ``a``, ``b``, ``metric``, ``mean_difference``,
            ``confidence_interval``, ``p_value``, ``n_folds`` (paired folds),
            ``ttest`` (the :func:`corrected_ttest` result or None), ``delong``
            (:func:`delong_test`'s result, ROC AUC only), ``bootstrap`` (the
            pooled difference and its interval), ``reason`` (why the t-test is
            n/a, or None) and ``sentence`` / ``delong_sentence`` /
            ``bootstrap_sentence``: the results in words.

        Raises
        ------
        ValueError
            If the result holds fewer than two models, a name or the metric is
            unknown, or ``a`` and ``b`` are the same model.

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
        if len(self.names) < 2 and not (
            self.baselines and a is not None and b is not None
        ):
            raise ValueError(
                "compare needs two models; this comparison holds one "
                f"({self.names[0]!r}). Pass two or more estimators to "
                "compare_models."
            )
        if a is None and b is None:
            if len(self.names) != 2:
                raise ValueError(
                    f"Name the two models to compare, e.g. compare({self.names[1]!r}, "
                    f"{self.names[0]!r}); the models are {self.names}."
                )
            a, b = self.names[1], self.names[0]
        a, b = self._check_name(a), self._check_name(b)
        if a == b:
            raise ValueError(f"compare needs two different models; got {a!r} twice.")
        metric = self._check_metric(metric)
        key = ("compare", a, b, metric, confidence_level, n_resamples)
        if key in self._cache:
            return self._cache[key]
        with self._timed():
            out = self._compare(a, b, metric, confidence_level, n_resamples)
        self._cache[key] = out
        return out

    def _compare(self, a, b, metric, confidence_level, n_resamples):
        level = f"{confidence_level:.0%}"
        label = metric_short_label(metric)
        sa, sb = self.fold_scores[a][metric], self.fold_scores[b][metric]
        paired = np.isfinite(sa) & np.isfinite(sb)
        n_train = np.array([len(tr) for tr, _ in self.splits])
        n_test = np.array([len(te) for _, te in self.splits])
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
                f"{self.n_splits} folds; the t-test needs two"
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
        ea, va, resampler = self._distributions(a, n_resamples)
        eb, vb, _ = self._distributions(b, n_resamples)
        same = np.array_equal(self.pooled(a).index, self.pooled(b).index)
        boot = self._interval(
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
            pa, pb = self.pooled(a), self.pooled(b)
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
                        if self.pooling == "first"
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
                        if self.groups is not None
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

    def comparisons(self, metric="roc_auc", **kwargs):
        """Compare every pair of models: each later model against each earlier.

        Parameters
        ----------
        metric : str, default="roc_auc"
            One of ``metrics``.
        **kwargs
            Passed to :meth:`compare`.

        Returns
        -------
        comparisons : list of Bunch
            One :meth:`compare` result per pair; empty with one model.

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
        return [
            self.compare(b_, a_, metric=metric, **kwargs)
            for a_, b_ in combinations(self.names, 2)
        ]
