"""Every metric of the registry on one set of predictions (a held-out evaluation)."""

import warnings

from sklearn.exceptions import UndefinedMetricWarning

from skbreast.metrics._registry import _check_inputs, get_metric, get_metric_names


def compute_metrics(
    y_true, y_score, *, groups=None, pos_label=1, threshold=0.5, metrics=None
):
    """Compute the registry's metrics on one set of positive-class scores.

    What ``skbreast evaluate`` reports for a model on held-out data: each
    metric under its registry key, image-level metrics always and patient-level
    ones when ``groups`` are given. A metric undefined on these samples is NaN
    (for instance ROC AUC when one class is missing, or the calibration metrics
    when ``y_score`` holds decision values outside [0, 1]).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, numbers or strings.

    y_score : array-like of shape (n_samples,)
        Score of the positive class, ideally a probability such as
        ``estimator.predict_proba(X)[:, 1]``.

    groups : array-like of shape (n_samples,), default=None
        Patient of every image; adds the patient-level metrics.

    pos_label : int, float, bool or str, default=1
        The positive class, e.g. ``"malignant"``.

    threshold : float, default=0.5
        Images with ``y_score > threshold`` are predicted positive, as a binary
        classifier's ``predict`` does with probabilities.

    metrics : list of str, default=None
        Keys (or older aliases) of the metrics to compute; None for every
        metric that the data allows.

    Returns
    -------
    scores : dict of str to float
        ``{key: value}``, in the registry's order (or that of ``metrics``); NaN
        where undefined.

    Raises
    ------
    ValueError
        If the lengths differ, ``y_score`` is not finite, ``y_true`` is not
        binary, ``pos_label`` is not one of its labels, a metric is unknown, or
        a patient-level metric is asked for without ``groups``.

    See Also
    --------
    get_metric : One metric, its labels and its function.
    skbreast.model_selection.compare_models : The same metrics over
        cross-validation folds, with confidence intervals.

    Examples
    --------
    >>> from skbreast.metrics import compute_metrics
    >>> y_true = ["benign", "benign", "malignant", "malignant"]
    >>> y_score = [0.2, 0.6, 0.7, 0.9]
    >>> scores = compute_metrics(y_true, y_score, pos_label="malignant")
    >>> scores["accuracy"], scores["recall"], scores["roc_auc"]
    (0.75, 1.0, 1.0)
    >>> round(scores["brier_score"], 3)
    0.125
    >>> compute_metrics(y_true, y_score, pos_label="malignant",
    ...                 groups=["p1", "p1", "p2", "p2"],
    ...                 metrics=["patient_accuracy"])
    {'patient_accuracy': 0.75}
    """
    if metrics is None:
        names = get_metric_names(None if groups is not None else "image")
    else:
        names = list(dict.fromkeys(get_metric(m).key for m in metrics))
    chosen = [get_metric(name) for name in names]
    y01, y_score, groups = _check_inputs(y_true, y_score, groups, pos_label, chosen)
    with warnings.catch_warnings():
        # Undefined is reported as NaN in the result, not once more as a warning.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {m.key: m._compute(y01, y_score, groups, threshold) for m in chosen}
