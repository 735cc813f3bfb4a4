"""``compare_models``: cross-validate classifiers on the same patient-disjoint folds.

Every model is fitted on the same splits (a clone per split), its out-of-fold scores
are kept, and the per-fold metrics are computed here; the statistics that read the
pooled predictions (patient bootstrap, paired tests) are computed on demand by the
result, :class:`~skbreast.model_selection.ComparisonResult`.
"""

import hashlib
import numbers
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import Bunch, _safe_indexing, check_random_state, column_or_1d
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples, has_fit_parameter

from skbreast.model_selection._metrics import (
    IMAGE_METRICS,
    METRICS,
    PATIENT_METRICS,
    custom_metric,
    predicted_positive,
    prepare,
    undefined_reason,
    weighted_metrics,
)
from skbreast.model_selection._result import ComparisonResult
from skbreast.model_selection._shortcuts import colour_variants, default_baselines
from skbreast.model_selection._split import RepeatedStratifiedGroupKFold

BY_IMAGE_WARNING = (
    "No patients (groups) were given: the folds split by image. Images of one "
    "patient or slide then fall on both sides of a split, the model is scored on "
    "patients it has seen, and every score is optimistic. Pass groups= (the "
    "patient of every image) for an honest comparison; the confidence intervals "
    "below resample images, and are too narrow for images of shared patients."
)


def _named_estimators(estimators):
    """Return ``{name: estimator}`` from a dict, a list of estimators or of pairs."""
    if isinstance(estimators, dict):
        items = [(str(k), v) for k, v in estimators.items()]
    elif hasattr(estimators, "fit"):
        raise TypeError(
            "estimators must be a dict {name: estimator} or a list of estimators; "
            f"got a single {type(estimators).__name__}. Wrap it: "
            f"[{type(estimators).__name__}(...)]."
        )
    else:
        items = []
        for item in estimators:
            if isinstance(item, tuple) and len(item) == 2:
                items.append((str(item[0]), item[1]))
            else:
                items.append((None, item))
    if not items:
        raise ValueError("estimators is empty: give at least one classifier.")
    named, used = {}, set()
    for name, est in items:
        if name is None:
            base = type(est).__name__
            if base == "Pipeline" and hasattr(est, "steps"):
                base = type(est.steps[-1][1]).__name__
            name, k = base, 2
            while name in used:
                name, k = f"{base}-{k}", k + 1
        if name in used:
            raise ValueError(f"Two estimators are named {name!r}; names must differ.")
        used.add(name)
        if not hasattr(est, "fit"):
            raise TypeError(
                f"{name!r} is a {type(est).__name__}, not an estimator (no fit)."
            )
        if not is_classifier(est):
            raise TypeError(
                f"compare_models compares classifiers; {name!r} "
                f"({type(est).__name__}) is not one."
            )
        if not (hasattr(est, "predict_proba") or hasattr(est, "decision_function")):
            raise TypeError(
                f"{name!r} ({type(est).__name__}) has neither predict_proba nor "
                "decision_function: a ranking score is needed for ROC AUC."
            )
        named[name] = est
    return named


def _check_target(y, pos_label):
    y = column_or_1d(y)
    target_type = type_of_target(y, input_name="y")
    classes = np.unique(y)
    if target_type != "binary" or len(classes) != 2:
        raise ValueError(
            "compare_models compares binary classifiers (ROC AUC, sensitivity, "
            f"specificity); y holds {len(classes)} class(es): "
            f"{classes.tolist()[:6]}."
        )
    if pos_label is None:
        # As scikit-learn's binary metrics: the greater label is positive
        # (1 of 0/1, "malignant" of "benign"/"malignant").
        pos_label = classes[1]
    elif pos_label not in classes.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels of y "
            f"({classes[0]!r}, {classes[1]!r})."
        )
    neg_label = classes[0] if classes[1] == pos_label else classes[1]
    return y, classes, _scalar(pos_label), _scalar(neg_label)


def _scalar(value):
    """Return a NumPy scalar as its Python value (messages then say 'benign')."""
    return value.item() if isinstance(value, np.generic) else value


def _resolve_cv(cv, n_repeats, y, groups, random_state):
    """Return ``(splitter, description)``."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv}.")
        if n_repeats < 1:
            raise ValueError(f"n_repeats must be at least 1; got {n_repeats}.")
        if groups is not None:
            n_groups = len(np.unique(groups))
            if cv > n_groups:
                raise ValueError(
                    f"cv={cv} folds need at least {cv} patients; the data has "
                    f"{n_groups}."
                )
            if n_repeats == 1:
                splitter = StratifiedGroupKFold(
                    n_splits=cv, shuffle=True, random_state=random_state
                )
            else:
                splitter = RepeatedStratifiedGroupKFold(
                    n_splits=cv, n_repeats=n_repeats, random_state=random_state
                )
        else:
            smallest = int(np.unique(y, return_counts=True)[1].min())
            if cv > smallest:
                raise ValueError(
                    f"cv={cv} folds need at least {cv} images of every class; the "
                    f"smallest class has {smallest}."
                )
            if n_repeats == 1:
                splitter = StratifiedKFold(
                    n_splits=cv, shuffle=True, random_state=random_state
                )
            else:
                splitter = RepeatedStratifiedKFold(
                    n_splits=cv, n_repeats=n_repeats, random_state=random_state
                )
        return splitter
    if n_repeats != 1:
        raise ValueError(
            f"n_repeats={n_repeats} applies to an integer cv only; pass a repeated "
            "splitter instead, e.g. RepeatedStratifiedGroupKFold(5, n_repeats=10)."
        )
    return check_cv(cv, y, classifier=True)


def _repeats(splits, n_samples):
    """Return the repeat of every split: a new one starts when a test sample recurs."""
    seen = np.zeros(n_samples, dtype=bool)
    repeat, current = [], 0
    for _, test in splits:
        if seen[test].any():
            current += 1
            seen[:] = False
        seen[test] = True
        repeat.append(current)
    return np.asarray(repeat, dtype=int)


def _row_digests(X):
    """Return ``(digests, what)``: one digest per sample of its bytes or pixels."""
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
        digests = []
        for path in X:
            try:
                digests.append(hashlib.blake2b(Path(path).read_bytes()).digest())
            except (OSError, TypeError):
                return None, None
        return np.asarray(digests, dtype="S64"), "byte-identical image files"
    try:
        array = np.asarray(X)
    except Exception:  # noqa: BLE001 - an exotic container: no check
        return None, None
    if array.dtype == object or array.ndim < 2:
        return None, None
    rows = np.ascontiguousarray(array).reshape(len(array), -1)
    digests = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]
    what = "pixel-identical images" if array.ndim >= 3 else "identical rows"
    return np.asarray(digests, dtype="S16"), what


def check_duplicates(X, splits):
    """Count test samples with an identical copy in the training set, per split.

    Returns a Bunch with ``n_duplicated`` (samples that have an identical twin
    anywhere), ``per_split`` (test samples whose copy is on the training side),
    ``total``, ``what`` (what was compared) and ``checked``.
    """
    digests, what = _row_digests(X)
    if digests is None:
        return Bunch(
            checked=False,
            what="nothing (X is neither an array nor file paths)",
            n_duplicated=0,
            per_split=[0] * len(splits),
            total=0,
        )
    _, ids, counts = np.unique(digests, return_inverse=True, return_counts=True)
    ids = ids.ravel()
    per_split = [int(np.isin(ids[test], ids[train]).sum()) for train, test in splits]
    return Bunch(
        checked=True,
        what=what,
        n_duplicated=int((counts[ids] > 1).sum()),
        per_split=per_split,
        total=int(sum(per_split)),
    )


def _resolve_baselines(baselines, X, named):
    """Return ``{name: baseline}`` for the ``baselines`` argument."""
    if baselines is None or baselines is False:
        return {}
    if baselines is True:
        found = default_baselines(X, named)
    elif isinstance(baselines, dict):
        if not baselines:
            return {}
        found = _named_estimators(baselines)
    else:
        raise TypeError(
            "baselines must be True (the colour-histogram and thumbnail baselines), "
            f"False, or a dict {{name: estimator}}; got {type(baselines).__name__}."
        )
    clash = sorted(set(found) & set(named))
    if clash:
        raise ValueError(
            f"A baseline and a model are both named {clash[0]!r}; rename the model."
        )
    return found


def _check_external(X, X_test, y_test, groups, groups_test, classes, check_leakage):
    """Validate the external test set; return ``(y_test, groups_test, notes, info)``."""
    if X_test is None or y_test is None:
        raise ValueError(
            "External validation needs both X_test and y_test (and groups_test, "
            "the patients of the test images, to check that they are new)."
        )
    n_test = _num_samples(X_test)
    y_test = column_or_1d(y_test)
    if len(y_test) != n_test:
        raise ValueError(f"X_test has {n_test} samples but y_test has {len(y_test)}.")
    unknown = sorted(set(np.unique(y_test).tolist()) - set(classes.tolist()))
    if unknown:
        raise ValueError(
            f"y_test holds label(s) {unknown[:4]} that y does not: the external set "
            f"must use the labels of the training data ({classes.tolist()})."
        )
    notes = []
    if groups_test is not None:
        groups_test = column_or_1d(groups_test)
        if len(groups_test) != n_test:
            raise ValueError(
                f"groups_test has {len(groups_test)} entries but y_test has {n_test}."
            )
    shared = None
    if groups is not None and groups_test is not None:
        common = np.intersect1d(groups, groups_test)
        shared = int(len(common))
        if shared:
            notes.append(
                f"External test set: {shared} patient id(s) of the test set also "
                f"occur in the training data (e.g. {_scalar(common[0])!r}). If they "
                "are the same patients, the external scores are not external: they "
                "score patients the models were trained on. If the two data sets "
                "only number their patients alike, ignore this."
            )
    else:
        missing = " and ".join(
            w
            for w, g in (("groups", groups), ("groups_test", groups_test))
            if g is None
        )
        notes.append(
            f"External test set: no {missing}, so nothing checks that its patients "
            "differ from the training patients. External validation means new "
            "patients (ideally another site): pass the patients of both sets."
        )
    n_copies = None
    if check_leakage:
        train_digests, what = _row_digests(X)
        test_digests, _ = _row_digests(X_test)
        if train_digests is not None and test_digests is not None:
            n_copies = int(np.isin(test_digests, train_digests).sum())
            if n_copies:
                notes.append(
                    f"External test set: {n_copies} of its {n_test} images have an "
                    f"identical copy in the training data ({what}): those are not "
                    "new images; deduplicate across the two sets."
                )
    if len(np.unique(y_test)) < 2:
        notes.append(
            "External test set: it holds one class only "
            f"({_scalar(y_test[0])!r}); ROC AUC and the metrics that need both "
            "classes are undefined on it."
        )
    info = Bunch(
        n_samples=n_test,
        n_patients=None if groups_test is None else int(len(np.unique(groups_test))),
        shared_patients=shared,
        duplicates=n_copies,
    )
    return y_test, groups_test, notes, info


def _positive_score(estimator, X, pos_label):
    """Return ``(score, kind, threshold_rule)`` for the positive class."""
    classes = list(estimator.classes_)
    col = classes.index(pos_label)
    if hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X))
        return proba[:, col].astype(np.float64), "predict_proba"
    decision = np.asarray(estimator.decision_function(X), dtype=np.float64)
    if decision.ndim == 2:
        return decision[:, col], "decision_function"
    # A 1-D decision function favours classes_[1] where positive.
    return (decision if col == 1 else -decision), "decision_function"


def _fit_and_score(
    name,
    estimator,
    X,
    y,
    groups,
    train,
    test,
    split,
    n_splits,
    pos_label,
    classes,
    pass_groups,
    keep,
    verbose,
    colour_set=None,
    X_eval=None,
):
    estimator = clone(estimator)
    X_train, y_train = _safe_indexing(X, train), y[train]
    start = time.perf_counter()
    if pass_groups:
        estimator.fit(X_train, y_train, groups=groups[train])
    else:
        estimator.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    fitted_classes = getattr(estimator, "classes_", None)
    if fitted_classes is None:
        raise ValueError(
            f"{name!r} ({type(estimator).__name__}) has no classes_ after fit; "
            "compare_models needs it to find the positive-class column."
        )
    if len(fitted_classes) != len(classes) or not np.all(
        np.asarray(fitted_classes) == classes
    ):
        raise ValueError(
            f"{name!r} learned classes_ {np.asarray(fitted_classes).tolist()} but y "
            f"holds {classes.tolist()}: every estimator must predict the labels of "
            "y (a label encoder inside a pipeline changes them); compare models "
            "on the same labels."
        )
    start = time.perf_counter()
    X_test = _safe_indexing(X, test) if X_eval is None else X_eval
    score, kind = _positive_score(estimator, X_test, pos_label)
    predict_time = time.perf_counter() - start
    where = "the external test set" if X_eval is not None else f"split {split + 1}"
    if not np.all(np.isfinite(score)):
        raise ValueError(
            f"{name!r} returned NaN or infinite scores on {where}; the "
            "model has diverged: check its training before comparing it."
        )
    colour, colour_time = None, 0.0
    if colour_set is not None:
        start = time.perf_counter()
        colour = {
            variant: _positive_score(estimator, images, pos_label)[0]
            for variant, images in colour_set.items()
        }
        colour_time = time.perf_counter() - start
    if verbose:
        print(
            f"[{name}] "
            + (
                "all training data (external test)"
                if X_eval is not None
                else f"split {split + 1}/{n_splits}"
            )
            + f": fit {fit_time:.1f} s on {len(train)} images, predict "
            f"{predict_time:.1f} s"
            + (f", colour check {colour_time:.1f} s" if colour_set else ""),
            file=sys.stderr,
            flush=True,
        )
    history = getattr(estimator, "history_", None)
    return Bunch(
        score=score,
        kind=kind,
        fit_time=fit_time,
        predict_time=predict_time,
        history=None if history is None else {k: list(v) for k, v in history.items()},
        n_iter=getattr(estimator, "n_iter_", None),
        estimator=estimator if keep else None,
        colour=colour,
        colour_time=colour_time,
    )


def _check_scoring(scoring, grouped):
    if scoring is None:
        names = list(IMAGE_METRICS) + (list(PATIENT_METRICS) if grouped else [])
        return names, {}
    if isinstance(scoring, str):
        scoring = [scoring]
    custom = {}
    names = []
    items = scoring.items() if isinstance(scoring, dict) else [(s, s) for s in scoring]
    for key, value in items:
        if callable(value):
            custom[str(key)] = value
            names.append(str(key))
        elif value in METRICS:
            if value in PATIENT_METRICS and not grouped:
                raise ValueError(
                    f"scoring {value!r} is a patient-level metric: pass groups."
                )
            names.append(value)
        else:
            raise ValueError(
                f"Unknown metric {value!r} in scoring; choose from {list(METRICS)} "
                "or give a callable metric(y_true, y_score) in a dict."
            )
    if not names:
        raise ValueError("scoring is empty: name at least one metric.")
    return names, custom


def fold_metrics(names, custom, y01, score, y_pred, probability, groups, labels):
    """Return ``({metric: value}, {metric: reason})`` on one test set."""
    data = prepare(y01 == 1, score, y_pred, probability=probability, groups=groups)
    built_in = [n for n in names if n not in custom]
    values = {
        k: float(v[0])
        for k, v in weighted_metrics(np.ones((1, len(y01))), data, built_in).items()
    }
    reasons = {
        k: undefined_reason(k, data, *labels) for k, v in values.items() if np.isnan(v)
    }
    for name, metric in custom.items():
        values[name], reason = custom_metric(metric, y01, score)
        if reason is not None:
            reasons[name] = reason
    return {n: values[n] for n in names}, reasons


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
    Predictions are the thresholded scores (probability above 0.5, or a
    positive decision function): what ``predict`` returns for a binary
    classifier, computed without a second pass over the test images. A metric
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
    if pooling not in ("auto", "first", "mean"):
        raise ValueError(f"pooling must be 'auto', 'first' or 'mean'; got {pooling!r}.")
    named = _named_estimators(estimators)
    y, classes, pos_label, neg_label = _check_target(y, pos_label)
    n_samples = _num_samples(X)
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {len(y)}.")
    if groups is not None:
        groups = column_or_1d(groups)
        if len(groups) != n_samples:
            raise ValueError(f"groups has {len(groups)} entries but y has {len(y)}.")
    names, custom = _check_scoring(scoring, groups is not None)
    baseline_named = _resolve_baselines(baselines, X, named)
    for flag, wanted in (
        ("baselines", bool(baseline_named)),
        ("colour_check", colour_check),
    ):
        if wanted and "roc_auc" not in names:
            raise ValueError(
                f"{flag} compares ROC AUCs: keep 'roc_auc' in scoring, or pass "
                f"{flag}=False."
            )
    external = None
    if X_test is not None or y_test is not None or groups_test is not None:
        external = _check_external(
            X, X_test, y_test, groups, groups_test, classes, check_leakage
        )
    rng = check_random_state(random_state)
    # One integer seed for the folds and the bootstrap, so that a RandomState
    # instance also gives every later statistic the same resamples.
    seed = (
        int(random_state)
        if isinstance(random_state, numbers.Integral)
        else int(rng.randint(2**31 - 1))
    )
    splitter = _resolve_cv(cv, n_repeats, y, groups, seed)
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        splits = [
            (np.asarray(train), np.asarray(test))
            for train, test in splitter.split(np.zeros(n_samples), y, groups)
        ]
    for w in caught:
        # scikit-learn's "groups is ignored by KFold": the check of shared
        # patients below says what that means for the scores.
        message = str(w.message)
        if issubclass(
            w.category, UserWarning
        ) and "groups parameter is ignored" not in (message):
            notes.append(message)
    if not splits:
        raise ValueError("The cross-validation yielded no split.")
    for k, (train, test) in enumerate(splits):
        if len(np.unique(y[train])) < 2:
            raise ValueError(
                f"Split {k + 1}'s training set holds one class only "
                f"({_scalar(y[train][0])!r}): a classifier cannot learn from it. Use "
                "stratified splits (the default) or fewer folds."
            )
        if len(test) == 0:
            raise ValueError(f"Split {k + 1} has an empty test set.")
    repeat = _repeats(splits, n_samples)

    by_patient = groups is not None
    shared = [0] * len(splits)
    if groups is not None:
        shared = [
            len(np.intersect1d(groups[train], groups[test])) for train, test in splits
        ]
        if any(shared):
            by_patient = False
            notes.append(
                f"The splits put patients on both sides: {sum(shared)} patient(s) "
                f"over {sum(1 for s in shared if s)} split(s) have images in both "
                "the training and the test set. Scores are optimistic; use a "
                "patient-disjoint splitter (the default for an integer cv)."
            )
    else:
        notes.append(BY_IMAGE_WARNING)
    leakage = Bunch(
        checked=False,
        what="not checked",
        n_duplicated=0,
        total=0,
        per_split=[0] * len(splits),
    )
    if check_leakage:
        leakage = check_duplicates(X, splits)
    leakage.shared_patients = shared
    if leakage.total:
        notes.append(
            f"{leakage.total} test image(s) over "
            f"{sum(1 for s in leakage.per_split if s)} split(s) have an identical "
            f"copy in their training set ({leakage.what}; {leakage.n_duplicated} "
            "images in the data have an identical twin). The model is scored on "
            "images it was trained on: deduplicate before comparing."
        )
    if external is not None:
        notes += external[2]
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)

    every = {**named, **baseline_named}
    colour = None
    if colour_check:
        colour = colour_variants(X, splits, every, seed)
    tasks = []
    for name, est in every.items():
        pass_groups = groups is not None and has_fit_parameter(est, "groups")
        for k, (train, test) in enumerate(splits):
            tasks.append(
                delayed(_fit_and_score)(
                    name,
                    est,
                    X,
                    y,
                    groups,
                    train,
                    test,
                    k,
                    len(splits),
                    pos_label,
                    classes,
                    pass_groups,
                    return_estimator,
                    verbose,
                    colour_set=None if colour is None else colour.sets[k],
                )
            )
    start = time.perf_counter()
    outputs = Parallel(n_jobs=n_jobs)(tasks)
    cv_time = time.perf_counter() - start
    external_runs, external_time = None, 0.0
    if external is not None:
        start = time.perf_counter()
        everything = np.arange(n_samples)
        runs = Parallel(n_jobs=n_jobs)(
            delayed(_fit_and_score)(
                name,
                est,
                X,
                y,
                groups,
                everything,
                None,
                0,
                1,
                pos_label,
                classes,
                groups is not None and has_fit_parameter(est, "groups"),
                return_estimator,
                verbose,
                X_eval=X_test,
            )
            for name, est in every.items()
        )
        external_runs = dict(zip(every, runs))
        external_time = time.perf_counter() - start

    pos_is_second = bool(classes[1] == pos_label)
    y01 = (y == pos_label).astype(int)
    labels = (pos_label, neg_label)
    per_model = {}
    for i, name in enumerate(every):
        runs = outputs[i * len(splits) : (i + 1) * len(splits)]
        kind = runs[0].kind
        fold_scores = {m: np.full(len(splits), np.nan) for m in names}
        fold_notes = {m: [] for m in names}
        for k, ((_, test), run) in enumerate(zip(splits, runs)):
            run.y_pred = predicted_positive(run.score, kind, pos_is_second)
            values, reasons = fold_metrics(
                names,
                custom,
                y01[test],
                run.score,
                run.y_pred,
                kind == "predict_proba",
                None if groups is None else groups[test],
                labels,
            )
            for m, v in values.items():
                fold_scores[m][k] = v
            for m, reason in reasons.items():
                fold_notes[m].append(f"split {k + 1}: {reason}")
        colour_scores = None
        if colour is not None:
            colour_scores = {"original": fold_scores["roc_auc"].copy()}
            for variant in ("normalised", "jittered"):
                values = np.full(len(splits), np.nan)
                for k, ((_, test), run) in enumerate(zip(splits, runs)):
                    score = run.colour[variant]
                    values[k] = fold_metrics(
                        ["roc_auc"],
                        {},
                        y01[test],
                        score,
                        predicted_positive(score, kind, pos_is_second),
                        kind == "predict_proba",
                        None,
                        labels,
                    )[0]["roc_auc"]
                colour_scores[variant] = values
        per_model[name] = Bunch(
            runs=runs,
            kind=kind,
            fold_scores=fold_scores,
            fold_notes=fold_notes,
            pass_groups=groups is not None and has_fit_parameter(every[name], "groups"),
            colour_scores=colour_scores,
        )
    colour_info = None
    if colour is not None:
        # The extra predictions ran inside the fold tasks: moved from the
        # cross-validation's time to the check's, so the times add up (exactly
        # with n_jobs=1, approximately with parallel fits).
        predictions = sum(r.colour_time for m in per_model.values() for r in m.runs)
        cv_time = max(0.0, cv_time - predictions)
        colour_info = Bunch(
            notes=colour.notes,
            time=colour.time + predictions,
            preparation_time=colour.time,
        )
    external_info = None
    if external is not None:
        y_ext, groups_ext, external_notes, info = external
        external_info = Bunch(
            y=y_ext,
            groups=groups_ext,
            runs=external_runs,
            notes=external_notes,
            time=external_time,
            **info,
        )
    result = ComparisonResult(
        estimators=named,
        baselines=list(baseline_named),
        colour=colour_info,
        external=external_info,
        per_model=per_model,
        y=y,
        groups=groups,
        classes=classes,
        pos_label=pos_label,
        neg_label=neg_label,
        splits=splits,
        repeat=repeat,
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
