"""The metric registry: every metric of the package, defined once.

A metric's key (its name in metrics.json, in the comparison's tables and on the
command line), its labels, its direction, what it needs, its function and, for an
operating point, its target live here. The comparison
(:func:`skbreast.model_selection.compare_models`), its report, ``skbreast
evaluate``, ``skbreast benchmark`` and the model card of ``skbreast train`` read
them from here, so that one metric has one name and one label everywhere.
"""

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    make_scorer,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.utils import column_or_1d

from skbreast.metrics._calibration import expected_calibration_error
from skbreast.metrics._checks import (
    check_binary_target,
    check_same_length,
    check_scores,
)
from skbreast.metrics._classification import specificity_score
from skbreast.metrics._operating_points import (
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)
from skbreast.metrics._patient import _patient_scores

#: What a metric may need besides the true labels.
NEEDS = ("labels", "scores", "probabilities", "patients")
LEVELS = ("image", "patient")


@dataclass(frozen=True)
class Metric:
    """A metric of the registry: its key, labels, direction and function.

    Metrics are not created by users: :func:`get_metric` returns the registry's.
    Every part of skbreast that names a metric (the comparison and its report,
    ``skbreast evaluate``, ``skbreast benchmark``, the model card of ``skbreast
    train``) reads the key and the labels from here.

    Read more in the :ref:`User Guide <comparing>`.

    Attributes
    ----------
    key : str
        The name in metrics.json, in tables and in ``compare_models(scoring=...)``,
        e.g. ``"brier_score"``.
    label : str
        The name in a report's tables, saying when lower is better, e.g.
        ``"Brier score (lower is better)"``.
    short_label : str
        The name inside a sentence, e.g. ``"Brier score"`` or ``"recall"``.
    greater_is_better : bool
        False for the losses (Brier score, expected calibration error).
    needs : tuple of str
        What the metric reads besides the true labels: ``"labels"`` (predicted
        labels), ``"scores"`` (any score that ranks the positive class),
        ``"probabilities"`` (probabilities of the positive class) and
        ``"patients"`` (the patient of every image).
    function : callable
        The function, called on 0/1 true labels as ``function(y_true, y_pred)``
        when the metric needs labels, else ``function(y_true, y_score)``; a
        patient-level metric takes the patients as a third argument.
    operating_point : tuple of (str, float) or None
        For an operating point, the rate it maximises and the target of the
        other rate: ``("sensitivity", 0.9)`` is the best sensitivity among the
        thresholds whose specificity reaches 90%.
    aliases : tuple of str
        Older keys of the same metric, still accepted by :func:`get_metric`
        (``skbreast evaluate`` wrote ``"brier"`` and ``"ece"`` before 0.1.0).
    level : {"image", "patient"}
        Whether the metric scores images or patients.

    See Also
    --------
    get_metric : A metric by its key (or an older alias).
    get_metric_names : The keys, in the order of the comparison's tables.
    compute_metrics : Every metric on one set of predictions.

    Examples
    --------
    >>> from skbreast.metrics import get_metric
    >>> metric = get_metric("brier_score")
    >>> metric.label, metric.short_label, metric.greater_is_better
    ('Brier score (lower is better)', 'Brier score', False)
    >>> metric.needs, metric.level
    (('probabilities',), 'image')
    >>> get_metric("sensitivity_at_90_specificity").operating_point
    ('sensitivity', 0.9)
    >>> round(get_metric("roc_auc").score([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]), 2)
    0.75
    """

    key: str
    label: str
    short_label: str
    greater_is_better: bool
    needs: tuple
    function: object = field(repr=False, compare=False)
    operating_point: tuple | None = None
    aliases: tuple = ()

    @property
    def level(self):
        """``"patient"`` for a patient-level metric, else ``"image"``."""
        return "patient" if "patients" in self.needs else "image"

    def score(self, y_true, y_score, *, groups=None, pos_label=1, threshold=0.5):
        """Compute the metric from positive-class scores.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True binary labels, numbers or strings.

        y_score : array-like of shape (n_samples,)
            Score of the positive class, e.g. ``predict_proba(X)[:, 1]``.

        groups : array-like of shape (n_samples,), default=None
            Patient of every image; required by the patient-level metrics.

        pos_label : int, float, bool or str, default=1
            The positive class, e.g. ``"malignant"``.

        threshold : float, default=0.5
            Images with ``y_score > threshold`` are predicted positive, what
            ``predict`` of a binary classifier does with probabilities.

        Returns
        -------
        value : float
            NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`,
            where the metric is undefined (ROC AUC of one class, precision
            without a positive prediction).

        Raises
        ------
        ValueError
            If the lengths differ, ``y_score`` is not finite, ``y_true`` is not
            binary, ``pos_label`` is not one of its labels, or the metric needs
            ``groups`` and none are given.
        """
        y01, y_score, groups = _check_inputs(y_true, y_score, groups, pos_label, [self])
        return self._compute(y01, y_score, groups, threshold)

    def _compute(self, y01, y_score, groups, threshold):
        """Compute the metric on checked inputs; NaN where undefined."""
        second = (
            (y_score > threshold).astype(int) if "labels" in self.needs else y_score
        )
        args = (y01, second) + ((groups,) if "patients" in self.needs else ())
        try:
            return float(self.function(*args))
        except ValueError as exc:
            # The inputs were checked: what remains is a metric undefined on
            # these samples (ROC AUC of one class, probabilities out of [0, 1]).
            warnings.warn(
                f"{self.key} is undefined, returning NaN: {str(exc).splitlines()[0]}",
                UndefinedMetricWarning,
                stacklevel=3,
            )
            return np.nan

    def make_scorer(self, *, pos_label=1):
        """Return a scikit-learn scorer of this image-level metric.

        The scorer calls ``predict``, ``decision_function`` or ``predict_proba``
        as the metric needs; like scikit-learn's scorers, a loss (``greater_is_
        better=False``) is negated, so that greater is always better.

        Parameters
        ----------
        pos_label : int, float, bool or str, default=1
            The positive class, e.g. ``"malignant"``.

        Returns
        -------
        scorer : callable
            ``scorer(estimator, X, y)``, for ``cross_validate(scoring=...)``.

        Raises
        ------
        ValueError
            For a patient-level metric: use
            :func:`~skbreast.metrics.make_patient_scorer`.
        """
        if self.level == "patient":
            raise ValueError(
                f"{self.key} is a patient-level metric; a scorer receives no "
                "patients: use skbreast.metrics.make_patient_scorer."
            )
        if "labels" in self.needs:
            response_method = "predict"
        elif "probabilities" in self.needs:
            response_method = "predict_proba"
        else:
            response_method = ("decision_function", "predict_proba")
        return make_scorer(
            functools.partial(_scorer_function, key=self.key),
            response_method=response_method,
            greater_is_better=self.greater_is_better,
            pos_label=pos_label,
        )


def _scorer_function(y_true, y_response, *, key, pos_label=1):
    """Score function of :meth:`Metric.make_scorer` (picklable: a key, no closure)."""
    metric = _REGISTRY[key]
    if "labels" in metric.needs:
        # Predicted labels become 0/1 scores that the threshold 0.5 gives back.
        y_response = (column_or_1d(y_response) == pos_label).astype(np.float64)
    return metric.score(y_true, y_response, pos_label=pos_label)


def _check_inputs(y_true, y_score, groups, pos_label, metrics):
    """Return ``(y01, y_score, groups)`` checked for ``metrics``."""
    y_score = check_scores(y_score)
    y_true = column_or_1d(y_true)
    if groups is not None:
        groups = column_or_1d(groups)
    check_same_length(y_true=y_true, y_score=y_score, groups=groups)
    is_positive, _ = check_binary_target(y_true, pos_label)
    if groups is None:
        patient_level = [m.key for m in metrics if m.level == "patient"]
        if patient_level:
            raise ValueError(
                f"{', '.join(patient_level)} score(s) patients: pass groups, the "
                "patient of every image."
            )
    return is_positive.astype(int), y_score, groups


def _patient_recognition_rate(y_true, y_pred, groups):
    # 0/1 predictions as scores: patient_scores' threshold of 0.5 gives them back.
    result = _patient_scores(
        y_true,
        np.asarray(y_pred, dtype=np.float64),
        groups,
        "mean",
        0.5,
        1,
        with_roc_auc=False,
    )
    return result.patient_accuracy


def _patient_roc_auc(y_true, y_score, groups):
    return _patient_scores(
        y_true, y_score, groups, "mean", 0.5, 1, with_roc_auc=True
    ).roc_auc


def _define(
    key,
    name,
    short_label,
    needs,
    function,
    *,
    lower_is_better=False,
    operating_point=None,
    aliases=(),
):
    # The direction is stated once: the label says it for the losses.
    label = f"{name} (lower is better)" if lower_is_better else name
    return Metric(
        key=key,
        label=label,
        short_label=short_label,
        greater_is_better=not lower_is_better,
        needs=tuple(needs),
        function=function,
        operating_point=operating_point,
        aliases=tuple(aliases),
    )


def _operating_point(rate, target):
    """Define the best ``rate`` among thresholds where the other reaches ``target``."""
    other = "specificity" if rate == "sensitivity" else "sensitivity"
    percent = f"{target * 100:g}"
    name = f"{rate} at {percent}% {other}"
    function = (
        functools.partial(sensitivity_at_specificity, specificity=target)
        if rate == "sensitivity"
        else functools.partial(specificity_at_sensitivity, sensitivity=target)
    )
    return _define(
        f"{rate}_at_{percent}_{other}",
        name.capitalize(),
        name,
        ("scores",),
        function,
        operating_point=(rate, target),
    )


# Undefined is NaN (zero_division=nan), never a silent 0: the comparison's tables
# say n/a there, and so does every other report.
_nan = {"zero_division": np.nan}

#: The metrics, in the order of the comparison's tables.
_REGISTRY = {
    m.key: m
    for m in (
        _define("accuracy", "Accuracy", "accuracy", ("labels",), accuracy_score),
        _define(
            "balanced_accuracy",
            "Balanced accuracy",
            "balanced accuracy",
            ("labels",),
            balanced_accuracy_score,
        ),
        _define(
            "precision",
            "Precision",
            "precision",
            ("labels",),
            functools.partial(precision_score, **_nan),
        ),
        _define(
            "recall",
            "Recall (sensitivity)",
            "recall",
            ("labels",),
            functools.partial(recall_score, **_nan),
        ),
        _define(
            "specificity",
            "Specificity",
            "specificity",
            ("labels",),
            functools.partial(specificity_score, **_nan),
        ),
        _define("f1", "F1", "F1", ("labels",), functools.partial(f1_score, **_nan)),
        _define("roc_auc", "ROC AUC", "ROC AUC", ("scores",), roc_auc_score),
        _define(
            "brier_score",
            "Brier score",
            "Brier score",
            ("probabilities",),
            brier_score_loss,
            lower_is_better=True,
            aliases=("brier",),
        ),
        _define(
            "expected_calibration_error",
            "Expected calibration error",
            "ECE",
            ("probabilities",),
            expected_calibration_error,
            lower_is_better=True,
            aliases=("ece",),
        ),
        _operating_point("sensitivity", 0.9),
        _operating_point("sensitivity", 0.95),
        _operating_point("specificity", 0.95),
        _define(
            "patient_accuracy",
            "Patient recognition rate",
            "patient recognition rate",
            ("labels", "patients"),
            _patient_recognition_rate,
        ),
        _define(
            "patient_roc_auc",
            "Patient ROC AUC",
            "patient ROC AUC",
            ("scores", "patients"),
            _patient_roc_auc,
        ),
    )
}
_ALIASES = {alias: m.key for m in _REGISTRY.values() for alias in m.aliases}


def get_metric(name):
    """Return a metric of the registry by its key, or by an older alias.

    Parameters
    ----------
    name : str or Metric
        A key such as ``"roc_auc"``, or an older key of the same metric
        (``"brier"``, ``"ece"``: the keys of ``skbreast evaluate``'s metrics.json
        before 0.1.0). A :class:`Metric` is returned as it is.

    Returns
    -------
    metric : Metric
        Its ``key`` is the current key, whatever name was given.

    Raises
    ------
    ValueError
        If ``name`` is no key or alias; the message lists the keys.

    See Also
    --------
    get_metric_names : Every key.

    Examples
    --------
    >>> from skbreast.metrics import get_metric
    >>> get_metric("roc_auc").label
    'ROC AUC'

    An older metrics.json of ``skbreast evaluate`` reads with the current keys:

    >>> old = {"accuracy": 0.9, "brier": 0.08, "ece": 0.04}
    >>> {get_metric(key).key: value for key, value in old.items()}
    {'accuracy': 0.9, 'brier_score': 0.08, 'expected_calibration_error': 0.04}
    """
    if isinstance(name, Metric):
        return name
    key = _ALIASES.get(name, name)
    if not isinstance(key, str) or key not in _REGISTRY:
        raise ValueError(
            f"Unknown metric {name!r}; the metrics are {list(_REGISTRY)} (older "
            f"names still read: {sorted(_ALIASES)})."
        )
    return _REGISTRY[key]


def get_metric_names(level=None):
    """Return the keys of the registry's metrics, in the order of the tables.

    Parameters
    ----------
    level : {"image", "patient"} or None, default=None
        Only the image-level or only the patient-level metrics; None for all.

    Returns
    -------
    names : list of str
        The keys, image-level metrics first.

    See Also
    --------
    get_metric : A metric by its key.

    Examples
    --------
    >>> from skbreast.metrics import get_metric_names
    >>> get_metric_names("patient")
    ['patient_accuracy', 'patient_roc_auc']
    >>> get_metric_names()[:3]
    ['accuracy', 'balanced_accuracy', 'precision']
    """
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS} or None; got {level!r}.")
    return [k for k, m in _REGISTRY.items() if level in (None, m.level)]
