"""Patient-level scores: image scores aggregated per patient, and their scorer."""

import warnings
from numbers import Real

import numpy as np
from sklearn import get_config
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import make_scorer, roc_auc_score
from sklearn.utils import Bunch, column_or_1d
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.multiclass import type_of_target

from skbreast.metrics._checks import check_pos_label

_AGGREGATES = {"mean": np.mean, "median": np.median, "max": np.max}
_PATIENT_METRICS = ("patient_accuracy", "roc_auc")


def _majority_is_positive(is_pos):
    """Patient label: the majority of its images, ties counted as positive.

    A tie goes to the positive class because a missed cancer costs more than a
    false alarm.
    """
    return 2 * np.count_nonzero(is_pos) >= is_pos.shape[0]


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "groups": ["array-like"],
        "aggregate": [StrOptions(set(_AGGREGATES)), callable],
        "threshold": [Real],
        "pos_label": [Real, str, "boolean"],
    },
    prefer_skip_nested_validation=True,
)
def patient_scores(
    y_true, y_score, groups, *, aggregate="mean", threshold=0.5, pos_label=1
):
    """Patient-level scores of a binary image classifier.

    Images are grouped by patient (``groups``). Two patient-level views are reported:

    - the **patient recognition rate** of BreakHis (Spanhol et al., 2016): each
      patient's share of correctly classified images, averaged over patients, so every
      patient counts the same however many images it has;
    - the **patient-level ROC AUC**: each patient's image scores are aggregated into
      one score and ranked against the patient's label.

    A patient's label is the majority label of its images; a tie counts as positive,
    since a missed cancer costs more than a false alarm. Mixed labels within a patient
    are legal (IDC patches of one slide are both cancerous and healthy). The patient
    recognition rate does not use patient labels: it scores every image against its
    own label.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels of the images, numbers or strings.

    y_score : array-like of shape (n_samples,)
        Score of the positive class per image, typically
        ``estimator.predict_proba(X)[:, 1]``.

    groups : array-like of shape (n_samples,)
        Patient id of each image.

    aggregate : {"mean", "median", "max"} or callable, default="mean"
        How a patient's image scores become one patient score. A callable takes the
        1-D array of a patient's scores and returns a number. "max" flags a patient
        on its most suspicious image.

    threshold : float, default=0.5
        Images with ``y_score >= threshold`` are predicted positive; so are patients
        whose aggregated score reaches it.

    pos_label : int, float, bool or str, default=1
        The label of the positive class, e.g. ``"malignant"``.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        patient_accuracy : float
            The patient recognition rate: the mean over patients of each patient's
            share of correctly classified images.
        image_accuracy : float
            The share of correctly classified images.
        roc_auc : float
            ROC AUC of the aggregated patient scores against the patient labels;
            NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`, when
            all patients share one label.
        per_patient : dict of ndarray
            One entry per patient, sorted by patient id, with keys "patient",
            "n_images", "label" (the patient's majority label), "score" (aggregated),
            "predicted_positive" (``score >= threshold``) and "share_correct" (share
            of its images classified correctly). ``pandas.DataFrame(per_patient)``
            turns it into a table.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` holds NaN or infinity, ``y_true`` is not
        binary, or ``pos_label`` is not one of two labels present.

    See Also
    --------
    make_patient_scorer : The same scores inside ``cross_validate``.

    References
    ----------
    .. [1] F. A. Spanhol, L. S. Oliveira, C. Petitjean and L. Heutte, "A Dataset for
       Breast Cancer Histopathological Image Classification", IEEE Transactions on
       Biomedical Engineering, 63(7), 2016.

    Examples
    --------
    >>> from skbreast.metrics import patient_scores
    >>> y_true = [1, 1, 0, 0, 0, 1]
    >>> y_score = [0.9, 0.4, 0.2, 0.6, 0.1, 0.7]
    >>> groups = ["p1", "p1", "p2", "p2", "p2", "p3"]
    >>> result = patient_scores(y_true, y_score, groups)
    >>> round(result.patient_accuracy, 3)  # (1/2 + 2/3 + 1) / 3
    0.722
    >>> round(result.image_accuracy, 3)
    0.667
    >>> result.roc_auc
    1.0
    >>> result.per_patient["patient"].tolist()
    ['p1', 'p2', 'p3']
    >>> result.per_patient["score"].round(2).tolist()
    [0.65, 0.3, 0.7]
    """
    return _patient_scores(
        y_true, y_score, groups, aggregate, threshold, pos_label, with_roc_auc=True
    )


def _patient_scores(
    y_true, y_score, groups, aggregate, threshold, pos_label, *, with_roc_auc
):
    """Compute :func:`patient_scores`; ``with_roc_auc=False`` skips the ROC AUC.

    Skipping it spares a patient-accuracy scorer the ROC AUC warning on folds whose
    patients all share one label.
    """
    y_true = column_or_1d(y_true)
    y_score = column_or_1d(y_score)
    groups = column_or_1d(groups)
    n_samples = y_true.shape[0]
    for name, values in (("y_score", y_score), ("groups", groups)):
        if values.shape[0] != n_samples:
            raise ValueError(
                f"{name} has {values.shape[0]} entries but y_true has {n_samples}; "
                "give one per image."
            )
    if n_samples == 0:
        raise ValueError("patient_scores needs at least one image; got 0.")
    try:
        y_score = y_score.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "y_score must hold numbers (the positive-class score per image)."
        ) from exc
    if not np.all(np.isfinite(y_score)):
        raise ValueError(
            "y_score contains NaN or infinity; a diverged model or missing "
            "predictions cannot be scored."
        )
    target_type = type_of_target(y_true, input_name="y_true")
    if target_type != "binary":
        raise ValueError(
            f"patient_scores is defined for binary problems only; y_true is "
            f"{target_type!r}."
        )
    check_pos_label(np.unique(y_true), pos_label, "y_true holds string labels")
    aggregate_func = _AGGREGATES.get(aggregate, aggregate)

    is_pos = y_true == pos_label
    image_correct = (y_score >= threshold) == is_pos
    patients, patient_index = np.unique(groups, return_inverse=True)
    n_patients = patients.shape[0]

    n_images = np.bincount(patient_index, minlength=n_patients)
    share_correct = (
        np.bincount(patient_index, weights=image_correct, minlength=n_patients)
        / n_images
    )
    patient_is_pos = np.empty(n_patients, dtype=bool)
    patient_label = np.empty(n_patients, dtype=y_true.dtype)
    patient_score = np.empty(n_patients, dtype=np.float64)
    for i in range(n_patients):
        mask = patient_index == i
        patient_is_pos[i] = _majority_is_positive(is_pos[mask])
        # The majority label in the user's label space; when it is negative, any
        # negative image of the patient carries the one negative label.
        patient_label[i] = (
            y_true[mask][is_pos[mask]][0]
            if patient_is_pos[i]
            else y_true[mask][~is_pos[mask]][0]
        )
        value = np.asarray(aggregate_func(y_score[mask]), dtype=np.float64)
        if value.ndim != 0 or not np.isfinite(value):
            raise ValueError(
                f"aggregate must map a patient's scores to one finite number; got "
                f"{value!r} for patient {patients[i]!r}."
            )
        patient_score[i] = value

    if not with_roc_auc:
        roc_auc = None
    elif np.unique(patient_is_pos).shape[0] < 2:
        # Warn and return NaN rather than raise: in cross-validation one fold
        # without a positive patient should not abort the whole run.
        warnings.warn(
            "Only one class is present among patients, so patient-level ROC AUC is "
            "not defined; returning NaN.",
            UndefinedMetricWarning,
            # Past patient_scores and validate_params' wrapper to the caller.
            stacklevel=4,
        )
        roc_auc = np.nan
    else:
        roc_auc = float(roc_auc_score(patient_is_pos, patient_score))

    return Bunch(
        patient_accuracy=float(np.mean(share_correct)),
        image_accuracy=float(np.mean(image_correct)),
        roc_auc=roc_auc,
        per_patient={
            "patient": patients,
            "n_images": n_images,
            "label": patient_label,
            "score": patient_score,
            "predicted_positive": patient_score >= threshold,
            "share_correct": share_correct,
        },
    )


def _patient_score(
    y_true, y_score, *, groups=None, metric, aggregate, threshold, pos_label
):
    """Score function behind :func:`make_patient_scorer`.

    ``groups`` is keyword-only so that scikit-learn's metadata routing, which reads
    the signature of a scorer's score function, sees it as routable metadata.
    """
    if groups is None:
        raise ValueError(
            "The patient-level scorer needs the patient ids of the scored images. "
            "Enable metadata routing (sklearn.set_config(enable_metadata_routing="
            "True)) and pass them, e.g. cross_validate(..., params={'groups': "
            "groups}), or call scorer(estimator, X, y, groups=groups)."
        )
    result = _patient_scores(
        y_true,
        y_score,
        groups,
        aggregate,
        threshold,
        pos_label,
        with_roc_auc=metric == "roc_auc",
    )
    return result[metric]


@validate_params(
    {
        "metric": [StrOptions(set(_PATIENT_METRICS))],
        "aggregate": [StrOptions(set(_AGGREGATES)), callable],
        "threshold": [Real],
        "pos_label": [Real, str, "boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_patient_scorer(
    metric="patient_accuracy", aggregate="mean", threshold=0.5, *, pos_label=1
):
    """Make a scorer that computes a patient-level metric in cross-validation.

    The scorer calls ``estimator.predict_proba(X)`` and takes the positive-class
    column, then computes ``metric`` with :func:`patient_scores`. Scorers only see
    ``(estimator, X, y)``, so the patient ids travel through scikit-learn's
    :ref:`metadata routing <metadata_routing>`: the scorer requests ``groups``
    (``set_score_request(groups=True)``) and ``cross_validate`` hands it the test
    fold's slice of ``params={"groups": groups}``.

    Metadata routing must be enabled before the scorer is made, with
    ``sklearn.set_config(enable_metadata_routing=True)`` or inside
    ``sklearn.config_context(enable_metadata_routing=True)``.

    Parameters
    ----------
    metric : {"patient_accuracy", "roc_auc"}, default="patient_accuracy"
        The entry of :func:`patient_scores` to return.

    aggregate : {"mean", "median", "max"} or callable, default="mean"
        How a patient's image scores become one score; used by "roc_auc".

    threshold : float, default=0.5
        Images with a positive-class probability at or above it count as positive;
        used by "patient_accuracy".

    pos_label : int, float, bool or str, default=1
        The positive class, e.g. ``"malignant"``. It picks the ``predict_proba``
        column and the label that counts as positive.

    Returns
    -------
    scorer : callable
        A scorer called as ``scorer(estimator, X, y, groups=groups)``; greater is
        better. It raises a ValueError when called without ``groups``.

    Raises
    ------
    RuntimeError
        If metadata routing is not enabled: without it ``cross_validate`` cannot pass
        ``groups`` to a scorer.

    See Also
    --------
    patient_scores : The metrics themselves.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GroupKFold, cross_validate
    >>> from skbreast.metrics import make_patient_scorer
    >>> X = np.array([[0.1], [0.3], [2.1], [0.2], [1.8], [2.5],
    ...               [0.4], [1.9], [0.0], [2.2], [2.0], [0.5]])
    >>> y = (X[:, 0] > 1).astype(int)
    >>> groups = np.repeat([1, 2, 3, 4], 3)  # 4 patients, 3 images each
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scorer = make_patient_scorer()
    ...     cv = cross_validate(
    ...         LogisticRegression(), X, y, cv=GroupKFold(2),
    ...         params={"groups": groups}, scoring={"patient_accuracy": scorer},
    ...     )
    >>> cv["test_patient_accuracy"].tolist()
    [1.0, 1.0]
    """
    if not get_config()["enable_metadata_routing"]:
        raise RuntimeError(
            "make_patient_scorer needs metadata routing, the only way a scorer "
            "receives each test fold's groups. Enable it first with "
            "sklearn.set_config(enable_metadata_routing=True) or inside "
            "sklearn.config_context(enable_metadata_routing=True)."
        )
    scorer = make_scorer(
        _patient_score,
        response_method="predict_proba",
        metric=metric,
        aggregate=aggregate,
        threshold=threshold,
        # make_scorer passes pos_label on to _get_response_values, which then picks
        # the predict_proba column of this class rather than assuming column 1.
        pos_label=pos_label,
    )
    return scorer.set_score_request(groups=True)
