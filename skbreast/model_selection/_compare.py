"""``compare_models``: cross-validate classifiers on the same patient-disjoint folds.

The function reads top to bottom: check the arguments (``_compare_checks``),
split (``_folds``) and check the splits for leakage (``_leakage``), run every
model on every split (``_cv_run``), score the folds (``_fold_scores``), and
return a :class:`~skbreast.model_selection.ComparisonResult`, which computes the
statistics of the pooled predictions (patient bootstrap, paired tests) on demand.
"""

import warnings

from sklearn.utils import Bunch

from skbreast.model_selection._compare_checks import (
    check_pooling,
    check_roc_auc_kept,
    check_samples,
    check_scoring,
    check_target,
    integer_seed,
    named_estimators,
    resolve_baselines,
)
from skbreast.model_selection._cv_run import colour_timing, run_external, run_folds
from skbreast.model_selection._fold_scores import score_runs
from skbreast.model_selection._folds import make_splits, repeats, resolve_cv
from skbreast.model_selection._leakage import check_external, check_splits
from skbreast.model_selection._result import ComparisonResult
from skbreast.model_selection._result_patients import check_coords
from skbreast.model_selection._shortcuts import colour_variants


def compare_models(
    estimators,
    X,
    y,
    *,
    groups=None,
    cv=5,
    n_repeats=1,
    scoring=None,
    pos_label=None,
    n_jobs=None,
    random_state=None,
    pooling="auto",
    return_estimator=False,
    check_leakage=True,
    baselines=False,
    colour_check=False,
    X_test=None,
    y_test=None,
    groups_test=None,
    coords=None,
    verbose=0,
):
    """Cross-validate several classifiers on the same folds, by patient.

    Every estimator is cloned and fitted on each training set of the same splits,
    and scores the matching test set; the result holds the per-fold metrics, the
    out-of-fold predictions and the patients, and computes from them the
    summaries with patient-bootstrap confidence intervals, the paired comparisons,
    the error analysis, the figures and the report.

    Read more in the :ref:`User Guide <comparing>`.

    Parameters
    ----------
    estimators : dict of str to estimator, or list of estimators
        The classifiers, unfitted: skbreast estimators, scikit-learn or
        imbalanced-learn pipelines, any classifier with ``predict_proba`` or
        ``decision_function``. A list is named by class (``LogisticRegression``,
        ``LogisticRegression-2``) or given as ``(name, estimator)`` pairs.

    X : array-like of shape (n_samples, ...)
        Images (4-D arrays, flattened rows or file paths) or features: whatever
        the estimators take. Indexed per split with scikit-learn's
        ``_safe_indexing``.

    y : array-like of shape (n_samples,)
        Binary labels, of any type (``"benign"``/``"malignant"`` too).

    groups : array-like of shape (n_samples,), default=None
        The patient of every image. With patients, folds keep every patient on
        one side, intervals resample patients, and patient-level metrics are
        added; they are also passed to ``fit`` of estimators whose ``fit`` takes
        ``groups`` (skbreast's estimators hold out whole patients for early
        stopping). Without patients a prominent warning says the split is by
        image.

    cv : int, cross-validation generator or iterable, default=5
        An int gives ``StratifiedGroupKFold(cv, shuffle=True)`` with groups
        (:class:`RepeatedStratifiedGroupKFold` when ``n_repeats > 1``), and
        ``StratifiedKFold`` (``RepeatedStratifiedKFold``) without. Or any
        splitter, e.g. ``PatientShuffleSplit()`` for the BreakHis paper's
        protocol.

    n_repeats : int, default=1
        Repeats of an integer ``cv``, each a new partition.

    scoring : None, str, list of str or dict, default=None
        Metrics to compute; None computes all: ``"accuracy"``,
        ``"balanced_accuracy"``, ``"precision"``, ``"recall"``,
        ``"specificity"``, ``"f1"``, ``"roc_auc"``, ``"brier_score"``,
        ``"expected_calibration_error"``, ``"sensitivity_at_90_specificity"``,
        ``"sensitivity_at_95_specificity"``, ``"specificity_at_95_sensitivity"``
        and, with groups, ``"patient_accuracy"`` (the patient recognition rate of
        Spanhol et al.: the mean over patients of each patient's share of
        correctly classified images) and ``"patient_roc_auc"`` (each patient's
        mean score against its majority label). A dict maps names to those
        names or to callables ``metric(y_true, y_score)`` receiving 0/1 labels
        (1 = ``pos_label``) and positive-class scores.

    pos_label : label, default=None
        The positive class; None takes the greater label, as scikit-learn's
        binary metrics do (1 of 0/1, ``"malignant"`` of benign/malignant).

    n_jobs : int, default=None
        Fits run in parallel with joblib (every model and split is one task).

    random_state : int, RandomState instance or None, default=None
        Seeds the folds of an integer ``cv`` and, through the result, the
        bootstrap. The estimators' own ``random_state`` is theirs to set.

    pooling : {"auto", "first", "mean"}, default="auto"
        How out-of-fold predictions are pooled into one score per sample for the
        intervals, DeLong's test and the error analysis. ``"first"``: the first
        repeat (what ``cross_val_predict`` returns); ``"mean"``: each sample's
        scores averaged over the splits that tested it (samples never tested are
        left out). ``"auto"`` takes ``"first"`` when the first repeat tests
        every sample (k-fold, repeated or not) and ``"mean"`` otherwise
        (shuffle splits such as the Spanhol protocol).

    return_estimator : bool, default=False
        Keep every fitted estimator (``result.estimators``), for Grad-CAM in
        the report or further inspection.

    check_leakage : bool, default=True
        Hash every sample (the pixels of an image array, the bytes of an image
        file) and count test samples with an identical copy in the training set
        of their split; a warning reports any.

    baselines : bool or dict of str to estimator, default=False
        Also run trivial baselines on the same folds: ``True`` runs
        :func:`colour_histogram_baseline` (``"colour-histogram"``) and
        :func:`thumbnail_baseline` (``"thumbnail"``), a dict runs its own
        ``{name: estimator}``. They are reported apart from the models
        (``result.baselines``, ``role`` ``"baseline"`` in the summary) and feed
        the shortcut check: when one reaches the best model's ROC AUC within the
        comparison's uncertainty (the paired patient-bootstrap interval of the
        difference includes 0 or favours the baseline) or 0.85 on its own,
        ``result.shortcut_warning`` says so, the summary and the report show it
        first, and a ``UserWarning`` is issued. Needs images (4-D arrays,
        flattened images with an estimator's ``input_shape``, or file paths)
        and ``"roc_auc"`` among the metrics.

    colour_check : bool, default=False
        Score every fold's test images three ways with the model of the fold:
        as they are, stain-normalised to a target learnt from the fold's
        training images (:class:`~skbreast.preprocessing.StainNormalizer`,
        Macenko), and under strong H&E colour jitter (the perturbation of
        :class:`skbreast.models.RandomStainJitter` with strength 0.2, a fixed
        seed per fold, the same for every model).
        :meth:`ComparisonResult.colour_sensitivity` reports the ROC AUC changes
        over folds and flags a model whose mean change exceeds its
        fold-to-fold spread of ROC AUC as colour-dependent. Needs RGB images as
        an array (4-D or flattened) and ``"roc_auc"`` among the metrics.

    X_test, y_test : array-like, default=None
        An external test set (ideally other patients from another site). Every
        model and baseline is also fitted once on all of ``X``, ``y`` and
        scores it; :meth:`ComparisonResult.external_table` puts the
        cross-validated and the external scores side by side.

    groups_test : array-like of shape (n_test_samples,), default=None
        The patients of ``X_test``: they give the external intervals by patient
        and let compare_models check that no test patient is a training
        patient (a warning names any shared id; without both ``groups`` and
        ``groups_test`` a warning says nothing could be checked).

    coords : array-like of shape (n_samples, 2), default=None
        The ``(x, y)`` pixel position of every patch's top-left corner in its
        slide (``x`` and ``y`` of :func:`skbreast.datasets.load_idc`). Kept as
        ``result.coords``; with patients, the report draws the slide maps
        (:func:`skbreast.plotting.plot_slide_map`) of each model's best and
        worst patient.

    verbose : int, default=0
        Print one line per fit on stderr when positive.

    Returns
    -------
    result : ComparisonResult
        Per-fold scores, out-of-fold predictions, patients and times, with
        :meth:`~ComparisonResult.summary`, :meth:`~ComparisonResult.compare`,
        :meth:`~ComparisonResult.shortcut_check`,
        :meth:`~ComparisonResult.colour_sensitivity`,
        :meth:`~ComparisonResult.external_table`,
        :meth:`~ComparisonResult.patient_table`,
        :meth:`~ComparisonResult.patient_extent`,
        :meth:`~ComparisonResult.classification_report`,
        :meth:`~ComparisonResult.plot_roc`,
        :meth:`~ComparisonResult.plot_calibration` and
        :meth:`~ComparisonResult.write_report`.

    Raises
    ------
    ValueError
        If ``y`` is not binary, a training set holds one class only, an
        estimator learns other ``classes_`` than the labels of ``y`` or returns
        NaN scores, there are fewer patients than folds, or ``n_repeats`` is
        given with a splitter; a splitter's own errors (``PatientShuffleSplit``
        without groups) pass through.
    TypeError
        If an estimator is not a classifier or has neither ``predict_proba`` nor
        ``decision_function``.

    See Also
    --------
    sklearn.model_selection.cross_validate : One model, scores only.
    RepeatedStratifiedGroupKFold, PatientShuffleSplit : Patient-disjoint splits.

    Notes
    -----
    Predictions are the thresholded scores (probability above the fitted
    model's ``threshold_``, 0.5 without one, or a positive decision function):
    what ``predict`` returns for a binary classifier, computed without a second
    pass over the test images; per fold, pooled with ``"first"`` and on the
    external test set, each prediction is that of the model that scored it.
    With ``pooling="mean"`` the mean score is cut at the mean threshold of the
    models that scored the sample (their mean margin ``p - threshold_`` is
    positive). A metric
    undefined on a fold (ROC AUC of a test fold with one class, precision
    without a positive prediction) is NaN there, with the reason in
    ``result.fold_notes``; means and standard deviations are over the folds
    where it is defined.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(np.arange(20), 6)            # 20 patients, 6 images
    >>> y = np.where(groups % 2, "malignant", "benign")
    >>> X = rng.normal(size=(120, 3)) + (y == "malignant")[:, None]
    >>> result = compare_models(
    ...     {"dummy": DummyClassifier(), "logistic": LogisticRegression()},
    ...     X, y, groups=groups, cv=4, random_state=0)
    >>> result.names, result.unit, result.pos_label
    (['dummy', 'logistic'], 'patient', 'malignant')
    >>> result.fold_scores["logistic"]["roc_auc"].shape
    (4,)
    >>> print(result.compare("logistic", "dummy").sentence)  # doctest: +SKIP
    logistic − dummy ROC AUC +0.3... (95% CI ...), p = ...: evidence of a ...

    The shortcut check, on images whose classes differ in colour only:

    >>> import warnings
    >>> images = rng.randint(0, 80, (120, 8, 8, 3)).astype(np.uint8)
    >>> images[y == "malignant", :, :, 0] += 100       # redder, nothing else
    >>> with warnings.catch_warnings(record=True):     # it warns, too
    ...     result = compare_models({"dummy": DummyClassifier()}, images, y,
    ...                             groups=groups, cv=4, random_state=0,
    ...                             baselines=True)
    >>> result.names, result.baselines
    (['dummy'], ['colour-histogram', 'thumbnail'])
    >>> print(result.shortcut_warning)
    Possible shortcut: a trivial baseline that never looks at tissue structure ...
    """
    # Check the arguments before any split or fit.
    check_pooling(pooling)
    named = named_estimators(estimators)
    y, classes, pos_label, neg_label = check_target(y, pos_label)
    groups = check_samples(X, y, groups)
    coords = check_coords(coords, len(y))
    names, custom = check_scoring(scoring, groups is not None)
    baseline_named = resolve_baselines(baselines, X, named)
    check_roc_auc_kept(names, baselines=bool(baseline_named), colour_check=colour_check)
    external = None
    if X_test is not None or y_test is not None or groups_test is not None:
        external = check_external(
            X, X_test, y_test, groups, groups_test, classes, check_leakage
        )
    seed = integer_seed(random_state)

    # Split, and say what leaks between training and test sets.
    splitter = resolve_cv(cv, n_repeats, y, groups, seed)
    splits, notes = make_splits(splitter, y, groups)
    leakage, by_patient, leakage_notes = check_splits(X, splits, groups, check_leakage)
    notes += leakage_notes
    if external is not None:
        notes += external[2]
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)

    # Run every model and baseline on every split (and on the external set).
    every = {**named, **baseline_named}
    colour = colour_variants(X, splits, every, seed) if colour_check else None
    runs, cv_time = run_folds(
        every,
        X,
        y,
        groups,
        splits,
        pos_label,
        classes,
        return_estimator,
        verbose,
        n_jobs,
        colour,
    )
    external_info = None
    if external is not None:
        external_runs, external_time = run_external(
            every,
            X,
            y,
            groups,
            X_test,
            pos_label,
            classes,
            return_estimator,
            verbose,
            n_jobs,
        )
        y_ext, groups_ext, external_notes, info = external
        external_info = Bunch(
            y=y_ext,
            groups=groups_ext,
            runs=external_runs,
            notes=external_notes,
            time=external_time,
            **info,
        )
    per_model = score_runs(
        runs,
        every,
        splits,
        names,
        custom,
        y,
        groups,
        (pos_label, neg_label),
        colour=colour is not None,
    )
    colour_info = None
    if colour is not None:
        colour_info, cv_time = colour_timing(colour, per_model, cv_time)

    # The result computes the statistics of the pooled predictions on demand.
    result = ComparisonResult(
        estimators=named,
        baselines=list(baseline_named),
        colour=colour_info,
        external=external_info,
        per_model=per_model,
        y=y,
        groups=groups,
        coords=coords,
        classes=classes,
        pos_label=pos_label,
        neg_label=neg_label,
        splits=splits,
        repeat=repeats(splits, len(y)),
        cv=splitter,
        by_patient=by_patient,
        metrics=names,
        custom=custom,
        leakage=leakage,
        warnings=notes,
        pooling=pooling,
        seed=seed,
        cv_time=cv_time,
        keep=return_estimator,
    )
    if result.baselines:
        message = result.shortcut_warning
        if message:
            warnings.warn(message, UserWarning, stacklevel=2)
    return result
