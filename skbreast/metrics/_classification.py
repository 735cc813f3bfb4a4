"""Sensitivity and specificity: the recall of each class of a binary problem."""

import warnings
from numbers import Real

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import recall_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Options, StrOptions, validate_params
from sklearn.utils.multiclass import type_of_target

from skbreast.metrics._checks import check_pos_label


def _binary_labels(y_true, y_pred, pos_label, func_name):
    """Check a binary problem and return ``(y_true, y_pred, negative label)``.

    The negative label is None when only the positive class occurs, so that a caller
    can tell "no negatives at all" apart from a real label.
    """
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred must have the same length; got {y_true.shape[0]} "
            f"and {y_pred.shape[0]}."
        )
    labels = np.unique(np.concatenate([y_true, y_pred]))
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        # "binary" also covers a single class; anything else (multiclass, continuous,
        # multilabel) has no single negative class to measure.
        if y.shape[0] and type_of_target(y, input_name=name) != "binary":
            raise ValueError(
                f"{func_name} is defined for binary problems only; {name} is "
                f"{type_of_target(y, input_name=name)!r}."
            )
    if labels.shape[0] > 2:
        raise ValueError(
            f"{func_name} is defined for binary problems only; got "
            f"{labels.shape[0]} labels: {labels.tolist()}."
        )
    check_pos_label(labels, pos_label)
    negatives = labels[labels != pos_label]
    neg_label = negatives[0] if negatives.shape[0] else None
    return y_true, y_pred, neg_label


_CLASSIFICATION_PARAMS = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "pos_label": [Real, str, "boolean"],
    "sample_weight": ["array-like", None],
    "zero_division": [Options(Real, {0.0, 1.0}), "nan", StrOptions({"warn"})],
}


@validate_params(_CLASSIFICATION_PARAMS, prefer_skip_nested_validation=True)
def sensitivity_score(
    y_true, y_pred, *, pos_label=1, sample_weight=None, zero_division="warn"
):
    """Sensitivity (true positive rate): the share of positives found.

    Sensitivity is the recall of the positive class, ``tp / (tp + fn)``. For cancer
    detection it is the share of cancers the model does not miss.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, numbers or strings.

    y_pred : array-like of shape (n_samples,)
        Predicted labels, as returned by a classifier's ``predict``.

    pos_label : int, float, bool or str, default=1
        The label of the positive class, e.g. ``"malignant"``.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        The value returned when there are no positives in ``y_true``. "warn" returns
        0.0 and raises an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    sensitivity : float
        The true positive rate, between 0 and 1.

    Raises
    ------
    ValueError
        If the problem is not binary, or both classes occur and ``pos_label`` is not
        one of them.

    See Also
    --------
    specificity_score : The true negative rate.
    sklearn.metrics.recall_score : The general recall, which this function wraps.

    Examples
    --------
    >>> from skbreast.metrics import sensitivity_score
    >>> y_true = ["benign", "malignant", "malignant", "malignant"]
    >>> y_pred = ["benign", "malignant", "benign", "malignant"]
    >>> round(sensitivity_score(y_true, y_pred, pos_label="malignant"), 3)
    0.667
    """
    y_true, y_pred, _ = _binary_labels(y_true, y_pred, pos_label, "sensitivity_score")
    return float(
        recall_score(
            y_true,
            y_pred,
            pos_label=pos_label,
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
    )


@validate_params(_CLASSIFICATION_PARAMS, prefer_skip_nested_validation=True)
def specificity_score(
    y_true, y_pred, *, pos_label=1, sample_weight=None, zero_division="warn"
):
    """Specificity (true negative rate): the share of negatives recognised.

    Specificity is the recall of the negative class, ``tn / (tn + fp)``. For cancer
    detection it is the share of benign cases spared a false alarm.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, numbers or strings.

    y_pred : array-like of shape (n_samples,)
        Predicted labels, as returned by a classifier's ``predict``.

    pos_label : int, float, bool or str, default=1
        The label of the positive class; the other label is the negative class.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        The value returned when there are no negatives in ``y_true``. "warn" returns
        0.0 and raises an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    specificity : float
        The true negative rate, between 0 and 1.

    Raises
    ------
    ValueError
        If the problem is not binary, or both classes occur and ``pos_label`` is not
        one of them.

    See Also
    --------
    sensitivity_score : The true positive rate.

    Examples
    --------
    >>> from skbreast.metrics import specificity_score
    >>> y_true = [0, 0, 0, 0, 1, 1]
    >>> y_pred = [0, 0, 0, 1, 1, 0]
    >>> specificity_score(y_true, y_pred)
    0.75
    >>> y_true = ["benign", "benign", "malignant"]
    >>> y_pred = ["benign", "malignant", "malignant"]
    >>> specificity_score(y_true, y_pred, pos_label="malignant")
    0.5
    """
    y_true, y_pred, neg_label = _binary_labels(
        y_true, y_pred, pos_label, "specificity_score"
    )
    if neg_label is not None:
        return float(
            recall_score(
                y_true,
                y_pred,
                pos_label=neg_label,
                sample_weight=sample_weight,
                zero_division=zero_division,
            )
        )
    # Only the positive class occurs, so there is no negative to recognise: tn + fp
    # is 0, handled the way recall_score handles 0 / 0.
    if zero_division == "warn":
        warnings.warn(
            "Specificity is ill-defined and being set to 0.0 because there are no "
            "negative samples in y_true. Use `zero_division` to control this "
            "behaviour.",
            UndefinedMetricWarning,
            # Past validate_params' wrapper to the caller's line.
            stacklevel=3,
        )
        return 0.0
    return float(zero_division)
