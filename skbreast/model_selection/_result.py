"""The result of :func:`compare_models`: scores, predictions and their statistics.

One class; its statistics are pure functions in modules of their own, cached
here on first use (memoized per arguments where they take any).
"""

import time
from contextlib import contextmanager
from functools import cached_property
from itertools import combinations

from skbreast.model_selection._error_analysis import patient_rows, worst_rows
from skbreast.model_selection._memo import memoized
from skbreast.model_selection._paired import check_pair, paired_comparison
from skbreast.model_selection._plots import (
    plot_comparison_calibration,
    plot_comparison_roc,
)
from skbreast.model_selection._pooling import (
    pool_all,
    prepare_pooled,
)
from skbreast.model_selection._result_patients import PatientMethods
from skbreast.model_selection._result_state import result_attributes
from skbreast.model_selection._result_stats import (
    external_bootstrap,
    external_table,
    pooled_bootstrap,
    summary_table,
)
from skbreast.model_selection._shortcuts import colour_table, shortcut_check


class ComparisonResult(PatientMethods):
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
        probability, or decision value), ``y_pred`` (the label ``predict`` gave)
        and ``threshold`` (the ``threshold_`` of the split's fitted model, 0.5
        without one).
        ``pandas.DataFrame(result.predictions["cnn"])`` makes it a table.
    score_kind : dict of str to str
        ``"predict_proba"`` or ``"decision_function"``, per model.
    groups : ndarray or None
        The patient of every sample; ``unit`` is ``"patient"`` with them
        (intervals resample patients) and ``"image"`` without.
    coords : ndarray of shape (n_samples, 2) or None
        The ``(x, y)`` slide position of every patch, when given to
        :func:`compare_models`: the report then draws slide maps.
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
        ``y_score``, ``y_pred``, ``threshold``), ``n_samples``, ``n_patients``,
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
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:  # see write_report
    ...     path = result.write_report(out)
    ...     print(path.name, (path.parent / "metrics.json").is_file())
    report.html True
    """

    def __init__(self, **run):
        # compare_models passes what it ran; result_attributes turns it into
        # the attributes listed above.
        vars(self).update(result_attributes(**run))

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

    @property
    def n_splits(self):
        """Number of splits (folds over all repeats)."""
        return len(self.splits)

    @cached_property
    def _pooled(self):
        """``{name: pooled Bunch}`` of every model and baseline."""
        return pool_all(self)

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
            ``y_score``, ``y_pred`` (labels, at the models' ``threshold_``: see
            the Notes of :func:`compare_models`), ``groups`` (or None) and
            ``split`` (the first split that tested each sample), pooled as
            ``pooling_description`` says.
        """
        return self._pooled[self._check_name(name)]

    @cached_property
    def _prepared_data(self):
        """``{name: prepare(...)}`` of the pooled predictions, for the metrics."""
        return prepare_pooled(self._pooled, self.score_kind)

    @memoized
    def _distributions(self, name, n_resamples):
        """Estimates and bootstrap values of every metric on the pooled data."""
        return pooled_bootstrap(self, name, n_resamples)

    @memoized
    def _external_distributions(self, name, n_resamples):
        """As :meth:`_distributions`, on the external test set."""
        return external_bootstrap(self, name, n_resamples)

    @memoized
    def summary(self, *, confidence_level=0.95, n_resamples=2000):
        """Every metric's mean and sd over folds and its pooled 95% CI.

        Mean and sd (ddof=1) over the folds where the metric is defined; the
        interval is a percentile bootstrap of the pooled out-of-fold
        predictions by patient (``unit="patient"``), or by image without
        patients (``unit="image"``: too narrow for clustered images).

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
        """
        with self._timed():
            table = summary_table(self, confidence_level, n_resamples)
        if self.baselines:
            warning = self._shortcut(confidence_level, n_resamples).warning
            table.warnings = [warning] if warning else []
        return table

    @memoized
    def external_table(self, *, confidence_level=0.95, n_resamples=2000):
        """Cross-validated and external scores side by side, per model and metric.

        Each model is fitted once on all the training data and scored on
        ``X_test``; the intervals resample ``groups_test``, or images.

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
        """
        if self.external is None:
            raise ValueError(
                "The comparison has no external test set: pass X_test, y_test "
                "(and groups_test) to compare_models."
            )
        summary = self.summary(
            confidence_level=confidence_level, n_resamples=n_resamples
        )
        with self._timed():
            return external_table(self, summary, confidence_level, n_resamples)

    @memoized
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

        Three views of one difference: the mean per-fold difference with the
        Nadeau-Bengio corrected resampled t-test (:func:`corrected_ttest`), the
        headline ``sentence``; for ROC AUC, DeLong's test (:func:`delong_test`)
        on the pooled scores (over-confident with several images per patient);
        and the pooled difference with a paired patient-bootstrap interval.

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
        """
        a, b = check_pair(self, a, b, metric)
        with self._timed():
            return paired_comparison(self, a, b, metric, confidence_level, n_resamples)

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
        """
        return [
            self.compare(b_, a_, metric=metric, **kwargs)
            for a_, b_ in combinations(self.names, 2)
        ]

    @memoized
    def _shortcut(self, confidence_level, n_resamples):
        with self._timed():
            return shortcut_check(self, confidence_level, n_resamples)

    def shortcut_check(self, *, confidence_level=0.95, n_resamples=2000):
        """Whether a trivial baseline does as well as the models, per baseline.

        When a baseline *fires* is said under ``baselines`` of
        :func:`compare_models`, and in full in the user guide.

        Parameters
        ----------
        confidence_level : float, default=0.95
            Level of the intervals.
        n_resamples : int, default=2000
            Bootstrap resamples (the same draws as :meth:`summary`).

        Returns
        -------
        table : Table
            One row per baseline: ``baseline``, ``roc_auc_mean`` and
            ``roc_auc_sd`` over folds, the pooled ``roc_auc`` with ``ci_low``
            and ``ci_high``, ``best_model`` and ``best_roc_auc``, the pooled
            ``difference`` best − baseline with ``difference_ci_low`` and
            ``difference_ci_high``, ``fires`` and ``reason`` (in words).

        Raises
        ------
        ValueError
            If :func:`compare_models` ran no baselines.

        See Also
        --------
        shortcut_warning : The verdict in words.
        """
        return self._shortcut(confidence_level, n_resamples).table

    @property
    def shortcut_warning(self):
        """The shortcut warning in words, or None (95% intervals, 2,000 resamples).

        Set when :meth:`shortcut_check` finds a baseline that does as well as
        the models; None when none does or no baselines were run.
        """
        if not self.baselines:
            return None
        return self._shortcut(0.95, 2000).warning

    @cached_property
    def _colour_table(self):
        return colour_table(self)

    def colour_sensitivity(self):
        """Return the colour check: each model's ROC AUC change under colour changes.

        See ``colour_check`` of :func:`compare_models`. A model whose mean
        change of ROC AUC exceeds the sd of its ROC AUC over folds (and 0.01)
        is flagged as colour-dependent.

        Returns
        -------
        table : Table
            One row per model, then per baseline: ``model``, ``role``,
            ``roc_auc_mean``, ``roc_auc_sd`` (the fold-to-fold spread), the
            mean and sd over folds of ``normalised_change`` and
            ``jittered_change`` (variant − original), ``colour_dependent``
            (None where undefined) and ``verdict`` in words.

        Raises
        ------
        ValueError
            If :func:`compare_models` ran without ``colour_check=True``.
        """
        if self.colour_scores is None:
            raise ValueError(
                "The comparison ran no colour check: pass colour_check=True to "
                "compare_models."
            )
        return self._colour_table

    @property
    def colour_dependent(self):
        """``{model: True, False or None}`` from :meth:`colour_sensitivity`, or None."""
        if self.colour_scores is None:
            return None
        table = self.colour_sensitivity()
        return dict(zip(table["model"], table["colour_dependent"]))

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
        """
        name = self._check_name(name)
        with self._timed():
            return patient_rows(self, name)

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
        """
        name = self._check_name(name)
        return worst_rows(
            self.pooled(name),
            self.score_kind[name] == "predict_proba",
            n,
            max_per_patient,
        )

    def plot_roc(self, ax=None):
        """Plot every model's ROC curves: per fold, and their mean with a band.

        Folds with one class (no ROC curve) are left out.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a figure.

        Returns
        -------
        ax : matplotlib Axes
        """
        return plot_comparison_roc(self, ax=ax)

    def plot_calibration(self, ax=None, *, n_bins=10, strategy="uniform"):
        """Plot a reliability diagram of every model with probabilities.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a figure with a histogram of the
            probabilities below.
        n_bins : int, default=10
            Bins of the diagram (and of the ECE in the legend).
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width or equal-mass bins.

        Returns
        -------
        ax : matplotlib Axes
            The reliability diagram.

        Raises
        ------
        ValueError
            If no model has ``predict_proba``.
        """
        return plot_comparison_calibration(
            self, ax=ax, n_bins=n_bins, strategy=strategy
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
