"""The result of :func:`compare_models`: scores, predictions and their statistics."""

import time
from contextlib import contextmanager

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._bootstrap import ClusterResampler, summarise
from skbreast.model_selection._format import Table, metric_label
from skbreast.model_selection._metrics import (
    custom_metric,
    predicted_positive,
    prepare,
    undefined_reason,
    weighted_metrics,
)
from skbreast.model_selection._result_checks import ShortcutChecksMixin
from skbreast.model_selection._result_paired import PairedComparisonMixin
from skbreast.model_selection._result_plots import ResultPlotsMixin


class ComparisonResult(PairedComparisonMixin, ShortcutChecksMixin, ResultPlotsMixin):
    """Cross-validated scores of several classifiers on the same splits.

    Returned by :func:`compare_models`; not created directly. It holds the
    per-fold scores, the out-of-fold predictions and the patients, and computes
    from them (on first use, then cached) the statistics of an honest comparison.

    Read more in the :ref:`User Guide <comparing>`.

    Attributes
    ----------
    names : list of str
        The models, in the order given.
    classes_ : ndarray of shape (2,)
        The labels of ``y``; ``pos_label`` and ``neg_label`` name the positive
        and the negative one.
    metrics : list of str
        The metrics computed per fold.
    fold_scores : dict of str to dict of str to ndarray of shape (n_splits,)
        ``fold_scores[model][metric]``, NaN where the metric is undefined.
    fold_notes : dict of str to dict of str to list of str
        Why a metric is undefined on a fold (``"split 3: the test set holds one
        class only ('benign')"``).
    predictions : dict of str to dict of ndarray
        Per model, every out-of-fold prediction: ``index`` (the sample),
        ``split``, ``repeat``, ``y_true``, ``y_score`` (positive-class
        probability, or decision value) and ``y_pred``.
        ``pandas.DataFrame(result.predictions["cnn"])`` makes it a table.
    score_kind : dict of str to str
        ``"predict_proba"`` or ``"decision_function"``, per model.
    groups : ndarray or None
        The patient of every sample; ``unit`` is ``"patient"`` with them
        (intervals resample patients) and ``"image"`` without.
    splits : list of (ndarray, ndarray)
        The train and test indices of every split; ``repeat`` gives each
        split's repeat.
    cv : cross-validation generator
        The splitter used; ``cv_description`` describes it in words.
    by_patient : bool
        Whether every split kept each patient on one side.
    pooling : {"first", "mean"}
        How out-of-fold predictions are pooled (see :func:`compare_models`);
        ``pooling_description`` says it in words.
    fit_time, predict_time : dict of str to ndarray of shape (n_splits,)
        Seconds per split.
    estimators : dict of str to list of estimator, or None
        The fitted estimators per split, with ``return_estimator=True``.
    histories : dict of str to list of dict or None
        The ``history_`` of every fit, where the estimators have one.
    leakage : Bunch
        ``total`` test images with an identical copy in their training set
        (``per_split``), ``n_duplicated`` images with a twin in the data,
        ``what`` was compared, and ``shared_patients`` per split.
    warnings : list of str
        Warnings about the splits (by image, patients shared, duplicates) and
        the external test set.
    baselines : list of str
        The trivial baselines run beside the models (``baselines`` of
        :func:`compare_models`); not in ``names``, but in ``fold_scores``,
        ``predictions`` and the summary (``role`` ``"baseline"``).
        :meth:`shortcut_check` and :attr:`shortcut_warning` read them.
    colour_scores : dict of str to dict of str to ndarray, or None
        With ``colour_check=True``: ``colour_scores[model][variant]``, the ROC
        AUC of every split for ``"original"``, ``"normalised"`` and
        ``"jittered"`` test images (see :meth:`colour_sensitivity`).
    colour_notes : list of str
        What the stain normaliser of the colour check could not do, per split.
    external : Bunch or None
        With an external test set: ``predictions`` per model (``y_true``,
        ``y_score``, ``y_pred``), ``n_samples``, ``n_patients``,
        ``shared_patients`` (patient ids also in the training data, or None
        when unchecked), ``duplicates``, ``notes``, ``fit_time`` and, with
        ``return_estimator=True``, the ``estimators`` fitted on all the
        training data (see :meth:`external_table`).
    timing : dict of str to float
        Seconds spent cross-validating and computing statistics.

    See Also
    --------
    compare_models : Creates it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.svm import LinearSVC
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(24), 5)
    >>> y = groups % 2
    >>> X = rng.normal(size=(120, 4)) + 0.8 * y[:, None]
    >>> result = compare_models({"logistic": LogisticRegression(),
    ...                          "svm": LinearSVC()},
    ...                         X, y, groups=groups, cv=3, random_state=0)
    >>> result.score_kind
    {'logistic': 'predict_proba', 'svm': 'decision_function'}
    >>> table = result.summary(n_resamples=200)
    >>> table["metric"][:3]
    ['accuracy', 'balanced_accuracy', 'precision']
    >>> comparison = result.compare("svm", "logistic")
    >>> comparison.n_folds, comparison.sentence.startswith("svm − logistic ROC AUC")
    (3, True)
    >>> patients = result.patient_table("logistic")
    >>> list(patients)
    ['patient', 'label', 'images', 'mean_score', 'share_correct']
    """

    def __init__(
        self,
        *,
        estimators,
        per_model,
        baselines=(),
        colour=None,
        external=None,
        y,
        groups,
        classes,
        pos_label,
        neg_label,
        splits,
        repeat,
        cv,
        by_patient,
        metrics,
        custom,
        leakage,
        warnings,
        pooling,
        seed,
        cv_time,
        keep,
    ):
        self.names = list(estimators)
        self.baselines = list(baselines)
        self.classes_ = classes
        self.pos_label = pos_label
        self.neg_label = neg_label
        self.y = y
        self.groups = groups
        self.unit = "patient" if groups is not None else "image"
        self.splits = splits
        self.repeat = repeat
        self.cv = cv
        self.by_patient = by_patient
        self.metrics = list(metrics)
        self.leakage = leakage
        self.warnings = list(warnings)
        self.random_state = seed
        self._custom = dict(custom)
        self._pos_is_second = bool(classes[1] == pos_label)
        self.score_kind = {n: m.kind for n, m in per_model.items()}
        self.fold_scores = {n: m.fold_scores for n, m in per_model.items()}
        self.fold_notes = {n: m.fold_notes for n, m in per_model.items()}
        self.fit_time = {
            n: np.array([r.fit_time for r in m.runs]) for n, m in per_model.items()
        }
        self.predict_time = {
            n: np.array([r.predict_time for r in m.runs]) for n, m in per_model.items()
        }
        self.groups_passed_to_fit = {n: m.pass_groups for n, m in per_model.items()}
        self.estimators = (
            {n: [r.estimator for r in m.runs] for n, m in per_model.items()}
            if keep
            else None
        )
        self.histories = {
            n: ([r.history for r in m.runs] if m.runs[0].history is not None else None)
            for n, m in per_model.items()
        }
        self.n_iter = {n: [r.n_iter for r in m.runs] for n, m in per_model.items()}
        self.predictions = {}
        for n, m in per_model.items():
            self.predictions[n] = {
                "index": np.concatenate([test for _, test in splits]),
                "split": np.concatenate(
                    [np.full(len(test), k) for k, (_, test) in enumerate(splits)]
                ),
                "repeat": np.concatenate(
                    [
                        np.full(len(test), repeat[k])
                        for k, (_, test) in enumerate(splits)
                    ]
                ),
                "y_true": np.concatenate([y[test] for _, test in splits]),
                "y_score": np.concatenate([r.score for r in m.runs]),
                "y_pred": np.concatenate(
                    [np.where(r.y_pred, pos_label, neg_label) for r in m.runs]
                ),
            }
        first = np.zeros(len(y), dtype=bool)
        for (_, test), r in zip(splits, repeat):
            if r == 0:
                first[test] = True
        if pooling == "auto":
            pooling = "first" if first.all() else "mean"
        self.pooling = pooling
        tested = np.zeros(len(y), dtype=int)
        for _, test in splits:
            tested[test] += 1
        n_repeats = int(repeat.max()) + 1
        if pooling == "first":
            self.pooling_description = (
                "the first repeat's out-of-fold predictions, every sample scored "
                "once by the model that did not see it"
                + (
                    f" (the other {n_repeats - 1} repeats enter the fold means and "
                    "the t-test)"
                    if n_repeats > 1
                    else ""
                )
            )
        else:
            self.pooling_description = (
                "each sample's out-of-fold scores averaged over the splits that "
                f"tested it ({int((tested > 0).sum())} of {len(y)} samples tested, "
                f"{tested[tested > 0].mean():.1f} times on average)"
            )
        self.cv_description = f"{cv!r} " + (
            "by patient"
            if by_patient
            else (
                "with patients on both sides"
                if groups is not None
                else "by image (no patients)"
            )
        )
        self.timing = {"cross_validation": float(cv_time), "statistics": 0.0}
        self.colour_scores = None
        self.colour_notes = []
        if colour is not None:
            self.colour_scores = {n: m.colour_scores for n, m in per_model.items()}
            self.colour_notes = list(colour.notes)
            # The normalisation and jitter of the test images and the extra
            # predictions (not counted in cross_validation).
            self.timing["colour_check"] = float(colour.time)
        self.external = None
        if external is not None:
            self.external = self._external_predictions(external)
            self.timing["external_validation"] = float(external.time)
        self._cache = {}

    def _external_predictions(self, external):
        predictions = {}
        for name, run in external.runs.items():
            positive = predicted_positive(run.score, run.kind, self._pos_is_second)
            predictions[name] = {
                "y_true": external.y,
                "y_score": run.score,
                "y_pred": np.where(positive, self.pos_label, self.neg_label),
            }
        return Bunch(
            y=external.y,
            groups=external.groups,
            unit="patient" if external.groups is not None else "image",
            n_samples=external.n_samples,
            n_patients=external.n_patients,
            shared_patients=external.shared_patients,
            duplicates=external.duplicates,
            notes=list(external.notes),
            predictions=predictions,
            score_kind={n: r.kind for n, r in external.runs.items()},
            fit_time={n: float(r.fit_time) for n, r in external.runs.items()},
            estimators=(
                {n: r.estimator for n, r in external.runs.items()}
                if external.runs
                and next(iter(external.runs.values())).estimator is not None
                else None
            ),
        )

    # --------------------------------------------------------------- helpers
    @contextmanager
    def _timed(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timing["statistics"] += time.perf_counter() - start

    def _check_name(self, name):
        if name is None:
            if len(self.names) == 1:
                return self.names[0]
            raise ValueError(f"Name the model: one of {self.names}.")
        if name not in self.names and name not in self.baselines:
            raise ValueError(
                f"Unknown model {name!r}; the models are {self.names}"
                + (f" and the baselines {self.baselines}." if self.baselines else ".")
            )
        return name

    def role(self, name):
        """Return ``"model"`` or ``"baseline"``: what ``name`` is in this comparison.

        Parameters
        ----------
        name : str
            A model or a baseline.

        Returns
        -------
        role : {"model", "baseline"}
        """
        return "baseline" if self._check_name(name) in self.baselines else "model"

    def _check_metric(self, metric):
        if metric not in self.metrics:
            raise ValueError(
                f"Unknown metric {metric!r}; the comparison computed {self.metrics}."
            )
        return metric

    @property
    def n_splits(self):
        """Number of splits (folds over all repeats)."""
        return len(self.splits)

    def pooled(self, name=None):
        """Return the pooled out-of-fold predictions of one model.

        Parameters
        ----------
        name : str, default=None
            The model; may be omitted when there is one.

        Returns
        -------
        pooled : :class:`~sklearn.utils.Bunch`
            ``index`` (samples, ascending), ``y_true``, ``is_positive``,
            ``y_score``, ``y_pred`` (labels), ``groups`` (or None) and ``split``
            (the first split that tested each sample), pooled as
            ``pooling_description`` says.
        """
        name = self._check_name(name)
        key = ("pooled", name)
        if key in self._cache:
            return self._cache[key]
        p = self.predictions[name]
        if self.pooling == "first":
            keep = p["repeat"] == 0
            order = np.argsort(p["index"][keep], kind="stable")
            index = p["index"][keep][order]
            score = p["y_score"][keep][order]
            split = p["split"][keep][order]
        else:
            n = len(self.y)
            counts = np.bincount(p["index"], minlength=n)
            sums = np.bincount(p["index"], weights=p["y_score"], minlength=n)
            index = np.flatnonzero(counts)
            score = sums[index] / counts[index]
            # The first split that tested each sample.
            first_split = np.full(n, self.n_splits)
            np.minimum.at(first_split, p["index"], p["split"])
            split = first_split[index]
        positive = predicted_positive(score, self.score_kind[name], self._pos_is_second)
        y_true = self.y[index]
        pooled = Bunch(
            index=index,
            y_true=y_true,
            is_positive=y_true == self.pos_label,
            y_score=score,
            y_pred=np.where(positive, self.pos_label, self.neg_label),
            predicted_positive=positive,
            groups=None if self.groups is None else self.groups[index],
            split=split,
        )
        self._cache[key] = pooled
        return pooled

    def _prepared(self, name):
        key = ("prepared", name)
        if key not in self._cache:
            p = self.pooled(name)
            self._cache[key] = prepare(
                p.is_positive,
                p.y_score,
                p.predicted_positive,
                probability=self.score_kind[name] == "predict_proba",
                groups=p.groups,
            )
        return self._cache[key]

    def _distributions(self, name, n_resamples):
        """Estimates and bootstrap values of every metric on the pooled data."""
        key = ("boot", name, n_resamples)
        if key in self._cache:
            return self._cache[key]
        p = self.pooled(name)
        self._cache[key] = self._bootstrap(
            self._prepared(name), p.is_positive, p.y_score, p.groups, n_resamples
        )
        return self._cache[key]

    def _external_distributions(self, name, n_resamples):
        """As :meth:`_distributions`, on the external test set."""
        key = ("external boot", name, n_resamples)
        if key not in self._cache:
            ext = self.external
            p = ext.predictions[name]
            is_positive = ext.y == self.pos_label
            probability = ext.score_kind[name] == "predict_proba"
            positive = predicted_positive(
                p["y_score"], ext.score_kind[name], self._pos_is_second
            )
            data = prepare(
                is_positive,
                p["y_score"],
                positive,
                probability=probability,
                groups=ext.groups,
            )
            self._cache[key] = self._bootstrap(
                data, is_positive, p["y_score"], ext.groups, n_resamples
            )
        return self._cache[key]

    def _bootstrap(self, data, is_positive, y_score, groups, n_resamples):
        """Estimates and bootstrap values of every metric; ``(est, values, res)``."""
        p = Bunch(is_positive=is_positive, y_score=y_score, groups=groups)
        y01 = p.is_positive.astype(int)
        built_in = [m for m in self.metrics if m not in self._custom]
        estimates = {
            m: float(v[0])
            for m, v in weighted_metrics(np.ones((1, len(y01))), data, built_in).items()
        }
        resampler = ClusterResampler(y01, p.groups)
        chunks = {m: [] for m in built_in}
        # Every model is resampled with the same seed on the same samples: the
        # same patients are drawn for all, so differences are paired.
        for _, counts, complete in resampler._blocks(n_resamples, self.random_state):
            counts = counts.astype(np.float64)
            values = weighted_metrics(
                counts[:, resampler.unit_of_sample],
                data,
                built_in,
                patient_weights=counts if p.groups is not None else None,
            )
            for m, v in values.items():
                v = np.array(v, dtype=np.float64)
                v[~complete] = np.nan
                chunks[m].append(v)
        values = {m: np.concatenate(c) for m, c in chunks.items()}
        for m, metric in self._custom.items():
            estimates[m] = custom_metric(metric, y01, p.y_score)[0]
            values[m] = resampler.metric_values(
                lambda yt, ys, metric=metric: custom_metric(metric, yt, ys)[0],
                y01,
                p.y_score,
                n_resamples,
                self.random_state,
            )
        return estimates, values, resampler

    def _interval(self, estimate, values, resampler, n_resamples, confidence_level):
        result = resampler.empty_result(n_resamples, confidence_level)
        if not np.isfinite(estimate):
            return result
        return summarise(result, estimate, values, max_undefined=0.1)

    def _fold_note(self, name, metric):
        notes = self.fold_notes[name][metric]
        if not notes:
            return ""
        reasons = list(dict.fromkeys(n.split(": ", 1)[1] for n in notes))
        text = f"n/a on {len(notes)} of {self.n_splits} folds: {reasons[0]}"
        return text + (
            f" (and {len(reasons) - 1} other reason(s))" if len(reasons) > 1 else ""
        )

    # --------------------------------------------------------------- statistics
    def summary(self, *, confidence_level=0.95, n_resamples=2000):
        """Every metric's mean and sd over folds and its pooled 95% CI.

        The mean and the standard deviation (ddof=1) are over the folds where
        the metric is defined. The interval is the percentile interval of a
        bootstrap of the pooled out-of-fold predictions that resamples patients
        (``unit="patient"``), or images when no patients were given
        (``unit="image"``: too narrow for clustered images).

        Parameters
        ----------
        confidence_level : float, default=0.95
            Level of the intervals.
        n_resamples : int, default=2000
            Bootstrap resamples (the same draws for every model and metric).

        Returns
        -------
        table : Table
            Columns ``model``, ``metric``, ``label``, ``mean``, ``sd``,
            ``n_folds`` (where defined), ``estimate`` (on the pooled
            predictions), ``ci_low``, ``ci_high``, ``unit``, ``note`` (why a
            value is n/a) and ``role`` (``"model"``, or ``"baseline"`` for the
            trivial baselines, listed after the models).
            ``pandas.DataFrame(table)`` makes it a data frame. When the
            shortcut check fires, ``table.warnings`` holds
            :attr:`shortcut_warning`, printed above the table.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(20), 4)
        >>> y = groups % 2
        >>> X = rng.normal(size=(80, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y, groups=groups,
        ...                         cv=4, scoring=["accuracy", "roc_auc"],
        ...                         random_state=0)
        >>> table = result.summary(n_resamples=300)
        >>> table["metric"], table["unit"]
        (['accuracy', 'roc_auc'], ['patient', 'patient'])
        >>> all(lo <= e <= hi for lo, e, hi in
        ...     zip(table["ci_low"], table["estimate"], table["ci_high"]))
        True
        """
        key = ("summary", confidence_level, n_resamples)
        if key in self._cache:
            return self._cache[key]
        columns = {
            c: []
            for c in (
                "model",
                "metric",
                "label",
                "mean",
                "sd",
                "n_folds",
                "estimate",
                "ci_low",
                "ci_high",
                "unit",
                "note",
                "role",
            )
        }
        with self._timed():
            for name in self.names + self.baselines:
                estimates, values, resampler = self._distributions(name, n_resamples)
                for metric in self.metrics:
                    folds = self.fold_scores[name][metric]
                    defined = folds[np.isfinite(folds)]
                    ci = self._interval(
                        estimates[metric],
                        values[metric],
                        resampler,
                        n_resamples,
                        confidence_level,
                    )
                    note = self._fold_note(name, metric)
                    if not np.isfinite(estimates[metric]):
                        reason = (
                            undefined_reason(
                                metric,
                                self._prepared(name),
                                self.pos_label,
                                self.neg_label,
                            )
                            if metric not in self._custom
                            else "undefined on the pooled predictions"
                        )
                        note = "; ".join(filter(None, [note, f"pooled: {reason}"]))
                    elif ci.reason:
                        note = "; ".join(filter(None, [note, f"CI: {ci.reason}"]))
                    row = {
                        "model": name,
                        "metric": metric,
                        "label": metric_label(metric),
                        "mean": float(defined.mean()) if len(defined) else np.nan,
                        "sd": float(defined.std(ddof=1))
                        if len(defined) > 1
                        else np.nan,
                        "n_folds": int(len(defined)),
                        "estimate": float(ci.estimate),
                        "ci_low": float(ci.confidence_interval[0]),
                        "ci_high": float(ci.confidence_interval[1]),
                        "unit": ci.unit,
                        "note": note,
                        "role": self.role(name),
                    }
                    for c, v in row.items():
                        columns[c].append(v)
        table = Table(columns)
        if self.baselines:
            warning = self._shortcut(confidence_level, n_resamples).warning
            table.warnings = [warning] if warning else []
        self._cache[key] = table
        return table

    def external_table(self, *, confidence_level=0.95, n_resamples=2000):
        """Cross-validated and external scores side by side, per model and metric.

        The external scores come from each model fitted once on all the
        training data and scored on ``X_test`` of :func:`compare_models`; their
        intervals resample the test patients (``groups_test``), or images
        without them.

        Parameters
        ----------
        confidence_level : float, default=0.95
            Level of the intervals.
        n_resamples : int, default=2000
            Bootstrap resamples.

        Returns
        -------
        table : Table
            Columns ``model``, ``role``, ``metric``, ``label``, ``cv_mean`` and
            ``cv_sd`` (over folds), ``cv_estimate`` with ``cv_ci_low`` and
            ``cv_ci_high`` (pooled out-of-fold), ``external`` with
            ``external_ci_low`` and ``external_ci_high``, ``external_unit``
            and ``change`` (external − pooled cross-validated).

        Raises
        ------
        ValueError
            If :func:`compare_models` had no ``X_test``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(40), 4)
        >>> y = groups % 2
        >>> X = rng.normal(size=(160, 2)) + y[:, None]
        >>> train, test = groups < 28, groups >= 28
        >>> result = compare_models([LogisticRegression()], X[train], y[train],
        ...                         groups=groups[train], cv=4, random_state=0,
        ...                         X_test=X[test], y_test=y[test],
        ...                         groups_test=groups[test])
        >>> table = result.external_table(n_resamples=200)
        >>> table["metric"][:2], table["external_unit"][0]
        (['accuracy', 'balanced_accuracy'], 'patient')
        """
        if self.external is None:
            raise ValueError(
                "The comparison has no external test set: pass X_test, y_test "
                "(and groups_test) to compare_models."
            )
        key = ("external", confidence_level, n_resamples)
        if key in self._cache:
            return self._cache[key]
        summary = self.summary(
            confidence_level=confidence_level, n_resamples=n_resamples
        )
        internal = {
            (m, k): i
            for i, (m, k) in enumerate(zip(summary["model"], summary["metric"]))
        }
        columns = {
            c: []
            for c in (
                "model",
                "role",
                "metric",
                "label",
                "cv_mean",
                "cv_sd",
                "cv_estimate",
                "cv_ci_low",
                "cv_ci_high",
                "external",
                "external_ci_low",
                "external_ci_high",
                "external_unit",
                "change",
            )
        }
        with self._timed():
            for name in self.names + self.baselines:
                estimates, values, resampler = self._external_distributions(
                    name, n_resamples
                )
                for metric in self.metrics:
                    ci = self._interval(
                        estimates[metric],
                        values[metric],
                        resampler,
                        n_resamples,
                        confidence_level,
                    )
                    i = internal[(name, metric)]
                    row = {
                        "model": name,
                        "role": self.role(name),
                        "metric": metric,
                        "label": metric_label(metric),
                        "cv_mean": summary["mean"][i],
                        "cv_sd": summary["sd"][i],
                        "cv_estimate": summary["estimate"][i],
                        "cv_ci_low": summary["ci_low"][i],
                        "cv_ci_high": summary["ci_high"][i],
                        "external": float(estimates[metric]),
                        "external_ci_low": float(ci.confidence_interval[0]),
                        "external_ci_high": float(ci.confidence_interval[1]),
                        "external_unit": ci.unit,
                        "change": float(estimates[metric]) - summary["estimate"][i],
                    }
                    for c, v in row.items():
                        columns[c].append(v)
        table = Table(columns)
        self._cache[key] = table
        return table

    # --------------------------------------------------------- error analysis
    def patient_table(self, name=None):
        """Per-patient results of one model, worst first.

        Parameters
        ----------
        name : str, default=None
            The model; may be omitted when there is one.

        Returns
        -------
        table : Table
            Columns ``patient``, ``label`` (the patient's majority label),
            ``images``, ``mean_score`` (mean pooled probability of
            ``pos_label``, or decision value for a model without
            ``predict_proba``) and ``share_correct`` (share of its images
            classified correctly); sorted by ``share_correct``, then by how far
            ``mean_score`` is from the label.

        Raises
        ------
        ValueError
            If no patients were given to :func:`compare_models`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(12), 5)
        >>> y = groups % 2
        >>> X = rng.normal(size=(60, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y, groups=groups,
        ...                         cv=3, random_state=0)
        >>> table = result.patient_table()
        >>> len(table["patient"]), table["images"][0]
        (12, 5)
        >>> table["share_correct"] == sorted(table["share_correct"])
        True
        """
        name = self._check_name(name)
        if self.groups is None:
            raise ValueError(
                "patient_table needs patients: pass groups to compare_models."
            )
        with self._timed():
            p = self._prepared(name).patient
            label = np.where(p.is_positive, self.pos_label, self.neg_label)
            if self.score_kind[name] == "predict_proba":
                distance = np.abs(p.is_positive - p.mean_score)
            else:
                distance = np.where(p.is_positive, -p.mean_score, p.mean_score)
            order = np.lexsort((-distance, p.share_correct))
            table = Table(
                {
                    "patient": [_item(v) for v in p.patients[order]],
                    "label": [_item(v) for v in label[order]],
                    "images": [int(v) for v in p.n_images[order]],
                    "mean_score": [float(v) for v in p.mean_score[order]],
                    "share_correct": [float(v) for v in p.share_correct[order]],
                }
            )
        return table

    def worst_images(self, name=None, n=6, *, max_per_patient=None):
        """Return the ``n`` pooled predictions farthest from their true label.

        Parameters
        ----------
        name : str, default=None
            The model; may be omitted when there is one.
        n : int, default=6
            Number of images.
        max_per_patient : int, default=None
            At most this many images of one patient (the worst of each), so that
            one failed patient does not fill the list; None for no limit.

        Returns
        -------
        worst : :class:`~sklearn.utils.Bunch`
            ``index`` (into ``X``), ``y_true``, ``y_score``, ``split`` (the
            split whose model scored the image), ``patient`` (or None), worst
            first.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> y = np.arange(40) % 2
        >>> X = rng.normal(size=(40, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y,
        ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
        >>> worst = result.worst_images(n=3)
        >>> len(worst.index), bool(worst.y_score[0] <= 1)
        (3, True)
        """
        name = self._check_name(name)
        p = self.pooled(name)
        if self.score_kind[name] == "predict_proba":
            error = np.abs(p.is_positive - p.y_score)
        else:
            error = np.where(p.is_positive, -p.y_score, p.y_score)
        order = np.argsort(-error, kind="stable")
        if max_per_patient is not None and p.groups is not None:
            _, patient = np.unique(p.groups[order], return_inverse=True)
            seen = np.zeros(patient.max() + 1, dtype=int)
            keep = []
            for i, g in zip(order, patient.ravel()):
                if seen[g] < max_per_patient:
                    seen[g] += 1
                    keep.append(i)
            order = np.asarray(keep, dtype=int)
        order = order[:n]
        return Bunch(
            index=p.index[order],
            y_true=p.y_true[order],
            y_score=p.y_score[order],
            split=p.split[order],
            patient=None if p.groups is None else p.groups[order],
        )

    def write_report(self, out, *, X=None, explain=None, meta=None, n_worst=6):
        """Write the comparison as report.html, report.md, JSON, CSV and figures.

        Parameters
        ----------
        out : path-like
            Folder, created if missing.
        X : ndarray of shape (n_samples, height, width, channels), default=None
            The images compared, for thumbnails of the worst-scored images.
        explain : "gradcam", callable or None, default=None
            Overlay a heat map on the thumbnails: ``"gradcam"`` uses
            :func:`skbreast.inspection.gradcam` (skbreast models, TensorFlow), a
            callable is called as ``explain(estimator, images)`` and returns
            maps in [0, 1] of shape (n, height, width). Needs
            ``return_estimator=True``; models it cannot explain get plain
            thumbnails and a note.
        meta : dict, default=None
            Extra run information: ``command``, ``versions``, ``data`` (a dict),
            ``settings``, ``params`` ({model: params}), ``warnings`` (list).
        n_worst : int, default=6
            Worst-scored images shown per model.

        Returns
        -------
        path : pathlib.Path
            The path of report.html.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> y = np.arange(40) % 2
        >>> X = rng.normal(size=(40, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y,
        ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
        >>> with tempfile.TemporaryDirectory() as out:
        ...     path = result.write_report(out)
        ...     print(path.name, (path.parent / "metrics.json").is_file())
        report.html True
        """
        from skbreast.model_selection._report import write_report

        return write_report(
            self, out, X=X, explain=explain, meta=meta or {}, n_worst=n_worst
        )

    def __repr__(self):
        return (
            f"<ComparisonResult of {', '.join(self.names)}: {self.n_splits} splits, "
            f"{self.cv_description}>"
        )


def _item(value):
    return value.item() if isinstance(value, np.generic) else value
